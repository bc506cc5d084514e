/**
 * nonlinear-power/hmcode2020 against CLASS v3.3.4's HMcode 2020 (reference/class/{fid,w0wa,mnu}/pk_nl_hmcode2020.tsv),
 * fed CLASS's own linear P(k) through linear-power/grid (k in h/Mpc, P in (Mpc/h)^3: converted with h = 0.67 by the
 * table reader), at the tabulated k and z; the README's sanity ratios; the tangents against central differences;
 * and the errors on bad input.
 */
import { describe, expect, test } from 'vitest';
import type { PowerGrid } from '../../../plugins/contracts/power.js';
import { readPowerTable } from '../../../plugins/contracts/power-table.js';
import { eisensteinHu } from '../../../plugins/linear-power/eisenstein-hu.js';
import { linearPowerGrid } from '../../../plugins/linear-power/grid.js';
import { logKGrid } from '../../../plugins/contracts/power-grid-spec.js';
import { constant } from '../../../core/ad/dual.js';
import { hmcode2020, hmcodeDiagnostics } from '../../../plugins/nonlinear-power/hmcode2020.js';
import { growthAt, solveGrowth } from '../../../plugins/nonlinear-power/hmcode2020/growth.js';
import { hmcodeGrid } from '../../../plugins/nonlinear-power/hmcode2020/model.js';
import { nfwWindow, sici, siciReference } from '../../../plugins/nonlinear-power/hmcode2020/nfw-window.js';
import { FID, W0WA, fakeContext, referencePath, runBackground } from '../linear-power/harness.js';

const H = 0.67;
/** f_nu of CLASS's mnu case: Omega_ncdm/Omega_m (README). */
const FNU_MNU = 0.00143506612516 / 0.32;

const classGrid = (kase: string, file = 'pk_lin.tsv'): PowerGrid =>
  linearPowerGrid.run(fakeContext(linearPowerGrid, { with: { file: referencePath(`class/${kase}/${file}`) }, params: { h: H } })) as PowerGrid;

function runHmcode(lin: PowerGrid, params: Record<string, number>, withBlock: Record<string, unknown> = {}, vary: string[] = [], cold?: PowerGrid) {
  const bg = runBackground(params, vary);
  return hmcode2020.run(fakeContext(hmcode2020, { params, vary, with: withBlock, inputs: { linear: lin, background: bg, cold } })) as PowerGrid;
}

/** Worst |P/P_CLASS - 1| for k <= kMax h/Mpc over the tabulated z, with where. */
function worstAgainstClass(nl: PowerGrid, kase: string, kMax: number) {
  const ref = readPowerTable(referencePath(`class/${kase}/pk_nl_hmcode2020.tsv`), { h_units: 'auto', h: H });
  const nk = nl.k_1overMpc.length;
  let worst = 0, at = '';
  for (let r = 0; r < nl.z.length; r++)
    for (let i = 0; i < nk; i++) {
      const k = nl.k_1overMpc[i] / H;
      if (k > kMax) continue;
      const e = Math.abs(nl.P_Mpc3.value[r * nk + i] / ref.P_Mpc3[r * nk + i] - 1);
      if (e > worst) { worst = e; at = `z = ${nl.z[r]}, k = ${k.toPrecision(4)} h/Mpc`; }
    }
  return { worst, at };
}

