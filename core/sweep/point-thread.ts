/**
 * Worker-thread entry of the sweep's point pool (point-pool.ts): runs the points it is sent, one at a time, through
 * one memo store kept for the thread's life, holding the most recently used stage outputs (so stages a point shares
 * with the earlier ones come from memory, and a long sweep's memory stays bounded).
 *
 * It also runs segments of sampling chains (cosmodag sample --queue: core/sampling/segment.ts), which keep their own
 * planned pipelines and memo stores.
 *
 * workerData: {allowCommands, remote, cacheDir?, allowedPluginFiles}, or {deferred: true} for a thread started before
 *             the sweep had its settings (prestart.ts): they come in the first message, {type: 'settings', settings}
 * Messages in:  {type: 'job', id, job: PointJob} | {type: 'segment', id, job: SegmentInput} | {type: 'warm', pipeline, baseDir}
 *               (load the pipeline's plugins before the first job; local pools only)
 * Messages out: {type: 'ready'} (modules loaded), {type: 'warmed'} (a warm request's plugins loaded, or failed to),
 *               {type: 'result', id, result: PointResult | SegmentResult}
 */
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { DiskStore, type MemoStore } from '../cache/store.js';
import { STORE_ENTRIES } from './point-pool.js';
import { RecentStore } from '../sampling/target.js';
import { runSegment, type SegmentInput, type SegmentResult } from '../sampling/segment.js';
import { checkJob, claimedKey, registryOf, runPoint, type PointJob, type PointResult } from './run-point.js';

if (parentPort) {
  const port = parentPort;
  type Settings = { allowCommands: boolean; remote: boolean; cacheDir?: string; allowedPluginFiles?: string[] };
  const storeFor = (e: Settings): MemoStore => (e.cacheDir ? new DiskStore(path.resolve(e.cacheDir), new RecentStore(STORE_ENTRIES)) : new RecentStore(STORE_ENTRIES));
  // a prestarted thread (prestart.ts) gets its settings in a first message, from the pool that adopts it
  const deferred = !!(workerData as { deferred?: boolean } | null)?.deferred;
  let env = workerData as Settings;
  let store: MemoStore = deferred ? new RecentStore(STORE_ENTRIES) : storeFor(env);
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (msg: { type: string; id: number; job: unknown; pipeline?: unknown; baseDir?: string; settings?: Settings }) => {
    if (msg.type === 'settings') {
      env = msg.settings!;
      store = storeFor(env);
      return;
    }
    if (msg.type === 'warm') {
      // a failure here is the first job's to report
      const warmed = () => port.postMessage({ type: 'warmed' });
      if (!env.remote && typeof msg.baseDir === 'string') registryOf(msg.pipeline, msg.baseDir).then(warmed, warmed);
      else warmed();
      return;
    }
    if (msg.type === 'segment') {
      const job = msg.job as SegmentInput;
      const answer = (result: SegmentResult) => port.postMessage({ type: 'result', id: msg.id, result });
      runSegment(job, env).then(answer, (e: Error) => answer({ status: 'failed', chain: job.job.chain, from: job.from?.state.iteration ?? 0, wall: 0, error: e.message, retry: true }));
      return;
    }
    if (msg.type !== 'job') return;
    const answer = (result: PointResult) => port.postMessage({ type: 'result', id: msg.id, result });
    let job: PointJob;
    try {
      job = checkJob(msg.job);
    } catch (e) {
      const key = claimedKey(msg.job);
      answer({ key, status: 'failed', seconds: 0, columns: {}, error: (e as Error).message, retry: false, computed: 0, cached: 0 });
      return;
    }
    // one point at a time: the pool may send the next job before this one is done
    queue = queue.then(() => runPoint(job, { store, allowCommands: env.allowCommands, remote: env.remote, allowedPluginFiles: env.allowedPluginFiles }).then(answer, (e: Error) =>
      answer({ key: job.key, status: 'failed', seconds: 0, columns: {}, error: e.message, retry: true, computed: 0, cached: 0 })));
  });
  if (deferred) {
    // started before the sweep knew its pipeline: load the built-in plugins now (a job's registry finds them loaded)
    const ready = () => port.postMessage({ type: 'ready' });
    import('cosmodag/plugins').then(ready, ready);
  } else port.postMessage({ type: 'ready' });
}
