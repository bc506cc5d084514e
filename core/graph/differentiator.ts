/**
 * The `differentiator` method contract, and the walk that puts tangents computed from several
 * evaluations (stencils, finite differences) onto a stage output.
 *
 * A differentiator turns an evaluator — "run the sub-graph up to the target with these parameter values
 * (and these forward-mode tangent directions)" — into the target's output carrying tangents for the
 * varied parameters. Forward AD asks for one run with tangents; stencils and finite differences run the
 * values at shifted parameters (every stage not reading a shifted parameter comes from the memo store).
 */
import type { DualArray } from '../ad/dual-array.js';
import type { Dual } from '../ad/dual.js';
import type { MemoStore } from '../cache/store.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { Subject } from 'rxjs';
import type { Plan } from './plan.js';
import type { RunEvent } from './execute.js';

export interface VariedParameter {
  name: string;
  value: number;
  /** Relative step (absolute when value is 0) from the pipeline, if any. */
  step?: number;
  /** Absolute step the reading plugin suggests when the fiducial is 0. */
  absStep?: number;
}

/**
 * Run the sub-graph with `params` overriding fiducial values and forward tangents for `tangents`. The runtime
 * also describes the evaluation (`graph`): reverse mode needs the graph itself, not only its values.
 */
export type Evaluator = ((params: Record<string, number>, tangents: readonly string[]) => Promise<unknown>) & {
  readonly graph?: EvaluationGraph;
};

/** The sub-graph an Evaluator runs: its plan, registry, memo store, target stage and parameter values. */
export interface EvaluationGraph {
  readonly plan: Plan;
  readonly registry: PluginRegistry;
  readonly store: MemoStore;
  /** The stage whose output the evaluator returns. */
  readonly target: string;
  /** Parameter values of the evaluation point. */
  readonly params: Readonly<Record<string, number>>;
  /** The stage that asked for the derivatives (its plugin may pull gradients back in reverse mode). */
  readonly consumer?: string;
  /** Where runs made for this evaluation report their events: pass to executePlan / pullback as is. */
  readonly report?: NestedReport;
}

/** A nested run's events go to its parent's subject, tagged with its depth and the stage it runs within. */
export interface NestedReport {
  readonly events?: Subject<RunEvent>;
  /** 1 for a run made by a stage of the top-level run, 2 for one made within that, ... */
  readonly depth: number;
  /** The stage (of the enclosing run) on whose behalf the nested run computes. */
  readonly within: string;
}

export interface Differentiator {
  readonly name: string;
  /**
   * 'forward-single': differentiate() makes exactly one evaluation, evaluate({}, names of `varied`), and
   * returns it (forward AD). The runtime then runs the consumer's ancestors with those tangents in its main
   * pass, so values come with their tangents in one pass and the evaluation finds them in the memo store.
   * 'evaluations' (default): any number of evaluations at shifted parameters (stencils, finite differences,
   * reverse mode): the main pass computes values only.
   * 'base-point': evaluations only at the base point (reverse mode: the values, and tangents on request): they
   * share the main pass's discretisation scope, so the values evaluation finds the main pass's outputs in the
   * memo store instead of recomputing the whole sub-graph.
   */
  readonly mode?: 'forward-single' | 'evaluations' | 'base-point';
  /** Output of the evaluator at the fiducial, with tangent blocks for `varied` in order. */
  differentiate(evaluate: Evaluator, varied: readonly VariedParameter[], progress?: (done: number, total: number) => void): Promise<unknown>;
}

const isDualArray = (x: any): x is DualArray => x && typeof x === 'object' && x.value instanceof Float64Array && 'tangent' in x && 'P' in x;
const isDual = (x: any): x is Dual => x && typeof x === 'object' && typeof x.v === 'number' && 'd' in x && Object.keys(x).length === 2;

/** Every differentiable leaf (DualArray or Dual) of an output, with its path, in a stable order. */
export function dualLeaves(x: unknown, path = ''): { path: string; leaf: DualArray | Dual }[] {
  if (isDualArray(x) || isDual(x)) return [{ path, leaf: x }];
  if (!x || typeof x !== 'object' || ArrayBuffer.isView(x)) return [];
  const out: { path: string; leaf: DualArray | Dual }[] = [];
  for (const [k, v] of Object.entries(x)) out.push(...dualLeaves(v, path ? `${path}.${k}` : k));
  return out;
}

/** Values of a leaf as an array (a Dual gives one value). */
export const leafValues = (leaf: DualArray | Dual): Float64Array => (isDualArray(leaf) ? leaf.value : Float64Array.of(leaf.v));

/**
 * A copy of `base` (never mutated: it may live in the memo store) in which the leaf at each path gets the
 * tangent `tangents(path)` (P*n parameter-major). Non-differentiable fields are shared, not copied.
 */
export function withTangents(base: unknown, P: number, tangents: (path: string, n: number) => Float64Array, path = ''): unknown {
  if (isDualArray(base)) return { value: base.value, tangent: P ? tangents(path, base.value.length) : null, P };
  if (isDual(base)) return { v: base.v, d: P ? tangents(path, 1) : null };
  if (!base || typeof base !== 'object' || ArrayBuffer.isView(base)) return base;
  if (Array.isArray(base)) return base.map((v, i) => withTangents(v, P, tangents, path ? `${path}.${i}` : String(i)));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(base)) out[k] = withTangents(v, P, tangents, path ? `${path}.${k}` : k);
  return out;
}

/** The step a stencil or finite difference takes for a parameter: relative, or absolute at a zero fiducial. */
export function stepFor(p: VariedParameter, relDefault: number, absDefault: number): number {
  if (p.value !== 0) return Math.abs(p.value) * (p.step ?? relDefault);
  return p.step ?? p.absStep ?? absDefault;
}
