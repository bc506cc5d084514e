/**
 * background/w0wa with massive neutrinos (m_nu > 0): against CLASS's mnu background table (one massive species of
 * 0.06 eV, T_ncdm = 0.71611, N_ur = 2.0328; reference/class/README.md), forward tangents in m_nu against central
 * differences, the reverse-mode VJP against the forward tangents (dot-product test), the three-degenerate split,
 * and the checks.
 *
 * Tolerances: CLASS's H and distances are its own ODE/quadrature at tol_ncdm_bg = 1e-10 on a 40000-point ln a grid;
 * ours agree to the few 1e-8 level measured on fid (class-reference.test.ts), so 1e-6 here is generous and 1e-7 is
 * what we measure. D: CLASS's growth_D has the same source (rho_b + rho_cdm, ncdm in H only).
 */
import { describe, expect, test } from 'vitest';
import { backgroundAt } from '../../../plugins/contracts/background-eval.js';
import { W0WA_PARAMETERS, type W0waBar, w0waAdjoint, w0waBackground } from '../../../plugins/background/w0wa.js';
import { CLASS_FID, configWith, fakeContext, integrators, readTable, referencePath, runBackground } from './harness.js';

const MNU = { ...CLASS_FID, m_nu: 0.06 };
const names = Object.keys(W0WA_PARAMETERS);

describe('CLASS mnu background (0.06 eV, one massive species)', () => {
  const t = readTable(referencePath('class', 'mnu', 'background.tsv'));
  const col = (name: string) => t[Object.keys(t).find((h) => h === name || h.startsWith(`${name}[`))!];
  const zc = col('z'), H = col('H'), chi = col('comov_dist'), dA = col('ang_diam_dist'), D = col('growth_D'), f = col('growth_f');
  const rows = [...zc.keys()].filter((i) => zc[i] <= 10);
  const zq = Float64Array.from(rows, (i) => zc[i]);
  const bg = runBackground({ params: MNU, with: { z_max: 10.5 } });
  const r = backgroundAt(bg, zq);
  const worst = (ours: (i: number) => number, ref: (i: number) => number, from = 0) => {
    let w = 0;
    for (let j = from; j < rows.length; j++) w = Math.max(w, Math.abs(ours(j) / ref(rows[j]) - 1));
    return w;
  };

  test('Omega_nu today is CLASS\'s Omega_ncdm (Fermi-Dirac at T_ncdm = 0.71611) and Omega_cdm = Omega_m - Omega_b - Omega_nu', () => {
    expect(Math.abs(bg.Omega_nu!.v / 0.00143506612516 - 1)).toBeLessThan(1e-9);
    console.log(`Omega_nu h^2 = ${(bg.Omega_nu!.v * 0.67 ** 2).toExponential(9)} (CLASS ${(0.00143506612516 * 0.67 ** 2).toExponential(9)}); m_nu/Omega_nu h^2 = ${(0.06 / (bg.Omega_nu!.v * 0.67 ** 2)).toFixed(4)} eV`);
  });

  test('H(z), chi(z), d_A(z) to 1e-6 and D, f to 1e-5 on 0 <= z <= 10', () => {
    const H0 = bg.H0_1overMpc.v;
    const wH = worst((j) => H0 * r.E.value[j], (i) => H[i]);
    const wchi = worst((j) => r.chi_Mpc.value[j], (i) => chi[i], 1);
    const wdA = worst((j) => r.dM_Mpc.value[j] / (1 + zq[j]), (i) => dA[i], 1);
    const wD = worst((j) => r.D.value[j], (i) => D[i]);
    const wf = worst((j) => r.f.value[j], (i) => f[i]);
    console.log(`vs CLASS mnu: H ${wH.toExponential(2)}, chi ${wchi.toExponential(2)}, d_A ${wdA.toExponential(2)}, D ${wD.toExponential(2)}, f ${wf.toExponential(2)} (worst relative, ${rows.length} rows)`);
    expect(wH).toBeLessThan(1e-6);
    expect(wchi).toBeLessThan(1e-6);
    expect(wdA).toBeLessThan(1e-6);
    expect(wD).toBeLessThan(1e-5);
    expect(wf).toBeLessThan(1e-5);
  });
});

