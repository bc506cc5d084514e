/**
 * The discrete adjoint of the Boltzmann request with massive neutrinos (m_nu = 0.06 eV, one massive species: the
 * momentum-bin hierarchy, then the ncdm fluid), for F = sum_{k,z} w(k, z) [P(k, z) + P_cb(k, z)] along h, Omega_m,
 * N_eff and m_nu (issue 18, "and m_nu once it exists"):
 *   - against forward AD of the stage on the same accepted steps: 1e-6;
 *   - with `switchTimes`, against central differences of the whole chain (background, recombination, modes re-solved
 *     at theta +- step; the switches move there): 1e-4.
 * The request is adjoint-harness.ts's coarse one (24 modes to 0.5 /Mpc) with fewer momentum bins (5, l_max 10), so
 * that the eight re-solves of the differences stay cheap; the hierarchy and the fluid switch are both exercised.
 */
import { describe, expect, test } from 'vitest';
import { type BoltzmannConfig, boltzmann, boltzmannPower } from '../../../plugins/linear-power/boltzmann.js';
import { boltzmannPowerVjp } from '../../../plugins/linear-power/boltzmann/adjoint-power.js';
import { FID, configOf } from './harness.js';
import { ADJOINT_GRID, adjointWeights, requestInputs, worstRelative } from './adjoint-harness.js';

const VARY = ['h', 'Omega_m', 'N_eff', 'm_nu'];
const MNU = { ...FID, m_nu: 0.06 };
const STEP: Record<string, number> = { h: 2.5e-4, Omega_m: 5e-4, N_eff: 1e-2, m_nu: 1.5e-3 };
const NEUTRINOS = { q_bins: 5, l_max: 10 };

/** F's weights on P and on P_cb (the same w) and the forward-AD gradient of F from the stage's tangents. */
function contract(out: { P_Mpc3: { value: Float64Array; tangent?: Float64Array | null }; P_cb_Mpc3?: { value: Float64Array; tangent?: Float64Array | null } }, w: Float64Array, P: number): Float64Array {
  const N = w.length, g = new Float64Array(P);
  for (const arr of [out.P_Mpc3, out.P_cb_Mpc3!])
    for (let p = 0; p < P; p++) for (let i = 0; i < N; i++) g[p] += w[i] * arr.tangent![p * N + i];
  return g;
}

const value = (out: { P_Mpc3: { value: Float64Array }; P_cb_Mpc3?: { value: Float64Array } }, w: Float64Array): number => {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i] * (out.P_Mpc3.value[i] + out.P_cb_Mpc3!.value[i]);
  return s;
};

describe('discrete adjoint of P(k, z) and P_cb(k, z) with massive neutrinos', () => {
  test('equals forward AD on the same steps (1e-6); with switchTimes, central differences (1e-4)', { tags: ['slow'] }, async () => {
    const cfg = configOf<BoltzmannConfig>(boltzmann, { ...ADJOINT_GRID, neutrinos: NEUTRINOS, precision: { rtol: 1e-8, atol: 1e-13 } });
    const inp = requestInputs(MNU, VARY);
    const fwd = await boltzmannPower(cfg, inp);
    const N = fwd.P_Mpc3.value.length;
    const w = adjointWeights(N);
    const ref = contract(fwd, w, VARY.length);
    const bar = { P_Mpc3: w, P_cb_Mpc3: w };
    const same = (await boltzmannPowerVjp(cfg, { ...inp, stepsFromSensitivities: true }, bar)).gradient;
    const a = worstRelative(same, ref, VARY);
    console.log(`m_nu = 0.06: adjoint vs forward AD, same steps: ${a.each}`);
    expect(a.worst).toBeLessThan(1e-6);

    const moving = (await boltzmannPowerVjp(cfg, { ...inp, switchTimes: true }, bar)).gradient;
    const fd = new Float64Array(VARY.length);
    for (let p = 0; p < VARY.length; p++) {
      const name = VARY[p], v = (MNU as Record<string, number>)[name];
      const F = async (x: number) => value(await boltzmannPower(cfg, requestInputs({ ...MNU, [name]: x }, [])), w);
      fd[p] = ((await F(v + STEP[name])) - (await F(v - STEP[name]))) / (2 * STEP[name]);
    }
    const b = worstRelative(moving, fd, VARY);
    console.log(`m_nu = 0.06: adjoint with switchTimes vs central differences of the whole chain: ${b.each}`);
    expect(Math.abs(moving[VARY.indexOf('m_nu')])).toBeGreaterThan(0);
    expect(b.worst).toBeLessThan(1e-4);
  });
});
