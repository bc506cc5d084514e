/**
 * `cosmodag sample` as a function (the oclif command is a thin shell around it; tests call it directly):
 *
 *   1. read the pipeline and its edits, plan it, find the log-likelihood stage, the sampled parameters, their
 *      priors and transforms; look the sampler up (`sampler/<name>` methods); check the output directory. Every
 *      problem so far is an InputError (exit 2) and nothing has been written;
 *   2. a fresh run: the starting point and covariance (start.ts), the chains' seeds (rng.ts: chainSeeds), written
 *      to <out>/checkpoint/run.json; a resumed run (--resume) reads them back and checks that the pipeline and
 *      the settings are the same;
 *   3. the chains run on worker threads (worker.ts; one per core by default, each with its own plan and memo
 *      store), or in this thread when no compiled worker exists; every chain checkpoints itself
 *      (checkpoint.ts). With --queue they run as segments on `cosmodag worker` processes instead (queue-chains.ts,
 *      segment.ts) and this thread checkpoints each segment as it comes back. This thread collects the draws, draws
 *      the progress line (running R-hat, min ESS) and applies --until-ess / --max-time;
 *   4. the outputs (outputs.ts) from the checkpointed draws, written atomically into --out under its manifest
 *      (core/graph/write-outputs.ts: a file the user wrote is never replaced without --force).
 */
import fs from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { writeFileAtomic } from '../cache/store.js';
import { OutputWriter } from '../graph/write-outputs.js';
import { InputError, issue, type Issue } from '../schema/input-error.js';
import type { ChainSettings } from '../../plugins/contracts/sampler.js';
import { DEFAULT_QUEUE_NAME, parseQueueUrl, probeRedis, queueUrlFrom, type QueueTarget } from '../sweep/redis-queue.js';
import { pointKey } from '../sweep/run-point.js';
import { runChains, jobFromData, type ChainJobData, type ChainProgress } from './chain-runner.js';
import { runChainsOnQueue } from './queue-chains.js';
import { checkpointDir, decodeJson, encodeJson, readCheckpoint, readDraws, type ChainCheckpoint, type StoredDraw } from './checkpoint.js';
import { runningDiagnostics, sampleFiles, type ChainDraws } from './outputs.js';
import { planSource, readSource, samplerFrom, sourceHash, targetFor } from './pipeline-source.js';
import { chainSeeds } from './rng.js';
import { startingPoint } from './start.js';
import type { SamplingProblem } from './target.js';
import type { ParameterSummary } from './diagnostics.js';
import { configureWorkerHeaps } from '../sweep/worker-heap.js';

export interface SampleJobOptions {
  file: string;
  params?: string[];
  sets?: string[];
  /** Sampler method name (default nuts). */
  sampler?: string;
  samplerConfig?: Record<string, unknown>;
  chains?: number;
  warmup?: number;
  /** Iterations per chain after warm-up (default 1000 unless --until-ess is given). */
  samples?: number;
  seed?: number;
  /** Stop when the smallest bulk ESS over the parameters reaches this. */
  untilEss?: number;
  /** Stop after this many seconds of sampling (this session). */
  maxTime?: number;
  out?: string;
  resume?: boolean;
  force?: boolean;
  quiet?: boolean;
  /** Worker threads (0 or undefined: one per core, at most one per chain). */
  threads?: number;
  /** Seconds between checkpoints (default 2; 0: every iteration). */
  checkpointSeconds?: number;
  /** redis://... (or env:NAME): run the chains as segments on the workers of this queue (cosmodag worker). */
  queue?: string;
  /** BullMQ queue name (default the sweeps', cosmodag-sweep). */
  queueName?: string;
  /** Attempts per segment on the queue (default 3). */
  attempts?: number;
  /** Seconds a worker steps a chain before returning the segment (default 10). */
  segmentSeconds?: number;
  log?: (line: string) => void;
  /** Where the progress goes (default stderr). */
  progress?: NodeJS.WriteStream;
}

