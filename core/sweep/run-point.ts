/**
 * One point of a sweep, wherever it runs (this thread, a worker thread, a queue worker on another machine): a job is
 * data only — the pipeline JSON, the settings of the point, the directory relative paths resolve against and the
 * point's content address — never code. The runner plans the point with the plugins installed where it runs,
 * checks that it arrives at the same content address (same plugins, same data files), executes it through its memo
 * store and returns the summary columns of the pipeline's final stage (its plugin's `sweepColumns`, else a checksum
 * of the stage's output files), optionally the output files and the run's events.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Subject } from 'rxjs';
import { sha256, stableStringify } from '../cache/memo-key.js';
import type { MemoStore } from '../cache/store.js';
import { executePlan, type RunEvent } from '../graph/execute.js';
import { setDotted } from '../graph/pipeline-file.js';
import { planPipeline, type Plan } from '../graph/plan.js';
import { registryFor } from '../graph/runtime.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { OutputFiles } from '../plugin/types.js';
import { InputError } from '../schema/input-error.js';

export const JOB_FORMAT = 'cosmodag-sweep-job/1';

/** What travels to a thread or through the queue: data only. */
export interface PointJob {
  format: typeof JOB_FORMAT;
  /** The pipeline JSON with the sweep's --set/--param applied (the point's settings not yet). */
  pipeline: unknown;
  /** The point's settings: dotted path -> value. */
  settings: { path: string; value: unknown }[];
  /** Directory the pipeline's relative paths resolve against (the pipeline file's). */
  baseDir: string;
  /** The point's content address as the sweep computed it. */
  key: string;
  /** Return the files of the pipeline's outputs. */
  keepOutputs: boolean;
  /** Return the run's events. */
  events: boolean;
}

/** A file's contents in a form that survives JSON (the queue) as well as postMessage. */
export type FileData = string | { base64: string };

export interface PointResult {
  key: string;
  status: 'ok' | 'failed';
  /** Wall time of planning and execution [s]. */
  seconds: number;
  /** Summary columns of the final stage (empty when failed). */
  columns: Record<string, number | string>;
  error?: string;
  /** A failure worth another attempt (a compute failure); input errors and refusals are not. */
  retry?: boolean;
  files?: Record<string, FileData>;
  computed: number;
  cached: number;
  events?: RunEvent[];
}

export interface PointEnvironment {
  store: MemoStore;
  /** Run stages that execute external programs (`runsPrograms`); a queue worker needs --allow-commands. */
  allowCommands: boolean;
  /** The job came from elsewhere (a queue): plugin modules must be installed packages, not file paths. */
  remote: boolean;
  /** Plugin files (absolute paths) a queue worker's operator allowed (cosmodag worker --allow-plugin FILE). */
  allowedPluginFiles?: readonly string[];
}

/** The pipeline of one point: a copy of the base with the point's settings applied. */
export function pointPipeline(base: unknown, settings: { path: string; value: unknown }[]): unknown {
  const p = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
  for (const s of settings) setDotted(p, s.path, s.value);
  return p;
}

// registries by plugin list and directory: loading the modules once per process, not once per point
const registries = new Map<string, Promise<PluginRegistry>>();

export function registryOf(pipeline: unknown, baseDir: string): Promise<PluginRegistry> {
  const id = stableStringify({ plugins: (pipeline as { plugins?: unknown })?.plugins ?? [], baseDir });
  let r = registries.get(id);
  if (!r) {
    r = registryFor(pipeline, { baseDir });
    r.catch(() => registries.delete(id));
    registries.set(id, r);
  }
  return r;
}

/**
 * The content address of a point: the planned pipeline (defaults filled in), every installed plugin and service
 * with its version, and the fingerprints of the stages (the hashes of the data files and programs they use).
 * Two points with the same address give the same results.
 */
export function pointKey(plan: Plan, registry: PluginRegistry): string {
  const fingerprints: Record<string, string> = {};
  for (const [name, st] of plan.stages)
    if (st.plugin.fingerprint) fingerprints[name] = st.plugin.fingerprint(st.config, { baseDir: plan.baseDir });
  return sha256(stableStringify({
    format: 'cosmodag-sweep-point/1',
    pipeline: plan.pipeline,
    plugins: registry.list().map((r) => `${r.plugin.id}@${r.plugin.version}`),
    services: registry.services().map((s) => `${s.provider.name}=${s.provider.id}@${s.provider.version}`),
    fingerprints,
  }));
}

