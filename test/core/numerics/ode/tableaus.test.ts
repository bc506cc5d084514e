/**
 * The coefficient tables are checked against the theory they come from, so a mistyped digit fails:
 * Runge-Kutta order conditions (Butcher trees up to order 5) for Tsit5, its embedded pair and its
 * continuous extension; the stability functions of rodas4 (order 4, L-stable) and Tsit5's real stability
 * boundary; and the dense LU.
 */
import { describe, expect, it } from 'vitest';
import { tsit5DenseWeights } from '../../../../core/numerics/ode/dense-output.js';
import { DenseLU } from '../../../../core/numerics/ode/dense-lu.js';
import { RODAS4 } from '../../../../core/numerics/ode/rosenbrock.js';
import { TSIT5_A, TSIT5_B, TSIT5_C, TSIT5_E, TSIT5_REAL_STABILITY } from '../../../../core/numerics/ode/tsit5.js';

const s = 7;
const A = (i: number, j: number) => (j < i ? TSIT5_A[i][j] : 0);
const C = TSIT5_C;

/** Residuals of the order conditions up to order p for weights b (Butcher trees, HNW I, II.2). */
function orderResiduals(b: number[], p: number, theta = 1): number[] {
  const sum = (f: (i: number) => number) => { let v = 0; for (let i = 0; i < s; i++) v += f(i); return v; };
  const Ac = (i: number) => { let v = 0; for (let j = 0; j < s; j++) v += A(i, j) * C[j]; return v; };
  const Ac2 = (i: number) => { let v = 0; for (let j = 0; j < s; j++) v += A(i, j) * C[j] ** 2; return v; };
  const AAc = (i: number) => { let v = 0; for (let j = 0; j < s; j++) v += A(i, j) * Ac(j); return v; };
  const Ac3 = (i: number) => { let v = 0; for (let j = 0; j < s; j++) v += A(i, j) * C[j] ** 3; return v; };
  const AcAc = (i: number) => { let v = 0; for (let j = 0; j < s; j++) v += A(i, j) * C[j] * Ac(j); return v; };
  const AAc2 = (i: number) => { let v = 0; for (let j = 0; j < s; j++) v += A(i, j) * Ac2(j); return v; };
  const AAAc = (i: number) => { let v = 0; for (let j = 0; j < s; j++) v += A(i, j) * AAc(j); return v; };
  const T = theta;
  const r: number[] = [];
  if (p >= 1) r.push(sum((i) => b[i]) - T);
  if (p >= 2) r.push(sum((i) => b[i] * C[i]) - T ** 2 / 2);
  if (p >= 3) r.push(sum((i) => b[i] * C[i] ** 2) - T ** 3 / 3, sum((i) => b[i] * Ac(i)) - T ** 3 / 6);
  if (p >= 4)
    r.push(
      sum((i) => b[i] * C[i] ** 3) - T ** 4 / 4,
      sum((i) => b[i] * C[i] * Ac(i)) - T ** 4 / 8,
      sum((i) => b[i] * Ac2(i)) - T ** 4 / 12,
      sum((i) => b[i] * AAc(i)) - T ** 4 / 24,
    );
  if (p >= 5)
    r.push(
      sum((i) => b[i] * C[i] ** 4) - T ** 5 / 5,
      sum((i) => b[i] * C[i] ** 2 * Ac(i)) - T ** 5 / 10,
      sum((i) => b[i] * Ac(i) ** 2) - T ** 5 / 20,
      sum((i) => b[i] * C[i] * Ac2(i)) - T ** 5 / 15,
      sum((i) => b[i] * Ac3(i)) - T ** 5 / 20,
      sum((i) => b[i] * C[i] * AAc(i)) - T ** 5 / 30,
      sum((i) => b[i] * AcAc(i)) - T ** 5 / 40,
      sum((i) => b[i] * AAc2(i)) - T ** 5 / 60,
      sum((i) => b[i] * AAAc(i)) - T ** 5 / 120,
    );
  return r;
}