describe('HMcode 2020 vs CLASS v3.3.4 (CLASS linear P through linear-power/grid)', () => {
  // Criterion 5e-3 (the issue). Measured: fid 2.4e-4, w0wa 3.2e-4, mnu 2.7e-4 for k <= 10 h/Mpc (z = 0.5, k ~ 9.7
  // h/Mpc); 1.1e-3, 1.4e-3, 1.2e-3 up to the table's 51 h/Mpc. The remaining differences are numerical on CLASS's
  // side (docs/power.md): its mass integral (256 nodes, O(h^2) at the kink of c(M)), sigma(R) from a 64-node
  // spline, R_nl by bisection to 1e-6, and its LCDM growth for the Dolag factor from the Linder gamma = 0.55 fit.
  test.each([
    ['fid', FID],
    ['w0wa', W0WA],
  ] as const)('%s: within 5e-3 for k <= 10 h/Mpc at z = 0, 0.5, 1, 2, 3', (kase, params) => {
    const nl = runHmcode(classGrid(kase), params);
    const { worst, at } = worstAgainstClass(nl, kase, 10);
    console.log(`hmcode2020 ${kase}: worst ${worst.toExponential(2)} at ${at}; to 51 h/Mpc ${worstAgainstClass(nl, kase, 60).worst.toExponential(2)}`);
    expect(worst).toBeLessThan(5e-3);
    expect(worst).toBeLessThan(1e-3); // tighter than the criterion: the measured agreement, with margin
  });

  test('mnu (f_nu = Omega_ncdm/Omega_m through with.f_nu, P_cb through inputs.cold): within 5e-3 for k <= 10 h/Mpc', () => {
    // The background is background/w0wa with Omega_m = 0.32 counting the neutrinos as matter, as CLASS's HMcode
    // growth does; f_nu enters delta_c, Delta_v and (1 - f_nu)^2 of the one-halo term, the cold P sigma(R).
    const nl = runHmcode(classGrid('mnu'), FID, { f_nu: FNU_MNU, cold_input: true }, [], classGrid('mnu', 'pk_cb_lin.tsv'));
    const { worst, at } = worstAgainstClass(nl, 'mnu', 10);
    console.log(`hmcode2020 mnu: worst ${worst.toExponential(2)} at ${at}`);
    expect(worst).toBeLessThan(5e-3);
    expect(worst).toBeLessThan(1e-3);
    // the neutrinos matter: the massless model on the same linear P misses CLASS by more
    const massless = runHmcode(classGrid('mnu'), FID);
    expect(worstAgainstClass(massless, 'mnu', 10).worst).toBeGreaterThan(2 * worst);
  });

  test('mnu with m_nu = 0.06 as a parameter (f_nu from the background, P_cb through inputs.cold): as with the hook', () => {
    const MNU = { ...FID, m_nu: 0.06 };
    const bg = runBackground(MNU);
    const nl = hmcode2020.run(fakeContext(hmcode2020, {
      params: MNU, with: { cold_input: true }, inputs: { linear: classGrid('mnu'), background: bg, cold: classGrid('mnu', 'pk_cb_lin.tsv') },
    })) as PowerGrid;
    const { worst, at } = worstAgainstClass(nl, 'mnu', 10);
    console.log(`hmcode2020 mnu, m_nu = 0.06 as a parameter: worst ${worst.toExponential(2)} at ${at}`);
    expect(worst).toBeLessThan(1e-3);
    const hook = runHmcode(classGrid('mnu'), FID, { f_nu: FNU_MNU, cold_input: true }, [], classGrid('mnu', 'pk_cb_lin.tsv'));
    // the same f_nu; the background now carries the Fermi-Dirac neutrinos in E(z) (the hook's ran on the massless
    // one), which HMcode's growth and Omega_m(z) see
    let d = 0;
    for (let i = 0; i < nl.P_Mpc3.value.length; i++) d = Math.max(d, Math.abs(nl.P_Mpc3.value[i] / hook.P_Mpc3.value[i] - 1));
    console.log(`hmcode2020 mnu: m_nu as a parameter vs the hook on a massless background: ${d.toExponential(2)}`);
    expect(d).toBeLessThan(2e-5); // measured 8.4e-6
  });

  test('mnu P_cb: HMcode on P_cb as both its linear and cold input (CLASS\'s convention) within 1e-3 of pk_cb_nl_hmcode2020.tsv', () => {
    const MNU = { ...FID, m_nu: 0.06 };
    const cb = classGrid('mnu', 'pk_cb_lin.tsv');
    const nl = hmcode2020.run(fakeContext(hmcode2020, { params: MNU, with: { cold_input: true }, inputs: { linear: cb, background: runBackground(MNU), cold: cb } })) as PowerGrid;
    const ref = readPowerTable(referencePath('class/mnu/pk_cb_nl_hmcode2020.tsv'), { h_units: 'auto', h: H });
    const nk = nl.k_1overMpc.length;
    let worst = 0;
    for (let r = 0; r < nl.z.length; r++)
      for (let i = 0; i < nk; i++) if (nl.k_1overMpc[i] / H <= 10) worst = Math.max(worst, Math.abs(nl.P_Mpc3.value[r * nk + i] / ref.P_Mpc3[r * nk + i] - 1));
    console.log(`hmcode2020 mnu P_cb: worst ${worst.toExponential(2)}`); // measured 2.3e-4
    expect(worst).toBeLessThan(1e-3);
  });

  test("CLASS README sanity ratios P_nl/P_lin at z = 0 (fid): 1.0105, 5.589, 44.87 at k = 0.1, 1, 10 h/Mpc", () => {
    const lin = classGrid('fid');
    const nl = runHmcode(lin, FID);
    const lnk = Float64Array.from(lin.k_1overMpc, (k) => Math.log(k / H));
    const ratioAt = (kh: number) => {
      const x = Math.log(kh);
      let i = 0;
      while (lnk[i + 1] < x) i++;
      const t = (x - lnk[i]) / (lnk[i + 1] - lnk[i]);
      const lr = (j: number) => Math.log(nl.P_Mpc3.value[j] / lin.P_Mpc3.value[j]);
      return Math.exp(lr(i) + t * (lr(i + 1) - lr(i)));
    };
    expect(Math.abs(ratioAt(0.1) / 1.0105 - 1)).toBeLessThan(1e-4);
    expect(Math.abs(ratioAt(1) / 5.589 - 1)).toBeLessThan(2e-4);
    expect(Math.abs(ratioAt(10) / 44.87 - 1)).toBeLessThan(5e-4);
  });

  test('the quantities of the model at z = 0 (fid): delta_c, Delta_v, sigma_8, R_nl, n_eff in the expected ranges', () => {
    const rows = hmcodeDiagnostics(runHmcode(classGrid('fid'), FID))!;
    const r0 = rows[0];
    expect(r0.sigma8).toBeCloseTo(0.816, 3); // sigma_8 of CLASS's table (README: 0.81597 recomputed)
    expect(r0.delta_c).toBeGreaterThan(1.66);
    expect(r0.delta_c).toBeLessThan(1.69);
    expect(r0.Delta_v).toBeGreaterThan(250); // Mead (2017): ~ 18 pi^2 Omega_m^-0.35 at z = 0
    expect(r0.dolag).toBe(1); // LCDM: the Dolag factor is exactly 1
    expect(r0.Omega_m_z).toBeCloseTo(0.32, 4);
    // the growth without radiation: g/a at z = 0 for Omega_m = 0.32 LCDM (Carroll-Press-Turner ~ 0.79)
    expect(r0.g_over_a).toBeGreaterThan(0.78);
    expect(r0.g_over_a).toBeLessThan(0.80);
  });
});

