/**
 * The diagnostics of core/sampling/diagnostics.ts against known answers: iid draws (ESS = S), AR(1) chains
 * (ESS = S (1 - rho) / (1 + rho)), chains that disagree in location or scale (R-hat > 1.01), and, when python3 with
 * numpy is installed, a direct numpy transcription of the formulas of Vehtari et al. (2021) written below
 * (O(N^2) autocovariances, so the FFT is checked too).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { autocovariance } from '../../core/sampling/autocovariance.js';
import {
  centralInterval, essBulk, essMean, essTail, mcseMean, quantiles, rankNormalize, rhat, rhatBulk, rhatFolded, splitChains, summarizeParameter,
  weightedMeanSd, weightedQuantiles,
} from '../../core/sampling/diagnostics.js';
import { normalQuantile } from '../../core/sampling/normal-quantile.js';
import { Rng, rngState } from '../../core/sampling/rng.js';
import { figures } from './sampler-checks.js';
import { Phi } from './targets.js';

/** M chains of N draws of a stationary AR(1) process x_t = rho x_{t-1} + e_t (unit innovations) plus offsets. */
function ar1(M: number, N: number, rho: number, seed: number, offsets: number[] = [], scales: number[] = []): Float64Array[] {
  const r = new Rng(rngState(seed));
  return Array.from({ length: M }, (_, m) => {
    const c = new Float64Array(N);
    let x = r.normal() / Math.sqrt(1 - rho * rho); // start in the stationary distribution
    for (let t = 0; t < N; t++) {
      c[t] = (offsets[m] ?? 0) + (scales[m] ?? 1) * x;
      x = rho * x + r.normal();
    }
    return c;
  });
}

/**
 * Tolerance on ESS / ESS_expected: 4 standard deviations of tau_hat / tau. For a window of W lags,
 * var(tau_hat) ~ 2 (2W + 1) tau^2 / S (Sokal 1997, eq. 3.19; Bartlett's formula), with Geyer's initial sequence
 * stopping near W ~ 3 tau; for tau < 1 (antithetic chains) the noise of tau_hat does not fall below that of
 * iid draws (tau = 1), hence max(tau, 1).
 */
function essTolerance(tau: number, S: number): number {
  const t = Math.max(tau, 1);
  return (4 * t * Math.sqrt((2 * (2 * 3 * t + 1)) / S)) / tau;
}

