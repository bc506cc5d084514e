/**
 * Forward-mode tangents of background/w0wa against central finite differences of the plugin's own run.
 *
 * Stencil: 5-point, d f = [f(-2h) - 8 f(-h) + 8 f(h) - f(2h)] / (12 h), truncation O(h^4 f^(5)); with
 * h = 1e-3 |theta| (1e-3 absolute for a parameter at 0) that is ~1e-13 relative, and rounding
 * (eps |f| / h) adds ~1e-13: both well below the 1e-7 asked. The adaptive quadrature could in principle
 * switch rules between stencil points (a jump of <= rtol = 1e-10 relative, i.e. 1e-7 in the slope);
 * at these parameters it does not (measured agreement 5e-8 or better, most below 1e-10).
 *
 * Fiducial: CLASS's w0wa cosmology with a little curvature (Omega_k = 0.02), so every term is exercised. m_nu = 0
 * there (no massive species: its tangent is exactly 0, checked below); the m_nu > 0 tangents are in neutrinos.test.ts.
 * Tolerance: |AD - FD| <= 1e-7 (|AD| + 1e-6 |value|): relative, with a floor for derivatives that
 * vanish (d E(0)/dtheta = 0). Omega_b enters nothing here (Omega_m already counts baryons): its tangent
 * must be exactly 0, while its finite difference is pure rounding noise (V8 may round Math.exp/pow
 * differently in interpreted and optimised code, ~1 ulp, i.e. 1e-16/h ~ 1e-12 relative), so it gets its own test.
 */
import { describe, expect, test } from 'vitest';
import { backgroundAt } from '../../../plugins/contracts/background-eval.js';
import type { DualArray } from '../../../core/ad/dual-array.js';
import { W0WA_PARAMETERS } from '../../../plugins/background/w0wa.js';
import { CLASS_W0WA, runBackground } from './harness.js';

const names = Object.keys(W0WA_PARAMETERS);
const fid: Record<string, number> = { ...CLASS_W0WA, Omega_k: 0.02, m_nu: 0 };
const zq = Float64Array.of(0, 0.05, 0.3, 1, 2.5, 4, 9.3);
const n = zq.length;
const quantities = ['E', 'chi_Mpc', 'dM_Mpc', 'D', 'f'] as const;

const ad = backgroundAt(runBackground({ params: fid, vary: names }), zq);

function sample(params: Record<string, number>) {
  const bg = runBackground({ params });
  return { ...backgroundAt(bg, zq), tau: bg.tau_Mpc };
}

function fd(name: string) {
  const v0 = fid[name];
  const h = v0 !== 0 ? 1e-3 * Math.abs(v0) : 1e-3;
  const s = [-2, -1, 1, 2].map((k) => sample({ ...fid, [name]: v0 + k * h }));
  const out: Record<string, Float64Array> = {};
  for (const q of [...quantities, 'tau'] as const) {
    const m = s[0][q].value.length;
    out[q] = new Float64Array(m);
    for (let i = 0; i < m; i++)
      out[q][i] = (s[0][q].value[i] - 8 * s[1][q].value[i] + 8 * s[2][q].value[i] - s[3][q].value[i]) / (12 * h);
  }
  return out;
}

function worst(x: DualArray, p: number, slope: Float64Array): number {
  const m = x.value.length;
  let w = 0;
  for (let i = 0; i < m; i++) {
    const a = x.tangent![p * m + i];
    const scale = Math.abs(a) + 1e-6 * Math.abs(x.value[i]);
    if (scale > 0) w = Math.max(w, Math.abs(a - slope[i]) / scale);
  }
  return w;
}

describe.each(names.filter((nm) => nm !== 'Omega_b' && nm !== 'm_nu').map((nm) => [nm, names.indexOf(nm)] as const))('d/d %s', (name, p) => {
  const slope = fd(name);
  test.each(quantities)('%s at z = 0 .. 9.3', (q) => {
    expect(ad[q].tangent).not.toBeNull();
    expect(ad[q].P).toBe(names.length);
    expect(worst(ad[q], p, slope[q])).toBeLessThan(1e-7);
  });
  test('conformal time on the grid', () => {
    const bg = runBackground({ params: fid, vary: names });
    expect(worst(bg.tau_Mpc, p, slope.tau)).toBeLessThan(1e-7);
  });
});