describe('tangents vs central finite differences (EH linear P)', () => {
  const small = { k: { per_decade: 20 }, z: { count: 4, z_max: 3 } };
  function chain(params: Record<string, number>, vary: string[], withBlock: Record<string, unknown>) {
    const bg = runBackground(params, vary);
    const lin = eisensteinHu.run(fakeContext(eisensteinHu, { params, vary, with: small, inputs: { background: bg } })) as PowerGrid;
    return hmcode2020.run(fakeContext(hmcode2020, { params, vary, with: withBlock, inputs: { linear: lin, background: bg } })) as PowerGrid;
  }

  // Criterion 1e-4 relative where not negligible (|d ln P| > 1e-2: below that, relative to 1e-2). Measured <= 4e-6
  // (step 1e-6 relative: the round-off of the differences). A larger step can straddle the kink of c(M) at
  // z_f = z (a node there in this cosmology lies 8e-6 in sigma_8 from it): the model is only piecewise smooth.
  for (const feedback of [false, true]) {
    const VARY = ['Omega_m', 'h', 'sigma8', 'n_s', 'w0', 'wa', 'Omega_b', ...(feedback ? ['log10_T_AGN'] : [])];
    test(`d ln P/d theta for ${VARY.join(', ')}${feedback ? ' (feedback on, low-k fix on)' : ''}`, () => {
      const p0: Record<string, number> = { ...W0WA, log10_T_AGN: 7.9 };
      const wb = { feedback, feedback_low_k_fix: feedback }; // with feedback, the low-k fix too (its h-dependent k_*)
      const base = chain(p0, VARY, wb);
      const N = base.P_Mpc3.value.length;
      VARY.forEach((name, p) => {
        const v = p0[name];
        const h = 1e-6 * Math.abs(v);
        const up = chain({ ...p0, [name]: v + h }, [], wb).P_Mpc3.value;
        const dn = chain({ ...p0, [name]: v - h }, [], wb).P_Mpc3.value;
        let err = 0, big = 0;
        for (let i = 0; i < N; i++) {
          const fd = (up[i] - dn[i]) / (2 * h) / base.P_Mpc3.value[i];
          const ad = base.P_Mpc3.tangent![p * N + i] / base.P_Mpc3.value[i];
          err = Math.max(err, Math.abs(ad - fd) / Math.max(1e-2, Math.abs(fd)));
          big = Math.max(big, Math.abs(fd));
        }
        expect(big, name).toBeGreaterThan(0.1); // the derivative is not trivially zero
        expect(err, name).toBeLessThan(1e-4);
      });
    });
  }

  test('the values do not depend on the tangents carried (to the last bit); a parameter reaching nothing gets zero', () => {
    const vary = ['Omega_m', 'h', 'sigma8', 'A_IA'];
    const withT = chain(W0WA, vary, {}), plain = chain(W0WA, [], {});
    expect(Array.from(withT.P_Mpc3.value)).toEqual(Array.from(plain.P_Mpc3.value));
    const N = plain.P_Mpc3.value.length, p = vary.indexOf('A_IA');
    expect(withT.P_Mpc3.tangent!.subarray(p * N, (p + 1) * N).every((t) => t === 0)).toBe(true);
  });
});

