/**
 * A running mean and covariance (Welford's algorithm, multivariate: B. P. Welford, Technometrics 4 (1962) 419)
 * kept as plain JSON numbers inside a chain state, and the regularised estimate the adaptive samplers use.
 */

export interface RunningCovariance {
  n: number;
  mean: number[];
  /** Sum of outer products of deviations, row-major dim x dim. */
  m2: number[];
}

export function emptyRunningCovariance(dim: number): RunningCovariance {
  return { n: 0, mean: new Array<number>(dim).fill(0), m2: new Array<number>(dim * dim).fill(0) };
}

/** Add a draw: mean_n = mean_{n-1} + d / n, M2 += d d^T (n-1)/n with d = x - mean_{n-1}. `scratch` has length dim. */
export function addDraw(rc: RunningCovariance, x: ArrayLike<number>, scratch: Float64Array): void {
  const dim = rc.mean.length;
  const n = rc.n + 1;
  for (let i = 0; i < dim; i++) scratch[i] = x[i] - rc.mean[i];
  const f = (n - 1) / n;
  for (let i = 0; i < dim; i++) {
    rc.mean[i] += scratch[i] / n;
    const di = scratch[i] * f;
    const row = i * dim;
    for (let j = 0; j < dim; j++) rc.m2[row + j] += di * scratch[j];
  }
  rc.n = n;
}

/**
 * The sample covariance with its off-diagonal elements shrunk toward zero by the weight n / (n + 5) that Stan
 * gives the sample covariance of a metric window (Stan Reference Manual, "HMC algorithm parameters: Euclidean
 * metric"; Stan shrinks toward 1e-3 I, we shrink toward the sample's own diagonal, which does not depend on the
 * parameters' units): C = n/(n+5) S + 5/(n+5) diag(S). Positive definite whenever every variance is positive,
 * even with fewer draws than dimensions. `diagonalOnly` keeps diag(S). Null when a variance is not positive
 * or not finite (a window in which the chain did not move). `shrink = false` returns S itself (for a caller that
 * regularises otherwise, e.g. toward a prior covariance: shrinking a strongly correlated S toward its diagonal
 * inflates its thin directions by orders of magnitude).
 */
export function regularizedCovariance(rc: RunningCovariance, diagonalOnly = false, shrink = true): number[] | null {
  const dim = rc.mean.length;
  const n = rc.n;
  if (n < 2) return null;
  const out = new Array<number>(dim * dim).fill(0);
  const w = diagonalOnly ? 0 : shrink ? n / (n + 5) : 1;
  for (let i = 0; i < dim; i++) {
    const v = rc.m2[i * dim + i] / (n - 1);
    if (!(v > 0) || !Number.isFinite(v)) return null;
    out[i * dim + i] = v;
    for (let j = 0; j < i; j++) {
      const c = (w * (rc.m2[i * dim + j] + rc.m2[j * dim + i])) / (2 * (n - 1));
      out[i * dim + j] = c;
      out[j * dim + i] = c;
    }
  }
  return out;
}
