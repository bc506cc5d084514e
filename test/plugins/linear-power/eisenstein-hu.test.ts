/**
 * linear-power/eisenstein-hu against CCL v3.3.3's EH98 P(k) (reference/ccl/fid_pk.tsv), against an
 * independent sigma8 integral, against its own grid interpolation, and its tangents against central
 * finite differences.
 */
import { describe, expect, test } from 'vitest';
import { seed } from '../../../core/ad/dual.js';
import { gaussLegendreAdaptive, gaussLegendreRule } from '../../../core/numerics/gauss-legendre.js';
import { cubicSpline, splineEval } from '../../../core/numerics/spline.js';
import { backgroundAt } from '../../../plugins/contracts/background-eval.js';
import type { PowerGrid } from '../../../plugins/contracts/power.js';
import { eisensteinHu, ehLinearPowerZ0, ehTransfer } from '../../../plugins/linear-power/eisenstein-hu.js';
import { logKGrid } from '../../../plugins/contracts/power-grid-spec.js';
import { parsePowerTable, powerTableAt } from '../../../plugins/contracts/power-table.js';
import { topHatVariance, topHatWindow, topHatWindowDeriv } from '../../../plugins/linear-power/sigma8.js';
import { FID, fakeContext, maxRel, readTable, referencePath, runBackground } from './harness.js';

const ccl = readTable(referencePath('ccl/fid_pk.tsv'));
const cclBg = readTable(referencePath('ccl/fid_background.tsv'));
const D1_CCL = cclBg.D_growth_norm_D0_1[cclBg.z.indexOf(1)];

function runEH(params: Record<string, number> = FID, vary: string[] = [], withBlock: Record<string, unknown> = {}) {
  const bg = runBackground(params, vary);
  return eisensteinHu.run(fakeContext(eisensteinHu, { params, vary, with: withBlock, inputs: { background: bg } })) as PowerGrid;
}

describe('EH98 P(k) vs CCL (fid)', () => {
  test('z = 0 and z = 1 at every tabulated k (pure function, D(1) from the CCL table)', () => {
    const { P } = ehLinearPowerZ0(ccl.k_1overMpc, FID);
    const z0 = maxRel(P.value, ccl.PlinEH_z0_Mpc3);
    const z1 = maxRel(P.value.map((v) => v * D1_CCL * D1_CCL), ccl.PlinEH_z1_Mpc3);
    // Project criterion: 1e-3. We measure 3.3e-8 at both z (CCL's own sigma8 integral is good to ~1e-8), so a
    // much tighter bound guards against regressions in the fit's coefficients.
    expect(z0.max).toBeLessThan(1e-6);
    expect(z1.max).toBeLessThan(1e-6);
  });

  test('the stage output (default grid, interpolated at the CCL k) agrees at z = 0 and z = 1', () => {
    const g = runEH();
    const t = { source: 'eh', k_1overMpc: g.k_1overMpc, z: g.z, P_Mpc3: g.P_Mpc3.value };
    const P = powerTableAt(t, ccl.k_1overMpc, Float64Array.of(0, 1), { extrapolate: false });
    const n = ccl.k_1overMpc.length;
    // 1e-3 is the criterion; the k and z interpolation of the default grid (< 7e-6) and the growth factor of
    // background/w0wa against CCL's (~1e-6) are what remains: bound 2e-5.
    expect(maxRel(P.subarray(0, n), ccl.PlinEH_z0_Mpc3).max).toBeLessThan(2e-5);
    expect(maxRel(P.subarray(n), ccl.PlinEH_z1_Mpc3).max).toBeLessThan(2e-5);
  });
});

