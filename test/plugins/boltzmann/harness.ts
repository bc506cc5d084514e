/**
 * Test harness for the recombination and Boltzmann stages: a minimal StageContext (config with schema
 * defaults filled by ajv, parameters as seeded duals, bound methods), the background, CLASS reference tables.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { seed } from '../../../core/ad/dual.js';
import type { Integrator } from '../../../core/numerics/integrator.js';
import type { ParameterSpec, StageContext, StagePlugin } from '../../../core/plugin/types.js';
import { validateWith } from '../../../core/schema/ajv.js';
import { gaussLegendre } from '../../../plugins/integrator/index.js';
import { W0WA_PARAMETERS, w0waBackground } from '../../../plugins/background/w0wa.js';
import type { Background } from '../../../plugins/contracts/background.js';

export const repoRoot = process.env.COSMODAG_REPO_ROOT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const classPath = (...parts: string[]) => path.resolve(repoRoot, '../shared/reference/class', ...parts);

/** A TSV table with one header line (lines starting with '#' skipped): column name -> values. */
export function readTable(file: string): Record<string, Float64Array> {
  const lines = readFileSync(file, 'utf8').trim().split('\n').filter((l) => !l.startsWith('#'));
  const head = lines[0].split('\t');
  const rows = lines.slice(1).map((l) => l.split('\t').map(Number));
  const out: Record<string, Float64Array> = {};
  head.forEach((h, j) => (out[h] = Float64Array.from(rows, (r) => r[j])));
  return out;
}

/** name -> value of a CLASS derived.tsv */
export function readDerived(file: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of readFileSync(file, 'utf8').trim().split('\n').slice(1)) {
    const [k, v] = l.split('\t');
    out[k] = Number(v);
  }
  return out;
}

export function configOf<C>(plugin: StagePlugin<C>, withBlock: Record<string, unknown> = {}): C {
  const cfg = JSON.parse(JSON.stringify(withBlock));
  const issues = validateWith(plugin.configSchema, cfg, 'with');
  if (issues.length) throw new Error(JSON.stringify(issues));
  return cfg as C;
}

export interface ContextOptions<I> {
  params?: Record<string, number>;
  vary?: string[];
  with?: Record<string, unknown>;
  inputs?: I;
  methods?: Record<string, unknown>;
  progress?: (done: number, total: number) => void;
}

/** A StageContext: parameters from the plugin's reads (defaults overridden by o.params), seeded if varied. */
export function fakeContext<C, I>(plugin: StagePlugin<C, I>, o: ContextOptions<I> = {}): StageContext<C, I> {
  const config = configOf(plugin, o.with);
  const reads: Record<string, ParameterSpec> = typeof plugin.reads === 'function' ? plugin.reads(config) : plugin.reads;
  const vary = o.vary ?? [];
  const integrator = gaussLegendre.create({}) as Integrator;
  return {
    stage: plugin.port,
    config,
    inputs: (o.inputs ?? {}) as I,
    tangentParams: vary,
    param(name) {
      if (!(name in reads)) throw new Error(`parameter ${name} is not in the reads of ${plugin.id}`);
      const v = o.params?.[name] ?? reads[name].default;
      return seed(v, vary.indexOf(name), vary.length);
    },
    method<T>(kind: string): T {
      if (kind === 'integrator') return integrator as T;
      const m = o.methods?.[kind];
      if (!m) throw new Error(`no method ${kind}`);
      return m as T;
    },
    progress(done, total) {
      o.progress?.(done, total);
    },
  };
}

/** background/w0wa at these parameters, tangents for `vary`. */
export function runBackground(params: Record<string, number> = {}, vary: string[] = []): Background {
  const p: Record<string, number> = {};
  for (const k of Object.keys(W0WA_PARAMETERS)) if (k in params) p[k] = params[k];
  return w0waBackground.run(
    fakeContext(w0waBackground, { params: p, vary, with: { z_max: 5, output_z: { min: 0, max: 5, count: 6 } } }),
  ) as Background;
}

/** The CLASS `fid` and `w0wa` cosmologies (reference/class/README.md). */
export const FID = {
  h: 0.67, Omega_m: 0.32, Omega_b: 0.05, Omega_k: 0, w0: -1, wa: 0, T_cmb: 2.7255, N_eff: 3.046, n_s: 0.96, sigma8: 0.816,
  tau_reio: 0.0544,
};
export const W0WA = { ...FID, w0: -0.9, wa: 0.2 };

/** max |a/b - 1| over the indices, with where. */
export function maxRel(a: ArrayLike<number>, b: ArrayLike<number>, idx?: number[]): { max: number; at: number } {
  let max = 0, at = -1;
  const ids = idx ?? Array.from({ length: b.length }, (_, i) => i);
  for (const i of ids) {
    const e = Math.abs(a[i] / b[i] - 1);
    if (!(e <= max)) {
      max = e;
      at = i;
    }
  }
  return { max, at };
}
