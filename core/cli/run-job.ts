/**
 * `cosmodag run` as a function (the oclif command is a thin shell around it, and tests call it directly):
 * read, edit, plan, execute, write outputs, write the event log.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Subject } from 'rxjs';
import { sha256 } from '../cache/memo-key.js';
import { DiskStore, MemoryStore, openCacheDir, writeFileAtomic, type MemoStore } from '../cache/store.js';
import { executePlan, type ExecuteResult, type RunEvent } from '../graph/execute.js';
import { applyParam, applySet, applyUnset, readPipelineFile } from '../graph/pipeline-file.js';
import { dirOf, loadAndPlan } from '../graph/runtime.js';
import { OutputWriter, lockOutputDir, outputNameProblem } from '../graph/write-outputs.js';
import { plannedOutputFiles } from '../graph/output-names.js';
import { streamOutputs } from '../graph/stream-outputs.js';
import type { Plan, PlannedStage } from '../graph/plan.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { attachProgress } from './progress.js';
import { parseSize } from '../cache/maintenance.js';
import { InputError, issue } from '../schema/input-error.js';

export interface RunJobOptions {
  file: string;
  out?: string;
  params?: string[];
  sets?: string[];
  /** --unset DOTTED.PATH edits, applied after the --set ones. */
  unsets?: string[];
  cache?: string;
  /** Bound of the cache directory ("2G", "500M"); default DEFAULT_CACHE_MAX_BYTES. */
  cacheMaxSize?: string;
  eventsFile?: string;
  quiet?: boolean;
  force?: boolean;
  /** Reuse a memo store across calls (tests, compare). */
  store?: MemoStore;
  log?: (line: string) => void;
}

export interface RunJobResult extends ExecuteResult {
  plan: Plan;
  registry: PluginRegistry;
  files: string[];
  events: RunEvent[];
}

export async function preparePipeline(file: string, params: string[] = [], sets: string[] = [], unsets: string[] = []) {
  const pipeline = readPipelineFile(file);
  for (const s of sets) applySet(pipeline, s);
  for (const u of unsets) applyUnset(pipeline, u);
  for (const p of params) applyParam(pipeline, p);
  return loadAndPlan(pipeline, { baseDir: dirOf(file) });
}

export async function runJob(o: RunJobOptions): Promise<RunJobResult> {
  const log = o.log ?? ((l: string) => { if (!o.quiet) process.stdout.write(l + '\n'); });
  const { plan, registry } = await preparePipeline(o.file, o.params, o.sets, o.unsets);
  const outDir = path.resolve(o.out ?? path.join('out', plan.pipeline.name));
  checkOutDir(outDir);
  // --cache and --cache-max-size are said wrong before --out is touched (and before any compute)
  if (o.cache && !o.store) {
    cacheBound(o.cacheMaxSize);
    openCacheDir(path.resolve(o.cache));
  }
  // one run at a time per --out (a second one waits), held until the files are written
  const unlock = await lockOutputDir(outDir, { onWait: (m) => process.stderr.write(`${m}\n`) });
  try {
    return await runLocked(o, plan, registry, outDir, log);
  } finally {
    unlock();
  }
}

/** --out must be a directory (or not exist yet): said before anything is computed. */
function checkOutDir(outDir: string): void {
  let st: fs.Stats | undefined;
  try { st = fs.statSync(outDir); } catch { /* will be created */ }
  if (st && !st.isDirectory()) throw new InputError([issue('--out', `${outDir} exists and is not a directory`)]);
}

