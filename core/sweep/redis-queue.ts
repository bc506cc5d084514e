/**
 * Sweep points as BullMQ jobs on Redis: the sweep side adds one job per missing point and collects the results as
 * they arrive; `cosmodag worker` runs them on any machine with the same plugins installed.
 *
 *  - A job is data (run-point.ts: PointJob), never code. Its id is `p-<content address>`: adding a point that is
 *    already queued, running or finished is a no-op, so a resumed sweep picks up results computed meanwhile, and a
 *    point is recorded once however often it is submitted.
 *  - A worker that dies mid-job: the job's lock expires and another worker's stalled-job check puts it back in the
 *    queue (BullMQ's stalled-job recovery); its first result is the one recorded.
 *  - A point whose compute fails is attempted `attempts` times in all, then completes as a failed point with its
 *    error message; an invalid point or a refused one (a `command` stage on a worker without --allow-commands,
 *    plugins differing from the sweep's) fails at once.
 *  - The queue URL's password is never printed: everything shown goes through redactUrl / scrub.
 *
 * The same workers run the chains of `cosmodag sample --queue` as jobs named `sample-segment`, one segment of a chain
 * at a time (core/sampling/segment.ts: the job carries the chain's state in, the result its draws and state out;
 * core/sampling/queue-chains.ts submits them).
 */
import { Redis, type RedisOptions } from 'ioredis';
import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import { InputError, issue } from '../schema/input-error.js';
import type { PointJob, PointResult } from './run-point.js';
import { checkJob, claimedKey } from './run-point.js';
import type { PointPool } from './point-pool.js';
import { checkSegmentJob, SEGMENT_JOB_NAME, type SegmentResult } from '../sampling/segment.js';

export const DEFAULT_QUEUE_NAME = 'cosmodag-sweep';
/** How long finished jobs (their results) stay in Redis for a resumed or repeated sweep [s]. */
const KEEP_FINISHED_SECONDS = 7 * 24 * 3600;

export interface QueueTarget {
  /** The URL as given (with its password): only ever handed to the Redis client. */
  url: string;
  /** The URL with the password replaced by ***: for messages. */
  display: string;
  password: string | null;
}

/** `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]` or `rediss://...` (TLS); InputError naming the flag otherwise. */
export function parseQueueUrl(url: string, flag = '--queue'): QueueTarget {
  let u: URL;
  const bad = (why: string) => new InputError([issue(flag, `${why}; expected redis://HOST:PORT[/DB] or rediss://[:PASSWORD@]HOST:PORT[/DB]`)]);
  try {
    u = new URL(url);
  } catch {
    throw bad('not a URL');
  }
  const target: QueueTarget = { url, display: redactUrl(url), password: u.password ? decodeURIComponent(u.password) : null };
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw bad(`${target.display}: the scheme must be redis or rediss`);
  if (!u.hostname) throw bad(`${target.display}: no host`);
  if (u.pathname && u.pathname !== '/' && !/^\/\d+$/.test(u.pathname)) throw bad(`${target.display}: the path must be a database number (/0, /1, ...)`);
  return target;
}

/**
 * A --queue value: the URL itself, or `env:NAME` for the URL in the environment variable NAME (which keeps a password
 * out of the process list and the shell history).
 */
export function queueUrlFrom(value: string, flag = '--queue'): string {
  if (!value.startsWith('env:')) return value;
  const name = value.slice(4);
  const url = process.env[name];
  if (!name || !url) throw new InputError([issue(flag, `${value}: the environment variable ${name || '(no name)'} is not set`)]);
  return url;
}

/** The URL with its password (if any) replaced by ***. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/([^@/]*):[^@/]*@/, '//$1:***@');
  }
}

/** Remove the password (raw and URL-encoded) and the full URL from a text that is about to be shown or written. */
export function scrub(text: string, target: QueueTarget | null): string {
  if (!target) return text;
  let out = text.split(target.url).join(target.display);
  if (target.password) {
    for (const form of new Set([target.password, encodeURIComponent(target.password)])) if (form) out = out.split(form).join('***');
  }
  return out;
}

/** A Redis client for BullMQ (commands wait for a reconnection rather than fail: a queue outlives a network blip). */
export function redisClient(target: QueueTarget, extra: RedisOptions = {}): Redis {
  const client = new Redis(target.url, { maxRetriesPerRequest: null, ...extra });
  client.on('error', () => { /* reported by the owner (probeRedis, the sweep's or worker's connection watch) */ });
  return client;
}

/**
 * Connect once, without retries, and PING: a clear error (never a hang) when the server cannot be reached within
 * `timeoutMs`; exit code 1 at the CLI (the input was well formed, the world was not).
 */
