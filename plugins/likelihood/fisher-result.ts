/**
 * From a Fisher matrix F (P x P over the varied parameters, row-major) to the forecast: fixed parameters
 * removed, Gaussian priors added (1/sigma_prior^2 on the diagonal; docs/likelihood.md "Priors": the data matrix is
 * kept apart as Fdata and the prior widths listed in `priors`), the covariance F^-1 from the
 * eigen-decomposition of F scaled to unit diagonal (core/numerics/fisher-inverse.ts: its condition number is
 * reported, and a near-singular matrix is refused naming the degenerate parameter combination), marginalized
 * and conditional errors, and the w0-wa figure of merit 1/sqrt(det Cov(w0, wa)).
 * Shared by likelihood/gaussian-fisher and likelihood/gaussian.
 */
import { invertFisher } from '../../core/numerics/fisher-inverse.js';
import type { FisherResult } from './gaussian-fisher.js';

export interface VariedSpec { name: string; value: number; prior_sigma?: number; latex?: string }

export function fisherResult(F: Float64Array, varied: readonly VariedSpec[], fixed: readonly string[], settings: Record<string, unknown>): FisherResult {
  const P = varied.length;
  // fixed parameters out, priors in
  for (const f of fixed) if (!varied.some((v) => v.name === f)) throw new Error(`with.fixed names "${f}", which is not a varied parameter (${varied.map((v) => v.name).join(', ')})`);
  const keep = varied.map((v, i) => i).filter((i) => !fixed.includes(varied[i].name));
  const K = keep.length;
  const Fk = new Float64Array(K * K);
  keep.forEach((i, a) => keep.forEach((j, b) => { Fk[a * K + b] = F[i * P + j]; }));
  // the data Fisher matrix (fisher.tsv) stays apart from the priors (fisher.json "priors"): each prior is then
  // counted once when matrices are combined (core/cli/fisher-files.ts)
  const Fdata = Fk.slice();
  const priors: Record<string, number> = {};
  keep.forEach((i, a) => {
    const ps = varied[i].prior_sigma;
    if (ps) { Fk[a * K + a] += 1 / (ps * ps); priors[varied[i].name] = ps; }
  });

  // a parameter nothing depends on makes F singular: name it
  const scale = Math.max(...Array.from({ length: K }, (_, a) => Math.abs(Fk[a * K + a])));
  const dead = keep.filter((_, a) => !(Math.abs(Fk[a * K + a]) > 1e-14 * scale)).map((i) => varied[i].name);
  if (dead.length) throw new Error(`the Fisher matrix is singular: nothing in the data depends on ${dead.join(', ')} (zero derivatives); fix ${dead.length > 1 ? 'them' : 'it'} (with.fixed) or give a prior`);
  const names = keep.map((i) => varied[i].name);
  const { cov, condition } = invertFisher(Fk, names, {
    remedy: (d) => `fix ${d.length > 1 ? 'one of them' : 'it'} ("vary": false, or the Fisher stage's with.fixed) or give ${d.length > 1 ? 'one of them' : 'it'} a prior ("prior_sigma")`,
  });

  const sigmaMarginalized = Float64Array.from({ length: K }, (_, a) => Math.sqrt(cov[a * K + a]));
  const sigmaConditional = Float64Array.from({ length: K }, (_, a) => 1 / Math.sqrt(Fk[a * K + a]));
  const iw0 = names.indexOf('w0'), iwa = names.indexOf('wa');
  const fom = iw0 >= 0 && iwa >= 0
    ? 1 / Math.sqrt(cov[iw0 * K + iw0] * cov[iwa * K + iwa] - cov[iw0 * K + iwa] ** 2)
    : NaN;
  const fomNote = Number.isFinite(fom) ? undefined : fomMissing(varied.map((v) => v.name), fixed);
  return {
    names, latex: keep.map((i) => varied[i].latex ?? varied[i].name),
    fiducial: Float64Array.from(keep, (i) => varied[i].value),
    F: Fk, Fdata, priors, cov, sigmaMarginalized, sigmaConditional, fom, ...(fomNote ? { fomNote } : {}), condition,
    settings,
  };
}

/**
 * Why there is no dark-energy figure of merit: which of w0, wa is not varied (or held fixed by with.fixed).
 * `fixed` may be empty (a combined Fisher matrix: then "not in the matrix").
 */
export function fomMissing(names: readonly string[], fixed: readonly string[] = [], where = 'varied'): string {
  const why = ['w0', 'wa'].filter((n) => !names.includes(n) || fixed.includes(n))
    .map((n) => (fixed.includes(n) ? `${n} is held fixed (with.fixed)` : `${n} is not ${where}`));
  return `no figure of merit (w0, wa): ${why.join(' and ')}; it needs both w0 and wa`;
}
