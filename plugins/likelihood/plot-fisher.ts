/** The triangle plot of a Fisher forecast: 1- and 2-sigma ellipses of every parameter pair, centred on the fiducial. */
import { toPng, triangleSvg } from '../../core/plot/index.js';
import type { FisherResult } from './gaussian-fisher.js';

export async function plotFisher(r: FisherResult): Promise<{ svg: string; png: Uint8Array }> {
  const K = r.names.length;
  const cov = Array.from({ length: K }, (_, i) => Array.from(r.cov.subarray(i * K, (i + 1) * K)));
  const svg = triangleSvg(r.names, Array.from(r.fiducial), cov, { label: `Fisher forecast (${probesLabel(r.settings.probes)})` });
  return { svg, png: await toPng(svg) };
}

/** The probe selection as a label: '3x2pt', or the families joined ('WL + GC + CMBK'). */
function probesLabel(p: unknown): string {
  return typeof p === 'string' ? p : Array.isArray(p) ? p.map(String).join(' + ') : '';
}
