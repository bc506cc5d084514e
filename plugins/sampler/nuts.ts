/**
 * sampler/nuts: the No-U-Turn Sampler (Hoffman & Gelman 2014; multinomial sampling and the generalized no-U-turn
 * criterion of Betancourt 2017, arXiv:1701.02434) with a dense (or diagonal) Euclidean metric.
 *
 * Warm-up, as Stan does it: the step size by dual averaging toward `targetAccept` on every warm-up iteration
 * (step-size.ts); the metric (the covariance Sigma = M^-1) re-estimated at the end of each slow window
 * (metric-windows.ts) from the window's draws, regularised toward their diagonal (running-covariance.ts), after
 * which the step size is guessed afresh and dual averaging restarts. The metric starts from settings.covariance
 * (e.g. the Fisher covariance), or from the identity times `initialScale`^2. After warm-up the step size is the
 * dual average and the metric is fixed.
 *
 * The chain state is plain JSON (position, gradient, step size, metric, adaptation counters, RNG); the work
 * arrays of the trajectory live in a workspace made once per chain state (nuts-trajectory.ts).
 */
import { Rng, rngState, type RngState } from '../../core/sampling/rng.js';
import { PLUGIN_API_VERSION, type MethodPlugin } from '../../core/plugin/types.js';
import type { ChainSettings, ChainState, Draw, SamplerMethod, SamplingTarget } from '../contracts/sampler.js';
import { ownState, plain, type CommonState } from './chain-state.js';
import { scaledIdentity } from './dense.js';
import { EuclideanMetric, phasePoint, type GradientDensity, type PhasePoint } from './hamiltonian.js';
import { metricSchedule, type MetricSchedule } from './metric-windows.js';
import { NutsWorkspace } from './nuts-trajectory.js';
import { addDraw, emptyRunningCovariance, regularizedCovariance, type RunningCovariance } from './running-covariance.js';
import { configSchemaOf, resolveConfig, type FieldRule } from './sampler-config.js';
import { finalStepSize, initialStepSize, startDualAveraging, updateDualAveraging, type DualAveraging } from './step-size.js';
import { checkSettings, checkedLogDensity, describePoint, evaluateTarget, requestEvaluation } from './target-evaluation.js';

const ID = 'sampler/nuts';

export interface NutsConfig {
  /** Target mean acceptance statistic of dual averaging. */
  targetAccept: number;
  /** Largest number of trajectory doublings (at most 2^maxTreeDepth - 1 leapfrog steps per iteration). */
  maxTreeDepth: number;
  /** An energy error H - H0 above this is a divergence. */
  maxEnergyError: number;
  /** Where the first step-size search starts. */
  initialStepSize: number;
  /** 'dense': full covariance metric; 'diag': its diagonal only. */
  metric: 'dense' | 'diag';
  /** Re-estimate the metric in warm-up windows (false: keep the initial metric, adapt the step size only). */
  adaptMetric: boolean;
  initBuffer: number;
  baseWindow: number;
  termBuffer: number;
  /** Standard deviation of the identity metric used when settings.covariance is not given. */
  initialScale: number;
  /**
   * How many draws settings.covariance counts for in each window's estimate (0: Stan's window estimate alone).
   * Default 500: on the 3x2pt posterior (19 parameters) the Fisher covariance is the curvature to a few per cent,
   * while Stan's short windows (25, 50, 100 draws, shrunk to the diagonal) are noisy estimates that made the step
   * size fall from ~0.8 to ~0.05 and trajectories grow from ~7 to ~100 steps; weighted, the windows refine it.
   */
  metricPriorDraws: number;
}

export const NUTS_DEFAULTS: NutsConfig = {
  targetAccept: 0.8, maxTreeDepth: 10, maxEnergyError: 1000, initialStepSize: 1, metric: 'dense', adaptMetric: true,
  initBuffer: 75, baseWindow: 25, termBuffer: 50, initialScale: 1, metricPriorDraws: 500,
};

