/**
 * A pool of worker threads running sweep points and sampling segments (point-thread.ts; `cosmodag sample --queue`
 * sends its chains as segments, core/sampling/segment.ts), so that a sweep uses every core and a queue
 * worker's main thread stays free to renew its job locks. Points go to the first idle thread; each thread keeps its
 * memo store between points. A thread that dies (out of memory, a crash in native code) is replaced and its point is
 * tried once more before it is recorded as failed.
 *
 * With `inline`, the calling thread is one of the runners: `threads - 1` worker threads plus this thread (a sweep's
 * main thread has nothing else to do while its points run, and has loaded the plugins already to plan them). A job
 * goes to a thread only once the thread has loaded its modules (and the plugins, when warmed), so that this thread
 * computes points meanwhile instead of queueing them behind a thread's start-up (~1 s of module loading per thread;
 * docs/scaling.md).
 *
 * Threads run the compiled point-thread.js beside this module. Under a TypeScript runner (the sources, not dist/),
 * where a thread could not load the sources, the points run in this thread one after another: same numbers.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DiskStore, type MemoStore } from '../cache/store.js';
import { RecentStore } from '../sampling/target.js';
import { runSegment, type SegmentInput, type SegmentResult } from '../sampling/segment.js';
import { runPoint, type PointJob, type PointResult } from './run-point.js';
import { takePrestarted } from './prestart.js';
import { configureWorkerHeaps } from './worker-heap.js';

/**
 * Stage outputs a runner keeps in memory (most recently used): about nine points of a seven-stage pipeline. Stages
 * no varied path reaches are read at every point, so they stay.
 */
export const STORE_ENTRIES = 64;

export interface PoolOptions {
  threads: number;
  allowCommands: boolean;
  /** Jobs come from a queue: plugin modules must be installed packages. */
  remote: boolean;
  /** On-disk memo store shared by the threads (and with other runs). */
  cacheDir?: string;
  /** Plugin files (canonical absolute paths) jobs from a queue may load. */
  allowedPluginFiles?: readonly string[];
  /**
   * This thread runs points too (then `threads - 1` worker threads). Not for a queue worker, whose main thread
   * must stay free to renew its job locks.
   */
  inline?: boolean;
}

/** Path of the compiled thread script, or null when this module is not the compiled one. */
export function threadScript(): string | null {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.js')) return null;
  const p = fileURLToPath(new URL('./point-thread.js', import.meta.url));
  return existsSync(p) ? p : null;
}

type Task = { kind: 'point'; job: PointJob } | { kind: 'segment'; job: SegmentInput };
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a PointResult or a SegmentResult, by the task's kind
interface Pending { task: Task; resolve: (r: any) => void; tries: number }
/**
 * A worker thread; it takes jobs once `loaded` (its modules) and not `warming` (loading a pipeline's plugins). `jobs`:
 * the jobs sent to it and not yet answered, run there one after another.
 */
interface Slot { worker: Worker; jobs: Map<number, Pending>; loaded: boolean; warming: boolean }

export class PointPool {
  private readonly queue: Pending[] = [];
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private closed = false;
  private localStore?: MemoStore;
  private localBusy = false;
  readonly threaded: boolean;

  constructor(private readonly o: PoolOptions) {
    this.threaded = !!threadScript();
  }

  /**
   * Start up to `threads` threads now and have each load the plugins of `pipeline` (a sweep calls this before it
   * plans its points, so that module loading overlaps the planning). Nothing runs; a later job finds them loaded.
   */
  warm(threads: number, pipeline: unknown, baseDir: string): void {
    if (!this.threaded || this.closed || this.o.remote) return;
    const n = Math.min(this.o.inline ? threads - 1 : threads, this.maxThreads());
    while (this.slots.length < n) {
      const slot = this.spawn();
      slot.warming = true;
      slot.worker.postMessage({ type: 'warm', pipeline, baseDir });
    }
  }

  /** Worker threads this pool may start. */
  private maxThreads(): number {
    return this.o.inline ? Math.max(0, this.o.threads - 1) : Math.max(1, this.o.threads);
  }

  /** Run a point (queued until a thread is free). Never rejects: a failure is a failed result. */
  run(job: PointJob): Promise<PointResult> {
    return this.submit({ kind: 'point', job });
  }

  /** Run a segment of a chain (cosmodag sample --queue). Never rejects: a failure is a failed result. */
  runSegment(job: SegmentInput): Promise<SegmentResult> {
    return this.submit({ kind: 'segment', job });
  }

  private submit<R>(task: Task): Promise<R> {
    if (this.closed) return Promise.resolve(this.failure(task, 'the point pool is closed', false) as R);
    return new Promise((resolve) => {
      this.queue.push({ task, resolve, tries: 0 });
      this.pump();
    });
  }

