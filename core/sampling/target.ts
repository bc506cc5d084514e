/**
 * The posterior a sampler explores, built from a pipeline whose last stage computes a log-likelihood:
 *
 *   log p(x) = ln L(theta(x)) + ln prior(theta(x)) + log |dtheta/dx|      (transforms.ts)
 *
 * in the unconstrained coordinates x of the varied parameters. Each evaluation runs the pipeline's plan at
 * theta through one memo store (kept for the chain, bounded: the stages that no sampled parameter reaches, such
 * as the n(z), are computed once), as test/bench/likelihood.bench.ts does.
 *
 * Which stage is the log-likelihood: the one whose static description (StagePlugin.describe, known before
 * compute) carries `logLikelihood: {field, fisherOption?}`: output[field] is a Dual holding ln L (up to a
 * constant) and, when parameters are varied, d ln L/dtheta in `d` in the order of output.names; setting
 * `with[fisherOption] = true` makes the stage add the Fisher matrix output[fisherOption].F (priors included)
 * over output[fisherOption].names. likelihood/gaussian declares {field: 'lnL', fisherOption: 'fisher'}.
 *
 * Gradients (for NUTS) come from the pipeline's differentiator through the likelihood stage: they must be
 * exact, so the differentiator must be an AD one (reverse-adjoint, forward-ad: modes 'base-point' and
 * 'forward-single'), and no stage between a sampled parameter and the likelihood may be a black box
 * (`differentiable: 'none'`, whose derivatives would come from a stencil). Gradient-free samplers run a plan
 * with nothing varied (values only: no gradient is computed).
 */
import { MemoryStore, type MemoStore } from '../cache/store.js';
import { executePlan } from '../graph/execute.js';
import { ancestors, dependsOn, variedParameters, type Plan } from '../graph/plan.js';
import { resolveMethod } from '../plugin/bindings.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { InputError, issue, type Issue } from '../schema/input-error.js';
import type { Differentiator } from '../graph/differentiator.js';
import { logPrior, sampledParameters, type SampledParameter } from './priors.js';
import { ParameterMap } from './transforms.js';
import type { SamplingTarget } from '../../plugins/contracts/sampler.js';

/** What a log-likelihood stage declares in its static description. */
export interface LogLikelihoodDescription {
  /** output[field] is a Dual: ln L and, under differentiation, d ln L/dtheta in the order of output.names. */
  field: string;
  /** with[fisherOption] = true adds output[fisherOption] with the Fisher matrix `F` over `names` (priors included). */
  fisherOption?: string;
  /**
   * Set (to the option's path under the stage, e.g. 'with.data') when the data are recomputed from the model at every
   * point: ln L is then constant and the posterior is the prior, which `cosmodag sample` refuses.
   */
  dataFollowsModel?: string;
}

/** The log-likelihood stage of a plan and what it declares; an InputError when there is none (or several). */
export function likelihoodStage(plan: Plan): { stage: string; declared: LogLikelihoodDescription } {
  const found: { stage: string; declared: LogLikelihoodDescription }[] = [];
  for (const name of plan.order) {
    const d = plan.descriptions?.get(name)?.logLikelihood as LogLikelihoodDescription | undefined;
    if (d && typeof d.field === 'string') found.push({ stage: name, declared: d });
  }
  const last = plan.order[plan.order.length - 1];
  if (!found.length) {
    const st = plan.stages.get(last)!;
    throw new InputError([issue(`stages.${last}`, `${st.plugin.id} does not compute a log-likelihood, and no other stage does: cosmodag sample needs a pipeline ending in a log-likelihood stage (e.g. likelihood/gaussian, as in pipelines/euclid-3x2pt-likelihood.json)`)]);
  }
  if (found.length > 1)
    throw new InputError([issue('stages', `several stages compute a log-likelihood (${found.map((f) => f.stage).join(', ')}); cosmodag sample needs exactly one`)]);
  const like = found[0];
  if (like.declared.dataFollowsModel)
    throw new InputError([issue(`stages.${like.stage}.${like.declared.dataFollowsModel}`, `is "model": the data are the model at every sampled point, so ln L is the same everywhere and the chains would sample the prior; write data first (cosmodag run PIPELINE --out out/mock writes cl.tsv at the parameters' values, --param NAME=VALUE for a mock elsewhere) and pass --set 'stages.${like.stage}.${like.declared.dataFollowsModel}="out/mock/cl.tsv"'`)]);
  // every other stage must feed it (a stage beside it would be computed for nothing, or be another result)
  const feeding = ancestors(plan, [like.stage]);
  const beside = plan.order.filter((n) => !feeding.has(n));
  if (beside.length)
    throw new InputError([issue(`stages.${beside[0]}`, `does not feed the log-likelihood stage "${like.stage}": cosmodag sample needs a pipeline whose last stage is the log-likelihood; remove ${beside.join(', ')}`)]);
  return like;
}

