/**
 * `npm run bench:likelihood`: what a sampler pays per step on the main job's 3x2pt likelihood
 * (pipelines/euclid-3x2pt-likelihood.json, the 19 parameters of the main job varied, data = the fiducial C_l),
 * warm (after JIT), one core, one memo store kept across steps as a sampler keeps it (the sampler's RecentStore,
 * for the baseline too):
 *   - plain ln L at a new point (every parameter shifted: every stage that reads one recomputes);
 *   - ln L + its gradient by reverse mode at a new point;
 *   - the same two when only the fast (nuisance) parameters b_i, A_IA, eta_IA move;
 *   - the forward-AD Fisher matrix of the main job (pipelines/euclid-3x2pt-fisher.json) at a new point.
 * Medians of REPEATS (default 41) steps after WARMUP (default 20), plus each stage's median compute time.
 *
 * BASELINE=<checkout with a built dist/> (e.g. a worktree of an older commit, `npm run bench:likelihood:baseline`)
 * runs that checkout's code and pipelines in the same process, each case right after ours, so that both see
 * the same machine; each line then also gives the baseline's time and the ratio.
 * The last line is `RESULT lnl_gradient_ms <median ln L + gradient, milliseconds>`.
 */
import path from 'node:path';
import { Subject } from 'rxjs';
import type { GaussianLikelihoodResult } from '../../plugins/likelihood/gaussian.js';
import { RecentStore } from '../../core/sampling/target.js';

const REPEATS = Number(process.env.REPEATS ?? 41);
const WARMUP = Number(process.env.WARMUP ?? 20);
const BASELINE = process.env.BASELINE;
const median = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)];

const COSMO = ['Omega_m', 'Omega_b', 'w0', 'wa', 'h', 'n_s', 'sigma8'];
const FAST = ['A_IA', 'eta_IA', ...Array.from({ length: 10 }, (_, i) => `b_${i + 1}`)];

interface RunEventLike { type: string; stage?: string; seconds?: number; depth?: number }
/** The modules a code base provides to the benchmark (ours, or the baseline's compiled dist/). */
interface CodeBase {
  label: string;
  executePlan: (plan: unknown, registry: unknown, o: { store: unknown; params: Record<string, number>; events: Subject<RunEventLike> }) => Promise<{ outputs: Map<string, unknown> }>;
  preparePipeline: (file: string, params: string[], sets: string[]) => Promise<{ plan: { parameters: Map<string, { name: string; value: number }>; order: string[] }; registry: unknown }>;
  likelihoodPipeline: string;
  root: string;
  noPlot: string[];
  data: string;
}

async function codeBase(label: string, dist: string): Promise<CodeBase> {
  const imp = (p: string) => import(path.join(dist, p));
  const [{ executePlan }, harness] = await Promise.all([imp('core/graph/execute.js'), imp('test/plugins/reverse/harness.js')]);
  return { label, executePlan, preparePipeline: harness.preparePipeline, likelihoodPipeline: harness.likelihoodPipeline, root: harness.root, noPlot: harness.noPlot, data: await harness.fiducialData() };
}

/** A deterministic sequence of points around the fiducial: relative shifts of ~1e-3 (absolute for w0, wa). */
function pointSequence(fid: Record<string, number>, names: readonly string[]) {
  let s = 987654321;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  return () => Object.fromEntries(names.map((n) => [n, fid[n] === 0 || n === 'w0' ? fid[n] + 2e-3 * rnd() : fid[n] * (1 + 1e-3 * rnd())]));
}