/** Plan a point (InputError when it is invalid) and compute its address. */
export async function planPoint(base: unknown, settings: { path: string; value: unknown }[], baseDir: string): Promise<{ plan: Plan; registry: PluginRegistry; key: string }> {
  const pipeline = pointPipeline(base, settings);
  const registry = await registryOf(pipeline, baseDir);
  const plan = planPipeline(pipeline, registry, baseDir);
  return { plan, registry, key: pointKey(plan, registry) };
}

/** The stage whose output a sweep row summarises: the last in topological order. */
export const finalStage = (plan: Plan): string => plan.order[plan.order.length - 1];

/** A job's fields, checked: a malformed job is refused, not half-run. */
export function checkJob(x: unknown): PointJob {
  const j = x as Partial<PointJob> | null;
  const bad = (why: string) => new Error(`malformed sweep job: ${why}`);
  if (!j || typeof j !== 'object') throw bad('not an object');
  if (j.format !== JOB_FORMAT) throw bad(`format ${JSON.stringify(j.format)}, expected ${JOB_FORMAT} (is this worker's cosmodag the sweep's version?)`);
  if (!j.pipeline || typeof j.pipeline !== 'object') throw bad('no pipeline');
  if (!Array.isArray(j.settings) || j.settings.some((s) => !s || typeof s.path !== 'string')) throw bad('settings must be a list of {path, value}');
  if (typeof j.baseDir !== 'string' || !path.isAbsolute(j.baseDir)) throw bad('baseDir must be an absolute path');
  if (typeof j.key !== 'string' || !/^[0-9a-f]{64}$/.test(j.key)) throw bad('key must be a SHA-256');
  return { ...j, keepOutputs: !!j.keepOutputs, events: !!j.events } as PointJob;
}

/** The key a malformed job claims (for its failed result), or ''. */
export function claimedKey(x: unknown): string {
  const k = (x as { key?: unknown } | null)?.key;
  return typeof k === 'string' ? k : '';
}

/** File contents that survive JSON. */
export function encodeFiles(files: OutputFiles): Record<string, FileData> {
  const out: Record<string, FileData> = {};
  for (const [f, d] of Object.entries(files)) out[f] = typeof d === 'string' ? d : { base64: Buffer.from(d).toString('base64') };
  return out;
}

export function decodeFile(d: FileData): string | Uint8Array {
  return typeof d === 'string' ? d : new Uint8Array(Buffer.from(d.base64, 'base64'));
}

/** SHA-256 of a stage's output files, in name order: the summary of a stage without sweepColumns. */
export function filesChecksum(files: OutputFiles): string {
  const h = Object.keys(files).sort().map((f) => `${f}:${sha256(typeof files[f] === 'string' ? Buffer.from(files[f]) : (files[f]))}`);
  return sha256(h.join('\n'));
}

/** SHA-256 of a stage output's content (typed arrays by their bytes): the summary when the stage writes no file. */
export function valueChecksum(value: unknown): string {
  const walk = (x: unknown): unknown => {
    if (ArrayBuffer.isView(x)) return { [x.constructor.name]: sha256(new Uint8Array(x.buffer, x.byteOffset, x.byteLength)) };
    if (Array.isArray(x)) return x.map(walk);
    if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).filter(([, v]) => typeof v !== 'function').map(([k, v]) => [k, walk(v)]));
    return typeof x === 'number' && !Number.isFinite(x) ? String(x) : x;
  };
  return sha256(stableStringify(walk(value)));
}

const isPathSpec = (s: string) => s.startsWith('.') || path.isAbsolute(s) || s.startsWith('file:');

/** A file path as one spelling: absolute, symbolic links resolved (when it exists). */
export function canonicalFile(file: string): string {
  try {
    return fs.realpathSync(file);
  } catch {
    return path.resolve(file);
  }
}

export const pluginFilesRefusal = (files: readonly string[]) =>
  `refused: the pipeline loads plugin modules from files (${files.join(', ')}); a worker runs only plugin packages installed on its machine and the plugin files its operator allowed (cosmodag worker --allow-plugin FILE)`;