describe('tangents with m_nu (EH99 P_m as linear, EH99 P_cb as cold, f_nu from the background)', () => {
  const small = { transfer: 'eh99', wiggles: false, k: { per_decade: 20 }, z: { count: 4, z_max: 3 } };
  const MNU = { ...FID, m_nu: 0.06 };
  function chain(params: Record<string, number>, vary: string[]) {
    const bg = runBackground(params, vary);
    const run = (matter: string) => eisensteinHu.run(fakeContext(eisensteinHu, { params, vary, with: { ...small, matter }, inputs: { background: bg } })) as PowerGrid;
    return hmcode2020.run(fakeContext(hmcode2020, { params, vary, with: { cold_input: true }, inputs: { linear: run('total'), cold: run('cb'), background: bg } })) as PowerGrid;
  }
  test('d ln P/d theta for m_nu, Omega_m, sigma8 against central differences (1e-4 where not negligible)', () => {
    const VARY = ['m_nu', 'Omega_m', 'sigma8'];
    const base = chain(MNU, VARY);
    const N = base.P_Mpc3.value.length;
    VARY.forEach((name, p) => {
      const v = (MNU as Record<string, number>)[name];
      const h = 1e-6 * Math.abs(v); // as above: the model is piecewise smooth (the kink of c(M))
      const up = chain({ ...MNU, [name]: v + h }, []).P_Mpc3.value;
      const dn = chain({ ...MNU, [name]: v - h }, []).P_Mpc3.value;
      let err = 0;
      for (let i = 0; i < N; i++) {
        const fd = (up[i] - dn[i]) / (2 * h) / base.P_Mpc3.value[i];
        const ad = base.P_Mpc3.tangent![p * N + i] / base.P_Mpc3.value[i];
        err = Math.max(err, Math.abs(ad - fd) / Math.max(1e-2, Math.abs(fd)));
      }
      console.log(`hmcode2020 with m_nu: d ln P/d ${name} AD vs FD ${err.toExponential(2)}`);
      expect(err, name).toBeLessThan(1e-4);
    });
  });
});

