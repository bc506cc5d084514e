/**
 * sampler/metropolis against known answers (fixed seeds; tolerances are Monte Carlo errors from the ESS at a
 * family-wise false-alarm rate of 1e-3): a 50-dimensional Gaussian of condition number 1e4 with a perturbed
 * covariance as proposal, a banana and a funnel started without a covariance; the support and the counters.
 */
import { describe, expect, it } from 'vitest';
import { Rng, rngState } from '../../core/sampling/rng.js';
import { createMetropolis, type MetropolisState } from '../../plugins/sampler/metropolis.js';
import { banana, correlatedGaussian, funnel, invert, targetOf } from './targets.js';
import { chi2Quantile, figures, gaussianCheck, marginalCdfZs, maxAbs, postStats, runSampler, zScore, zThreshold } from './sampler-checks.js';

const PROBS = [0.05, 0.25, 0.5, 0.75, 0.95];
const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;

describe('sampler/metropolis', () => {
  it('50-dimensional Gaussian, condition number 1e4, proposal from a perturbed covariance: means and covariance within Monte Carlo error', async () => {
    const G = correlatedGaussian(50, 1e4, 7);
    // the covariance with its eigenvalues scaled by factors in [0.7, 1.4] (a Fisher matrix is never exact)
    const r = new Rng(rngState(99));
    const cov = new Float64Array(2500);
    for (let k = 0; k < 50; k++) {
      const lk = G.lambda[k] * Math.exp(0.35 * (2 * r.uniform() - 1));
      for (let a = 0; a < 50; a++) for (let b = 0; b < 50; b++) cov[a * 50 + b] += G.Q[a * 50 + k] * lk * G.Q[b * 50 + k];
    }
    const run = await runSampler(createMetropolis(), G.target, { chains: 4, warmup: 2000, samples: 12_000, seed: 3, start: G.mean, covariance: cov });
    const c = gaussianCheck(run, 50, G.whiten);
    const acceptance = mean(postStats(run, 'accept'));
    figures('metropolis gaussian-50', { chi2Mean: c.chi2Mean, maxVarianceZ: maxAbs(c.varianceZ), maxCrossZ: maxAbs(c.crossZ), essMeanMin: c.essMeanMin, essVarianceMin: c.essVarianceMin, acceptance, evaluations: run.evaluations });
    expect(c.chi2Mean).toBeGreaterThan(chi2Quantile(50, 0.0005));
    expect(c.chi2Mean).toBeLessThan(chi2Quantile(50, 0.9995));
    expect(maxAbs([...c.varianceZ, ...c.crossZ])).toBeLessThan(zThreshold(c.varianceZ.length + c.crossZ.length));
    expect(c.essMeanMin).toBeGreaterThan(50); // enough draws for the ESS-based errors to mean something
    // the scale adapted toward 25% acceptance (binomial error of 48000 correlated accept flags is ~0.005)
    expect(acceptance).toBeGreaterThan(0.15);
    expect(acceptance).toBeLessThan(0.35);
  });

  it('banana (b = 1) from the identity: marginal CDFs against quadrature', async () => {
    const B = banana(1);
    const run = await runSampler(createMetropolis(), B.target, { chains: 4, warmup: 2000, samples: 10_000, seed: 21, start: new Float64Array(2) });
    const z = marginalCdfZs(run, [{ coords: [0], cdf: B.cdf[0] }, { coords: [1], cdf: B.cdf[1] }], PROBS, invert);
    figures('metropolis banana', { z: z.map((r) => r.z), ess: z.map((r) => r.ess) });
    expect(maxAbs(z.map((r) => r.z))).toBeLessThan(zThreshold(z.length));
  });

  it("funnel (v ~ N(0, 1.5^2), 2 x's) from the identity: marginal CDFs against quadrature", async () => {
    // with 4 x's (the NUTS test) a random walk tuned to the bulk enters the neck too rarely for 48000 iterations (4 x 12000):
    // at some seeds P(v <= q05) comes out 0.004 instead of 0.05 (z = -5) while the ESS looks fine -- the funnel's
    // lesson; the 3-dimensional funnel is within its reach
    const F = funnel(2, 1.5);
    const run = await runSampler(createMetropolis(), F.target, { chains: 4, warmup: 2000, samples: 8000, seed: 22, start: new Float64Array(3) });
    const z = marginalCdfZs(run, [{ coords: [0], cdf: F.cdf[0] }, { coords: [1, 2], cdf: F.cdf[1] }], PROBS, invert);
    figures('metropolis funnel', { z: z.map((r) => r.z), ess: z.map((r) => r.ess) });
    expect(maxAbs(z.map((r) => r.z))).toBeLessThan(zThreshold(z.length));
  });

  it('rejects moves outside the support (-Infinity) and counts one evaluation per step, none with a gradient', async () => {
    const halfPlane = targetOf(2, (x) => (x[0] < 0 ? -Infinity : -0.5 * (x[0] * x[0] + x[1] * x[1])), false);
    const mh = createMetropolis();
    const settings = { warmup: 500, seed: 23, start: Float64Array.from([0.5, 0]) };
    const state = (await mh.init(halfPlane, settings)) as MetropolisState;
    const x0: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const [d] = await mh.step(halfPlane, state, settings);
      expect(Number.isFinite(d.logDensity)).toBe(true);
      if (!d.warmup) x0.push(d.x[0]);
    }
    expect(Math.min(...x0)).toBeGreaterThanOrEqual(0);
    expect(mh.evaluations(state)).toBe(3001);
    expect(halfPlane.calls).toBe(3001);
    expect(state.gradientEvaluations).toBe(0);
    // |N(0, 1)|: E[x0] = sqrt(2/pi), checked on the whole run
    const run = { steps: [x0.map((v) => [{ x: Float64Array.from([v, 0]), logDensity: 0, warmup: false, walker: 0, stats: {} }])], warmupStats: [], evaluations: [] };
    expect(Math.abs(zScore(run, (x) => x[0], Math.sqrt(2 / Math.PI)).z)).toBeLessThan(zThreshold(1));
  });

  it('errors: NaN names the point; a bad covariance; a start outside the support', async () => {
    const nan = targetOf(2, (x) => (x[0] > 0.5 ? NaN : -0.5 * x[0] * x[0]), false);
    const mh = createMetropolis();
    const settings = { warmup: 10, seed: 24, start: new Float64Array(2) };
    const state = await mh.init(nan, settings);
    const go = async () => {
      for (let i = 0; i < 500; i++) await mh.step(nan, state, settings);
    };
    await expect(go()).rejects.toThrow(/sampler\/metropolis: the target returned NaN as log density at \{x0: [-\d.e]+, x1: [-\d.e]+\}/);
    await expect(mh.init(nan, { ...settings, covariance: Float64Array.from([1, 0, 0, -1]) })).rejects.toThrow(/settings.covariance is not positive definite/);
    await expect(mh.init(targetOf(2, () => -Infinity, false), settings)).rejects.toThrow(/settings.start is outside the support/);
  });
});
