import { describe, expect, it } from 'vitest';
import { gaussLegendre, gaussLegendreRule } from '../../../core/numerics/gauss-legendre.js';

const dot = (w: Float64Array, x: Float64Array, f: (t: number) => number) => {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += w[i] * f(x[i]);
  return s;
};

describe('gaussLegendre', () => {
  it('matches the closed forms for n = 3 and n = 5 (A&S 25.4.29 table) to 1e-15', () => {
    const g3 = gaussLegendre(3);
    expect(g3.x[2]).toBeCloseTo(Math.sqrt(3 / 5), 15);
    expect(g3.x[1]).toBe(0);
    expect(g3.w[0]).toBeCloseTo(5 / 9, 15);
    expect(g3.w[1]).toBeCloseTo(8 / 9, 15);
    const g5 = gaussLegendre(5);
    const s = 2 * Math.sqrt(10 / 7);
    expect(g5.x[4]).toBeCloseTo(Math.sqrt(5 + s) / 3, 15);
    expect(g5.x[3]).toBeCloseTo(Math.sqrt(5 - s) / 3, 15);
    expect(g5.w[4]).toBeCloseTo((322 - 13 * Math.sqrt(70)) / 900, 15);
    expect(g5.w[3]).toBeCloseTo((322 + 13 * Math.sqrt(70)) / 900, 15);
    expect(g5.w[2]).toBeCloseTo(128 / 225, 15);
    expect(g5.x[0]).toBe(-g5.x[4]);
  });

  it('the n-point rule is exact for degree 2n-1 and not for degree 2n (P_n^2)', () => {
    for (const n of [1, 2, 3, 4, 7, 10, 16, 33, 64]) {
      const { x, w } = gaussLegendre(n);
      // int_{-1}^{1} ((1+t)/2)^k dt = 2/(k+1)
      const k = 2 * n - 1;
      const exact = dot(w, x, (t) => ((1 + t) / 2) ** k);
      expect(Math.abs(exact - 2 / (k + 1)) / (2 / (k + 1))).toBeLessThan(1e-13);
      // degree 2n: P_n^2 vanishes at the nodes, so the rule gives 0 instead of 2/(2n+1)
      const pn = (t: number) => {
        let p0 = 1, p1 = t;
        for (let j = 1; j < n; j++) [p0, p1] = [p1, ((2 * j + 1) * t * p1 - j * p0) / (j + 1)];
        return p1;
      };
      expect(Math.abs(dot(w, x, (t) => pn(t) ** 2))).toBeLessThan(1e-20);
      // nodes ascending inside (-1, 1)
      for (let i = 1; i < n; i++) expect(x[i]).toBeGreaterThan(x[i - 1]);
    }
  });

  it('large n stays accurate (n = 500: weights sum to 2, exp integrated to 1e-14)', () => {
    const { x, w } = gaussLegendre(500);
    let sw = 0;
    for (const v of w) sw += v;
    expect(Math.abs(sw - 2)).toBeLessThan(1e-13);
    expect(Math.abs(dot(w, x, Math.exp) - (Math.E - 1 / Math.E))).toBeLessThan(1e-14 * Math.E);
    expect(x[0]).toBeGreaterThan(-1);
  });

  it('converges exponentially for an analytic integrand (1/(1+t^2): rate rho^-2n, rho = 1 + sqrt 2)', () => {
    const errs = [2, 4, 6, 8, 10].map((n) => {
      const { x, w } = gaussLegendre(n);
      return Math.abs(dot(w, x, (t) => 1 / (1 + t * t)) - Math.PI / 2);
    });
    const rho4 = (1 + Math.SQRT2) ** -4; // predicted ratio per +2 nodes
    for (let i = 1; i < errs.length; i++) {
      const ratio = errs[i] / errs[i - 1];
      expect(ratio).toBeGreaterThan(rho4 / 3);
      expect(ratio).toBeLessThan(rho4 * 3);
    }
  });

  it('composite rule on [a, b] and returned arrays are independent copies', () => {
    const r = gaussLegendreRule(1, 3, 8, 4);
    expect(r.x.length).toBe(32);
    expect(Math.abs(dot(r.w, r.x, (t) => 1 / t) - Math.log(3))).toBeLessThan(1e-14);
    const g = gaussLegendre(4);
    g.x[0] = 99;
    expect(gaussLegendre(4).x[0]).not.toBe(99);
    expect(() => gaussLegendre(0)).toThrow(/integer >= 1/);
  });
});
