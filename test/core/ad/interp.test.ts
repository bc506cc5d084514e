import { describe, expect, it } from 'vitest';
import { fromBlocks, constArray, tangentBlock, type DualArray } from '../../../core/ad/dual-array.js';
import { interpDual, interpRowsDual } from '../../../core/ad/interp.js';
import { cubicSpline, splineEvalMany } from '../../../core/numerics/spline.js';
import { centralFD, relDiff } from './fd.js';

const nx = 40;
const x = Float64Array.from({ length: nx }, (_, i) => 0.1 + 3 * (i / (nx - 1)) ** 1.3);
const theta0 = [0.9, 1.4];
/** y(x; theta) = theta_1 sin(theta_0 x) + theta_0^2 x */
const yFn = (t: number[], xi: number) => t[1] * Math.sin(t[0] * xi) + t[0] * t[0] * xi;
const yDer = (t: number[], xi: number, p: number) => (p === 0 ? t[1] * xi * Math.cos(t[0] * xi) + 2 * t[0] * xi : Math.sin(t[0] * xi));
const yArr = (t: number[], w: boolean, grid = x): DualArray => {
  const value = grid.map((xi) => yFn(t, xi));
  return w ? fromBlocks(value, 2, (p, b) => grid.forEach((xi, i) => (b[i] = yDer(t, xi, p)))) : constArray(value);
};
const q0 = Float64Array.from([0.1, 0.33, 0.7, 1.234, 2.0, 2.5, 3.05, 3.3]); // last one extrapolates
/** queries moving with theta: xq_j = q0_j (1 + 0.1 theta_0 - 0.05 theta_1) */
const qArr = (t: number[], w: boolean): DualArray => {
  const f = 1 + 0.1 * t[0] - 0.05 * t[1];
  const value = q0.map((v) => v * f);
  return w ? fromBlocks(value, 2, (p, b) => q0.forEach((v, j) => (b[j] = v * (p === 0 ? 0.1 : -0.05)))) : constArray(value);
};

describe('interpDual', () => {
  it('values equal the scalar spline; tangents match central finite differences (fixed queries)', () => {
    const r = interpDual(x, yArr(theta0, true), q0);
    const ref = splineEvalMany(cubicSpline(x, yArr(theta0, false).value), q0);
    expect(relDiff(r.value, ref)).toBeLessThan(1e-15);
    const fd = centralFD((t) => interpDual(x, yArr(t, false), q0).value, theta0);
    for (let p = 0; p < 2; p++) expect(relDiff(tangentBlock(r, p), fd[p], 1)).toBeLessThan(1e-7);
  });

  it('adds the chain-rule term when the queries carry tangents', () => {
    const r = interpDual(x, yArr(theta0, true), qArr(theta0, true));
    const fd = centralFD((t) => interpDual(x, yArr(t, false), qArr(t, false).value).value, theta0);
    for (let p = 0; p < 2; p++) expect(relDiff(tangentBlock(r, p), fd[p], 1)).toBeLessThan(1e-7);
    // constant y, moving queries: tangent = S'(xq) dxq only
    const rc = interpDual(x, yArr(theta0, false), qArr(theta0, true));
    expect(rc.P).toBe(2);
    const fdc = centralFD((t) => interpDual(x, yArr(theta0, false), qArr(t, false).value).value, theta0);
    for (let p = 0; p < 2; p++) expect(relDiff(tangentBlock(rc, p), fdc[p], 1)).toBeLessThan(1e-7);
  });

  it('tangents approach the analytic derivative of the interpolated function (independent check)', () => {
    const fineX = Float64Array.from({ length: 400 }, (_, i) => 0.1 + (3 * i) / 399);
    const r = interpDual(fineX, yArr(theta0, true, fineX), qArr(theta0, true));
    const q = qArr(theta0, false).value;
    for (let j = 0; j < q.length - 1; j++) {
      const xi = q[j];
      const dydx = theta0[1] * theta0[0] * Math.cos(theta0[0] * xi) + theta0[0] ** 2;
      for (let p = 0; p < 2; p++) {
        const dq = q0[j] * (p === 0 ? 0.1 : -0.05);
        expect(r.tangent![p * q.length + j]).toBeCloseTo(yDer(theta0, xi, p) + dydx * dq, 6) // spline error in S' ~ h^3;
      }
    }
  });

  it('constant inputs give a constant output; mismatched sizes are errors', () => {
    expect(interpDual(x, yArr(theta0, false), q0).tangent).toBeNull();
    expect(() => interpDual(x, constArray(new Float64Array(3)), q0)).toThrow(/y has 3 values but x has 40/);
    const y3 = fromBlocks(new Float64Array(nx), 3, () => {});
    expect(() => interpDual(x, y3, qArr(theta0, true))).toThrow(/tangent sizes differ/);
  });
});

describe('interpRowsDual', () => {
  it('equals interpDual row by row, tangents laid out parameter-major', () => {
    const nRows = 3;
    const thetas = [theta0, [1.1, 0.5], [0.3, 2.0]];
    const rows = thetas.map((t) => yArr(t, true));
    const value = new Float64Array(nRows * nx), tangent = new Float64Array(2 * nRows * nx);
    rows.forEach((r, k) => {
      value.set(r.value, k * nx);
      for (let p = 0; p < 2; p++) tangent.set(tangentBlock(r, p), p * nRows * nx + k * nx);
    });
    const q = qArr(theta0, true);
    const out = interpRowsDual(x, { value, tangent, P: 2 }, nRows, q);
    const nq = q0.length;
    expect(out.value.length).toBe(nRows * nq);
    rows.forEach((r, k) => {
      const single = interpDual(x, r, q);
      for (let j = 0; j < nq; j++) {
        expect(out.value[k * nq + j]).toBeCloseTo(single.value[j], 14);
        for (let p = 0; p < 2; p++) expect(out.tangent![p * nRows * nq + k * nq + j]).toBeCloseTo(single.tangent![p * nq + j], 13);
      }
    });
    expect(() => interpRowsDual(x, { value, tangent, P: 2 }, 2, q0)).toThrow(/expected nRows\*nx = 2\*40/);
  });
});