/**
 * Why this plan cannot give exact gradients of ln L for the sampled parameters, or null: a differentiator that
 * is not AD, or a black-box stage between a sampled parameter and the likelihood.
 */
export function gradientProblems(plan: Plan, likeStage: string, sampled: readonly string[]): Issue[] {
  const out: Issue[] = [];
  const d = resolveMethod(plan.container, 'differentiator');
  if (d) {
    const instance = d.plugin.create(d.config) as Differentiator;
    if (instance.mode !== 'base-point' && instance.mode !== 'forward-single')
      out.push(issue('methods.differentiator', `${instance.name} gives approximate derivatives (stencil or finite differences); a gradient sampler needs exact ones: use "reverse-adjoint" (or "forward-ad"), or a gradient-free sampler (--sampler ensemble or metropolis)`));
  }
  const want = new Set(sampled);
  for (const name of ancestors(plan, [likeStage])) {
    const st = plan.stages.get(name)!;
    if (st.plugin.differentiable !== 'none') continue;
    const reached = [...dependsOn(plan, name)].filter((p) => want.has(p));
    if (reached.length)
      out.push(issue(`stages.${name}`, `${st.plugin.id} is a black box (no derivatives of its own) and depends on the sampled parameter${reached.length > 1 ? 's' : ''} ${reached.join(', ')}: a gradient sampler cannot get exact gradients through it; use --sampler ensemble or --sampler metropolis`));
  }
  return out;
}

/**
 * A memo store keeping the most recently used entries only: a chain visits new points for hours, and only the
 * stages no sampled parameter reaches (read at every evaluation, so always recent) are worth keeping.
 */
export class RecentStore implements MemoStore {
  private readonly map = new Map<string, unknown>();
  constructor(readonly capacity = 64) {}
  get(key: string): unknown {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, value: unknown): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
  }
  get size(): number { return this.map.size; }
}

/** The sampling problem of a planned pipeline: its likelihood stage, its sampled parameters and their map. */
export interface SamplingProblem {
  plan: Plan;
  registry: PluginRegistry;
  likeStage: string;
  declared: LogLikelihoodDescription;
  parameters: SampledParameter[];
  map: ParameterMap;
  /** Problems that stop a gradient sampler (empty: gradients are exact). */
  gradientProblems: Issue[];
  /** Names of sampled parameters with an improper flat prior. */
  improper: string[];
}

/** Everything about a pipeline `cosmodag sample` checks before compute (InputError on a problem). */
export function samplingProblem(plan: Plan, registry: PluginRegistry): SamplingProblem {
  const { stage: likeStage, declared } = likelihoodStage(plan);
  const names = variedParameters(plan);
  if (!names.length) throw new InputError([issue('parameters', 'no parameter is varied: mark the parameters to sample with "vary": true')]);
  const { parameters, problems } = sampledParameters(names, (n) => {
    const p = plan.parameters.get(n)!;
    const entry = plan.pipeline.parameters?.[n];
    return { value: p.value, spec: p.spec, latex: p.latex, prior: entry?.prior, prior_sigma: entry?.prior_sigma };
  });
  if (problems.length) throw new InputError(problems);
  return {
    plan, registry, likeStage, declared, parameters,
    map: new ParameterMap(parameters),
    gradientProblems: gradientProblems(plan, likeStage, names),
    improper: parameters.filter((p) => p.improper).map((p) => p.name),
  };
}

