/**
 * Calling the target from a sampler: every evaluation is counted in the chain state, a NaN (or +Infinity) log
 * density or a non-finite gradient at a point inside the support is an error naming the point, and -Infinity
 * (outside the support) is returned as is for the sampler to reject.
 */
import type { SamplingTarget } from '../contracts/sampler.js';

/** The counters every sampler keeps in its chain state. */
export interface EvaluationCounts {
  /** Target evaluations (a gradient evaluation counts as one). */
  evaluations: number;
  /** Of which with a gradient. */
  gradientEvaluations: number;
}

/** The point in words: `{a: 0.1, b: -2}` with the target's coordinate names. */
export function describePoint(target: SamplingTarget, x: ArrayLike<number>): string {
  const parts: string[] = [];
  for (let i = 0; i < x.length; i++) parts.push(`${target.names[i] ?? `x${i}`}: ${x[i]}`);
  return `{${parts.join(', ')}}`;
}

/** Start an evaluation of log p(x) (filling `gradient` when given), counted: the target's own promise, unwrapped. */
export function requestEvaluation(target: SamplingTarget, x: Float64Array, gradient: Float64Array | undefined, counts: EvaluationCounts): Promise<number> {
  counts.evaluations++;
  if (gradient) counts.gradientEvaluations++;
  return target.logDensity(x, gradient);
}

/** The value an evaluation resolved to, checked: -Infinity passes (outside the support), NaN and +Infinity throw. */
export function checkedLogDensity(target: SamplingTarget, lp: number, x: Float64Array, gradient: Float64Array | undefined, who: string): number {
  if (lp === -Infinity) return lp;
  if (typeof lp !== 'number' || !(lp < Infinity))
    throw new Error(`${who}: the target returned ${lp} as log density at ${describePoint(target, x)} (unconstrained coordinates); a log density must be finite, or -Infinity outside the support`);
  if (gradient)
    for (let i = 0; i < gradient.length; i++)
      if (!Number.isFinite(gradient[i]))
        throw new Error(`${who}: the target returned a gradient with ${target.names[i] ?? `x${i}`} = ${gradient[i]} at ${describePoint(target, x)} (unconstrained coordinates, log density ${lp}); a gradient must be finite where the density is`);
  return lp;
}

/** log p(x) (and its gradient into `gradient` when given), counted and checked. `who` names the sampler. */
export async function evaluateTarget(target: SamplingTarget, x: Float64Array, gradient: Float64Array | undefined, counts: EvaluationCounts, who: string): Promise<number> {
  return checkedLogDensity(target, await requestEvaluation(target, x, gradient, counts), x, gradient, who);
}

/** Check a chain's settings against the target: the start point's length and finiteness, the covariance's size. */
export function checkSettings(target: SamplingTarget, start: Float64Array, covariance: Float64Array | undefined, who: string): void {
  const d = target.dim;
  if (!Number.isInteger(d) || d < 1) throw new Error(`${who}: the target's dim must be a positive integer, got ${d}`);
  if (!start || start.length !== d) throw new Error(`${who}: settings.start has ${start?.length} entries, the target has dim = ${d}`);
  for (let i = 0; i < d; i++)
    if (!Number.isFinite(start[i])) throw new Error(`${who}: settings.start has ${target.names[i] ?? `x${i}`} = ${start[i]}; it must be finite`);
  if (covariance) {
    if (covariance.length !== d * d) throw new Error(`${who}: settings.covariance has ${covariance.length} entries, expected dim x dim = ${d * d}`);
    for (let i = 0; i < covariance.length; i++)
      if (!Number.isFinite(covariance[i])) throw new Error(`${who}: settings.covariance has a non-finite entry (${covariance[i]}) at row ${Math.floor(i / d)}, column ${i % d}`);
  }
}