describe('sampling diagnostics', () => {
  it('the normal quantile function inverts Phi to ~1e-15 (AS 241)', () => {
    for (const p of [1e-300, 1e-100, 1e-20, 1e-8, 1e-3, 0.02, 0.1, 0.3, 0.425, 0.5, 0.6, 0.9, 0.975, 0.999]) {
      const x = normalQuantile(p);
      const back = p < 0.5 ? Phi(x) : 1 - Phi(-x);
      expect(Math.abs(back - p) / p).toBeLessThan(4e-14 * Math.max(1, Math.abs(x)));
    }
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(normalQuantile(1)).toBe(Infinity);
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(1 - 1e-10)).toBeCloseTo(-normalQuantile(1e-10), 6);
  });

  it('the FFT autocovariance equals the direct sum', () => {
    const [x] = ar1(1, 333, 0.8, 5);
    const g = autocovariance(x);
    let mean = 0;
    for (const v of x) mean += v / x.length;
    for (const t of [0, 1, 2, 17, 100, 332]) {
      let s = 0;
      for (let i = 0; i + t < x.length; i++) s += (x[i] - mean) * (x[i + t] - mean);
      expect(g[t]).toBeCloseTo(s / x.length, 12);
    }
  });

  it('iid normal draws: ESS (bulk, tail, mean) = S and R-hat = 1 within Monte Carlo error', () => {
    const chains = ar1(4, 25_000, 0, 11);
    const S = 100_000;
    const tol = essTolerance(1, S);
    const f = { bulk: essBulk(chains) / S, tail: essTail(chains) / S, mean: essMean(chains) / S, rhat: rhat(chains) };
    figures('iid ESS/S and R-hat', { ...f, tol });
    expect(Math.abs(f.bulk - 1)).toBeLessThan(tol);
    expect(Math.abs(f.mean - 1)).toBeLessThan(tol);
    expect(Math.abs(f.tail - 1)).toBeLessThan(tol);
    // split R-hat^2 - 1 ~ (chi^2_7 / 7 - 1) / (N/2) for 8 half-chains of N/2 iid draws: far below 0.005
    expect(Math.abs(f.rhat - 1)).toBeLessThan(0.005);
    expect(rhatBulk(chains)).toBeLessThan(1.005);
  });

  it.each([
    [0.5, 11],
    [0.9, 12],
    [-0.5, 13],
  ])('AR(1) with rho = %s: ESS = S (1 - rho) / (1 + rho)', (rho, seed) => {
    const M = 4, N = 50_000, S = M * N;
    const chains = ar1(M, N, rho, seed);
    const expected = (S * (1 - rho)) / (1 + rho);
    const tau = (1 + rho) / (1 - rho);
    const tol = essTolerance(tau, S);
    figures(`AR(1) rho = ${rho}: ESS / expected`, { mean: essMean(chains) / expected, bulk: essBulk(chains) / expected, tol });
    expect(Math.abs(essMean(chains) / expected - 1)).toBeLessThan(tol);
    expect(Math.abs(essBulk(chains) / expected - 1)).toBeLessThan(tol);
    // the MCSE of the mean is sd sqrt(tau / S): stationary sd 1/sqrt(1 - rho^2)
    const mcse = Math.sqrt(tau / S / (1 - rho * rho));
    expect(Math.abs(mcseMean(chains) / mcse - 1)).toBeLessThan(tol);
  });

  it('chains that disagree: shifted means raise the bulk R-hat, different scales the folded (tail) R-hat', () => {
    // one chain of four shifted by half a standard deviation: B/N ~ 0.5^2 (1/4)(3/4) -> R-hat ~ 1.02
    const shifted = ar1(4, 2000, 0, 21, [0, 0, 0, 0.5]);
    const wide0 = ar1(4, 2000, 0, 22, [], [1, 1, 1, 3]);
    figures('R-hat', { shiftedBulk: rhatBulk(shifted), wideBulk: rhatBulk(wide0), wideFolded: rhatFolded(wide0) });
    expect(rhatBulk(shifted)).toBeGreaterThan(1.01);
    expect(rhat(shifted)).toBeGreaterThan(1.01);
    // same centre, one chain three times wider: the bulk cannot see it, the folded draws can
    const wide = ar1(4, 2000, 0, 22, [], [1, 1, 1, 3]);
    expect(rhatBulk(wide)).toBeLessThan(1.01);
    expect(rhatFolded(wide)).toBeGreaterThan(1.01);
    expect(rhat(wide)).toBe(rhatFolded(wide));
    // a chain that has not mixed (a slow trend within each chain): split R-hat catches it
    const drift = ar1(4, 2000, 0, 23).map((c) => c.map((v, t) => v + (2 * t) / c.length));
    expect(rhat(drift)).toBeGreaterThan(1.01);
  });

  it('splits chains, rank-normalizes with average ranks for ties, and rejects unequal chains', () => {
    const [a, b] = splitChains([Float64Array.from([1, 2, 3, 4, 5])]);
    expect(Array.from(a)).toEqual([1, 2]);
    expect(Array.from(b)).toEqual([4, 5]); // the middle draw of an odd chain is dropped
    const z = rankNormalize([Float64Array.from([3, 1, 1, 2])]);
    // ranks 4, 1.5, 1.5, 3 of S = 4: z = Phi^-1((r - 3/8) / (S + 1/4))
    expect(Array.from(z[0])).toEqual([4, 1.5, 1.5, 3].map((r) => normalQuantile((r - 0.375) / 4.25)));
    expect(() => essBulk([new Float64Array(10), new Float64Array(11)])).toThrow(/equal lengths.*chain 1 has 11/);
    expect(Number.isNaN(essBulk([new Float64Array(100).fill(1)]))).toBe(true);
    expect(Number.isNaN(rhat([new Float64Array(100).fill(1), new Float64Array(100).fill(1)]))).toBe(true);
    expect(Number.isNaN(essMean([Float64Array.from([1, 2, 3])]))).toBe(true);
  });

  it('quantiles, weighted quantiles, weighted moments and central intervals', () => {
    expect(quantiles([4, 1, 3, 2], [0, 0.25, 0.5, 1])).toEqual([1, 1.75, 2.5, 4]); // type 7
    // equal weights: the Hazen quantile (draw i at (i + 1/2)/n)
    expect(weightedQuantiles([4, 1, 3, 2], [1, 1, 1, 1], [0.1, 0.25, 0.5, 0.9])).toEqual([1, 1.5, 2.5, 4]);
    expect(weightedQuantiles([0, 1], [3, 1], [0.5])[0]).toBeCloseTo(0.25, 14);
    const { mean, sd } = weightedMeanSd([1, 2, 3, 4], [1, 1, 1, 1]);
    expect(mean).toBe(2.5);
    expect(sd).toBeCloseTo(Math.sqrt(5 / 3), 14);
    expect(() => weightedQuantiles([1, 2], [1, -1], [0.5])).toThrow(/weight 1 is -1/);
    // importance-weighted draws of N(0, 1) from N(0, 2^2): the 68% interval is +-0.99446 (Phi^-1(0.84)),
    // within Monte Carlo error: se(q_p) = sqrt(p (1 - p) / n_eff) / phi(q_p), n_eff = (sum w)^2 / sum w^2 (Kish)
    const r = new Rng(rngState(31));
    const n = 100_000;
    const x = new Float64Array(n), w = new Float64Array(n);
    let sw = 0, sw2 = 0;
    for (let i = 0; i < n; i++) {
      x[i] = 2 * r.normal();
      w[i] = Math.exp(-0.5 * x[i] * x[i] + (0.5 * x[i] * x[i]) / 4);
      sw += w[i];
      sw2 += w[i] * w[i];
    }
    const nEff = (sw * sw) / sw2;
    const q84 = normalQuantile(0.84);
    const se = Math.sqrt((0.84 * 0.16) / nEff) / (Math.exp(-0.5 * q84 * q84) / Math.sqrt(2 * Math.PI));
    const [lo, hi] = centralInterval(x, 0.68, w);
    expect(Math.abs(lo + q84) / se).toBeLessThan(4);
    expect(Math.abs(hi - q84) / se).toBeLessThan(4);
    const s = summarizeParameter(ar1(4, 1000, 0, 32));
    expect(Object.keys(s).sort()).toEqual(['essBulk', 'essTail', 'hi68', 'hi95', 'lo68', 'lo95', 'mean', 'rhat', 'sd'].sort());
    expect(s.lo95 < s.lo68 && s.lo68 < s.mean && s.mean < s.hi68 && s.hi68 < s.hi95).toBe(true);
  });

  const python = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  it.skipIf(python.status !== 0)('agrees with a direct numpy implementation of Vehtari et al. (2021)', () => {
    const cases = {
      ar1_shifted: ar1(4, 301, 0.7, 41, [0, 0.3, 0, -0.2]).map((c) => Array.from(c)),
      // rounded: many ties, exercising the average ranks
      ties: ar1(3, 200, 0.3, 42).map((c) => Array.from(c, (v) => Math.round(v * 4) / 4)),
      wide: ar1(4, 150, 0, 43, [], [1, 1, 2, 1]).map((c) => Array.from(c)),
    };
    const out = spawnSync('python3', ['-c', NUMPY_REFERENCE], { input: JSON.stringify(cases), encoding: 'utf8' });
    expect(out.status, out.stderr).toBe(0);
    const ref = JSON.parse(out.stdout) as Record<string, Record<string, number>>;
    for (const [name, chains] of Object.entries(cases)) {
      const c = chains.map((a) => Float64Array.from(a));
      const ours: Record<string, number> = {
        rhat: rhat(c), rhat_bulk: rhatBulk(c), rhat_folded: rhatFolded(c), ess_bulk: essBulk(c), ess_tail: essTail(c), ess_mean: essMean(c),
      };
      for (const k of Object.keys(ours)) expect(Math.abs(ours[k] / ref[name][k] - 1), `${name} ${k}: ${ours[k]} vs ${ref[name][k]}`).toBeLessThan(1e-9);
    }
  });
});