/** Counts of what the target did, for the diagnostics. */
export interface TargetCounts {
  /** Pipeline evaluations (one per logDensity call that reached the likelihood). */
  evaluations: number;
  /** Points refused before any compute: outside a stage's physical conditions (e.g. Omega_b > Omega_m). */
  outside: number;
  /** Evaluations that failed in a stage or gave a non-finite ln L (taken as -Infinity). */
  failed: number;
  /** The first failure's message and point. */
  firstFailure?: string;
}

/**
 * The posterior of a sampling problem as a SamplingTarget. `gradientPlan` varies the sampled parameters
 * (used when logDensity is asked for a gradient); `valuesPlan` varies nothing (values only).
 */
export class PipelineTarget implements SamplingTarget {
  readonly dim: number;
  readonly names: readonly string[];
  readonly hasGradient: boolean;
  readonly counts: TargetCounts = { evaluations: 0, outside: 0, failed: 0 };
  private readonly theta: Float64Array;
  private readonly params: Record<string, number> = {};
  private readonly checked: { stage: string; check: (params: Record<string, number>) => string[] }[];
  private gradientOrder: Int32Array | null = null;

  constructor(
    readonly problem: SamplingProblem,
    private readonly valuesPlan: Plan | null,
    private readonly gradientPlan: Plan | null,
    private readonly stores: { values: MemoStore; gradient: MemoStore } = { values: new RecentStore(), gradient: new RecentStore() },
  ) {
    this.dim = problem.parameters.length;
    this.names = problem.parameters.map((p) => p.name);
    this.hasGradient = gradientPlan !== null && problem.gradientProblems.length === 0;
    this.theta = new Float64Array(this.dim);
    for (const [n, p] of problem.plan.parameters) this.params[n] = p.value;
    // the stages' own cross-parameter checks (Omega_b <= Omega_m, Omega_de > 0), for the stages reading a sampled parameter
    const sampled = new Set(this.names);
    const plan = problem.plan;
    this.checked = plan.order
      .map((n) => plan.stages.get(n)!)
      .filter((st) => st.plugin.check && Object.keys(st.reads).some((r) => sampled.has(r)))
      .map((st) => ({ stage: st.name, check: (params: Record<string, number>) => st.plugin.check!(st.config, { params, baseDir: plan.baseDir }) }));
  }

  /** theta(x) for the sampled parameters, in order. */
  physical(x: ArrayLike<number>): Float64Array {
    return this.problem.map.toPhysical(x);
  }

  /** ln prior(theta) + ln L(theta) = log p(x) minus the log-Jacobian: the log posterior in the physical space. */
  physicalLogPosterior(x: ArrayLike<number>, logDensity: number): number {
    return logDensity - this.problem.map.logJacobian(x);
  }

  /** True when theta is inside every parameter's physical range and passes the stages' own checks. */
  private inside(): boolean {
    const ps = this.problem.plan.parameters;
    for (let i = 0; i < this.dim; i++) {
      const s = ps.get(this.names[i])!.spec, v = this.theta[i];
      if (!Number.isFinite(v)) return false;
      if ((s.min !== undefined && v < s.min) || (s.max !== undefined && v > s.max)) return false;
      if ((s.exclusiveMin !== undefined && v <= s.exclusiveMin) || (s.exclusiveMax !== undefined && v >= s.exclusiveMax)) return false;
    }
    for (const c of this.checked) if (c.check(this.params).length) return false;
    return true;
  }

