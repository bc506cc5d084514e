/**
 * The Boltzmann adjoint's k-modes on worker threads (adjoint-power.ts powerVjpAsync), with the forward solve's
 * scheme (parallel.ts): this thread plus threads - 1 workers (adjoint-worker.ts), largest k first from one queue.
 *
 *   forward:  each thread records the tapes of the modes it takes (recordMode) and keeps them; the workers send this
 *             thread each mode's delta_m (and delta_cb) at the output times, which is all the transfer tables, the
 *             normalisation and P(k, z) need;
 *   between:  this thread transposes P(k, z), the transfer interpolation and the normalisation (as in one thread),
 *             giving each mode's output cotangents (db, dcb);
 *   backward: each mode's cotangents go to the thread holding its tape (one message per worker); every thread runs
 *             modeVjp for its modes into a ReadBars of its own, and the workers return their sums' arrays, which
 *             this thread adds to its own (ReadBars.addArrays). The sums run in another order than in one thread:
 *             the gradient agrees with it to rounding (test/plugins/boltzmann/adjoint-workers.test.ts).
 *
 * The tapes never cross threads (each thread's memory holds those of its own modes). Workers run the compiled
 * adjoint-worker.js next to worker.js (workerScript(): under a TypeScript runner, COSMODAG_BOLTZMANN_WORKER points
 * at a compiled worker.js, and its sibling is used). They are terminated at the end, also on a failure.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { OdeSolver } from '../../../core/numerics/ode/index.js';
import { type ModeAdjointOptions, type ModeTape, discreteRegime, modeVjp, recordMode } from './adjoint.js';
import { continuousRegime } from './adjoint-continuous.js';
import type { ReadBars, ReadBarsArrays } from './adjoint-reads.js';
import { workerScript } from './parallel.js';
import type { ModeSetup } from './setup.js';
import { largestKFirst, solverSpec, startWorker } from './threads.js';

/** Modes a worker holds at once (solving one, the next queued). */
const AHEAD = 2;

/** Path of the compiled adjoint worker (adjoint-worker.js beside the forward solve's worker.js), or null. */
export function adjointWorkerScript(): string | null {
  const w = workerScript();
  if (!w) return null;
  const p = path.join(path.dirname(w), 'adjoint-worker.js');
  return existsSync(p) ? p : null;
}

/** What a mode's forward pass gives this thread. */
export interface RecordedMode {
  delta: Float64Array;
  deltaCb: Float64Array | null;
  steps: number;
  storedDoubles: number;
}

export interface AdjointModesOptions {
  /** Threads in all (this one included), >= 2. */
  threads: number;
  script: string;
  record: ModeAdjointOptions;
  /** The backward pass of every thread: discreteRegime or continuousRegime (adjoint-continuous.ts). */
  scheme: 'discrete' | 'continuous';
  switchTimes: boolean;
  /** Each mode's forward values, as they arrive (index into ks). */
  onRecorded: (index: number, r: RecordedMode) => void;
  /**
   * Called once every mode is recorded: returns the cotangent filler, bars(index, db, dcb) writing mode index's
   * output cotangents into db (and dcb) and returning false when they are all zero (no backward pass).
   */
  transpose: () => (index: number, db: Float64Array, dcb: Float64Array | null) => boolean;
  /** One call per mode recorded and per mode whose backward pass is done (or skipped). */
  onStep?: () => void;
  /**
   * Test hook: this thread starts on the queue only once every worker has loaded (else, on a small request, it may
   * record every mode before a worker is ready, and the workers hold no tape).
   */
  awaitWorkers?: boolean;
}

/** What the threads did. */
export interface AdjointModesRun {
  threadsUsed: number;
  /** Modes recorded (and differentiated) on worker threads. */
  workerModes: number;
}

/**
 * Record every mode of ks on the threads, transpose (opt.transpose), and run the modes' backward passes into
 * `reads` (the calling thread's ReadBars; the workers' sums are added to it).
 */
