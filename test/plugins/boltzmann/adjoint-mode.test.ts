/**
 * The discrete adjoint of one k-mode (plugins/linear-power/boltzmann/adjoint.ts) for F = sum_i w_i delta_m(k, z_i),
 * z = 2, 1, 0.5, 0, along the active directions of h, Omega_b, Omega_m, w0, wa, N_eff (w0wa: PPF on), at modes
 * that pass every switch (end of tight coupling, neutrino fluid, radiation streaming):
 *   - against the forward sensitivities (mode.ts, solveMode) on the same accepted steps: rounding level;
 *   - against central differences of the same discrete solution (frozen steps and switching times) in s;
 *   - against central differences of the whole chain (background, recombination, setup, mode re-solved at
 *     theta +- step with the fiducial schedule), both at rtol 1e-9;
 *   - the cotangents accumulated on the tables and base quantities (flat in the directions) against one difference
 *     per direction; the continuous scheme against the discrete one (to the ODE tolerance, converging with it);
 *   - with massive neutrinos (hierarchy and fluid, delta_m and delta_cb) against the forward sensitivities;
 *   - the transposed spline of the thermal tables by a dot-product test.
 */
import { describe, expect, test } from 'vitest';
import { createBdf, createTsit5 } from '../../../core/numerics/ode/index.js';
import { seededCosmology, cosmologyFrom } from '../../../plugins/contracts/cosmology.js';
import type { Recombination } from '../../../plugins/contracts/recombination.js';
import { discreteRegime, modeVjp, recordMode, replayMode } from '../../../plugins/linear-power/boltzmann/adjoint.js';
import { modeVjpContinuous } from '../../../plugins/linear-power/boltzmann/adjoint-continuous.js';
import { schedule, solveMode } from '../../../plugins/linear-power/boltzmann/mode.js';
import { DEFAULT_APPROXIMATIONS, buildModeSetup, uniformSplineM } from '../../../plugins/linear-power/boltzmann/setup.js';
import { splineMTranspose } from '../../../plugins/linear-power/boltzmann/adjoint-recombination.js';
import { recfastRecombination } from '../../../plugins/recombination/recfast.js';
import { W0WA, fakeContext, runBackground } from './harness.js';

const VARY = ['h', 'Omega_b', 'Omega_m', 'w0', 'wa', 'N_eff'];
const STEP: Record<string, number> = { h: 2.5e-4, Omega_b: 5e-4, Omega_m: 1e-3, w0: 1e-3, wa: 3e-3, N_eff: 1e-2 };
const XOUT = Float64Array.from([2, 1, 0.5, 0], (z) => -Math.log1p(z));
const W = [0.3, -0.7, 1.1, 0.5];
const tsit5 = createTsit5();

