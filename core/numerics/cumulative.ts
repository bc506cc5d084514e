/**
 * Cumulative integrals F(x_i) = int_{x_0}^{x_i} y dx on a possibly non-uniform grid, 4th order.
 *
 * Each interval [x_i, x_{i+1}] is integrated exactly for the cubic through the four nearest nodes
 * (x_{i-1}..x_{i+2}, shifted inwards at the ends): local error O(h^5), global O(h^4), exact for cubics.
 * The per-interval weights depend on x only, so they are computed once and applied to every row
 * (many kernels on one z grid, or the tangent blocks of a DualArray).
 */
import type { DualArray } from '../ad/dual-array.js';
import { checkGrid } from './spline.js';

/**
 * Weights W (4 per interval) and the first node index s_i with
 * int_{x_i}^{x_{i+1}} y dx ~ sum_k W[4i+k] y[s_i + k]. For n = 3 (one quadratic) and n = 2 (trapezoid)
 * the unused weights are 0.
 */
export function cumulativeWeights(x: Float64Array): { w: Float64Array; start: Int32Array } {
  checkGrid(x, 2, 'cumulativeSimpson');
  const n = x.length;
  const w = new Float64Array(4 * (n - 1));
  const start = new Int32Array(n - 1);
  const npt = Math.min(n, 4);
  for (let i = 0; i < n - 1; i++) {
    const s = Math.min(Math.max(i - 1, 0), n - npt);
    start[i] = s;
    const h = x[i + 1] - x[i];
    // Lagrange basis on nodes u_k = x_{s+k} - x_i, integrated over u in [0, h]
    for (let k = 0; k < npt; k++) {
      const uk = x[s + k] - x[i];
      // numerator prod_{l != k} (u - u_l): expand as polynomial in u
      let c0 = 1, c1 = 0, c2 = 0, c3 = 0; // coefficients of u^0..u^3
      let den = 1;
      for (let l = 0; l < npt; l++) {
        if (l === k) continue;
        const ul = x[s + l] - x[i];
        // multiply by (u - ul)
        c3 = c2 - ul * c3;
        c2 = c1 - ul * c2;
        c1 = c0 - ul * c1;
        c0 = -ul * c0;
        den *= uk - ul;
      }
      const h2 = h * h;
      w[4 * i + k] = (c0 * h + (c1 * h2) / 2 + (c2 * h2 * h) / 3 + (c3 * h2 * h2) / 4) / den;
    }
  }
  return { w, start };
}

/** Apply the weights to nRows rows of length n stored contiguously in y (row r at r*n), into out. */
export function applyCumulative(W: { w: Float64Array; start: Int32Array }, y: Float64Array, nRows: number, out: Float64Array): void {
  const n = W.start.length + 1;
  const { w, start } = W;
  for (let r = 0, o = 0; r < nRows; r++, o += n) {
    let acc = 0;
    out[o] = 0;
    for (let i = 0; i < n - 1; i++) {
      const s = o + start[i];
      const b = 4 * i;
      acc += w[b] * y[s] + w[b + 1] * y[s + 1] + (n > 2 ? w[b + 2] * y[s + 2] : 0) + (n > 3 ? w[b + 3] * y[s + 3] : 0);
      out[o + i + 1] = acc;
    }
  }
}

/** Cumulative integral of y from x[0] on the grid x (out[0] = 0). */
export function cumulativeSimpson(x: Float64Array, y: Float64Array, out?: Float64Array): Float64Array {
  if (y.length !== x.length) throw new Error(`cumulativeSimpson: y has ${y.length} values but x has ${x.length}`);
  const r = out ?? new Float64Array(x.length);
  applyCumulative(cumulativeWeights(x), y, 1, r);
  return r;
}

/** Cumulative integrals of nRows rows (row-major nRows*n) sharing the grid x. */
export function cumulativeSimpsonRows(x: Float64Array, y: Float64Array, nRows: number, out?: Float64Array): Float64Array {
  if (y.length !== x.length * nRows)
    throw new Error(`cumulativeSimpsonRows: y has ${y.length} values, expected nRows*n = ${nRows}*${x.length}`);
  const r = out ?? new Float64Array(y.length);
  applyCumulative(cumulativeWeights(x), y, nRows, r);
  return r;
}

/**
 * Cumulative integral of a DualArray (nRows rows of length n on the grid x): linear in y, so each
 * tangent block is integrated with the same weights.
 */
export function cumulativeSimpsonDual(x: Float64Array, y: DualArray, nRows = 1): DualArray {
  const N = x.length * nRows;
  if (y.value.length !== N) throw new Error(`cumulativeSimpsonDual: y has ${y.value.length} values, expected nRows*n = ${nRows}*${x.length}`);
  const W = cumulativeWeights(x);
  const value = new Float64Array(N);
  applyCumulative(W, y.value, nRows, value);
  if (!y.tangent) return { value, tangent: null, P: 0 };
  const tangent = new Float64Array(y.P * N);
  applyCumulative(W, y.tangent, nRows * y.P, tangent);
  return { value, tangent, P: y.P };
}
