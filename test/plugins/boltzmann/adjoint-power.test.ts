/**
 * The discrete adjoint of the whole Boltzmann request (plugins/linear-power/boltzmann/adjoint-power.ts) for the
 * functional F = sum_{k,z} w(k, z) P(k, z), w fixed pseudo-random weights, along h, Omega_b, Omega_m, n_s, w0, wa,
 * N_eff (w0wa cosmology: PPF on), sigma8 normalisation:
 *   - against forward AD of the stage (boltzmannPower: ODE sensitivities, transfer tangents, sigma8 chain rule) on
 *     the same accepted steps (stepsFromSensitivities): rounding level, 1e-6;
 *   - on the values-only steps (what the vjp differentiates by default): the two discretisations differ at the
 *     ODE tolerance; and the continuous scheme against the discrete one (also the ODE tolerance);
 *   - against central differences of the whole chain (background, recombination, modes re-solved at theta +- step,
 *     default triggers): the switching times move with theta there, which forward AD and the plain adjoint hold
 *     fixed (docs/boltzmann.md, "Forward-mode derivatives") and the adjoint with switchTimes differentiates;
 * The cost against the plain solve and forward AD is measured by `npm run bench:boltzmann-gradient`.
 */
import { describe, expect, test } from 'vitest';
import { type BoltzmannConfig, boltzmann, boltzmannPower } from '../../../plugins/linear-power/boltzmann.js';
import { boltzmannPowerVjp } from '../../../plugins/linear-power/boltzmann/adjoint-power.js';
import { W0WA, configOf } from './harness.js';
import { ADJOINT_GRID, ADJOINT_VARY, adjointWeights, requestInputs, worstRelative } from './adjoint-harness.js';

const VARY = ADJOINT_VARY;
const STEP: Record<string, number> = { h: 2.5e-4, Omega_b: 2.5e-4, Omega_m: 5e-4, n_s: 1e-3, w0: 1e-3, wa: 3e-3, N_eff: 1e-2 };
const GRID = ADJOINT_GRID;
const inputs = requestInputs;
const weights = adjointWeights;

describe('discrete adjoint of P(k, z)', () => {
  test('equals forward AD of the stage on the same steps (1e-6), and on its own steps to the ODE tolerance', async () => {
    const cfg = configOf<BoltzmannConfig>(boltzmann, GRID);
    const inp = inputs(W0WA, VARY);
    const t0 = performance.now();
    const fwd = await boltzmannPower(cfg, inp);
    const t1 = performance.now();
    const N = fwd.P_Mpc3.value.length;
    const w = weights(N);
    const ref = new Float64Array(VARY.length);
    for (let p = 0; p < VARY.length; p++) for (let i = 0; i < N; i++) ref[p] += w[i] * fwd.P_Mpc3.tangent![p * N + i];
    const same = await boltzmannPowerVjp(cfg, { ...inp, stepsFromSensitivities: true }, { P_Mpc3: w });
    const t2 = performance.now();
    let dv = 0;
    for (let i = 0; i < N; i++) dv = Math.max(dv, Math.abs(same.P_Mpc3[i] / fwd.P_Mpc3.value[i] - 1));
    expect(dv).toBeLessThan(1e-10);
    const a = worstRelative(same.gradient, ref);
    const own = await boltzmannPowerVjp(cfg, inp, { P_Mpc3: w });
    const t3 = performance.now();
    const b = worstRelative(own.gradient, ref);
    const t4 = performance.now();
    const cont = await boltzmannPowerVjp(cfg, { ...inp, scheme: 'continuous' }, { P_Mpc3: w });
    const t5 = performance.now();
    const c = worstRelative(cont.gradient, own.gradient);
    console.log(`continuous vs discrete scheme (rtol 1e-5): ${c.each}; continuous ${(t5 - t4).toFixed(0)} ms`);
    expect(c.worst).toBeLessThan(1e-3);
    console.log(`adjoint vs forward AD, same steps: ${a.each}\n  own (values-only) steps: ${b.each}\n` +
      `  forward AD ${(t1 - t0).toFixed(0)} ms, adjoint ${(t3 - t2).toFixed(0)} ms (${own.steps} steps, ${(own.storedDoubles * 8 / 1e6).toFixed(1)} MB of tapes)`);
    expect(a.worst).toBeLessThan(1e-6);
    expect(b.worst).toBeLessThan(1e-3);
  });

  test('agrees with central differences of the whole chain once the switches move with the parameters (rtol 1e-8)', async () => {
    // default approximation triggers: the switching times move with theta in the differences; the adjoint adds
    // their motion with switchTimes (adjoint-switches.ts), forward AD and the plain adjoint hold them fixed
    const cfg = configOf<BoltzmannConfig>(boltzmann, { ...GRID, precision: { rtol: 1e-8, atol: 1e-13 } });
    const inp = inputs(W0WA, VARY);
    const N = (await boltzmannPower(cfg, inputs(W0WA, []))).P_Mpc3.value.length;
    const w = weights(N);
    const fixed = (await boltzmannPowerVjp(cfg, inp, { P_Mpc3: w })).gradient;
    const moving = (await boltzmannPowerVjp(cfg, { ...inp, switchTimes: true }, { P_Mpc3: w })).gradient;
    const F = async (params: Record<string, number>) => {
      const P = (await boltzmannPower(cfg, inputs(params, []))).P_Mpc3.value;
      let s = 0;
      for (let i = 0; i < N; i++) s += w[i] * P[i];
      return s;
    };
    const fd = new Float64Array(VARY.length);
    for (let p = 0; p < VARY.length; p++) {
      const name = VARY[p], v = (W0WA as Record<string, number>)[name];
      fd[p] = ((await F({ ...W0WA, [name]: v + STEP[name] })) - (await F({ ...W0WA, [name]: v - STEP[name] }))) / (2 * STEP[name]);
    }
    const a = worstRelative(fixed, fd), b = worstRelative(moving, fd);
    console.log(`adjoint vs central differences of the whole chain: switches fixed ${a.each}\n  switches moving (switchTimes): ${b.each}`);
    expect(b.worst).toBeLessThan(1e-4);
  });
});