describe('tangents in m_nu against central differences', () => {
  // 5-point stencil, h = 1e-2 m_nu: the table's quintic Hermite interpolant is C2 in ln M and the stencil's truncation
  // error is ~3e-8 relative here. Tolerance: 1e-6 of the slope plus the stencil's rounding floor 3 eps |X| / h, which
  // matters only at z = 0.05, where d ln chi / d m_nu = 3e-8 per eV (measured there: 2e-6 of the slope, all rounding)
  const fid = { ...MNU, w0: -0.9, wa: 0.2, Omega_k: 0.01 };
  const zq = Float64Array.of(0.05, 0.3, 1, 2.5, 4, 9.3);
  const ad = backgroundAt(runBackground({ params: fid, vary: names }), zq);
  const p = names.indexOf('m_nu');
  const h = 0.01 * fid.m_nu;
  const s = [-2, -1, 1, 2].map((k) => backgroundAt(runBackground({ params: { ...fid, m_nu: fid.m_nu + k * h } }), zq));
  test.each(['E', 'chi_Mpc', 'dM_Mpc', 'D', 'f'] as const)('d %s / d m_nu to 1e-6 relative', (q) => {
    let w = 0;
    const each: string[] = [];
    for (let i = 0; i < zq.length; i++) {
      const fd = (s[0][q].value[i] - 8 * s[1][q].value[i] + 8 * s[2][q].value[i] - s[3][q].value[i]) / (12 * h);
      const a = ad[q].tangent![p * zq.length + i];
      // rounding floor of the stencil: ~3 eps |value| / h (where d ln X/d m_nu ~ 3e-8, at z = 0.05, it is 2e-6 of the slope)
      const e = Math.abs(a - fd) / (Math.abs(fd) + (3 * 2.2e-16 * Math.abs(ad[q].value[i])) / h / 1e-6);
      each.push(`z=${zq[i]}: ${e.toExponential(1)} (d ln/d m_nu ${(a / ad[q].value[i]).toExponential(2)})`);
      w = Math.max(w, e);
    }
    console.log(`d ${q}/d m_nu: AD vs FD worst ${w.toExponential(2)}; ${each.join(', ')}`);
    expect(w).toBeLessThan(1e-6);
  });
  test('signs: heavier neutrinos raise H (matter) and shorten chi at z > 0 (Omega_m fixed: less CDM, more nu)', () => {
    expect(ad.chi_Mpc.tangent![p * zq.length + 2]).not.toBe(0);
  });
});

describe('reverse mode with m_nu varied: the VJP is the transpose of the forward tangents', () => {
  test('dot-product test: bar . (J v) = (J^T bar) . v for every parameter', () => {
    const fid = { ...MNU, w0: -0.9, wa: 0.2, Omega_k: 0.01, m_nu: 0.1 };
    const ctx = fakeContext({ params: fid, vary: names });
    const out = w0waBackground.run(ctx) as ReturnType<typeof runBackground>;
    const n = out.z.length;
    let seedv = 7;
    const rnd = () => ((seedv = (seedv * 16807) % 2147483647) / 2147483647) - 0.5;
    const bar: W0waBar = {
      E: Float64Array.from({ length: n }, rnd), chi_Mpc: Float64Array.from({ length: n }, rnd), dM_Mpc: Float64Array.from({ length: n }, rnd),
      D: Float64Array.from({ length: n }, rnd), f: Float64Array.from({ length: n }, rnd), tau_Mpc: Float64Array.from({ length: n }, rnd),
      Omega_nu: 0.7, Omega_m: -0.3,
    };
    const values = Object.fromEntries(names.map((k) => [k, ctx.param(k).v]));
    const pb = w0waAdjoint(configWith({}), values, integrators['gauss-legendre'](), out, bar);
    let worst = 0;
    names.forEach((name, p) => {
      let fwd = 0;
      for (const k of ['E', 'chi_Mpc', 'dM_Mpc', 'D', 'f', 'tau_Mpc'] as const) {
        const x = out[k];
        for (let i = 0; i < n; i++) fwd += bar[k]![i] * x.tangent![p * n + i];
      }
      fwd += 0.7 * (out.Omega_nu!.d?.[p] ?? 0) - 0.3 * (out.Omega_m.d?.[p] ?? 0);
      const rev = pb[name] ?? 0;
      const e = Math.abs(rev - fwd) / Math.max(Math.abs(fwd), 1e-300);
      if (fwd !== 0) worst = Math.max(worst, e);
      else expect(rev).toBe(0);
    });
    console.log(`background VJP dot-product test with m_nu = 0.1 varied: worst relative ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-9);
  });
});

describe('mass split and checks', () => {
  test('three degenerate species: N_ur = N_eff - 3.04, Omega_nu within 1e-3 of one species\' (relativistic corrections of m/3)', () => {
    const one = runBackground({ params: MNU });
    const three = runBackground({ params: MNU, with: { neutrinos: { split: 'three-degenerate' } } });
    const rel = three.Omega_nu!.v / one.Omega_nu!.v - 1;
    expect(rel).toBeGreaterThan(0);
    expect(rel).toBeLessThan(1e-3);
    expect(three.Omega_r.v).toBeLessThan(one.Omega_r.v); // fewer massless species
    expect(Math.abs(three.E.value[0] - 1)).toBeLessThan(1e-14);
  });

  test('planner checks name the parameter and what is allowed', () => {
    const check = (params: Record<string, number>, w: Record<string, unknown> = {}) => w0waBackground.check!(configWith(w), { params, baseDir: '.' });
    expect(check({ ...MNU, m_nu: -0.01 })).toEqual([expect.stringMatching(/^parameters\.m_nu: -0\.01 is not allowed: .* must be >= 0 \(allowed: 0 <= m_nu <= 10\)$/)]);
    expect(check({ ...MNU, N_eff: 1 })).toEqual([expect.stringMatching(/^parameters\.N_eff: 1 is below the 1\.0132 that the 1 massive/)]);
    expect(check({ ...MNU, N_eff: 2.5 }, { neutrinos: { split: 'three-degenerate' } })[0]).toMatch(/^parameters\.N_eff: 2\.5 is below the 3\.039\d* that the 3 massive/);
    expect(check({ ...MNU, m_nu: 8, Omega_m: 0.2 })[0]).toMatch(/^parameters\.Omega_b: 0\.05 \+ Omega_nu = .* exceeds parameters\.Omega_m = 0\.2/);
    expect(check(MNU)).toEqual([]);
  });
});
