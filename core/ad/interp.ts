/**
 * Cubic-spline interpolation of DualArrays.
 *
 * A spline on a fixed grid x is linear in the data y, so the tangent of the interpolant is the spline of
 * the tangent: d S[y](xq) / d theta = S[dy/dtheta](xq) + S'[y](xq) dxq/dtheta. Every row (values and
 * each tangent block) is therefore splined with the same factorisation (core/numerics/spline.ts), and
 * the query geometry (interval and basis weights of each xq) is computed once and reused for all rows.
 * Allocation is per call (outputs and one scratch of the size of y), never per element.
 */
import type { DualArray } from './dual-array.js';
import { findInterval, solveSecondDerivs, splineFactor, type SplineBC } from '../numerics/spline.js';

/** Interval index and basis weights of each query: S = A y_i + B y_{i+1} + C m_i + D m_{i+1}. */
export interface QueryGeometry {
  idx: Int32Array;
  A: Float64Array;
  B: Float64Array;
  C: Float64Array;
  D: Float64Array;
}

export function queryGeometry(x: Float64Array, xq: Float64Array): QueryGeometry {
  const nq = xq.length;
  const idx = new Int32Array(nq);
  const A = new Float64Array(nq), B = new Float64Array(nq), C = new Float64Array(nq), D = new Float64Array(nq);
  let i = 0;
  for (let j = 0; j < nq; j++) {
    i = findInterval(x, xq[j], i);
    const h = x[i + 1] - x[i];
    const a = (x[i + 1] - xq[j]) / h;
    const b = 1 - a;
    idx[j] = i;
    A[j] = a;
    B[j] = b;
    C[j] = ((a * a * a - a) * h * h) / 6;
    D[j] = ((b * b * b - b) * h * h) / 6;
  }
  return { idx, A, B, C, D };
}

/** Splines of `rows` rows (each nx long, contiguous in src) evaluated at the queries into dst (rows*nq). */
function evalRows(g: QueryGeometry, nx: number, src: Float64Array, m: Float64Array, rows: number, dst: Float64Array): void {
  const { idx, A, B, C, D } = g;
  const nq = idx.length;
  for (let r = 0, so = 0, d = 0; r < rows; r++, so += nx) {
    for (let j = 0; j < nq; j++, d++) {
      const k = so + idx[j];
      dst[d] = A[j] * src[k] + B[j] * src[k + 1] + C[j] * m[k] + D[j] * m[k + 1];
    }
  }
}

/** Add S_r'(xq_j) * dxq[p, j] to every tangent block p of every row r (the chain rule through the query). */
function addQueryChain(
  x: Float64Array,
  g: QueryGeometry,
  y: Float64Array,
  m: Float64Array,
  nRows: number,
  dxq: Float64Array,
  P: number,
  tangent: Float64Array,
): void {
  const { idx, A, B } = g;
  const nx = x.length;
  const nq = idx.length;
  const blk = nRows * nq;
  for (let r = 0, so = 0; r < nRows; r++, so += nx) {
    for (let j = 0; j < nq; j++) {
      const i = idx[j];
      const k = so + i;
      const h = x[i + 1] - x[i];
      const a = A[j], b = B[j];
      // S'(x) on interval i (Numerical Recipes eq. 3.3.5)
      const dS = (y[k + 1] - y[k]) / h + (((3 * b * b - 1) * m[k + 1] - (3 * a * a - 1) * m[k]) * h) / 6;
      if (dS === 0) continue;
      for (let p = 0, t = r * nq + j; p < P; p++, t += blk) tangent[t] += dS * dxq[p * nq + j];
    }
  }
}

/**
 * Interpolate nRows rows of y (row-major nRows*nx, tangent parameter-major P*nRows*nx) sharing the grid x
 * at the queries xq (length nq, shared by all rows; a DualArray xq adds the chain-rule term). Returns
 * nRows*nq values, row-major, with tangent P*nRows*nq parameter-major.
 */
export function interpRowsDual(
  x: Float64Array,
  yRows: DualArray,
  nRows: number,
  xq: Float64Array | DualArray,
  bc: SplineBC = 'not-a-knot',
): DualArray {
  const nx = x.length;
  if (!Number.isInteger(nRows) || nRows < 0) throw new Error(`interpRowsDual: nRows must be an integer >= 0, got ${nRows}`);
  if (yRows.value.length !== nRows * nx)
    throw new Error(`interpRowsDual: y has ${yRows.value.length} values, expected nRows*nx = ${nRows}*${nx}`);
  const q = xq instanceof Float64Array ? xq : xq.value;
  const dq = xq instanceof Float64Array ? null : xq.tangent;
  const Pq = xq instanceof Float64Array ? 0 : xq.P;
  const Py = yRows.tangent ? yRows.P : 0;
  if (Py > 0 && Pq > 0 && Py !== Pq) throw new Error(`interpRowsDual: tangent sizes differ (y has ${Py}, xq has ${Pq})`);
  const P = Math.max(Py, dq ? Pq : 0);
  const nq = q.length;
  const f = splineFactor(x, bc);
  const g = queryGeometry(x, q);

  // second derivatives of the value rows
  const mVal = new Float64Array(nRows * nx);
  for (let r = 0; r < nRows; r++) solveSecondDerivs(f, yRows.value, r * nx, mVal, r * nx);
  const value = new Float64Array(nRows * nq);
  evalRows(g, nx, yRows.value, mVal, nRows, value);
  if (P === 0) return { value, tangent: null, P: 0 };

  const tangent = new Float64Array(P * nRows * nq);
  if (yRows.tangent) {
    const rows = Py * nRows;
    const mTan = new Float64Array(rows * nx);
    for (let r = 0; r < rows; r++) solveSecondDerivs(f, yRows.tangent, r * nx, mTan, r * nx);
    evalRows(g, nx, yRows.tangent, mTan, rows, tangent);
  }
  if (dq) addQueryChain(x, g, yRows.value, mVal, nRows, dq, P, tangent);
  return { value, tangent, P };
}

/** Cubic-spline interpolation of y (on grid x) at xq, propagating the tangents of y and of xq. */
export function interpDual(x: Float64Array, y: DualArray, xq: Float64Array | DualArray, bc: SplineBC = 'not-a-knot'): DualArray {
  if (y.value.length !== x.length) throw new Error(`interpDual: y has ${y.value.length} values but x has ${x.length}`);
  return interpRowsDual(x, y, 1, xq, bc);
}

/** Value rows splined once (second derivatives cached) for repeated evaluation at different queries. */
export interface PreparedRows {
  readonly x: Float64Array;
  readonly y: Float64Array;
  readonly m: Float64Array;
  readonly nRows: number;
}

export function prepareRows(x: Float64Array, y: Float64Array, nRows: number, bc: SplineBC = 'not-a-knot'): PreparedRows {
  const nx = x.length;
  if (y.length !== nRows * nx) throw new Error(`prepareRows: y has ${y.length} values, expected nRows*nx = ${nRows}*${nx}`);
  const f = splineFactor(x, bc);
  const m = new Float64Array(nRows * nx);
  for (let r = 0; r < nRows; r++) solveSecondDerivs(f, y, r * nx, m, r * nx);
  return { x, y, m, nRows };
}

/** All prepared rows at the queries xq: nRows*nq values, row-major. */
export function evalPreparedRows(p: PreparedRows, xq: Float64Array): Float64Array {
  const out = new Float64Array(p.nRows * xq.length);
  evalRows(queryGeometry(p.x, xq), p.x.length, p.y, p.m, p.nRows, out);
  return out;
}
