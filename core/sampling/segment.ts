/**
 * A segment of a chain as a queue job (`cosmodag sample --queue`): the chain's checkpoint goes in, the chain is
 * stepped for about `seconds` (at least one iteration, never past its stopping rule), and the draws of those
 * iterations and the new checkpoint come out. A segment is data only — the pipeline JSON after the command line's
 * edits, the directory its relative paths resolve against, its content address, the sampler's name and settings,
 * the chain's settings and its state — never code; `cosmodag worker` runs it with the plugins installed on its own
 * machine and refuses it when that gives another content address.
 *
 * Why segments: a chain's state is plain JSON and every random number comes from the RNG inside it (docs/sampling.md),
 * so the draws a segment returns depend only on the state it was given, not on where or how often it ran. A worker
 * killed mid-segment costs that segment's compute and nothing else: the job is given to another worker (BullMQ's
 * stalled-job recovery), which starts from the same state and draws the same numbers; the driver records one result
 * per (chain, first iteration), so every draw is kept exactly once and the chains are bit for bit those of a local
 * run (or of --resume) with the same seed.
 *
 * Numbers cross the queue as text of checkpoint.ts's codec (encodeJson): -0, non-finite numbers and typed arrays in
 * a state survive, which plain JSON would not keep.
 */
import path from 'node:path';
import { sha256 } from '../cache/memo-key.js';
import { InputError } from '../schema/input-error.js';
import type { ChainState, SamplerMethod } from '../../plugins/contracts/sampler.js';
import { pluginFilesRefusal, pointKey, refusedPluginFiles } from '../sweep/run-point.js';
import { jobFromData, type ChainJobData } from './chain-runner.js';
import { decodeJson, encodeJson, storedDraw, type ChainCheckpoint, type StoredDraw } from './checkpoint.js';
import { planSource, samplerFrom, targetFor, type PipelineSource } from './pipeline-source.js';
import type { PipelineTarget } from './target.js';

export const SEGMENT_FORMAT = 'cosmodag-sample-segment/1';
/** The BullMQ job name of a segment (sweep points are `point`). */
export const SEGMENT_JOB_NAME = 'sample-segment';

/** What a segment needs of the chain's last checkpoint (null: a fresh chain, initialised by the segment). */
export type SegmentStart = Pick<ChainCheckpoint, 'state' | 'seconds' | 'warmupSeconds' | 'warmupEvaluations' | 'counts'>;

/** Everything a segment runs from (encoded into the job's `body`). */
export interface SegmentInput {
  source: PipelineSource;
  /** Content address of the planned pipeline (run-point.ts: pointKey) as the submitting machine computed it. */
  key: string;
  sampler: { name: string; config: Record<string, unknown> };
  job: ChainJobData;
  /** Iterations of the whole chain (warm-up + samples); null: no limit (the driver stops the chain). */
  total: number | null;
  from: SegmentStart | null;
  /** Stop stepping after this many seconds (after the iteration that crosses it). */
  seconds: number;
}

/** The job's data: a few plain fields for logs and checks, the input as codec text. */
export interface SegmentJobData {
  format: typeof SEGMENT_FORMAT;
  chain: number;
  /** The iteration the segment starts at (0: a fresh chain). */
  from: number;
  body: string;
}

/** What a segment returns (encoded into the result's `body`). */
export interface SegmentOutput {
  draws: StoredDraw[];
  state: ChainState;
  evaluations: number;
  seconds: number;
  warmupSeconds?: number;
  warmupEvaluations?: number;
  counts: ChainCheckpoint['counts'];
  /** The chain reached `total`. */
  done: boolean;
}

export interface SegmentResult {
  status: 'ok' | 'failed';
  chain: number;
  from: number;
  /** Iteration after the segment (ok only). */
  to?: number;
  draws?: number;
  /** Wall time of the segment on the worker [s]. */
  wall: number;
  body?: string;
  error?: string;
  /** A failure worth another attempt (a compute failure); refusals and malformed jobs are not. */
  retry?: boolean;
}

