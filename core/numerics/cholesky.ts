/**
 * Small dense symmetric positive-definite linear algebra on row-major Float64Array: Cholesky factor,
 * triangular solves, inverse. For covariances of a few tens of rows.
 *
 * Why hand-written, when ml-matrix (a dependency) has a CholeskyDecomposition: this factor runs inside the
 * likelihood's and the Fisher matrix's loops over multipole bins (once per bin per evaluation: ~100 calls
 * per evaluation of the main job, every sampler step for likelihood/gaussian), on blocks of up to 20 x 20
 * (10 lensing + 10 clustering tracers). Measured warm in one process on a 20 x 20 SPD matrix
 * (test/bench/cholesky.bench.ts, 9 interleaved rounds of 1e5 calls, 2 shared cores, three runs): ours
 * 1.5-2.6 us per call (copy included), ml-matrix 14-29 us from a ready Matrix (9-11x slower) and 30-49 us
 * with the Float64Array <-> Matrix conversions the solves below would need; the factors agree to 2e-16.
 * ml-matrix stores a Matrix as an array of row arrays behind get/set calls, allocates the factor on each
 * call, checks exact symmetry first and does not stop at a non-positive pivot. (Dense algebra outside the
 * hot loops, the Fisher inversion, goes through ml-matrix: numerics/fisher-inverse.ts.)
 */

/** In-place Cholesky of the n x n symmetric positive-definite matrix a (row-major, lower triangle used). */
export function cholesky(a: Float64Array, n: number): boolean {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0)) return false;
    const ljj = Math.sqrt(d);
    a[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / ljj;
    }
    for (let i = 0; i < j; i++) a[i * n + j] = 0;
  }
  return true;
}

/** B <- L^-1 B for lower-triangular L (n x n) and B (n x m), row-major. */
export function forwardSolve(L: Float64Array, n: number, B: Float64Array, m: number): void {
  for (let i = 0; i < n; i++) {
    const inv = 1 / L[i * n + i];
    for (let c = 0; c < m; c++) {
      let s = B[i * m + c];
      for (let k = 0; k < i; k++) s -= L[i * n + k] * B[k * m + c];
      B[i * m + c] = s * inv;
    }
  }
}

/** Inverse of a symmetric positive-definite matrix via Cholesky; null if not positive definite. */
export function spdInverse(F: Float64Array, P: number): Float64Array | null {
  const L = Float64Array.from(F);
  if (!cholesky(L, P)) return null;
  const inv = new Float64Array(P * P);
  for (let i = 0; i < P; i++) inv[i * P + i] = 1;
  forwardSolve(L, P, inv, P); // L^-1
  const out = new Float64Array(P * P);
  // (L^-1)^T (L^-1)
  for (let i = 0; i < P; i++)
    for (let j = i; j < P; j++) {
      let s = 0;
      for (let k = Math.max(i, j); k < P; k++) s += inv[k * P + i] * inv[k * P + j];
      out[i * P + j] = s;
      out[j * P + i] = s;
    }
  return out;
}
