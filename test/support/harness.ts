/**
 * Shared test harness for stage plugins: a minimal StageContext (config with schema defaults filled by ajv,
 * parameters from the plugin's reads as seeded duals, bound methods), a background from background/w0wa,
 * reference-table readers, and the CCL / CLASS fiducial cosmologies.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { seed } from '../../core/ad/dual.js';
import type { ParameterSpec, StageContext, StagePlugin } from '../../core/plugin/types.js';
import { validateWith } from '../../core/schema/ajv.js';
import { gaussLegendre } from '../../plugins/integrator/index.js';
import { W0WA_PARAMETERS, w0waBackground } from '../../plugins/background/w0wa.js';
import type { Background } from '../../plugins/contracts/background.js';

export const repoRoot = process.env.COSMODAG_REPO_ROOT ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const referencePath = (...parts: string[]) => path.resolve(repoRoot, '../shared/reference', ...parts);

/** A TSV table with one header line (lines starting with '#' skipped): column name -> values. */
export function readTable(file: string): Record<string, Float64Array> {
  const lines = readFileSync(file, 'utf8').trim().split('\n').filter((l) => !l.startsWith('#'));
  const head = lines[0].split('\t');
  const rows = lines.slice(1).map((l) => l.split('\t').map(Number));
  const out: Record<string, Float64Array> = {};
  head.forEach((h, j) => (out[h] = Float64Array.from(rows, (r) => r[j])));
  return out;
}

/** The config after schema validation (defaults filled in); throws on a schema error. */
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
  /** Bound methods other than the integrator (gauss-legendre with defaults). */
  methods?: Record<string, unknown>;
  progress?: (done: number, total: number) => void;
}

/** A StageContext for plugin: parameters from its reads (defaults overridden by o.params), seeded if varied. */
export function fakeContext<C, I>(plugin: StagePlugin<C, I>, o: ContextOptions<I> = {}): StageContext<C, I> {
  const config = configOf(plugin, o.with);
  const reads: Record<string, ParameterSpec> = typeof plugin.reads === 'function' ? plugin.reads(config) : plugin.reads;
  const vary = o.vary ?? [];
  const integrator = gaussLegendre.create({});
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

/** background/w0wa at these parameters (its defaults otherwise), tangents for `vary`. */
export function runBackground(params: Record<string, number> = {}, vary: string[] = [], withBlock: Record<string, unknown> = { z_max: 5, output_z: { min: 0, max: 5, count: 6 } }): Background {
  const p: Record<string, number> = {};
  for (const k of Object.keys(W0WA_PARAMETERS)) if (k in params) p[k] = params[k];
  return w0waBackground.run(fakeContext(w0waBackground, { params: p, vary, with: withBlock })) as Background;
}

/** The fiducial cosmology of the CCL and CLASS `fid` references, and CLASS's `w0wa`. */
export const FID = { h: 0.67, Omega_m: 0.32, Omega_b: 0.05, Omega_k: 0, w0: -1, wa: 0, T_cmb: 2.7255, N_eff: 3.046, n_s: 0.96, sigma8: 0.816 };
export const W0WA = { ...FID, w0: -0.9, wa: 0.2 };

/** max |a/b - 1| over i in idx (all when idx is absent), with the index where it occurs. */
export function maxRel(a: ArrayLike<number>, b: ArrayLike<number>, idx?: number[]): { max: number; at: number } {
  let max = 0, atI = -1;
  const ids = idx ?? Array.from({ length: b.length }, (_, i) => i);
  for (const i of ids) {
    const e = Math.abs(a[i] / b[i] - 1);
    if (!(e <= max)) {
      max = e;
      atI = i;
    }
  }
  return { max, at: atI };
}
