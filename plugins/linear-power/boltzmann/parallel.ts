/**
 * The k-modes of the Boltzmann hierarchy are independent: solve them on this thread plus a pool of worker
 * threads (threads - 1 of them), most expensive (largest k) first from a shared queue, reporting progress as
 * modes finish. (This thread works too: each worker pays its own module loading and JIT warm-up, ~0.3 s.)
 *
 * Workers run the compiled worker.js next to this module. When this module is not the compiled one (under a
 * TypeScript test runner, where a worker could not load the sources), or the bound solver is not one a worker
 * can rebuild by name, the modes are solved in this thread, which gives identical numbers. A worker rebuilds the
 * solver from its name and its `config` (OdeSolver.config: what the method was created with), so a configured
 * method (e.g. `bdf` with `formula: "ndf"`) runs identically on every thread.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import type { OdeSolver } from '../../../core/numerics/ode/index.js';
import { type ModeOptions, type ModeResult, schedule, solveMode } from './mode.js';
import type { ModeSetup } from './setup.js';
import { largestKFirst, solverSpec, startWorker, threadCount } from './threads.js';

const BUILTIN = new Set(['tsit5', 'rosenbrock', 'bdf', 'auto']);

/** Path of the compiled worker script, or null when it is not available (sources run by a TS runner). */
export function workerScript(): string | null {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.js')) return process.env.COSMODAG_BOLTZMANN_WORKER ?? null;
  const p = fileURLToPath(new URL('./worker.js', import.meta.url));
  return existsSync(p) ? p : null;
}

export interface ParallelOptions {
  /** Worker threads: 0 = one per available core, 1 = this thread. */
  threads: number;
  onProgress?: (done: number, total: number) => void;
  /** Called with each mode as it finishes (index into ks), before onProgress. */
  onMode?: (index: number, result: ModeResult) => void;
  /**
   * Test hook: take each mode's switching times from this setup (e.g. the fiducial one) instead of from `setup`,
   * so that a difference quotient of the stage sees the schedule the forward sensitivities assume (fixed); the
   * modes then run in this thread. test/plugins/boltzmann/mnu-derivative.test.ts, docs/boltzmann.md.
   */
  scheduleFrom?: ModeSetup;
}

export interface ModesRun {
  results: ModeResult[];
  threadsUsed: number;
}

/** Solve every k (1/Mpc) at the output times xOut. */
export async function solveModes(
  setup: ModeSetup, ks: Float64Array, xOut: Float64Array, solver: OdeSolver, opt: ModeOptions, par: ParallelOptions,
): Promise<ModesRun> {
  const total = ks.length;
  const nThreads = threadCount(par.threads, total);
  const script = workerScript();
  const order = largestKFirst(ks);
  if (nThreads <= 1 || !script || !BUILTIN.has(solver.name) || par.scheduleFrom) {
    const results = new Array<ModeResult>(total);
    let done = 0;
    for (const i of order) {
      const o = par.scheduleFrom ? { ...opt, schedule: schedule(par.scheduleFrom, ks[i]) } : opt;
      results[i] = solveMode(setup, ks[i], xOut, solver, o);
      par.onMode?.(i, results[i]);
      par.onProgress?.(++done, total);
    }
    return { results, threadsUsed: 1 };
  }
  // nThreads - 1 workers plus this thread, all drawing from one queue (largest k first); this thread yields to
  // the event loop between its modes so that finished workers get their next mode without waiting
  const results = new Array<ModeResult>(total);
  let next = 0, done = 0;
  const workers: Worker[] = [];
  let failure: Error | null = null;
  const finish = (i: number, r: ModeResult) => {
    results[i] = r;
    par.onMode?.(i, r);
    done++;
    par.onProgress?.(done, total);
  };
  try {
    const workersDone = new Promise<void>((resolve, reject) => {
      let live = nThreads - 1;
      const fail = (e: Error) => {
        if (!failure) {
          failure = e;
          reject(e);
        }
      };
      const dispatch = (w: Worker) => {
        if (failure) return;
        if (next < total) {
          const i = order[next++];
          w.postMessage({ type: 'mode', index: i, k: ks[i] });
        } else if (--live === 0) resolve();
      };
      for (let t = 0; t < nThreads - 1; t++) {
        // the solver's own configuration (the pipeline's `methods` settings: bdf formula, tolerances, ...) goes with
        // its name, so the worker rebuilds the same configured solver (worker.ts solverByName)
        const init = { type: 'init', setup, xOut, solver: solverSpec(solver), options: opt };
        const w = startWorker(script, init, fail, 'worker thread', (code) => code !== 0 && !failure && done < total,
          (m: { type: string; index?: number; result?: ModeResult; message?: string }) => {
            if (m.type === 'ready') dispatch(w);
            else if (m.type === 'error') fail(new Error(`linear-power/boltzmann: mode k = ${ks[m.index!]} /Mpc failed: ${m.message}`));
            else if (m.type === 'mode') {
              finish(m.index!, m.result!);
              dispatch(w);
            }
          });
        workers.push(w);
      }
    });
    workersDone.catch(() => undefined); // observed below
    while (next < total && !failure) {
      const i = order[next++];
      try {
        finish(i, solveMode(setup, ks[i], xOut, solver, opt));
      } catch (e) {
        throw new Error(`linear-power/boltzmann: mode k = ${ks[i]} /Mpc failed: ${(e as Error).message}`);
      }
      await new Promise<void>((r) => setImmediate(r));
    }
    await workersDone;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return { results, threadsUsed: nThreads };
}
