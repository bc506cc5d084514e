/**
 * The stage's vjp (linear-power/boltzmann descriptor, boltzmann/adjoint-power.ts boltzmannStageVjp) against forward
 * AD through the stage, for F = sum w(k, z) P(k, z) along h, Omega_b, Omega_m, n_s, w0, wa, N_eff (w0wa):
 *   - with a recombination input: the parameter bars plus the recombination bar contracted with recfast's tangents
 *     (what the runtime's forward boundary does with it) against forward AD with the tangent-carrying recfast input;
 *   - without: the stage's default thermal history, the parameter bars alone.
 * Both on their own steps at rtol 1e-7 (the vjp differentiates the values-only steps).
 */
import { describe, expect, test } from 'vitest';
import { createTsit5 } from '../../../core/numerics/ode/index.js';
import type { VjpContext } from '../../../core/plugin/types.js';
import type { Recombination } from '../../../plugins/contracts/recombination.js';
import { type BoltzmannConfig, type BoltzmannPower, boltzmann, boltzmannPower } from '../../../plugins/linear-power/boltzmann.js';
import { recfastRecombination } from '../../../plugins/recombination/recfast.js';
import { W0WA, configOf, fakeContext, runBackground } from './harness.js';
import { ADJOINT_GRID, ADJOINT_VARY, adjointWeights, requestInputs, worstRelative } from './adjoint-harness.js';

const VARY = ADJOINT_VARY;
const GRID = ADJOINT_GRID;
const tsit5 = createTsit5();
const inputs = (params: Record<string, number>) => requestInputs(params);
const weights = adjointWeights;

describe('the stage vjp (descriptor) against forward AD through the stage', () => {
  const cfgWith = { ...GRID, precision: { rtol: 1e-7, atol: 1e-12 } };
  const forwardGradient = async (rec: Recombination | undefined, w: Float64Array) => {
    const bg = runBackground(W0WA, VARY);
    const inputs = rec ? { background: bg, recombination: rec } : { background: bg };
    const out = (await boltzmann.run(fakeContext(boltzmann, { params: W0WA, vary: VARY, inputs, with: cfgWith, methods: { 'ode-solver': tsit5 } }))) as BoltzmannPower;
    const N = out.P_Mpc3.value.length;
    return Float64Array.from(VARY, (_, p) => {
      let acc = 0;
      for (let i = 0; i < N; i++) acc += w[i] * out.P_Mpc3.tangent![p * N + i];
      return acc;
    });
  };
  const vjpOf = async (rec: Recombination | undefined, w: Float64Array) => {
    const bg = runBackground(W0WA);
    const inputs = rec ? { background: bg, recombination: rec } : { background: bg };
    const base = fakeContext(boltzmann, { params: W0WA, inputs, with: cfgWith, methods: { 'ode-solver': tsit5 } });
    const output = (await boltzmann.run(base)) as BoltzmannPower;
    const ctx = { ...base, output } as VjpContext<BoltzmannConfig, typeof inputs, BoltzmannPower>;
    return { res: await boltzmann.vjp!(ctx, { P_Mpc3: w }), N: output.P_Mpc3.value.length };
  };

  test('with a recombination input: parameter bars plus the recombination bar contracted with its tangents', async () => {
    const bg = runBackground(W0WA, VARY);
    const recT = recfastRecombination.run(fakeContext(recfastRecombination, { params: W0WA, vary: VARY, inputs: { background: bg } })) as Recombination;
    const recV = recfastRecombination.run(fakeContext(recfastRecombination, { params: W0WA, inputs: { background: runBackground(W0WA) } })) as Recombination;
    const N = (await boltzmannPower(configOf<BoltzmannConfig>(boltzmann, cfgWith), inputs(W0WA))).P_Mpc3.value.length;
    const w = weights(N);
    const ref = await forwardGradient(recT, w);
    const { res } = await vjpOf(recV, w);
    const rb = res.inputs!.recombination as Record<string, Float64Array | number>;
    const g = Float64Array.from(VARY, (name, p) => {
      let acc = res.params?.[name] ?? 0;
      for (const f of ['kappa_prime_1overMpc', 'c_b2', 'tau_Mpc'] as const) {
        const t = recT[f].tangent!, n = recT[f].value.length, b = rb[f] as Float64Array;
        for (let i = 0; i < n; i++) acc += b[i] * t[p * n + i];
      }
      for (const f of ['kappa_coefficient_1overMpc', 'x_e_early', 'Y_He'] as const) acc += (rb[f] as number) * (recT[f].d?.[p] ?? 0);
      return acc;
    });
    const r = worstRelative(g, ref);
    console.log(`stage vjp (recombination input) vs forward AD: ${r.each}`);
    expect(r.worst).toBeLessThan(1e-6); // issue 18: discrete adjoint vs forward sensitivities (measured <= 1.1e-7)
  });

  test('without a recombination input (the default thermal history of the stage): parameter bars', async () => {
    const t0 = performance.now();
    const N = (await boltzmannPower(configOf<BoltzmannConfig>(boltzmann, cfgWith), inputs(W0WA))).P_Mpc3.value.length;
    const t1 = performance.now();
    const w = weights(N);
    const ref = await forwardGradient(undefined, w);
    const t2 = performance.now();
    const { res } = await vjpOf(undefined, w);
    const t3 = performance.now();
    const g = Float64Array.from(VARY, (name) => res.params?.[name] ?? 0);
    const r = worstRelative(g, ref);
    console.log(`stage vjp (default recombination) vs forward AD: ${r.each}\n  one thread: plain solve ${(t1 - t0).toFixed(0)} ms, ` +
      `forward AD (7 directions, + background) ${(t2 - t1).toFixed(0)} ms, vjp (${Object.keys(res.params ?? {}).length} parameters seeded, ` +
      `+ its values run) ${(t3 - t2).toFixed(0)} ms`);
    expect(r.worst).toBeLessThan(1e-6); // issue 18: discrete adjoint vs forward sensitivities (measured <= 1.1e-7)
  });
});
