/**
 * `npm run bench:fisher`: the main job's Fisher forecast (pipelines/euclid-3x2pt-fisher.json, 19 varied
 * parameters) with each differentiator in one process, each from a cold memo store, and the ratio of the
 * regression stencil's time to forward AD's. Last line: `RESULT fisher_stencil_over_ad <ratio>`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { preparePipeline } from '../../core/cli/run-job.js';
import { executePlan } from '../../core/graph/execute.js';
import { MemoryStore } from '../../core/cache/store.js';
import type { FisherResult } from '../../plugins/likelihood/gaussian-fisher.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');
const pipeline = path.join(root, 'pipelines/euclid-3x2pt-fisher.json');
const noPlots = ['stages.cl.with.plot=false', 'stages.fisher.with.plot=false'];

const variants: [string, string][] = [
  ['forward-ad', '"forward-ad"'],
  ['finite-difference (5-point)', '{"use":"finite-difference","with":{"points":5}}'],
  ['finite-difference (3-point)', '{"use":"finite-difference","with":{"points":3}}'],
  ['regression-stencil (15-point)', '"regression-stencil"'],
];

async function timeOne(differentiator: string): Promise<{ seconds: number; fisher: FisherResult }> {
  const { plan, registry } = await preparePipeline(pipeline, [], [...noPlots, `methods.differentiator=${differentiator}`]);
  const t = performance.now();
  const r = await executePlan(plan, registry, { store: new MemoryStore() });
  return { seconds: (performance.now() - t) / 1000, fisher: r.outputs.get('fisher') as FisherResult };
}

// warm-up (JIT) so that the first timed method is not penalised
await timeOne('"forward-ad"');
const results: Record<string, { seconds: number; fisher: FisherResult }> = {};
for (const [name, d] of variants) {
  results[name] = await timeOne(d);
  console.log(`${name.padEnd(32)} ${results[name].seconds.toFixed(2).padStart(7)} s`);
}
const ad = results['forward-ad'];
console.log('\nmarginalized errors (relative difference from forward AD):');
console.log(['parameter'.padEnd(10), ...variants.map(([n]) => n.split(' ')[0].slice(0, 14).padStart(15))].join(''));
ad.fisher.names.forEach((n, i) => {
  console.log([n.padEnd(10), ...variants.map(([v]) => {
    const s = results[v].fisher.sigmaMarginalized[i];
    return (v === 'forward-ad' ? s.toPrecision(4) : `${(100 * (s / ad.fisher.sigmaMarginalized[i] - 1)).toFixed(3)}%`).padStart(15);
  })].join(''));
});
const st = results['regression-stencil (15-point)'];
console.log(`\nstencil / AD time: ${(st.seconds / ad.seconds).toFixed(1)}; 5-point FD / AD: ${(results['finite-difference (5-point)'].seconds / ad.seconds).toFixed(1)}`);
console.log(`RESULT fisher_stencil_over_ad ${(st.seconds / ad.seconds).toFixed(2)}`);
