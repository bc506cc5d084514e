/**
 * Euclidean-metric Hamiltonian dynamics for HMC/NUTS (Neal, "MCMC using Hamiltonian dynamics", Handbook of MCMC
 * (2011), arXiv:1206.1901; Betancourt 2017, arXiv:1701.02434, section 4):
 *
 *   H(x, p) = -log pi(x) + K(p),   K(p) = p^T Sigma p / 2,   p ~ N(0, M) with M = Sigma^-1
 *
 * Sigma (the inverse metric) is the covariance the adaptation estimates. p# = Sigma p is the velocity dx/dt (the
 * "sharp" momentum of the generalized no-U-turn criterion). The leapfrog (Neal 2011, eqs. 2.28-2.30) is
 *   p <- p + (eps/2) grad log pi(x);  x <- x + eps Sigma p;  p <- p + (eps/2) grad log pi(x)
 * with one target evaluation (value and gradient) per step.
 */
import type { Rng } from '../../core/sampling/rng.js';
import { choleskyOf, dot, matVec, upperTransposedSolve } from './dense.js';

/** A point in phase space: position, momentum, gradient of log pi at x, p# = Sigma p, log pi(x). */
export interface PhasePoint {
  x: Float64Array;
  p: Float64Array;
  g: Float64Array;
  pSharp: Float64Array;
  logp: number;
}

export function phasePoint(dim: number): PhasePoint {
  return { x: new Float64Array(dim), p: new Float64Array(dim), g: new Float64Array(dim), pSharp: new Float64Array(dim), logp: NaN };
}

export function copyPoint(from: PhasePoint, to: PhasePoint): void {
  to.x.set(from.x);
  to.p.set(from.p);
  to.g.set(from.g);
  to.pSharp.set(from.pSharp);
  to.logp = from.logp;
}

/**
 * The target as the dynamics call it: `request` starts the (counted) evaluation of log pi at x, filling the gradient
 * at x, and returns the target's own promise; `check` validates the value it resolved to (NaN throws, -Infinity
 * passes). Split so that a leapfrog step awaits exactly once.
 */
export interface GradientDensity {
  request(x: Float64Array, gradient: Float64Array): Promise<number>;
  check(logp: number, x: Float64Array, gradient: Float64Array): number;
}

/** The dense Euclidean metric: Sigma = M^-1 and its Cholesky factor L (Sigma = L L^T). */
export class EuclideanMetric {
  readonly inverse: Float64Array;
  readonly factor: Float64Array;

  constructor(readonly dim: number) {
    this.inverse = new Float64Array(dim * dim);
    this.factor = new Float64Array(dim * dim);
  }

  /** Take Sigma (row-major dim x dim); false (and nothing changed) when it is not positive definite. */
  set(sigma: ArrayLike<number>): boolean {
    const L = choleskyOf(sigma, this.dim);
    if (!L) return false;
    this.inverse.set(sigma);
    this.factor.set(L);
    return true;
  }

  /** out = p# = Sigma p. */
  sharp(p: Float64Array, out: Float64Array): void {
    matVec(this.inverse, p, out, this.dim);
  }

  /** K(p) = p . p# / 2, given p# = Sigma p. */
  kinetic(p: Float64Array, pSharp: Float64Array): number {
    return 0.5 * dot(p, pSharp, this.dim);
  }

  /** p ~ N(0, Sigma^-1): p = L^-T z with z ~ N(0, I) (then cov(p) = L^-T L^-1 = Sigma^-1). */
  sampleMomentum(rng: Rng, p: Float64Array): void {
    rng.normals(p);
    upperTransposedSolve(this.factor, p, p, this.dim);
  }
}

/** The leapfrog's first half: p <- p + (eps/2) grad log pi(x); x <- x + eps Sigma p. Then evaluate at z.x into z.g. */
export function beginLeapfrog(metric: EuclideanMetric, z: PhasePoint, eps: number): void {
  const n = metric.dim;
  const { x, p, g, pSharp } = z;
  const half = 0.5 * eps;
  for (let i = 0; i < n; i++) p[i] += half * g[i];
  metric.sharp(p, pSharp);
  for (let i = 0; i < n; i++) x[i] += eps * pSharp[i];
}

/**
 * The leapfrog's second half, given log pi at the new x (and its gradient in z.g): p <- p + (eps/2) grad log pi(x),
 * p# = Sigma p. Returns H at the new point (+Infinity when log pi = -Infinity: the caller treats it as a divergence).
 */
export function endLeapfrog(metric: EuclideanMetric, z: PhasePoint, eps: number, logp: number): number {
  z.logp = logp;
  if (logp === -Infinity) return Infinity;
  const n = metric.dim;
  const { p, g, pSharp } = z;
  const half = 0.5 * eps;
  for (let i = 0; i < n; i++) p[i] += half * g[i];
  metric.sharp(p, pSharp);
  return -logp + metric.kinetic(p, pSharp);
}

/** One leapfrog step of size eps (negative: backward in time) from z, in place; returns H at the new point. */
export async function leapfrog(metric: EuclideanMetric, z: PhasePoint, eps: number, target: GradientDensity): Promise<number> {
  beginLeapfrog(metric, z, eps);
  const lp = await target.request(z.x, z.g);
  return endLeapfrog(metric, z, eps, target.check(lp, z.x, z.g));
}

/** H at z (recomputing p#). */
export function hamiltonian(metric: EuclideanMetric, z: PhasePoint): number {
  metric.sharp(z.p, z.pSharp);
  return -z.logp + metric.kinetic(z.p, z.pSharp);
}
