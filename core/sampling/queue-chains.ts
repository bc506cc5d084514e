/**
 * The chains of `cosmodag sample --queue` as jobs on the Redis queue the sweeps use, run by the same
 * `cosmodag worker` processes (core/sweep/redis-queue.ts). Each chain is a sequence of segments (segment.ts): the
 * driver submits a chain's next segment with the chain's last checkpoint as its input, and when the result comes
 * back it appends the segment's draws to the chain's checkpoint in --out (checkpoint.ts: draws synced, then the
 * state replaced atomically, exactly as a local run checkpoints) and submits the next one. One segment per chain is
 * in the queue at a time; the chains run side by side on as many workers as there are chains.
 *
 *  - Exactly once: the driver records one result per segment (the first to arrive; a segment's id is the hash of its
 *    input) and each segment starts where the recorded one ended, so no draw is lost or repeated.
 *  - A worker killed mid-segment: its lock expires and another worker runs the segment again from the same state
 *    (BullMQ's stalled-job recovery): the same draws.
 *  - The driver killed: the checkpoints hold every recorded segment; `--resume` (with or without --queue) continues
 *    from them. A segment still in the queue or finished meanwhile has the same id when submitted again and is
 *    picked up rather than run twice.
 *  - A segment that fails on a worker (after --attempts) or is refused there stops the run with its message (exit
 *    1); the checkpoints keep what was recorded.
 *  - Stopping (--until-ess, --max-time): no further segments; segments not yet taken by a worker are withdrawn,
 *    running ones are awaited and recorded.
 */
import type { Job } from 'bullmq';
import { openQueue, scrub, type QueueTarget } from '../sweep/redis-queue.js';
import type { ChainJobData, ChainProgress } from './chain-runner.js';
import { ChainCheckpointer, decodeJson, readCheckpoint, type ChainCheckpoint, type StoredDraw } from './checkpoint.js';
import type { PipelineSource } from './pipeline-source.js';
import { SEGMENT_JOB_NAME, segmentJob, segmentJobId, type SegmentJobData, type SegmentOutput, type SegmentResult } from './segment.js';

/** How long a finished segment stays in Redis when the driver could not remove it (a driver killed meanwhile) [s]. */
const KEEP_FINISHED_SECONDS = 7 * 24 * 3600;

export interface QueueChainsOptions {
  target: QueueTarget;
  queueName: string;
  /** Attempts per segment (compute failures, stalls). */
  attempts: number;
  /** Seconds a worker steps a chain before returning a segment. */
  segmentSeconds: number;
  source: PipelineSource;
  /** The planned pipeline's content address (run-point.ts: pointKey). */
  key: string;
  sampler: { name: string; config: Record<string, unknown> };
  jobs: ChainJobData[];
  out: string;
  resume: boolean;
  /** Iterations after warm-up per chain; null: until stopped. */
  samples: number | null;
  onDraws: (chain: number, draws: StoredDraw[], progress: ChainProgress) => void;
  shouldStop: () => boolean;
  /** Lines to show (already scrubbed of the password). */
  warn: (line: string) => void;
}

interface Chain {
  job: ChainJobData;
  cp: ChainCheckpointer;
  last: ChainCheckpoint | null;
  /** Id of the segment in the queue, or null; its data; whether this run added it. */
  pending: string | null;
  data?: SegmentJobData;
  submitted?: boolean;
  done: boolean;
}