  private failure(task: Task, error: string, retry: boolean): PointResult | SegmentResult {
    if (task.kind === 'segment') return { status: 'failed', chain: task.job.job.chain, from: task.job.from?.state.iteration ?? 0, wall: 0, error, retry };
    return { key: task.job.key, status: 'failed', seconds: 0, columns: {}, error, retry, computed: 0, cached: 0 };
  }

  private pump(): void {
    if (!this.threaded) {
      this.runHere();
      return;
    }
    // threads for the jobs no idle thread (ready or starting) will take; they take jobs once ready
    while (this.slots.length < this.maxThreads() && this.slots.filter((s) => !s.jobs.size).length < this.queue.length) this.spawn();
    // with `inline`, each thread holds its next job too: this thread answers a thread's result only between its own
    // points (a stage's awaits do not yield to the event loop), and the thread must not wait that long for work
    const depth = this.o.inline ? 2 : 1;
    while (this.queue.length) {
      const slot = this.slots.find((s) => s.jobs.size < depth && s.loaded && !s.warming);
      if (!slot) break;
      const p = this.queue.shift()!;
      const id = this.nextId++;
      slot.jobs.set(id, p);
      slot.worker.postMessage(p.task.kind === 'point' ? { type: 'job', id, job: p.task.job } : { type: 'segment', id, job: p.task.job });
    }
    if (this.o.inline && this.queue.length) this.runHere();
  }

  private spawn(): Slot {
    configureWorkerHeaps();
    const settings = { allowCommands: this.o.allowCommands, remote: this.o.remote, cacheDir: this.o.cacheDir, allowedPluginFiles: this.o.allowedPluginFiles ?? [] };
    // a thread the launcher started early (prestart.ts) if there is one, else a new one
    const pre = takePrestarted();
    const worker = pre?.worker ?? new Worker(threadScript()!, { workerData: settings });
    if (pre) worker.postMessage({ type: 'settings', settings });
    const slot: Slot = { worker, jobs: new Map(), loaded: pre?.loaded ?? false, warming: false };
    worker.on('message', (m: { type: string; id: number; result: PointResult | SegmentResult }) => {
      if (m.type === 'ready' || m.type === 'warmed') {
        if (m.type === 'ready') slot.loaded = true;
        else slot.warming = false;
        this.pump();
        return;
      }
      const p = m.type === 'result' ? slot.jobs.get(m.id) : undefined;
      if (!p) return;
      slot.jobs.delete(m.id);
      p.resolve(m.result);
      this.pump();
    });
    const died = (why: string) => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return;
      this.slots.splice(i, 1);
      // the first job held was running (it counts as a try); the one behind it had not started
      const [running, ...waiting] = [...slot.jobs.values()];
      slot.jobs.clear();
      if (this.closed) {
        for (const p of [running, ...waiting]) p?.resolve(this.failure(p.task, 'the point pool was closed while the point ran', false));
        return;
      }
      this.queue.unshift(...waiting);
      if (running) {
        if (++running.tries < 2) this.queue.unshift(running);
        else running.resolve(this.failure(running.task, `the worker thread running it died twice (${why})`, false));
      }
      this.pump();
    };
    worker.on('error', (e) => died(e.message));
    worker.on('exit', (code) => died(`exit code ${code}`));
    this.slots.push(slot);
    return slot;
  }

  /**
   * Run queued jobs here, one after another: every job without a thread script; with `inline`, whatever the ready
   * threads have not taken (this thread yields between jobs, so that a thread that finished is given the next one).
   */
  private runHere(): void {
    if (this.localBusy) return;
    this.localBusy = true;
    this.localStore ??= this.o.cacheDir ? new DiskStore(path.resolve(this.o.cacheDir), new RecentStore(STORE_ENTRIES)) : new RecentStore(STORE_ENTRIES);
    const store = this.localStore;
    void (async () => {
      try {
        while (this.queue.length && !this.closed) {
          const p = this.queue.shift()!;
          const env = { allowCommands: this.o.allowCommands, remote: this.o.remote, allowedPluginFiles: this.o.allowedPluginFiles };
          p.resolve(p.task.kind === 'point' ? await runPoint(p.task.job, { store, ...env }) : await runSegment(p.task.job, env));
          if (this.o.inline) await new Promise((r) => setImmediate(r)); // results from threads first
        }
      } finally {
        this.localBusy = false;
      }
    })();
  }

  /** Stop the threads; points still queued or running resolve as failed. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.resolve(this.failure(p.task, 'the point pool was closed before the point ran', false));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
