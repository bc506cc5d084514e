/**
 * Executes a plan in topological order. Each stage's output is memoized under its memo key, so a
 * re-run (another method, a stencil point, a changed nuisance parameter) recomputes only what lies
 * downstream of the change. Stage runs may return a value, a promise, or an rxjs Observable of
 * progress/chunk/result events; every event is forwarded, tagged with the stage, to `events`.
 */
import { isObservable, lastValueFrom, tap, type Observable, type Subject } from 'rxjs';
import { seed, type Dual } from '../ad/dual.js';
import { memoKey } from '../cache/memo-key.js';
import { MemoryStore, type MemoStore } from '../cache/store.js';
import { methodToken, type PluginRegistry } from '../plugin/registry.js';
import type { StageContext, StageEvent } from '../plugin/types.js';
import type { Plan, PlannedStage } from './plan.js';

export type RunEvent = { t: number; stage?: string } & (
  | { type: 'run-start'; pipeline: string; stages: number; tangents: string[] }
  | { type: 'stage-start'; plugin: string; key: string }
  | { type: 'stage-cached'; plugin: string; key: string }
  | { type: 'stage-computed'; plugin: string; key: string; seconds: number }
  | { type: 'stage-failed'; plugin: string; message: string }
  | { type: 'progress'; done: number; total: number; label?: string }
  | { type: 'chunk'; range: [number, number] }
  | { type: 'run-done'; seconds: number; computed: string[]; cached: string[] }
);

export interface ExecuteOptions {
  /** Parameter values overriding the plan's (stencil points, --param). */
  params?: Record<string, number>;
  /** Parameters to carry forward-mode tangents for, in order ([] = values only). */
  tangents?: readonly string[];
  store?: MemoStore;
  events?: Subject<RunEvent>;
  /** Compute only these stages and what they depend on. */
  targets?: string[];
}

export interface ExecuteResult {
  outputs: Map<string, unknown>;
  keys: Map<string, string>;
  computed: string[];
  cached: string[];
  /** Parameter values used. */
  params: Record<string, number>;
}

/** A failure inside a stage's compute, naming the stage and plugin (CLI exit code 1). */
export class StageError extends Error {
  constructor(readonly stage: string, readonly pluginId: string, cause: Error) {
    super(`stage "${stage}" (${pluginId}) failed: ${cause.message}`, { cause });
    this.name = 'StageError';
  }
}

const now = () => performance.now();

export function stageKey(st: PlannedStage, params: Record<string, number>, tangents: readonly string[], inputKeys: Record<string, string>): string {
  const read: Record<string, number> = {};
  for (const p of Object.keys(st.reads)) read[p] = params[p];
  return memoKey({
    plugin: `${st.plugin.id}@${st.plugin.version}`,
    config: st.config,
    params: read,
    tangents,
    inputs: inputKeys,
    methods: Object.fromEntries(Object.entries(st.methods).map(([k, m]) => [k, { id: m.plugin.id, version: m.plugin.version, config: m.config }])),
  });
}

/** Stages needed for the targets (ancestors included), in plan order. */
function needed(plan: Plan, targets?: string[]): string[] {
  if (!targets) return plan.order;
  const keep = new Set<string>();
  const add = (n: string) => {
    if (keep.has(n)) return;
    keep.add(n);
    for (const dep of Object.values(plan.stages.get(n)!.inputs)) add(dep);
  };
  for (const t of targets) {
    if (!plan.stages.has(t)) throw new Error(`unknown stage "${t}"`);
    add(t);
  }
  return plan.order.filter((n) => keep.has(n));
}

