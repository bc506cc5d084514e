/**
 * The maps to the unconstrained space (core/sampling/transforms.ts): round trips, dtheta/dx and the log-Jacobian
 * against central differences, the covariance map, and a change-of-variables check: the density of theta pushed
 * through the transform and its Jacobian integrates to 1 (quadrature over x).
 */
import { describe, expect, it } from 'vitest';
import { ParameterMap, transformFor } from '../../core/sampling/transforms.js';

const cases: [string, number, number, number[]][] = [
  ['two-sided (logit)', 0.2, 0.45, [0.21, 0.32, 0.449]],
  ['lower bound (log)', 0, Infinity, [1e-3, 0.816, 40]],
  ['upper bound (log)', -Infinity, -0.3, [-5, -1, -0.31]],
  ['none (identity)', -Infinity, Infinity, [-3, 0, 2.5]],
];

describe('transforms', () => {
  for (const [what, lo, hi, thetas] of cases)
    it(`${what}: round trip, derivative and log-Jacobian against central differences`, () => {
      const t = transformFor(lo, hi);
      for (const th of thetas) {
        const x = t.toUnconstrained(th);
        expect(t.toPhysical(x)).toBeCloseTo(th, 12);
        const h = 1e-5;
        const fd = (t.toPhysical(x + h) - t.toPhysical(x - h)) / (2 * h);
        // central differences: error O(h^2 f''') ~ 1e-10 relative here
        expect(Math.abs(t.derivative(x) - fd) / Math.abs(fd)).toBeLessThan(1e-8);
        expect(t.logJacobian(x)).toBeCloseTo(Math.log(Math.abs(t.derivative(x))), 12);
        const fdJ = (t.logJacobian(x + h) - t.logJacobian(x - h)) / (2 * h);
        expect(t.logJacobianGradient(x)).toBeCloseTo(fdJ, 8);
      }
    });

  it('never leaves the support, however far x goes', () => {
    const t = transformFor(0.2, 0.45);
    for (const x of [-800, -40, 40, 800]) {
      const th = t.toPhysical(x);
      expect(th).toBeGreaterThanOrEqual(0.2);
      expect(th).toBeLessThanOrEqual(0.45);
      expect(Number.isFinite(t.logJacobian(x))).toBe(true);
    }
    expect(transformFor(0, Infinity).toPhysical(-800)).toBeGreaterThanOrEqual(0);
  });

  it('change of variables: a density on [a, b] carried to x with its Jacobian still integrates to 1', () => {
    // a Beta(2, 3) density on [a, b] (normalised), integrated over x by the trapezoid rule on a wide grid
    const a = 0.2, b = 0.45, t = transformFor(a, b);
    const beta = (u: number) => 12 * u * (1 - u) ** 2; // 1/B(2,3) = 12
    const p = (th: number) => beta((th - a) / (b - a)) / (b - a);
    let s = 0;
    const dx = 1e-3;
    for (let x = -40; x <= 40; x += dx) s += p(t.toPhysical(x)) * Math.exp(t.logJacobian(x)) * dx;
    expect(s).toBeCloseTo(1, 6);
  });

  it('maps a covariance with the Jacobian at the point: C_x = D C D, D = diag(dx/dtheta)', () => {
    const map = new ParameterMap([{ lower: 0, upper: 1 }, { lower: 0, upper: Infinity }]);
    const theta = [0.25, 2];
    const x0 = map.toUnconstrained(theta);
    const C = Float64Array.of(0.01, 0.002, 0.002, 0.04);
    const Cx = map.covarianceToUnconstrained(C, x0);
    // dx/dtheta: logit 1/(u (1 - u)) at u = 0.25 -> 16/3; log 1/theta -> 1/2
    const d = [16 / 3, 0.5];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) expect(Cx[i * 2 + j]).toBeCloseTo(d[i] * C[i * 2 + j] * d[j], 12);
  });
});
