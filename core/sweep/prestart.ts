/**
 * Sweep threads started at the very beginning of `cosmodag sweep` (bin/run.js), before the command's own modules
 * are loaded: a new thread needs ~1.5 s to load its modules and the built-in plugins, and the main thread needs about
 * as long to load the CLI and plan the points, so the two overlap and the thread is ready when the first point is
 * handed out (docs/scaling.md). The point pool adopts them (point-pool.ts spawn); until then they are unref'd, so a
 * sweep that stops early (bad input, --queue) exits as before.
 *
 * This module imports nothing of cosmodag, so that starting the threads costs the launcher nothing.
 */
import { Worker } from 'node:worker_threads';

export interface Prestarted {
  worker: Worker;
  /** The thread has loaded its modules (its 'ready' message came before the pool listened). */
  loaded: boolean;
}

interface Held extends Prestarted {
  onReady: (m: { type?: string }) => void;
}

const started: Held[] = [];

/** Start n point threads (point-thread.ts, waiting for their settings: workerData.deferred). */
export function prestartPointThreads(script: string | URL, n: number): void {
  for (let i = 0; i < n; i++) {
    const worker = new Worker(script, { workerData: { deferred: true } });
    const held: Held = { worker, loaded: false, onReady: (m) => { if (m?.type === 'ready') held.loaded = true; } };
    worker.on('message', held.onReady);
    worker.once('error', () => undefined); // a thread that failed to start is skipped: the pool starts its own
    worker.unref();
    started.push(held);
  }
}

/** A prestarted thread still running, for the pool to adopt (its listeners and its ref are the pool's from now on). */
export function takePrestarted(): Prestarted | undefined {
  while (started.length) {
    const { worker, loaded, onReady } = started.shift()!;
    if (worker.threadId < 0) continue; // it exited
    worker.off('message', onReady);
    worker.ref();
    return { worker, loaded };
  }
  return undefined;
}