const RULES: Record<keyof NutsConfig, FieldRule> = {
  targetAccept: { kind: 'number', min: 0, max: 1, minExclusive: true, maxExclusive: true },
  maxTreeDepth: { kind: 'integer', min: 1, max: 30 },
  maxEnergyError: { kind: 'number', min: 0, max: 1e300, minExclusive: true },
  initialStepSize: { kind: 'number', min: 0, max: 1e7, minExclusive: true },
  metric: { kind: 'enum', values: ['dense', 'diag'] },
  adaptMetric: { kind: 'boolean' },
  initBuffer: { kind: 'integer', min: 0, max: 1e9 },
  baseWindow: { kind: 'integer', min: 1, max: 1e9 },
  termBuffer: { kind: 'integer', min: 0, max: 1e9 },
  initialScale: { kind: 'number', min: 0, max: 1e300, minExclusive: true },
  metricPriorDraws: { kind: 'integer', min: 0, max: 1e12 },
};

const DESCRIPTIONS: Record<keyof NutsConfig, string> = {
  targetAccept: 'Target mean acceptance statistic of the step-size dual averaging (Hoffman & Gelman 2014; Stan: 0.8). Higher: smaller steps, fewer divergences.',
  maxTreeDepth: 'Largest number of trajectory doublings per iteration (at most 2^depth - 1 leapfrog steps).',
  maxEnergyError: 'A leapfrog point whose energy exceeds the start by more than this is a divergence (Stan: 1000).',
  initialStepSize: 'Starting value of the first step-size search (Hoffman & Gelman Algorithm 4).',
  metric: "'dense': the full covariance as metric (captures correlations); 'diag': its diagonal only.",
  adaptMetric: 'Re-estimate the metric from the warm-up draws in windows (Stan schedule); false keeps the initial metric.',
  initBuffer: 'Warm-up iterations before the first metric window (step size only; scaled down for short warm-ups).',
  baseWindow: 'Length of the first metric window; each next window doubles.',
  termBuffer: 'Warm-up iterations after the last metric window (step size only, for the final metric).',
  initialScale: 'Standard deviation of the identity metric used when no covariance is given.',
  metricPriorDraws: 'How many draws settings.covariance counts for in each window estimate of the metric, (n0 C0 + n S) / (n0 + n); 0 (Stan): the window estimate alone. Default 500: a Fisher covariance is worth keeping when the windows are short.',
};

/** The chain state of sampler/nuts (plain JSON). */
export interface NutsState extends CommonState {
  x: number[];
  gradient: number[];
  logDensity: number;
  stepSize: number;
  /** Sigma = M^-1, row-major dim x dim. */
  metric: number[];
  /** Incremented whenever `metric` changes (tells the workspace to refactor it). */
  metricVersion: number;
  dualAveraging: DualAveraging;
  /** The running covariance of the current slow window's draws. */
  window: RunningCovariance;
  /** Divergent transitions so far (warm-up included). */
  divergences: number;
  /** settings.covariance and its weight in draws in the window estimates (with.metricPriorDraws; 0 without a covariance). */
  priorMetric: number[];
  priorDraws: number;
}

/** What a chain keeps besides its state: the trajectory's arrays and the factored metric. */
interface Workspace {
  metric: EuclideanMetric;
  metricVersion: number;
  trajectory: NutsWorkspace;
  scratch: Float64Array;
  search: { start: PhasePoint; work: PhasePoint };
  schedule: { warmup: number; value: MetricSchedule } | null;
}

const diagonalOf = (a: ArrayLike<number>, n: number): number[] => {
  const out = new Array<number>(n * n).fill(0);
  for (let i = 0; i < n; i++) out[i * n + i] = a[i * n + i];
  return out;
};