export async function adjointModesParallel(
  setup: ModeSetup, ks: Float64Array, xOut: Float64Array, solver: OdeSolver, reads: ReadBars, opt: AdjointModesOptions,
): Promise<AdjointModesRun> {
  const nk = ks.length, nx = xOut.length;
  const nW = opt.threads - 1;
  const order = largestKFirst(ks);
  const regime = opt.scheme === 'continuous' ? continuousRegime : discreteRegime;
  const owner = new Int32Array(nk).fill(-1); // -1: this thread
  const local = new Map<number, ModeTape>();
  const workers: Worker[] = [];
  const readsOf: ((a: ReadBarsArrays) => void)[] = [];
  let failure: Error | null = null;
  let closing = false;
  let rejectAll: (e: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => { rejectAll = reject; });
  failed.catch(() => undefined); // observed through race
  const fail = (e: Error) => {
    if (!failure) {
      failure = e;
      rejectAll(e);
    }
  };
  const race = <T>(p: Promise<T>): Promise<T> => Promise.race([p, failed]);
  const yieldToWorkers = () => new Promise<void>((r) => setImmediate(r));
  let next = 0;
  try {
    // forward: nW workers plus this thread from one queue
    let live = nW, loading = nW;
    let allReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => { allReady = resolve; });
    let forwardDone: () => void = () => undefined;
    const forward = new Promise<void>((resolve) => { forwardDone = resolve; });
    // each worker holds up to AHEAD modes (the next one queued behind the one it is solving): this thread answers
    // only between its own modes, so a worker waiting for its next mode would idle for part of one of them
    const inFlight = new Int32Array(nW), idle = new Uint8Array(nW);
    const dispatch = (t: number) => {
      if (failure) return;
      while (next < nk && inFlight[t] < AHEAD) {
        const i = order[next++];
        owner[i] = t;
        inFlight[t]++;
        workers[t].postMessage({ type: 'mode', index: i, k: ks[i] });
      }
      if (inFlight[t] === 0 && !idle[t]) {
        idle[t] = 1;
        if (--live === 0) forwardDone();
      }
    };
    for (let t = 0; t < nW; t++) {
      const init = { type: 'init', setup, xOut, solver: solverSpec(solver), record: opt.record, scheme: opt.scheme, switchTimes: opt.switchTimes };
      workers.push(startWorker(opt.script, init, fail, 'adjoint worker thread', () => !closing,
        (m: { type: string; index?: number; message?: string; reads?: ReadBarsArrays } & Partial<RecordedMode>) => {
          try {
            if (m.type === 'ready') {
              if (--loading === 0) allReady();
              dispatch(t);
            } else if (m.type === 'mode') {
              inFlight[t]--;
              opt.onRecorded(m.index!, { delta: m.delta!, deltaCb: m.deltaCb ?? null, steps: m.steps!, storedDoubles: m.storedDoubles! });
              opt.onStep?.();
              dispatch(t);
            } else if (m.type === 'vjp-mode') opt.onStep?.();
            else if (m.type === 'reads') readsOf[t]?.(m.reads!);
            else if (m.type === 'error') fail(new Error(`linear-power/boltzmann: adjoint of mode k = ${ks[m.index!]} /Mpc failed: ${m.message}`));
          } catch (e) {
            fail(e as Error);
          }
        }));
    }
    if (opt.awaitWorkers) await race(ready);
    while (next < nk && !failure) {
      const i = order[next++];
      let tape: ModeTape;
      try {
        tape = recordMode(setup, ks[i], xOut, solver, opt.record);
      } catch (e) {
        throw new Error(`linear-power/boltzmann: adjoint of mode k = ${ks[i]} /Mpc failed: ${(e as Error).message}`);
      }
      local.set(i, tape);
      opt.onRecorded(i, { delta: tape.delta, deltaCb: tape.deltaCb, steps: tape.steps, storedDoubles: tape.storedDoubles });
      opt.onStep?.();
      await yieldToWorkers();
    }
    await race(forward);

    // between: the transposition of P, the transfer and the normalisation (this thread)
    const bars = opt.transpose();

    // backward: each worker gets its modes' cotangents in one message, this thread runs its own meanwhile
    const lists: { index: number; db: Float64Array; dcb: Float64Array | null }[][] = workers.map(() => []);
    const mine: { index: number; db: Float64Array; dcb: Float64Array | null }[] = [];
    for (let i = 0; i < nk; i++) {
      const db = new Float64Array(nx), dcb = setup.ncdm ? new Float64Array(nx) : null;
      if (!bars(i, db, dcb)) {
        opt.onStep?.();
        continue;
      }
      (owner[i] < 0 ? mine : lists[owner[i]]).push({ index: i, db, dcb });
    }
    const sums = workers.map((w, t) => new Promise<ReadBarsArrays>((resolve) => {
      readsOf[t] = resolve;
      w.postMessage({ type: 'vjp', bars: lists[t] });
    }));
    for (const { index, db, dcb } of mine) {
      if (failure) break;
      try {
        modeVjp(local.get(index)!, db, dcb, 'tables', regime, { switchTimes: opt.switchTimes, into: reads });
      } catch (e) {
        throw new Error(`linear-power/boltzmann: adjoint of mode k = ${ks[index]} /Mpc failed: ${(e as Error).message}`);
      }
      local.delete(index);
      opt.onStep?.();
      await yieldToWorkers();
    }
    // (a failure in any thread rejects `failed`, hence this race, and the loop above stops at it)
    for (const a of await race(Promise.all(sums))) reads.addArrays(a);
  } finally {
    closing = true;
    await Promise.all(workers.map((w) => w.terminate()));
  }
  let workerModes = 0;
  for (let i = 0; i < nk; i++) if (owner[i] >= 0) workerModes++;
  return { threadsUsed: opt.threads, workerModes };
}
