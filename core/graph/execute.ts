/**
 * Executes a plan in topological order. Each stage's output is memoized under its memo key, so a
 * re-run (another method, a stencil point, a changed nuisance parameter) recomputes only what lies
 * downstream of the change. Stage runs may return a value, a promise, or an rxjs Observable of
 * progress/chunk/result events; every event is forwarded, tagged with the stage, to `events` — also those of
 * the runs a stage makes inside it (a differentiator's evaluations, the stencil around a black box), tagged
 * with their depth.
 *
 * Streams: a stage's chunks (StageChunk: from its Observable or ctx.chunk) go to `events` (with their data) and,
 * when a stage of the run consumes that stage as a stream input, to a replaying channel it reads through
 * ctx.stream. Such a consumer starts as soon as the provider starts computing (its other inputs being ready),
 * and runs concurrently with it; every other stage runs in topological order, one after the other.
 */
import { ReplaySubject, isObservable, lastValueFrom, map, tap, type Observable, type Subject } from 'rxjs';
import { memoKey, sha256, stableStringify, type EntryIdentity } from '../cache/memo-key.js';
import { MemoryStore, type MemoStore } from '../cache/store.js';
import { methodIdentity, resolveMethod, resolveService } from '../plugin/bindings.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { StageChunk, StageEvent, StreamEvent } from '../plugin/types.js';
import { ancestors, dependsOn, mapInputs, sourceStages, sourcesOf, stageMethods, variedParameters, type Plan, type PlannedStage } from './plan.js';
import { stageContext } from './stage-context.js';
import { dualLeaves, leafValues, withTangents, type Differentiator, type Evaluator, type NestedReport, type VariedParameter } from './differentiator.js';
import { checkPortOutput } from './port-check.js';

/**
 * An event of a run. Events of nested runs (a differentiator's evaluations, the stencil around a black box,
 * reverse mode's forward runs) arrive on the same subject with `depth` >= 1 and `within` = the stage of the
 * enclosing run they compute for; top-level events carry neither.
 */
export type RunEvent = { t: number; stage?: string; depth?: number; within?: string } & (
  | { type: 'run-start'; pipeline: string; stages: number; tangents: string[] }
  | { type: 'stage-start'; plugin: string; key: string }
  | { type: 'stage-cached'; plugin: string; key: string }
  | { type: 'stage-computed'; plugin: string; key: string; seconds: number }
  | { type: 'stage-failed'; plugin: string; message: string }
  | { type: 'progress'; done: number; total: number; label?: string }
  | ({ type: 'chunk' } & StageChunk)
  | { type: 'run-done'; seconds: number; computed: string[]; cached: string[] }
);

