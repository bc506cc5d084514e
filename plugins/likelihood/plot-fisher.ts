/**
 * The triangle plot of a Fisher forecast: 1- and 2-sigma ellipses of every pair of the shown parameters, centred on
 * the fiducial, labelled with the pipeline's LaTeX (`parameters.X.latex`). Shown: `params` (the plot command's
 * --params, or the Fisher stage's with.plot_params), else the cosmological parameters that are varied
 * (plugins/contracts/cosmology.ts: nuisance parameters such as biases and intrinsic alignments are left out), else
 * all. Leaving a parameter out of the plot marginalizes over it: the shown block of F^-1 is used as it is.
 */
import { toPng, triangleSvg } from '../../core/plot/index.js';
import { latexToMarkup } from '../../core/plot/sample-triangle.js';
import { COSMOLOGY_PARAMETERS } from '../contracts/cosmology.js';
import type { FisherResult } from './gaussian-fisher.js';

/** The parameters a triangle shows, in the Fisher matrix's order; an unknown requested name is an error naming it. */
export function triangleParameters(names: readonly string[], params?: readonly string[], where = '--params'): string[] {
  if (params?.length) {
    const bad = params.filter((p) => !names.includes(p));
    if (bad.length) throw new Error(`${where}: ${bad.join(', ')} ${bad.length > 1 ? 'are' : 'is'} not in the Fisher matrix (its parameters: ${names.join(', ')})`);
    return names.filter((n) => params.includes(n));
  }
  const cosmo = names.filter((n) => n in COSMOLOGY_PARAMETERS);
  return cosmo.length >= 1 ? cosmo : [...names];
}

export async function plotFisher(r: FisherResult, params?: readonly string[], where?: string): Promise<{ svg: string; png: Uint8Array }> {
  const K = r.names.length;
  const shown = triangleParameters(r.names, params ?? (r.settings.plot_params as string[] | undefined), where ?? (params ? '--params' : 'with.plot_params'));
  const idx = shown.map((n) => r.names.indexOf(n));
  const cov = idx.map((i) => idx.map((j) => r.cov[i * K + j]));
  const labels = idx.map((i) => latexToMarkup(r.latex?.[i] ?? r.names[i]));
  const hidden = K - shown.length;
  const svg = triangleSvg(shown, idx.map((i) => r.fiducial[i]), cov, {
    labels,
    label: `Fisher forecast (${probesLabel(r.settings.probes)})${hidden ? `, marginalized over ${hidden} other parameter${hidden > 1 ? 's' : ''}` : ''}`,
  });
  return { svg, png: await toPng(svg) };
}

/** The probe selection as a label: '3x2pt', or the families joined ('WL + GC + CMBK'). */
function probesLabel(p: unknown): string {
  return typeof p === 'string' ? p : Array.isArray(p) ? p.map(String).join(' + ') : '';
}
