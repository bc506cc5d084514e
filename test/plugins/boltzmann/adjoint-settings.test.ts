/**
 * The stage settings of the Boltzmann adjoint, `with.adjoint: {scheme, switchTimes}` (linear-power/boltzmann):
 *   - validation: a bad value is refused before compute with its JSON path; the defaults are filled in, and the
 *     settings enter the stage's memo key (writing the default explicitly gives the same key);
 *   - the descriptor's vjp follows them, for F = sum w(k, z) P(k, z) on the coarse request of the adjoint tests
 *     (adjoint-harness.ts: 24 modes to 0.5 /Mpc, z = 0, 1, 2; w0wa, default triggers):
 *       scheme `continuous` against the default `discrete` at rtol 1e-7: the two solve the same adjoint problem and
 *       differ by the ODE tolerance (docs/reverse-mode.md table: ~1e-5 at rtol 1e-5, 1e-7 at rtol 1e-8 per mode);
 *       `switchTimes: true` against central differences of the stage as computed (background and modes re-solved
 *       at theta +- step, each point with its own switching times; rtol 1e-8) in h and N_eff, the two parameters
 *       whose switches move most: it changes dF/d theta by the documented ~1e-4 relative (the switches' motion,
 *       which central differences see and the default vjp, like forward AD, leaves out) and meets the differences.
 */
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { preparePipeline } from '../../../core/cli/run-job.js';
import { stageKey } from '../../../core/graph/execute.js';
import { createTsit5 } from '../../../core/numerics/ode/index.js';
import type { VjpContext } from '../../../core/plugin/types.js';
import { InputError, type Issue } from '../../../core/schema/input-error.js';
import { type BoltzmannConfig, type BoltzmannPower, boltzmann } from '../../../plugins/linear-power/boltzmann.js';
import { W0WA, fakeContext, repoRoot, runBackground } from './harness.js';
import { ADJOINT_GRID, adjointWeights, worstRelative } from './adjoint-harness.js';

const PIPELINE = path.join(repoRoot, 'pipelines/linear-power.json');
const tsit5 = createTsit5();

async function issuesOf(sets: string[]): Promise<Issue[]> {
  const e = await preparePipeline(PIPELINE, [], sets).then(() => null, (x: unknown) => x);
  if (e === null) return [];
  if (!(e instanceof InputError)) throw e as Error;
  return e.issues;
}

describe('with.adjoint: validation and memo key', () => {
  test('bad values are refused with their JSON path', async () => {
    const scheme = await issuesOf(['stages.linear.with.adjoint={"scheme":"backward"}']);
    expect(scheme.map((i) => i.path)).toEqual(['stages.linear.with.adjoint.scheme']);
    expect(scheme[0].message).toMatch(/discrete.*continuous/);
    const sw = await issuesOf(['stages.linear.with.adjoint={"switchTimes":"yes"}']);
    expect(sw.map((i) => i.path)).toEqual(['stages.linear.with.adjoint.switchTimes']);
    expect(sw[0].message).toMatch(/boolean/);
    const unknown = await issuesOf(['stages.linear.with.adjoint={"schem":"continuous"}']);
    expect(unknown.map((i) => i.path)).toEqual(['stages.linear.with.adjoint.schem']);
  });

  test('defaults filled in; the settings enter the memo key, the explicit default does not change it', async () => {
    const keyOf = async (sets: string[]) => {
      const { plan } = await preparePipeline(PIPELINE, [], sets);
      const st = plan.stages.get('linear')!;
      return { config: st.config as unknown as BoltzmannConfig, key: stageKey(st, { h: 0.67 }, [], { background: 'b', recombination: 'r' }) };
    };
    const def = await keyOf([]);
    expect(def.config.adjoint).toEqual({ scheme: 'discrete', switchTimes: false });
    expect((await keyOf(['stages.linear.with.adjoint={"scheme":"discrete","switchTimes":false}'])).key).toBe(def.key);
    expect((await keyOf(['stages.linear.with.adjoint.scheme="continuous"'])).key).not.toBe(def.key);
    expect((await keyOf(['stages.linear.with.adjoint.switchTimes=true'])).key).not.toBe(def.key);
  });
});