/** What <out>/checkpoint/run.json records: everything a resume needs to continue the same chains. */
export interface RunRecord {
  version: 1;
  pipeline: string;
  pipelineHash: string;
  sampler: { name: string; config: Record<string, unknown> };
  chains: number;
  warmup: number;
  seed: number;
  chainSeeds: number[];
  names: string[];
  start: number[];
  covariance: number[];
  covarianceSource: string;
  covarianceNote?: string;
  fisher: { names: string[]; cov: number[] } | null;
  created: string;
  /** The stopping rule of the last session (a --resume without one keeps it). */
  stopping?: { samples: number | null; untilEss: number | null; maxTime: number | null };
}

export interface ChainReport {
  chain: number;
  seed: number;
  iterations: number;
  draws: number;
  evaluations: number;
  seconds: number;
  /** Evaluations and seconds of the warm-up (0 when warm-up is 0). */
  warmupEvaluations: number;
  warmupSeconds: number;
  /** Post-warm-up means of the sampler's statistics (accept_stat, step_size, tree_depth, n_leapfrog, accept, ...). */
  stats: Record<string, number>;
  divergences: number;
  divergencesWarmup: number;
  outside: number;
  failed: number;
  firstFailure?: string;
}

export interface SampleJobResult {
  out: string;
  files: string[];
  summary: (ParameterSummary & { parameter: string })[];
  chains: ChainReport[];
  record: RunRecord;
  stopped: 'samples' | 'ess' | 'time';
  wallSeconds: number;
}

const SAMPLE_FILES = (chains: number) => [
  ...Array.from({ length: chains }, (_, k) => `chain_${k + 1}.txt`),
  'chain.paramnames', 'chain.ranges', 'samples.tsv', 'summary.tsv', 'posterior.svg', 'posterior.png', 'sample.json',
];

const runFile = (out: string) => path.join(checkpointDir(out), 'run.json');

/** --until-ess is applied once every chain (every walker) has this many draws after warm-up. */
export const MIN_DRAWS_FOR_ESS = 50;

/** Path of the compiled worker script, or null (sources under a TypeScript runner). */
function workerScript(): string | null {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.js')) return null;
  const p = fileURLToPath(new URL('./worker.js', import.meta.url));
  return fs.existsSync(p) ? p : null;
}

function positiveInteger(v: number | undefined, flag: string, min = 1): Issue[] {
  return v !== undefined && !(Number.isInteger(v) && v >= min) ? [issue(flag, `${v} must be an integer >= ${min}`)] : [];
}

/** Everything checked before any compute or file write. */
async function prepare(src: ReturnType<typeof readSource>, samplerName: string, samplerConfig: Record<string, unknown>) {
  const planned = await planSource(src);
  const sampler = samplerFrom(planned.registry, samplerName, samplerConfig);
  const { problem, target } = await targetFor(src, sampler.needsGradient, planned);
  return { planned, sampler, problem, target };
}

function flagProblems(o: SampleJobOptions): void {
  const problems: Issue[] = [
    ...positiveInteger(o.chains, '--chains'), ...positiveInteger(o.warmup, '--warmup', 0), ...positiveInteger(o.samples, '--samples'),
    ...positiveInteger(o.untilEss, '--until-ess'), ...positiveInteger(o.seed, '--seed', 0),
  ];
  if (o.seed !== undefined && !Number.isSafeInteger(o.seed)) problems.push(issue('--seed', `${o.seed} must be below 2^53`));
  if (o.maxTime !== undefined && !(o.maxTime > 0)) problems.push(issue('--max-time', `${o.maxTime} must be a positive duration`));
  if (o.queue === undefined) {
    for (const [v, flag] of [[o.queueName, '--queue-name'], [o.attempts, '--attempts'], [o.segmentSeconds, '--segment-seconds']] as const)
      if (v !== undefined) problems.push(issue(flag, 'only with --queue URL (the chains as jobs on cosmodag worker processes)'));
  } else {
    if (o.threads !== undefined) problems.push(issue('--threads', 'not with --queue: the chains run on the workers\' threads (cosmodag worker --concurrency N)'));
    problems.push(...positiveInteger(o.attempts, '--attempts'));
    if (o.segmentSeconds !== undefined && !(Number.isFinite(o.segmentSeconds) && o.segmentSeconds > 0)) problems.push(issue('--segment-seconds', `${o.segmentSeconds} must be a positive number of seconds`));
  }
  if (problems.length) throw new InputError(problems);
}

