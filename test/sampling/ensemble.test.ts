/**
 * sampler/ensemble against known answers (fixed seeds, family-wise false-alarm rate 1e-3).
 *
 * The 50-dimensional Gaussian is a stationarity test: the walkers start as exact independent draws from the
 * target (ballScale 1 around the mean with the true covariance), and a move that leaves the product target
 * invariant keeps them so at every later step. After 300 steps, the 6 x 102 walkers of six independent ensembles
 * are then 612 iid draws, whose means and covariance have exact Monte Carlo errors. (The stretch move's
 * autocorrelation time in 50 dimensions is ~1000 steps, too long for an ESS-based test in seconds.) The banana
 * and the funnel start from a small ball; their errors come from the ESS of the walker-averaged series of
 * four independent ensembles.
 */
import { describe, expect, it } from 'vitest';
import { createEnsemble, type EnsembleState } from '../../plugins/sampler/ensemble.js';
import { banana, correlatedGaussian, funnel, invert, targetOf } from './targets.js';
import { chi2Quantile, figures, marginalCdfZs, maxAbs, postStats, runSampler, zScore, zThreshold } from './sampler-checks.js';

const PROBS = [0.05, 0.25, 0.5, 0.75, 0.95];

describe('sampler/ensemble', () => {
  it('50-dimensional Gaussian, condition number 1e4: the walkers stay exact draws (means and covariance of 612 iid walkers)', async () => {
    const G = correlatedGaussian(50, 1e4, 7);
    const ensembles = 6, steps = 300, d = 50;
    const run = await runSampler(createEnsemble({ ballScale: 1 }), G.target, { chains: ensembles, warmup: 0, samples: steps, seed: 4, start: G.mean, covariance: G.cov });
    const finalWalkers = run.steps.flatMap((s) => s[steps - 1]);
    const n = finalWalkers.length;
    expect(n).toBe(ensembles * (2 * d + 2));
    const W = finalWalkers.map((dr) => {
      const w = new Float64Array(d);
      G.whiten(dr.x, w);
      return w;
    });
    const avg = (f: (w: Float64Array) => number) => W.reduce((s, w) => s + f(w), 0) / n;
    let chi2 = 0;
    const z: number[] = [];
    for (let k = 0; k < d; k++) {
      chi2 += n * avg((w) => w[k]) ** 2; // n mean^2 ~ chi^2_1 for iid N(0, 1)
      z.push((avg((w) => w[k] * w[k]) - 1) / Math.sqrt(2 / n)); // var(w^2) = 2
    }
    for (let i = 0; i + 1 < d; i += 2) z.push(avg((w) => w[i] * w[i + 1]) / Math.sqrt(1 / n)); // var(w_i w_j) = 1
    const acceptance = postStats(run, 'accept').reduce((s, v) => s + v, 0) / (ensembles * steps * (2 * d + 2));
    figures('ensemble gaussian-50', { chi2Mean: chi2, maxZ: maxAbs(z), acceptance, evaluations: run.evaluations[0] });
    expect(chi2).toBeGreaterThan(chi2Quantile(50, 0.0005));
    expect(chi2).toBeLessThan(chi2Quantile(50, 0.9995));
    expect(maxAbs(z)).toBeLessThan(zThreshold(z.length));
    // the walkers did move (every one of them many times)
    expect(acceptance).toBeGreaterThan(0.05);
  });

  it('banana (b = 1) from a small ball: marginal CDFs against quadrature', async () => {
    const B = banana(1);
    const run = await runSampler(createEnsemble(), B.target, { chains: 4, warmup: 1000, samples: 5000, seed: 31, start: new Float64Array(2) });
    const z = marginalCdfZs(run, [{ coords: [0], cdf: B.cdf[0] }, { coords: [1], cdf: B.cdf[1] }], PROBS, invert);
    figures('ensemble banana', { z: z.map((r) => r.z), ess: z.map((r) => r.ess) });
    expect(maxAbs(z.map((r) => r.z))).toBeLessThan(zThreshold(z.length));
  });

  it("funnel (v ~ N(0, 1.5^2), 2 x's) from a small ball: marginal CDFs against quadrature", async () => {
    const F = funnel(2, 1.5);
    const run = await runSampler(createEnsemble(), F.target, { chains: 4, warmup: 1000, samples: 5000, seed: 52, start: new Float64Array(3) });
    const z = marginalCdfZs(run, [{ coords: [0], cdf: F.cdf[0] }, { coords: [1, 2], cdf: F.cdf[1] }], PROBS, invert);
    figures('ensemble funnel', { z: z.map((r) => r.z), ess: z.map((r) => r.ess) });
    expect(maxAbs(z.map((r) => r.z))).toBeLessThan(zThreshold(z.length));
  });

  it('walkers outside the support are redrawn at the start and proposals there rejected; one evaluation per walker and step', async () => {
    const halfPlane = targetOf(2, (x) => (x[0] < 0 ? -Infinity : -0.5 * (x[0] * x[0] + x[1] * x[1])), false);
    const ens = createEnsemble({ walkers: 8, ballScale: 1 });
    const settings = { warmup: 200, seed: 32, start: Float64Array.from([0.2, 0]) };
    const state = (await ens.init(halfPlane, settings)) as EnsembleState;
    const initCalls = halfPlane.calls;
    expect(initCalls).toBeGreaterThan(8); // some of the first draws fell at x0 < 0 and were redrawn
    const x0: number[] = [];
    for (let i = 0; i < 1200; i++) {
      const draws = await ens.step(halfPlane, state, settings);
      expect(draws.map((d) => d.walker)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      for (const d of draws) {
        expect(Number.isFinite(d.logDensity)).toBe(true);
        if (!d.warmup) x0.push(d.x[0]);
      }
    }
    expect(Math.min(...x0)).toBeGreaterThanOrEqual(0);
    expect(ens.evaluations(state)).toBe(initCalls + 1200 * 8);
    expect(state.gradientEvaluations).toBe(0);
    // |N(0, 1)|: E[x0] = sqrt(2/pi), from the walker-averaged series
    const steps = [];
    for (let t = 0; t < x0.length / 8; t++) steps.push(x0.slice(8 * t, 8 * t + 8).map((v) => ({ x: Float64Array.from([v, 0]), logDensity: 0, warmup: false, walker: 0, stats: {} })));
    expect(Math.abs(zScore({ steps: [steps], warmupStats: [], evaluations: [] }, (x) => x[0], Math.sqrt(2 / Math.PI)).z)).toBeLessThan(zThreshold(1));
  });

  it('errors: too few walkers, a start it cannot surround, NaN', async () => {
    const t = targetOf(3, (x) => -0.5 * (x[0] * x[0] + x[1] * x[1] + x[2] * x[2]), false);
    const settings = { warmup: 0, seed: 33, start: new Float64Array(3) };
    await expect(createEnsemble({ walkers: 3 }).init(t, settings)).rejects.toThrow(/with.walkers = 3 is too few for a 3-dimensional target.*at least dim \+ 1 = 4/);
    const needle = targetOf(3, (x) => (Math.abs(x[0]) < 1e-9 ? 0 : -Infinity), false);
    await expect(createEnsemble().init(needle, settings)).rejects.toThrow(/could not place walker 0 inside the support/);
    const nan = targetOf(3, (x) => (x[0] > 0.3 ? NaN : -0.5 * x[0] * x[0]), false);
    const ens = createEnsemble();
    const state = await ens.init(nan, settings);
    const go = async () => {
      for (let i = 0; i < 100; i++) await ens.step(nan, state, settings);
    };
    await expect(go()).rejects.toThrow(/sampler\/ensemble: the target returned NaN as log density at \{x0: /);
  });
});