describe('tsit5 tableau (Tsitouras 2011)', () => {
  it('row sums equal c, and the 5th-order weights satisfy all 17 conditions up to order 5', () => {
    for (let i = 1; i < s; i++) expect(Math.abs(TSIT5_A[i].reduce((a, v) => a + v, 0) - C[i])).toBeLessThan(1e-14);
    for (const r of orderResiduals(TSIT5_B, 5)) expect(Math.abs(r)).toBeLessThan(1e-13);
  });

  it('the embedded weights bhat = b - E are of order 4 but not 5; sum E = 0', () => {
    const bhat = TSIT5_B.map((b, i) => b - TSIT5_E[i]);
    expect(Math.abs(TSIT5_E.reduce((a, v) => a + v, 0))).toBeLessThan(1e-14);
    for (const r of orderResiduals(bhat, 4)) expect(Math.abs(r)).toBeLessThan(1e-12);
    const r5 = orderResiduals(bhat, 5).slice(8);
    expect(Math.max(...r5.map(Math.abs))).toBeGreaterThan(1e-4);
  });

  it('the continuous extension b(theta) meets the order-4 conditions for every theta and b(1) = b', () => {
    const w = new Float64Array(7);
    for (const th of [0.1, 0.37, 0.5, 0.81, 1]) {
      tsit5DenseWeights(th, w);
      for (const r of orderResiduals(Array.from(w), 4, th)) expect(Math.abs(r)).toBeLessThan(1e-12);
    }
    tsit5DenseWeights(1, w);
    for (let i = 0; i < 7; i++) expect(Math.abs(w[i] - TSIT5_B[i])).toBeLessThan(1e-13);
  });

  it('real stability boundary: |R(-x)| <= 1 up to TSIT5_REAL_STABILITY and > 1 just beyond', () => {
    // R(z) = 1 + z b^T (I - zA)^-1 1, A strictly lower triangular: forward substitution
    const R = (z: number) => {
      const g: number[] = [];
      for (let i = 0; i < s; i++) { let v = 1; for (let j = 0; j < i; j++) v += z * A(i, j) * g[j]; g.push(v); }
      return 1 + z * TSIT5_B.reduce((a, b, i) => a + b * g[i], 0);
    };
    expect(Math.abs(R(-TSIT5_REAL_STABILITY + 0.001))).toBeLessThanOrEqual(1);
    expect(Math.abs(R(-TSIT5_REAL_STABILITY - 0.01))).toBeGreaterThan(1);
    expect(Math.abs(R(-1e-2) - Math.exp(-1e-2))).toBeLessThan(1e-13); // order 5: error ~ z^6
  });
});

describe('rodas4 coefficients (Hairer & Wanner, RODAS)', () => {
  // one step of the transformed scheme on y' = lambda y with z = h lambda:
  // (1/gamma - z) u_i = z (y + sum a_ij u_j) + sum c_ij u_j
  const step = (z: number) => {
    const { gamma, a, C: Cm } = RODAS4;
    const u: number[] = [];
    let arg = 1;
    for (let i = 0; i < 6; i++) {
      if (i < 5) { arg = 1; for (let j = 0; j < i; j++) arg += a[i][j] * u[j]; }
      else arg += u[4];
      let rhs = z * arg;
      for (let j = 0; j < i; j++) rhs += Cm[i][j] * u[j];
      u.push(rhs / (1 / gamma - z));
    }
    return { y1: arg + u[5], embedded: arg };
  };

  it('the stability function agrees with exp(z) to order 4 (error ~ z^5), the embedded one to order 3', () => {
    for (const z of [0.02, -0.02, 0.04]) {
      const { y1, embedded } = step(z);
      expect(Math.abs(y1 - Math.exp(z))).toBeLessThan(2 * Math.abs(z) ** 5);
      expect(Math.abs(y1 - Math.exp(z))).toBeGreaterThan(0);
      expect(Math.abs(embedded - Math.exp(z))).toBeLessThan(2 * Math.abs(z) ** 4);
    }
    // halving z divides the error by ~2^5 = 32
    const e1 = Math.abs(step(0.04).y1 - Math.exp(0.04)), e2 = Math.abs(step(0.02).y1 - Math.exp(0.02));
    expect(e1 / e2).toBeGreaterThan(20);
    expect(e1 / e2).toBeLessThan(45);
  });

  it('is L-stable: |R(z)| <= 1 on the negative axis and R(-inf) = 0', () => {
    for (const z of [-0.5, -3, -30, -1e3, -1e6]) expect(Math.abs(step(z).y1)).toBeLessThanOrEqual(1);
    expect(Math.abs(step(-1e12).y1)).toBeLessThan(1e-9);
  });
});

describe('DenseLU', () => {
  it('solves a pivoting-requiring system to rounding and reports a singular matrix', () => {
    const n = 4;
    const M = [0, 2, 1, 3, 1, 1, 0, 2, 4, -1, 3, 0, 2, 5, -2, 1];
    const lu = new DenseLU(n);
    lu.lu.set(M);
    expect(lu.factor()).toBe(true);
    const xTrue = [1, -2, 0.5, 3];
    const b = new Float64Array(n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) b[i] += M[i * n + j] * xTrue[j];
    const x = new Float64Array(n);
    lu.solve(b, 0, x, 0, new Float64Array(n));
    for (let i = 0; i < n; i++) expect(Math.abs(x[i] - xTrue[i])).toBeLessThan(1e-14);
    lu.lu.set([1, 2, 3, 4, 2, 4, 6, 8, 0, 1, 0, 1, 1, 0, 0, 1]); // row 2 = 2 row 1
    expect(lu.factor()).toBe(false);
    expect(lu.singularAt).toBeGreaterThanOrEqual(0);
  });
});
