/**
 * Shared pieces of the reverse-mode tests: the main job's likelihood pipeline with 7, 20 or 40 varied
 * parameters, a data vector written at the fiducial, and the dot-product test of one stage's vjp against
 * forward-mode AD through the same stage.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { preparePipeline } from '../../../core/cli/run-job.js';
import { executePlan } from '../../../core/graph/execute.js';
import { mapInputs, sourcesOf, variedParameters, type Plan } from '../../../core/graph/plan.js';
import { vjpContext } from '../../../core/graph/reverse.js';
import { dualLeaves } from '../../../core/graph/differentiator.js';
import type { MemoStore } from '../../../core/cache/store.js';
import type { PluginRegistry } from '../../../core/plugin/registry.js';
import type { Bar } from '../../../core/plugin/types.js';
import type { Spectra } from '../../../plugins/contracts/spectra.js';
import { writeSpectra } from '../../../plugins/spectra/write-spectra.js';

const here = path.dirname(new URL(import.meta.url).pathname);
/** The repository root (also when running compiled from dist/, as the benchmarks do). */
export const root = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../../..' : '../../..');
export const likelihoodPipeline = path.join(root, 'pipelines/euclid-3x2pt-likelihood.json');

export const COSMOLOGY = ['Omega_m', 'Omega_b', 'w0', 'wa', 'h', 'n_s', 'sigma8'];
const BINS = Array.from({ length: 10 }, (_, i) => i + 1);

/**
 * --set edits varying `count` parameters: 7 (cosmology), 20 (+ A_IA, eta_IA, b_1..b_10, Omega_k) or 40
 * (+ shear biases m_1..m_10 and photo-z shifts dz_1..dz_10). Everything else is held fixed.
 */
export function variedSets(count: 7 | 19 | 20 | 40): string[] {
  const vary = (n: string, v?: number) => `parameters.${n}=${JSON.stringify(v === undefined ? { vary: true } : { value: v, vary: true })}`;
  const fix = (n: string) => `parameters.${n}.vary=false`;
  const nuisance = ['A_IA', 'eta_IA', ...BINS.map((i) => `b_${i}`)];
  const out: string[] = [];
  if (count === 7) out.push(...nuisance.map(fix));
  if (count >= 20) out.push(vary('Omega_k', 0));
  if (count === 40) out.push(...BINS.map((i) => vary(`m_${i}`, 0)), ...BINS.map((i) => vary(`dz_${i}`, 0)));
  return out;
}

/** A parameter point near the fiducial (every varied parameter moved slightly), as --param edits. */
export const SHIFTED = ['Omega_m=0.3215', 'Omega_b=0.0497', 'w0=-0.985', 'wa=0.02', 'h=0.673', 'n_s=0.962', 'sigma8=0.812', 'A_IA=1.75', 'eta_IA=-0.4', 'b_3=1.28'];
/** Nuisance shifts for the 40-parameter case (as --set edits: they are not in the pipeline file). */
export const SHIFTED_NUISANCE = ['parameters.Omega_k.value=0.002', 'parameters.m_2.value=0.003', 'parameters.dz_4.value=0.002', 'parameters.dz_9.value=-0.003'];

export const noPlot = ['stages.cl.with.plot=false'];

/** Write the spectra of the fiducial model (cl.tsv + cl.json) into a temporary directory; returns the cl.tsv path. */
export async function fiducialData(): Promise<string> {
  const { plan, registry } = await preparePipeline(likelihoodPipeline, [], noPlot);
  const r = await executePlan(plan, registry, { targets: ['cl'] });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-reverse-'));
  const files = await writeSpectra(r.outputs.get('cl') as Spectra, 'cl.tsv', { plot: false });
  for (const [f, d] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), d);
  return path.join(dir, 'cl.tsv');
}

/** A deterministic pseudo-random stream in [-1, 1) (so that a failing test reproduces). */
export function randomStream(seed = 12345): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

