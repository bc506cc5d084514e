/**
 * The few dense operations the samplers need on row-major n x n Float64Arrays (n = a few tens): a symmetric
 * matrix-vector product, products with a Cholesky factor L and solves with L^T. No allocation.
 */
import { cholesky } from '../../core/numerics/cholesky.js';

/** out = A x for a row-major n x n matrix A. */
export function matVec(A: Float64Array, x: Float64Array, out: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    const row = i * n;
    for (let j = 0; j < n; j++) s += A[row + j] * x[j];
    out[i] = s;
  }
}

/** out = L z for lower-triangular L. */
export function lowerMatVec(L: Float64Array, z: Float64Array, out: Float64Array, n: number): void {
  for (let i = n - 1; i >= 0; i--) {
    let s = 0;
    const row = i * n;
    for (let j = 0; j <= i; j++) s += L[row + j] * z[j];
    out[i] = s;
  }
}

/** Solve L^T y = z for y (back substitution with the transpose of lower-triangular L); y may alias z. */
export function upperTransposedSolve(L: Float64Array, z: Float64Array, y: Float64Array, n: number): void {
  for (let i = n - 1; i >= 0; i--) {
    let s = z[i];
    for (let k = i + 1; k < n; k++) s -= L[k * n + i] * y[k];
    y[i] = s / L[i * n + i];
  }
}

export function dot(a: Float64Array, b: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/** The Cholesky factor of a symmetric positive-definite matrix (a copy), or null when it is not positive definite. */
export function choleskyOf(A: ArrayLike<number>, n: number): Float64Array | null {
  const L = Float64Array.from(A);
  return cholesky(L, n) ? L : null;
}

/** The n x n identity scaled by s^2 (a covariance with standard deviation s in every coordinate), as plain numbers. */
export function scaledIdentity(n: number, s: number): number[] {
  const out = new Array<number>(n * n).fill(0);
  for (let i = 0; i < n; i++) out[i * n + i] = s * s;
  return out;
}