  async logDensity(x: Float64Array, gradient?: Float64Array): Promise<number> {
    const { map, parameters, likeStage, declared } = this.problem;
    const wantGradient = gradient !== undefined;
    if (wantGradient && !this.hasGradient) throw new Error('this target gives no gradient (a black box or an approximate differentiator); the sampler should not ask for one');
    map.toPhysical(x, this.theta);
    // prior and Jacobian
    let logp = map.logJacobian(x);
    const priorGrad = wantGradient ? new Float64Array(this.dim) : null;
    for (let i = 0; i < this.dim; i++) {
      const lp = logPrior(parameters[i], this.theta[i]);
      if (lp.value === -Infinity) return -Infinity;
      logp += lp.value;
      if (priorGrad) priorGrad[i] = lp.gradient;
      this.params[this.names[i]] = this.theta[i];
    }
    if (!Number.isFinite(logp)) return -Infinity;
    if (!this.inside()) {
      this.counts.outside++;
      return -Infinity;
    }
    // the likelihood
    const plan = wantGradient ? this.gradientPlan! : (this.valuesPlan ?? this.gradientPlan!);
    const store = wantGradient || !this.valuesPlan ? this.stores.gradient : this.stores.values;
    const point: Record<string, number> = {};
    for (let i = 0; i < this.dim; i++) point[this.names[i]] = this.theta[i];
    this.counts.evaluations++;
    let out: Record<string, unknown>;
    try {
      const r = await executePlan(plan, this.problem.registry, { store, params: point, targets: [likeStage] });
      out = r.outputs.get(likeStage) as Record<string, unknown>;
    } catch (e) {
      return this.failure(`${(e as Error).message}`);
    }
    const lnL = out[declared.field] as { v: number; d: Float64Array | null } | undefined;
    if (!lnL || typeof lnL.v !== 'number') throw new Error(`stage "${likeStage}": output.${declared.field} is not a Dual {v, d} (its description declares it holds ln L)`);
    if (!Number.isFinite(lnL.v)) return this.failure(`ln L = ${lnL.v}`);
    logp += lnL.v;
    if (wantGradient) {
      const order = this.gradientOrderOf(out);
      const d = lnL.d;
      if (!d) throw new Error(`stage "${likeStage}": output.${declared.field}.d is missing: no gradient although the parameters are varied`);
      for (let i = 0; i < this.dim; i++) {
        const t = map.transforms[i];
        const g = d[order[i]];
        if (!Number.isFinite(g)) return this.failure(`d ln L/d ${this.names[i]} = ${g}`);
        gradient[i] = (g + priorGrad![i]) * t.derivative(x[i]) + t.logJacobianGradient(x[i]);
      }
    }
    return logp;
  }

  /** Position of each sampled parameter in the likelihood's gradient (output.names). */
  private gradientOrderOf(out: Record<string, unknown>): Int32Array {
    if (this.gradientOrder) return this.gradientOrder;
    const names = out.names as string[] | undefined;
    const order = Int32Array.from(this.names, (n, i) => (names ? names.indexOf(n) : i));
    const missing = this.names.filter((_, i) => order[i] < 0);
    if (missing.length) throw new Error(`stage "${this.problem.likeStage}": its gradient lacks ${missing.join(', ')} (output.names: ${names?.join(', ')})`);
    return (this.gradientOrder = order);
  }

  private failure(message: string): number {
    this.counts.failed++;
    if (!this.counts.firstFailure) {
      const at = this.names.map((n, i) => `${n}=${this.theta[i]}`).join(', ');
      this.counts.firstFailure = `${message} (at ${at})`;
    }
    return -Infinity;
  }
}

/** The sets that make a values-only plan of a pipeline (nothing varied). */
export function valuesOnlySets(names: readonly string[]): string[] {
  return names.map((n) => `parameters.${n}.vary=false`);
}

export { MemoryStore };
