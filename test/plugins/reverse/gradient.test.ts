/**
 * Issue 8 on the main job (Eisenstein-Hu + Halofit 3x2pt): the gradient of ln L by reverse mode against forward
 * AD (every component, 40 varied parameters, at a point where the gradient is not zero: data = the fiducial
 * model, parameters shifted from it) and against finite differences of ln L; the reverse-mode Fisher matrix
 * (forward-over-reverse Hessian of -ln L at data = model) against forward AD's and the Fisher stage's.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { executePlan } from '../../../core/graph/execute.js';
import { MemoryStore } from '../../../core/cache/store.js';
import type { Spectra } from '../../../plugins/contracts/spectra.js';
import { alignData, gaussianTerms, readData, type GaussianConfig, type GaussianLikelihoodResult } from '../../../plugins/likelihood/gaussian.js';
import type { FisherResult } from '../../../plugins/likelihood/gaussian-fisher.js';
import { SHIFTED, SHIFTED_NUISANCE, fiducialData, likelihoodPipeline, noPlot, preparePipeline, root, variedSets } from './harness.js';

const ALL_STAGES = ['cl', 'weights', 'nonlinear', 'linear', 'nz', 'background'];

async function likelihood(params: string[], sets: string[]): Promise<GaussianLikelihoodResult> {
  const { plan, registry } = await preparePipeline(likelihoodPipeline, params, [...noPlot, ...sets]);
  return (await executePlan(plan, registry, { store: new MemoryStore() })).outputs.get('like') as GaussianLikelihoodResult;
}

describe('gradient of ln L: reverse mode, forward AD, finite differences', () => {
  let data: string;
  beforeAll(async () => { data = await fiducialData(); });

  it('reverse mode agrees with forward AD to 1e-6 in every component (40 parameters)', async () => {
    const sets = [...variedSets(40), ...SHIFTED_NUISANCE, `stages.like.with.data=${JSON.stringify(data)}`];
    const fwd = await likelihood(SHIFTED, [...sets, 'methods.differentiator="forward-ad"']);
    const rev = await likelihood(SHIFTED, [...sets, 'methods.differentiator="reverse-adjoint"']);
    expect(rev.names).toEqual(fwd.names);
    expect(rev.names.length).toBe(40);
    expect(rev.lnL.v).toBe(fwd.lnL.v);
    expect(rev.lnL.v).toBeLessThan(-1); // away from the data: the gradient is not zero
    // every stage ran its vjp; none fell back to forward mode at its boundary
    const info = rev.settings.reverse as { stages: string[]; forward_boundary: string[] };
    expect(info.forward_boundary).toEqual([]);
    expect([...info.stages].sort()).toEqual([...ALL_STAGES].sort());
    const g = fwd.lnL.d!, r = rev.lnL.d!;
    const rel = Array.from(g, (x, i) => Math.abs(r[i] - x) / Math.abs(x));
    const worst = Math.max(...rel);
    console.log(`ln L = ${rev.lnL.v.toFixed(4)}; reverse vs forward, worst ${worst.toExponential(2)} (${rev.names[rel.indexOf(worst)]}); ` +
      `|gradient| from ${Math.min(...Array.from(g, Math.abs)).toExponential(2)} to ${Math.max(...Array.from(g, Math.abs)).toExponential(2)}`);
    for (const x of g) expect(Math.abs(x)).toBeGreaterThan(0);
    expect(worst).toBeLessThan(1e-6);
  });

  it('reverse mode agrees with 5-point finite differences of ln L (fixed z nodes)', async () => {
    // fixed quadrature nodes: finite differences then differentiate one smooth discretised function
    const sets = [...noPlot, ...variedSets(40), ...SHIFTED_NUISANCE, 'stages.cl.with.z_nodes={"level":5}', `stages.like.with.data=${JSON.stringify(data)}`];
    const rev = await likelihood(SHIFTED, [...sets, 'methods.differentiator="reverse-adjoint"']);
    const { plan, registry } = await preparePipeline(likelihoodPipeline, SHIFTED, sets);
    const cfg = plan.stages.get('like')!.config as unknown as GaussianConfig;
    const store = new MemoryStore();
    const dataSpectra = readData(data);
    const lnL = async (over: Record<string, number>) => {
      const cl = (await executePlan(plan, registry, { params: over, targets: ['cl'], store })).outputs.get('cl') as Spectra;
      return gaussianTerms(cl, alignData(cl, dataSpectra), cfg).lnL;
    };
    const check = ['Omega_m', 'w0', 'sigma8', 'A_IA', 'b_5', 'm_3', 'dz_4'];
    let worst = 0, where = '';
    for (const name of check) {
      const v = plan.parameters.get(name)!.value;
      const h = v !== 0 ? 1e-3 * Math.abs(v) : 1e-4;
      const f = async (s: number) => lnL({ [name]: v + s * h });
      const fd = (-(await f(2)) + 8 * (await f(1)) - 8 * (await f(-1)) + (await f(-2))) / (12 * h);
      const r = rev.lnL.d![rev.names.indexOf(name)];
      const d = Math.abs(r - fd) / Math.abs(fd);
      if (d > worst) { worst = d; where = name; }
      console.log(`${name}: reverse ${r.toExponential(8)}, 5-point FD ${fd.toExponential(8)}, relative ${d.toExponential(2)}`);
    }
    expect(worst, where).toBeLessThan(1e-6);
  });
});

describe('Fisher matrix of ln L: reverse mode (forward-over-reverse) against forward AD', () => {
  it('the marginalized errors agree to 1e-4 (main job, 19 parameters, data = model)', async () => {
    const sets = ['stages.like.with.fisher=true'];
    const fwd = await likelihood([], [...sets, 'methods.differentiator="forward-ad"']);
    const rev = await likelihood([], [...sets, 'methods.differentiator="reverse-adjoint"']);
    const F = fwd.fisher!, R = rev.fisher!;
    expect(R.names).toEqual(F.names);
    expect(R.names.length).toBe(19);
    const rel = Array.from(F.sigmaMarginalized, (s, i) => Math.abs(R.sigmaMarginalized[i] / s - 1));
    const worst = Math.max(...rel);
    console.log(`Fisher, reverse vs forward: marginalized errors worst ${worst.toExponential(2)} (${R.names[rel.indexOf(worst)]}), ` +
      `asymmetry of the reverse Hessian before symmetrising ${(rev.settings.fisher_asymmetry as number).toExponential(2)}`);
    expect(worst).toBeLessThan(1e-4);
    // at data = model the likelihood's Fisher matrix is that of likelihood/gaussian-fisher
    const { plan, registry } = await preparePipeline(`${root}/pipelines/euclid-3x2pt-fisher.json`, [], ['stages.cl.with.plot=false', 'stages.fisher.with.plot=false']);
    const stage = (await executePlan(plan, registry, { store: new MemoryStore() })).outputs.get('fisher') as FisherResult;
    const relStage = Math.max(...Array.from(stage.sigmaMarginalized, (s, i) => Math.abs(R.sigmaMarginalized[i] / s - 1)));
    console.log(`Fisher, reverse vs likelihood/gaussian-fisher: ${relStage.toExponential(2)}`);
    expect(relStage).toBeLessThan(1e-4);
  });
});
