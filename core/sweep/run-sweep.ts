/**
 * `cosmodag sweep` as a function: one pipeline at many points, on worker threads of this machine or as jobs on a
 * Redis queue, results content-addressed so that an interrupted sweep resumes where it stopped and an identical
 * sweep recomputes nothing.
 *
 *  1. read the pipeline, apply --set/--param, plan it (an invalid pipeline: InputError, exit 2, nothing queued);
 *  2. the points (points.ts), each planned before anything runs: a point whose settings break the pipeline's
 *     structure is an input error naming the point; a point whose only problem is a parameter value outside its
 *     physical range is recorded as a failed point and the sweep goes on;
 *  3. each point's content address (run-point.ts: pointKey); results stored in DIR/.sweep/results/<address>.json as
 *     they arrive (atomically), so that a sweep killed half-way loses only the points that were running;
 *  4. the missing points run on the point pool (worker threads) or go to the queue (redis-queue.ts);
 *  5. sweep.tsv (one row per point, in the sweep's order), sweep.json (the same and the settings), optionally each
 *     point's files under DIR/points/<id>/ and a plot of one column (sweep-plot.ts).
 *
 * DIR/.sweep/running.json marks a sweep in progress: a later sweep into DIR refuses to start without --resume
 * (continue: only the missing points are computed) or --restart (discard the stored results).
 */
import fs from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { openCacheDir, writeFileAtomic } from '../cache/store.js';
import type { RunEvent } from '../graph/execute.js';
import { applyParam, applySet, readPipelineFile } from '../graph/pipeline-file.js';
import { dirOf } from '../graph/runtime.js';
import { lockOutputDir, OutputWriter } from '../graph/write-outputs.js';
import { InputError, issue, type Issue } from '../schema/input-error.js';
import { PointPool } from './point-pool.js';
import { filePoints, gridPoints, lhsPoints, type PointSource, type SweepPoint } from './points.js';
import { DEFAULT_QUEUE_NAME, parseQueueUrl, probeRedis, queueUrlFrom, scrub, submitJobs, type QueueTarget } from './redis-queue.js';
import { decodeFile, JOB_FORMAT, planPoint, type PointJob, type PointResult } from './run-point.js';
import { plotSweep, plotProblem } from './sweep-plot.js';
import { sweepJson, sweepTsv, type SweepRow } from './sweep-table.js';

export interface SweepOptions {
  file: string;
  params?: string[];
  sets?: string[];
  vary?: string[];
  lhs?: number;
  ranges?: string[];
  seed?: number;
  pointsFile?: string;
  out?: string;
  /** Worker threads (default: the number of cores). */
  workers?: number;
  /** redis://... (or env:NAME): run the points as jobs on this queue instead. */
  queue?: string;
  queueName?: string;
  /** Attempts per point on the queue (compute failures, stalls). */
  attempts?: number;
  resume?: boolean;
  restart?: boolean;
  keepOutputs?: boolean;
  /** A summary column to plot against the varied path(s). */
  plot?: string;
  force?: boolean;
  cache?: string;
  eventsFile?: string;
  /** stdout lines (the summary). */
  log?: (line: string) => void;
  /** stderr lines (progress, warnings). */
  progress?: (line: string) => void;
  /** Aborted: stop dispatching, keep what is stored, throw SweepInterrupted. */
  signal?: AbortSignal;
}

export interface SweepResult {
  outDir: string;
  rows: SweepRow[];
  files: string[];
  computed: number;
  reused: number;
  failed: number;
}

/** The sweep was stopped (Ctrl-C); what was finished is stored for --resume. */
export class SweepInterrupted extends Error {
  constructor(readonly done: number, readonly total: number, readonly outDir: string) {
    super(`interrupted: ${done} of ${total} points stored in ${outDir}; run the same command with --resume to compute only the missing ones`);
    this.name = 'SweepInterrupted';
  }
}