/**
 * The plugin modules a pipeline loads from files rather than installed packages, except those a worker's operator
 * allowed (`allowed`: canonical absolute paths): what a queue worker refuses.
 */
export function refusedPluginFiles(pipeline: unknown, baseDir: string, allowed: readonly string[] = []): string[] {
  const specs = (pipeline as { plugins?: unknown[] } | null)?.plugins ?? [];
  return specs.filter((s): s is string => typeof s === 'string' && isPathSpec(s)).filter((s) => {
    let file: string;
    try {
      file = s.startsWith('file:') ? fileURLToPath(s) : path.resolve(baseDir, s);
    } catch {
      return true;
    }
    return !allowed.includes(canonicalFile(file));
  });
}

/** Run one point. Failures become a failed result (with `retry` set for compute failures), never a throw. */
export async function runPoint(job: PointJob, env: PointEnvironment): Promise<PointResult> {
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  const failed = (error: string, retry: boolean): PointResult =>
    ({ key: job.key, status: 'failed', seconds: seconds(), columns: {}, error, retry, computed: 0, cached: 0 });
  let planned: Awaited<ReturnType<typeof planPoint>>;
  try {
    if (env.remote) {
      const local = refusedPluginFiles(job.pipeline, job.baseDir, env.allowedPluginFiles);
      if (local.length)
        return failed(pluginFilesRefusal(local), false);
    }
    planned = await planPoint(job.pipeline, job.settings, job.baseDir);
  } catch (e) {
    const msg = e instanceof InputError ? `${e.message}${e.issues.length > 1 ? `\n${e.details()}` : ''}` : (e as Error).message;
    return failed(msg, false);
  }
  const { plan, registry, key } = planned;
  if (key !== job.key)
    return failed('refused: this machine plans the point to another content address than the sweep did: its installed plugins or the data files the pipeline reads differ from the sweep machine\'s', false);
  if (!env.allowCommands) {
    const cmd = [...plan.stages.values()].filter((s) => s.plugin.runsPrograms);
    if (cmd.length)
      return failed(`refused: stage${cmd.length > 1 ? 's' : ''} ${cmd.map((s) => `"${s.name}" (${s.plugin.id})`).join(', ')} run${cmd.length > 1 ? '' : 's'} an external program; start the worker with --allow-commands to allow it`, false);
  }
  const events: RunEvent[] = [];
  const subject = job.events ? new Subject<RunEvent>() : undefined;
  subject?.subscribe((e) => {
    if (e.type === 'chunk' && e.data !== undefined) {
      const { data: _data, ...rest } = e;
      events.push(rest);
    } else events.push(e);
  });
  try {
    const r = await executePlan(plan, registry, { store: env.store, events: subject });
    const last = finalStage(plan);
    const st = plan.stages.get(last)!;
    const output = r.outputs.get(last);
    const files: OutputFiles = {};
    const wantFiles = job.keepOutputs || !st.plugin.sweepColumns;
    if (wantFiles)
      for (const [stage, names] of Object.entries(plan.pipeline.outputs ?? {})) {
        if (!job.keepOutputs && stage !== last) continue;
        const s = plan.stages.get(stage)!;
        for (const name of ([] as string[]).concat(names))
          Object.assign(files, await s.plugin.write!(r.outputs.get(stage), name, { config: s.config, params: r.params }));
      }
    // non-finite numbers as text: the same through postMessage and through the queue's JSON
    const columns = st.plugin.sweepColumns
      ? Object.fromEntries(Object.entries(st.plugin.sweepColumns(output)).map(([c, v]) => [c, typeof v === 'number' && !Number.isFinite(v) ? String(v) : v]))
      : { checksum: (Object.keys(files).length ? filesChecksum(files) : valueChecksum(output)).slice(0, 16) };
    return {
      key, status: 'ok', seconds: seconds(), columns,
      ...(job.keepOutputs ? { files: encodeFiles(files) } : {}),
      computed: r.computed.length, cached: r.cached.length,
      ...(job.events ? { events } : {}),
    };
  } catch (e) {
    return { ...failed((e as Error).message, true), ...(job.events ? { events } : {}) };
  }
}
