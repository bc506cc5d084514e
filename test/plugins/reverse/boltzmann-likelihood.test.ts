/**
 * Issue 18: the Euclid 3x2pt likelihood with our own linear P(k) — background/w0wa, recombination/recfast,
 * linear-power/boltzmann, nonlinear-power/halofit, weights, spectra/limber, likelihood/gaussian — differentiated
 * by reverse mode with no forward-mode boundary: every stage runs its vjp (recfast's included,
 * recombination/recfast-vjp.ts). On the coarse request of boltzmann-harness.ts (modes to 1 /Mpc only, P(k) on
 * 20 k per decade and 11 redshifts, fixed Limber z nodes, rtol 1e-10; data = that pipeline's spectra at the
 * fiducial, parameters shifted from it so that no component of the gradient is zero or negligible), for h,
 * Omega_b, Omega_m, n_s, w0, wa, N_eff (and sigma8, varied in the pipeline):
 *   - against forward AD of the same pipeline (ODE sensitivities): 1e-6 relative per component (floored at 1e-3
 *     of the largest component, as the adjoint tests of docs/reverse-mode.md). The adjoint differentiates the
 *     values-only steps, forward AD the sensitivities' own steps: on ln L they differ by far more than on P(k),
 *     hence rtol 1e-10 (boltzmann-harness.ts has the figures at 1e-7 .. 1e-10);
 *   - against central differences of ln L (each point re-solved: its own steps and switching times; step 1e-4
 *     relative), with the stage's `with.adjoint.switchTimes` on (the gradient of ln L as computed): 1e-4 where the
 *     component is above 1e-3 of the largest. The switches' motion is not small here (it changes dlnL/dh by
 *     ~4e-3 and dlnL/dN_eff by tens of per cent), so the default vjp is also shown against the differences.
 * m_nu is left out: at m_nu = 0 the massive-neutrino branch is a boundary, and at m_nu > 0 the momentum hierarchy
 * makes every solve several times slower (the adjoint through it: test/plugins/reverse/mnu-vjp.test.ts).
 * Measured on the shared 2-core machine: ~50 s (forward AD ~9 s, each reverse gradient 2-5 s, 14 plain
 * evaluations of ln L for the differences).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../core/cache/store.js';
import { executePlan } from '../../../core/graph/execute.js';
import type { GaussianLikelihoodResult } from '../../../plugins/likelihood/gaussian.js';
import { likelihoodPipeline, noPlot, preparePipeline, variedSets } from './harness.js';
import { BOLTZMANN_SHIFTED, BOLTZMANN_VARY, boltzmannFiducialData, boltzmannLikelihoodSets } from './boltzmann-harness.js';

const FIXED_NODES = 'stages.cl.with.z_nodes={"level":5}';
const CHECK = ['h', 'Omega_b', 'Omega_m', 'n_s', 'w0', 'wa', 'N_eff'];
/** Relative step of the central differences (truncation ~3e-6 in h; 1e-3 gives 3e-4: ln L curves fast here). */
const STEP = 1e-4;

describe('ln L with the Boltzmann P(k): reverse mode through recfast and the Boltzmann stage', () => {
  let data: string;
  const sets = (extra: string[] = []) => [...noPlot, ...variedSets(7), ...boltzmannLikelihoodSets(), FIXED_NODES, `stages.like.with.data=${JSON.stringify(data)}`, ...extra];
  const likelihood = async (extra: string[]) => {
    const { plan, registry } = await preparePipeline(likelihoodPipeline, BOLTZMANN_SHIFTED, sets(extra));
    return (await executePlan(plan, registry, { store: new MemoryStore() })).outputs.get('like') as GaussianLikelihoodResult;
  };
  /** |a - b| / max(|b|, 1e-3 max |b|) per component. */
  const relative = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    const scale = Math.max(...Array.from(b, Math.abs));
    return Array.from(b, (x, i) => Math.abs(a[i] - x) / Math.max(Math.abs(x), 1e-3 * scale));
  };
  let rev: GaussianLikelihoodResult;
  beforeAll(async () => {
    data = await boltzmannFiducialData([...boltzmannLikelihoodSets(), FIXED_NODES]);
    rev = await likelihood(['methods.differentiator="reverse-adjoint"']);
  }, 120_000);

  it('visits every stage\'s vjp, recfast and the Boltzmann stage included; no forward boundary', () => {
    expect([...rev.names].sort()).toEqual([...BOLTZMANN_VARY].sort());
    expect(rev.lnL.v).toBeLessThan(-1); // away from the data
    const info = rev.settings.reverse as { stages: string[]; forward_boundary: string[]; backward_seconds: number };
    expect(info.forward_boundary).toEqual([]);
    expect([...info.stages].sort()).toEqual(['background', 'cl', 'linear', 'nonlinear', 'recombination', 'weights']);
    console.log(`ln L = ${rev.lnL.v.toFixed(4)}; backward sweep ${info.backward_seconds.toFixed(2)} s`);
  });

  it('agrees with forward AD of the same pipeline to 1e-6 in every component', async () => {
    const fwd = await likelihood(['methods.differentiator="forward-ad"']);
    expect(fwd.names).toEqual(rev.names);
    // the values differ at the ODE tolerance: forward AD's steps control the sensitivities' error too
    expect(Math.abs(rev.lnL.v / fwd.lnL.v - 1)).toBeLessThan(1e-8);
    const g = fwd.lnL.d!, r = rev.lnL.d!;
    const rel = relative(r, g);
    console.log(`reverse vs forward AD: ${rev.names.map((n, i) => `${n} ${rel[i].toExponential(2)} (${g[i].toExponential(4)})`).join(', ')}`);
    for (const x of g) expect(Math.abs(x)).toBeGreaterThan(1e-3 * Math.max(...Array.from(g, Math.abs))); // none negligible
    expect(Math.max(...rel)).toBeLessThan(1e-6);
  }, 120_000);

  it('with switchTimes, agrees with central differences of ln L to 1e-4', async () => {
    const moving = await likelihood(['methods.differentiator="reverse-adjoint"', 'stages.linear.with.adjoint.switchTimes=true']);
    expect(moving.lnL.v).toBe(rev.lnL.v);
    const { plan, registry } = await preparePipeline(likelihoodPipeline, BOLTZMANN_SHIFTED, sets());
    const store = new MemoryStore();
    const lnL = async (over: Record<string, number>) =>
      ((await executePlan(plan, registry, { params: over, targets: ['like'], store })).outputs.get('like') as GaussianLikelihoodResult).lnL.v;
    const fd = new Float64Array(CHECK.length);
    for (const [j, name] of CHECK.entries()) {
      const v = plan.parameters.get(name)!.value, s = STEP * Math.abs(v);
      fd[j] = ((await lnL({ [name]: v + s })) - (await lnL({ [name]: v - s }))) / (2 * s);
    }
    const pick = (res: GaussianLikelihoodResult) => CHECK.map((n) => res.lnL.d![res.names.indexOf(n)]);
    const eMoving = relative(pick(moving), fd), eFixed = relative(pick(rev), fd);
    console.log(`reverse vs central differences of ln L, switchTimes (switches fixed): ${CHECK.map((n, j) => `${n} ${eMoving[j].toExponential(2)} (${eFixed[j].toExponential(2)})`).join(', ')}`);
    expect(Math.max(...eMoving)).toBeLessThan(1e-4);
    // the switches' motion is seen: without it the gradient misses the differences in h by far more
    expect(eFixed[CHECK.indexOf('h')]).toBeGreaterThan(1e-3);
  }, 180_000);
});
