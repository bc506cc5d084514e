/**
 * Running a sampler for the tests, and the statistics of the checks: estimates with their Monte Carlo standard
 * error from the ESS, z-scores, Bonferroni thresholds and chi-square quantiles.
 */
import { essMean, mean, pool, sd } from '../../core/sampling/diagnostics.js';
import { normalQuantile } from '../../core/sampling/normal-quantile.js';
import { chainSeeds } from '../../core/sampling/rng.js';
import type { Draw, SamplerMethod, SamplingTarget } from '../../plugins/contracts/sampler.js';

export interface Run {
  /** Per chain, per post-warm-up iteration, the draws of that iteration (one, or one per walker). */
  steps: Draw[][][];
  /** Per chain, every draw's stats (warm-up included), one entry per draw. */
  warmupStats: Record<string, number>[][];
  evaluations: number[];
}

export interface RunOptions {
  chains: number;
  warmup: number;
  samples: number;
  seed: number;
  start: Float64Array;
  covariance?: Float64Array;
}

export async function runSampler(method: SamplerMethod, target: SamplingTarget, o: RunOptions): Promise<Run> {
  const seeds = chainSeeds(o.seed, o.chains);
  const run: Run = { steps: [], warmupStats: [], evaluations: [] };
  for (let c = 0; c < o.chains; c++) {
    const settings = { warmup: o.warmup, seed: seeds[c], start: o.start, covariance: o.covariance };
    const state = await method.init(target, settings);
    const steps: Draw[][] = [];
    const warm: Record<string, number>[] = [];
    for (let it = 0; it < o.warmup + o.samples; it++) {
      const draws = await method.step(target, state, settings);
      if (draws[0].warmup) for (const d of draws) warm.push(d.stats);
      else steps.push(draws);
    }
    run.steps.push(steps);
    run.warmupStats.push(warm);
    run.evaluations.push(method.evaluations(state));
  }
  return run;
}

/** Per chain, the series of f over iterations (averaged over an iteration's walkers). */
export function seriesOf(run: Run, f: (x: Float64Array) => number): Float64Array[] {
  return run.steps.map((steps) => {
    const out = new Float64Array(steps.length);
    for (let t = 0; t < steps.length; t++) {
      let s = 0;
      for (const d of steps[t]) s += f(d.x);
      out[t] = s / steps[t].length;
    }
    return out;
  });
}

/** The mean of a functional, its Monte Carlo standard error sd / sqrt(ESS) and the ESS (split chains). */
export function estimate(series: Float64Array[]): { mean: number; mcse: number; ess: number } {
  const all = pool(series);
  const ess = essMean(series);
  return { mean: mean(all), mcse: sd(all) / Math.sqrt(ess), ess };
}

/** z = (estimate - truth) / mcse of the functional f. */
export function zScore(run: Run, f: (x: Float64Array) => number, truth: number): { z: number; ess: number; mean: number } {
  const e = estimate(seriesOf(run, f));
  return { z: (e.mean - truth) / e.mcse, ess: e.ess, mean: e.mean };
}

/** The two-sided threshold for the largest of n |z| at family-wise false-alarm rate alpha (Bonferroni). */
export const zThreshold = (n: number, alpha = 1e-3) => normalQuantile(1 - alpha / (2 * n));

/** Quantile of chi^2 with k degrees of freedom (Wilson & Hilferty 1931; relative error < 1e-3 for k >= 10). */
export function chi2Quantile(k: number, p: number): number {
  const z = normalQuantile(p);
  const a = 2 / (9 * k);
  return k * (1 - a + z * Math.sqrt(a)) ** 3;
}

/** Stats of the post-warm-up draws of all chains, as one array per stat name. */
export function postStats(run: Run, name: string): number[] {
  return run.steps.flatMap((steps) => steps.flatMap((ds) => ds.map((d) => d.stats[name])));
}

