/**
 * Reverse mode (vector-Jacobian products) of the cubic-spline interpolation in core/ad/interp.ts.
 *
 * With the queries fixed, a spline is linear in its data: S(xq_j) = A_j y_i + B_j y_{i+1} + C_j m_i + D_j m_{i+1}
 * (Numerical Recipes eq. 3.3.3) with m = S'' = M y, M the linear map of `solveSecondDerivs` (the tridiagonal
 * system of NR eq. 3.3.7 closed by the end conditions). The transpose therefore is
 *
 *   ybar_i += A_j Sbar_j,  ybar_{i+1} += B_j Sbar_j,  mbar_i += C_j Sbar_j,  mbar_{i+1} += D_j Sbar_j,
 *   ybar   += M^T mbar,
 *
 * and M^T mbar runs the three steps of `solveSecondDerivs` (end conditions, back substitution, Thomas forward
 * sweep, slope differences) transposed and in reverse order. Every routine accumulates (+=) into its output
 * and allocates per call only, never per element.
 */
import { type SplineBC, type SplineFactor, splineFactor } from '../numerics/spline.js';
import { queryGeometry } from './interp.js';

/**
 * ybar[yo .. yo+n) += M^T mbar[mo .. mo+n), the transpose of `solveSecondDerivs(f, y, yo, m, mo)`.
 * `mbar` is read and also used as scratch: its row is overwritten.
 */
export function secondDerivsAdjoint(f: SplineFactor, mbar: Float64Array, mo: number, ybar: Float64Array, yo: number): void {
  const n = f.x.length;
  const h = f.h, lower = f.lower, upper = f.upper, invPivot = f.invPivot;
  const k = n - 2;
  if (k <= 0) return; // m = 0: no dependence on y
  // 1. end conditions (transpose): not-a-knot m_0 = ((h0+h1) m_1 - h0 m_2)/h1, m_{n-1} = ((a+b) m_{n-2} - b m_{n-3})/a
  if (f.bc === 'not-a-knot') {
    const h0 = h[0], h1 = h[1], a = h[n - 3], b = h[n - 2];
    const b0 = mbar[mo], bn = mbar[mo + n - 1];
    mbar[mo + 1] += (b0 * (h0 + h1)) / h1;
    mbar[mo + 2] -= (b0 * h0) / h1;
    mbar[mo + n - 2] += (bn * (a + b)) / a;
    mbar[mo + n - 3] -= (bn * b) / a;
  }
  // interior unknowns u_j = m_{j+1}, j = 0..k-1 (bars in place at mbar[mo + 1 + j])
  const u = mo + 1;
  // 2. back substitution m_j = z_j - upper_j m_{j+1} (j = k-2..0), transposed in increasing j: zbar_j = ubar_j
  for (let j = 0; j <= k - 2; j++) mbar[u + j + 1] -= upper[j] * mbar[u + j];
  // 3. forward sweep z_j = (r_j - lower_j z_{j-1}) / pivot_j, transposed in decreasing j: rbar_j = zbar_j / pivot_j
  for (let j = k - 1; j >= 0; j--) {
    const r = mbar[u + j] * invPivot[j];
    mbar[u + j] = r;
    if (j > 0) mbar[u + j - 1] -= lower[j] * r;
  }
  // 4. r_j = 6 (slope_{j+1} - slope_j), slope_i = (y_{i+1} - y_i)/h_i
  for (let j = 0; j < k; j++) {
    const r6 = 6 * mbar[u + j];
    const s1 = r6 / h[j + 1], s0 = r6 / h[j];
    // + slope_{j+1}
    ybar[yo + j + 2] += s1;
    ybar[yo + j + 1] -= s1;
    // - slope_j
    ybar[yo + j + 1] -= s0;
    ybar[yo + j] += s0;
  }
}

/**
 * The transpose of `solveSecondDerivsMany` (knot i of row r at offset i * knotStride + r * rowStride): ybar +=
 * M^T mbar for `count` rows at once, the steps of secondDerivsAdjoint with the rows innermost. `mbar` is read and
 * used as scratch.
 */
