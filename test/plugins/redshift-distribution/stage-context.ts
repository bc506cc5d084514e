/**
 * Test helpers: a minimal StageContext (parameters as seeded duals, defaults from the plugin's `reads`),
 * central finite differences of a stage output, and paths of the shared reference data.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { seed } from '../../../core/ad/dual.js';
import type { ParameterSpec, StageContext, StagePlugin } from '../../../core/plugin/types.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const referencePath = (...parts: string[]) => path.resolve(repoRoot, '../shared/reference', ...parts);

export interface ContextOptions<I> {
  params?: Record<string, number>;
  vary?: string[];
  inputs?: I;
  methods?: Record<string, unknown>;
}

export function readsOf<C>(plugin: StagePlugin<C>, config: C): Record<string, ParameterSpec> {
  return typeof plugin.reads === 'function' ? plugin.reads(config) : plugin.reads;
}

/**
 * A StageContext for `plugin` with `config` (already complete), parameters from `reads` defaults + overrides;
 * `vary` lists the tangent directions of the whole chain (a stage may read only some of them).
 */
export function stageContext<C, I>(plugin: StagePlugin<C, I>, config: C, o: ContextOptions<I> = {}): StageContext<C, I> {
  const reads = readsOf(plugin as StagePlugin<C>, config);
  const values: Record<string, number> = {};
  for (const [k, s] of Object.entries(reads)) values[k] = s.default;
  // parameters of other stages may be passed too (one dictionary for a whole chain): only `reads` are kept
  for (const [k, v] of Object.entries(o.params ?? {})) if (k in reads) values[k] = v;
  const vary = o.vary ?? [];
  return {
    stage: plugin.port,
    config,
    inputs: (o.inputs ?? {}) as I,
    tangentParams: vary,
    param(name) {
      if (!(name in values)) throw new Error(`parameter ${name} is not in the reads of ${plugin.id}`);
      return seed(values[name], vary.indexOf(name), vary.length);
    },
    method<T>(kind: string): T {
      const m = o.methods?.[kind];
      if (!m) throw new Error(`no method ${kind}`);
      return m as T;
    },
    progress() {},
  };
}

/** max_i |a_i - b_i| / max_i |b_i| */
export function maxNormRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m > 0 ? d / m : d;
}

/** Tangent block p of a DualArray-like {value, tangent} (zeros when constant). */
export function tangentBlockOf(x: { value: Float64Array; tangent: Float64Array | null }, p: number): Float64Array {
  const n = x.value.length;
  return x.tangent ? x.tangent.slice(p * n, (p + 1) * n) : new Float64Array(n);
}

/**
 * Central difference of f at theta with step h, Richardson-extrapolated over h and h/2 (error O(h^4)):
 * D = [4 D(h/2) - D(h)] / 3.
 */
export function richardsonFD(f: (theta: number) => Float64Array, theta: number, h: number): Float64Array {
  const d = (s: number) => {
    const a = f(theta + s), b = f(theta - s);
    return a.map((v, i) => (v - b[i]) / (2 * s));
  };
  const d1 = d(h), d2 = d(h / 2);
  return d2.map((v, i) => (4 * v - d1[i]) / 3);
}
