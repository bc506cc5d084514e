/**
 * Files of the Fisher stage: `fisher.tsv` (the data Fisher matrix, header of parameter names; priors are listed
 * in fisher.json and added when the errors are computed, docs/likelihood.md), `sigmas.tsv`
 * (parameter, fiducial, sigma_marginalized, sigma_conditional, percent; percent is n/a where the fiducial is 0), `fisher.json`, and the triangle
 * plot `fisher.png` / `fisher.svg` (1- and 2-sigma ellipses).
 */
import type { OutputFiles } from '../../core/plugin/types.js';
import type { FisherResult } from './gaussian-fisher.js';
import { plotFisher } from './plot-fisher.js';

/** fisher.tsv: the data Fisher matrix (priors are not in it: fisher.json lists them). */
export function fisherTsv(r: FisherResult): string {
  const K = r.names.length;
  const F = r.Fdata ?? r.F;
  const lines = [r.names.join('\t')];
  for (let i = 0; i < K; i++) lines.push(Array.from({ length: K }, (_, j) => F[i * K + j].toExponential(12)).join('\t'));
  return lines.join('\n') + '\n';
}

/** Percent of the fiducial, or the absolute error where the fiducial is 0. */
export const percentOf = (sigma: number, fid: number) => (fid !== 0 ? (100 * sigma) / Math.abs(fid) : NaN);

export function sigmasTsv(r: FisherResult): string {
  const lines = ['parameter\tfiducial\tsigma_marginalized\tsigma_conditional\tpercent'];
  r.names.forEach((n, i) => {
    const pct = percentOf(r.sigmaMarginalized[i], r.fiducial[i]);
    lines.push([n, r.fiducial[i], r.sigmaMarginalized[i].toExponential(6), r.sigmaConditional[i].toExponential(6), Number.isNaN(pct) ? 'n/a' : pct.toFixed(4)].join('\t'));
  });
  return lines.join('\n') + '\n';
}

/** A fixed-width table for the terminal. */
export function sigmasTable(r: FisherResult): string {
  const rows = r.names.map((n, i) => {
    const pct = percentOf(r.sigmaMarginalized[i], r.fiducial[i]);
    return [n, String(Number(r.fiducial[i].toPrecision(6))), r.sigmaMarginalized[i].toPrecision(4), r.sigmaConditional[i].toPrecision(4), Number.isNaN(pct) ? '(abs)' : pct.toFixed(2) + ' %'];
  });
  const head = ['parameter', 'fiducial', 'sigma (marg.)', 'sigma (cond.)', 'marg./fid.'];
  const w = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const fmt = (r: string[]) => r.map((x, c) => (c === 0 ? x.padEnd(w[c]) : x.padStart(w[c]))).join('  ');
  const out = [fmt(head), w.map((x) => '-'.repeat(x)).join('  '), ...rows.map(fmt)];
  const priors = Object.entries(r.priors ?? {});
  if (priors.length) out.push(`priors (Gaussian, added to the data Fisher matrix): ${priors.map(([n, p]) => `sigma(${n}) = ${p}`).join(', ')}`);
  if (Number.isFinite(r.fom)) out.push(`figure of merit (w0, wa): ${r.fom.toFixed(1)}`);
  else if (r.fomNote) out.push(r.fomNote);
  if (Number.isFinite(r.condition)) out.push(`condition number (F scaled to unit diagonal): ${r.condition.toExponential(2)}`);
  return out.join('\n');
}

/**
 * The columns of a Fisher result in `cosmodag sweep`'s table: `sigma_<name>` (marginalized) for every parameter,
 * then `fom` (dark-energy figure of merit; NaN when w0 or wa is not varied).
 */
export function sweepColumnsOf(r: FisherResult): Record<string, number> {
  const cols: Record<string, number> = {};
  r.names.forEach((n, i) => { cols[`sigma_${n}`] = r.sigmaMarginalized[i]; });
  cols.fom = r.fom;
  return cols;
}

/**
 * fisher.json: the data Fisher matrix (as fisher.tsv), the priors apart (sigma by parameter; the errors are those
 * of fisher + diag(1/sigma^2)), the errors, the figure of merit (or why there is none), the settings.
 */
export function fisherJson(r: FisherResult): string {
  const K = r.names.length, F = r.Fdata ?? r.F;
  return JSON.stringify({
    quantity: 'Fisher matrix of the Gaussian C_l likelihood (data only; priors listed apart, docs/likelihood.md)',
    parameters: r.names, latex: r.latex ?? r.names, fiducial: Array.from(r.fiducial),
    fisher: Array.from({ length: K }, (_, i) => Array.from(F.subarray(i * K, (i + 1) * K))),
    priors: r.priors ?? {},
    sigma_marginalized: Array.from(r.sigmaMarginalized), sigma_conditional: Array.from(r.sigmaConditional),
    figure_of_merit_w0_wa: Number.isFinite(r.fom) ? r.fom : null,
    ...(r.fomNote ? { figure_of_merit_note: r.fomNote } : {}),
    // largest / smallest eigenvalue of D^-1/2 F D^-1/2 (D = diag F): unit-free; refused above 1e12
    condition_number: r.condition,
    settings: r.settings,
  }, null, 1) + '\n';
}

/** The files writeFisher gives for `file`, from the config alone (StagePlugin.outputFiles). */
export function fisherFileNames(file: string, config: { plot?: boolean }): string[] {
  const base = file.replace(/\.tsv$/, '');
  return [file, 'sigmas.tsv', `${base}.json`, ...(config.plot !== false ? [`${base}.svg`, `${base}.png`] : [])];
}

export async function writeFisher(r: FisherResult, file: string, config: { plot?: boolean }): Promise<OutputFiles> {
  const base = file.replace(/\.tsv$/, '');
  const files: OutputFiles = {
    [file]: fisherTsv(r),
    'sigmas.tsv': sigmasTsv(r),
    [`${base}.json`]: fisherJson(r),
  };
  if (config.plot !== false) {
    const { svg, png } = await plotFisher(r);
    files[`${base}.svg`] = svg;
    files[`${base}.png`] = png;
  }
  return files;
}
