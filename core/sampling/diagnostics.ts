/**
 * Convergence diagnostics of MCMC chains, as defined by Vehtari, Gelman, Simpson, Carpenter & Bürkner,
 * "Rank-normalization, folding, and localization: an improved R-hat for assessing convergence of MCMC",
 * Bayesian Analysis 16 (2021) 667, arXiv:1903.08008 (equation numbers below refer to the arXiv version):
 *
 *   rhat      max of the bulk R-hat (split R-hat of the rank-normalized draws) and the tail R-hat (the same of the
 *             rank-normalized folded draws |theta - median|), section 4.2
 *   essBulk   ESS of the rank-normalized split chains (section 4.3)
 *   essTail   min of the ESS of the indicators I(theta <= q05) and I(theta <= q95) on split chains (section 4.3)
 *   essMean   ESS of the raw split chains (the ESS of the mean estimate: its Monte Carlo error is sd/sqrt(essMean))
 *
 * Every function takes the draws of ONE parameter as one Float64Array per chain (equal lengths). A chain is split
 * into halves (the middle draw of an odd chain is dropped), so M chains of N draws give 2M chains of floor(N/2).
 * With fewer than 4 draws per chain, or draws that do not vary, the diagnostics are NaN (undefined).
 */
import { autocovariance } from './autocovariance.js';
import { mean, median, pool, quantiles, sd, variance } from './moments.js';
import { normalQuantile } from './normal-quantile.js';

export { centralInterval, mean, median, pool, quantile, quantiles, sd, variance, weightedMeanSd, weightedQuantiles } from './moments.js';

function checkChains(chains: readonly Float64Array[], what: string): number {
  if (!chains.length) throw new Error(`${what}: no chains given`);
  const n = chains[0].length;
  for (let m = 1; m < chains.length; m++)
    if (chains[m].length !== n) throw new Error(`${what}: chains must have equal lengths; chain 0 has ${n} draws, chain ${m} has ${chains[m].length}`);
  return n;
}

/** Each chain cut into its first and second half (the middle draw of an odd-length chain dropped). */
export function splitChains(chains: readonly Float64Array[]): Float64Array[] {
  const n = checkChains(chains, 'splitChains');
  const h = Math.floor(n / 2);
  const out: Float64Array[] = [];
  for (const c of chains) out.push(c.subarray(0, h), c.subarray(n - h, n));
  return out;
}

/**
 * Rank normalization (eq. 14): pooled ranks r (ties get their average rank), then z = Phi^-1((r - 3/8) / (S + 1/4))
 * over the S draws of all chains; returned with the chains' shape.
 */
export function rankNormalize(chains: readonly Float64Array[]): Float64Array[] {
  const all = pool(chains);
  const S = all.length;
  const sorted = Float64Array.from(all).sort();
  if (S && Number.isNaN(sorted[S - 1])) throw new Error('rankNormalize: a draw is NaN');
  const z = new Float64Array(S);
  for (let i = 0; i < S; i++) {
    const v = all[i];
    // the 0-based positions first..last of v in the sorted draws; its average 1-based rank is (first + last)/2 + 1
    let lo = 0, hi = S;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    const first = lo;
    hi = S;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] <= v) lo = mid + 1;
      else hi = mid;
    }
    const rank = (first + lo - 1) / 2 + 1;
    z[i] = normalQuantile((rank - 0.375) / (S + 0.25));
  }
  const out: Float64Array[] = [];
  let o = 0;
  for (const c of chains) {
    out.push(z.subarray(o, o + c.length));
    o += c.length;
  }
  return out;
}

/** Within-chain variances, W, and var+ (eqs. 1-3) of chains taken as given (no splitting). */
function varianceParts(chains: readonly Float64Array[]): { means: number[]; vars: number[]; W: number; varPlus: number } {
  const N = chains[0].length;
  const means = chains.map((c) => mean(c));
  const vars = chains.map((c) => variance(c));
  const W = mean(vars);
  const Bn = chains.length > 1 ? variance(means) : 0; // B / N
  return { means, vars, W, varPlus: ((N - 1) / N) * W + Bn };
}

/** The classic R-hat of chains taken as given: sqrt(var+ / W) (eq. 4). */
function rhatOf(chains: readonly Float64Array[]): number {
  if (chains[0].length < 2) return NaN;
  const { W, varPlus } = varianceParts(chains);
  return W > 0 ? Math.sqrt(varPlus / W) : NaN;
}