/** Run the chains as segments on the queue until each reaches its stopping rule or the run is stopped. */
export async function runChainsOnQueue(o: QueueChainsOptions): Promise<{ stop: () => void; done: Promise<void> }> {
  const { target } = o;
  const { queue, events, close: closeQueue } = openQueue(target, o.queueName, o.warn);
  let timer: NodeJS.Timeout | undefined;
  const chains: Chain[] = [];
  const close = async () => {
    clearInterval(timer);
    await closeQueue();
    for (const c of chains) c.cp.close();
  };
  let resolveAll!: () => void;
  let rejectAll!: (e: Error) => void;
  const finished = new Promise<void>((resolve, reject) => { resolveAll = resolve; rejectAll = reject; });
  finished.catch(() => { /* handled through `done` */ });
  let failed = false;
  const fail = (e: Error) => {
    if (failed) return;
    failed = true;
    rejectAll(new Error(scrub(e.message, target))); // no cause: its message would show the password
  };
  const total = (job: ChainJobData) => (o.samples === null ? null : job.warmup + o.samples);
  const byId = new Map<string, Chain>();
  let stopping = false;

  const settle = () => {
    if (!failed && chains.every((c) => c.done)) resolveAll();
  };

  /**
   * Make sure the chain's pending segment is in the queue (Redis only). True when it has finished already (a segment
   * an earlier session submitted, or this one's attempt that failed): the caller delivers it.
   */
  const ensure = async (c: Chain): Promise<boolean> => {
    const id = c.pending!, data = c.data!;
    const state = await queue.getJobState(id);
    const existing = state === 'unknown' ? undefined : await queue.getJob(id);
    if (existing) {
      if (state === 'completed' && (existing.returnvalue as SegmentResult | null)?.status === 'ok') return true;
      if (state === 'completed' || state === 'failed') {
        if (c.submitted) return true;
        await existing.remove(); // an earlier session's failure: try again
      } else return false; // waiting or running: its result will come
    }
    const keep = { age: KEEP_FINISHED_SECONDS };
    await queue.add(SEGMENT_JOB_NAME, data, { jobId: id, attempts: o.attempts, removeOnComplete: keep, removeOnFail: keep });
    c.submitted = true;
    return false;
  };

  const submit = async (c: Chain): Promise<void> => {
    const from = c.last;
    const data = segmentJob({
      source: o.source, key: o.key, sampler: o.sampler, job: c.job, total: total(c.job), seconds: o.segmentSeconds,
      from: from ? { state: from.state, seconds: from.seconds, warmupSeconds: from.warmupSeconds, warmupEvaluations: from.warmupEvaluations, counts: from.counts } : null,
    });
    const id = segmentJobId(data);
    Object.assign(c, { pending: id, data, submitted: false });
    byId.set(id, c);
    let finishedAlready = false;
    try {
      finishedAlready = await ensure(c);
    } catch (e) {
      // the periodic look at the pending segments queues it once Redis answers again
      o.warn(scrub(`warning: could not queue the segment of chain ${c.job.chain} (${(e as Error).message}); will try again`, target));
    }
    if (finishedAlready) setImmediate(() => checkLater(c));
  };

  /** Record a finished segment (once) and submit the chain's next one. */
  const deliver = async (id: string, job: Job, state: string): Promise<void> => {
    const c = byId.get(id);
    if (!c || c.pending !== id) return; // recorded already (a late event, a second look)
    byId.delete(id);
    c.pending = null;
    const r = job.returnvalue as SegmentResult | null;
    const from = c.last?.state.iteration ?? 0;
    if (state === 'failed' || !r || r.status !== 'ok' || typeof r.body !== 'string') {
      const why = (r && r.status === 'failed' ? r.error : job.failedReason) || 'failed in the queue';
      fail(new Error(`chain ${c.job.chain}: the segment from iteration ${from} failed on a worker${job.attemptsMade > 1 ? ` (after ${job.attemptsMade} attempts)` : ''}: ${why}\n` +
        `the checkpoints in ${o.out}/checkpoint hold the chains so far: continue with --resume once the cause is mended`));
      return;
    }
    const out = decodeJson<SegmentOutput>(r.body);
    if (out.draws.some((d) => d.iteration < from) || out.state.iteration < from) {
      fail(new Error(`chain ${c.job.chain}: a segment from iteration ${from} returned iterations before it`));
      return;
    }
    c.cp.add(out.draws);
    c.cp.checkpoint({
      state: out.state, evaluations: out.evaluations, seconds: out.seconds, done: out.done,
      ...(out.warmupSeconds !== undefined ? { warmupSeconds: out.warmupSeconds, warmupEvaluations: out.warmupEvaluations } : {}),
      counts: out.counts,
    });
    c.last = readCheckpoint(o.out, c.job.chain);
    // the result is in the checkpoint: Redis need not keep it
    job.remove().catch(() => { /* removed with its age otherwise */ });
    o.onDraws(c.job.chain, out.draws, { iteration: out.state.iteration, evaluations: out.evaluations, seconds: out.seconds, done: out.done });
    if (out.done || stopping || o.shouldStop()) {
      c.done = true;
      settle();
    } else await submit(c);
  };

  /** Look at a chain's pending segment: deliver it when finished, queue it again when it is missing. */
  const check = async (c: Chain): Promise<void> => {
    const id = c.pending;
    if (!id || c.done) return;
    let job: Job | undefined, state: string;
    try {
      // the state first, then the job: a job read before it finished holds no return value
      state = await queue.getJobState(id);
      if (state === 'unknown') {
        if (c.pending === id && (await ensure(c))) setImmediate(() => checkLater(c));
        return;
      }
      if (state !== 'completed' && state !== 'failed') return;
      job = await queue.getJob(id);
    } catch (e) {
      o.warn(scrub(`warning: could not read the segment of chain ${c.job.chain} (${(e as Error).message}); will look again`, target));
      return;
    }
    if (job) await deliver(id, job, state);
  };
  // a result that cannot be recorded (a full disk) stops the run
  const checkLater = (c: Chain | undefined) => { if (c) check(c).catch(fail); };

  try {
    await events.waitUntilReady();
    events.on('completed', ({ jobId }) => checkLater(byId.get(jobId)));
    events.on('failed', ({ jobId }) => checkLater(byId.get(jobId)));
    for (const job of o.jobs) {
      const from = o.resume ? readCheckpoint(o.out, job.chain) : null;
      const c: Chain = { job, cp: new ChainCheckpointer(o.out, job.chain, from ?? undefined), last: from, pending: null, done: false };
      chains.push(c);
      const t = total(job);
      if (from && (from.done || (t !== null && from.state.iteration >= t))) {
        if (!from.done) c.cp.checkpoint({ ...from, done: true });
        c.last = readCheckpoint(o.out, job.chain);
        c.done = true;
      }
    }
    for (const c of chains) if (!c.done) await submit(c);
    settle();
    // events can be missed across a reconnection, and a segment may not have been queued during one: look at the
    // pending segments every few seconds
    timer = setInterval(() => { for (const c of chains) checkLater(c); }, 5000);
  } catch (e) {
    await close();
    throw new Error(scrub((e as Error).message, target));
  }

  /** Remove the chains' pending segments that no worker has taken; true for a chain whose segment was removed. */
  const withdraw = () => Promise.all(chains.map(async (c) => {
    const id = c.pending;
    if (!id || c.done) return false;
    try {
      const job = await queue.getJob(id);
      if (!job || !(await job.isWaiting())) return false;
      await job.remove(); // throws when a worker took it meanwhile (its lock): then its result is awaited
    } catch {
      return false;
    }
    if (c.pending !== id) return false;
    c.pending = null;
    byId.delete(id);
    return true;
  }));

  /** No further segments; withdraw those no worker has taken (running ones finish and are recorded). */
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void withdraw().then((removed) => {
      removed.forEach((r, i) => { if (r) chains[i].done = true; });
      settle();
    });
  };
  // a failed run takes its other chains' waiting segments back out of the queue
  const done = finished.catch(async (e: unknown) => {
    await withdraw();
    throw e;
  }).finally(close);
  return { stop, done };
}
