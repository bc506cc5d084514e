/**
 * Inverse of a Fisher matrix (P x P, symmetric, row-major) through ml-matrix's symmetric eigen-decomposition,
 * with its condition number and, for a singular or near-singular matrix, the parameter combination that is
 * responsible.
 *
 * The decomposition is of the matrix scaled to unit diagonal, S = D^-1/2 F D^-1/2 (D = diag F), so that the
 * units of the parameters do not decide: S is the correlation-like matrix of the conditional errors, and
 * a parameter measured in eV or in 1e-9 has the same S as in natural units. Then S = V diag(lambda) V^T,
 *
 *   F^-1 = D^-1/2 V diag(1/lambda) V^T D^-1/2,      condition number kappa = lambda_max / lambda_min.
 *
 * A matrix with kappa > FISHER_MAX_CONDITION (or lambda_min <= 0) is refused: its inverse would be noise. The
 * eigenvector v of lambda_min is the direction the data do not constrain: moving every parameter theta_i by
 * v_i / sqrt(F_ii) (v_i of its conditional error) changes the data by a factor sqrt(lambda_min) less than a
 * typical single-parameter step. The error writes v as "0.71 Omega_m - 0.71 Omega_b" (its dominant
 * components, sign fixed by the largest one), which names the degenerate parameters and their relative sign.
 *
 * Dense linear algebra outside any hot loop, so it goes through ml-matrix (P is at most a few tens, once per
 * forecast); the per-multipole Cholesky of the likelihood stays in cholesky.ts (see the note there).
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/**
 * Largest condition number of the unit-diagonal Fisher matrix that is inverted. At kappa, the inverse's
 * relative rounding error is about kappa * 1e-16, and a derivative error of a relative epsilon moves the
 * smallest eigenvalue by about epsilon * lambda_max; above 1e12 the marginalized errors along the weakest
 * direction carry no significant digits worth printing. (The main job's matrix has kappa = 6.0e3.)
 */
export const FISHER_MAX_CONDITION = 1e12;

export interface FisherInverse {
  /** F^-1 (P x P, row-major). */
  cov: Float64Array;
  /** lambda_max / lambda_min of D^-1/2 F D^-1/2 (Infinity if lambda_min <= 0). */
  condition: number;
  /** Eigenvalues of the scaled matrix, ascending. */
  eigenvalues: Float64Array;
}

/** A Fisher matrix that cannot be inverted meaningfully: its weakest direction, in the parameters' names. */
export class DegenerateFisherError extends Error {
  constructor(
    message: string,
    /** The unit eigenvector of the smallest eigenvalue of the scaled matrix (one entry per parameter). */
    readonly direction: Float64Array,
    /** Its dominant components, written out ("0.71 Omega_m - 0.71 Omega_b"). */
    readonly combination: string,
    readonly condition: number,
  ) {
    super(message);
    this.name = 'DegenerateFisherError';
  }
}

/**
 * The dominant components of v (|v_i| >= 0.1 max |v|, at most `maxTerms`) as "0.71 a - 0.71 b": largest first
 * (equal printed magnitudes in the parameters' order), the first one positive (v and -v are one direction).
 */
export function formatCombination(v: ArrayLike<number>, names: readonly string[], maxTerms = 6): string {
  const printed = (i: number) => Math.round(Math.abs(v[i]) * 100);
  const idx = Array.from({ length: v.length }, (_, i) => i).sort((a, b) => printed(b) - printed(a) || a - b);
  const top = Math.max(...Array.from({ length: v.length }, (_, i) => Math.abs(v[i])));
  const sign = v[idx[0]] < 0 ? -1 : 1;
  const kept = idx.filter((i) => Math.abs(v[i]) >= 0.1 * top);
  const shown = kept.slice(0, maxTerms);
  let s = '';
  shown.forEach((i, k) => {
    const c = sign * v[i];
    const mag = Math.abs(c).toFixed(2);
    s += k === 0 ? `${c < 0 ? '-' : ''}${mag} ${names[i]}` : ` ${c < 0 ? '-' : '+'} ${mag} ${names[i]}`;
  });
  if (kept.length > shown.length) s += ` + ... (${kept.length - shown.length} more)`;
  return s;
}

export interface InvertFisherOptions {
  /** What the user can do about a degeneracy (default: fix one of the parameters or add a prior on one). */
  remedy?: (degenerate: string[]) => string;
  /** Override of FISHER_MAX_CONDITION. */
  maxCondition?: number;
  /** What the matrix is, for the message ("the Fisher matrix", "the combined Fisher matrix"). */
  what?: string;
}

