/**
 * sampler/ensemble: the affine-invariant ensemble sampler with the stretch move (Goodman & Weare, Commun. Appl.
 * Math. Comput. Sci. 5 (2010) 65, section 3; Foreman-Mackey et al., PASP 125 (2013) 306, "emcee", Algorithm 3,
 * the parallel split-half form). No gradient: for pipelines with black-box stages.
 *
 * K walkers are split into two halves; each walker k of one half, in turn, moves with respect to a walker j drawn
 * uniformly from the other half (fixed while this half moves):
 *   z ~ g(z) proportional to 1/sqrt(z) on [1/a, a]  (G&W eq. 9; drawn as z = ((a - 1) u + 1)^2 / a)
 *   y = x_j + z (x_k - x_j)                          (eq. 7)
 *   accept with probability min(1, z^(d-1) pi(y) / pi(x_k))   (eq. 8; pi(y) = 0 outside the support: rejected)
 * then the other half moves with respect to the first. One `step` moves every walker once and returns one draw
 * per walker. The evaluations are awaited one at a time (the target need not be re-entrant).
 *
 * The walkers start in a ball around settings.start: start + ballScale L z with L L^T = settings.covariance (or
 * the identity times initialScale^2); a walker drawn outside the support is redrawn.
 */
import { Rng, rngState } from '../../core/sampling/rng.js';
import { PLUGIN_API_VERSION, type MethodPlugin } from '../../core/plugin/types.js';
import type { ChainSettings, ChainState, Draw, SamplerMethod, SamplingTarget } from '../contracts/sampler.js';
import { ownState, plain, type CommonState } from './chain-state.js';
import { choleskyOf, lowerMatVec, scaledIdentity } from './dense.js';
import { configSchemaOf, resolveConfig, type FieldRule } from './sampler-config.js';
import { checkSettings, describePoint, evaluateTarget } from './target-evaluation.js';

const ID = 'sampler/ensemble';

export interface EnsembleConfig {
  /** Number of walkers; default (absent) 2 dim + 2; at least dim + 1. */
  walkers?: number;
  /** Stretch scale a > 1 of the move (emcee: 2). */
  stretch: number;
  /** Radius of the initial ball, in standard deviations of the covariance. */
  ballScale: number;
  /** Standard deviation of the identity covariance used when no covariance is given. */
  initialScale: number;
}

export const ENSEMBLE_DEFAULTS: EnsembleConfig = { stretch: 2, ballScale: 0.1, initialScale: 1 };

const RULES: Record<keyof EnsembleConfig, FieldRule> = {
  walkers: { kind: 'integer', min: 3, max: 1e6 },
  stretch: { kind: 'number', min: 1, max: 1e3, minExclusive: true },
  ballScale: { kind: 'number', min: 0, max: 1e300, minExclusive: true },
  initialScale: { kind: 'number', min: 0, max: 1e300, minExclusive: true },
};

const DESCRIPTIONS: Record<keyof EnsembleConfig, string> = {
  walkers: 'Number of walkers (default 2 dim + 2; at least dim + 1, so that the walkers span the space).',
  stretch: 'Stretch scale a of the move: z is drawn on [1/a, a] (Goodman & Weare 2010; emcee: 2).',
  ballScale: 'Radius of the initial ball around the start, in standard deviations of the covariance (or of the identity).',
  initialScale: 'Standard deviation of the identity covariance used when no covariance is given.',
};

const MAX_REDRAWS = 1000;

export interface EnsembleState extends CommonState {
  walkers: number;
  /** Walker positions, walker-major (walkers x dim). */
  positions: number[];
  logDensities: number[];
  accepted: number;
}

interface Workspace {
  /** The proposal. */
  y: Float64Array;
}