/**
 * z-scores of the estimated marginal CDFs P(x_i <= t) at the exact quantiles t of the probabilities `probs`,
 * for each listed coordinate group (a group's coordinates share one marginal and are averaged).
 */
export function marginalCdfZs(run: Run, groups: { coords: number[]; cdf: (t: number) => number }[], probs: readonly number[], invert: (cdf: (t: number) => number, p: number) => number): { z: number; ess: number; coord: number; p: number }[] {
  const out: { z: number; ess: number; coord: number; p: number }[] = [];
  for (const g of groups)
    for (const p of probs) {
      const t = invert(g.cdf, p);
      const r = zScore(run, (x) => {
        let s = 0;
        for (const i of g.coords) s += x[i] <= t ? 1 : 0;
        return s / g.coords.length;
      }, p);
      out.push({ z: r.z, ess: r.ess, coord: g.coords[0], p });
    }
  return out;
}

/** The answers of the correlated-Gaussian check, in the target's whitened coordinates w (iid N(0, 1) exactly). */
export interface GaussianCheck {
  /** sum_k (mean w_k / mcse_k)^2: chi^2 with dim degrees of freedom when the means are right. */
  chi2Mean: number;
  /** (mean w_k^2 - 1) / mcse: the variance along each eigen-direction of the covariance. */
  varianceZ: number[];
  /** mean(w_i w_j) / mcse for the pairs (2m, 2m+1) and (0, dim-1): the covariances between directions. */
  crossZ: number[];
  essMeanMin: number;
  essVarianceMin: number;
}

/**
 * Means and covariance against the truth with Monte Carlo errors from the ESS of each functional.
 * `whiten(x, out)` maps a draw to the whitened coordinates.
 */
export function gaussianCheck(run: Run, dim: number, whiten: (x: Float64Array, out: Float64Array) => void): GaussianCheck {
  // whiten every draw once (chains x iterations x dim); one draw per iteration here (not for the ensemble)
  const W = run.steps.map((steps) => {
    const out = new Float64Array(steps.length * dim);
    for (let t = 0; t < steps.length; t++) whiten(steps[t][0].x, out.subarray(t * dim, (t + 1) * dim));
    return out;
  });
  const T = run.steps[0].length;
  const series = (f: (w: Float64Array, t: number) => number) => W.map((ch) => Float64Array.from({ length: T }, (_, t) => f(ch, t)));
  let chi2Mean = 0, essMeanMin = Infinity, essVarianceMin = Infinity;
  const varianceZ: number[] = [], crossZ: number[] = [];
  for (let k = 0; k < dim; k++) {
    const m = estimate(series((w, t) => w[t * dim + k]));
    chi2Mean += (m.mean / m.mcse) ** 2;
    essMeanMin = Math.min(essMeanMin, m.ess);
    const v = estimate(series((w, t) => w[t * dim + k] ** 2));
    varianceZ.push((v.mean - 1) / v.mcse);
    essVarianceMin = Math.min(essVarianceMin, v.ess);
  }
  const pairs: [number, number][] = [];
  for (let i = 0; i + 1 < dim; i += 2) pairs.push([i, i + 1]);
  pairs.push([0, dim - 1]);
  for (const [i, j] of pairs) {
    const c = estimate(series((w, t) => w[t * dim + i] * w[t * dim + j]));
    crossZ.push(c.mean / c.mcse);
  }
  return { chi2Mean, varianceZ, crossZ, essMeanMin, essVarianceMin };
}

export const maxAbs = (z: number[]) => Math.max(...z.map(Math.abs));

/** With SAMPLING_FIGURES=1 in the environment, print a test's measured figures (z-scores, ESS, counts). */
export function figures(name: string, values: Record<string, unknown>): void {
  if (process.env.SAMPLING_FIGURES) console.log(`[figures] ${name}: ${JSON.stringify(values, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toPrecision(4)) : v))}`);
}