export async function sampleJob(o: SampleJobOptions): Promise<SampleJobResult> {
  const log = o.log ?? ((l: string) => { if (!o.quiet) process.stdout.write(l + '\n'); });
  flagProblems(o);
  const queue: QueueTarget | null = o.queue !== undefined ? parseQueueUrl(queueUrlFrom(o.queue)) : null;
  // asked now, answered while the pipeline is planned; awaited before anything is computed or recorded
  const reachable = queue ? probeRedis(queue).then(() => null, (e: Error) => e) : null;
  const src = readSource(o.file, o.params, o.sets);
  const name = (src.pipeline as { name?: unknown })?.name;
  const outDir = path.resolve(o.out ?? path.join('out', `${typeof name === 'string' ? name : 'pipeline'}-sample`));
  const existing = fs.existsSync(runFile(outDir)) ? decodeJson<RunRecord>(fs.readFileSync(runFile(outDir), 'utf8')) : null;
  // a resumed run keeps its sampler unless one is named (then it must be the same: checked below)
  const samplerName = o.sampler ?? (o.resume && existing ? existing.sampler.name : 'nuts');
  const samplerConfig = o.samplerConfig ?? (o.resume && existing ? existing.sampler.config : {});
  const { planned, sampler, problem, target } = await prepare(src, samplerName, samplerConfig);
  const { plan } = planned;
  const hash = sourceHash(src, plan);

  // the run record: a fresh run makes it (after checking the directory), a resumed one reads and checks it
  let record: RunRecord | undefined;
  if (o.resume) {
    if (!existing) throw new InputError([issue('--resume', `${outDir} holds no sampling run to resume (no checkpoint/run.json); run without --resume`)]);
    const mismatch: Issue[] = [];
    if (existing.pipelineHash !== hash) mismatch.push(issue('--resume', `the pipeline (after --param/--set) or a file it reads (the data) differs from the one the run in ${outDir} sampled; pass the same file and edits, or start a new run in another --out`));
    const same = (flag: string, given: string | number | undefined, recorded: string | number) => {
      if (given !== undefined && given !== recorded) mismatch.push(issue(flag, `${String(given)} differs from the run being resumed (${String(recorded)}); leave it out to keep the recorded value`));
    };
    same('--sampler', o.sampler, existing.sampler.name);
    same('--sampler-config', o.samplerConfig && JSON.stringify(o.samplerConfig), JSON.stringify(existing.sampler.config));
    same('--chains', o.chains, existing.chains);
    same('--warmup', o.warmup, existing.warmup);
    same('--seed', o.seed, existing.seed);
    if (mismatch.length) throw new InputError(mismatch);
    record = existing;
  } else if (existing && !o.force)
    throw new InputError([issue('--out', `${outDir} holds a sampling run (checkpoint/run.json): pass --resume to continue it, or --force to start again (its checkpoints are then discarded)`)]);
  const chains = record ? record.chains : (o.chains ?? 4);
  const writer = new OutputWriter(outDir, plan.pipeline.name, o.force);
  writer.checkWritable(SAMPLE_FILES(chains));
  // the queue must answer before anything is computed or recorded
  const unreachable = await reachable;
  if (unreachable) throw unreachable;

  if (!record) {
    if (existing) fs.rmSync(checkpointDir(outDir), { recursive: true, force: true });
    const seed = o.seed ?? Math.floor(Math.random() * 2 ** 32);
    const start = await startingPoint(src, problem, target);
    if (start.note && !o.quiet) process.stderr.write(`note: starting covariance from ${start.source === 'hessian' ? 'the Hessian of the log posterior (central differences of its gradient)' : 'a diagonal guess'}: ${start.note}\n`);
    record = {
      version: 1, pipeline: path.resolve(o.file), pipelineHash: hash,
      sampler: { name: samplerName, config: samplerConfig },
      chains, warmup: o.warmup ?? 500, seed, chainSeeds: chainSeeds(seed, chains),
      names: problem.parameters.map((p) => p.name),
      start: Array.from(start.x0), covariance: Array.from(start.covariance), covarianceSource: start.source,
      ...(start.note ? { covarianceNote: start.note } : {}),
      fisher: start.fisher ? { names: start.fisher.names, cov: Array.from(start.fisher.cov) } : null,
      created: new Date().toISOString(),
    };
  }
  // the stopping rule: the flags given, else (resuming) the recorded one, else 1000 samples
  const given = o.samples !== undefined || o.untilEss !== undefined || o.maxTime !== undefined;
  const stopping = given || !record.stopping
    ? { samples: o.samples ?? (o.untilEss !== undefined ? null : 1000), untilEss: o.untilEss ?? null, maxTime: o.maxTime ?? null }
    : record.stopping;
  record.stopping = stopping;
  writeFileAtomic(runFile(outDir), encodeJson(record));
  const rec: RunRecord = record;
  const { samples } = stopping;
  const run: SampleJobOptions = { ...o, untilEss: stopping.untilEss ?? undefined, maxTime: stopping.maxTime ?? undefined };
  // the evaluations made for the starting point are not the chains'
  Object.assign(target.counts, { evaluations: 0, outside: 0, failed: 0, firstFailure: undefined });
  if (problem.improper.length && !o.quiet) process.stderr.write(`note: ${problem.improper.join(', ')} ${problem.improper.length > 1 ? 'have' : 'has'} no prior: flat and improper (give "prior": {"uniform": [lo, hi]} to bound ${problem.improper.length > 1 ? 'them' : 'it'})\n`);

  const jobs: ChainJobData[] = Array.from({ length: chains }, (_, k) => ({
    chain: k + 1, seed: rec.chainSeeds[k], warmup: rec.warmup, start: rec.start, covariance: rec.covariance,
  }));
  const via = queue ? { target: queue, name: o.queueName ?? DEFAULT_QUEUE_NAME, key: pointKey(plan, planned.registry) } : null;
  const collected = await runAll(run, { src, samplerName, samplerConfig, sampler, problem, target, jobs, outDir, samples, warmup: rec.warmup, queue: via });

  // outputs from the checkpointed draws
  const chainDraws: ChainDraws[] = [];
  const reports: ChainReport[] = [];
  for (const job of jobs) {
    const cp = readCheckpoint(outDir, job.chain);
    if (!cp) throw new Error(`the run stopped (${collected.stopped === 'time' ? '--max-time' : 'stopping rule'}) before chain ${job.chain}'s first segment came back from the queue: no draws kept yet. Continue with --resume; the checkpoints in ${outDir}/checkpoint hold everything so far`);
    const all = readDraws(outDir, job.chain, cp);
    const post = all.filter((d) => !d.warmup);
    chainDraws.push({ chain: job.chain, draws: post });
    reports.push(chainReport(job, cp, all));
  }
  if (!chainDraws.some((c) => c.draws.length >= 2)) {
    const at = Math.min(...reports.map((r) => r.iterations));
    throw new Error(`the run stopped (${collected.stopped === 'time' ? '--max-time' : 'stopping rule'}) during the warm-up, at iteration ${at} of ${rec.warmup}: no draws kept yet. Continue with --resume (and a longer --max-time); the checkpoints in ${outDir}/checkpoint hold everything so far`);
  }
  const { files: produced, summary } = await sampleFiles({
    parameters: problem.parameters, map: problem.map, chains: chainDraws,
    fisher: rec.fisher ? { cov: Float64Array.from(rec.fisher.cov) } : null,
    title: `${plan.pipeline.name}: ${samplerName}, ${chains} chain${chains > 1 ? 's' : ''}`,
  });
  const minEss = Math.min(...summary.map((s) => s.essBulk));
  const evaluations = reports.reduce((a, r) => a + r.evaluations, 0);
  const chainSeconds = reports.reduce((a, r) => a + r.seconds, 0);
  // the sampling phase (after warm-up): what ESS per evaluation and per second of a sampler are usually quoted for
  const samplingEvaluations = reports.reduce((a, r) => a + r.evaluations - r.warmupEvaluations, 0);
  const samplingSeconds = reports.reduce((a, r) => a + r.seconds - r.warmupSeconds, 0);
  produced['sample.json'] = JSON.stringify({
    pipeline: rec.pipeline, sampler: rec.sampler, chains, warmup: rec.warmup, samples, until_ess: stopping.untilEss,
    max_time_s: stopping.maxTime, stopped: collected.stopped, seed: rec.seed, chain_seeds: rec.chainSeeds,
    ...(via ? { queue: { url: via.target.display, name: via.name, segment_seconds: o.segmentSeconds ?? DEFAULT_SEGMENT_SECONDS } } : {}),
    covariance_source: rec.covarianceSource, ...(rec.covarianceNote ? { covariance_note: rec.covarianceNote } : {}),
    parameters: problem.parameters.map((p) => ({ name: p.name, latex: p.latex, start: p.value, prior: p.prior, support: [p.lower, p.upper] })),
    diagnostics: {
      rhat_max: Math.max(...summary.map((s) => s.rhat)), ess_bulk_min: minEss, ess_tail_min: Math.min(...summary.map((s) => s.essTail)),
      evaluations, chain_seconds: chainSeconds, wall_seconds_this_session: collected.wallSeconds,
      ess_per_evaluation: minEss / evaluations, ess_per_chain_second: minEss / chainSeconds,
      sampling_evaluations: samplingEvaluations, sampling_chain_seconds: samplingSeconds,
      ess_per_sampling_evaluation: minEss / samplingEvaluations, ess_per_sampling_chain_second: minEss / samplingSeconds,
      divergences: reports.reduce((a, r) => a + r.divergences, 0),
    },
    fisher_sigma: rec.fisher ? Object.fromEntries(rec.fisher.names.map((n, i) => [n, Math.sqrt(rec.fisher!.cov[i * rec.fisher!.names.length + i])])) : null,
    chain_reports: reports,
  }, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 1) + '\n';
  const files = Object.entries(produced).map(([f, data]) => writer.write(f, data));

  log(summaryTable(summary, rec, reports, collected.stopped));
  for (const f of files) log(`wrote ${path.relative(process.cwd(), f) || f}`);
  return { out: outDir, files, summary, chains: reports, record: rec, stopped: collected.stopped, wallSeconds: collected.wallSeconds };
}

