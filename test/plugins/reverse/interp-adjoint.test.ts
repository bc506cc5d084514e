/**
 * The transposed cubic spline (core/ad/interp-adjoint.ts) against the forward spline of core/ad/interp.ts: for
 * random data y and query bars qbar, qbar . S(y) = (S^T qbar) . y, since S is linear in y. Both end conditions,
 * non-uniform grids, the smallest grids (n = 4 not-a-knot, n = 2 and 3 natural) and queries outside the grid.
 */
import { describe, expect, it } from 'vitest';
import { interpRowsDual } from '../../../core/ad/interp.js';
import { interpRowsAdjoint } from '../../../core/ad/interp-adjoint.js';
import type { SplineBC } from '../../../core/numerics/spline.js';
import { randomStream } from './harness.js';

function dotTest(nx: number, nq: number, nRows: number, bc: SplineBC, seed: number) {
  const rnd = randomStream(seed);
  const x = new Float64Array(nx);
  for (let i = 1; i < nx; i++) x[i] = x[i - 1] + 0.2 + Math.abs(rnd()); // non-uniform
  const span = x[nx - 1] - x[0];
  const xq = Float64Array.from({ length: nq }, () => x[0] - 0.1 * span + 1.2 * span * (0.5 + 0.5 * rnd())).sort();
  const y = Float64Array.from({ length: nRows * nx }, () => rnd());
  const qbar = Float64Array.from({ length: nRows * nq }, () => rnd());
  const S = interpRowsDual(x, { value: y, tangent: null, P: 0 }, nRows, xq, bc).value;
  const ybar = new Float64Array(nRows * nx);
  interpRowsAdjoint(x, nRows, xq, qbar, ybar, bc);
  let lhs = 0, rhs = 0, scale = 0;
  for (let i = 0; i < S.length; i++) { lhs += qbar[i] * S[i]; scale += Math.abs(qbar[i] * S[i]); }
  for (let i = 0; i < y.length; i++) rhs += ybar[i] * y[i];
  return Math.abs(lhs - rhs) / scale;
}

describe('transposed cubic-spline interpolation', () => {
  for (const bc of ['not-a-knot', 'natural'] as const)
    for (const nx of bc === 'natural' ? [2, 3, 4, 9, 200] : [4, 5, 9, 200])
      it(`${bc}, ${nx} knots: qbar . S y = (S^T qbar) . y`, () => {
        const d = dotTest(nx, 37, 3, bc, nx * 7 + (bc === 'natural' ? 1 : 0));
        expect(d).toBeLessThan(1e-13);
      });

  it('can fail: the transpose with the wrong end conditions is detected', () => {
    // forward not-a-knot, transpose natural: they differ only through the end rows of the spline system
    const rnd = randomStream(99);
    const x = Float64Array.from({ length: 20 }, (_, i) => i + 0.3 * rnd());
    const xq = Float64Array.from({ length: 30 }, (_, i) => 0.5 + (18 * i) / 29);
    const y = Float64Array.from(x, () => rnd());
    const qbar = Float64Array.from(xq, () => rnd());
    const S = interpRowsDual(x, { value: y, tangent: null, P: 0 }, 1, xq, 'not-a-knot').value;
    const dot = (bc: SplineBC) => {
      const ybar = new Float64Array(20);
      interpRowsAdjoint(x, 1, xq, qbar, ybar, bc);
      return ybar.reduce((s, b, i) => s + b * y[i], 0);
    };
    const lhs = qbar.reduce((s, q, i) => s + q * S[i], 0);
    expect(Math.abs(lhs - dot('not-a-knot'))).toBeLessThan(1e-12 * Math.abs(lhs));
    expect(Math.abs(lhs - dot('natural'))).toBeGreaterThan(1e-4 * Math.abs(lhs));
  });
});
