/**
 * background/w0wa against closed-form results, with radiation made negligible (T_cmb = 1e-4 K gives
 * Omega_r ~ 1e-22) so the textbook matter(+curvature)(+Lambda) solutions apply. Compared on the grid
 * nodes (no interpolation). Measured errors are 1e-12 (distances) to 2e-11 (D, f: fixed-step RK4);
 * the tolerance 1e-9 leaves room for platform rounding but catches any wrong term.
 *
 * - Einstein-de Sitter: chi = 2 (c/H0) (1 - (1+z)^-1/2), tau = 2 (c/H0) (1+z)^-1/2, D = a, f = 1.
 * - Lambda = 0, any curvature: Mattig's relation (Mattig 1958; Peebles 1993 eq. 13.29)
 *     H0 d_M = 2 [Om z + (Om - 2)(sqrt(1 + Om z) - 1)] / (Om^2 (1+z)),
 *   which exercises the sinh (open) and sin (closed) branches of d_M.
 * - Lambda = 0, open: growing mode D ~ 1 + 3/x + 3 sqrt(1+x) x^-3/2 ln(sqrt(1+x) - sqrt x), x = (1/Om - 1) a
 *   (Groth & Peebles 1975; Peebles 1980 eq. 11.16).
 * - Lambda + curvature: D ~ E(a) Integral_0^a da'/(a'E)^3 (Heath 1977), evaluated here by an independent
 *   Gauss-Legendre quadrature in u = sqrt(a) (smooth integrand 2 u^4 (Om + Ok u^2 + Ol u^6)^-3/2).
 */
import { describe, expect, test } from 'vitest';
import { gaussLegendreRule } from '../../../core/numerics/gauss-legendre.js';
import { backgroundAt } from '../../../plugins/contracts/background-eval.js';
import { runBackground } from './harness.js';

const TOL = 1e-9;
const cold = { T_cmb: 1e-4, Omega_b: 0.04 };

function maxRelDiff(ours: ArrayLike<number>, ref: (i: number) => number, from = 0): number {
  let m = 0;
  for (let i = from; i < ours.length; i++) m = Math.max(m, Math.abs(ours[i] / ref(i) - 1));
  return m;
}

describe('Einstein-de Sitter', () => {
  const bg = runBackground({ params: { ...cold, Omega_m: 1, Omega_k: 0 } });
  const cH0 = 1 / bg.H0_1overMpc.v;
  const z = bg.z;
  test('radiation and dark energy are negligible', () => {
    expect(bg.Omega_r.v).toBeLessThan(1e-20);
    expect(Math.abs(bg.Omega_de.v)).toBeLessThan(1e-20);
  });
  test('E, chi, tau', () => {
    expect(maxRelDiff(bg.E.value, (i) => (1 + z[i]) ** 1.5)).toBeLessThan(TOL);
    expect(maxRelDiff(bg.chi_Mpc.value, (i) => 2 * cH0 * (1 - 1 / Math.sqrt(1 + z[i])), 1)).toBeLessThan(TOL);
    expect(maxRelDiff(bg.dM_Mpc.value, (i) => bg.chi_Mpc.value[i], 1)).toBe(0);
    expect(maxRelDiff(bg.tau_Mpc.value, (i) => (2 * cH0) / Math.sqrt(1 + z[i]))).toBeLessThan(TOL);
  });
  test('D = a, f = 1', () => {
    expect(maxRelDiff(bg.D.value, (i) => 1 / (1 + z[i]))).toBeLessThan(TOL);
    expect(maxRelDiff(bg.f.value, () => 1)).toBeLessThan(TOL);
  });
});

const mattig = (Om: number, z: number) => (2 * (Om * z + (Om - 2) * (Math.sqrt(1 + Om * z) - 1))) / (Om * Om * (1 + z));