describe('sigma8 normalisation', () => {
  test('top-hat window and its derivative: series and closed form agree at the switch, derivative matches differences', () => {
    for (const x of [0.5, 3, 20]) {
      const h = 1e-6;
      expect(topHatWindowDeriv(x)).toBeCloseTo((topHatWindow(x + h) - topHatWindow(x - h)) / (2 * h), 8);
    }
    // at x = 0.1 the closed forms are still good to ~1e-13 (W) and ~1e-11 (W'); the series switch is seamless
    const a = 0.1 * (1 - 1e-12), b = 0.1 * (1 + 1e-12);
    expect(Math.abs(topHatWindow(a) / topHatWindow(b) - 1)).toBeLessThan(1e-12);
    expect(Math.abs(topHatWindowDeriv(a) / topHatWindowDeriv(b) - 1)).toBeLessThan(1e-10);
  });

  for (const [sigma8, n_s] of [[0.816, 0.96], [0.7, 1.05]])
    test(`sigma8 recomputed from the output grid equals the parameter (sigma8 = ${sigma8}, n_s = ${n_s})`, () => {
      const params = { ...FID, sigma8, n_s };
      const g = runEH(params);
      const nk = g.k_1overMpc.length;
      const row0 = g.P_Mpc3.value.subarray(0, nk); // z = 0
      // independent method: spline of ln P in ln k of the grid, adaptive Gauss-Legendre in ln k over the grid's range
      const s = cubicSpline(Float64Array.from(g.k_1overMpc, Math.log), Float64Array.from(row0, Math.log));
      const R = 8 / params.h;
      const res = gaussLegendreAdaptive(
        (x, out) => {
          for (let i = 0; i < x.length; i++) {
            const k = Math.exp(x[i]);
            const W = topHatWindow(k * R);
            out[i] = (k * k * k * Math.exp(splineEval(s, x[i])) * W * W) / (2 * Math.PI * Math.PI);
          }
        },
        Math.log(g.k_1overMpc[0]), Math.log(g.k_1overMpc[nk - 1]),
        { rtol: 1e-10, order: 16, maxPanels: 4096 },
      );
      // spline interpolation of the 100-per-decade grid is good to ~6e-6 in P (1e-6 after averaging)
      expect(Math.abs(Math.sqrt(res.value) / sigma8 - 1)).toBeLessThan(2e-6);
    });

  test('the fixed quadrature rule is converged: 4x finer panels change P by < 1e-10', () => {
    const k = logKGrid({ k_min: 1e-4, k_max: 10, per_decade: 10 });
    const a = ehLinearPowerZ0(k, FID).P.value;
    const b = ehLinearPowerZ0(k, FID, { sigmaRefine: 4 }).P.value;
    expect(maxRel(a, b).max).toBeLessThan(1e-10);
  });

  for (const params of [FID, { ...FID, h: 0.5, n_s: 0.9 }, { ...FID, h: 0.9, n_s: 1.1, Omega_b: 0.03 }])
    test(`the top-hat rule in kR agrees with a dense Gauss-Legendre rule in ln k to 1e-10 (h = ${params.h}, n_s = ${params.n_s})`, () => {
      // independent: 8192 panels of 8 nodes in ln k on [1e-6, 1e3] /Mpc, the window evaluated at each node
      // (sigma8.ts topHatVariance); sigma^2 of the shape times the stage's amplitude A must be sigma8^2
      const g = gaussLegendreRule(Math.log(1e-6), Math.log(1e3), 8, 8192);
      const dense = { k: Float64Array.from(g.x, Math.exp), w: g.w };
      const T = ehTransfer(dense.k, params).value;
      const shape = Float64Array.from(dense.k, (kk, i) => (Math.pow(kk, 3 + params.n_s) * T[i] * T[i]) / (2 * Math.PI * Math.PI));
      const var8 = topHatVariance(dense, { value: shape, tangent: null, P: 0 }, { v: 8 / params.h, d: null }).v;
      const A = ehLinearPowerZ0(Float64Array.of(0.1), params).amplitude.v;
      expect(Math.abs((A * var8) / (params.sigma8 * params.sigma8) - 1)).toBeLessThan(1e-10);
    });
});

describe('transfer function', () => {
  test('T(k) -> 1 as k -> 0, with and without wiggles (EH98: T is normalised to 1 on large scales)', () => {
    const k = Float64Array.of(1e-7, 1e-6);
    for (const wiggles of [true, false]) {
      const T = ehTransfer(k, FID, { wiggles }).value;
      expect(Math.abs(T[0] - 1)).toBeLessThan(1e-5);
      expect(T[1]).toBeLessThan(1);
    }
  });

  test('no-wiggle P: within a few % of the wiggled P everywhere, and the wiggles average out', () => {
    const k = logKGrid({ k_min: 1e-4, k_max: 10, per_decade: 200 });
    const w = ehLinearPowerZ0(k, FID, { wiggles: true }).P.value;
    const nw = ehLinearPowerZ0(k, FID, { wiggles: false }).P.value;
    let maxDev = 0, lowK = 0;
    for (let i = 0; i < k.length; i++) {
      const r = w[i] / nw[i] - 1;
      maxDev = Math.max(maxDev, Math.abs(r));
      if (k[i] < 3e-3) lowK = Math.max(lowK, Math.abs(r));
    }
    // EH98 section 4: the no-wiggle form tracks the wiggled one to a few per cent, BAO amplitude ~5-10%
    expect(maxDev).toBeGreaterThan(0.02); // there are wiggles to remove
    expect(maxDev).toBeLessThan(0.12);
    expect(lowK).toBeLessThan(0.01);
  });
});