const defaultRemedy = (d: string[]) => (d.length > 1 ? `fix one of ${d.join(', ')} or add a prior on one of them` : `fix ${d[0]} or add a prior on it`);

/**
 * Invert a symmetric Fisher matrix with a positive diagonal (a zero or negative diagonal entry is the caller's
 * to report: it names a single parameter). Throws DegenerateFisherError when the condition number of the
 * scaled matrix exceeds the threshold or an eigenvalue is not positive.
 */
export function invertFisher(F: Float64Array, names: readonly string[], opts: InvertFisherOptions = {}): FisherInverse {
  const K = names.length;
  if (F.length !== K * K) throw new Error(`invertFisher: a ${K} x ${K} matrix has ${K * K} entries, got ${F.length}`);
  const what = opts.what ?? 'the Fisher matrix';
  const s = new Float64Array(K);
  for (let i = 0; i < K; i++) {
    const d = F[i * K + i];
    if (!(d > 0)) throw new Error(`${what} has F(${names[i]}, ${names[i]}) = ${d}: ${names[i]} is unconstrained (it must be > 0)`);
    s[i] = 1 / Math.sqrt(d);
  }
  const S = new Matrix(K, K);
  for (let i = 0; i < K; i++) {
    S.set(i, i, 1);
    for (let j = 0; j < i; j++) {
      const x = F[i * K + j] * s[i] * s[j]; // the lower triangle (F is symmetric)
      S.set(i, j, x);
      S.set(j, i, x);
    }
  }
  const evd = new EigenvalueDecomposition(S, { assumeSymmetric: true });
  const lambda = evd.realEigenvalues;
  const V = evd.eigenvectorMatrix; // columns are the eigenvectors
  let kMin = 0, kMax = 0;
  for (let k = 1; k < K; k++) {
    if (lambda[k] < lambda[kMin]) kMin = k;
    if (lambda[k] > lambda[kMax]) kMax = k;
  }
  const condition = lambda[kMin] > 0 ? lambda[kMax] / lambda[kMin] : Infinity;
  const maxCondition = opts.maxCondition ?? FISHER_MAX_CONDITION;
  if (!(condition <= maxCondition)) {
    const v = Float64Array.from({ length: K }, (_, i) => V.get(i, kMin));
    const combination = formatCombination(v, names);
    const top = Math.max(...Array.from(v, Math.abs));
    const degenerate = names.filter((_, i) => Math.abs(v[i]) >= 0.1 * top);
    const how = !(lambda[kMin] > 0)
      ? `singular: the matrix scaled to unit diagonal has the eigenvalue ${lambda[kMin].toExponential(2)} <= 0 (largest ${lambda[kMax].toExponential(2)})`
      : condition > 1e15 // lambda_min at the level of rounding errors
        ? `singular to rounding: condition number ${condition.toExponential(2)} of the matrix scaled to unit diagonal`
        : `near-singular: condition number ${condition.toExponential(2)} of the matrix scaled to unit diagonal, above ${maxCondition.toExponential(0)}`;
    const who = degenerate.length > 1
      ? `${degenerate.join(', ')} are degenerate`
      : `${degenerate[0]} is unconstrained`;
    throw new DegenerateFisherError(
      `${what} is ${how}. The data do not constrain the combination ${combination} ` +
      `(each parameter in units of its conditional error 1/sqrt(F_ii); the eigenvector of the smallest eigenvalue, ${lambda[kMin].toExponential(2)}): ` +
      `${who}; ${(opts.remedy ?? defaultRemedy)(degenerate)}`,
      v, combination, condition,
    );
  }
  // F^-1 = D^-1/2 V diag(1/lambda) V^T D^-1/2
  const W = new Float64Array(K * K); // W[i, k] = V[i, k] / sqrt(lambda_k)
  for (let i = 0; i < K; i++) for (let k = 0; k < K; k++) W[i * K + k] = V.get(i, k) / Math.sqrt(lambda[k]);
  const cov = new Float64Array(K * K);
  for (let i = 0; i < K; i++)
    for (let j = i; j < K; j++) {
      let t = 0;
      for (let k = 0; k < K; k++) t += W[i * K + k] * W[j * K + k];
      cov[i * K + j] = cov[j * K + i] = t * s[i] * s[j];
    }
  return { cov, condition, eigenvalues: Float64Array.from(lambda).sort() };
}
