/**
 * Reverse mode over a plan: the gradient of a scalar seed . output(target) with respect to the varied
 * parameters, at a cost independent of how many there are.
 *
 *   1. forward: the sub-graph ending at `target` runs once for its values (tangents []), through the memo
 *      store, so every stage output is at hand (a stage's `vjp` recomputes or looks up whatever else its
 *      backward pass needs: see docs/reverse-mode.md);
 *   2. backward: the seed is the bar of the target's output; the stages are visited in reverse topological
 *      order, each stage's `vjp(ctx, outputBar)` returns the bars of its inputs (summed into the bars of
 *      the providing stages: an output read by several stages collects one term from each; a `many` input's
 *      bar is an array, one bar per source) and the bars of the parameters it reads (summed into the gradient).
 *
 * A stage without `vjp` (or a black box, differentiable: 'none') is differentiated in forward mode at its
 * boundary: the sub-graph ending at it runs with tangents for the varied parameters it depends on, and
 * bar . d(output)/d(theta) enters the gradient directly; nothing is propagated above it (its forward
 * tangents already hold every path through its ancestors). So reverse mode degrades gracefully, stage by
 * stage, never silently: `ReverseStats.forwardBoundary` lists such stages.
 */
import type { MemoStore } from '../cache/store.js';
import { MemoryStore } from '../cache/store.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { Bar, VjpContext } from '../plugin/types.js';
import { executePlan } from './execute.js';
import { dependsOn, mapInputs, variedParameters, type Plan, type PlannedStage } from './plan.js';
import { stageContext } from './stage-context.js';
import { dualLeaves, type NestedReport } from './differentiator.js';

export interface PullbackOptions {
  /** Parameter values overriding the plan's. */
  params?: Record<string, number>;
  /** Parameters to differentiate with respect to (default: the plan's varied parameters, in order). */
  wrt?: readonly string[];
  store?: MemoStore;
  /** Where its forward runs report their events (a pullback made by a stage: the parent run's subject). */
  report?: NestedReport;
}

export interface ReverseStats {
  /** Stages whose vjp ran, in the order they ran (reverse topological). */
  visited: string[];
  /** Stages differentiated in forward mode at their boundary (no vjp, or a black box). */
  forwardBoundary: string[];
  /** Seconds in the forward (values) run and in the backward sweep. */
  forwardSeconds: number;
  backwardSeconds: number;
}

export interface PullbackResult {
  /** d(seed . output)/d(theta) for each parameter of `wrt`, in order. */
  gradient: Float64Array;
  wrt: readonly string[];
  stats: ReverseStats;
}

const now = () => performance.now();

// ---------------------------------------------------------------------------------------------------------
// Bars: nested objects mirroring the differentiable leaves

const isPlainObject = (x: unknown): x is Record<string, unknown> =>
  !!x && typeof x === 'object' && !ArrayBuffer.isView(x) && !Array.isArray(x);

/**
 * A deep copy of a bar (arrays copied), so that accumulation never writes into a stage's own arrays. (slice():
 * a memory copy; Float64Array.from walks the array element by element, ~50x slower on a P(k, z) bar.)
 */
function copyBar(b: Bar): Bar {
  if (typeof b === 'number') return b;
  if (b instanceof Float64Array) return b.slice();
  if (Array.isArray(b)) return b.map(copyBar);
  const out: Record<string, Bar | undefined> = {};
  for (const [k, v] of Object.entries(b)) if (v !== undefined) out[k] = copyBar(v);
  return out;
}

/** A bar's containers (objects, lists) copied, its arrays shared. */
function shareBar(b: Bar): Bar {
  if (typeof b === 'number' || b instanceof Float64Array) return b;
  if (Array.isArray(b)) return b.map(shareBar);
  const out: Record<string, Bar | undefined> = {};
  for (const [k, v] of Object.entries(b)) if (v !== undefined) out[k] = shareBar(v);
  return out;
}

/**
 * target + src, reusing target's storage where it has any (target may be undefined). Accumulation never writes
 * into a stage's own arrays. Without `owned`, src's arrays are copied when they become a target. With `owned`
 * (the arrays this sweep allocated), they are taken as they are and copied only when a second term is added
 * to them (copy on write): an output read by one stage — most of them — passes its reader's bar on without
 * any copy (a P(k, z) bar is half a megabyte; large copies are page faults, not just bandwidth).
 */
