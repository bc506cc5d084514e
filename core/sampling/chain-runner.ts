/**
 * Stepping chains: a sampler method (plugins/contracts/sampler.ts) advances each chain's state one iteration
 * at a time against its target; the runner stores the draws, checkpoints them (checkpoint.ts) every
 * `checkpointSeconds` and at the end, and stops a chain at its stopping rule (warm-up + `samples` iterations)
 * or when told to (the driver's --until-ess / --max-time). Several chains in one thread take turns, one
 * iteration each. The same code runs in a worker thread (worker.ts) and, when no compiled worker exists
 * (under a TypeScript test runner), in the driver's thread: the draws are identical either way.
 */
import type { ChainSettings, SamplerMethod, SamplingTarget } from '../../plugins/contracts/sampler.js';
import { ChainCheckpointer, readCheckpoint, storedDraw, type ChainCheckpoint, type StoredDraw } from './checkpoint.js';
import type { TargetCounts } from './target.js';

/** One chain to run: its number (1-based) and settings. */
export interface ChainJob {
  chain: number;
  settings: ChainSettings;
}

/** Plain-data chain settings (what crosses a thread boundary or sits in the run record). */
export interface ChainJobData {
  chain: number;
  seed: number;
  warmup: number;
  start: number[];
  covariance: number[] | null;
}

export const jobFromData = (d: ChainJobData): ChainJob => ({
  chain: d.chain,
  settings: { seed: d.seed, warmup: d.warmup, start: Float64Array.from(d.start), ...(d.covariance ? { covariance: Float64Array.from(d.covariance) } : {}) },
});

export interface RunnerOptions {
  /** The output directory (checkpoints go to <out>/checkpoint). */
  out: string;
  /** Continue from the chains' checkpoints. */
  resume: boolean;
  /** Iterations after warm-up per chain; null: until shouldStop(). */
  samples: number | null;
  /** Seconds between checkpoints (0: after every iteration). */
  checkpointSeconds: number;
  /** Called after every iteration with its draws (warm-up included). */
  onDraws?: (chain: number, draws: StoredDraw[], progress: ChainProgress) => void;
  /** Checked between iterations. */
  shouldStop?: () => boolean;
}

export interface ChainProgress {
  iteration: number;
  evaluations: number;
  seconds: number;
  done: boolean;
}

/** A target with counts (PipelineTarget, or a test's toy). */
export type CountedTarget = SamplingTarget & { counts?: TargetCounts };

interface Live {
  job: ChainJob;
  target: CountedTarget;
  state: ChainCheckpoint['state'];
  cp: ChainCheckpointer;
  seconds: number;
  warmupSeconds?: number;
  warmupEvaluations?: number;
  lastCheckpoint: number;
  done: boolean;
}

const total = (warmup: number, samples: number | null) => (samples === null ? Infinity : warmup + samples);

/** Run the chains to their stopping rule (or until told to stop); returns their final checkpoints. */
export async function runChains(sampler: SamplerMethod, jobs: readonly ChainJob[], targetFor: (chain: number) => CountedTarget | Promise<CountedTarget>, o: RunnerOptions): Promise<ChainCheckpoint[]> {
  const live: Live[] = [];
  try {
    for (const job of jobs) {
      const target = await targetFor(job.chain);
      const from = o.resume ? readCheckpoint(o.out, job.chain) : null;
      if (from && target.counts) {
        target.counts.outside = from.counts.outside;
        target.counts.failed = from.counts.failed;
        if (from.counts.firstFailure) target.counts.firstFailure = from.counts.firstFailure;
      }
      const t0 = performance.now();
      const state = from ? from.state : await sampler.init(target, job.settings);
      const cp = new ChainCheckpointer(o.out, job.chain, from ?? undefined);
      const l: Live = {
        job, target, state, cp, seconds: (from?.seconds ?? 0) + (performance.now() - t0) / 1000, lastCheckpoint: performance.now(), done: false,
        warmupSeconds: from?.warmupSeconds, warmupEvaluations: from?.warmupEvaluations,
      };
      live.push(l);
      if (!from) checkpoint(sampler, l); // the initial state: a resume from here redoes nothing
    }
    for (;;) {
      const running = live.filter((l) => !l.done);
      if (!running.length) break;
      for (const l of running) {
        const reached = l.state.iteration >= total(l.job.settings.warmup, o.samples);
        if (reached || o.shouldStop?.()) {
          // at its stopping rule already (a resumed chain that had finished), or told to stop
          checkpoint(sampler, l, reached);
          l.done = true;
          continue;
        }
        const it = l.state.iteration;
        const t = performance.now();
        const draws = await sampler.step(l.target, l.state, l.job.settings);
        l.seconds += (performance.now() - t) / 1000;
        if (l.warmupSeconds === undefined && l.state.iteration >= l.job.settings.warmup) {
          l.warmupSeconds = l.seconds;
          l.warmupEvaluations = sampler.evaluations(l.state);
        }
        const stored = draws.map((d) => storedDraw(it, d));
        l.cp.add(stored);
        const finished = l.state.iteration >= total(l.job.settings.warmup, o.samples);
        o.onDraws?.(l.job.chain, stored, { iteration: l.state.iteration, evaluations: sampler.evaluations(l.state), seconds: l.seconds, done: finished });
        if (finished || performance.now() - l.lastCheckpoint >= o.checkpointSeconds * 1000) checkpoint(sampler, l, finished);
        if (finished) l.done = true;
      }
      // let messages in (a stop request in a worker, progress in the driver's thread)
      await new Promise<void>((r) => setImmediate(r));
    }
    return live.map((l) => readCheckpoint(o.out, l.job.chain)!);
  } finally {
    for (const l of live) l.cp.close();
  }
}

function checkpoint(sampler: SamplerMethod, l: Live, done = false): void {
  const c = l.target.counts;
  l.cp.checkpoint({
    state: l.state, evaluations: sampler.evaluations(l.state), seconds: l.seconds, done,
    ...(l.warmupSeconds !== undefined ? { warmupSeconds: l.warmupSeconds, warmupEvaluations: l.warmupEvaluations } : {}),
    counts: { outside: c?.outside ?? 0, failed: c?.failed ?? 0, ...(c?.firstFailure ? { firstFailure: c.firstFailure } : {}) },
  });
  l.lastCheckpoint = performance.now();
}
