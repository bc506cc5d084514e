/**
 * Step-size adaptation for HMC/NUTS, from Hoffman & Gelman, JMLR 15 (2014) 1593 (arXiv:1111.4246), section 3.2:
 *
 *  - a first guess by doubling or halving eps until the acceptance ratio of one leapfrog step from the start
 *    crosses a threshold (their Algorithm 4, with Stan's threshold 0.8 in place of their 0.5);
 *  - Nesterov dual averaging of log eps toward a target mean acceptance statistic delta (their eq. 6 and
 *    Algorithm 5): with m counting the adaptation iterations since the last restart,
 *      Hbar_m = (1 - 1/(m + t0)) Hbar_{m-1} + (delta - alpha_m) / (m + t0)
 *      log eps_m = mu - sqrt(m) / gamma * Hbar_m
 *      log epsbar_m = m^-kappa log eps_m + (1 - m^-kappa) log epsbar_{m-1}
 *    with mu = log(10 eps_0), gamma = 0.05, t0 = 10, kappa = 0.75 (their recommended values); after warm-up the
 *    step size is epsbar.
 */
import type { Rng } from '../../core/sampling/rng.js';
import { copyPoint, leapfrog, phasePoint, type EuclideanMetric, type GradientDensity, type PhasePoint } from './hamiltonian.js';

/** Dual-averaging state: plain numbers (part of the chain state). */
export interface DualAveraging {
  mu: number;
  hBar: number;
  logStepSizeBar: number;
  count: number;
}

const GAMMA = 0.05;
const T0 = 10;
const KAPPA = 0.75;

/** A fresh dual-averaging state around the step size eps (restarted after each metric update, as Stan does). */
export function startDualAveraging(eps: number): DualAveraging {
  return { mu: Math.log(10 * eps), hBar: 0, logStepSizeBar: 0, count: 0 };
}

/** One dual-averaging update with the transition's acceptance statistic; returns the next step size. */
export function updateDualAveraging(da: DualAveraging, acceptStat: number, targetAccept: number): number {
  da.count++;
  const m = da.count;
  const w = 1 / (m + T0);
  da.hBar = (1 - w) * da.hBar + w * (targetAccept - acceptStat);
  const logEps = da.mu - (Math.sqrt(m) / GAMMA) * da.hBar;
  const eta = m ** -KAPPA;
  da.logStepSizeBar = eta * logEps + (1 - eta) * da.logStepSizeBar;
  return Math.exp(logEps);
}

/** The step size for after warm-up: epsbar (or `fallback` when no adaptation step was made). */
export function finalStepSize(da: DualAveraging, fallback: number): number {
  return da.count > 0 ? Math.exp(da.logStepSizeBar) : fallback;
}

const LOG_THRESHOLD = Math.log(0.8);
const MAX_STEP = 1e7;
const MIN_STEP = 1e-12;

/**
 * A reasonable first step size (H&G Algorithm 4): from eps, double while one leapfrog step (with one momentum draw)
 * accepts with probability above 0.8, or halve while below; returns the last step size on the accepting side
 * (H&G return the first one past the threshold). `scratch`: two work points of the chain's dimension.
 */
export async function initialStepSize(metric: EuclideanMetric, logDensity: GradientDensity, rng: Rng, x: ArrayLike<number>, g: ArrayLike<number>, logp: number, eps: number, who: string, scratch?: { start: PhasePoint; work: PhasePoint }): Promise<number> {
  const start = scratch?.start ?? phasePoint(metric.dim);
  const work = scratch?.work ?? phasePoint(metric.dim);
  start.x.set(x);
  start.g.set(g);
  start.logp = logp;
  metric.sampleMomentum(rng, start.p);
  metric.sharp(start.p, start.pSharp);
  const H0 = -logp + metric.kinetic(start.p, start.pSharp);
  const logRatio = async (e: number) => {
    copyPoint(start, work);
    const H = await leapfrog(metric, work, e, logDensity);
    const d = H0 - H;
    return Number.isNaN(d) ? -Infinity : d;
  };
  const up = (await logRatio(eps)) > LOG_THRESHOLD;
  for (;;) {
    const next = up ? 2 * eps : eps / 2;
    if (next > MAX_STEP) throw new Error(`${who}: no step size up to ${MAX_STEP} gives acceptance below 0.8: the log density looks flat (improper) in some direction`);
    if (next < MIN_STEP) throw new Error(`${who}: no step size down to ${MIN_STEP} gives acceptance above 0.8: the log density or its gradient is not smooth (or not consistent) near the current point`);
    const r = await logRatio(next);
    if (up ? !(r > LOG_THRESHOLD) : r > LOG_THRESHOLD) return up ? eps : next;
    eps = next;
  }
}