export function segmentJob(input: SegmentInput): SegmentJobData {
  return { format: SEGMENT_FORMAT, chain: input.job.chain, from: input.from?.state.iteration ?? 0, body: encodeJson(input) };
}

/** The job id: the hash of its input, so a segment submitted again (a resumed driver) is found rather than rerun. */
export const segmentJobId = (data: SegmentJobData): string => `s-${sha256(data.body)}`;

/** A job's fields, checked: a malformed job is refused, not half-run. */
export function checkSegmentJob(x: unknown): { data: SegmentJobData; input: SegmentInput } {
  const j = x as Partial<SegmentJobData> | null;
  const bad = (why: string) => new Error(`malformed sampling segment job: ${why}`);
  if (!j || typeof j !== 'object') throw bad('not an object');
  if (j.format !== SEGMENT_FORMAT) throw bad(`format ${JSON.stringify(j.format)}, expected ${SEGMENT_FORMAT} (is this worker's cosmodag the sampler's version?)`);
  if (typeof j.body !== 'string') throw bad('no body');
  let input: SegmentInput;
  try {
    input = decodeJson<SegmentInput>(j.body);
  } catch (e) {
    throw bad(`body is not JSON (${(e as Error).message})`);
  }
  const s = input?.source;
  if (!s || typeof s !== 'object' || !s.pipeline || typeof s.pipeline !== 'object') throw bad('no pipeline source');
  if (typeof s.baseDir !== 'string' || !path.isAbsolute(s.baseDir)) throw bad('baseDir must be an absolute path');
  if (typeof input.key !== 'string' || !/^[0-9a-f]{64}$/.test(input.key)) throw bad('key must be a SHA-256');
  if (!input.sampler || typeof input.sampler.name !== 'string' || !input.sampler.config || typeof input.sampler.config !== 'object') throw bad('no sampler');
  const c = input.job;
  if (!c || !Number.isInteger(c.chain) || !Number.isInteger(c.seed) || !Number.isInteger(c.warmup) || !Array.isArray(c.start)) throw bad('no chain settings');
  if (input.total !== null && !Number.isInteger(input.total)) throw bad('total must be an integer or null');
  if (input.from !== null && !(input.from && input.from.state && Number.isInteger(input.from.state.iteration) && input.from.counts)) throw bad('from must be null or a checkpoint');
  if (!(typeof input.seconds === 'number' && input.seconds >= 0)) throw bad('seconds must be a number >= 0');
  return { data: j as SegmentJobData, input };
}

export interface SegmentEnvironment {
  /** Run stages that execute external programs (`runsPrograms`). */
  allowCommands: boolean;
  /** The job came from a queue: plugin modules must be installed packages or files the worker allows. */
  remote: boolean;
  /** Plugin files (absolute paths) a queue worker's operator allowed (cosmodag worker --allow-plugin FILE). */
  allowedPluginFiles?: readonly string[];
}

interface Context { sampler: SamplerMethod; target: PipelineTarget }

// planned pipelines, samplers and targets (with their memo stores) of the last few runs this thread served, so that
// the next segment of a chain (or another chain of the same run) plans nothing and finds the stages no sampled
// parameter reaches in memory
const contexts = new Map<string, Promise<Context>>();
const CONTEXTS = 4;