describe('errors', () => {
  test('physically impossible parameters are errors naming the parameter', () => {
    expect(() => ehLinearPowerZ0(Float64Array.of(0.1), { ...FID, Omega_b: 0.4 })).toThrow(/Omega_b.*smaller than parameters.Omega_m/);
    expect(() => ehLinearPowerZ0(Float64Array.of(0.1), { ...FID, sigma8: -0.1 })).toThrow(/sigma8.*must be > 0/);
    expect(() => ehLinearPowerZ0(Float64Array.of(0.1), { ...FID, Omega_b: 0 })).toThrow(/Omega_b.*wiggles: false/);
    expect(() => ehLinearPowerZ0(Float64Array.of(0.1), { ...FID, Omega_b: 0 }, { wiggles: false })).not.toThrow();
  });

  test('an output z grid beyond the background is an error naming with.z.z_max', () => {
    const bg = runBackground(FID, [], { z_max: 3, output_z: [0, 1] });
    expect(() => eisensteinHu.run(fakeContext(eisensteinHu, { params: FID, inputs: { background: bg } }))).toThrow(/with\.z\.z_max = 4/);
  });

  test('check() reports bad config and parameters', () => {
    const cfg = fakeContext(eisensteinHu, {}).config;
    const msgs = eisensteinHu.check!({ ...cfg, k: { ...cfg.k, k_max: 1e-6 }, output_z: [5] }, { params: { Omega_b: 0.5 } });
    expect(msgs.join('\n')).toMatch(/with\.k\.k_max/);
    expect(msgs.join('\n')).toMatch(/with\.output_z\[0\]/);
    expect(msgs.join('\n')).toMatch(/parameters\.Omega_b/);
  });
});

describe('tangents vs central finite differences', () => {
  const VARY = ['Omega_m', 'h', 'sigma8', 'n_s', 'Omega_b', 'T_cmb', 'w0'];
  const small = { k: { per_decade: 15 }, z: { count: 5 } };
  test('d ln P/d theta on the whole grid, for ' + VARY.join(', '), () => {
    const base = runEH(FID, VARY, small);
    const N = base.P_Mpc3.value.length;
    VARY.forEach((name, p) => {
      const v = (FID as Record<string, number>)[name];
      const h = 1e-5 * Math.abs(v);
      const up = runEH({ ...FID, [name]: v + h }, [], small).P_Mpc3.value;
      const dn = runEH({ ...FID, [name]: v - h }, [], small).P_Mpc3.value;
      let err = 0;
      for (let i = 0; i < N; i++) {
        const fd = (up[i] - dn[i]) / (2 * h) / base.P_Mpc3.value[i];
        const ad = base.P_Mpc3.tangent![p * N + i] / base.P_Mpc3.value[i];
        err = Math.max(err, Math.abs(ad - fd) / Math.max(1, Math.abs(fd)));
      }
      // central differences with a 1e-5 relative step: truncation ~1e-10, rounding ~1e-11 / 1e-5
      expect(err, name).toBeLessThan(1e-6);
    });
  });

  test('the values do not depend on the tangents carried (bitwise)', () => {
    const bg = runBackground(FID);
    const run = (vary: string[]) =>
      (eisensteinHu.run(fakeContext(eisensteinHu, { params: FID, vary, with: small, inputs: { background: bg } })) as PowerGrid).P_Mpc3.value;
    expect(Array.from(run(VARY))).toEqual(Array.from(run([])));
  });

  test('tangents with respect to a seeded parameter reach the pure function too', () => {
    const k = Float64Array.of(1e-3, 0.05, 0.2, 1, 5);
    const P = 2;
    const a = ehLinearPowerZ0(k, { ...FID, Omega_m: seed(0.32, 0, P), n_s: seed(0.96, 1, P) }).P;
    const h = 1e-6;
    const up = ehLinearPowerZ0(k, { ...FID, n_s: 0.96 + h }).P.value;
    const dn = ehLinearPowerZ0(k, { ...FID, n_s: 0.96 - h }).P.value;
    for (let i = 0; i < k.length; i++)
      expect(a.tangent![k.length + i] / a.value[i]).toBeCloseTo((up[i] - dn[i]) / (2 * h) / a.value[i], 6);
  });
});

describe('write()', () => {
  test('pk.tsv reads back with the table reader at the requested redshifts', async () => {
    const g = runEH(FID, [], { k: { per_decade: 20 }, output_z: [0, 1, 2.5] });
    const files = await eisensteinHu.write!(g, 'pk.tsv', { config: fakeContext(eisensteinHu, { with: { output_z: [0, 1, 2.5] } }).config, params: {} });
    const t = parsePowerTable(files['pk.tsv'] as string, 'pk.tsv', { h_units: 'auto' });
    expect(Array.from(t.z)).toEqual([0, 1, 2.5]);
    const nk = g.k_1overMpc.length;
    expect(maxRel(t.P_Mpc3.subarray(0, nk), g.P_Mpc3.value.subarray(0, nk)).max).toBeLessThan(1e-10);
    // z = 1 is not a node of the ln(1+z) grid: interpolated, compared with D(1)^2 P(k, 0)
    const D1 = backgroundAt(runBackground(FID), Float64Array.of(1)).D.value[0];
    const expected = g.P_Mpc3.value.subarray(0, nk).map((v) => v * D1 * D1);
    expect(maxRel(t.P_Mpc3.subarray(nk, 2 * nk), expected).max).toBeLessThan(1e-6);
  });
});
