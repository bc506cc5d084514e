/**
 * A pipeline as `cosmodag sample` hands it around: the JSON after the command line's --set/--param edits plus the
 * directory its relative paths resolve against. The driver plans it to check everything before compute; each
 * worker thread plans it again (a plan holds containers and closures, which do not cross threads) and builds
 * its own target and memo store from it.
 */
import { sha256 } from '../cache/memo-key.js';
import { applyParam, applySet, readPipelineFile } from '../graph/pipeline-file.js';
import type { Pipeline } from '../graph/pipeline.js';
import { dirOf, loadAndPlan } from '../graph/runtime.js';
import type { Plan } from '../graph/plan.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { InputError, issue, type Issue } from '../schema/input-error.js';
import { bindMethod } from '../graph/plan.js';
import type { SamplerMethod } from '../../plugins/contracts/sampler.js';
import { PipelineTarget, samplingProblem, valuesOnlySets, type SamplingProblem } from './target.js';

export interface PipelineSource {
  /** The pipeline JSON after the command line's edits. */
  pipeline: unknown;
  /** The pipeline file's directory. */
  baseDir: string;
  /** The file, for messages. */
  file: string;
}

export function readSource(file: string, params: readonly string[] = [], sets: readonly string[] = []): PipelineSource {
  const pipeline = readPipelineFile(file);
  for (const s of sets) applySet(pipeline, s);
  for (const p of params) applyParam(pipeline, p);
  return { pipeline, baseDir: dirOf(file), file };
}

/** The source with more --set edits applied (a copy). */
export function editedSource(src: PipelineSource, sets: readonly string[]): PipelineSource {
  const pipeline = structuredClone(src.pipeline);
  for (const s of sets) applySet(pipeline, s);
  return { ...src, pipeline };
}

export async function planSource(src: PipelineSource): Promise<{ plan: Plan; registry: PluginRegistry }> {
  return loadAndPlan(src.pipeline, { baseDir: src.baseDir });
}

/**
 * A stable hash of the pipeline (after edits) and of what its stages read besides their config (the data file's
 * content: StagePlugin.fingerprint): a resumed run must sample the same posterior.
 */
export function sourceHash(src: PipelineSource, plan: Plan): string {
  const canon = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(canon);
    if (x && typeof x === 'object') return Object.fromEntries(Object.keys(x).sort().map((k) => [k, canon((x as Record<string, unknown>)[k])]));
    return x;
  };
  const fingerprints = plan.order.map((n) => {
    const st = plan.stages.get(n)!;
    return st.plugin.fingerprint ? st.plugin.fingerprint(st.config, { baseDir: plan.baseDir }) : '';
  });
  return sha256(JSON.stringify({ pipeline: canon(src.pipeline), baseDir: src.baseDir, fingerprints }));
}

/** The sampler method `name` of a registry (kind `sampler`), created with its config; an InputError naming the alternatives. */
export function samplerFrom(registry: PluginRegistry, name: string, config: Record<string, unknown> = {}): SamplerMethod {
  const problems: Issue[] = [];
  // validated against the method's schema (defaults filled), as a pipeline's methods are
  const bound = bindMethod(registry, 'sampler', { use: name, with: config }, '--sampler', problems);
  if (!bound || problems.length) {
    const p = problems.map((i) => (i.path.startsWith('--sampler.with') ? issue(`--sampler-config${i.path.slice('--sampler.with'.length)}`, i.message) : i));
    throw new InputError(p);
  }
  return bound.plugin.create(bound.config) as SamplerMethod;
}

/**
 * The sampling problem of a source and the target a chain evaluates: a gradient sampler gets the pipeline as
 * planned (its varied parameters carry the gradient); a gradient-free one a plan with nothing varied (values
 * only). An InputError when a gradient sampler meets a pipeline that cannot give exact gradients.
 */
export async function targetFor(src: PipelineSource, needsGradient: boolean, planned?: { plan: Plan; registry: PluginRegistry }): Promise<{ problem: SamplingProblem; target: PipelineTarget }> {
  const { plan, registry } = planned ?? (await planSource(src));
  const problem = samplingProblem(plan, registry);
  if (needsGradient) {
    if (problem.gradientProblems.length) throw new InputError(problem.gradientProblems, `the sampler needs gradients, and this pipeline cannot give exact ones: ${problem.gradientProblems[0].path}: ${problem.gradientProblems[0].message}`);
    return { problem, target: new PipelineTarget(problem, null, plan) };
  }
  const values = await planSource(editedSource(src, valuesOnlySets(problem.parameters.map((p) => p.name))));
  return { problem, target: new PipelineTarget({ ...problem, registry: values.registry }, values.plan, null) };
}

export type { Pipeline };