/** The stage's forward run (values only) at params, with these settings: its context and output. */
async function runStage(params: Record<string, number>, withBlock: Record<string, unknown>) {
  const ctx = fakeContext(boltzmann, { params, inputs: { background: runBackground(params) }, with: withBlock, methods: { 'ode-solver': tsit5 } });
  return { ctx, output: (await boltzmann.run(ctx)) as BoltzmannPower };
}

/** F = w . P(k, z) of the stage run at params. */
async function functional(params: Record<string, number>, withBlock: Record<string, unknown>, w: Float64Array): Promise<number> {
  const P = (await runStage(params, withBlock)).output.P_Mpc3.value;
  let F = 0;
  for (let i = 0; i < w.length; i++) F += w[i] * P[i];
  return F;
}

/** The descriptor's vjp of F = w . P at params (its own values run first), with these stage settings. */
async function descriptorVjp(params: Record<string, number>, withBlock: Record<string, unknown>, w?: Float64Array) {
  const { ctx: base, output } = await runStage(params, withBlock);
  const weights = w ?? adjointWeights(output.P_Mpc3.value.length);
  const ctx = { ...base, output } as VjpContext<BoltzmannConfig, { background: ReturnType<typeof runBackground> }, BoltzmannPower>;
  const res = await boltzmann.vjp!(ctx, { P_Mpc3: weights });
  return { params: res.params ?? {}, w: weights };
}

describe('the descriptor vjp follows with.adjoint', () => {
  const NAMES = ['h', 'Omega_b', 'Omega_m', 'n_s', 'w0', 'wa', 'N_eff'];

  test('scheme continuous agrees with discrete to the ODE tolerance (rtol 1e-7)', async () => {
    const grid = { ...ADJOINT_GRID, precision: { rtol: 1e-7, atol: 1e-12 } };
    const d = await descriptorVjp(W0WA, grid);
    const c = await descriptorVjp(W0WA, { ...grid, adjoint: { scheme: 'continuous' } });
    const gd = NAMES.map((n) => d.params[n]), gc = NAMES.map((n) => c.params[n]);
    const r = worstRelative(gc, gd, NAMES);
    console.log(`descriptor vjp, continuous vs discrete (rtol 1e-7): ${r.each}`);
    expect(r.worst).toBeLessThan(1e-5);
    // and they are two computations, not one: the schemes differ above rounding
    expect(r.worst).toBeGreaterThan(1e-12);
  });

  test('switchTimes adds the switches\' motion: against central differences of the stage in h and N_eff (rtol 1e-8)', async () => {
    const grid = { ...ADJOINT_GRID, precision: { rtol: 1e-8, atol: 1e-13 } };
    const fixed = await descriptorVjp(W0WA, grid);
    const moving = await descriptorVjp(W0WA, { ...grid, adjoint: { switchTimes: true } }, fixed.w);
    const STEP: Record<string, number> = { h: 2.5e-4, N_eff: 1e-2 };
    const report: string[] = [];
    for (const name of ['h', 'N_eff']) {
      const v = (W0WA as Record<string, number>)[name], s = STEP[name];
      const Fp = await functional({ ...W0WA, [name]: v + s }, grid, fixed.w);
      const Fm = await functional({ ...W0WA, [name]: v - s }, grid, fixed.w);
      const fd = (Fp - Fm) / (2 * s);
      const eFixed = Math.abs(fixed.params[name] / fd - 1), eMoving = Math.abs(moving.params[name] / fd - 1);
      const change = Math.abs(moving.params[name] / fixed.params[name] - 1);
      report.push(`${name}: fixed ${eFixed.toExponential(2)}, switchTimes ${eMoving.toExponential(2)} (change ${change.toExponential(2)})`);
      expect(change).toBeGreaterThan(3e-5); // documented: 1.3e-4 (h), 2.2e-4 (N_eff)
      expect(eMoving).toBeLessThan(2e-5); // documented: 8.5e-7 (h), 3.5e-8 (N_eff)
      expect(eMoving).toBeLessThan(eFixed / 5);
    }
    console.log(`descriptor vjp vs central differences of the stage: ${report.join('; ')}`);
  });
});
