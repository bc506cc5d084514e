/**
 * nonlinear-power/halofit with massive neutrinos: the Bird, Viel & Haehnelt (2012) terms as CLASS v3.3.4 applies
 * them, against CLASS's `mnu` Halofit tables (fed CLASS's own linear P: f_nu through the stage's `with.f_nu` hook on
 * a massless background, and from parameters.m_nu through the background; P_cb with with.matter = "cb"); tangents
 * against central differences; the vjp against them (dot-product tests); and f_nu = 0 giving the massless Halofit.
 */
import { describe, expect, test } from 'vitest';
import type { Dual } from '../../../core/ad/dual.js';
import type { Background } from '../../../plugins/contracts/background.js';
import type { PowerGrid } from '../../../plugins/contracts/power.js';
import { readPowerTable } from '../../../plugins/contracts/power-table.js';
import { eisensteinHu } from '../../../plugins/linear-power/eisenstein-hu.js';
import { linearPowerGrid } from '../../../plugins/linear-power/grid.js';
import { halofit, halofitAdjoint } from '../../../plugins/nonlinear-power/halofit.js';
import { FID, W0WA, fakeContext, referencePath, runBackground } from '../linear-power/harness.js';

const H = 0.67;
const FNU_MNU = 0.00143506612516 / 0.32;

const classGrid = (kase: string): PowerGrid =>
  linearPowerGrid.run(fakeContext(linearPowerGrid, { with: { file: referencePath(`class/${kase}/pk_lin.tsv`) }, params: { h: H } })) as PowerGrid;

function runHalofit(lin: PowerGrid, bg: Background, params: Record<string, number>, withBlock: Record<string, unknown> = {}, vary: string[] = []) {
  return halofit.run(fakeContext(halofit, { params, vary, with: withBlock, inputs: { linear: lin, background: bg } })) as PowerGrid;
}

/** Worst |P/P_CLASS - 1| over 1e-4 /Mpc <= k <= 10 h/Mpc (CLASS sets P_nl = P_lin below 1e-4 /Mpc), z <= 3. */
function worstVsClass(nl: PowerGrid, file: string) {
  const ref = readPowerTable(referencePath(`class/mnu/${file}`), { h_units: 'auto', h: H });
  const nk = nl.k_1overMpc.length;
  let worst = 0;
  for (let r = 0; r < nl.z.length; r++)
    for (let i = 0; i < nk; i++) {
      const k = nl.k_1overMpc[i];
      if (k / H > 10 || k < 1e-4) continue;
      worst = Math.max(worst, Math.abs(nl.P_Mpc3.value[r * nk + i] / ref.P_Mpc3[r * nk + i] - 1));
    }
  return worst;
}