describe('numerics', () => {
  test('the one-halo sums splined from 32 per decade in ln k agree with the sums at every output k (5e-6 below 10 /Mpc)', () => {
    // the EH grid of the main job (100 per decade, to 200 /Mpc), z to 4, feedback on (all three sums). Measured 2.1e-6
    // for k < 10 /Mpc; 1.2e-3 at k ~ 180 /Mpc, where the sums at each k themselves carry the mass quadrature's
    // ripple of that size (48 radii per decade; see docs/power.md) and the spline smooths it.
    const params = { ...W0WA, log10_T_AGN: 7.8 };
    const bg = runBackground(params);
    const lin = eisensteinHu.run(fakeContext(eisensteinHu, { params, with: { z: { count: 5, z_max: 4 } }, inputs: { background: bg } })) as PowerGrid;
    const cosmo = { h: bg.h, Omega_m: bg.Omega_m, Omega_de: bg.Omega_de, Omega_k: bg.Omega_k, w0: bg.w0, wa: bg.wa,
      Omega_b: constant(0.05), T_cmb: constant(2.7255), n_s: constant(0.96), f_nu: constant(0), log10_T_AGN: constant(7.8) };
    const fast = hmcodeGrid(lin, null, cosmo, { feedback: true }).P.value;
    const every = hmcodeGrid(lin, null, cosmo, { feedback: true, oneHaloPerDecade: 0 }).P.value;
    const nk = lin.k_1overMpc.length;
    let low = 0, all = 0;
    for (let i = 0; i < fast.length; i++) {
      const e = Math.abs(fast[i] / every[i] - 1);
      all = Math.max(all, e);
      if (lin.k_1overMpc[i % nk] < 10) low = Math.max(low, e);
    }
    console.log(`one-halo k grid (32 per decade) vs every k: ${low.toExponential(2)} below 10 /Mpc, ${all.toExponential(2)} to 200 /Mpc`);
    expect(low).toBeLessThan(5e-6);
    expect(all).toBeLessThan(3e-3);
  });

  test('the NFW window and Si, Ci against direct quadrature and the continued fraction', () => {
    const out = new Float64Array(3), a = new Float64Array(4), b = new Float64Array(4);
    const simpson = (f: (u: number) => number, lo: number, hi: number, n = 20000) => {
      const h = (hi - lo) / n;
      let s = f(lo) + f(hi);
      for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * f(lo + i * h);
      return (s * h) / 3;
    };
    for (const c of [1.5, 4, 10, 40])
      for (const x of [1e-3, 0.05, 0.3, 1, 3, 10, 50]) {
        nfwWindow(x, c, out);
        const m = Math.log(1 + c) - c / (1 + c);
        const ref = simpson((u) => (u / (1 + u) ** 2) * (u === 0 ? 1 : Math.sin(u * x) / (u * x)), 0, c, 40000) / m;
        expect(Math.abs(out[0] - ref), `W(${x}, ${c})`).toBeLessThan(1e-10);
      }
    let worst = 0;
    for (let i = 0; i < 2000; i++) {
      const t = 3.5 * Math.pow(2000 / 3.5, i / 1999);
      sici(t, a);
      siciReference(t, b);
      worst = Math.max(worst, Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1]));
    }
    expect(worst).toBeLessThan(1e-14);
  });

  test('the growth without radiation: LCDM against the integral solution g = (5/2) Omega_m E Int_0^a da/(a E)^3', () => {
    const p = { Omega_m: 0.32, Omega_de: 0.68, Omega_k: 0, w0: -1, wa: 0 };
    const tab = solveGrowth(p);
    const E = (a: number) => Math.sqrt(p.Omega_m / a ** 3 + p.Omega_de);
    for (const a of [0.01, 0.1, 0.25, 0.5, 1]) {
      // the integral in ln a from ln 1e-8 (Simpson), the part below analytic (matter era: a^(5/2)... E ~ sqrt(Om) a^-1.5)
      const lo = 1e-8;
      const I = simpson2((x) => { const aa = Math.exp(x); return aa / (aa * E(aa)) ** 3; }, Math.log(lo), Math.log(a)) + (2 / 5) * lo ** 2.5 / p.Omega_m ** 1.5;
      const ref = 2.5 * p.Omega_m * E(a) * I;
      expect(Math.abs(growthAt(tab, Math.log(a)).v / ref - 1), `a = ${a}`).toBeLessThan(1e-7);
    }
  });
});