export interface ExecuteOptions {
  /**
   * Discretisation choices shared by every evaluation of one differentiation (ctx.sticky): stencils and
   * finite differences then differentiate one discretised problem, as forward AD does, instead of seeing
   * adaptive quadrature nodes change between their points.
   */
  sticky?: Map<string, unknown>;
  /** Differentiator for stages that consume tangents; default: the plan's `methods.differentiator`. */
  differentiator?: Differentiator;
  /** Parameter values overriding the plan's (stencil points, --param). */
  params?: Record<string, number>;
  /** Parameters to carry forward-mode tangents for, in order ([] = values only). */
  tangents?: readonly string[];
  store?: MemoStore;
  events?: Subject<RunEvent>;
  /** Compute only these stages and what they depend on. */
  targets?: string[];
  /** A nested run (set by the runtime): its events go to `events` tagged with this depth and `within`. */
  depth?: number;
  within?: string;
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

/**
 * The memo key of a stage evaluation. Its methods (and declared services) are those its container resolves
 * (stageMethods), so a binding made in any child container — a stage override, a compare variant, a test
 * harness — enters the key exactly as a method named in the pipeline file does (same material: id, version,
 * config; a plan and a re-bound plan that bind the same method give the same key).
 */
/** A stage's validated config as canonical JSON, made once per planned stage (plans are not edited after planning). */
const CONFIG_JSON = new WeakMap<PlannedStage, string>();

/** Hash of the stage's config and, for a stage reading files, of their fingerprints (read at every call). */
function configHash(st: PlannedStage, baseDir: string): string {
  let json = CONFIG_JSON.get(st);
  if (json === undefined) CONFIG_JSON.set(st, (json = stableStringify(st.config)));
  return sha256(st.plugin.fingerprint ? `${json}\n${stableStringify(st.plugin.fingerprint(st.config, { baseDir }))}` : json);
}

export function stageKey(st: PlannedStage, params: Record<string, number>, tangents: readonly string[], inputKeys: Record<string, string | string[]>, baseDir = process.cwd()): string {
  return stageKeyAndIdentity(st, params, tangents, inputKeys, baseDir).key;
}

/**
 * The memo key and the identity a stored entry must prove on read (core/cache/store.ts): plugin@version, the
 * hash of the config (with its files' fingerprints), the parameter values read and the input keys.
 */
export function stageKeyAndIdentity(
  st: PlannedStage, params: Record<string, number>, tangents: readonly string[], inputKeys: Record<string, string | string[]>, baseDir = process.cwd(),
): { key: string; identity: EntryIdentity } {
  const read: Record<string, number> = {};
  for (const p of Object.keys(st.reads)) read[p] = params[p];
  const services = st.plugin.services ?? [];
  const plugin = `${st.plugin.id}@${st.plugin.version}`;
  const config = configHash(st, baseDir);
  const key = memoKey({
    plugin,
    config,
    params: read,
    tangents,
    inputs: inputKeys,
    methods: Object.fromEntries(Object.entries(stageMethods(st)).map(([k, m]) => [k, methodIdentity(m)])),
    // only for a stage that declares services (the keys of the others are what they were before services)
    ...(services.length ? {
      services: Object.fromEntries(services.map((n) => {
        const s = resolveService(st.container, n);
        return [n, s ? `${s.id}@${s.version}` : 'unbound'];
      })),
    } : {}),
  });
  return { key, identity: { plugin, config, params: read, inputs: inputKeys } };
}

/** Stages needed for the targets (ancestors included), in plan order. */
function needed(plan: Plan, targets?: string[]): string[] {
  if (!targets) return plan.order;
  const keep = ancestors(plan, targets);
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
  const depth = opts.depth ?? 0;
  const emit = (e: Record<string, unknown>) => opts.events?.next({ t: Date.now(), ...e, ...(depth ? { depth, within: opts.within } : {}) } as RunEvent);
  // how the runs a stage makes inside this one report their events
  const nested = (stage: string): NestedReport => ({ events: opts.events, depth: depth + 1, within: stage });
  const order = needed(plan, opts.targets);
  emit({ type: 'run-start', pipeline: plan.pipeline.name, stages: order.length, tangents: [...tangents] });

  // the differentiator of the stages consuming tangents, created on first use
  let diff: Differentiator | undefined;
  const differentiator = () => (diff ??= opts.differentiator ?? differentiatorOf(plan));
  const varied = variedList(plan, params);
  const variedNames = varied.map((v) => v.name);
  // Forward AD in one pass: when the differentiator evaluates once with every varied parameter as a tangent
  // direction ('forward-single'), the ancestors of the consumers run here with those tangents, and the
  // consumers' evaluations find them in the memo store (same keys), so no values-only pass is computed.
  const onePass = onePassStages(plan, order, tangents, variedNames, () => (opts.differentiator || resolveMethod(plan.container, 'differentiator') ? differentiator() : undefined));

  const outputs = new Map<string, unknown>();
  const keys = new Map<string, string>();
  const computed: string[] = [];
  const cached: string[] = [];

  // streams: a replaying channel per stage that a stage of this run consumes as a stream (chunks, then the result)
  const channels = new Map<string, ReplaySubject<StreamEvent>>();
  for (const name of order) {
    const st = plan.stages.get(name)!;
    for (const input of st.streams) {
      const src = st.inputs[input];
      if (typeof src === 'string' && !channels.has(src)) channels.set(src, new ReplaySubject<StreamEvent>());
    }
  }
  const started = new Set<string>();
  const tasks = new Map<string, Promise<void>>();
  const launch = (name: string): Promise<void> => {
    const task = runOne(name);
    task.catch(() => undefined); // awaited in order below; a stage started early may fail before its turn
    tasks.set(name, task);
    return task;
  };
  // A stage consuming `provider` as a stream starts when the provider starts, if its other inputs are ready (and
  // it neither differentiates its inputs nor is a black box under tangents, which re-run the sub-graph).
  const startStreamConsumers = (provider: string) => {
    for (const name of order) {
      if (tasks.has(name)) continue;
      const st = plan.stages.get(name)!;
      const streamed = new Set(st.streams.map((i) => st.inputs[i]).filter((s): s is string => typeof s === 'string'));
      if (!streamed.has(provider) || st.plugin.consumesTangents) continue;
      if ((onePass.has(name) ? variedNames : tangents).length && st.plugin.differentiable === 'none') continue;
      if (sourceStages(st).every((src) => outputs.has(src) || (streamed.has(src) && started.has(src)))) void launch(name);
    }
  };

  async function runOne(name: string): Promise<void> {
    const st = plan.stages.get(name)!;
    const consumer = !!st.plugin.consumesTangents;
    const stageTangents = onePass.has(name) ? variedNames : tangents;
    // a stage outside the one pass reading a stage inside it gets its values (tangents dropped; its key says so)
    const valuesOnly = (src: string) => !consumer && onePass.has(src) && !onePass.has(name);
    const inputKeys = mapInputs(st, (src) => (valuesOnly(src) ? `${keys.get(src)!}:values` : keys.get(src)!));
    const inputOf = (src: string) => (valuesOnly(src) ? withTangents(outputs.get(src), 0, () => new Float64Array(0)) : outputs.get(src));
    const inputs: Record<string, unknown> = {};
    for (const [input, wired] of Object.entries(st.inputs)) {
      if (typeof wired === 'string' && !outputs.has(wired)) {
        // a stream input whose provider is still computing: its output is there once the provider has finished
        Object.defineProperty(inputs, input, {
          enumerable: true,
          configurable: true,
          get: () => {
            if (!outputs.has(wired)) throw new Error(`input "${input}" (stage "${wired}") is still being computed: read it from ctx.stream("${input}"), whose last event is its result`);
            return inputOf(wired);
          },
        });
      } else inputs[input] = typeof wired === 'string' ? inputOf(wired) : wired.map(inputOf);
    }
    // (a stage consuming tangents receives its inputs differentiated: its streams give that input, as a result only)
    const stream = consumer ? undefined : (input: string): Observable<StreamEvent> => {
      const src = st.inputs[input] as string;
      return channels.get(src)!.pipe(map((e) => (e.type === 'result' ? { type: 'result' as const, value: inputOf(src) } : e)));
    };
    const { key, identity } = consumer
      ? stageKeyAndIdentity(st, params, variedNames, { ...inputKeys, $differentiator: differentiatorKey(plan) }, plan.baseDir)
      : stageKeyAndIdentity(st, params, stageTangents, opts.sticky ? { ...inputKeys, $sticky: 'shared-discretisation' } : inputKeys, plan.baseDir);
    keys.set(name, key);
    const channel = channels.get(name);
    const hit = store.get(key, identity);
    if (hit !== undefined) {
      outputs.set(name, hit);
      cached.push(name);
      emit({ type: 'stage-cached', stage: name, plugin: st.plugin.id, key });
      // a cached stage replays its result: a stream consumer sees no chunk, only the whole output
      channel?.next({ type: 'result', value: hit });
      channel?.complete();
      return;
    }
    emit({ type: 'stage-start', stage: name, plugin: st.plugin.id, key });
    started.add(name);
    if (channel) startStreamConsumers(name);
    const ts = now();
    let value: unknown;
    const forward = (e: Record<string, unknown>) => {
      emit({ ...e, stage: name });
      if (e.type === 'chunk') channel?.next(e as StreamEvent);
    };
    try {
      if (consumer) {
        // derivatives of every input (of each source of a `many` input) with respect to the varied parameters,
        // by the bound differentiator; its evaluations are nested runs through the same memo store
        const d = differentiator();
        const report = nested(name);
        const derivatives = async (src: string) => {
          // one pass: the sources ran above with the parent's sticky scope: the same keys find them in the store.
          // Otherwise every evaluation of this differentiation shares a fresh scope (see ExecuteOptions.sticky).
          // A differentiator evaluating only at the base point ('base-point': reverse mode) shares it too.
          const sticky = onePass.has(src) || d.mode === 'base-point' ? opts.sticky : new Map<string, unknown>();
          const ev: Evaluator = Object.assign(
            async (over: Record<string, number>, tans: readonly string[]) =>
              (await executePlan(plan, registry, { ...report, params: { ...params, ...over }, tangents: tans, store, targets: [src], sticky })).outputs.get(src),
            { graph: { plan, registry, store, target: src, params, consumer: name, report } },
          );
          return d.differentiate(ev, varied, (done, total) => emit({ type: 'progress', stage: name, done, total, label: `derivatives of ${src} (${d.name})` }));
        };
        for (const [input, wired] of Object.entries(st.inputs)) {
          const got: unknown[] = [];
          for (const src of sourcesOf(wired)) got.push(await derivatives(src));
          inputs[input] = typeof wired === 'string' ? got[0] : got;
        }
        value = await runStage(st, inputs, params, variedNames, registry, forward, plan, opts.sticky, stream);
      } else if (stageTangents.length && st.plugin.differentiable === 'none') {
        // a black box: run its values, then get its tangents from the regression stencil around it
        value = await blackBoxWithTangents(plan, registry, st, params, stageTangents, store, (e) => emit({ ...e, stage: name }), nested(name));
      } else
        value = await runStage(st, inputs, params, stageTangents, registry, forward, plan, opts.sticky, stream);
      checkPortOutput(registry, st.plugin.port, value); // the port's output contract, before it is stored or passed on
    } catch (e) {
      channel?.error(new Error(`stage "${name}" failed`));
      emit({ type: 'stage-failed', stage: name, plugin: st.plugin.id, message: (e as Error).message });
      throw e instanceof StageError ? e : new StageError(name, st.plugin.id, e as Error);
    }
    store.set(key, value, identity);
    outputs.set(name, value);
    computed.push(name);
    emit({ type: 'stage-computed', stage: name, plugin: st.plugin.id, key, seconds: (now() - ts) / 1000 });
    channel?.next({ type: 'result', value });
    channel?.complete();
  }

  // topological order; a stream consumer may already have been started with its provider
  for (const name of order) await (tasks.get(name) ?? launch(name));
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
  plan: Plan,
  sticky?: Map<string, unknown>,
  stream?: (input: string) => Observable<StreamEvent>,
): Promise<unknown> {
  const chunk = (c: StageChunk) => emit({ type: 'chunk', range: c.range, total: c.total, label: c.label, data: c.data });
  const ctx = stageContext(plan, registry, st, inputs, params, {
    tangents, sticky, progress: (done, total, label) => emit({ type: 'progress', done, total, label }), chunk, stream,
  });
  const r = st.plugin.run(ctx);
  if (isObservable(r)) {
    const events = r as Observable<StageEvent<unknown>>;
    let result: unknown;
    let got = false;
    await lastValueFrom(
      events.pipe(
        tap((e: StageEvent<unknown>) => {
          if (e.type === 'result') { result = e.value; got = true; }
          else if (e.type === 'progress') emit({ type: 'progress', done: e.done, total: e.total, label: e.label });
          else if (e.type === 'chunk') chunk(e);
        }),
      ),
      { defaultValue: undefined },
    );
    if (!got) throw new Error('its event stream ended without a result');
    return result;
  }
  return await r;
}

/** The varied parameters at the current values, with their steps. */
function variedList(plan: Plan, params: Record<string, number>): VariedParameter[] {
  return variedParameters(plan).map((n) => {
    const p = plan.parameters.get(n)!;
    return { name: n, value: params[n], step: p.step, absStep: p.spec.absStep };
  });
}

/** The pipeline's differentiator, as its container resolves it (methods.differentiator, or a child layer's). */
function differentiatorOf(plan: Plan): Differentiator {
  const m = resolveMethod(plan.container, 'differentiator');
  if (!m) throw new Error('a stage needs derivatives but no differentiator is bound (methods.differentiator)');
  return m.plugin.create(m.config) as Differentiator;
}

function differentiatorKey(plan: Plan): string {
  const m = resolveMethod(plan.container, 'differentiator');
  return m ? `${m.plugin.id}@${m.plugin.version}:${JSON.stringify(m.config)}` : 'none';
}

/**
 * The stages that run with the varied parameters as tangent directions in the main pass (forward AD in one
 * pass): the ancestors of the stages consuming tangents, when the differentiator is 'forward-single' and the
 * run itself carries no other tangents. Empty otherwise (stencils, finite differences and reverse mode evaluate
 * their own points; the main pass computes values).
 */
function onePassStages(
  plan: Plan, order: readonly string[], tangents: readonly string[], varied: readonly string[], differentiator: () => Differentiator | undefined,
): Set<string> {
  const consumers = order.filter((n) => plan.stages.get(n)!.plugin.consumesTangents);
  if (!consumers.length || tangents.length || !varied.length) return new Set();
  let mode: Differentiator['mode'];
  try {
    mode = differentiator()?.mode;
  } catch {
    return new Set(); // no usable differentiator: the consumer reports it when it runs
  }
  if (mode !== 'forward-single') return new Set();
  const set = ancestors(plan, consumers.flatMap((c) => sourceStages(plan.stages.get(c)!)));
  for (const c of consumers) set.delete(c); // a consumer always differentiates its own inputs
  return set;
}

/**
 * A stage that cannot propagate tangents (differentiable: 'none') inside a forward-AD run: its values come
 * from a plain run; the derivative of its output with respect to each varied parameter it depends on
 * (directly or through its inputs) comes from the regression stencil over the sub-graph ending at it
 * (upstream stages come from the memo store); forward AD then resumes downstream with those tangents.
 */
async function blackBoxWithTangents(
  plan: Plan, registry: PluginRegistry, st: PlannedStage, params: Record<string, number>,
  tangents: readonly string[], store: MemoStore, emit: (e: Record<string, unknown>) => void, report: NestedReport,
): Promise<unknown> {
  // the stage's own differentiator (stages.X.methods.differentiator), else the regression stencil
  const own = stageMethods(st)['differentiator'];
  const stencilPlugin = own?.plugin ?? registry.method('differentiator', 'regression-stencil');
  if (!stencilPlugin) throw new Error(`stage "${st.name}" is a black box (differentiable: 'none') and no regression-stencil differentiator is registered to differentiate around it`);
  const stencil = stencilPlugin.create(own?.config ?? {}) as Differentiator;
  const deps = dependsOn(plan, st.name);
  const all = variedList(plan, params);
  const relevant = tangents.filter((t) => deps.has(t)).map((t) => all.find((v) => v.name === t) ?? { name: t, value: params[t] });
  const sticky = new Map<string, unknown>();
  const ev: Evaluator = async (over) =>
    (await executePlan(plan, registry, { ...report, params: { ...params, ...over }, tangents: [], store, targets: [st.name], sticky })).outputs.get(st.name);
  const base = await ev({}, []);
  if (!relevant.length) return base;
  emit({ type: 'progress', done: 0, total: relevant.length, label: `stencil around black box ${st.plugin.id}` });
  const d = await stencil.differentiate(ev, relevant, (done, total) => emit({ type: 'progress', done, total, label: `stencil around black box ${st.plugin.id}` }));
  // re-express the stencil's tangents (over `relevant`) in the full tangent space (zeros elsewhere)
  const leaves = new Map(dualLeaves(d).map((l) => [l.path, l.leaf]));
  const P = tangents.length;
  return withTangents(base, P, (path, n) => {
    const t = new Float64Array(P * n);
    const leaf = leaves.get(path) as any;
    const src: Float64Array | null = leaf ? (leaf.tangent ?? leaf.d ?? null) : null;
    if (!src) return t;
    relevant.forEach((r, j) => t.set(src.subarray(j * n, (j + 1) * n), tangents.indexOf(r.name) * n));
    return t;
  });
}

export { leafValues };