const STATE_DIR = '.sweep';
const RESULT_FORMAT = 'cosmodag-sweep-result/1';

/** A stored result: the PointResult without events, files by name (the files themselves are under points/<id>/). */
interface StoredResult {
  format: typeof RESULT_FORMAT;
  key: string;
  status: 'ok';
  seconds: number;
  columns: Record<string, number | string>;
  computed: number;
  cached: number;
  outputs?: string[];
}

const labelOf = (p: SweepPoint) => p.settings.map((s) => `${s.name}=${s.text}`).join(', ');
export const shortId = (key: string) => key.slice(0, 12);

function pointSource(o: SweepOptions, pipeline: unknown, plan: Parameters<typeof gridPoints>[2]): PointSource {
  const given = [o.vary?.length ? '--vary' : null, o.lhs !== undefined ? '--lhs' : null, o.pointsFile ? '--points' : null].filter(Boolean);
  if (given.length !== 1)
    throw new InputError([issue(given.length ? given.join(', ') : '--vary', given.length
      ? `give one way of choosing the points, not ${given.join(' and ')}`
      : 'no points: give --vary PATH=V1,V2,... (a grid), --lhs N with --range PATH=LO:HI (a Latin hypercube) or --points FILE.tsv')]);
  if (o.ranges?.length && o.lhs === undefined) throw new InputError([issue('--range', 'only with --lhs N (a Latin hypercube over the ranges)')]);
  if (o.vary?.length) return gridPoints(o.vary, pipeline, plan);
  if (o.lhs !== undefined) return lhsPoints(o.lhs, o.ranges ?? [], o.seed ?? 1, pipeline, plan);
  return filePoints(path.resolve(o.pointsFile!), pipeline, plan);
}

function readStored(file: string): StoredResult | null {
  try {
    const r = JSON.parse(fs.readFileSync(file, 'utf8')) as StoredResult;
    return r.format === RESULT_FORMAT && r.status === 'ok' && r.columns && typeof r.seconds === 'number' ? r : null;
  } catch {
    return null;
  }
}

export async function runSweep(o: SweepOptions): Promise<SweepResult> {
  const early: { pool: PointPool | null } = { pool: null };
  try {
    return await sweepWith(o, early);
  } finally {
    await early.pool?.close();
  }
}