/** The formulas of Vehtari et al. (2021), written directly in numpy (autocovariances by the O(N^2) sum). */
const NUMPY_REFERENCE = String.raw`
import json, sys
import numpy as np
from statistics import NormalDist

def split(ch):
    n = ch.shape[1]; h = n // 2
    return np.concatenate([ch[:, :h], ch[:, n - h:]], axis=0)

def rank_normalize(ch):
    flat = ch.ravel(); S = flat.size
    order = np.argsort(flat, kind='mergesort'); v = flat[order]
    ranks = np.empty(S); i = 0
    while i < S:
        j = i
        while j + 1 < S and v[j + 1] == v[i]: j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    nd = NormalDist()
    return np.array([nd.inv_cdf((r - 0.375) / (S + 0.25)) for r in ranks]).reshape(ch.shape)

def parts(ch):
    M, N = ch.shape
    W = ch.var(axis=1, ddof=1).mean()
    return W, (N - 1) / N * W + ch.mean(axis=1).var(ddof=1)

def rhat(ch):
    W, vp = parts(ch); return float(np.sqrt(vp / W))

def ess(ch):
    M, N = ch.shape
    W, vp = parts(ch)
    acov = np.array([[np.dot(c[:N - t] - c.mean(), c[t:] - c.mean()) / N for t in range(N)] for c in ch])
    rho = 1 - (W - (acov * N / (N - 1)).mean(axis=0)) / vp
    s = 0.0; prev = np.inf; t = 0
    while t + 1 < N:
        P = rho[t] + rho[t + 1]
        if not P > 0: break
        P = min(P, prev); s += P; prev = P; t += 2
    return float(M * N / max(-1 + 2 * s, 1 / np.log10(M * N)))

def quantile7(x, p):
    return float(np.quantile(x, p))

out = {}
for name, chains in json.load(sys.stdin).items():
    ch = np.array(chains, dtype=float)
    folded = np.abs(ch - np.median(ch))
    q05, q95 = quantile7(ch.ravel(), 0.05), quantile7(ch.ravel(), 0.95)
    out[name] = {
        'rhat_bulk': rhat(rank_normalize(split(ch))),
        'rhat_folded': rhat(rank_normalize(split(folded))),
        'ess_bulk': ess(rank_normalize(split(ch))),
        'ess_tail': min(ess(split((ch <= q05).astype(float))), ess(split((ch <= q95).astype(float)))),
        'ess_mean': ess(split(ch)),
    }
    out[name]['rhat'] = max(out[name]['rhat_bulk'], out[name]['rhat_folded'])
print(json.dumps(out))
`;