export function secondDerivsAdjointMany(
  f: SplineFactor, mbar: Float64Array, mo: number, count: number, knotStride: number, rowStride: number, ybar: Float64Array, yo: number,
): void {
  const n = f.x.length;
  const h = f.h, lower = f.lower, upper = f.upper, invPivot = f.invPivot;
  const k = n - 2;
  const ks = knotStride, rs = rowStride, R = count;
  if (k <= 0) return;
  if (f.bc === 'not-a-knot') {
    const h0 = h[0], h1 = h[1], a = h[n - 3], b = h[n - 2];
    for (let r = 0, o = mo; r < R; r++, o += rs) {
      const b0 = mbar[o], bn = mbar[o + (n - 1) * ks];
      mbar[o + ks] += (b0 * (h0 + h1)) / h1;
      mbar[o + 2 * ks] -= (b0 * h0) / h1;
      mbar[o + (n - 2) * ks] += (bn * (a + b)) / a;
      mbar[o + (n - 3) * ks] -= (bn * b) / a;
    }
  }
  const u = mo + ks; // interior unknown j of row r at u + j * ks + r * rs
  for (let j = 0; j <= k - 2; j++) {
    const up = upper[j];
    for (let r = 0, b = u + j * ks; r < R; r++, b += rs) mbar[b + ks] -= up * mbar[b];
  }
  for (let j = k - 1; j >= 0; j--) {
    const ip = invPivot[j], lo = lower[j];
    for (let r = 0, a = u + j * ks; r < R; r++, a += rs) {
      const v = mbar[a] * ip;
      mbar[a] = v;
      if (j > 0) mbar[a - ks] -= lo * v;
    }
  }
  for (let j = 0; j < k; j++) {
    const h1 = h[j + 1], h0 = h[j];
    for (let r = 0, a = u + j * ks, y0 = yo + j * ks + 0; r < R; r++, a += rs, y0 += rs) {
      const r6 = 6 * mbar[a];
      const s1 = r6 / h1, s0 = r6 / h0;
      ybar[y0 + 2 * ks] += s1;
      ybar[y0 + ks] -= s1;
      ybar[y0 + ks] -= s0;
      ybar[y0] += s0;
    }
  }
}

/** secondDerivsAdjointMany for `nCols` interleaved columns of a knot-major table (knot i, column c at i * nCols + c). */
export function secondDerivsAdjointColumns(f: SplineFactor, mbar: Float64Array, mo: number, nCols: number, ybar: Float64Array, yo: number): void {
  secondDerivsAdjointMany(f, mbar, mo, nCols, nCols, 1, ybar, yo);
}

/**
 * Adjoint of `interpRowsDual(x, y, nRows, xq, bc)` with respect to y (queries fixed): given qbar
 * (nRows*nq, row-major), ybar (nRows*nx) += the transpose applied to it. Zero rows of qbar are skipped.
 */
export function interpRowsAdjoint(
  x: Float64Array,
  nRows: number,
  xq: Float64Array,
  qbar: Float64Array,
  ybar: Float64Array,
  bc: SplineBC = 'not-a-knot',
): void {
  const nx = x.length, nq = xq.length;
  if (qbar.length !== nRows * nq) throw new Error(`interpRowsAdjoint: qbar has ${qbar.length} values, expected ${nRows}*${nq}`);
  if (ybar.length !== nRows * nx) throw new Error(`interpRowsAdjoint: ybar has ${ybar.length} values, expected ${nRows}*${nx}`);
  const f = splineFactor(x, bc);
  // the same interval search and basis weights as the forward interpolation
  const { idx, A, B, C, D } = queryGeometry(x, xq);
  const mbar = new Float64Array(nx);
  for (let r = 0; r < nRows; r++) {
    const qo = r * nq, yo = r * nx;
    let any = false;
    for (let j = 0; j < nq; j++) if (qbar[qo + j] !== 0) { any = true; break; }
    if (!any) continue;
    mbar.fill(0);
    for (let j = 0; j < nq; j++) {
      const s = qbar[qo + j];
      if (s === 0) continue;
      const k = idx[j];
      ybar[yo + k] += A[j] * s;
      ybar[yo + k + 1] += B[j] * s;
      mbar[k] += C[j] * s;
      mbar[k + 1] += D[j] * s;
    }
    secondDerivsAdjoint(f, mbar, 0, ybar, yo);
  }
}

/** Adjoint of `interpDual(x, y, xq, bc)` with respect to y: ybar (length nx) += transpose applied to qbar. */
export function interpAdjoint(x: Float64Array, xq: Float64Array, qbar: Float64Array, ybar: Float64Array, bc: SplineBC = 'not-a-knot'): void {
  interpRowsAdjoint(x, 1, xq, qbar, ybar, bc);
}