describe('Halofit + Bird et al. vs CLASS (mnu: one 0.06 eV species, f_nu = 0.0045)', () => {
  const lin = classGrid('mnu');
  const bg = runBackground(FID); // Omega_m = 0.32 with the neutrinos counted as matter (non-relativistic at z <= 3)

  test('within 1e-3 of pk_nl_halofit.tsv for k <= 10 h/Mpc, z <= 3 (measured 4e-5)', () => {
    const worst = worstVsClass(runHalofit(lin, bg, FID, { f_nu: FNU_MNU }), 'pk_nl_halofit.tsv');
    console.log(`halofit mnu with the Bird terms: worst ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-3);
    expect(worst).toBeLessThan(1e-4);
  });

  test('without the neutrino terms the same linear P misses CLASS by ~8e-3: the correction is what agrees', () => {
    const worst = worstVsClass(runHalofit(lin, bg, FID), 'pk_nl_halofit.tsv');
    expect(worst).toBeGreaterThan(5e-3);
  });

  test('f_nu = 0 is the massless Halofit to the last bit', () => {
    const a = runHalofit(lin, bg, FID), b = runHalofit(lin, bg, FID, { f_nu: 0 });
    expect(Array.from(b.P_Mpc3.value)).toEqual(Array.from(a.P_Mpc3.value));
  });
});

describe('tangents and vjp of the Bird path (EH linear P, f_nu = 0.02)', () => {
  const VARY = ['Omega_m', 'h', 'sigma8', 'n_s', 'w0', 'wa', 'Omega_b'];
  const small = { k: { per_decade: 15 }, z: { count: 5, z_max: 4 } };
  const cfg = { w_convention: 'instantaneous', f_nu: 0.02 };
  function chain(params: Record<string, number>, vary: string[]) {
    const bg = runBackground(params, vary);
    const lin = eisensteinHu.run(fakeContext(eisensteinHu, { params, vary, with: small, inputs: { background: bg } })) as PowerGrid;
    return { bg, lin, nl: runHalofit(lin, bg, params, cfg, vary) };
  }

  test(`d ln P_nl/d theta for ${VARY.join(', ')} (criterion 1e-4; measured < 1e-6)`, () => {
    const base = chain(W0WA, VARY).nl;
    const N = base.P_Mpc3.value.length;
    VARY.forEach((name, p) => {
      const v = (W0WA as Record<string, number>)[name];
      const h = 1e-5 * Math.abs(v);
      const up = chain({ ...W0WA, [name]: v + h }, []).nl.P_Mpc3.value;
      const dn = chain({ ...W0WA, [name]: v - h }, []).nl.P_Mpc3.value;
      let err = 0, big = 0;
      for (let i = 0; i < N; i++) {
        const fd = (up[i] - dn[i]) / (2 * h) / base.P_Mpc3.value[i];
        const ad = base.P_Mpc3.tangent![p * N + i] / base.P_Mpc3.value[i];
        err = Math.max(err, Math.abs(ad - fd) / Math.max(1, Math.abs(fd)));
        big = Math.max(big, Math.abs(fd));
      }
      expect(big, name).toBeGreaterThan(1e-3);
      expect(err, name).toBeLessThan(1e-6);
    });
  });

  test('the vjp is the transpose of the tangent map (dot-product test, to 1e-10)', () => {
    const { bg, lin, nl } = chain(W0WA, VARY);
    const N = nl.P_Mpc3.value.length;
    const bar = Float64Array.from({ length: N }, (_, i) => Math.sin(1.7 * i + 0.3) / nl.P_Mpc3.value[i]);
    const plain = chain(W0WA, []);
    const r = halofitAdjoint(plain.lin, plain.bg, W0WA.w0, W0WA.wa, 'instantaneous',
      { neutrinos: { f_nu: { v: 0.02, d: null }, h: plain.bg.h } }, plain.nl, bar);
    const nz = bg.z.length;
    const dot = (a: Float64Array, t: Float64Array | null, p: number, n: number) => {
      let s = 0;
      if (t) for (let i = 0; i < n; i++) s += a[i] * t[p * n + i];
      return s;
    };
    const comp = (x: Dual, p: number) => (x.d ? x.d[p] : 0);
    VARY.forEach((name, p) => {
      const lhs = dot(bar, nl.P_Mpc3.tangent, p, N);
      const b = r.background as Record<string, number | Float64Array>;
      let rhs = dot(r.PlinBar, lin.P_Mpc3.tangent, p, N) + dot(b.E as Float64Array, bg.E.tangent, p, nz);
      rhs += (b.Omega_m as number) * comp(bg.Omega_m, p) + (b.Omega_r as number) * comp(bg.Omega_r, p) + (b.Omega_k as number) * comp(bg.Omega_k, p);
      rhs += r.h * comp(bg.h, p) + (name === 'w0' ? r.w0 : 0) + (name === 'wa' ? r.wa : 0);
      expect(Math.abs(lhs - rhs), name).toBeLessThan(1e-10 * Math.max(1, Math.abs(lhs)));
    });
  });
});

describe('m_nu as a parameter (f_nu = Omega_nu/Omega_m of the background and its mass split)', () => {
  const MNU = { ...FID, m_nu: 0.06 };

  test('CLASS mnu on its own linear P: within 1e-3 with f_nu from parameters.m_nu (measured 2.5e-6: the background now has the neutrinos in E(z); 4e-5 with the hook on a massless one)', () => {
    const bg = runBackground(MNU);
    expect(bg.Omega_nu!.v / bg.Omega_m.v).toBeCloseTo(FNU_MNU, 9);
    const worst = worstVsClass(runHalofit(classGrid('mnu'), bg, MNU), 'pk_nl_halofit.tsv');
    console.log(`halofit mnu, m_nu = 0.06 as a parameter: worst ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-5);
  });

  test('three degenerate species: f_nu is the background\'s (its Fermi-Dirac density for three species of m_nu/3)', () => {
    const three = { z_max: 5, output_z: [0, 1], neutrinos: { split: 'three-degenerate' } };
    const bg3 = runBackground(MNU, [], three), bg1 = runBackground(MNU);
    // three lighter species are slightly less non-relativistic today: Omega_nu higher by 4e-4 relative
    expect(bg3.Omega_nu!.v / bg1.Omega_nu!.v - 1).toBeGreaterThan(1e-4);
    const lin = classGrid('mnu');
    const viaParam = runHalofit(lin, bg3, MNU).P_Mpc3.value;
    const viaHook = runHalofit(lin, bg3, FID, { f_nu: bg3.Omega_nu!.v / bg3.Omega_m.v }).P_Mpc3.value;
    for (let i = 0; i < viaParam.length; i++) expect(Math.abs(viaParam[i] / viaHook[i] - 1)).toBeLessThan(1e-14);
  });

  const VARY = ['m_nu', 'Omega_m', 'h', 'sigma8', 'w0'];
  const small = { transfer: 'eh99', wiggles: false, k: { per_decade: 15 }, z: { count: 5, z_max: 4 } };
  function chain(params: Record<string, number>, vary: string[]) {
    const bg = runBackground(params, vary);
    const lin = eisensteinHu.run(fakeContext(eisensteinHu, { params, vary, with: small, inputs: { background: bg } })) as PowerGrid;
    return { bg, lin, nl: runHalofit(lin, bg, params, {}, vary) };
  }

  test('d P_nl/d m_nu (EH99 linear P -> Halofit + Bird) against central differences, 1e-6', () => {
    const base = chain(MNU, VARY).nl;
    const N = base.P_Mpc3.value.length;
    VARY.forEach((name, p) => {
      const v = (MNU as Record<string, number>)[name];
      const h = 1e-4 * Math.abs(v);
      const up = chain({ ...MNU, [name]: v + h }, []).nl.P_Mpc3.value;
      const dn = chain({ ...MNU, [name]: v - h }, []).nl.P_Mpc3.value;
      let err = 0;
      for (let i = 0; i < N; i++) {
        const fd = (up[i] - dn[i]) / (2 * h) / base.P_Mpc3.value[i];
        const ad = base.P_Mpc3.tangent![p * N + i] / base.P_Mpc3.value[i];
        err = Math.max(err, Math.abs(ad - fd) / Math.max(1, Math.abs(fd)));
      }
      expect(err, name).toBeLessThan(1e-6);
    });
  });

  test('the stage vjp sends the f_nu bar to the background\'s Omega_nu (dot-product test, to 1e-10)', () => {
    const { bg, lin, nl } = chain(MNU, VARY);
    const plain = chain(MNU, []);
    const N = nl.P_Mpc3.value.length, nz = bg.z.length;
    const bar = Float64Array.from({ length: N }, (_, i) => Math.cos(0.9 * i + 0.1) / nl.P_Mpc3.value[i]);
    const ctx = { ...fakeContext(halofit, { params: MNU, with: {}, inputs: { linear: plain.lin, background: plain.bg } }), output: plain.nl };
    const r = halofit.vjp!(ctx, { P_Mpc3: bar }) as { inputs: { linear: { P_Mpc3: Float64Array }; background: Record<string, number | Float64Array> }; params: Record<string, number> };
    const b = r.inputs.background;
    expect(b.Omega_nu).toBeDefined();
    expect(r.params.m_nu ?? 0).toBe(0); // the m_nu dependence goes through the background
    const dot = (a: Float64Array | undefined, t: Float64Array | null, p: number, n: number) => {
      let s = 0;
      if (a && t) for (let i = 0; i < n; i++) s += a[i] * t[p * n + i];
      return s;
    };
    const comp = (x: Dual | undefined, p: number) => (x?.d ? x.d[p] : 0);
    VARY.forEach((name, p) => {
      const lhs = dot(bar, nl.P_Mpc3.tangent, p, N);
      let rhs = dot(r.inputs.linear.P_Mpc3, lin.P_Mpc3.tangent, p, N) + dot(b.E as Float64Array, bg.E.tangent, p, nz);
      for (const q of ['Omega_m', 'Omega_r', 'Omega_k', 'h', 'Omega_nu'] as const) rhs += ((b[q] as number) ?? 0) * comp(bg[q], p);
      rhs += r.params[name] ?? 0;
      expect(Math.abs(lhs - rhs), name).toBeLessThan(1e-10 * Math.max(1, Math.abs(lhs)));
    });
  });
});

