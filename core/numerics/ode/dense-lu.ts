/**
 * Small dense LU factorization with partial pivoting (Golub & Van Loan, Matrix Computations, alg. 3.4.1),
 * in place on a row-major Float64Array, and the matching forward/back substitution. No allocation after
 * construction: the iteration matrices of the implicit ODE methods are factored once per step (or less)
 * and solved against several right-hand sides.
 */
export class DenseLU {
  /** L (unit lower, below the diagonal) and U (upper), row-major n x n. */
  readonly lu: Float64Array;
  /** Row i of the factored matrix is row piv[i] of the original. */
  readonly piv: Int32Array;
  /** Index of the first zero pivot, or -1 when the factorization succeeded. */
  singularAt = -1;

  constructor(readonly n: number) {
    this.lu = new Float64Array(n * n);
    this.piv = new Int32Array(n);
  }

  /** Factor the matrix already written into this.lu. Returns false (and sets singularAt) if singular. */
  factor(): boolean {
    const n = this.n, a = this.lu, piv = this.piv;
    this.singularAt = -1;
    for (let i = 0; i < n; i++) piv[i] = i;
    for (let k = 0; k < n; k++) {
      // pivot: largest |a[i][k]|, i >= k
      let p = k;
      let best = Math.abs(a[k * n + k]);
      for (let i = k + 1; i < n; i++) {
        const v = Math.abs(a[i * n + k]);
        if (v > best) { best = v; p = i; }
      }
      if (!(best > 0) || !Number.isFinite(best)) {
        this.singularAt = k;
        return false;
      }
      if (p !== k) {
        for (let j = 0; j < n; j++) {
          const tmp = a[k * n + j];
          a[k * n + j] = a[p * n + j];
          a[p * n + j] = tmp;
        }
        const tp = piv[k]; piv[k] = piv[p]; piv[p] = tp;
      }
      const inv = 1 / a[k * n + k];
      for (let i = k + 1; i < n; i++) {
        const l = a[i * n + k] * inv;
        a[i * n + k] = l;
        if (l !== 0) for (let j = k + 1; j < n; j++) a[i * n + j] -= l * a[k * n + j];
      }
    }
    return true;
  }

  /**
   * Solve A x = b for one right-hand side: b is read from rhs[off .. off+n) and x written to x[xoff ..];
   * `work` (length n) must not alias either.
   */
  solve(rhs: Float64Array, off: number, x: Float64Array, xoff: number, work: Float64Array): void {
    const n = this.n, a = this.lu, piv = this.piv;
    for (let i = 0; i < n; i++) work[i] = rhs[off + piv[i]];
    // L y = P b (unit diagonal)
    for (let i = 1; i < n; i++) {
      let s = work[i];
      const row = i * n;
      for (let j = 0; j < i; j++) s -= a[row + j] * work[j];
      work[i] = s;
    }
    // U x = y
    for (let i = n - 1; i >= 0; i--) {
      let s = work[i];
      const row = i * n;
      for (let j = i + 1; j < n; j++) s -= a[row + j] * work[j];
      work[i] = s / a[row + i];
    }
    for (let i = 0; i < n; i++) x[xoff + i] = work[i];
  }
}