export function addBars(target: Bar | undefined, src: Bar | undefined, where = 'bar', owned?: WeakSet<Float64Array>): Bar | undefined {
  if (src === undefined) return target;
  if (target === undefined) return owned ? shareBar(src) : copyBar(src);
  if (typeof target === 'number' && typeof src === 'number') return target + src;
  if (target instanceof Float64Array && src instanceof Float64Array) {
    if (target.length !== src.length) throw new Error(`reverse mode: ${where} has ${src.length} entries, expected ${target.length}`);
    if (owned && !owned.has(target)) owned.add((target = target.slice()));
    for (let i = 0; i < src.length; i++) target[i] += src[i];
    return target;
  }
  if (Array.isArray(target) && Array.isArray(src)) {
    for (let i = 0; i < src.length; i++) target[i] = addBars(target[i], src[i], `${where}[${i}]`, owned)!;
    return target;
  }
  if (isPlainObject(target) && isPlainObject(src)) {
    const t = target as Record<string, Bar | undefined>;
    for (const [k, v] of Object.entries(src as Record<string, Bar | undefined>)) t[k] = addBars(t[k], v, `${where}.${k}`, owned);
    return t;
  }
  throw new Error(`reverse mode: ${where} mixes bar kinds (${describe(target)} + ${describe(src)})`);
}

const describe = (b: unknown) => (typeof b === 'number' ? 'number' : b instanceof Float64Array ? 'array' : Array.isArray(b) ? 'list' : 'object');

/** True when a bar has no non-zero entry (nothing to propagate). */
export function isZeroBar(b: Bar | undefined): boolean {
  if (b === undefined) return true;
  if (typeof b === 'number') return b === 0;
  if (b instanceof Float64Array) {
    for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
    return true;
  }
  if (Array.isArray(b)) return b.every(isZeroBar);
  return Object.values(b).every(isZeroBar);
}

