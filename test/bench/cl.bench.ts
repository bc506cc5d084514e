/**
 * `npm run bench:cl`: all 210 Euclid-like 3x2pt spectra at 3000 multipoles (l = 2..3001) from P(k),
 * kernels and background already in hand (the Limber stage alone, values only, one thread), median of
 * repeated runs; then the whole pipeline once, cold. The last line is `RESULT cl3000_seconds <median>`.
 * Reference points (../shared/reference/ccl/README.md): CCL takes 44.7 s on one thread for the same
 * request; a published Julia pipeline 0.8 s.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { preparePipeline } from '../../core/cli/run-job.js';
import { executePlan } from '../../core/graph/execute.js';
import { computeLimber, type LimberConfig } from '../../plugins/spectra/limber.js';
import { createGaussLegendre } from '../../plugins/integrator/gauss-legendre.js';
import type { Spectra } from '../../plugins/contracts/spectra.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');
const pipeline = path.join(root, 'pipelines/euclid-3x2pt.json');
const repeats = Number(process.env.BENCH_REPEATS ?? 7);
const median = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)];

const t0 = performance.now();
const { plan, registry } = await preparePipeline(pipeline, [], ['stages.cl.with.plot=false', 'stages.cl.with.ell={"min":2,"max":3001,"spacing":"integer"}']);
const whole = await executePlan(plan, registry, {});
const wholeSeconds = (performance.now() - t0) / 1000;
const st = plan.stages.get('cl')!;
// fresh (shallow-copied) input objects at every run: the stage keeps work by input identity (the kernels' splines,
// the power part of a step whose P(k) and background did not change), and this benchmark times the computation
const inputs = () => ({ tracers: [{ ...(whole.outputs.get('weights') as object) }], power: { ...(whole.outputs.get('nonlinear') as object) }, background: { ...(whole.outputs.get('background') as object) } }) as any;
const integrator = createGaussLegendre(st.methods.integrator.config);

const times: number[] = [];
let s: Spectra | undefined;
for (let r = 0; r < repeats; r++) {
  const t = performance.now();
  s = computeLimber(inputs(), st.config as unknown as LimberConfig, integrator);
  times.push((performance.now() - t) / 1000);
}
const nq = s!.settings.z_nodes as number;
const flops = 2 * s!.pairNames.length * s!.ell.length * nq;
const med = median(times);
console.log(`spectra: ${s!.pairNames.length} pairs x ${s!.ell.length} multipoles (l = ${s!.ell[0]}..${s!.ell[s!.ell.length - 1]}), ${nq} z nodes (${st.methods.integrator.plugin.id})`);
console.log(`Limber from P(k) in hand, ${repeats} runs: median ${med.toFixed(4)} s (min ${Math.min(...times).toFixed(4)}, max ${Math.max(...times).toFixed(4)}); contraction ${(flops / 1e9).toFixed(3)} GFLOP -> ${(flops / 1e9 / med).toFixed(2)} GFLOP/s effective`);
console.log(`whole pipeline once (cold: plugin loading, background, P(k), n(z), weights, C_l): ${wholeSeconds.toFixed(3)} s`);
console.log(`ratio to CCL on one thread (44.7 s, ../shared/reference/ccl/README.md): ${(44.7 / med).toFixed(0)}x faster`);
console.log(`RESULT cl3000_seconds ${med.toFixed(4)}`);