async function runLocked(o: RunJobOptions, plan: Plan, registry: PluginRegistry, outDir: string, log: (line: string) => void): Promise<RunJobResult> {
  const writer = new OutputWriter(outDir, plan.pipeline.name, o.force);
  // every file the run will write, the companions its plugins name (cl.json, cl.png beside cl.tsv) included, is
  // checked for a foreign file in the way before the first stage computes
  const planParams = Object.fromEntries([...plan.parameters.values()].map((p) => [p.name, p.value]));
  writer.checkWritable(plannedOutputFiles(plan.pipeline.outputs, plan.stages, planParams).files.map((f) => f.file));
  if (o.eventsFile) checkEventsFile(path.resolve(o.eventsFile));

  const events = new Subject<RunEvent>();
  const log_: RunEvent[] = [];
  // the log (and --events) keeps what happened, not the chunks' data
  events.subscribe((e) => {
    if (e.type === 'chunk' && e.data !== undefined) {
      const { data: _data, ...rest } = e;
      log_.push(rest);
    } else log_.push(e);
  });
  const detach = o.quiet ? () => {} : attachProgress(events);
  // files a stage streams while it computes (<file>.partial, committed below)
  const streamed = streamOutputs(plan, events, writer, planParams);
  const store = o.store ?? (o.cache ? new DiskStore(path.resolve(o.cache), undefined, { maxBytes: cacheBound(o.cacheMaxSize) }) : new MemoryStore());
  if (store instanceof DiskStore)
    store.onCorrupt = (key, why) => process.stderr.write(`warning: cache entry ${key.slice(0, 12)} is corrupt (${why}); recomputing\n`);
  let result: ExecuteResult;
  try {
    result = await executePlan(plan, registry, { store, events });
  } catch (e) {
    streamed.abort();
    throw e;
  } finally {
    streamed.detach();
    detach();
    if (o.eventsFile) writeFileAtomic(path.resolve(o.eventsFile), log_.map((e) => JSON.stringify(e)).join('\n') + '\n');
  }

  const files: string[] = [];
  try {
    // every file of every stage first: two stages producing one file name, or a foreign file among the
    // companions (cl.json beside cl.tsv), stop the run before anything is written
    const all: { stage: string; st: PlannedStage; name: string; produced: Record<string, string | Uint8Array> }[] = [];
    const byFile = new Map<string, string>();
    for (const [stage, names] of Object.entries(plan.pipeline.outputs ?? {})) {
      const st = plan.stages.get(stage)!;
      for (const name of ([] as string[]).concat(names)) {
        const produced = await st.plugin.write!(result.outputs.get(stage), name, { config: st.config, params: result.params });
        for (const f of Object.keys(produced)) {
          const problem = outputNameProblem(f);
          if (problem) throw new InputError([issue(`outputs.${stage}`, `${st.plugin.id} would write a file that ${problem}`)]);
          const other = byFile.get(f);
          if (other !== undefined) throw new InputError([issue(`outputs.${stage}`, `${f} would be written by both outputs.${other} and outputs.${stage}; give them different names`)]);
          byFile.set(f, stage);
        }
        all.push({ stage, st, name, produced });
      }
    }
    writer.checkWritable([...byFile.keys()]);
    for (const { stage, st, name, produced } of all) {
      for (const [f, data] of Object.entries(produced)) {
        // a completely streamed file is renamed into place if it is what `write` gives; else `write`'s version
        const partial = f === name ? streamed.take(stage, name) : undefined;
        if (partial && partial.close() === sha256(data)) {
          files.push(writer.commit(partial));
          continue;
        }
        if (partial) {
          partial.abort();
          process.stderr.write(`warning: the ${name} that ${st.plugin.id} streamed differs from the one it writes; wrote the latter\n`);
        }
        const problem = f === name ? streamed.problem(stage, name) : undefined;
        if (problem) process.stderr.write(`warning: ${problem}; wrote the file at the end instead\n`);
        files.push(writer.write(f, data));
      }
    }
  } finally {
    streamed.abort(); // whatever was not committed
  }
  for (const name of plan.order) {
    const st = plan.stages.get(name)!;
    if (!st.plugin.summarize || !result.outputs.has(name)) continue;
    const summary = st.plugin.summarize(result.outputs.get(name));
    if (summary) log(summary); // '' : nothing to say for this output
  }
  log(`${plan.pipeline.name}: ${result.computed.length} stage(s) computed, ${result.cached.length} from cache`);
  for (const f of files) log(`wrote ${path.relative(process.cwd(), f) || f}`);
  return { ...result, plan, registry, files, events: log_ };
}

export const exists = (f: string) => fs.existsSync(f);

/** --events must name a file we may write (not a directory), checked before compute. */
function checkEventsFile(file: string): void {
  let st: fs.Stats | undefined;
  try { st = fs.statSync(file); } catch { /* new file */ }
  if (st?.isDirectory()) throw new InputError([issue('--events', `${file} is a directory; give a file name for the event log`)]);
  const dir = path.dirname(file);
  if (!fs.existsSync(dir)) throw new InputError([issue('--events', `the folder ${dir} does not exist`)]);
}

function cacheBound(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseSize(text);
  } catch (e) {
    throw new InputError([issue('--cache-max-size', (e as Error).message.replace(/^--cache-max-size: /, ''))]);
  }
}