async function sweepWith(o: SweepOptions, early: { pool: PointPool | null }): Promise<SweepResult> {
  const log = o.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const progress = o.progress ?? ((l: string) => process.stderr.write(l + '\n'));
  const t0 = performance.now();

  // 1. the pipeline and the settings (every input error before anything runs)
  const base = readPipelineFile(o.file) as Record<string, unknown>;
  for (const s of o.sets ?? []) applySet(base, s);
  for (const p of o.params ?? []) applyParam(base, p);
  const baseDir = dirOf(o.file);
  const { plan: basePlan } = await planPoint(base, [], baseDir);
  const name = basePlan.pipeline.name;
  const source = pointSource(o, base, basePlan);
  const target: QueueTarget | null = o.queue !== undefined ? parseQueueUrl(queueUrlFrom(o.queue)) : null;
  const workers = o.workers ?? availableParallelism();
  if (!Number.isInteger(workers) || workers < 1) throw new InputError([issue('--workers', `${workers}: must be a whole number >= 1`)]);
  const attempts = o.attempts ?? 3;
  if (!Number.isInteger(attempts) || attempts < 1) throw new InputError([issue('--attempts', `${attempts}: must be a whole number >= 1`)]);
  if (o.plot) {
    const why = plotProblem(source);
    if (why) throw new InputError([issue('--plot', why)]);
  }
  if (o.resume && o.restart) throw new InputError([issue('--resume', 'and --restart contradict each other: continue the stored sweep, or discard it')]);
  // this thread runs points too, beside workers - 1 threads (point-pool.ts `inline`); the threads start now and load
  // the pipeline's plugins while this thread plans the points (~10 ms a point)
  if (!target) {
    early.pool = new PointPool({ threads: workers, allowCommands: true, remote: false, cacheDir: o.cache, inline: true });
    early.pool.warm(Math.min(workers, source.points.length), base, baseDir);
  }

  // 2. plan every point
  const keys: (string | null)[] = [];
  const invalid = new Map<number, string>();
  const problems: Issue[] = [];
  for (const p of source.points) {
    try {
      keys.push((await planPoint(base, p.settings, baseDir)).key);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      keys.push(null);
      // a parameter value outside its physical range is a failed point; anything else is a mistake in the sweep
      if (e.issues.every((i) => i.path.startsWith('parameters.'))) invalid.set(p.index, e.issues.map((i) => `${i.path}: ${i.message}`).join('; '));
      else problems.push(...e.issues.map((i) => issue(i.path, `at point ${p.index} (${labelOf(p)}): ${i.message}`)));
    }
  }
  if (problems.length) throw new InputError(problems);

  // 3. the output directory and what it holds
  const outDir = path.resolve(o.out ?? path.join('out', `${name}-sweep`));
  let st: fs.Stats | undefined;
  try { st = fs.statSync(outDir); } catch { /* created below */ }
  if (st && !st.isDirectory()) throw new InputError([issue('--out', `${outDir} exists and is not a directory`)]);
  if (o.cache) openCacheDir(path.resolve(o.cache)); // a --cache that cannot be a folder: said here, not in a thread
  // one run at a time per output directory (a second one waits for the first: core/graph/write-outputs.ts)
  const unlock = await lockOutputDir(outDir, { onWait: progress });
  try {
    const writer = new OutputWriter(outDir, `${name} (sweep)`, o.force);
    const planned = ['sweep.tsv', 'sweep.json', ...(o.plot ? [`sweep-${o.plot}.png`, `sweep-${o.plot}.svg`] : [])];
    writer.checkWritable(planned);
    const stateDir = path.join(outDir, STATE_DIR);
    const resultsDir = path.join(stateDir, 'results');
    const runningFile = path.join(stateDir, 'running.json');
    const resultFile = (key: string) => path.join(resultsDir, `${key}.json`);
    if (o.restart) fs.rmSync(resultsDir, { recursive: true, force: true });
    const storedCount = () => (fs.existsSync(resultsDir) ? fs.readdirSync(resultsDir).filter((f) => f.endsWith('.json')).length : 0);
    if (fs.existsSync(runningFile) && !o.resume && !o.restart) {
      let was = '';
      try {
        const r = JSON.parse(fs.readFileSync(runningFile, 'utf8')) as { started?: string; points?: number };
        was = ` (started ${r.started}, ${storedCount()} of its ${r.points} points stored)`;
      } catch { /* unreadable: say less */ }
      throw new InputError([issue('--resume', `${outDir} holds an unfinished sweep${was}; pass --resume to compute only the missing points, or --restart to discard the stored results and start again`)]);
    }
    if (o.resume && !fs.existsSync(runningFile) && !storedCount())
      throw new InputError([issue('--resume', `${outDir} holds no sweep to resume (no stored point results)`)]);

    // 4. the queue must answer before anything is recorded as started
    if (target) await probeRedis(target);

    fs.mkdirSync(resultsDir, { recursive: true });
    writeFileAtomic(runningFile, JSON.stringify({ pipeline: name, points: source.points.length, started: new Date().toISOString(), pid: process.pid }) + '\n');

    const events: (RunEvent | Record<string, unknown>)[] = [];
    const emit = (e: Record<string, unknown>) => events.push({ t: Date.now(), ...e });
    const writeEvents = () => {
      if (o.eventsFile) writeFileAtomic(path.resolve(o.eventsFile), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    };

    // stored results: reused when they hold what this sweep needs
    const results = new Map<string, { result: StoredResult; reused: boolean }>();
    const distinct = [...new Set(keys.filter((k): k is string => !!k))];
    for (const key of distinct) {
      const r = readStored(resultFile(key));
      if (!r) continue;
      if (o.keepOutputs && !(r.outputs && r.outputs.every((f) => fs.existsSync(path.join(outDir, 'points', shortId(key), f))))) continue;
      results.set(key, { result: r, reused: true });
    }
    const missing = distinct.filter((k) => !results.has(k));
    const via = target ? `the queue ${target.display} (${o.queueName ?? DEFAULT_QUEUE_NAME})` : `${Math.min(workers, Math.max(1, missing.length))} worker thread(s)`;
    emit({ type: 'sweep-start', pipeline: name, points: source.points.length, distinct: distinct.length, stored: results.size, missing: missing.length, via: target ? 'queue' : 'threads', ...(target ? { queue: target.display } : { workers }) });
    progress(`${name}: ${source.points.length} points, ${results.size} already stored in ${outDir}, ${missing.length ? `${missing.length} to compute on ${via}` : 'nothing to compute'}`);

    const indexByKey = new Map<string, number[]>();
    source.points.forEach((p, i) => { if (keys[i]) indexByKey.set(keys[i], [...(indexByKey.get(keys[i]) ?? []), p.index]); });
    for (const [key, { result }] of results) emit({ type: 'point-reused', points: indexByKey.get(key), id: shortId(key), seconds: result.seconds });

    let done = results.size;
    let failedRuns = 0;
    const failures = new Map<string, { error: string; seconds: number }>();
    const onResult = (r: PointResult, attemptsUsed?: number) => {
      const key = r.key;
      if (results.has(key) || failures.has(key)) return; // recorded once, whatever arrives later
      const id = shortId(key);
      const points = indexByKey.get(key) ?? [];
      for (const e of r.events ?? []) events.push({ ...e, point: points[0], id });
      emit({ type: 'point-done', points, id, status: r.status, seconds: r.seconds, computed: r.computed, cached: r.cached, ...(attemptsUsed ? { attempts: attemptsUsed } : {}), ...(r.error ? { error: target ? scrub(r.error, target) : r.error } : {}) });
      done++;
      const where = points.map((i) => `${i}`).join(',');
      if (r.status === 'ok') {
        let outputs: string[] | undefined;
        if (o.keepOutputs && r.files) {
          outputs = Object.keys(r.files);
          // each point's directory is an output directory of its own (its own manifest)
          const pw = new OutputWriter(path.join(outDir, 'points', id), `${name} (sweep point ${id})`, o.force);
          for (const [f, d] of Object.entries(r.files)) pw.write(f, decodeFile(d));
        }
        const stored: StoredResult = { format: RESULT_FORMAT, key, status: 'ok', seconds: r.seconds, columns: r.columns, computed: r.computed, cached: r.cached, ...(outputs ? { outputs } : {}) };
        writeFileAtomic(resultFile(key), JSON.stringify(stored) + '\n');
        results.set(key, { result: stored, reused: false });
        progress(`[${done}/${distinct.length}] point ${where} (${id}) ok in ${r.seconds.toFixed(2)} s`);
      } else {
        failedRuns++;
        const error = target ? scrub(r.error ?? 'failed', target) : r.error ?? 'failed';
        failures.set(key, { error, seconds: r.seconds });
        progress(`[${done}/${distinct.length}] point ${where} (${id}) failed: ${error.split('\n')[0]}`);
      }
    };

    const jobs: PointJob[] = missing.map((key) => {
      const p = source.points[keys.indexOf(key)];
      return {
        format: JOB_FORMAT, pipeline: base, settings: p.settings.map((s) => ({ path: s.path, value: s.value })), baseDir, key,
        keepOutputs: !!o.keepOutputs, events: !!o.eventsFile,
      };
    });

    // 5. run what is missing
    let interrupted = false;
    try {
      if (jobs.length && target) {
        const handle = await submitJobs(target, jobs, { queueName: o.queueName ?? DEFAULT_QUEUE_NAME, attempts, onResult, warn: progress });
        try {
          await untilAborted(handle.done, o.signal);
        } finally {
          await handle.close();
        }
      } else if (jobs.length) {
        const pool = early.pool!; // started with the planning (step 1), closed by runSweep
        await untilAborted(Promise.all(jobs.map((j) => pool.run(j).then((r) => { if (!o.signal?.aborted) onResult(r); }))), o.signal);
      }
    } catch (e) {
      if (e instanceof Aborted) interrupted = true;
      else {
        writeEvents();
        throw e;
      }
    }
    if (interrupted) {
      emit({ type: 'sweep-interrupted', stored: results.size, points: source.points.length });
      writeEvents();
      throw new SweepInterrupted(results.size, distinct.length, outDir);
    }

    // 6. the table, the JSON, the files
    const rows: SweepRow[] = source.points.map((p, i) => {
      const key = keys[i];
      const values = p.settings.map((s) => s.text);
      if (!key) return { point: p.index, id: '-', key: null, settings: p.settings, values, status: 'failed', seconds: 0, columns: {}, error: invalid.get(p.index) ?? 'invalid point' };
      const ok = results.get(key);
      if (ok) return { point: p.index, id: shortId(key), key, settings: p.settings, values, status: 'ok', seconds: ok.result.seconds, columns: ok.result.columns, ...(o.keepOutputs ? { outputs: path.join('points', shortId(key)) } : {}) };
      const f = failures.get(key) ?? { error: 'no result', seconds: 0 };
      return { point: p.index, id: shortId(key), key, settings: p.settings, values, status: 'failed', seconds: f.seconds, columns: {}, error: f.error };
    });
    const settings = {
      ...source.settings, pipelineFile: path.resolve(o.file), params: o.params ?? [], sets: o.sets ?? [],
      ...(target ? { queue: target.display, queueName: o.queueName ?? DEFAULT_QUEUE_NAME, attempts } : { workers }),
      keepOutputs: !!o.keepOutputs, ...(o.cache ? { cache: path.resolve(o.cache) } : {}),
    };
    const files = [
      writer.write('sweep.tsv', sweepTsv(source.names, rows, !!o.keepOutputs)),
      writer.write('sweep.json', sweepJson(name, settings, source.names, rows)),
    ];
    let plotError: InputError | null = null;
    if (o.plot) {
      try {
        const fig = await plotSweep(source, rows, o.plot, name);
        files.push(writer.write(`sweep-${o.plot}.png`, fig.png), writer.write(`sweep-${o.plot}.svg`, fig.svg));
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        plotError = e;
      }
    }
    fs.rmSync(runningFile, { force: true });
    const computed = [...results.values()].filter((r) => !r.reused).length;
    const reused = [...results.values()].filter((r) => r.reused).length;
    const failed = rows.filter((r) => r.status === 'failed').length;
    emit({ type: 'sweep-done', seconds: (performance.now() - t0) / 1000, computed, reused, failed, failedRuns });
    writeEvents();
    log(`${name}: ${rows.length} points: ${computed} computed, ${reused} reused from ${path.relative(process.cwd(), outDir) || '.'}, ${failed} failed (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    for (const f of files) log(`wrote ${path.relative(process.cwd(), f) || f}`);
    if (plotError) throw plotError;
    return { outDir, rows, files, computed, reused, failed };
  } finally {
    unlock();
  }
}

class Aborted extends Error {}

/** The promise, or an Aborted rejection as soon as the signal fires. */
function untilAborted<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(new Aborted());
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(new Aborted());
    signal.addEventListener('abort', stop, { once: true });
    p.then((v) => { signal.removeEventListener('abort', stop); resolve(v); }, (e: unknown) => { signal.removeEventListener('abort', stop); reject(e instanceof Error ? e : new Error(String(e))); });
  });
}
