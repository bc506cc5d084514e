/**
 * sampler/metropolis: adaptive random-walk Metropolis, the sampler Cobaya and CosmoSIS users know.
 *
 *   proposal   y = x + s (2.38 / sqrt(d)) L z,  z ~ N(0, I),  L L^T = C   (the optimal Gaussian scaling of Roberts,
 *              Gelman & Gilks, Ann. Appl. Probab. 7 (1997) 110, as used by Haario, Saksman & Tamminen,
 *              Bernoulli 7 (2001) 223, "An adaptive Metropolis algorithm", eq. 2.1 with s_d = 2.38^2 / d)
 *   accept     with probability min(1, pi(y) / pi(x)) (a point outside the support, pi = 0, is rejected)
 *   covariance C starts from settings.covariance (or the identity times `initialScale`^2) and is re-learned
 *              during warm-up (Haario et al.: the empirical covariance of the chain so far): every `learnEvery`
 *              iterations, C = (n0 C0 + n S) / (n0 + n) with S the covariance of the n warm-up draws after the
 *              first `learnFrom` fraction of the warm-up (regularised toward its diagonal: running-covariance.ts),
 *              and C0 the initial covariance counting as n0 = `covariancePriorDraws` draws (dim + 1 for the
 *              identity), so that a good Fisher covariance is not replaced by a noisy estimate from a short warm-up
 *   scale      log s adapted during warm-up toward the acceptance rate `targetAccept` by Robbins-Monro,
 *              log s += m^-0.6 (alpha_m - targetAccept) with alpha_m = min(1, pi(y)/pi(x))
 *              (Andrieu & Thoms, Stat. Comput. 18 (2008) 343, section 5, "adaptive scaling")
 *   after      scale and covariance frozen (a Markov chain), unless `adaptAfterWarmup`, which keeps learning the
 *              covariance (Haario et al.'s AM, which they prove ergodic) with the scale fixed.
 */
import { Rng, rngState } from '../../core/sampling/rng.js';
import { PLUGIN_API_VERSION, type MethodPlugin } from '../../core/plugin/types.js';
import type { ChainSettings, ChainState, Draw, SamplerMethod, SamplingTarget } from '../contracts/sampler.js';
import { ownState, plain, type CommonState } from './chain-state.js';
import { choleskyOf, lowerMatVec, scaledIdentity } from './dense.js';
import { addDraw, emptyRunningCovariance, regularizedCovariance, type RunningCovariance } from './running-covariance.js';
import { configSchemaOf, resolveConfig, type FieldRule } from './sampler-config.js';
import { checkSettings, describePoint, evaluateTarget } from './target-evaluation.js';

const ID = 'sampler/metropolis';

export interface MetropolisConfig {
  targetAccept: number;
  adaptScale: boolean;
  learnCovariance: boolean;
  learnEvery: number;
  learnFrom: number;
  covariancePriorDraws: number;
  adaptAfterWarmup: boolean;
  initialScale: number;
}

export const METROPOLIS_DEFAULTS: MetropolisConfig = {
  targetAccept: 0.25, adaptScale: true, learnCovariance: true, learnEvery: 50, learnFrom: 0.25, covariancePriorDraws: 1000,
  adaptAfterWarmup: false, initialScale: 1,
};

const RULES: Record<keyof MetropolisConfig, FieldRule> = {
  targetAccept: { kind: 'number', min: 0, max: 1, minExclusive: true, maxExclusive: true },
  adaptScale: { kind: 'boolean' },
  learnCovariance: { kind: 'boolean' },
  learnEvery: { kind: 'integer', min: 1, max: 1e9 },
  learnFrom: { kind: 'number', min: 0, max: 1, maxExclusive: true },
  covariancePriorDraws: { kind: 'integer', min: 0, max: 1e12 },
  adaptAfterWarmup: { kind: 'boolean' },
  initialScale: { kind: 'number', min: 0, max: 1e300, minExclusive: true },
};

const DESCRIPTIONS: Record<keyof MetropolisConfig, string> = {
  targetAccept: 'Acceptance rate the proposal scale is adapted toward during warm-up (0.234 is optimal for Gaussian targets in high dimension).',
  adaptScale: 'Adapt the proposal scale during warm-up (Robbins-Monro on log scale).',
  learnCovariance: 'Re-learn the proposal covariance from the warm-up draws (Haario et al. 2001).',
  learnEvery: 'Iterations between two updates of the learned proposal covariance.',
  learnFrom: 'Fraction of the warm-up whose draws are not used to learn the covariance (the chain is still finding the typical set).',
  covariancePriorDraws: 'How many draws settings.covariance counts for in the learned covariance (0: the empirical covariance only).',
  adaptAfterWarmup: 'Keep learning the covariance after warm-up (adaptive Metropolis proper; the scale stays fixed).',
  initialScale: 'Standard deviation of the identity covariance used when no covariance is given.',
};

export interface MetropolisState extends CommonState {
  x: number[];
  logDensity: number;
  /** Proposal covariance C (before the 2.38^2/d and scale factors), row-major. */
  proposal: number[];
  proposalVersion: number;
  logScale: number;
  /** The initial covariance C0 and its weight in draws. */
  prior: number[];
  priorDraws: number;
  learned: RunningCovariance;
  /** Robbins-Monro iterations so far. */
  adaptations: number;
  accepted: number;
}

interface Workspace {
  factor: Float64Array;
  version: number;
  z: Float64Array;
  step: Float64Array;
  y: Float64Array;
}

