/**
 * Summaries of a sample: mean, standard deviation, quantiles, weighted quantiles and central intervals.
 * Plain numbers in, plain numbers out; the sample is never modified (sorting works on a copy).
 */

/** Sum of x (Neumaier's compensated sum: chains of 1e6 draws keep full precision). */
function sum(x: ArrayLike<number>): number {
  let s = 0, c = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    const t = s + v;
    c += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
    s = t;
  }
  return s + c;
}

export function mean(x: ArrayLike<number>): number {
  return x.length ? sum(x) / x.length : NaN;
}

/** The unbiased sample variance (divisor n - 1), two-pass. */
export function variance(x: ArrayLike<number>): number {
  const n = x.length;
  if (n < 2) return NaN;
  const m = mean(x);
  let s = 0;
  for (let i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
  return s / (n - 1);
}

export function sd(x: ArrayLike<number>): number {
  return Math.sqrt(variance(x));
}

/** All draws of several chains in one array (chain after chain). */
export function pool(chains: readonly Float64Array[]): Float64Array {
  let n = 0;
  for (const c of chains) n += c.length;
  const out = new Float64Array(n);
  let o = 0;
  for (const c of chains) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

function checkProbability(p: number, what: string): void {
  if (!(p >= 0 && p <= 1)) throw new Error(`${what}: a probability must lie in [0, 1], got ${p}`);
}

/** The p-quantile of an ascending-sorted array: linear interpolation between order statistics (Hyndman & Fan type 7). */
export function sortedQuantile(sorted: ArrayLike<number>, p: number): number {
  checkProbability(p, 'quantile');
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** Quantiles of x at the probabilities ps (type 7; x is not modified). */
export function quantiles(x: ArrayLike<number>, ps: readonly number[]): number[] {
  const sorted = Float64Array.from(x).sort();
  return ps.map((p) => sortedQuantile(sorted, p));
}

export function quantile(x: ArrayLike<number>, p: number): number {
  return quantiles(x, [p])[0];
}

export function median(x: ArrayLike<number>): number {
  return quantile(x, 0.5);
}

/**
 * Quantiles of a weighted sample (getdist chains carry a weight column): the draws sorted, draw i placed at
 * cumulative probability (W_<i + w_i / 2) / W, and the quantile interpolated linearly between those points
 * (clamped to the extreme draws). With equal weights this is the Hazen (type 5) quantile.
 */
export function weightedQuantiles(x: ArrayLike<number>, w: ArrayLike<number>, ps: readonly number[]): number[] {
  const n = x.length;
  if (w.length !== n) throw new Error(`weightedQuantiles: ${n} values but ${w.length} weights`);
  let total = 0;
  for (let i = 0; i < n; i++) {
    if (!(w[i] >= 0) || !Number.isFinite(w[i])) throw new Error(`weightedQuantiles: weight ${i} is ${w[i]}; weights must be finite and >= 0`);
    total += w[i];
  }
  if (!(total > 0)) return ps.map(() => NaN);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const cdf = new Float64Array(n);
  let acc = 0;
  for (let k = 0; k < n; k++) {
    const wi = w[order[k]];
    cdf[k] = (acc + wi / 2) / total;
    acc += wi;
  }
  return ps.map((p) => {
    checkProbability(p, 'weightedQuantiles');
    if (p <= cdf[0]) return x[order[0]];
    if (p >= cdf[n - 1]) return x[order[n - 1]];
    let lo = 0, hi = n - 1; // cdf[lo] < p <= cdf[hi]
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < p) lo = mid;
      else hi = mid;
    }
    const f = cdf[hi] > cdf[lo] ? (p - cdf[lo]) / (cdf[hi] - cdf[lo]) : 1;
    return x[order[lo]] + f * (x[order[hi]] - x[order[lo]]);
  });
}

/** Weighted mean and standard deviation (weights as frequencies: sd with the reliability-weight correction). */
export function weightedMeanSd(x: ArrayLike<number>, w: ArrayLike<number>): { mean: number; sd: number } {
  let W = 0, W2 = 0, s = 0;
  for (let i = 0; i < x.length; i++) {
    W += w[i];
    W2 += w[i] * w[i];
    s += w[i] * x[i];
  }
  const m = s / W;
  let v = 0;
  for (let i = 0; i < x.length; i++) v += w[i] * (x[i] - m) * (x[i] - m);
  // unbiased for reliability weights: V1 - V2/V1 (equal weights: n - 1)
  return { mean: m, sd: Math.sqrt(v / (W - W2 / W)) };
}

/** The equal-tailed interval holding `mass` of the sample, e.g. 0.68 -> [q(0.16), q(0.84)]; weights optional. */
export function centralInterval(x: ArrayLike<number>, mass: number, w?: ArrayLike<number>): [number, number] {
  if (!(mass > 0 && mass < 1)) throw new Error(`centralInterval: mass must lie in (0, 1), got ${mass}`);
  const ps = [(1 - mass) / 2, (1 + mass) / 2];
  const [lo, hi] = w ? weightedQuantiles(x, w, ps) : quantiles(x, ps);
  return [lo, hi];
}