function setupAt(params: Record<string, number>, vary: string[]) {
  const bg = runBackground(params, vary);
  const rec = recfastRecombination.run(fakeContext(recfastRecombination, { params, vary, inputs: { background: bg } })) as Recombination;
  return buildModeSetup({
    cosmology: vary.length ? seededCosmology(params, vary) : cosmologyFrom(params), recombination: rec, P: vary.length,
    approx: DEFAULT_APPROXIMATIONS, darkEnergy: 'ppf', ppfCGammaOverCs: 0.4,
  });
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

describe('discrete adjoint of a k-mode', () => {
  const { setup, active } = setupAt(W0WA, VARY);

  test('every varied parameter is an active direction', () => {
    expect(active).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test.each([0.005, 0.05, 0.2])('k = %s /Mpc: equals the forward sensitivities on the same steps', (k) => {
    const opt = { rtol: 1e-6, atol: 1e-10 };
    const t0 = performance.now();
    const fwd = solveMode(setup, k, XOUT, tsit5, { ...opt, sensitivities: true });
    const t1 = performance.now();
    const tape = recordMode(setup, k, XOUT, tsit5, { ...opt, stepsFromSensitivities: true });
    const g = modeVjp(tape, W).sBar;
    const t2 = performance.now();
    expect(tape.steps).toBe(fwd.steps);
    for (let i = 0; i < XOUT.length; i++) expect(Math.abs(tape.delta[i] / fwd.delta[i] - 1)).toBeLessThan(1e-12);
    let worst = 0;
    const scale = Math.max(...VARY.map((_, a) => Math.abs(dot(W, fwd.dDelta!.subarray(a * 4, a * 4 + 4)))));
    VARY.forEach((_, a) => {
      const ref = dot(W, fwd.dDelta!.subarray(a * 4, a * 4 + 4));
      worst = Math.max(worst, Math.abs(g[a] - ref) / Math.max(Math.abs(ref), 1e-3 * scale));
    });
    console.log(`k=${k}: adjoint vs forward sensitivities (same ${tape.steps} steps) worst rel ${worst.toExponential(2)}; ` +
      `forward-sens ${(t1 - t0).toFixed(0)} ms, record+vjp ${(t2 - t1).toFixed(0)} ms, stored ${tape.storedDoubles} doubles`);
    expect(worst).toBeLessThan(1e-6);
  });

  test.each([0.005, 0.2])('k = %s /Mpc: the cotangents on the tables and base quantities, contracted at the end, equal the per-direction ones', (k) => {
    const tape = recordMode(setup, k, XOUT, tsit5, { rtol: 1e-6, atol: 1e-10 });
    const t0 = performance.now();
    const tables = modeVjp(tape, W, null, 'tables');
    const t1 = performance.now();
    const dirs = modeVjp(tape, W, null, 'directions');
    const t2 = performance.now();
    const scale = Math.max(...Array.from(dirs.sBar, Math.abs));
    let worst = 0;
    for (let a = 0; a < setup.Pa; a++) worst = Math.max(worst, Math.abs(tables.sBar[a] - dirs.sBar[a]) / Math.max(Math.abs(dirs.sBar[a]), 1e-3 * scale));
    console.log(`k=${k}: tables vs directions worst rel ${worst.toExponential(2)}; vjp ${(t1 - t0).toFixed(0)} ms (tables), ${(t2 - t1).toFixed(0)} ms (directions)`);
    expect(worst).toBeLessThan(1e-6);
  });

  test('with another ode-solver bound (bdf), the modes are re-solved by tsit5 for the adjoint', () => {
    const opt = { rtol: 1e-6, atol: 1e-10 };
    const a = recordMode(setup, 0.05, XOUT, createBdf(), opt), b = recordMode(setup, 0.05, XOUT, tsit5, opt);
    expect(a.steps).toBe(b.steps);
    expect(Array.from(modeVjp(a, W).sBar)).toEqual(Array.from(modeVjp(b, W).sBar));
  });

  test.each([0.005, 0.2])('k = %s /Mpc: equals central differences of the same discrete solution', (k) => {
    const tape = recordMode(setup, k, XOUT, tsit5, { rtol: 1e-6, atol: 1e-10 });
    const g = modeVjp(tape, W).sBar;
    let worst = 0;
    VARY.forEach((p, a) => {
      const d = 0.1 * STEP[p];
      const at = (h: number) => {
        const sv = new Float64Array(setup.Pa);
        sv[a] = h;
        return dot(W, replayMode(tape, sv).delta);
      };
      // fourth-order central difference
      const fd = (8 * (at(d) - at(-d)) - (at(2 * d) - at(-2 * d))) / (12 * d);
      worst = Math.max(worst, Math.abs(g[a] - fd) / Math.abs(fd));
    });
    console.log(`k=${k}: adjoint vs differences of the discrete solution: worst rel ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-6);
  });

  test.each([0.005, 0.05, 0.2])('k = %s /Mpc: the continuous scheme agrees with the discrete one to the ODE tolerance', (k) => {
    const errs: string[] = [];
    let last = 0;
    for (const rtol of [1e-6, 1e-8]) {
      const tape = recordMode(setup, k, XOUT, tsit5, { rtol, atol: rtol * 1e-4, dense: true });
      const t0 = performance.now();
      const d = modeVjp(tape, W).sBar;
      const t1 = performance.now();
      const c = modeVjpContinuous(tape, W).sBar;
      const t2 = performance.now();
      const scale = Math.max(...Array.from(d, Math.abs));
      last = 0;
      for (let a = 0; a < setup.Pa; a++) last = Math.max(last, Math.abs(c[a] - d[a]) / Math.max(Math.abs(d[a]), 1e-3 * scale));
      errs.push(`rtol ${rtol}: ${last.toExponential(2)} (discrete ${(t1 - t0).toFixed(0)} ms, continuous ${(t2 - t1).toFixed(0)} ms)`);
    }
    console.log(`k=${k}: continuous vs discrete, worst rel: ${errs.join('; ')}`);
    expect(last).toBeLessThan(1e-5);
  });

  test('k = 0.05 /Mpc: agrees with central differences of the whole chain to 1e-4 (rtol 1e-9)', () => {
    const k = 0.05, opt = { rtol: 1e-9, atol: 1e-14 };
    const sch = schedule(setup, k);
    const tape = recordMode(setup, k, XOUT, tsit5, { ...opt, schedule: sch });
    const g = modeVjp(tape, W).sBar;
    // with the motion of the switches added (adjoint-switches.ts): against the differences with a moving schedule
    const gs = modeVjp(tape, W, null, 'tables', discreteRegime, { switchTimes: true }).sBar;
    // frozen: the fiducial switching times (what the adjoint differentiates); moving: each point's own schedule
    const F = (params: Record<string, number>, frozen: boolean) =>
      dot(W, solveMode(setupAt(params, []).setup, k, XOUT, tsit5, { ...opt, sensitivities: false, schedule: frozen ? sch : undefined }).delta);
    const errs: [string, number][] = [];
    const moving: string[] = [];
    const movingErr: number[] = [];
    VARY.forEach((p, a) => {
      const base = (W0WA as Record<string, number>)[p];
      const fd = (frozen: boolean) => (F({ ...W0WA, [p]: base + STEP[p] }, frozen) - F({ ...W0WA, [p]: base - STEP[p] }, frozen)) / (2 * STEP[p]);
      const e = Math.abs(g[a] - fd(true)) / Math.abs(g[a]);
      errs.push([p, e]);
      const fm = fd(false);
      moving.push(`${p} ${(Math.abs(g[a] - fm) / Math.abs(g[a])).toExponential(2)} -> ${(Math.abs(gs[a] - fm) / Math.abs(gs[a])).toExponential(2)}`);
      movingErr.push(Math.abs(gs[a] - fm) / Math.abs(gs[a]));
    });
    console.log(`k=${k}: adjoint vs differences of the whole chain: ${errs.map(([p, e]) => `${p} ${e.toExponential(2)}`).join(', ')}\n` +
      `  differences with the switching times moving, against the adjoint without -> with their motion (switchTimes): ${moving.join(', ')}`);
    for (const [, e] of errs) expect(e).toBeLessThan(1e-4);
  });
});

describe('discrete adjoint of a k-mode with massive neutrinos (m_nu = 0.06 eV)', () => {
  // a smaller momentum grid than the default (5 bins, l_max 10) keeps the state (and the Jacobians) small
  const MNU = { ...W0WA, w0: -1, wa: 0, m_nu: 0.06 };
  const vary = ['h', 'Omega_m', 'm_nu'];
  const bg = runBackground(MNU, vary);
  const rec = recfastRecombination.run(fakeContext(recfastRecombination, { params: MNU, vary, inputs: { background: bg } })) as Recombination;
  const { setup } = buildModeSetup({
    cosmology: seededCosmology(MNU, vary), recombination: rec, P: vary.length,
    approx: { ...DEFAULT_APPROXIMATIONS, ncdmQBins: 5, lmaxNcdm: 10 }, darkEnergy: 'ppf', ppfCGammaOverCs: 0.4,
  });

  test('k = 0.05 /Mpc (hierarchy, then the ncdm fluid): delta_m and delta_cb against the forward sensitivities on the same steps', () => {
    const k = 0.05, opt = { rtol: 1e-6, atol: 1e-10 };
    const fwd = solveMode(setup, k, XOUT, tsit5, { ...opt, sensitivities: true });
    const tape = recordMode(setup, k, XOUT, tsit5, { ...opt, stepsFromSensitivities: true });
    const Wcb = [-0.4, 0.9, 0.2, -1.3];
    const g = modeVjp(tape, W, Wcb).sBar;
    const nx = XOUT.length;
    let worst = 0;
    const each: string[] = [];
    for (let a = 0; a < setup.Pa; a++) {
      const ref = dot(W, fwd.dDelta!.subarray(a * nx, (a + 1) * nx)) + dot(Wcb, fwd.dDeltaCb!.subarray(a * nx, (a + 1) * nx));
      const e = Math.abs(g[a] - ref) / Math.abs(ref);
      each.push(`${vary[a]} ${e.toExponential(2)}`);
      worst = Math.max(worst, e);
    }
    console.log(`massive neutrinos, k=${k}: adjoint vs forward sensitivities (same ${tape.steps} steps): ${each.join(', ')}`);
    expect(setup.Pa).toBe(3);
    expect(worst).toBeLessThan(1e-6);
  });
});

describe('the transposed spline of the thermal tables', () => {
  test('mbar . M y = (M^T mbar) . y for the natural-spline second derivatives (setup.ts uniformSplineM)', () => {
    const n = 40, h = 0.013;
    const y = Float64Array.from({ length: n }, (_, i) => Math.sin(0.37 * i) + 0.1 * i);
    const mBar = Float64Array.from({ length: n }, (_, i) => Math.cos(1.1 * i + 0.4));
    const m = new Float64Array(n);
    uniformSplineM(y, 0, n, h, m, 0);
    const yBar = new Float64Array(n);
    splineMTranspose(mBar, h, yBar);
    const lhs = dot(mBar, m), rhs = dot(yBar, y);
    expect(Math.abs(lhs - rhs) / Math.abs(lhs)).toBeLessThan(1e-12);
  });
});