async function contextFor(input: SegmentInput, env: SegmentEnvironment): Promise<Context> {
  const id = sha256(encodeJson({ key: input.key, source: input.source, sampler: input.sampler, allowCommands: env.allowCommands }));
  let c = contexts.get(id);
  if (c) {
    contexts.delete(id);
    contexts.set(id, c); // most recently used last
    return c;
  }
  c = (async () => {
    const planned = await planSource(input.source);
    if (pointKey(planned.plan, planned.registry) !== input.key)
      throw new Refused('refused: this machine plans the pipeline to another content address than the sampler did: its installed plugins or the data files the pipeline reads differ from the submitting machine\'s');
    if (!env.allowCommands) {
      const cmd = [...planned.plan.stages.values()].filter((s) => s.plugin.runsPrograms);
      if (cmd.length)
        throw new Refused(`refused: stage${cmd.length > 1 ? 's' : ''} ${cmd.map((s) => `"${s.name}" (${s.plugin.id})`).join(', ')} run${cmd.length > 1 ? '' : 's'} an external program; start the worker with --allow-commands to allow it`);
    }
    const sampler = samplerFrom(planned.registry, input.sampler.name, input.sampler.config);
    const { target } = await targetFor(input.source, sampler.needsGradient, planned);
    return { sampler, target };
  })();
  contexts.set(id, c);
  c.catch(() => contexts.delete(id));
  while (contexts.size > CONTEXTS) contexts.delete(contexts.keys().next().value!);
  return c;
}

/** A refusal: the job is wrong for this worker (not retried). */
class Refused extends Error {}

/** Run one segment. Failures become a failed result (`retry` for compute failures), never a throw. */
export async function runSegment(input: SegmentInput, env: SegmentEnvironment): Promise<SegmentResult> {
  const t0 = performance.now();
  const chain = input.job.chain, from = input.from?.state.iteration ?? 0;
  const failed = (error: string, retry: boolean): SegmentResult => ({ status: 'failed', chain, from, wall: (performance.now() - t0) / 1000, error, retry });
  let ctx: Context;
  try {
    if (env.remote) {
      const files = refusedPluginFiles(input.source.pipeline, input.source.baseDir, env.allowedPluginFiles);
      if (files.length) return failed(pluginFilesRefusal(files), false);
    }
    ctx = await contextFor(input, env);
  } catch (e) {
    const msg = e instanceof InputError ? `${e.message}${e.issues.length > 1 ? `\n${e.details()}` : ''}` : (e as Error).message;
    return failed(msg, false);
  }
  try {
    return { ...(await stepSegment(ctx, input)), wall: (performance.now() - t0) / 1000 };
  } catch (e) {
    return failed((e as Error).message, true);
  }
}

/** Step the chain from `input.from` (or a fresh state) for about input.seconds; as chain-runner.ts does locally. */
async function stepSegment({ sampler, target }: Context, input: SegmentInput): Promise<Omit<SegmentResult, 'wall'>> {
  const { settings } = jobFromData(input.job);
  const total = input.total ?? Infinity;
  const f = input.from;
  Object.assign(target.counts, { evaluations: 0, outside: f?.counts.outside ?? 0, failed: f?.counts.failed ?? 0, firstFailure: f?.counts.firstFailure });
  let seconds = f?.seconds ?? 0;
  let warmupSeconds = f?.warmupSeconds, warmupEvaluations = f?.warmupEvaluations;
  const t0 = performance.now();
  let state: ChainState;
  if (f) state = f.state;
  else {
    state = await sampler.init(target, settings);
    seconds += (performance.now() - t0) / 1000;
  }
  const from = f?.state.iteration ?? 0;
  const draws: StoredDraw[] = [];
  while (state.iteration < total && (state.iteration === from || performance.now() - t0 < input.seconds * 1000)) {
    const it = state.iteration;
    const t = performance.now();
    const ds = await sampler.step(target, state, settings);
    seconds += (performance.now() - t) / 1000;
    if (warmupSeconds === undefined && state.iteration >= settings.warmup) {
      warmupSeconds = seconds;
      warmupEvaluations = sampler.evaluations(state);
    }
    for (const d of ds) draws.push(storedDraw(it, d));
  }
  const c = target.counts;
  const out: SegmentOutput = {
    draws, state, evaluations: sampler.evaluations(state), seconds,
    ...(warmupSeconds !== undefined ? { warmupSeconds, warmupEvaluations } : {}),
    counts: { outside: c.outside, failed: c.failed, ...(c.firstFailure ? { firstFailure: c.firstFailure } : {}) },
    done: state.iteration >= total,
  };
  return { status: 'ok', chain: input.job.chain, from, to: state.iteration, draws: draws.length, body: encodeJson(out) };
}
