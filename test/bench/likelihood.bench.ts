/**
 * `npm run bench:likelihood`: what a sampler pays per step on the main job's 3x2pt likelihood
 * (pipelines/euclid-3x2pt-likelihood.json, the 19 parameters of the main job varied, data = the fiducial C_l),
 * warm (after JIT), one core, one memo store kept across steps as a sampler keeps it:
 *   - plain ln L at a new point (every parameter shifted: every stage that reads one recomputes);
 *   - ln L + its gradient by reverse mode at a new point;
 *   - the same two when only the fast (nuisance) parameters b_i, A_IA, eta_IA move;
 *   - the forward-AD Fisher matrix of the main job (pipelines/euclid-3x2pt-fisher.json) at a new point.
 * Medians of REPEATS (default 21) steps after WARMUP (default 5), plus each stage's median compute time.
 * The last line is `RESULT lnl_gradient_ms <median ln L + gradient, milliseconds>`.
 */
import { executePlan, type RunEvent } from '../../core/graph/execute.js';
import { MemoryStore } from '../../core/cache/store.js';
import { Subject } from 'rxjs';
import type { GaussianLikelihoodResult } from '../../plugins/likelihood/gaussian.js';
import { fiducialData, likelihoodPipeline, noPlot, preparePipeline, root } from '../plugins/reverse/harness.js';
import path from 'node:path';

const REPEATS = Number(process.env.REPEATS ?? 21);
const WARMUP = Number(process.env.WARMUP ?? 5);
const median = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)];

const COSMO = ['Omega_m', 'Omega_b', 'w0', 'wa', 'h', 'n_s', 'sigma8'];
const FAST = ['A_IA', 'eta_IA', ...Array.from({ length: 10 }, (_, i) => `b_${i + 1}`)];
const data = await fiducialData();

/** A deterministic sequence of points around the fiducial: relative shifts of ~1e-3 (absolute for w0, wa). */
function pointSequence(fid: Record<string, number>, names: readonly string[]) {
  let s = 987654321;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  return () => Object.fromEntries(names.map((n) => [n, fid[n] === 0 || n === 'w0' ? fid[n] + 2e-3 * rnd() : fid[n] * (1 + 1e-3 * rnd())]));
}

async function timeSteps(file: string, sets: string[], moves: readonly string[], base: Record<string, number> = {}) {
  const { plan, registry } = await preparePipeline(file, [], [...noPlot, ...sets]);
  const fid = Object.fromEntries([...plan.parameters.values()].map((p) => [p.name, p.value]));
  const next = pointSequence({ ...fid, ...base }, moves);
  const store = new MemoryStore();
  const times: number[] = [];
  const perStage = new Map<string, number[]>();
  let last: unknown;
  for (let r = 0; r < WARMUP + REPEATS; r++) {
    const events = new Subject<RunEvent>();
    const stageTimes: [string, number][] = [];
    events.subscribe((e) => { if (e.type === 'stage-computed' && e.stage && !('depth' in e && e.depth)) stageTimes.push([e.stage, e.seconds]); });
    const t = performance.now();
    const res = await executePlan(plan, registry, { store, params: { ...base, ...next() }, events });
    const dt = performance.now() - t;
    last = res.outputs.get(plan.order[plan.order.length - 1]);
    if (r < WARMUP) continue;
    times.push(dt);
    for (const [st, sec] of stageTimes) { if (!perStage.has(st)) perStage.set(st, []); perStage.get(st)!.push(sec * 1000); }
  }
  const stages = [...perStage].map(([st, t]) => `${st} ${median(t).toFixed(1)}`).join(', ');
  return { ms: median(times), stages, last, fid };
}

const like = (d: string) => [`stages.like.with.data=${JSON.stringify(data)}`, `methods.differentiator="${d}"`];
const noVary = [...COSMO, ...FAST].map((n) => `parameters.${n}.vary=false`);
console.log(`3x2pt likelihood, 19 parameters, ${REPEATS} steps after ${WARMUP} warm-up steps (milliseconds, medians; per stage: compute time of the stages that ran)`);
const plain = await timeSteps(likelihoodPipeline, [...like('reverse-adjoint'), ...noVary], [...COSMO, ...FAST]);
console.log(`  plain ln L, new point:              ${plain.ms.toFixed(1).padStart(7)}   [${plain.stages}]`);
const grad = await timeSteps(likelihoodPipeline, like('reverse-adjoint'), [...COSMO, ...FAST]);
const g = (grad.last as GaussianLikelihoodResult).lnL.d!;
console.log(`  ln L + gradient (reverse), new point: ${grad.ms.toFixed(1).padStart(5)}   [${grad.stages}]   |grad| = ${Math.hypot(...g).toExponential(3)}`);
const fastPlain = await timeSteps(likelihoodPipeline, [...like('reverse-adjoint'), ...noVary], FAST);
console.log(`  plain ln L, fast parameters only:   ${fastPlain.ms.toFixed(1).padStart(7)}   [${fastPlain.stages}]`);
const fastGrad = await timeSteps(likelihoodPipeline, like('reverse-adjoint'), FAST);
console.log(`  ln L + gradient, fast parameters only: ${fastGrad.ms.toFixed(1).padStart(4)}   [${fastGrad.stages}]`);
const fisher = await timeSteps(path.join(root, 'pipelines/euclid-3x2pt-fisher.json'), ['stages.fisher.with.plot=false'], COSMO);
console.log(`  forward-AD Fisher of the main job, new point: ${fisher.ms.toFixed(1)}   [${fisher.stages}]`);
console.log(`RESULT lnl_gradient_ms ${grad.ms.toFixed(1)}`);
