import { describe, expect, it } from 'vitest';
import {
  cubicSpline,
  findInterval,
  splineDeriv,
  splineEval,
  splineEvalMany,
  splineFactor,
  splineIntegral,
  splineSecondDerivs,
} from '../../../core/numerics/spline.js';

const linspace = (a: number, b: number, n: number) => Float64Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
/** Deterministic pseudo-random numbers in [0, 1) (LCG), so failures are reproducible. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (1664525 * s + 1013904223) >>> 0) / 2 ** 32);
}
const fine = linspace(0, Math.PI, 2001);
const maxErr = (f: (x: number) => number, g: (x: number) => number) => {
  let e = 0;
  for (const t of fine) e = Math.max(e, Math.abs(f(t) - g(t)));
  return e;
};

describe('cubicSpline', () => {
  it('not-a-knot reproduces a cubic exactly on a non-uniform grid (values, derivative, integral)', () => {
    const p = (t: number) => 2 - 3 * t + 0.5 * t * t + 1.25 * t ** 3;
    const dp = (t: number) => -3 + t + 3.75 * t * t;
    const Pint = (t: number) => 2 * t - 1.5 * t * t + t ** 3 / 6 + (1.25 * t ** 4) / 4;
    const x = Float64Array.from([-1, -0.7, -0.1, 0.05, 0.6, 1.3, 2]);
    const s = cubicSpline(x, x.map(p));
    for (const t of linspace(-1.5, 2.5, 97)) {
      // includes extrapolation with the end cubics, which are the same cubic
      expect(splineEval(s, t)).toBeCloseTo(p(t), 12);
      expect(splineDeriv(s, t)).toBeCloseTo(dp(t), 11);
    }
    expect(splineIntegral(s, -0.9, 1.7)).toBeCloseTo(Pint(1.7) - Pint(-0.9), 12);
    expect(splineIntegral(s, 1.7, -0.9)).toBeCloseTo(Pint(-0.9) - Pint(1.7), 12);
    expect(splineIntegral(s, 0.1, 0.2)).toBeCloseTo(Pint(0.2) - Pint(0.1), 13);
  });

  it('not-a-knot on exactly 4 points is the interpolating cubic', () => {
    const p = (t: number) => 1 + t - 2 * t ** 3;
    const x = Float64Array.from([0, 0.3, 1.1, 2]);
    const s = cubicSpline(x, x.map(p));
    for (const t of linspace(0, 2, 21)) expect(splineEval(s, t)).toBeCloseTo(p(t), 12);
  });

  it('natural spline: S\'\' = 0 at both ends, C2 at the knots, exact for straight lines', () => {
    const x = Float64Array.from([0, 0.2, 0.5, 0.9, 1.4, 2.0, 2.2]);
    const s = cubicSpline(x, x.map(Math.exp), 'natural');
    expect(s.m[0]).toBe(0);
    expect(s.m[x.length - 1]).toBe(0);
    // S'' from the spline's own derivative by central differences at the ends: ~0
    const d = 1e-5;
    expect(Math.abs((splineDeriv(s, x[0] + d) - splineDeriv(s, x[0])) / d)).toBeLessThan(1e-3);
    expect(Math.abs((splineDeriv(s, 2.2) - splineDeriv(s, 2.2 - d)) / d)).toBeLessThan(1e-3);
    // S' continuous across interior knots (left and right interval formulas agree)
    for (let i = 1; i < x.length - 1; i++) expect(splineDeriv(s, x[i] + 1e-9) - splineDeriv(s, x[i] - 1e-9)).toBeCloseTo(0, 6);
    const line = cubicSpline(x, x.map((t) => 3 - 2 * t), 'natural');
    for (const t of linspace(0, 2.2, 23)) expect(splineEval(line, t)).toBeCloseTo(3 - 2 * t, 13);
  });

  it('interpolates sin at 4th order, its derivative at 3rd and its integral at 4th', () => {
    const ns = [11, 21, 41, 81];
    const ev: number[] = [], ed: number[] = [], ei: number[] = [];
    for (const n of ns) {
      const x = linspace(0, Math.PI, n);
      const s = cubicSpline(x, x.map(Math.sin));
      ev.push(maxErr((t) => splineEval(s, t), Math.sin));
      ed.push(maxErr((t) => splineDeriv(s, t), Math.cos));
      ei.push(Math.abs(splineIntegral(s, 0.3, 2.9) - (Math.cos(0.3) - Math.cos(2.9))));
    }
    const orders = (e: number[]) => e.slice(1).map((v, i) => Math.log2(e[i] / v));
    for (const o of orders(ev)) expect(o).toBeGreaterThan(3.7);
    for (const o of orders(ed)) expect(o).toBeGreaterThan(2.7);
    for (const o of orders(ei)) expect(o).toBeGreaterThan(3.5);
    expect(ev[3]).toBeLessThan(2e-7);
  });

  it('a reused SplineFactor gives the same second derivatives as a fresh solve', () => {
    const r = rng(7);
    const x = Float64Array.from({ length: 30 }, (_, i) => i + 0.8 * r());
    const f = splineFactor(x, 'not-a-knot');
    const out = new Float64Array(30);
    for (let k = 0; k < 3; k++) {
      const y = Float64Array.from({ length: 30 }, () => r());
      splineSecondDerivs(f, y, 'not-a-knot', out);
      const fresh = cubicSpline(x, y).m;
      for (let i = 0; i < 30; i++) expect(out[i]).toBeCloseTo(fresh[i], 12);
      // and the spline interpolates the data
      for (let i = 0; i < 30; i++) expect(splineEval({ x, y, m: out }, x[i])).toBeCloseTo(y[i], 12);
    }
  });

  it('rejects a non-ascending or too short grid with a clear message', () => {
    expect(() => cubicSpline(Float64Array.from([0, 1, 1, 2]), new Float64Array(4))).toThrow(/strictly ascending.*x\[2\] = 1 <= x\[1\] = 1/);
    expect(() => cubicSpline(Float64Array.from([0, 1, 2]), new Float64Array(3))).toThrow(/not-a-knot.*at least 4/);
    expect(() => cubicSpline(Float64Array.from([0, 1, 2, 3]), new Float64Array(3))).toThrow(/y has 3 values but x has 4/);
    expect(() => cubicSpline(Float64Array.from([0, 1, 2, 3]), Float64Array.from([0, NaN, 1, 1]))).toThrow(/y\[1\] = NaN/);
    expect(cubicSpline(Float64Array.from([0, 1]), Float64Array.from([1, 3]), 'natural').m).toEqual(new Float64Array(2));
  });
});

describe('findInterval', () => {
  it('matches a linear scan for random queries and any hint, clamped at the ends', () => {
    const r = rng(3);
    const x = Float64Array.from({ length: 50 }, (_, i) => i * i * 0.01 + i * 0.1);
    const brute = (q: number) => {
      let i = 0;
      while (i < x.length - 2 && q >= x[i + 1]) i++;
      return i;
    };
    for (let k = 0; k < 2000; k++) {
      const q = -1 + r() * (x[49] + 2);
      const hint = Math.floor(r() * 60) - 5;
      expect(findInterval(x, q, hint)).toBe(brute(q));
    }
    expect(findInterval(x, x[10])).toBe(10);
    expect(findInterval(x, x[49])).toBe(48);
    expect(findInterval(x, -5)).toBe(0);
  });

  it('splineEvalMany (moving hint) equals pointwise evaluation', () => {
    const x = linspace(0, 1, 40);
    const s = cubicSpline(x, x.map((t) => Math.exp(-3 * t) * Math.cos(9 * t)));
    const q = linspace(-0.1, 1.1, 333);
    const many = splineEvalMany(s, q);
    for (let j = 0; j < q.length; j++) expect(many[j]).toBe(splineEval(s, q[j]));
  });
});