/**
 * ESS of chains taken as given (eqs. 10-12): the multi-chain autocorrelation
 * rho_t = 1 - (W - mean_m(s_m^2 rho_{t,m})) / var+, summed with Geyer's initial monotone sequence
 * (P_k = rho_{2k} + rho_{2k+1} while positive, made non-increasing), tau = -1 + 2 sum_k P_k, ESS = M N / tau,
 * and tau kept >= 1 / log10(M N) (the paper's cap ESS <= S log10 S for antithetic chains).
 */
function essOf(chains: readonly Float64Array[]): number {
  const M = chains.length;
  const N = chains[0].length;
  if (N < 4) return NaN;
  const { W, varPlus } = varianceParts(chains);
  if (!(W > 0) || !(varPlus > 0)) return NaN;
  // s_m^2 rho_{t,m} = gamma_{t,m} N / (N - 1) with the biased autocovariance gamma (s_m^2 = gamma_0 N / (N - 1))
  const acovSum = new Float64Array(N);
  for (let m = 0; m < M; m++) {
    const g = autocovariance(chains[m]);
    for (let t = 0; t < N; t++) acovSum[t] += (g[t] * N) / (N - 1);
  }
  const rho = (t: number) => 1 - (W - acovSum[t] / M) / varPlus;
  let sumP = 0;
  let prev = Infinity;
  for (let t = 0; t + 1 < N; t += 2) {
    let P = rho(t) + rho(t + 1);
    if (!(P > 0)) break;
    if (P > prev) P = prev;
    sumP += P;
    prev = P;
  }
  const S = M * N;
  const tau = Math.max(-1 + 2 * sumP, 1 / Math.log10(S));
  return S / tau;
}

/** Folded draws |theta - median(theta)| (section 4.2). */
function fold(chains: readonly Float64Array[]): Float64Array[] {
  const med = median(pool(chains));
  return chains.map((c) => c.map((v) => Math.abs(v - med)));
}

/** Bulk R-hat: split R-hat of the rank-normalized draws. */
export function rhatBulk(chains: readonly Float64Array[]): number {
  return rhatOf(rankNormalize(splitChains(chains)));
}

/** Tail R-hat: split R-hat of the rank-normalized folded draws. */
export function rhatFolded(chains: readonly Float64Array[]): number {
  return rhatOf(rankNormalize(splitChains(fold(chains))));
}

/** R-hat = max(bulk, folded) (section 4.2); the paper's threshold for use is R-hat < 1.01. */
export function rhat(chains: readonly Float64Array[]): number {
  const b = rhatBulk(chains), f = rhatFolded(chains);
  return Number.isNaN(b) || Number.isNaN(f) ? NaN : Math.max(b, f);
}

/** Bulk ESS: the ESS of the rank-normalized split chains. */
export function essBulk(chains: readonly Float64Array[]): number {
  return essOf(rankNormalize(splitChains(chains)));
}

/** ESS of the indicator I(theta <= q) on split chains (the ESS of the estimate of the CDF at q). */
export function essQuantile(chains: readonly Float64Array[], q: number): number {
  return essOf(splitChains(chains.map((c) => c.map((v) => (v <= q ? 1 : 0)))));
}

/** Tail ESS: the smaller of the ESS of the 5% and 95% quantile indicators. */
export function essTail(chains: readonly Float64Array[]): number {
  const [q05, q95] = quantiles(pool(chains), [0.05, 0.95]);
  return Math.min(essQuantile(chains, q05), essQuantile(chains, q95));
}

/** ESS of the raw split chains: the ESS that gives the Monte Carlo error of the mean. */
export function essMean(chains: readonly Float64Array[]): number {
  return essOf(splitChains(chains));
}

/** ESS of the chains exactly as given (no split, no ranks): for series built by the caller. */
export function essUnsplit(chains: readonly Float64Array[]): number {
  checkChains(chains, 'essUnsplit');
  return essOf(chains);
}

/** Monte Carlo standard error of the mean: sd / sqrt(essMean). */
export function mcseMean(chains: readonly Float64Array[]): number {
  return sd(pool(chains)) / Math.sqrt(essMean(chains));
}

/** The row of a summary table for one parameter (equal-tailed 68% and 95% intervals from the pooled draws). */
export interface ParameterSummary {
  mean: number;
  sd: number;
  lo68: number;
  hi68: number;
  lo95: number;
  hi95: number;
  rhat: number;
  essBulk: number;
  essTail: number;
}

export function summarizeParameter(chains: readonly Float64Array[]): ParameterSummary {
  checkChains(chains, 'summarizeParameter');
  const all = pool(chains);
  const [lo95, lo68, hi68, hi95] = quantiles(all, [0.025, 0.16, 0.84, 0.975]);
  return { mean: mean(all), sd: sd(all), lo68, hi68, lo95, hi95, rhat: rhat(chains), essBulk: essBulk(chains), essTail: essTail(chains) };
}