describe.each([
  ['open', 0.3, 0.7],
  ['closed', 1.5, -0.5],
])('Lambda = 0, %s (Omega_m = %f, Omega_k = %f)', (_name, Om, Ok) => {
  const bg = runBackground({ params: { ...cold, Omega_m: Om, Omega_k: Ok } });
  const H0 = bg.H0_1overMpc.v;
  test('transverse comoving distance: Mattig', () => {
    expect(Math.abs(bg.Omega_de.v)).toBeLessThan(1e-20);
    expect(maxRelDiff(bg.dM_Mpc.value, (i) => mattig(Om, bg.z[i]) / H0, 1)).toBeLessThan(TOL);
    // d_M differs from chi here: the test sees the curvature
    expect(Math.abs(bg.dM_Mpc.value[200] / bg.chi_Mpc.value[200] - 1)).toBeGreaterThan(1e-3);
  });
  test('off-grid evaluation (spline) keeps 1e-7', () => {
    const zq = Float64Array.of(0.0137, 0.61, 2.345, 7.77);
    const r = backgroundAt(bg, zq);
    expect(maxRelDiff(r.dM_Mpc.value, (i) => mattig(Om, zq[i]) / H0)).toBeLessThan(1e-7);
  });
});

describe('Lambda = 0, open: Groth-Peebles growing mode', () => {
  const Om = 0.3;
  const bg = runBackground({ params: { ...cold, Omega_m: Om, Omega_k: 1 - Om } });
  // D1(x) and x dD1/dx
  const D1 = (x: number) => {
    const L = Math.log(Math.sqrt(1 + x) - Math.sqrt(x));
    return 1 + 3 / x + (3 * Math.sqrt(1 + x) * L) / x ** 1.5;
  };
  const xdD1 = (x: number) => {
    const L = Math.log(Math.sqrt(1 + x) - Math.sqrt(x));
    const dL = -1 / (2 * Math.sqrt(x) * Math.sqrt(1 + x));
    const d = -3 / (x * x) + 3 * L * (1 / (2 * Math.sqrt(1 + x) * x ** 1.5) - (1.5 * Math.sqrt(1 + x)) / x ** 2.5) + (3 * Math.sqrt(1 + x) * dL) / x ** 1.5;
    return x * d;
  };
  const x0 = 1 / Om - 1;
  test('D(z)/D(0) and f', () => {
    expect(maxRelDiff(bg.D.value, (i) => D1(x0 / (1 + bg.z[i])) / D1(x0))).toBeLessThan(TOL);
    expect(maxRelDiff(bg.f.value, (i) => xdD1(x0 / (1 + bg.z[i])) / D1(x0 / (1 + bg.z[i])))).toBeLessThan(TOL);
  });
});

describe.each([
  ['flat', 0],
  ['open', 0.05],
  ['closed', -0.05],
])('Lambda + curvature (%s): Heath integral', (_name, Ok) => {
  const Om = 0.3;
  const bg = runBackground({ params: { ...cold, Omega_m: Om, Omega_k: Ok, w0: -1, wa: 0 } });
  const Ol = bg.Omega_de.v;
  const E = (a: number) => Math.sqrt(Om / a ** 3 + Ok / a ** 2 + Ol);
  // I(a) = Integral_0^a da'/(a'E)^3 = Integral_0^sqrt(a) 2 u^4 (Om + Ok u^2 + Ol u^6)^-3/2 du
  const I = (a: number) => {
    const rule = gaussLegendreRule(0, Math.sqrt(a), 20, 4);
    let s = 0;
    for (let j = 0; j < rule.x.length; j++) {
      const u = rule.x[j];
      s += rule.w[j] * 2 * u ** 4 * (Om + Ok * u * u + Ol * u ** 6) ** -1.5;
    }
    return s;
  };
  const D = (a: number) => E(a) * I(a);
  const f = (a: number) => (-3 * Om * a ** -3 - 2 * Ok * a ** -2) / (2 * E(a) ** 2) + a / ((a * E(a)) ** 3 * I(a));
  test('D(z)/D(0) and f', () => {
    const D0 = D(1);
    expect(maxRelDiff(bg.D.value, (i) => D(1 / (1 + bg.z[i])) / D0)).toBeLessThan(TOL);
    expect(maxRelDiff(bg.f.value, (i) => f(1 / (1 + bg.z[i])))).toBeLessThan(TOL);
  });
});