export async function probeRedis(target: QueueTarget, timeoutMs = 8000): Promise<void> {
  const client = new Redis(target.url, {
    lazyConnect: true, connectTimeout: Math.min(5000, timeoutMs), maxRetriesPerRequest: 0, enableOfflineQueue: false,
    retryStrategy: () => null, reconnectOnError: () => false,
  });
  let lastError = null as Error | null;
  client.on('error', (e: Error) => { lastError = e; });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await client.connect();
        await client.ping();
      })(),
      new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs); }),
    ]);
  } catch (e) {
    // the client's own error (ECONNREFUSED, WRONGPASS, ...) says more than the rejection ("Connection is closed.")
    const why = lastError?.message || (e as Error).message || 'unknown error';
    const hint = /WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(why) ? ' (check the user and password in the URL)' : '';
    throw new Error(scrub(`cannot reach the Redis server at ${target.display}: ${why}${hint}`, target));
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

export const jobIdOf = (key: string) => `p-${key}`;

export interface SubmitOptions {
  queueName: string;
  /** Attempts per point (compute failures and stalls); >= 1. */
  attempts: number;
  /** Called once per point, as its result arrives (in any order). */
  onResult: (result: PointResult, attempts: number) => void;
  /** A warning to show (already scrubbed). */
  warn: (line: string) => void;
}

/**
 * A queue and its event stream on two connections of their own, whose connection errors are reported through `warn`
 * (at most one line per 10 s, the password scrubbed): what a sweep and a queued sampling run both submit through.
 */
export function openQueue(target: QueueTarget, queueName: string, warn: (line: string) => void): { queue: Queue; events: QueueEvents; close: () => Promise<void> } {
  const client = redisClient(target);
  const eventsClient = redisClient(target);
  let lastWarning = 0;
  const watch = (c: Redis) => c.on('error', (e: Error) => {
    if (Date.now() - lastWarning < 10_000) return;
    lastWarning = Date.now();
    warn(scrub(`warning: the connection to Redis at ${target.display} failed (${e.message}); retrying`, target));
  });
  watch(client);
  watch(eventsClient);
  const queue = new Queue(queueName, { connection: client });
  const events = new QueueEvents(queueName, { connection: eventsClient });
  const close = async () => {
    await Promise.allSettled([events.close(), queue.close()]);
    client.disconnect();
    eventsClient.disconnect();
  };
  return { queue, events, close };
}

/**
 * Queue every job (points already finished with success in the queue are delivered at once; failed ones are queued
 * again) and wait until each has a result. Returns a handle whose `done` resolves when all are in, and `close`.
 */
export async function submitJobs(target: QueueTarget, jobs: PointJob[], o: SubmitOptions): Promise<{ done: Promise<void>; close: () => Promise<void> }> {
  const { queue, events, close: closeQueue } = openQueue(target, o.queueName, o.warn);
  const close = async () => {
    clearInterval(timer);
    await closeQueue();
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    await events.waitUntilReady();
    const pending = new Map(jobs.map((j) => [jobIdOf(j.key), j]));
    let resolveAll!: () => void;
    let rejectAll!: (e: Error) => void;
    const done = new Promise<void>((resolve, reject) => { resolveAll = resolve; rejectAll = reject; });
    let lastResult = Date.now();
    const deliver = (id: string, result: PointResult, attempts: number) => {
      const job = pending.get(id);
      if (!job) return;
      pending.delete(id);
      lastResult = Date.now();
      try {
        o.onResult({ ...result, key: job.key }, attempts);
      } catch (e) {
        rejectAll(e as Error); // recording the result failed (a full disk, a file in the way): the sweep stops
        return;
      }
      if (!pending.size) resolveAll();
    };
    // the state of a job: deliver it when it has finished
    const check = async (id: string): Promise<void> => {
      if (!pending.has(id)) return;
      // the state first, then the job: a job read before it finished holds no return value
      const state = await queue.getJobState(id);
      if (state !== 'completed' && state !== 'failed') return;
      const job = await queue.getJob(id);
      if (!job) return;
      if (state === 'completed') deliver(id, job.returnvalue as PointResult, job.attemptsMade);
      else if (state === 'failed') {
        const key = pending.get(id)!.key;
        deliver(id, { key, status: 'failed', seconds: 0, columns: {}, error: job.failedReason || 'failed in the queue', computed: 0, cached: 0 }, job.attemptsMade);
      }
    };
    const checkLater = (id: string) => {
      check(id).catch((e: Error) => o.warn(scrub(`warning: could not read the result of job ${id.slice(0, 14)} (${e.message}); will look again`, target)));
    };
    events.on('completed', ({ jobId }) => checkLater(jobId));
    events.on('failed', ({ jobId }) => checkLater(jobId));

    // what is already there: a finished success is delivered, a finished failure queued again, the rest awaited
    const fresh: PointJob[] = [];
    for (const j of jobs) {
      const id = jobIdOf(j.key);
      const existing = await queue.getJob(id);
      if (!existing) { fresh.push(j); continue; }
      const state = await existing.getState();
      if (state === 'completed' && (existing.returnvalue as PointResult | null)?.status === 'ok') deliver(id, existing.returnvalue as PointResult, existing.attemptsMade);
      else if (state === 'completed' || state === 'failed') {
        await existing.remove();
        fresh.push(j);
      }
    }
    const keep = { age: KEEP_FINISHED_SECONDS };
    for (let i = 0; i < fresh.length; i += 500)
      await queue.addBulk(fresh.slice(i, i + 500).map((j) => ({
        name: 'point', data: j, opts: { jobId: jobIdOf(j.key), attempts: o.attempts, removeOnComplete: keep, removeOnFail: keep },
      })));
    if (!pending.size) resolveAll();
    // events can be missed across a reconnection: look at the pending jobs when nothing has arrived for a while
    timer = setInterval(() => {
      if (Date.now() - lastResult < 5000) return;
      for (const id of [...pending.keys()].slice(0, 1000)) checkLater(id);
    }, 5000);
    return { done, close };
  } catch (e) {
    await close();
    throw new Error(scrub((e as Error).message, target), { cause: e });
  }
}

export interface WorkerOptions {
  queueName: string;
  concurrency: number;
  /** Job lock [s]: a job whose worker stops renewing it for this long is given to another worker. */
  lockSeconds: number;
  pool: PointPool;
  log: (line: string) => void;
}

/** `cosmodag worker`: take point jobs from the queue and run them in the pool. */
export async function startWorker(target: QueueTarget, o: WorkerOptions): Promise<{ close: () => Promise<void> }> {
  const client = redisClient(target);
  let lastWarning = 0;
  client.on('error', (e: Error) => {
    if (Date.now() - lastWarning < 10_000) return;
    lastWarning = Date.now();
    o.log(scrub(`warning: the connection to Redis at ${target.display} failed (${e.message}); retrying`, target));
  });
  const short = (id: string | undefined) => (id ?? '').replace(/^[ps]-/, '').slice(0, 12);
  const segment = async (job: Job): Promise<SegmentResult> => {
    const attempt = job.attemptsMade + 1;
    const attempts = job.opts.attempts ?? 1;
    let checked: ReturnType<typeof checkSegmentJob>;
    try {
      checked = checkSegmentJob(job.data);
    } catch (e) {
      o.log(`segment ${short(job.id)}: ${(e as Error).message}`);
      const d = job.data as { chain?: unknown; from?: unknown } | null;
      return { status: 'failed', chain: Number(d?.chain) || 0, from: Number(d?.from) || 0, wall: 0, error: (e as Error).message };
    }
    const what = `chain ${checked.data.chain} segment from iteration ${checked.data.from} (${short(job.id)})`;
    o.log(`${what} started (attempt ${attempt} of ${attempts})`);
    const result = await o.pool.runSegment(checked.input);
    if (result.status === 'ok') {
      o.log(`${what} ok: iterations ${result.from}-${result.to}, ${result.draws} draws in ${result.wall.toFixed(2)} s`);
      return result;
    }
    o.log(`${what} failed: ${result.error?.split('\n')[0]}`);
    if (result.retry && attempt < attempts) throw new Error(result.error);
    return result;
  };
  const processor = async (job: Job): Promise<PointResult | SegmentResult> => {
    if (job.name === SEGMENT_JOB_NAME) return segment(job);
    let data: PointJob;
    try {
      data = checkJob(job.data);
    } catch (e) {
      o.log(`point ${short(job.id)}: ${(e as Error).message}`);
      return { key: claimedKey(job.data), status: 'failed', seconds: 0, columns: {}, error: (e as Error).message, computed: 0, cached: 0 };
    }
    const attempt = job.attemptsMade + 1;
    const attempts = job.opts.attempts ?? 1;
    o.log(`point ${short(job.id)} started (attempt ${attempt} of ${attempts})`);
    const result = await o.pool.run(data);
    if (result.status === 'ok') {
      o.log(`point ${short(job.id)} ok in ${result.seconds.toFixed(2)} s (${result.computed} stages computed, ${result.cached} from memory)`);
      return result;
    }
    o.log(`point ${short(job.id)} failed: ${result.error?.split('\n')[0]}`);
    // a compute failure is tried again (by BullMQ) until the attempts are used up; the last one completes as failed
    if (result.retry && attempt < attempts) throw new Error(result.error);
    return result;
  };
  const worker = new Worker(o.queueName, processor, {
    connection: client,
    concurrency: o.concurrency,
    lockDuration: o.lockSeconds * 1000,
    stalledInterval: o.lockSeconds * 1000,
    maxStalledCount: 2,
    autorun: false,
  });
  worker.on('error', (e) => o.log(scrub(`warning: ${e.message}`, target)));
  void worker.run().catch((e: Error) => o.log(scrub(`error: ${e.message}`, target)));
  await worker.waitUntilReady();
  return {
    close: async () => {
      await worker.close();
      client.disconnect();
    },
  };
}
