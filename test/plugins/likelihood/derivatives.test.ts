/**
 * Issue 4 on the main job (pipelines/euclid-3x2pt-fisher.json): forward AD against 5-point finite
 * differences and the regression stencil, on dC/dtheta and on the marginalized errors; a black-box stage
 * differentiated by the stencil inside a forward-AD run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { preparePipeline } from '../../../core/cli/run-job.js';
import { executePlan } from '../../../core/graph/execute.js';
import { variedParameters, type Plan } from '../../../core/graph/plan.js';
import { MemoryStore } from '../../../core/cache/store.js';
import type { PluginRegistry } from '../../../core/plugin/registry.js';
import type { Spectra } from '../../../plugins/contracts/spectra.js';
import type { FisherResult } from '../../../plugins/likelihood/gaussian-fisher.js';
import { finiteDifference } from '../../../plugins/differentiator/finite-difference.js';
import type { VariedParameter } from '../../../core/graph/differentiator.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const main = path.join(root, 'pipelines/euclid-3x2pt-fisher.json');
const noPlots = ['stages.cl.with.plot=false', 'stages.fisher.with.plot=false'];

async function fisherWith(sets: string[], pipeline = main): Promise<FisherResult> {
  const { plan, registry } = await preparePipeline(pipeline, [], [...noPlots, ...sets]);
  const r = await executePlan(plan, registry, {});
  return r.outputs.get('fisher') as FisherResult;
}

const relDiff = (a: Float64Array, b: Float64Array) => Array.from(a, (x, i) => Math.abs(x / b[i] - 1));

describe('derivatives of the 3x2pt spectra', () => {
  let plan: Plan, registry: PluginRegistry, varied: VariedParameter[];
  beforeAll(async () => {
    // fixed z nodes: the comparison is of the derivative of one discretised integral (adaptive node choice
    // could move between finite-difference points)
    ({ plan, registry } = await preparePipeline(main, [], [...noPlots, 'stages.cl.with.z_nodes={"level":5}']));
    varied = variedParameters(plan).map((n) => ({ name: n, value: plan.parameters.get(n)!.value }));
  });

  it('forward AD matches 5-point finite differences to 1e-4 wherever dC/dtheta is not negligible', async () => {
    const store = new MemoryStore();
    const ev = async (over: Record<string, number>, t: readonly string[]) =>
      (await executePlan(plan, registry, { params: over, tangents: t, store, targets: ['cl'] })).outputs.get('cl');
    const ad = (await ev({}, varied.map((v) => v.name))) as Spectra;
    const fd = (await finiteDifference.create({ points: 5, step: 1e-3, abs_step: 1e-3 }).differentiate(ev, varied)) as Spectra;
    // "wherever not negligible": derivatives are compared relative to themselves, or to the natural scale
    // 1e-2 sqrt(C_ii C_jj)/|theta| (|theta| -> 1 for wa) when smaller: a derivative that moves C_ij by less
    // than 1% of the auto-spectra for a 100% change of theta is compared in those absolute units. (Such
    // small derivatives arise from cancellations, e.g. GG_5_6 in h, and there the 5-point formula's own
    // truncation error, relative to the small result, reaches 1e-3.)
    const np = ad.pairNames.length, nl = ad.ell.length;
    const autoOf = new Map(ad.pairs.map(([a, b], p) => [`${a},${b}`, p]));
    let worst = 0, where = '', relative = 0;
    for (let c = 0; c < varied.length; c++)
      for (let p = 0; p < np; p++) {
        const [a, b] = ad.pairs[p];
        const pa = autoOf.get(`${a},${a}`)!, pb = autoOf.get(`${b},${b}`)!;
        const o = (c * np + p) * nl;
        for (let l = 0; l < nl; l++) {
          const f = fd.C.tangent![o + l];
          const floor = (1e-2 * Math.sqrt(ad.C.value[pa * nl + l] * ad.C.value[pb * nl + l])) / Math.max(Math.abs(varied[c].value), 1);
          if (Math.abs(f) >= floor) relative++;
          const d = Math.abs(ad.C.tangent![o + l] - f) / Math.max(Math.abs(f), floor);
          if (d > worst) { worst = d; where = `d${ad.pairNames[p]}/d${varied[c].name} at l = ${ad.ell[l].toFixed(1)}`; }
        }
      }
    const compared = relative;
    console.log(`AD vs 5-point FD: worst relative difference ${worst.toExponential(2)} (${where}) (${compared} of the derivatives above the floor)`);
    expect(worst, where).toBeLessThan(1e-4);
  });
});

describe('Fisher matrix of the main job', () => {
  let ad: FisherResult;
  beforeAll(async () => { ad = await fisherWith([]); });

  it('forward AD and 5-point finite differences agree on the marginalized errors to 0.5%', async () => {
    const fd = await fisherWith(['methods.differentiator={"use":"finite-difference","with":{"points":5,"step":0.01}}']);
    const d = relDiff(ad.sigmaMarginalized, fd.sigmaMarginalized);
    console.log(`AD vs FD: max ${Math.max(...d).toExponential(2)}`);
    expect(Math.max(...d)).toBeLessThan(5e-3);
  });

  it('forward AD and the regression stencil agree on the marginalized errors to 1%', async () => {
    // default stencil: Euclid's steps, 1% deviation measured against the spread of the points (with the
    // deviation measured against the value itself, sigma(h) differs by 2.3%: docs/validation.md)
    const st = await fisherWith(['methods.differentiator="regression-stencil"']);
    const d = relDiff(ad.sigmaMarginalized, st.sigmaMarginalized);
    console.log(`AD vs stencil: ${ad.names.map((n, i) => `${n} ${(100 * d[i]).toFixed(2)}%`).join(', ')}`);
    expect(Math.max(...d)).toBeLessThan(1e-2);
  });

  it('a black-box linear P(k) gets its tangents from the stencil and forward AD resumes after it', async () => {
    const p = JSON.parse(fs.readFileSync(main, 'utf8'));
    p.plugins = [path.join(root, 'test/fixtures/blackbox-plugins.ts')];
    p.stages.linear.use = 'linear-power/eh-blackbox';
    const file = path.join(root, 'test/fixtures/.blackbox-pipeline.json');
    fs.writeFileSync(file, JSON.stringify(p));
    try {
      const bb = await fisherWith([], file);
      const d = relDiff(ad.sigmaMarginalized, bb.sigmaMarginalized);
      console.log(`all-AD vs black box + stencil: max ${(100 * Math.max(...d)).toFixed(2)}%`);
      expect(Math.max(...d)).toBeLessThan(2e-2);
      // the nuisance parameters do not touch the black box: their errors come from AD alone
      for (const n of ['A_IA', 'eta_IA', 'b_1', 'b_10']) {
        const i = ad.names.indexOf(n);
        expect(Math.abs(bb.sigmaConditional[i] / ad.sigmaConditional[i] - 1)).toBeLessThan(1e-9);
      }
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});

describe('Fisher input errors', () => {
  it('a varied parameter nothing depends on is named', async () => {
    await expect(fisherWith(['stages.fisher.with.probes="WL"'])).rejects.toThrow(/singular: nothing in the data depends on b_1, b_2/);
  });
  it('l_max beyond the computed multipoles is an error', async () => {
    await expect(fisherWith(['stages.fisher.with.l_max={"WL":8000,"GC":750,"XC":750}'])).rejects.toThrow(/l_max = 8000 is beyond the computed multipoles/);
  });
  it('negative noise and a sky fraction outside (0, 1] are rejected before compute', async () => {
    await expect(preparePipeline(main, [], ['stages.weights.with.sigma_eps=-0.3'])).rejects.toThrow(/stages\.weights\.with\.sigma_eps: -0\.3 is out of range/);
    await expect(preparePipeline(main, [], ['stages.fisher.with.fsky=1.5'])).rejects.toThrow(/stages\.fisher\.with\.fsky: 1\.5 is out of range: must be <= 1/);
    await expect(preparePipeline(main, [], ['stages.fisher.with.fsky=0'])).rejects.toThrow(/stages\.fisher\.with\.fsky: 0 is out of range: must be > 0/);
  });
});