/** Post-warm-up statistics of a chain. */
function chainReport(job: ChainJobData, cp: ChainCheckpoint, draws: StoredDraw[]): ChainReport {
  const post = draws.filter((d) => !d.warmup);
  const stats: Record<string, number> = {};
  const keys = new Set(post.flatMap((d) => Object.keys(d.stats)));
  for (const k of keys) {
    if (k === 'divergent') continue;
    let s = 0, n = 0;
    for (const d of post) if (Number.isFinite(d.stats[k])) { s += d.stats[k]; n++; }
    stats[k] = n ? s / n : NaN;
  }
  const div = (ds: StoredDraw[]) => ds.reduce((a, d) => a + (d.stats.divergent ? 1 : 0), 0);
  return {
    chain: job.chain, seed: job.seed, iterations: cp.state.iteration, draws: post.length, evaluations: cp.evaluations, seconds: cp.seconds,
    warmupEvaluations: cp.warmupEvaluations ?? (job.warmup === 0 ? 0 : cp.evaluations), warmupSeconds: cp.warmupSeconds ?? (job.warmup === 0 ? 0 : cp.seconds),
    stats, divergences: div(post), divergencesWarmup: div(draws.filter((d) => d.warmup)),
    outside: cp.counts.outside, failed: cp.counts.failed, ...(cp.counts.firstFailure ? { firstFailure: cp.counts.firstFailure } : {}),
  };
}

