/**
 * Files of the spectra stage: `cl.tsv` (column `ell`, then one column per pair in the reference order),
 * `cl.json` (units, tracers, settings) and, when plotting is on, `cl.png` / `cl.svg`.
 */
import path from 'node:path';
import type { OutputFiles } from '../../core/plugin/types.js';
import type { Spectra } from '../contracts/spectra.js';
import { plotSpectra } from './plot-spectra.js';

export function spectraTsv(s: Spectra): string {
  return spectraTsvHeader(s.pairNames) + spectraTsvRows(s.ell, s.C.value, s.pairNames.length);
}

/** The header line of cl.tsv. */
export const spectraTsvHeader = (pairNames: readonly string[]) => ['ell', ...pairNames].join('\t') + '\n';

/** Rows of cl.tsv for the multipoles `ell`, C pair-major over them ([p * ell.length + l]: a block of Spectra.C). */
export function spectraTsvRows(ell: Float64Array, C: Float64Array, np: number): string {
  const nl = ell.length;
  const lines: string[] = [];
  for (let l = 0; l < nl; l++) {
    const row = [ell[l].toExponential(10)];
    for (let p = 0; p < np; p++) row.push(C[p * nl + l].toExponential(10));
    lines.push(row.join('\t') + '\n');
  }
  return lines.join('');
}

/** The files writeSpectra gives for `file`, from the config alone (StagePlugin.outputFiles). */
export function spectraFileNames(file: string, config: { plot?: boolean }): string[] {
  const base = file.replace(/\.tsv$/, '');
  return [file, `${base}.json`, ...(config.plot !== false ? [`${base}.svg`, `${base}.png`] : [])];
}

export async function writeSpectra(s: Spectra, file: string, config: { plot?: boolean }): Promise<OutputFiles> {
  const base = file.replace(/\.tsv$/, '');
  const files: OutputFiles = { [file]: spectraTsv(s) };
  files[`${base}.json`] = JSON.stringify({
    quantity: 'angular power spectrum C_l (Limber)',
    units: 'dimensionless (per steradian)',
    columns: `ell, then pairs in order: LL_i_j (i<=j), GL_i_j = G_i x L_j (all i, j), GG_i_j (i<=j)`,
    tracers: s.tracers,
    pairs: s.pairNames,
    ell: {
      count: s.ell.length, min: s.ell[0], max: s.ell[s.ell.length - 1],
      // bins by edges: the ell column holds the geometric-mean centres sqrt(e_i e_{i+1})
      ...(s.ellEdges ? { edges: Array.from(s.ellEdges), centres: 'geometric mean of the bin edges' } : {}),
    },
    settings: s.settings,
  }, null, 1) + '\n';
  if (config.plot !== false) {
    const { svg, png } = await plotSpectra(s, path.basename(base));
    files[`${base}.svg`] = svg;
    files[`${base}.png`] = png;
  }
  return files;
}
