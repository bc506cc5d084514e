/**
 * The Gaussian Fisher matrix of tomographic C_l (e.g. Euclid Collaboration, Blanchard et al. 2020, eq. 30):
 *
 *   F_ab = sum_l  f_sky (2l+1) Delta_l / 2  Tr[ C_l^-1 dC_l/dtheta_a  C_l^-1 dC_l/dtheta_b ],
 *
 * C_l the tracer-by-tracer matrix of signal plus noise. The trace is formed stably through the Cholesky
 * factor C = L L^T: with A_a = L^-1 dC_a L^-T (symmetric), Tr[C^-1 dC_a C^-1 dC_b] = sum_ij A_a,ij A_b,ij.
 * Plain Float64Array linear algebra: the matrices are at most a few tens of tracers.
 */
import { cholesky, forwardSolve } from '../../core/numerics/cholesky.js';

/** A = L^-1 S L^-T for symmetric S, into S's storage (via a transpose step). */
export function whiten(L: Float64Array, n: number, S: Float64Array, work: Float64Array): void {
  forwardSolve(L, n, S, n); // S <- L^-1 S
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) work[j * n + i] = S[i * n + j]; // (L^-1 S)^T = S L^-T
  forwardSolve(L, n, work, n); // L^-1 S L^-T
  S.set(work.subarray(0, n * n));
}

/**
 * Fisher contribution of one multipole bin: weight * Tr[C^-1 dC_a C^-1 dC_b] for all a, b, added to F.
 * C (n x n) and dC (P blocks of n x n) are overwritten.
 */
export function addBinFisher(C: Float64Array, dC: Float64Array, n: number, P: number, weight: number, F: Float64Array, where: () => string): void {
  if (!cholesky(C, n)) throw new Error(`the covariance C_l + N_l is not positive definite at ${where()}; check the noise and the spectra`);
  const work = new Float64Array(n * n);
  for (let a = 0; a < P; a++) whiten(C, n, dC.subarray(a * n * n, (a + 1) * n * n), work);
  for (let a = 0; a < P; a++)
    for (let b = a; b < P; b++) {
      let t = 0;
      const oa = a * n * n, ob = b * n * n;
      for (let i = 0; i < n * n; i++) t += dC[oa + i] * dC[ob + i];
      F[a * P + b] += weight * t;
      if (b !== a) F[b * P + a] += weight * t;
    }
}

