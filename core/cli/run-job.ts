/**
 * `cosmodag run` as a function (the oclif command is a thin shell around it, and tests call it directly):
 * read, edit, plan, execute, write outputs, write the event log.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Subject } from 'rxjs';
import { DiskStore, MemoryStore, writeFileAtomic, type MemoStore } from '../cache/store.js';
import { executePlan, type ExecuteResult, type RunEvent } from '../graph/execute.js';
import { applyParam, applySet, readPipelineFile } from '../graph/pipeline-file.js';
import { dirOf, loadAndPlan } from '../graph/runtime.js';
import { OutputWriter } from '../graph/write-outputs.js';
import type { Plan } from '../graph/plan.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { attachProgress } from './progress.js';

export interface RunJobOptions {
  file: string;
  out?: string;
  params?: string[];
  sets?: string[];
  cache?: string;
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

export async function preparePipeline(file: string, params: string[] = [], sets: string[] = []) {
  const pipeline = readPipelineFile(file) as any;
  for (const s of sets) applySet(pipeline, s);
  for (const p of params) applyParam(pipeline, p);
  return loadAndPlan(pipeline, { baseDir: dirOf(file) });
}

export async function runJob(o: RunJobOptions): Promise<RunJobResult> {
  const log = o.log ?? ((l: string) => { if (!o.quiet) process.stdout.write(l + '\n'); });
  const { plan, registry } = await preparePipeline(o.file, o.params, o.sets);
  const outDir = path.resolve(o.out ?? path.join('out', plan.pipeline.name));
  const writer = new OutputWriter(outDir, plan.pipeline.name, o.force);
  const declared = Object.values(plan.pipeline.outputs ?? {}).flat();
  writer.checkWritable(declared);

  const events = new Subject<RunEvent>();
  const log_: RunEvent[] = [];
  events.subscribe((e) => log_.push(e));
  const detach = o.quiet ? () => {} : attachProgress(events);
  const store = o.store ?? (o.cache ? new DiskStore(path.resolve(o.cache)) : new MemoryStore());
  if (store instanceof DiskStore)
    store.onCorrupt = (key, why) => process.stderr.write(`warning: cache entry ${key.slice(0, 12)} is corrupt (${why}); recomputing\n`);
  let result: ExecuteResult;
  try {
    result = await executePlan(plan, registry, { store, events });
  } finally {
    detach();
    if (o.eventsFile) writeFileAtomic(path.resolve(o.eventsFile), log_.map((e) => JSON.stringify(e)).join('\n') + '\n');
  }

  const files: string[] = [];
  for (const [stage, names] of Object.entries(plan.pipeline.outputs ?? {})) {
    const st = plan.stages.get(stage)!;
    for (const name of ([] as string[]).concat(names)) {
      const produced = await st.plugin.write!(result.outputs.get(stage), name, { config: st.config, params: result.params });
      for (const [f, data] of Object.entries(produced)) files.push(writer.write(f, data));
    }
  }
  for (const name of plan.order) {
    const st = plan.stages.get(name)!;
    if (st.plugin.summarize && result.outputs.has(name)) log(st.plugin.summarize(result.outputs.get(name)));
  }
  log(`${plan.pipeline.name}: ${result.computed.length} stage(s) computed, ${result.cached.length} from cache`);
  for (const f of files) log(`wrote ${path.relative(process.cwd(), f) || f}`);
  return { ...result, plan, registry, files, events: log_ };
}

export const exists = (f: string) => fs.existsSync(f);
