/**
 * Where the chains start and the covariance they start from (ChainSettings.start, .covariance).
 *
 * Start: the pipeline's parameter values (the fiducial), mapped to the unconstrained space.
 *
 * Covariance: the inverse Fisher matrix at the start, plus the priors, mapped through the transforms:
 *   1. F: the likelihood stage's own Fisher matrix (its `fisherOption` switched on: for likelihood/gaussian the
 *      Hessian of -ln L by forward-over-reverse, Gaussian priors — prior_sigma / prior.gaussian — included);
 *   2. + 12 / (hi - lo)^2 on the diagonal for a uniform prior: the precision of a Gaussian with the uniform
 *      prior's variance, so that a parameter the data barely constrain starts at its prior's width, never wider,
 *      and F stays invertible (for priors much wider than the Fisher errors it changes nothing);
 *   3. C_theta = (F + U)^-1 (Cholesky of the matrix scaled to unit diagonal);
 *   4. C_x = D C_theta D, D = diag(dx/dtheta) at the start (transforms.ts): first order in the map.
 * Without a Fisher option (a likelihood stage that offers none) or when it fails (a singular F), a target with
 * gradients gives the Hessian of -log p(x) by central differences of its gradient at the start; failing that,
 * a diagonal guess (the Gaussian prior's sigma, else 1% of the uniform range, else 1% of |value| or 0.01).
 * The Fisher covariance without U (the Fisher ellipses of the plot) is returned too when available.
 */
import { executePlan } from '../graph/execute.js';
import { spdInverse } from '../numerics/cholesky.js';
import type { SamplingTarget } from '../../plugins/contracts/sampler.js';
import { editedSource, planSource, type PipelineSource } from './pipeline-source.js';
import type { SamplingProblem } from './target.js';

export interface StartingPoint {
  /** Start in the unconstrained space. */
  x0: Float64Array;
  /** Covariance guess in the unconstrained space (dim x dim, row-major). */
  covariance: Float64Array;
  /** Where the covariance came from. */
  source: 'fisher' | 'hessian' | 'guess';
  /** The Fisher covariance F^-1 in the physical space (priors: the Gaussian ones), when the likelihood gave F. */
  fisher: { names: string[]; cov: Float64Array } | null;
  /** Why the Fisher matrix was not used, when it was not. */
  note?: string;
}

/** A symmetric positive-definite inverse through the unit-diagonal scaling (null if not positive definite). */
export function scaledInverse(F: Float64Array, n: number): Float64Array | null {
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (!(F[i * n + i] > 0)) return null;
    s[i] = 1 / Math.sqrt(F[i * n + i]);
  }
  const S = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) S[i * n + j] = F[i * n + j] * s[i] * s[j];
  const inv = spdInverse(S, n);
  if (!inv) return null;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) inv[i * n + j] *= s[i] * s[j];
  return inv;
}

/** The likelihood stage's Fisher matrix at the start over the sampled parameters (in their order), or why not. */
async function stageFisher(src: PipelineSource, problem: SamplingProblem): Promise<{ F: Float64Array } | { note: string }> {
  const { declared, likeStage, parameters } = problem;
  if (!declared.fisherOption) return { note: `stage "${likeStage}" offers no Fisher matrix` };
  try {
    const { plan, registry } = await planSource(editedSource(src, [`stages.${likeStage}.with.${declared.fisherOption}=true`]));
    const r = await executePlan(plan, registry, { targets: [likeStage] });
    const out = r.outputs.get(likeStage) as Record<string, unknown>;
    const f = out[declared.fisherOption] as { F?: Float64Array; names?: string[] } | null;
    if (!f?.F || !f.names) return { note: `stage "${likeStage}" gave no Fisher matrix in output.${declared.fisherOption}` };
    const n = parameters.length, K = f.names.length;
    const idx = parameters.map((p) => f.names!.indexOf(p.name));
    if (idx.some((i) => i < 0)) return { note: `the Fisher matrix lacks ${parameters.filter((_, i) => idx[i] < 0).map((p) => p.name).join(', ')}` };
    const F = new Float64Array(n * n);
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) F[a * n + b] = f.F[idx[a] * K + idx[b]];
    return { F };
  } catch (e) {
    return { note: `the Fisher matrix failed: ${(e as Error).message}` };
  }
}

/** -Hessian of log p at x0 by central differences of the gradient (step h in x), symmetrised; null if unusable. */
async function gradientHessian(target: SamplingTarget, x0: Float64Array, h = 1e-4): Promise<Float64Array | null> {
  const n = target.dim;
  const H = new Float64Array(n * n);
  const gp = new Float64Array(n), gm = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const xp = Float64Array.from(x0), xm = Float64Array.from(x0);
    xp[j] += h;
    xm[j] -= h;
    const a = await target.logDensity(xp, gp), b = await target.logDensity(xm, gm);
    if (!Number.isFinite(a) || !Number.isFinite(b)) return null;
    for (let i = 0; i < n; i++) H[i * n + j] = -(gp[i] - gm[i]) / (2 * h);
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) H[i * n + j] = H[j * n + i] = 0.5 * (H[i * n + j] + H[j * n + i]);
  return H;
}

export async function startingPoint(src: PipelineSource, problem: SamplingProblem, target: SamplingTarget): Promise<StartingPoint> {
  const { parameters, map } = problem;
  const n = parameters.length;
  const x0 = map.toUnconstrained(parameters.map((p) => p.value));
  const got = await stageFisher(src, problem);
  if ('F' in got) {
    const fisherCov = scaledInverse(got.F, n);
    const FU = Float64Array.from(got.F);
    parameters.forEach((p, i) => { if (p.prior.uniform) FU[i * n + i] += 12 / (p.prior.uniform[1] - p.prior.uniform[0]) ** 2; });
    const cov = scaledInverse(FU, n);
    if (cov)
      return {
        x0, covariance: map.covarianceToUnconstrained(cov, x0), source: 'fisher',
        fisher: fisherCov ? { names: parameters.map((p) => p.name), cov: fisherCov } : null,
      };
  }
  const note = 'note' in got ? got.note : 'the Fisher matrix plus the priors is not positive definite';
  if (target.hasGradient) {
    const H = await gradientHessian(target, x0);
    const cov = H && scaledInverse(H, n);
    if (cov) return { x0, covariance: cov, source: 'hessian', fisher: null, note };
  }
  // a diagonal guess in theta, mapped
  const guess = new Float64Array(n * n);
  parameters.forEach((p, i) => {
    const s = p.prior.gaussian ? p.prior.gaussian[1]
      : p.prior.uniform ? 0.01 * (p.prior.uniform[1] - p.prior.uniform[0])
      : 0.01 * Math.max(Math.abs(p.value), 1);
    guess[i * n + i] = s * s;
  });
  return { x0, covariance: map.covarianceToUnconstrained(guess, x0), source: 'guess', fisher: null, note };
}