describe('the cold spectrum (with.matter: "cb"): Takahashi et al. on P_cb without the Bird terms, as CLASS', () => {
  test('CLASS mnu pk_cb_nl_halofit.tsv from its pk_cb_lin.tsv: within 1e-4 (measured 1.6e-6; 3.9e-5 on a massless background); with the Bird terms 8.3e-3', () => {
    const MNU = { ...FID, m_nu: 0.06 };
    const bg = runBackground(MNU);
    const cbLin = linearPowerGrid.run(fakeContext(linearPowerGrid, { with: { file: referencePath('class/mnu/pk_cb_lin.tsv') }, params: { h: H } })) as PowerGrid;
    const cold = worstVsClass(runHalofit(cbLin, bg, MNU, { matter: 'cb' }), 'pk_cb_nl_halofit.tsv');
    const bird = worstVsClass(runHalofit(cbLin, bg, MNU), 'pk_cb_nl_halofit.tsv');
    console.log(`halofit P_cb: ${cold.toExponential(2)} (with Bird terms ${bird.toExponential(2)})`);
    expect(cold).toBeLessThan(1e-4);
    expect(bird).toBeGreaterThan(5e-3);
    expect(() => runHalofit(cbLin, bg, FID, { matter: 'cb', f_nu: 0.01 })).toThrow(/with\.f_nu has no effect with with\.matter = "cb"/);
  });
});