export async function executePlan(plan: Plan, registry: PluginRegistry, opts: ExecuteOptions = {}): Promise<ExecuteResult> {
  const t0 = now();
  const store = opts.store ?? new MemoryStore();
  const tangents = opts.tangents ?? [];
  const params: Record<string, number> = {};
  for (const p of plan.parameters.values()) params[p.name] = p.value;
  for (const [k, v] of Object.entries(opts.params ?? {})) {
    if (!(k in params)) throw new Error(`unknown parameter "${k}"; parameters: ${Object.keys(params).join(', ')}`);
    params[k] = v;
  }
  for (const t of tangents) if (!(t in params)) throw new Error(`cannot differentiate with respect to "${t}": no stage reads it`);
  const emit = (e: Record<string, unknown>) => opts.events?.next({ t: Date.now(), ...e } as RunEvent);
  const order = needed(plan, opts.targets);
  emit({ type: 'run-start', pipeline: plan.pipeline.name, stages: order.length, tangents: [...tangents] });

  const outputs = new Map<string, unknown>();
  const keys = new Map<string, string>();
  const computed: string[] = [];
  const cached: string[] = [];
  for (const name of order) {
    const st = plan.stages.get(name)!;
    const inputKeys: Record<string, string> = {};
    const inputs: Record<string, unknown> = {};
    for (const [input, src] of Object.entries(st.inputs)) {
      inputKeys[input] = keys.get(src)!;
      inputs[input] = outputs.get(src);
    }
    const key = stageKey(st, params, tangents, inputKeys);
    keys.set(name, key);
    const hit = store.get(key);
    if (hit !== undefined) {
      outputs.set(name, hit);
      cached.push(name);
      emit({ type: 'stage-cached', stage: name, plugin: st.plugin.id, key });
      continue;
    }
    emit({ type: 'stage-start', stage: name, plugin: st.plugin.id, key });
    const ts = now();
    let value: unknown;
    try {
      value = await runStage(st, inputs, params, tangents, registry, (e) => emit({ ...e, stage: name }));
    } catch (e) {
      emit({ type: 'stage-failed', stage: name, plugin: st.plugin.id, message: (e as Error).message });
      throw e instanceof StageError ? e : new StageError(name, st.plugin.id, e as Error);
    }
    store.set(key, value);
    outputs.set(name, value);
    computed.push(name);
    emit({ type: 'stage-computed', stage: name, plugin: st.plugin.id, key, seconds: (now() - ts) / 1000 });
  }
  emit({ type: 'run-done', seconds: (now() - t0) / 1000, computed, cached });
  return { outputs, keys, computed, cached, params };
}

async function runStage(
  st: PlannedStage,
  inputs: Record<string, unknown>,
  params: Record<string, number>,
  tangents: readonly string[],
  registry: PluginRegistry,
  emit: (e: Record<string, unknown>) => void,
): Promise<unknown> {
  const instances: Record<string, unknown> = {};
  for (const [kind, m] of Object.entries(st.methods)) instances[kind] = m.plugin.create(m.config);
  const scope = registry.scope(instances);
  const P = tangents.length;
  const ctx: StageContext<any, any> = {
    stage: st.name,
    config: st.config,
    inputs,
    tangentParams: tangents,
    param(name: string): Dual {
      if (!(name in st.reads)) throw new Error(`asked for parameter "${name}" without declaring it in reads`);
      return seed(params[name], tangents.indexOf(name), P);
    },
    method<T>(kind: string): T {
      if (!(kind in st.methods)) throw new Error(`asked for a "${kind}" method without declaring it in methods`);
      return scope.get<T>(methodToken(kind));
    },
    progress(done: number, total: number, label?: string) {
      emit({ type: 'progress', done, total, label });
    },
  };
  const r = st.plugin.run(ctx);
  if (isObservable(r)) {
    const stream = r as Observable<StageEvent<unknown>>;
    let result: unknown;
    let got = false;
    await lastValueFrom(
      stream.pipe(
        tap((e: StageEvent<unknown>) => {
          if (e.type === 'result') { result = e.value; got = true; }
          else if (e.type === 'progress') emit({ type: 'progress', done: e.done, total: e.total, label: e.label });
          else if (e.type === 'chunk') emit({ type: 'chunk', range: e.range });
        }),
      ),
      { defaultValue: undefined },
    );
    if (!got) throw new Error('its event stream ended without a result');
    return result;
  }
  return await r;
}
