/**
 * pipelines/euclid-3x2pt-fisher-mnu.json (issue 17): the main job with m_nu = 0.06 eV. With m_nu varied
 * (--set parameters.m_nu.vary=true), forward AD through background (Fermi-Dirac density), EH99 (mixed dark matter),
 * Halofit (Bird et al. terms), weights and Limber against 5-point central differences of dC_l/dm_nu; and the plan
 * refuses m_nu < 0 naming the parameter.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { preparePipeline } from '../../../core/cli/run-job.js';
import { executePlan } from '../../../core/graph/execute.js';
import type { Plan } from '../../../core/graph/plan.js';
import { MemoryStore } from '../../../core/cache/store.js';
import type { PluginRegistry } from '../../../core/plugin/registry.js';
import type { Spectra } from '../../../plugins/contracts/spectra.js';
import { finiteDifference } from '../../../plugins/differentiator/finite-difference.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const pipeline = path.join(root, 'pipelines/euclid-3x2pt-fisher-mnu.json');
const noPlots = ['stages.cl.with.plot=false', 'stages.fisher.with.plot=false'];

describe('d C_l / d m_nu of the main job with neutrinos', () => {
  let plan: Plan, registry: PluginRegistry;
  beforeAll(async () => {
    // fixed z nodes: the derivative of one discretised integral (adaptive nodes could move between FD points)
    ({ plan, registry } = await preparePipeline(pipeline, [], [...noPlots, 'parameters.m_nu.vary=true', 'stages.cl.with.z_nodes={"level":5}']));
  });

  it('forward AD matches 5-point central differences to 1e-4 wherever dC/dm_nu is not negligible', async () => {
    expect(plan.parameters.get('m_nu')!.value).toBe(0.06);
    const store = new MemoryStore();
    const ev = async (over: Record<string, number>, t: readonly string[]) =>
      (await executePlan(plan, registry, { params: over, tangents: t, store, targets: ['cl'] })).outputs.get('cl');
    const varied = [{ name: 'm_nu', value: 0.06 }];
    const ad = (await ev({}, ['m_nu'])) as Spectra;
    // step 1e-2 relative (6e-4 eV): truncation O(h^4) ~ 1e-9, rounding ~ 1e-16/1e-2
    const fd = (await finiteDifference.create({ points: 5, step: 1e-2, abs_step: 1e-3 }).differentiate(ev, varied)) as Spectra;
    // "not negligible" as in derivatives.test.ts: relative to the derivative, or to 1e-2 sqrt(C_ii C_jj)/m_nu when smaller
    const np = ad.pairNames.length, nl = ad.ell.length;
    const autoOf = new Map(ad.pairs.map(([a, b], p) => [`${a},${b}`, p]));
    let worst = 0, where = '', above = 0, biggest = 0;
    for (let p = 0; p < np; p++) {
      const [a, b] = ad.pairs[p];
      const pa = autoOf.get(`${a},${a}`)!, pb = autoOf.get(`${b},${b}`)!;
      for (let l = 0; l < nl; l++) {
        const f = fd.C.tangent![p * nl + l];
        const floor = (1e-2 * Math.sqrt(ad.C.value[pa * nl + l] * ad.C.value[pb * nl + l])) / 0.06;
        if (Math.abs(f) >= floor) above++;
        biggest = Math.max(biggest, Math.abs((f * 0.06) / ad.C.value[p * nl + l]));
        const d = Math.abs(ad.C.tangent![p * nl + l] - f) / Math.max(Math.abs(f), floor);
        if (d > worst) { worst = d; where = `d${ad.pairNames[p]}/dm_nu at l = ${ad.ell[l].toFixed(1)}`; }
      }
    }
    console.log(`m_nu: AD vs 5-point FD worst ${worst.toExponential(2)} (${where}); ${above} of ${np * nl} above the floor; max |d ln C/d ln m_nu| ${biggest.toExponential(2)}`);
    // measured: worst 1.1e-9; 1944 of the 21000 derivatives have |d ln C/d ln m_nu| above 1e-2 (at most 0.63)
    expect(above).toBeGreaterThan(1000);
    expect(worst, where).toBeLessThan(1e-4);
  }, 600_000);

  it('m_nu < 0, N_eff below what the split\'s massive species count, and two stages with different splits are refused at planning, naming the parameter', async () => {
    const three = ['stages.background.with.neutrinos={"split":"three-degenerate"}', 'stages.linear.with.neutrinos={"split":"three-degenerate"}'];
    await expect(preparePipeline(pipeline, ['N_eff=2'], [...noPlots, ...three])).rejects.toThrow(/parameters\.N_eff: 2 is below the 3\.0396 that the 3 massive neutrino species/);
    // a mass split the linear stage does not share: before compute, naming both fields
    await expect(preparePipeline(pipeline, [], [...noPlots, three[0]]))
      .rejects.toThrow(/stages\.linear\.with\.neutrinos\.split: "one-massive" differs from the background's "three-degenerate" \(set by stages\.background\.with\.neutrinos\.split\)/);
    await expect(preparePipeline(pipeline, ['m_nu=-0.01'], noPlots)).rejects.toThrow(/parameters\.m_nu\.value: -0\.01 is not allowed: m_nu \(sum of the neutrino masses.*must be >= 0/);
  });
});
