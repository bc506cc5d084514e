import { describe, expect, it } from 'vitest';
import { cumulativeSimpson, cumulativeSimpsonDual, cumulativeSimpsonRows } from '../../../core/numerics/cumulative.js';

/** Non-uniform grid on [0, L]: x = L t^2 (+ linear part), t uniform. */
const grid = (n: number, L = Math.PI) => Float64Array.from({ length: n }, (_, i) => {
  const t = i / (n - 1);
  return L * (0.5 * t + 0.5 * t * t);
});

describe('cumulativeSimpson', () => {
  it('is exact for cubics on a non-uniform grid', () => {
    const x = Float64Array.from([0, 0.1, 0.35, 0.4, 0.9, 1.0, 1.7, 2.5]);
    const F = (t: number) => 0.5 * t - t ** 3 / 3 + 0.25 * t ** 4; // integral of 0.5 - t^2 + t^3
    const out = cumulativeSimpson(x, x.map((t) => 0.5 - t * t + t ** 3));
    for (let i = 0; i < x.length; i++) expect(out[i]).toBeCloseTo(F(x[i]), 14);
  });

  it('is exact for n = 2 (linear) and n = 3 (quadratic)', () => {
    expect(cumulativeSimpson(Float64Array.from([1, 3]), Float64Array.from([2, 4]))[1]).toBeCloseTo(6, 14);
    const x = Float64Array.from([0, 0.4, 1]);
    const out = cumulativeSimpson(x, x.map((t) => t * t));
    expect(out[1]).toBeCloseTo(0.4 ** 3 / 3, 14);
    expect(out[2]).toBeCloseTo(1 / 3, 14);
  });

  it('converges at 4th order for sin on a non-uniform grid', () => {
    const errs = [21, 41, 81, 161].map((n) => {
      const x = grid(n);
      const out = cumulativeSimpson(x, x.map(Math.sin));
      let e = 0;
      for (let i = 0; i < n; i++) e = Math.max(e, Math.abs(out[i] - (1 - Math.cos(x[i]))));
      return e;
    });
    for (let i = 1; i < errs.length; i++) expect(Math.log2(errs[i - 1] / errs[i])).toBeGreaterThan(3.7);
  });

  it('rows and DualArray tangents: d/dtheta int_0^X e^(theta t) dt', () => {
    const theta = 0.7, x = grid(201, 2);
    const n = x.length;
    const y = x.map((t) => Math.exp(theta * t));
    const dy = x.map((t) => t * Math.exp(theta * t));
    const r = cumulativeSimpsonDual(x, { value: y, tangent: dy, P: 1 });
    for (const i of [50, 120, 200]) {
      const X = x[i], e = Math.exp(theta * X);
      expect(r.value[i]).toBeCloseTo((e - 1) / theta, 8);
      expect(r.tangent![i]).toBeCloseTo((X * e) / theta - (e - 1) / theta ** 2, 8);
    }
    // two rows at once equal two single calls
    const rows = new Float64Array(2 * n);
    rows.set(y, 0);
    rows.set(dy, n);
    const both = cumulativeSimpsonRows(x, rows, 2);
    expect(Array.from(both.subarray(n))).toEqual(Array.from(r.tangent!));
    expect(() => cumulativeSimpson(Float64Array.from([0, 2, 1]), new Float64Array(3))).toThrow(/strictly ascending/);
  });
});