describe('d/d m_nu at m_nu = 0', () => {
  test.each(quantities)('%s: tangent exactly 0 (no massive species)', (q) => {
    const p = names.indexOf('m_nu');
    for (let i = 0; i < n; i++) expect(ad[q].tangent![p * n + i]).toBe(0);
  });
});

describe('d/d Omega_b', () => {
  const p = names.indexOf('Omega_b');
  const slope = fd('Omega_b');
  test.each(quantities)('%s: tangent exactly 0, finite difference at rounding level', (q) => {
    for (let i = 0; i < n; i++) {
      expect(ad[q].tangent![p * n + i]).toBe(0);
      expect(Math.abs(slope[q][i])).toBeLessThan(1e-9 * Math.abs(ad[q].value[i]) + 1e-300);
    }
  });
});

describe('the derivatives the brief names are non-trivial', () => {
  const t = (q: (typeof quantities)[number], name: string, i: number) => ad[q].tangent![names.indexOf(name) * n + i];
  test('signs at z = 1: d chi/d Omega_m < 0, d ln chi/d ln h ~ -1, d chi/d w0 < 0 (less negative w0: more dark energy in the past, larger H); d D/d Omega_m < 0 (D(z)/D(0) tends to the Einstein-de Sitter a as Omega_m -> 1); d E/d wa > 0', () => {
    // chi = c/H0 * ...: d ln chi / d ln h = -1 + (radiation, ~1e-4)
    expect(t('chi_Mpc', 'h', 3) * fid.h / ad.chi_Mpc.value[3]).toBeCloseTo(-1, 3);
    expect(t('chi_Mpc', 'Omega_m', 3)).toBeLessThan(0);
    expect(t('chi_Mpc', 'w0', 3)).toBeLessThan(0);
    expect(t('D', 'Omega_m', 3)).toBeLessThan(0);
    expect(t('E', 'wa', 4)).toBeGreaterThan(1e-3);
    expect(t('E', 'Omega_b', 4)).toBe(0);
  });
});

describe('the values do not depend on the tangents carried', () => {
  test('bitwise: every array, with 8 tangents and with none (forward AD and reverse mode see the same values)', () => {
    const none = runBackground({ params: fid });
    const all = runBackground({ params: fid, vary: names });
    for (const q of [...quantities, 'tau_Mpc'] as const) expect(Array.from(all[q].value), q).toEqual(Array.from(none[q].value));
  });
});

describe('only the varied parameters get tangent blocks', () => {
  test('no varied parameter: constant arrays; two varied: P = 2 in the vary order', () => {
    const none = runBackground({ params: fid });
    expect(none.chi_Mpc.tangent).toBeNull();
    expect(none.D.P).toBe(0);
    const two = backgroundAt(runBackground({ params: fid, vary: ['w0', 'Omega_m'] }), zq);
    expect(two.chi_Mpc.P).toBe(2);
    const full = ad.chi_Mpc.tangent!;
    for (let i = 0; i < n; i++) {
      expect(two.chi_Mpc.tangent![i]).toBeCloseTo(full[names.indexOf('w0') * n + i], 10);
      expect(two.chi_Mpc.tangent![n + i]).toBeCloseTo(full[names.indexOf('Omega_m') * n + i], 10);
    }
  });
});

describe('backgroundAt with a DualArray z (chain rule through the query)', () => {
  test('d chi/dz = c/H(z), d ln D/d ln(1+z) = -f', () => {
    const bg = runBackground({ params: fid });
    const zs = Float64Array.of(0.2, 1.1, 3.7);
    const zd: DualArray = { value: zs, tangent: new Float64Array(zs.length).fill(1), P: 1 };
    const r = backgroundAt(bg, zd);
    const H0 = bg.H0_1overMpc.v;
    for (let i = 0; i < zs.length; i++) {
      const E = r.E.value[i];
      // flat-space identity for chi (d_M differs by curvature); spline derivative error O(h^3)
      expect(Math.abs((r.chi_Mpc.tangent![i] * H0 * E) - 1)).toBeLessThan(1e-7);
      expect(Math.abs((r.D.tangent![i] * (1 + zs[i])) / r.D.value[i] + r.f.value[i])).toBeLessThan(1e-7);
    }
  });
});
