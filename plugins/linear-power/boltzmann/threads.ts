/**
 * What the forward solve's threads (parallel.ts, worker.ts) and the adjoint's (adjoint-parallel.ts,
 * adjoint-worker.ts) share: the thread count, the queue order (largest k first), the solver as it crosses to a
 * worker (name and config), starting a worker with its failure handling, and a worker's message loop. No side
 * effects on import (a worker's entry module attaches to its port; this one only when serveWorker is called).
 */
import { availableParallelism } from 'node:os';
import { type MessagePort, Worker, parentPort } from 'node:worker_threads';
import type { OdeSolver } from '../../../core/numerics/ode/index.js';

/** Threads for n modes: `threads` (0 = one per available core), at most n. */
export function threadCount(threads: number, n: number): number {
  return Math.min(threads > 0 ? threads : availableParallelism(), n);
}

/** Indices into ks, largest k (most expensive mode) first: the order the threads draw modes in. */
export function largestKFirst(ks: Float64Array): number[] {
  return Array.from(ks, (_, i) => i).sort((a, b) => ks[b] - ks[a]);
}

/** A solver as it crosses to a worker: its name and configuration (OdeSolver.config), from which it is rebuilt. */
export interface SolverSpec {
  name: string;
  config: Record<string, unknown>;
}

export const solverSpec = (solver: OdeSolver): SolverSpec => ({ name: solver.name, config: solver.config ?? {} });

/**
 * Start a worker on `script` and send it `init`: an 'error' event goes to fail, and so does an exit with
 * exitFails(code) true (as `linear-power/boltzmann: <what> exited with code <code>`).
 */
export function startWorker<M>(
  script: string, init: object, fail: (e: Error) => void, what: string, exitFails: (code: number) => boolean, onMessage: (m: M) => void,
): Worker {
  const w = new Worker(script);
  w.on('error', fail);
  w.on('exit', (code) => {
    if (exitFails(code)) fail(new Error(`linear-power/boltzmann: ${what} exited with code ${code}`));
  });
  w.on('message', onMessage);
  w.postMessage(init);
  return w;
}

/** A message between a parent and its worker. */
export type WorkerMessage = { type: string; [k: string]: unknown };

/**
 * A worker's message loop (in a worker thread; nothing elsewhere): the first message, type 'init', gives the state
 * (init(msg)) and is answered {type: 'ready'}; every later message goes to handle with that state.
 */
export function serveWorker<S>(init: (msg: WorkerMessage) => S, handle: (state: S, msg: WorkerMessage, port: MessagePort) => void): void {
  if (!parentPort) return;
  const port = parentPort;
  let state: S | null = null;
  port.on('message', (msg: WorkerMessage) => {
    if (msg.type === 'init') {
      state = init(msg);
      port.postMessage({ type: 'ready' });
    } else if (state !== null) handle(state, msg, port);
  });
}