export function createMetropolis(config: Partial<MetropolisConfig> = {}): SamplerMethod {
  const c = resolveConfig(ID, METROPOLIS_DEFAULTS, config, RULES);
  const workspaces = new WeakMap<object, Workspace>();

  function workspace(s: MetropolisState): Workspace {
    let ws = workspaces.get(s);
    if (!ws) {
      const n = s.dim;
      ws = { factor: new Float64Array(n * n), version: -1, z: new Float64Array(n), step: new Float64Array(n), y: new Float64Array(n) };
      workspaces.set(s, ws);
    }
    if (ws.version !== s.proposalVersion) {
      const L = choleskyOf(s.proposal, s.dim);
      if (!L) throw new Error(`${ID}: the proposal covariance in the chain state is not positive definite`);
      ws.factor.set(L);
      ws.version = s.proposalVersion;
    }
    return ws;
  }

  async function init(target: SamplingTarget, settings: ChainSettings): Promise<ChainState> {
    checkSettings(target, settings.start, settings.covariance, ID);
    const dim = target.dim;
    const cov = settings.covariance ? plain(settings.covariance) : scaledIdentity(dim, c.initialScale);
    if (!choleskyOf(cov, dim)) throw new Error(`${ID}: settings.covariance is not positive definite (its Cholesky factorisation failed)`);
    const s: MetropolisState = {
      sampler: 'metropolis', dim, iteration: 0, rng: rngState(settings.seed), evaluations: 0, gradientEvaluations: 0,
      x: plain(settings.start), logDensity: NaN, proposal: cov, proposalVersion: 0, logScale: 0,
      prior: cov.slice(), priorDraws: settings.covariance ? c.covariancePriorDraws : dim + 1,
      learned: emptyRunningCovariance(dim), adaptations: 0, accepted: 0,
    };
    const lp = await evaluateTarget(target, settings.start, undefined, s, ID);
    if (lp === -Infinity) throw new Error(`${ID}: settings.start is outside the support (log density -Infinity at ${describePoint(target, settings.start)}, unconstrained coordinates)`);
    s.logDensity = lp;
    return s;
  }

  /** C = (n0 C0 + n S) / (n0 + n), when the learned estimate exists. */
  function learn(s: MetropolisState): void {
    const n = s.learned.n, n0 = s.priorDraws;
    // with a prior covariance the estimate needs no shrinking (C0 keeps C positive definite); shrinking a correlated
    // S toward its diagonal would inflate its thin directions (see nuts.ts windowMetric)
    const S = regularizedCovariance(s.learned, false, !(n0 > 0));
    if (!S) return;
    const C = S.map((v, i) => (n0 * s.prior[i] + n * v) / (n0 + n));
    if (!choleskyOf(C, s.dim)) return;
    s.proposal = C;
    s.proposalVersion++;
  }

  async function step(target: SamplingTarget, state: ChainState, settings: ChainSettings): Promise<Draw[]> {
    const s = ownState<MetropolisState>(state, 'metropolis', target, ID);
    const ws = workspace(s);
    const rng = new Rng(s.rng);
    const n = s.dim;
    const it = s.iteration;
    const warmup = settings.warmup;
    // y = x + s (2.38/sqrt(d)) L z
    rng.normals(ws.z);
    lowerMatVec(ws.factor, ws.z, ws.step, n);
    const h = Math.exp(s.logScale) * (2.38 / Math.sqrt(n));
    for (let i = 0; i < n; i++) ws.y[i] = s.x[i] + h * ws.step[i];
    const lpY = await evaluateTarget(target, ws.y, undefined, s, ID);
    const logAlpha = lpY - s.logDensity; // -Infinity outside the support
    const accept = Math.log(rng.uniform()) < logAlpha;
    if (accept) {
      for (let i = 0; i < n; i++) s.x[i] = ws.y[i];
      s.logDensity = lpY;
      s.accepted++;
    }
    const draw: Draw = { x: Float64Array.from(s.x), logDensity: s.logDensity, warmup: it < warmup, walker: 0, stats: { accept: accept ? 1 : 0, scale: Math.exp(s.logScale) } };
    if (it < warmup) {
      if (c.adaptScale) {
        s.adaptations++;
        const alpha = logAlpha >= 0 ? 1 : Math.exp(logAlpha);
        s.logScale += s.adaptations ** -0.6 * (alpha - c.targetAccept);
      }
      if (c.learnCovariance && it >= Math.floor(c.learnFrom * warmup)) {
        addDraw(s.learned, s.x, ws.z);
        if ((it + 1) % c.learnEvery === 0 || it + 1 === warmup) learn(s);
      }
    } else if (c.learnCovariance && c.adaptAfterWarmup) {
      addDraw(s.learned, s.x, ws.z);
      if ((it + 1) % c.learnEvery === 0) learn(s);
    }
    s.iteration = it + 1;
    return [draw];
  }

  return { name: 'metropolis', needsGradient: false, init, step, evaluations: (state) => (state as MetropolisState).evaluations };
}

export const metropolis: MethodPlugin<Partial<MetropolisConfig>, SamplerMethod> = {
  apiVersion: PLUGIN_API_VERSION,
  id: ID,
  version: '1.0.0',
  kind: 'sampler',
  description: 'Adaptive random-walk Metropolis (Haario et al. 2001): Gaussian proposal from the covariance scaled by 2.38^2/d, covariance and scale adapted during warm-up.',
  configSchema: configSchemaOf(RULES, METROPOLIS_DEFAULTS, DESCRIPTIONS),
  create: (config) => createMetropolis(config),
};