export function createEnsemble(config: Partial<EnsembleConfig> = {}): SamplerMethod {
  const c = resolveConfig(ID, ENSEMBLE_DEFAULTS, config, RULES);
  const workspaces = new WeakMap<object, Workspace>();

  function workspace(s: EnsembleState): Workspace {
    let ws = workspaces.get(s);
    if (!ws) {
      ws = { y: new Float64Array(s.dim) };
      workspaces.set(s, ws);
    }
    return ws;
  }

  async function init(target: SamplingTarget, settings: ChainSettings): Promise<ChainState> {
    checkSettings(target, settings.start, settings.covariance, ID);
    const dim = target.dim;
    const K = c.walkers ?? 2 * dim + 2;
    if (K < dim + 1)
      throw new Error(`${ID}: with.walkers = ${K} is too few for a ${dim}-dimensional target: the walkers must span the space, so at least dim + 1 = ${dim + 1} (default 2 dim + 2 = ${2 * dim + 2})`);
    const cov = settings.covariance ? plain(settings.covariance) : scaledIdentity(dim, c.initialScale);
    const L = choleskyOf(cov, dim);
    if (!L) throw new Error(`${ID}: settings.covariance is not positive definite (its Cholesky factorisation failed)`);
    const s: EnsembleState = {
      sampler: 'ensemble', dim, iteration: 0, rng: rngState(settings.seed), evaluations: 0, gradientEvaluations: 0,
      walkers: K, positions: new Array<number>(K * dim).fill(0), logDensities: new Array<number>(K).fill(0), accepted: 0,
    };
    const rng = new Rng(s.rng);
    const z = new Float64Array(dim), dx = new Float64Array(dim), y = new Float64Array(dim);
    for (let k = 0; k < K; k++) {
      let lp = -Infinity;
      for (let attempt = 0; lp === -Infinity; attempt++) {
        if (attempt === MAX_REDRAWS)
          throw new Error(`${ID}: could not place walker ${k} inside the support around settings.start = ${describePoint(target, settings.start)} in ${MAX_REDRAWS} draws (with.ballScale = ${c.ballScale}): start further inside, or give a smaller ballScale`);
        rng.normals(z);
        lowerMatVec(L, z, dx, dim);
        for (let i = 0; i < dim; i++) y[i] = settings.start[i] + c.ballScale * dx[i];
        lp = await evaluateTarget(target, y, undefined, s, ID);
      }
      for (let i = 0; i < dim; i++) s.positions[k * dim + i] = y[i];
      s.logDensities[k] = lp;
    }
    return s;
  }

  async function step(target: SamplingTarget, state: ChainState, settings: ChainSettings): Promise<Draw[]> {
    const s = ownState<EnsembleState>(state, 'ensemble', target, ID);
    const ws = workspace(s);
    const rng = new Rng(s.rng);
    const d = s.dim, K = s.walkers, a = c.stretch;
    const it = s.iteration;
    const accepted = new Uint8Array(K);
    const half = K >> 1;
    for (let h = 0; h < 2; h++) {
      const [lo, hi] = h === 0 ? [0, half] : [half, K];
      const [olo, ohi] = h === 0 ? [half, K] : [0, half];
      for (let k = lo; k < hi; k++) {
        const j = olo + rng.integer(ohi - olo);
        const u = rng.uniform();
        const z = ((a - 1) * u + 1) ** 2 / a;
        for (let i = 0; i < d; i++) {
          const xj = s.positions[j * d + i];
          ws.y[i] = xj + z * (s.positions[k * d + i] - xj);
        }
        const lpY = await evaluateTarget(target, ws.y, undefined, s, ID);
        const logQ = (d - 1) * Math.log(z) + lpY - s.logDensities[k];
        if (Math.log(rng.uniform()) < logQ) {
          for (let i = 0; i < d; i++) s.positions[k * d + i] = ws.y[i];
          s.logDensities[k] = lpY;
          accepted[k] = 1;
          s.accepted++;
        }
      }
    }
    const draws: Draw[] = [];
    for (let k = 0; k < K; k++) {
      const x = new Float64Array(d);
      for (let i = 0; i < d; i++) x[i] = s.positions[k * d + i];
      draws.push({
        x, logDensity: s.logDensities[k], warmup: it < settings.warmup, walker: k,
        stats: { accept: accepted[k] },
      });
    }
    s.iteration = it + 1;
    return draws;
  }

  return { name: 'ensemble', needsGradient: false, init, step, evaluations: (state) => (state as EnsembleState).evaluations };
}

export const ensemble: MethodPlugin<Partial<EnsembleConfig>, SamplerMethod> = {
  apiVersion: PLUGIN_API_VERSION,
  id: ID,
  version: '1.0.0',
  kind: 'sampler',
  description: 'Affine-invariant ensemble sampler (Goodman & Weare 2010 stretch move, split halves as in emcee); needs no gradient.',
  // walkers has no default in the schema (it depends on the target's dimension)
  configSchema: configSchemaOf(RULES, ENSEMBLE_DEFAULTS, DESCRIPTIONS),
  create: (config) => createEnsemble(config),
};