/** The sub-bar at a leaf path (`a.b.0.c`), or undefined. */
function barAt(b: Bar | undefined, path: string): Bar | undefined {
  if (path === '') return b;
  let cur: unknown = b;
  for (const k of path.split('.')) {
    if (cur === undefined || cur === null || typeof cur !== 'object' || ArrayBuffer.isView(cur)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur as Bar | undefined;
}

/**
 * sum over the differentiable leaves of bar . tangent: out[j] += sum_i bar_i d leaf_i / d theta_j for an
 * output carrying forward tangents in the directions `dirs` (indices into out).
 */
export function contractWithTangents(output: unknown, bar: Bar, dirs: readonly number[], out: Float64Array): void {
  for (const { path, leaf } of dualLeaves(output)) {
    const b = barAt(bar, path);
    if (b === undefined) continue;
    if ('value' in leaf) {
      const a = leaf;
      if (!a.tangent) continue;
      if (!(b instanceof Float64Array) || b.length !== a.value.length)
        throw new Error(`reverse mode: the bar of ${path || 'the output'} must be an array of ${a.value.length} numbers`);
      const n = a.value.length;
      dirs.forEach((j, p) => {
        let s = 0;
        for (let i = 0, o = p * n; i < n; i++) s += b[i] * a.tangent![o + i];
        out[j] += s;
      });
    } else {
      const d = (leaf).d;
      if (!d) continue;
      if (typeof b !== 'number') throw new Error(`reverse mode: the bar of ${path} must be a number`);
      dirs.forEach((j, p) => { out[j] += b * d[p]; });
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The backward sweep

/** The context a stage's vjp sees: that of its forward run (values only, parameters as constants), plus its output. */
export function vjpContext(plan: Plan, registry: PluginRegistry, st: PlannedStage, inputs: Record<string, unknown>, output: unknown, params: Record<string, number>): VjpContext<any, any, any> {
  return { ...stageContext(plan, registry, st, inputs, params), output };
}

/**
 * The gradient of seed . output(target) with respect to `wrt` (default: the varied parameters): one forward
 * run for the values (memoized) and one backward sweep through the stages' vector-Jacobian products.
 */
export async function pullback(plan: Plan, registry: PluginRegistry, target: string, seed: Bar, opts: PullbackOptions = {}): Promise<PullbackResult> {
  const store = opts.store ?? new MemoryStore();
  const wrt = opts.wrt ?? variedParameters(plan);
  const index = new Map(wrt.map((n, i) => [n, i]));
  const t0 = now();
  const fwd = await executePlan(plan, registry, { ...opts.report, params: opts.params, tangents: [], store, targets: [target] });
  const params = fwd.params;
  const t1 = now();
  const order = plan.order.filter((n) => fwd.outputs.has(n));
  // a bar is propagated only into stages through which it can reach a parameter of `wrt` (the stage or one of its
  // ancestors reads one): e.g. the n(z) stage when no photo-z shift is varied is never visited
  const wrtSet = new Set(wrt);
  const reaches = new Map(order.map((n) => [n, [...dependsOn(plan, n)].some((p) => wrtSet.has(p))]));
  const bars = new Map<string, Bar | undefined>(reaches.get(target) ? [[target, seed]] : []);
  // bars are passed from a vjp's result to its providers' vjps without copies (a vjp reads its outputBar, never
  // writes it, and keeps no reference to the bars it returns: docs/reverse-mode.md); sums go into copies
  const owned = new WeakSet<Float64Array>();
  const gradient = new Float64Array(wrt.length);
  const stats: ReverseStats = { visited: [], forwardBoundary: [], forwardSeconds: (t1 - t0) / 1000, backwardSeconds: 0 };

  for (let s = order.length - 1; s >= 0; s--) {
    const name = order[s];
    const bar = bars.get(name);
    bars.delete(name); // an output's bar is complete once every reader (all later in the order) has run
    if (isZeroBar(bar)) continue;
    const st = plan.stages.get(name)!;
    const output = fwd.outputs.get(name);
    if (st.plugin.vjp && st.plugin.differentiable !== 'none') {
      const inputs = mapInputs(st, (src) => fwd.outputs.get(src));
      const needs = (input: string) => { const w = st.inputs[input]; return w !== undefined && (typeof w === 'string' ? !!reaches.get(w) : w.some((src) => reaches.get(src))); };
      const res = await st.plugin.vjp({ ...vjpContext(plan, registry, st, inputs, output, params), needs }, bar!);
      stats.visited.push(name);
      for (const [input, b] of Object.entries(res.inputs ?? {})) {
        const wired = st.inputs[input];
        if (wired === undefined) {
          if (b === undefined || isZeroBar(b as Bar)) continue; // an optional input that is not wired
          throw new Error(`stage "${name}" (${st.plugin.id}): vjp returned a bar for "${input}", which is not one of its wired inputs (${Object.keys(st.inputs).join(', ') || 'none'})`);
        }
        if (typeof wired === 'string') {
          if (reaches.get(wired)) bars.set(wired, addBars(bars.get(wired), b as Bar | undefined, `bar of stage "${wired}"`, owned));
          continue;
        }
        // a `many` input: one bar per source, each added to its source's bar
        if (b === undefined) continue;
        if (!Array.isArray(b) || b.length !== wired.length)
          throw new Error(`stage "${name}" (${st.plugin.id}): the bar of its input "${input}" (from ${wired.length} stages: ${wired.join(', ')}) must be an array of ${wired.length} bars, one per stage`);
        wired.forEach((src, i) => { if (reaches.get(src)) bars.set(src, addBars(bars.get(src), b[i], `bar of stage "${src}"`, owned)); });
      }
      for (const [p, v] of Object.entries(res.params ?? {})) {
        if (!(p in st.reads)) throw new Error(`stage "${name}" (${st.plugin.id}): vjp returned a bar for parameter "${p}", which it does not read`);
        const j = index.get(p);
        if (j !== undefined) gradient[j] += v;
      }
    } else {
      // forward mode at the boundary: tangents of this stage for the parameters it depends on
      const above = dependsOn(plan, name);
      const deps = wrt.filter((p) => above.has(p));
      stats.forwardBoundary.push(name);
      if (!deps.length) continue;
      const out = (await executePlan(plan, registry, { ...opts.report, params, tangents: deps, store, targets: [name] })).outputs.get(name);
      contractWithTangents(out, bar!, deps.map((p) => index.get(p)!), gradient);
    }
  }
  stats.backwardSeconds = (now() - t1) / 1000;
  return { gradient, wrt, stats };
}

// ---------------------------------------------------------------------------------------------------------
// The handle a reverse-mode differentiator attaches to a consumer's input

/** What a stage consuming derivatives gets in reverse mode, attached to its input (see reverseHandleOf). */
export interface ReverseHandle {
  /** The varied parameters, in the order of every gradient returned. */
  readonly wrt: readonly string[];
  /** d(bar . input)/d(theta): one backward sweep (the forward values are memoized). */
  gradient(bar: Bar): Promise<PullbackResult>;
  /** The input carrying forward-mode tangents for `wrt` (Jacobian-vector products, e.g. for a Hessian). */
  tangents(): Promise<unknown>;
}

const HANDLE = Symbol.for('cosmodag.reverse-handle');

/** A shallow copy of `x` carrying the handle (non-enumerable: not part of the data, never cached). */
export function withReverseHandle<T extends object>(x: T, handle: ReverseHandle): T {
  const copy = Array.isArray(x) ? ([...x] as unknown as T) : ({ ...x });
  Object.defineProperty(copy, HANDLE, { value: handle, enumerable: false });
  return copy;
}

/** The reverse-mode handle attached to a stage input, if the bound differentiator is reverse mode. */
export function reverseHandleOf(x: unknown): ReverseHandle | undefined {
  return x && typeof x === 'object' ? ((x as Record<symbol, unknown>)[HANDLE] as ReverseHandle | undefined) : undefined;
}