/** One case on one code base: a step function that times one evaluation at the next point. */
async function stepper(cb: CodeBase, file: string, sets: string[], moves: readonly string[]) {
  const { plan, registry } = await cb.preparePipeline(file, [], [...cb.noPlot, ...sets]);
  const fid = Object.fromEntries([...plan.parameters.values()].map((p) => [p.name, p.value]));
  const next = pointSequence(fid, moves);
  // the store `cosmodag sample` keeps (core/sampling/target.ts): the most recent entries only. An unbounded
  // MemoryStore kept every step's P(k, z) and kernel tables alive, and the growing heap's collection cost made the
  // plain ln L read 33-41 ms instead of 26 on the same machine and code.
  const store = new RecentStore();
  const times: number[] = [];
  const perStage = new Map<string, number[]>();
  let last: unknown;
  const step = async (record: boolean) => {
    const events = new Subject<RunEventLike>();
    const stageTimes: [string, number][] = [];
    events.subscribe((e) => { if (e.type === 'stage-computed' && e.stage && !e.depth) stageTimes.push([e.stage, e.seconds!]); });
    const t = performance.now();
    const res = await cb.executePlan(plan, registry, { store, params: next(), events });
    const dt = performance.now() - t;
    last = res.outputs.get(plan.order[plan.order.length - 1]);
    if (!record) return;
    times.push(dt);
    for (const [st, sec] of stageTimes) { if (!perStage.has(st)) perStage.set(st, []); perStage.get(st)!.push(sec * 1000); }
  };
  const summary = () => ({ ms: median(times), stages: [...perStage].map(([st, t]) => `${st} ${median(t).toFixed(1)}`).join(', '), last });
  return { step, summary };
}

/** Runs a case on ours (and the baseline), steps interleaved; prints one line. */
async function timeCase(label: string, ours: CodeBase, base: CodeBase | null, file: (cb: CodeBase) => string, sets: (cb: CodeBase) => string[], moves: readonly string[]) {
  const run = async (cb: CodeBase) => {
    const s = await stepper(cb, file(cb), sets(cb), moves);
    for (let r = 0; r < WARMUP + REPEATS; r++) await s.step(r >= WARMUP);
    return s.summary();
  };
  // one after the other, not step by step: the heap is shared, and the baseline's garbage would be collected
  // during our steps (interleaving measured our gradient 3x slower than alone)
  const sa = await run(ours);
  const sb = base ? await run(base) : undefined;
  const vs = sb ? `   baseline ${sb.ms.toFixed(1)} (x${(sb.ms / sa.ms).toFixed(1)}) [${sb.stages}]` : '';
  console.log(`  ${label.padEnd(38)} ${sa.ms.toFixed(1).padStart(6)}   [${sa.stages}]${vs}`);
  return sa;
}

const ours = await codeBase('ours', path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..'));
const base = BASELINE ? await codeBase('baseline', path.join(path.resolve(BASELINE), 'dist')) : null;
const like = (d: string) => (cb: CodeBase) => [`stages.like.with.data=${JSON.stringify(cb.data)}`, `methods.differentiator="${d}"`];
const noVary = [...COSMO, ...FAST].map((n) => `parameters.${n}.vary=false`);
const likeFile = (cb: CodeBase) => cb.likelihoodPipeline;
console.log(`3x2pt likelihood, 19 parameters, ${REPEATS} steps after ${WARMUP} warm-up steps (milliseconds, medians; per stage: compute time of the stages that ran)${base ? `; baseline ${BASELINE} right after each case` : ''}`);
await timeCase('plain ln L, new point:', ours, base, likeFile, (cb) => [...like('reverse-adjoint')(cb), ...noVary], [...COSMO, ...FAST]);
const grad = await timeCase('ln L + gradient (reverse), new point:', ours, base, likeFile, like('reverse-adjoint'), [...COSMO, ...FAST]);
const g = (grad.last as GaussianLikelihoodResult).lnL.d!;
console.log(`    |grad ln L| = ${Math.hypot(...g).toExponential(3)}`);
await timeCase('plain ln L, fast parameters only:', ours, base, likeFile, (cb) => [...like('reverse-adjoint')(cb), ...noVary], FAST);
await timeCase('ln L + gradient, fast parameters only:', ours, base, likeFile, like('reverse-adjoint'), FAST);
await timeCase('forward-AD Fisher of the main job:', ours, base, (cb) => path.join(cb.root, 'pipelines/euclid-3x2pt-fisher.json'), () => ['stages.fisher.with.plot=false'], COSMO);
console.log(`RESULT lnl_gradient_ms ${grad.ms.toFixed(1)}`);