function summaryTable(summary: (ParameterSummary & { parameter: string })[], record: RunRecord, reports: ChainReport[], stopped: string): string {
  const w = Math.max(9, ...summary.map((s) => s.parameter.length));
  const f = (v: number, d = 5) => (Number.isFinite(v) ? Number(v.toPrecision(d)).toString() : 'nan').padStart(12);
  const lines = [`${'parameter'.padEnd(w)}  ${'mean'.padStart(12)}  ${'sd'.padStart(12)}  ${'fisher sd'.padStart(12)}  ${'rhat'.padStart(12)}  ${'ess_bulk'.padStart(12)}  ${'ess_tail'.padStart(12)}`];
  for (const s of summary) {
    const i = record.fisher?.names.indexOf(s.parameter) ?? -1;
    const fsd = i >= 0 ? Math.sqrt(record.fisher!.cov[i * record.fisher!.names.length + i]) : NaN;
    lines.push(`${s.parameter.padEnd(w)}  ${f(s.mean, 6)}  ${f(s.sd, 4)}  ${f(fsd, 4)}  ${f(s.rhat, 4)}  ${f(s.essBulk, 4)}  ${f(s.essTail, 4)}`);
  }
  for (const r of reports) {
    const st = Object.entries(r.stats).filter(([k]) => ['accept_stat', 'accept', 'step_size', 'tree_depth', 'n_leapfrog', 'scale'].includes(k)).map(([k, v]) => `${k} ${Number(v.toPrecision(3))}`).join(', ');
    lines.push(`chain ${r.chain}: ${r.draws} draws, ${r.evaluations} evaluations, ${r.seconds.toFixed(1)} s${st ? `; ${st}` : ''}; divergences ${r.divergences} (warm-up ${r.divergencesWarmup})${r.failed ? `; ${r.failed} failed evaluations (first: ${r.firstFailure})` : ''}`);
  }
  lines.push(`stopped by: ${stopped === 'samples' ? 'the number of samples' : stopped === 'ess' ? 'the ESS target' : 'the time limit'}`);
  return lines.join('\n');
}