/**
 * The window's covariance S made a metric. With a prior covariance C0 counting n0 draws: (n0 C0 + n S) / (n0 + n),
 * S unshrunk (C0 keeps it positive definite). Without: S shrunk toward the current metric M with Stan's weight,
 * (n S + 5 M) / (n + 5). Stan shrinks toward 1e-3 I, whose scale depends on the parameters' units, and the usual
 * alternative, S's own diagonal, is ruinous for a correlated posterior: on the 3x2pt posterior (correlations near
 * 0.99) it inflated the thin directions' variance by orders of magnitude, halved the step size and doubled the
 * trajectories. The current metric has the right units and shape.
 */
function windowMetric(s: NutsState, diagonalOnly: boolean): number[] | null {
  const S = regularizedCovariance(s.window, diagonalOnly, false);
  if (!S) return null;
  const n = s.window.n;
  if (s.priorDraws > 0) {
    const n0 = s.priorDraws;
    return S.map((v, i) => (n0 * s.priorMetric[i] + n * v) / (n0 + n));
  }
  return S.map((v, i) => (n * v + 5 * s.metric[i]) / (n + 5));
}

export function createNuts(config: Partial<NutsConfig> = {}): SamplerMethod {
  const c = resolveConfig(ID, NUTS_DEFAULTS, config, RULES);
  const workspaces = new WeakMap<object, Workspace>();

  const gradientDensity = (target: SamplingTarget, s: NutsState): GradientDensity => ({
    request: (x, g) => requestEvaluation(target, x, g, s),
    check: (lp, x, g) => checkedLogDensity(target, lp, x, g, ID),
  });

  function workspace(s: NutsState): Workspace {
    let ws = workspaces.get(s);
    if (!ws) {
      ws = {
        metric: new EuclideanMetric(s.dim), metricVersion: -1, trajectory: new NutsWorkspace(s.dim, c.maxTreeDepth),
        scratch: new Float64Array(s.dim), search: { start: phasePoint(s.dim), work: phasePoint(s.dim) }, schedule: null,
      };
      workspaces.set(s, ws);
    }
    if (ws.metricVersion !== s.metricVersion) {
      if (!ws.metric.set(s.metric)) throw new Error(`${ID}: the metric in the chain state is not positive definite`);
      ws.metricVersion = s.metricVersion;
    }
    return ws;
  }

  function schedule(ws: Workspace, warmup: number): MetricSchedule {
    if (!ws.schedule || ws.schedule.warmup !== warmup) ws.schedule = { warmup, value: metricSchedule(warmup, c.initBuffer, c.baseWindow, c.termBuffer) };
    return ws.schedule.value;
  }

  async function init(target: SamplingTarget, settings: ChainSettings): Promise<ChainState> {
    if (!target.hasGradient)
      throw new Error(`${ID} needs the gradient of the log density, and this target has none (a stage without derivatives, e.g. a black box?): use sampler/ensemble or sampler/metropolis`);
    checkSettings(target, settings.start, settings.covariance, ID);
    const dim = target.dim;
    const cov = settings.covariance ? plain(settings.covariance) : scaledIdentity(dim, c.initialScale);
    const sigma = c.metric === 'diag' ? diagonalOf(cov, dim) : cov;
    const rng: RngState = rngState(settings.seed);
    const s: NutsState = {
      sampler: 'nuts', dim, iteration: 0, rng, evaluations: 0, gradientEvaluations: 0,
      x: plain(settings.start), gradient: new Array<number>(dim).fill(0), logDensity: NaN, stepSize: c.initialStepSize,
      metric: sigma, metricVersion: 0, dualAveraging: startDualAveraging(c.initialStepSize), window: emptyRunningCovariance(dim), divergences: 0,
      priorMetric: settings.covariance && c.metricPriorDraws > 0 ? sigma.slice() : [], priorDraws: settings.covariance ? c.metricPriorDraws : 0,
    };
    const probe = new EuclideanMetric(dim);
    if (!probe.set(sigma)) throw new Error(`${ID}: settings.covariance is not positive definite (its Cholesky factorisation failed)`);
    const ws = workspace(s);
    const x = Float64Array.from(settings.start);
    const g = new Float64Array(dim);
    const lp = await evaluateTarget(target, x, g, s, ID);
    if (lp === -Infinity) throw new Error(`${ID}: settings.start is outside the support (log density -Infinity at ${describePoint(target, x)}, unconstrained coordinates)`);
    s.logDensity = lp;
    s.gradient = plain(g);
    s.stepSize = await initialStepSize(ws.metric, gradientDensity(target, s), new Rng(s.rng), x, g, lp, c.initialStepSize, ID, ws.search);
    s.dualAveraging = startDualAveraging(s.stepSize);
    return s;
  }

  async function step(target: SamplingTarget, state: ChainState, settings: ChainSettings): Promise<Draw[]> {
    const s = ownState<NutsState>(state, 'nuts', target, ID);
    const ws = workspace(s);
    const rng = new Rng(s.rng);
    const logDensity = gradientDensity(target, s);
    const it = s.iteration;
    const warmup = settings.warmup;
    const eps = s.stepSize;
    const tr = await ws.trajectory.transition(ws.metric, logDensity, rng, s.x, s.gradient, s.logDensity, { stepSize: eps, maxTreeDepth: c.maxTreeDepth, maxEnergyError: c.maxEnergyError });
    for (let i = 0; i < s.dim; i++) {
      s.x[i] = tr.x[i];
      s.gradient[i] = tr.g[i];
    }
    s.logDensity = tr.logp;
    if (tr.divergent) s.divergences++;
    const draw: Draw = {
      x: Float64Array.from(tr.x), logDensity: tr.logp, warmup: it < warmup, walker: 0,
      stats: { accept_stat: tr.acceptStat, step_size: eps, tree_depth: tr.treeDepth, n_leapfrog: tr.nLeapfrog, divergent: tr.divergent ? 1 : 0, energy: tr.energy },
    };
    if (it < warmup) {
      s.stepSize = updateDualAveraging(s.dualAveraging, tr.acceptStat, c.targetAccept);
      if (c.adaptMetric) {
        const sched = schedule(ws, warmup);
        if (it >= sched.slowStart && it < sched.slowEnd) addDraw(s.window, s.x, ws.scratch);
        if (sched.windowEnds.includes(it + 1)) {
          const cov = windowMetric(s, c.metric === 'diag');
          s.window = emptyRunningCovariance(s.dim);
          if (cov && ws.metric.set(cov)) {
            s.metric = cov;
            s.metricVersion++;
            ws.metricVersion = s.metricVersion;
            // a new metric: guess the step size afresh and restart dual averaging (Stan)
            s.stepSize = await initialStepSize(ws.metric, logDensity, rng, s.x, s.gradient, s.logDensity, s.stepSize, ID, ws.search);
            s.dualAveraging = startDualAveraging(s.stepSize);
          }
        }
      }
      if (it + 1 === warmup) s.stepSize = finalStepSize(s.dualAveraging, s.stepSize);
    }
    s.iteration = it + 1;
    return [draw];
  }

  return { name: 'nuts', needsGradient: true, init, step, evaluations: (state) => (state as NutsState).evaluations };
}

export const nuts: MethodPlugin<Partial<NutsConfig>, SamplerMethod> = {
  apiVersion: PLUGIN_API_VERSION,
  id: ID,
  version: '1.0.0',
  kind: 'sampler',
  description: 'No-U-Turn Sampler (multinomial, generalized U-turn criterion) with dual-averaging step size and a dense metric adapted in windows (Stan schedule).',
  configSchema: configSchemaOf(RULES, NUTS_DEFAULTS, DESCRIPTIONS),
  create: (config) => createNuts(config),
};