function simpson2(f: (u: number) => number, lo: number, hi: number, n = 200000) {
  const h = (hi - lo) / n;
  let s = f(lo) + f(hi);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * f(lo + i * h);
  return (s * h) / 3;
}

describe('feedback', () => {
  const lin = classGrid('fid');
  const dmo = runHmcode(lin, FID).P_Mpc3.value;
  const at = (t: number, fix = false) => runHmcode(lin, { ...FID, log10_T_AGN: t }, { feedback: true, feedback_low_k_fix: fix }).P_Mpc3.value;
  const iOf = (kh: number) => lin.k_1overMpc.findIndex((k) => k / H >= kh);
  const r = (P: Float64Array, kh: number) => P[iOf(kh)] / dmo[iOf(kh)]; // z = 0 row

  test('suppresses small scales, more for hotter AGN (BAHAMAS-like: a few per cent at k ~ 1 h/Mpc)', () => {
    const p76 = at(7.6), p80 = at(8.0);
    expect(r(p80, 1)).toBeLessThan(r(p76, 1));
    expect(r(p80, 1)).toBeLessThan(0.97);
    expect(r(p80, 1)).toBeGreaterThan(0.8);
    expect(r(p76, 10)).toBeLessThan(1);
  });

  test('at k -> 0 the response of the paper (and CLASS v3.3) tends to a constant below 1; the low-k fix removes it', () => {
    // [P_lin + P_1H^bary(0)]/[P_lin + P_1H^DMO(0)]: the vanilla one-halo terms are not damped at large scales, and
    // small haloes hold f_* + Omega_c/Omega_m < 1 of their mass at k -> 0. Measured 0.9932 at k = 1e-3 h/Mpc (T_AGN 8.0).
    const p80 = at(8.0), fixed = at(8.0, true);
    expect(r(p80, 1e-3)).toBeLessThan(0.998);
    expect(Math.abs(r(fixed, 1e-3) - 1)).toBeLessThan(1e-5);
    // the fix changes nothing where the one-halo term matters
    expect(Math.abs(r(fixed, 5) / r(p80, 5) - 1)).toBeLessThan(2e-3);
  });
});

describe('errors', () => {
  const lin = classGrid('fid');
  test('log10_T_AGN outside the calibrated range 7.3-8.3 is an error naming the parameter and the range', () => {
    for (const t of [7.0, 8.5]) {
      expect(() => runHmcode(lin, { ...FID, log10_T_AGN: t }, { feedback: true })).toThrow(/log10_T_AGN: .* must be (>= 7\.3|<= 8\.3)/);
      expect(hmcode2020.check!({ feedback: true, feedback_low_k_fix: false, cold_input: false, output_z: [0] }, { params: { log10_T_AGN: t } })).toEqual(
        [expect.stringMatching(/^parameters\.log10_T_AGN: .*calibrated range 7\.3-8\.3/)],
      );
    }
  });
  test('f_nu > 0 without the cold linear P is an error naming with.cold_input and inputs.cold', () => {
    expect(() => runHmcode(lin, FID, { f_nu: 0.01 })).toThrow(/f_nu = 0\.01 > 0 needs the cold .*with\.cold_input = true.*inputs\.cold/);
  });
  test('a linear grid not covering the de-wiggling range [5e-3, 5] /Mpc is an error naming it', () => {
    const bg = runBackground(FID);
    const eh = eisensteinHu.run(fakeContext(eisensteinHu, {
      params: FID, with: { k: { k_min: 1e-2, k_max: 100, per_decade: 20 }, z: { count: 2, z_max: 1 }, output_z: [0] }, inputs: { background: bg },
    })) as PowerGrid;
    expect(logKGrid({ k_min: 1e-2, k_max: 100, per_decade: 20 })[0]).toBe(1e-2);
    expect(() => runHmcode(eh, FID)).toThrow(/de-wiggling needs the linear P\(k\) on \[0\.005, 5\] \/Mpc.*widen the linear stage's k range/);
  });
});