interface RunContext {
  src: ReturnType<typeof readSource>;
  samplerName: string;
  samplerConfig: Record<string, unknown>;
  sampler: ReturnType<typeof samplerFrom>;
  problem: SamplingProblem;
  target: Awaited<ReturnType<typeof targetFor>>['target'];
  jobs: ChainJobData[];
  outDir: string;
  samples: number | null;
  warmup: number;
  /** Run the chains as segments on this queue. */
  queue: { target: QueueTarget; name: string; key: string } | null;
}

/** Seconds a queue worker steps a chain before returning its segment. */
export const DEFAULT_SEGMENT_SECONDS = 10;

/** Runs every chain (workers, or this thread); collects draws for the progress line and the stopping rules. */
async function runAll(o: SampleJobOptions, c: RunContext): Promise<{ stopped: 'samples' | 'ess' | 'time'; wallSeconds: number }> {
  const t0 = performance.now();
  const dim = c.problem.parameters.length;
  // post-warm-up physical draws per series (chain.walker), for the running diagnostics
  const series = new Map<string, { columns: number[][] }>();
  const add = (chain: number, draws: StoredDraw[]) => {
    for (const d of draws) {
      if (d.warmup) continue;
      const key = `${chain}.${d.walker}`;
      let s = series.get(key);
      if (!s) series.set(key, (s = { columns: Array.from({ length: dim }, () => []) }));
      const th = c.problem.map.toPhysical(d.x);
      for (let i = 0; i < dim; i++) s.columns[i].push(th[i]);
    }
  };
  const progress = new Map<number, ChainProgress & { divergent: number; acc: number; accN: number; step: number }>();
  if (o.resume)
    for (const job of c.jobs) {
      const cp = readCheckpoint(c.outDir, job.chain);
      if (cp) {
        add(job.chain, readDraws(c.outDir, job.chain, cp));
        progress.set(job.chain, { iteration: cp.state.iteration, evaluations: cp.evaluations, seconds: cp.seconds, done: cp.done, divergent: 0, acc: 0, accN: 0, step: NaN });
      }
    }
  let stopped: 'samples' | 'ess' | 'time' = 'samples';
  let stopRequested = false;
  let lastDiag = 0, diagInterval = 2000, diag = { rhatMax: NaN, essMin: NaN, draws: 0, perSeries: 0 };
  const stream = o.progress ?? process.stderr;
  const tty = !o.quiet && stream.isTTY;
  let lastLine = 0;
  const asSeries = () => [...series.values()].map((s) => ({ columns: s.columns.map((a) => Float64Array.from(a)) }));
  const onDraws = (chain: number, draws: StoredDraw[], p: ChainProgress) => {
    add(chain, draws);
    const prev = progress.get(chain);
    const st = { ...p, divergent: prev?.divergent ?? 0, acc: prev?.acc ?? 0, accN: prev?.accN ?? 0, step: prev?.step ?? NaN };
    for (const d of draws) {
      if (!d.warmup && d.stats.divergent) st.divergent++;
      // acceptance over the recent draws (an exponential average over ~50 draws), warm-up included
      const a = d.stats.accept_stat ?? d.stats.accept;
      if (a !== undefined && Number.isFinite(a)) { st.accN++; st.acc += (a - st.acc) / Math.min(st.accN, 50); }
      if (d.stats.step_size !== undefined) st.step = d.stats.step_size;
    }
    progress.set(chain, st);
    const now = performance.now();
    if (now - lastDiag > diagInterval) {
      lastDiag = now;
      const s = asSeries();
      diag = runningDiagnostics(s, dim);
      // the diagnostics sort and transform every draw so far: keep them under ~5% of this thread's time as chains grow
      diagInterval = Math.max(2000, 20 * (performance.now() - now));
      // an ESS estimated from a handful of draws means little: the rule applies from MIN_DRAWS_FOR_ESS draws per series
      if (o.untilEss !== undefined && !stopRequested && diag.perSeries >= MIN_DRAWS_FOR_ESS && diag.essMin >= o.untilEss) {
        stopped = 'ess';
        requestStop();
      }
    }
    if (o.maxTime !== undefined && !stopRequested && (now - t0) / 1000 >= o.maxTime) {
      stopped = 'time';
      requestStop();
    }
    if (!o.quiet && (tty ? now - lastLine > 250 : now - lastLine > 60_000)) {
      lastLine = now;
      const line = progressLine(c, progress, diag, (now - t0) / 1000);
      stream.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
    }
  };
  let workersStop: () => void = () => {};
  const requestStop = () => { stopRequested = true; workersStop(); };

  const script = workerScript();
  const threads = Math.max(1, Math.min(c.jobs.length, o.threads && o.threads > 0 ? o.threads : availableParallelism()));
  if (c.queue) {
    const q = c.queue;
    if (!o.quiet) stream.write(`${c.jobs.length} chain${c.jobs.length > 1 ? 's' : ''} as segments of ~${o.segmentSeconds ?? DEFAULT_SEGMENT_SECONDS} s on the queue ${q.target.display} (${q.name}): start \`cosmodag worker\` processes on it\n`);
    const handle = await runChainsOnQueue({
      target: q.target, queueName: q.name, attempts: o.attempts ?? 3, segmentSeconds: o.segmentSeconds ?? DEFAULT_SEGMENT_SECONDS,
      source: c.src, key: q.key, sampler: { name: c.samplerName, config: c.samplerConfig }, jobs: c.jobs, out: c.outDir,
      resume: !!o.resume, samples: c.samples, onDraws, shouldStop: () => stopRequested,
      warn: (l) => { if (!o.quiet) stream.write(tty ? `\r\x1b[2K${l}\n` : `${l}\n`); },
    });
    workersStop = handle.stop;
    if (stopRequested) handle.stop();
    // --max-time also when no segment comes back (no worker, or long segments)
    const clock = o.maxTime === undefined ? undefined : setInterval(() => {
      if (!stopRequested && (performance.now() - t0) / 1000 >= o.maxTime!) {
        stopped = 'time';
        requestStop();
      }
    }, 500);
    try {
      await handle.done;
    } finally {
      clearInterval(clock);
    }
  } else if (!script) {
    await runChains(c.sampler, c.jobs.map(jobFromData), async (chain) => (chain === c.jobs[0].chain ? c.target : (await targetFor(c.src, c.sampler.needsGradient)).target), {
      out: c.outDir, resume: !!o.resume, samples: c.samples, checkpointSeconds: o.checkpointSeconds ?? 2,
      onDraws, shouldStop: () => stopRequested,
    });
  } else {
    const groups: ChainJobData[][] = Array.from({ length: threads }, () => []);
    c.jobs.forEach((j, k) => groups[k % threads].push(j));
    const workers: Worker[] = [];
    workersStop = () => { for (const w of workers) w.postMessage({ type: 'stop' }); };
    try {
      await Promise.all(groups.map((jobs) => new Promise<void>((resolve, reject) => {
        configureWorkerHeaps();
        const w = new Worker(script);
        workers.push(w);
        let finished = false;
        w.on('error', (e) => { finished = true; reject(e); });
        w.on('exit', (code) => { if (!finished) reject(new Error(`a sampling worker thread exited with code ${code}`)); });
        w.on('message', (m: { type: string; chain?: number; draws?: StoredDraw[]; progress?: ChainProgress; message?: string; stack?: string; issues?: Issue[] }) => {
          if (m.type === 'ready') {
            w.postMessage({ type: 'run', source: c.src, sampler: { name: c.samplerName, config: c.samplerConfig }, jobs, out: c.outDir, resume: !!o.resume, samples: c.samples, checkpointSeconds: o.checkpointSeconds ?? 2 });
            if (stopRequested) w.postMessage({ type: 'stop' });
          } else if (m.type === 'draws') onDraws(m.chain!, m.draws!, m.progress!);
          else if (m.type === 'done') { finished = true; resolve(); }
          else if (m.type === 'error') {
            finished = true;
            const e = m.issues ? new InputError(m.issues) : new Error(m.message);
            if (!m.issues && m.stack && process.env.COSMODAG_DEBUG) e.stack = m.stack;
            reject(e);
          }
        });
      })));
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  }
  if (tty) stream.write(`\r\x1b[2K${progressLine(c, progress, runningDiagnostics(asSeries(), dim), (performance.now() - t0) / 1000)}\n`);
  return { stopped, wallSeconds: (performance.now() - t0) / 1000 };
}

function progressLine(c: RunContext, progress: Map<number, ChainProgress & { divergent: number; acc: number; accN: number; step: number }>, diag: { rhatMax: number; essMin: number }, seconds: number): string {
  const ps = [...progress.values()];
  const its = ps.map((p) => p.iteration);
  const total = c.samples === null ? '' : `/${c.warmup + c.samples}`;
  const minIt = its.length ? Math.min(...its) : 0;
  const phase = minIt < c.warmup ? ' (warm-up)' : '';
  const div = ps.reduce((a, p) => a + p.divergent, 0);
  const withAcc = ps.filter((p) => p.accN > 0);
  const acc = withAcc.length ? withAcc.reduce((a, p) => a + p.acc, 0) / withAcc.length : NaN;
  const steps = ps.map((p) => p.step).filter(Number.isFinite);
  const f = (v: number, d: number) => (Number.isFinite(v) ? v.toFixed(d) : '-');
  return `${c.samplerName} ${c.jobs.length} chain${c.jobs.length > 1 ? 's' : ''}: iteration ${minIt}${total}${phase}  R-hat max ${f(diag.rhatMax, 3)}  min ESS ${f(diag.essMin, 0)}  acceptance (recent) ${f(acc, 2)}${steps.length ? `  step ${Number(Math.min(...steps).toPrecision(2))}` : ''}  divergences ${div}  ${seconds.toFixed(0)} s`;
}

export type { ChainSettings };