/** A bar for every differentiable leaf of an output: random signs over the values' own scale (r_i / |v_i|). */
export function randomBar(output: unknown, rnd: () => number): Bar {
  const bar: Record<string, Bar> = {};
  for (const { path: p, leaf } of dualLeaves(output)) {
    if (p === '') throw new Error('randomBar: the output is itself a leaf');
    let b: Bar;
    if ('value' in leaf) {
      const v = leaf.value;
      let mx = 0;
      for (const x of v) mx = Math.max(mx, Math.abs(x));
      b = Float64Array.from(v, (x) => (Math.abs(x) > 1e-12 * mx ? rnd() / Math.abs(x) : 0));
    } else {
      const v = leaf.v;
      b = v !== 0 ? rnd() / Math.abs(v) : rnd();
    }
    // nested paths (a.b) are set as nested objects
    const keys = p.split('.');
    let cur: Record<string, Bar> = bar;
    for (const k of keys.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, Bar>;
    cur[keys[keys.length - 1]] = b;
  }
  return bar;
}

/** sum over leaves of bar . d(leaf)/d theta_a, for each tangent direction a (independent of core/graph/reverse.ts). */
export function barDotTangents(output: unknown, bar: Bar | undefined, P: number): Float64Array {
  const out = new Float64Array(P);
  if (bar === undefined) return out;
  for (const { path: p, leaf } of dualLeaves(output)) {
    let b: unknown = bar;
    for (const k of p.split('.')) b = b === undefined ? undefined : (b as Record<string, unknown>)[k];
    if (b === undefined) continue;
    if ('value' in leaf) {
      const a = leaf;
      if (!a.tangent) continue;
      const n = a.value.length, bb = b as Float64Array;
      for (let j = 0; j < P; j++) {
        let s = 0;
        for (let i = 0; i < n; i++) s += bb[i] * a.tangent[j * n + i];
        out[j] += s;
      }
    } else {
      const d = leaf.d;
      if (d) for (let j = 0; j < P; j++) out[j] += (b as number) * d[j];
    }
  }
  return out;
}

/**
 * Dot-product test of one stage's vjp: for a random output bar ybar,
 *   ybar . dy/dtheta_a (forward AD through the stage)  =  sum_inputs xbar . dx/dtheta_a + pbar_a  (vjp),
 * where dx/dtheta are the forward tangents of the stage's inputs. Returns both sides per varied parameter.
 */
export async function vjpDotTest(plan: Plan, registry: PluginRegistry, stage: string, store: MemoStore, seed = 7) {
  const varied = variedParameters(plan);
  const P = varied.length;
  const st = plan.stages.get(stage)!;
  if (!st.plugin.vjp) throw new Error(`${st.plugin.id} has no vjp`);
  const fwd = await executePlan(plan, registry, { tangents: varied, targets: [stage], store });
  const val = await executePlan(plan, registry, { tangents: [], targets: [stage], store });
  const output = val.outputs.get(stage);
  const bar = randomBar(output, randomStream(seed));
  const lhs = barDotTangents(fwd.outputs.get(stage), bar, P);
  const inputs = mapInputs(st, (src) => val.outputs.get(src));
  const res = await st.plugin.vjp(vjpContext(plan, registry, st, inputs, output, val.params), bar);
  const rhs = new Float64Array(P);
  for (const [input, b] of Object.entries(res.inputs ?? {})) {
    const wired = st.inputs[input];
    if (wired === undefined) continue;
    // a `many` input's bar is an array, one bar per source
    sourcesOf(wired).forEach((src, i) => {
      const t = barDotTangents(fwd.outputs.get(src), typeof wired === 'string' ? (b as Bar | undefined) : (b as (Bar | undefined)[] | undefined)?.[i], P);
      for (let j = 0; j < P; j++) rhs[j] += t[j];
    });
  }
  for (const [p, v] of Object.entries(res.params ?? {})) {
    const j = varied.indexOf(p);
    if (j >= 0) rhs[j] += v;
  }
  // relative difference per parameter, against the larger side (a parameter the stage ignores gives 0 = 0)
  const rel = Array.from(lhs, (l, j) => {
    const s = Math.max(Math.abs(l), Math.abs(rhs[j]));
    return s === 0 ? 0 : Math.abs(l - rhs[j]) / s;
  });
  return { varied, lhs, rhs, rel, worst: Math.max(...rel) };
}

export { preparePipeline };
