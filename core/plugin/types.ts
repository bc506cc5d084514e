/**
 * The plugin contract: what a stage plugin (a DAG node filling one port) and a method plugin (a numerical
 * strategy injected into stages: integrator, ode-solver, differentiator) declare and receive.
 * Built-in and third-party plugins use exactly these types.
 */
import type { Observable } from 'rxjs';
import type { Dual } from '../ad/dual.js';

/** Bumped when the descriptor shape changes incompatibly; a plugin declaring another value is refused. */
export const PLUGIN_API_VERSION = 1;

export type JsonSchema = Record<string, unknown>;
export type Differentiable = 'forward' | 'forward+reverse' | 'none';

/** A parameter a plugin reads, with its default and its physically allowed range. */
export interface ParameterSpec {
  default: number;
  description: string;
  unit?: string;
  /** Allowed range; a value outside is an input error, never a NaN later. */
  min?: number;
  max?: number;
  exclusiveMin?: number;
  exclusiveMax?: number;
  /** Step for finite differences / stencils when the fiducial is 0 (absolute). */
  absStep?: number;
}

export type StageEvent<T> =
  | { type: 'progress'; done: number; total: number; label?: string }
  | { type: 'chunk'; range: [number, number]; data?: unknown }
  | { type: 'result'; value: T };

export type RunResult<T> = T | Promise<T> | Observable<StageEvent<T>>;

/** What a stage sees while it runs. */
export interface StageContext<C, I> {
  /** Stage name in the pipeline (e.g. `background`). */
  readonly stage: string;
  /** The validated config, defaults filled in. */
  readonly config: C;
  /** Outputs of the stages wired to this stage's inputs, by input name. */
  readonly inputs: I;
  /**
   * A parameter's value as a scalar dual: seeded with its unit tangent when it is varied under
   * forward-mode differentiation, a constant otherwise. Only parameters listed in `reads` may be asked for.
   */
  param(name: string): Dual;
  /** Names of the tangent directions (varied parameters) in order; [] when no derivatives are wanted. */
  readonly tangentParams: readonly string[];
  /** The pipeline's varied parameters (fiducial values, priors), e.g. for a Fisher matrix. */
  readonly varied?: readonly { name: string; value: number; prior_sigma?: number; latex?: string }[];
  /** A bound numerical method (e.g. ctx.method<Integrator>('integrator')), from the pipeline's `methods`. */
  method<T>(kind: string): T;
  /** Directory of the pipeline file: relative paths in a config (tables, programs) resolve against it. */
  readonly baseDir?: string;
  /**
   * A discretisation choice (e.g. adaptive quadrature nodes) made once and reused by every evaluation of the
   * same differentiation (stencil and finite-difference points), so that derivatives are those of one
   * discretised problem. Outside a differentiation it simply computes.
   */
  sticky?<T>(what: string, compute: () => T): T;
  /** Report progress without returning an Observable. */
  progress(done: number, total: number, label?: string): void;
}

/**
 * Reverse mode: a cotangent ("bar") of a stage output or input. It mirrors the differentiable leaves of the
 * value: a Float64Array (the length of the DualArray's `value`) for a DualArray, a number for a Dual, an
 * object (or array) of bars for a container. A missing field is a zero bar.
 */
export type Bar = Float64Array | number | Bar[] | { [field: string]: Bar | undefined };

/** What a stage's `vjp` sees: the context of its forward run (values only, no tangents) and its output. */
export interface VjpContext<C, I, O> extends StageContext<C, I> {
  readonly output: O;
}

/** The vector-Jacobian product of one stage: bars of its inputs and of the parameters it reads. */
export interface VjpResult {
  /** Input name -> bar of that input (omitted: zero). */
  inputs?: Record<string, Bar | undefined>;
  /** Parameter name -> d(bar . output)/d(parameter), through this stage's own reads only (omitted: zero). */
  params?: Record<string, number>;
}

/** Files a stage writes for a pipeline `outputs` entry: relative file name -> contents. */
export type OutputFiles = Record<string, string | Uint8Array>;

export interface StagePlugin<C = any, I = any, O = any> {
  apiVersion: number;
  /** `port/method`, e.g. `background/w0wa`. */
  id: string;
  version: string;
  port: string;
  description: string;
  /** JSON Schema of `with` (its defaults are applied before run). */
  configSchema: JsonSchema;
  /** Input name -> port it needs. Optional inputs are wired when a provider exists. */
  inputs: Record<string, string | { port: string; optional: true }>;
  /** Parameters read: a list, or a function of the config (e.g. one bias per bin). */
  reads: Record<string, ParameterSpec> | ((config: C) => Record<string, ParameterSpec>);
  /** Method kinds it asks the container for (part of its cache key). */
  methods?: string[];
  differentiable: Differentiable;
  /**
   * The stage needs the derivatives of its inputs with respect to the varied parameters (a Fisher matrix,
   * a likelihood gradient): the runtime obtains them through the pipeline's `differentiator` method
   * (forward AD, regression stencil, finite differences) and hands the inputs over with tangents.
   */
  consumesTangents?: boolean;
  run(ctx: StageContext<C, I>): RunResult<O>;
  /**
   * Reverse mode (optional): given the bar of this stage's output (outputBar mirrors its differentiable
   * leaves), the bars of its inputs and of the parameters it reads: the transpose of the stage's Jacobian at
   * the forward point, outputBar^T d(output)/d(inputs, parameters). The runtime (core/graph/reverse.ts) calls
   * it in reverse topological order; a stage without it is differentiated in forward mode at its boundary.
   */
  vjp?(ctx: VjpContext<C, I, O>, outputBar: Bar): VjpResult | Promise<VjpResult>;
  /**
   * Extra memo-key material that the config alone does not capture, e.g. the hash of an input file's
   * contents, so that editing a table invalidates the cached stage.
   */
  fingerprint?(config: C, ctx: { baseDir: string }): string;
  /**
   * Redraw this stage's plots from the files it wrote into an output directory (`cosmodag plot DIR`);
   * null when the directory holds none of its files.
   */
  redraw?(dir: string): Promise<OutputFiles | null>;
  /** A short human-readable summary printed by `cosmodag run` (e.g. the table of Fisher errors). */
  summarize?(output: O): string;
  /** Serialise the output for a pipeline `outputs` entry named `file` (e.g. `cl.tsv`). */
  write?(output: O, file: string, ctx: { config: C; params: Record<string, number> }): OutputFiles | Promise<OutputFiles>;
  /**
   * Cross-field checks ajv cannot express, on the config and the parameter values; return messages of the
   * form "path: what is wrong", with a path `with.<field>` (relative to this stage) or `parameters.<name>`.
   */
  check?(config: C, ctx: { params: Record<string, number>; baseDir?: string }): string[];
}

/** A numerical method: a factory from its validated config to the strategy object. */
export interface MethodPlugin<C = any, T = any> {
  apiVersion: number;
  /** `kind/name`, e.g. `integrator/gauss-legendre`. */
  id: string;
  version: string;
  kind: string;
  description: string;
  configSchema: JsonSchema;
  create(config: C): T;
}

export type AnyPlugin = StagePlugin | MethodPlugin;

export const isMethodPlugin = (p: AnyPlugin): p is MethodPlugin => 'create' in p && 'kind' in p;
