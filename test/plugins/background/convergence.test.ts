/**
 * Numerical convergence of background/w0wa, independent of any reference:
 * - the three integrator methods (newton-cotes, romberg, gauss-legendre) give the same distances to
 *   their configured tolerances (each grid interval converges to rtol relative, so the cumulative
 *   chi does too);
 * - the default tabulation (481 points uniform in ln(1+z), RK4 steps d ln a <= 0.01, i.e. 0.005 on the grid) interpolates
 *   chi, d_M, E, D, f to < 1e-7 relative at off-grid redshifts, against a 16x finer run.
 */
import { describe, expect, test } from 'vitest';
import type { Integrator } from '../../../core/numerics/integrator.js';
import { backgroundAt } from '../../../plugins/contracts/background-eval.js';
import { CLASS_W0WA, integrators, runBackground } from './harness.js';

const params = { ...CLASS_W0WA, Omega_k: 0.03 };

const maxRel = (a: Float64Array, b: Float64Array, from = 0) => {
  let m = 0;
  for (let i = from; i < a.length; i++) m = Math.max(m, Math.abs(a[i] / b[i] - 1));
  return m;
};

describe('distances agree across integrators to their tolerance', () => {
  const ref = integrators['gauss-legendre']();
  const bgRef = runBackground({ params, integrator: ref });
  const cases: [string, Integrator][] = [
    ['romberg (default rtol 1e-8)', integrators.romberg()],
    ['romberg rtol 1e-6', integrators.romberg({ rtol: 1e-6 })],
    ['newton-cotes simpson (default rtol 1e-8)', integrators['newton-cotes']()],
    ['newton-cotes trapezoid rtol 1e-6', integrators['newton-cotes']({ rule: 'trapezoid', rtol: 1e-6 })],
    ['newton-cotes boole rtol 1e-10', integrators['newton-cotes']({ rule: 'boole', rtol: 1e-10 })],
    ['gauss-legendre order 4 rtol 1e-7', integrators['gauss-legendre']({ order: 4, rtol: 1e-7 })],
  ];
  test.each(cases)('%s vs gauss-legendre (rtol 1e-10)', (_name, integ) => {
    const bg = runBackground({ params, integrator: integ });
    const tol = integ.rtol + ref.rtol;
    expect(maxRel(bg.chi_Mpc.value, bgRef.chi_Mpc.value, 1)).toBeLessThan(tol);
    expect(maxRel(bg.dM_Mpc.value, bgRef.dM_Mpc.value, 1)).toBeLessThan(tol);
    expect(maxRel(bg.tau_Mpc.value, bgRef.tau_Mpc.value)).toBeLessThan(tol);
    // E, D, f do not use the integrator: identical
    expect(maxRel(bg.D.value, bgRef.D.value)).toBe(0);
  });
  test('the fixed rules per grid interval are raised until they meet the adaptive check (trapezoid, rtol 1e-9)', () => {
    // one trapezoid panel per grid interval (d ln(1+z) = 0.005) is good to ~1e-6 only: the block check must raise
    // the level several times, and the result then agrees with gauss-legendre to the sum of the tolerances
    const integ = integrators['newton-cotes']({ rule: 'trapezoid', rtol: 1e-9, minPanels: 1 });
    const bg = runBackground({ params, integrator: integ });
    expect(maxRel(bg.chi_Mpc.value, bgRef.chi_Mpc.value, 1)).toBeLessThan(integ.rtol + ref.rtol);
  });
  test('the bound integrator is really used (a loose trapezoid rule differs measurably)', () => {
    const bg = runBackground({ params, integrator: integrators['newton-cotes']({ rule: 'trapezoid', rtol: 1e-3, minPanels: 1 }) });
    expect(maxRel(bg.chi_Mpc.value, bgRef.chi_Mpc.value, 1)).toBeGreaterThan(1e-9);
    expect(maxRel(bg.chi_Mpc.value, bgRef.chi_Mpc.value, 1)).toBeLessThan(2e-3);
  });
});

describe('tabulation grid and growth steps', () => {
  // off-grid redshifts, including the first interval where chi -> 0
  const zq = Float64Array.from({ length: 997 }, (_, i) => 0.0011 + (9.99 * i) / 997);
  const fine = backgroundAt(runBackground({ params, with: { grid: { count: 7681 }, growth: { max_dlna: 0.0003 } } }), zq);
  test('default grid: spline interpolation < 1e-7 relative', () => {
    const r = backgroundAt(runBackground({ params }), zq);
    for (const q of ['E', 'chi_Mpc', 'dM_Mpc', 'D', 'f'] as const) expect(maxRel(r[q].value, fine[q].value), q).toBeLessThan(1e-7);
  });
  test('a linear grid with the same budget also converges (< 1e-6)', () => {
    const r = backgroundAt(runBackground({ params, with: { grid: { spacing: 'linear', count: 1001 } } }), zq);
    for (const q of ['E', 'chi_Mpc', 'D', 'f'] as const) expect(maxRel(r[q].value, fine[q].value), q).toBeLessThan(1e-6);
  });
  test('RK4 growth: a 4x smaller step changes D, f by < 1e-9', () => {
    const a = runBackground({ params });
    const b = runBackground({ params, with: { growth: { max_dlna: 0.0025 } } });
    expect(maxRel(a.D.value, b.D.value)).toBeLessThan(1e-9);
    expect(maxRel(a.f.value, b.f.value)).toBeLessThan(1e-9);
  });
});
