/**
 * Targets with known answers for the sampler tests: a correlated Gaussian of given condition number, a banana
 * (x1 ~ N(0, 1), x2 | x1 ~ N(b (x1^2 - 1), 1)), Neal's funnel in a mild form (v ~ N(0, sv^2), x_i | v ~ N(0, e^v)),
 * and their exact marginal CDFs by quadrature.
 */
import { erfc } from '../../core/numerics/erfc.js';
import { Rng, rngState } from '../../core/sampling/rng.js';
import type { SamplingTarget } from '../../plugins/contracts/sampler.js';

export const Phi = (x: number) => 0.5 * erfc(-x / Math.SQRT2);
const LOG_2PI = Math.log(2 * Math.PI);

/** A target from a (sync) log density that fills the gradient when asked. */
export function targetOf(dim: number, logDensity: (x: Float64Array, g?: Float64Array) => number, hasGradient = true): SamplingTarget & { calls: number } {
  const t = {
    dim, names: Array.from({ length: dim }, (_, i) => `x${i}`), hasGradient, calls: 0,
    logDensity(x: Float64Array, g?: Float64Array) {
      t.calls++;
      return Promise.resolve(logDensity(x, g));
    },
  };
  return t;
}

export interface Gaussian {
  dim: number;
  mean: Float64Array;
  /** Covariance, precision (row-major), eigenvectors Q (columns, row-major storage) and eigenvalues (variances). */
  cov: Float64Array;
  precision: Float64Array;
  Q: Float64Array;
  lambda: Float64Array;
  target: SamplingTarget & { calls: number };
  /** Whitened coordinates w = Lambda^-1/2 Q^T (x - mean): iid N(0, 1) under the target. */
  whiten: (x: Float64Array, out: Float64Array) => void;
}

/** N(mean, Q diag(lambda) Q^T) with a random rotation Q and variances log-spaced over `condition`. */
export function correlatedGaussian(dim: number, condition: number, seed: number): Gaussian {
  const rng = new Rng(rngState(seed));
  // Q: Gram-Schmidt (twice, for orthogonality to rounding) on a Gaussian matrix -> Haar-distributed rotation
  const Q = new Float64Array(dim * dim);
  for (let i = 0; i < dim * dim; i++) Q[i] = rng.normal();
  for (let j = 0; j < dim; j++)
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        let d = 0;
        for (let i = 0; i < dim; i++) d += Q[i * dim + j] * Q[i * dim + k];
        for (let i = 0; i < dim; i++) Q[i * dim + j] -= d * Q[i * dim + k];
      }
      let nrm = 0;
      for (let i = 0; i < dim; i++) nrm += Q[i * dim + j] ** 2;
      nrm = Math.sqrt(nrm);
      for (let i = 0; i < dim; i++) Q[i * dim + j] /= nrm;
    }
  const lambda = new Float64Array(dim);
  for (let i = 0; i < dim; i++) lambda[i] = condition ** (i / (dim - 1) - 0.5);
  const cov = new Float64Array(dim * dim), precision = new Float64Array(dim * dim);
  for (let a = 0; a < dim; a++)
    for (let b = 0; b < dim; b++) {
      let s = 0, p = 0;
      for (let k = 0; k < dim; k++) {
        s += Q[a * dim + k] * lambda[k] * Q[b * dim + k];
        p += (Q[a * dim + k] * Q[b * dim + k]) / lambda[k];
      }
      cov[a * dim + b] = s;
      precision[a * dim + b] = p;
    }
  const mean = new Float64Array(dim);
  for (let i = 0; i < dim; i++) mean[i] = rng.normal();
  const r = new Float64Array(dim);
  const target = targetOf(dim, (x, g) => {
    for (let i = 0; i < dim; i++) r[i] = x[i] - mean[i];
    let q = 0;
    for (let a = 0; a < dim; a++) {
      let s = 0;
      for (let b = 0; b < dim; b++) s += precision[a * dim + b] * r[b];
      q += r[a] * s;
      if (g) g[a] = -s;
    }
    return -0.5 * q;
  });
  const whiten = (x: Float64Array, out: Float64Array) => {
    for (let k = 0; k < dim; k++) {
      let s = 0;
      for (let i = 0; i < dim; i++) s += Q[i * dim + k] * (x[i] - mean[i]);
      out[k] = s / Math.sqrt(lambda[k]);
    }
  };
  return { dim, mean, cov, precision, Q, lambda, target, whiten };
}

/** Banana: x1 ~ N(0, 1), x2 | x1 ~ N(b (x1^2 - 1), 1). */
export function banana(b: number) {
  const target = targetOf(2, (x, g) => {
    const m = b * (x[0] * x[0] - 1);
    const r = x[1] - m;
    if (g) {
      g[0] = -x[0] + r * 2 * b * x[0];
      g[1] = -r;
    }
    return -0.5 * x[0] * x[0] - 0.5 * r * r - LOG_2PI;
  });
  /** P(x2 <= t) = int phi(x1) Phi(t - b (x1^2 - 1)) dx1 (trapezoid on [-12, 12], spectrally accurate here). */
  const cdf2 = (t: number) => trapezoid((x1) => (Math.exp(-0.5 * x1 * x1) / Math.sqrt(2 * Math.PI)) * Phi(t - b * (x1 * x1 - 1)), -12, 12, 4000);
  return { target, cdf: [Phi, cdf2] as ((t: number) => number)[] };
}

/** Neal's funnel, mild: v ~ N(0, sv^2), x_i | v ~ N(0, e^v), i = 1..k; coordinates (v, x_1..x_k). */
export function funnel(k: number, sv: number) {
  const target = targetOf(k + 1, (x, g) => {
    const v = x[0];
    const ev = Math.exp(-v);
    let ss = 0;
    for (let i = 1; i <= k; i++) ss += x[i] * x[i];
    if (g) {
      g[0] = -v / (sv * sv) - k / 2 + 0.5 * ss * ev;
      for (let i = 1; i <= k; i++) g[i] = -x[i] * ev;
    }
    return -0.5 * (v * v) / (sv * sv) - 0.5 * k * v - 0.5 * ss * ev;
  });
  const cdfV = (t: number) => Phi(t / sv);
  /** P(x_i <= t) = int N(v; 0, sv^2) Phi(t e^{-v/2}) dv. */
  const cdfX = (t: number) => trapezoid((v) => (Math.exp((-0.5 * v * v) / (sv * sv)) / (sv * Math.sqrt(2 * Math.PI))) * Phi(t * Math.exp(-v / 2)), -10 * sv, 10 * sv, 8000);
  return { target, cdf: [cdfV, cdfX] as ((t: number) => number)[] };
}

export function trapezoid(f: (x: number) => number, a: number, b: number, n: number): number {
  const h = (b - a) / n;
  let s = 0.5 * (f(a) + f(b));
  for (let i = 1; i < n; i++) s += f(a + i * h);
  return s * h;
}

/** The t with cdf(t) = p (bisection on a monotone CDF). */
export function invert(cdf: (t: number) => number, p: number, lo = -50, hi = 50): number {
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    if (cdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}
