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

/**
 * A part of a stage's result, produced before the whole (streaming typed arrays): `range` is [first, end) along
 * the stage's own chunk axis (the Boltzmann stage: k-modes in the order they finish; the Limber stage:
 * multipole indices), `total` the axis length, `data` the part itself (plain data, typed arrays; the stage
 * documents its shape). A stage emits chunks by returning an Observable of events or by calling ctx.chunk.
 */
export interface StageChunk {
  range: [number, number];
  total?: number;
  label?: string;
  data?: unknown;
}

export type StageEvent<T> =
  | { type: 'progress'; done: number; total: number; label?: string }
  | ({ type: 'chunk' } & StageChunk)
  | { type: 'result'; value: T };

/**
 * What a stage consuming an input as a stream (`{port, stream: true}`) sees through ctx.stream(input): the
 * provider's chunks as they are produced (those emitted before the subscription are replayed), then one
 * `result` with the provider's whole output, then completion. A provider read from the memo store (or one that
 * emits no chunks) gives only the `result`: do per-chunk work in a function that can also take the whole output.
 */
export type StreamEvent<T = unknown> = ({ type: 'chunk' } & StageChunk) | { type: 'result'; value: T };

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
  /**
   * Emit a part of the result while computing (see StageChunk), without returning an Observable. Present in
   * every context the runtime builds (optional so that hand-made test contexts need not provide it): call it
   * as `ctx.chunk?.({range, total, data})`.
   */
  chunk?(chunk: StageChunk): void;
  /**
   * A service bound in the stage's container (docs/architecture.md, "Containers, methods and services"), e.g.
   * ctx.service<Cosmology>('cosmology') or ctx.service<Record<string, number>>('parameters'). Only services
   * listed in the plugin's `services` may be asked for (their bindings enter the memo key). Present in every
   * context the runtime builds.
   */
  service?<T>(name: string): T;
  /**
   * An input declared `{port, stream: true}` as a stream of the provider's chunks then its result
   * (StreamEvent). Such a stage may start as soon as the provider starts; until the provider has finished,
   * reading ctx.inputs[input] throws. Present in every context the runtime builds.
   */
  stream?<T = unknown>(input: string): Observable<StreamEvent<T>>;
}

/**
 * A service: a provider bound under serviceToken(name) in a container, whose `create(ctx)` gives what the stage
 * receives (once per stage evaluation). Its id and version enter the memo key of every stage that declares the
 * service, so rebinding it in a child container recomputes exactly those stages. A plugin module may export
 * `services: ServiceProvider[]` (registered as defaults in the registry's container, like its plugins).
 */
export interface ServiceProvider<T = unknown> {
  name: string;
  /** Identity in memo keys, e.g. `cosmology/contract`. */
  id: string;
  version: string;
  description: string;
  /** The service for one stage evaluation: `stage.reads` are the parameters the stage declared. */
  create(ctx: StageContext<unknown, unknown>, stage: { name: string; reads: readonly string[] }): T;
}

/**
 * A writer that appends an outputs file while its stage computes (StagePlugin.streamFile): the runtime writes
 * `head()` when the stage starts, appends `chunk(c)` as each chunk arrives and `tail()` when it is computed, to
 * a temporary file beside the target (`<file>.partial`), renamed onto the target at the end (atomically, through
 * the output manifest). The contract: head + chunks + tail equal the file `write` gives for that output; the
 * runtime checks it (hash) and writes `write`'s version when they differ, when the stage came from the memo
 * store or when its chunks did not cover [0, total).
 */
export interface ChunkWriter {
  head?(): string;
  chunk(chunk: StageChunk): string;
  tail?(): string;
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
  /**
   * Whether the bar of an input can reach a parameter being differentiated (set by the runtime's backward sweep:
   * false for an input whose stages read none of them, nor do their ancestors). A vjp may skip the work of the
   * bars of inputs not needed (their bars are dropped). Absent: every input is needed.
   */
  readonly needs?: (input: string) => boolean;
}

/** The vector-Jacobian product of one stage: bars of its inputs and of the parameters it reads. */
export interface VjpResult {
  /** Input name -> bar of that input (omitted: zero); for a `many` input an array, one bar per source in order. */
  inputs?: Record<string, Bar | (Bar | undefined)[] | undefined>;
  /** Parameter name -> d(bar . output)/d(parameter), through this stage's own reads only (omitted: zero). */
  params?: Record<string, number>;
}

/**
 * One input of a stage: a port, or `{port, optional, many}`. A list of ports accepts a provider of any of them.
 *  - single (default): exactly one provider, the pipeline's `inputs` naming it when several exist; the stage
 *    receives its output;
 *  - `many: true`: every stage providing the port, in pipeline order, unless the pipeline's `inputs` lists them
 *    (`"tracers": ["weights", "cmb"]`); the stage receives an array of their outputs, in that order (an
 *    optional one with no provider receives []). In reverse mode its bar is an array of bars, one per source.
 *  - `stream: true` (a single input): the stage consumes the input as a stream of chunks (ctx.stream(input)) and
 *    may start as soon as the provider starts computing (docs/architecture.md, "Streams").
 */
export type InputDecl = string | { port: string | string[]; optional?: true; many?: true; stream?: true };

/** Files a stage writes for a pipeline `outputs` entry: relative file name -> contents. */
export type OutputFiles = Record<string, string | Uint8Array>;

/** Options of `cosmodag plot DIR` passed to each plugin's redraw. */
export interface RedrawOptions {
  /** Parameters to show in a triangle plot (`--params`), instead of the run's setting or the default. */
  params?: string[];
  /** A reference table to draw ratios against (`--reference`, e.g. a P(k) table for pk.tsv). */
  reference?: string;
}

/**
 * A function of the validated config. Declared through a method so that its parameter is checked bivariantly,
 * like the plugin's methods: a StagePlugin<MyConfig> is then a StagePlugin (of unknown config), which the
 * runtime only ever calls with a config validated against that plugin's own configSchema.
 */
type OfConfig<C, R> = { of(config: C): R }['of'];

export interface StagePlugin<C = unknown, I = unknown, O = unknown> {
  apiVersion: number;
  /** `port/method`, e.g. `background/w0wa`. */
  id: string;
  version: string;
  port: string;
  description: string;
  /** JSON Schema of `with` (its defaults are applied before run). */
  configSchema: JsonSchema;
  /**
   * Input name -> the port it needs (see InputDecl), or a function of the validated config (e.g. extra power
   * inputs a config names). Optional inputs are wired when a provider exists.
   */
  inputs: Record<string, InputDecl> | OfConfig<C, Record<string, InputDecl>>;
  /** Parameters read: a list, or a function of the config (e.g. one bias per bin). */
  reads: Record<string, ParameterSpec> | OfConfig<C, Record<string, ParameterSpec>>;
  /** Method kinds it asks the container for (part of its cache key). */
  methods?: string[];
  /** Services it asks the container for (ctx.service(name)); their providers' identities enter its cache key. */
  services?: string[];
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
  redraw?(dir: string, opts?: RedrawOptions): Promise<OutputFiles | null>;
  /** A short human-readable summary printed by `cosmodag run` (e.g. the table of Fisher errors); '' prints nothing. */
  summarize?(output: O): string;
  /**
   * Scalar columns of the output for one row of `cosmodag sweep`'s table when this is the pipeline's final stage
   * (a Fisher matrix: every marginalized sigma and the figure of merit; a likelihood: ln L). Without it the row
   * holds a checksum of the stage's output files.
   */
  sweepColumns?(output: O): Record<string, number | string>;
  /**
   * The stage runs an external program (a `command` stage): a queue worker (`cosmodag worker`) refuses such a
   * job unless it was started with --allow-commands.
   */
  runsPrograms?: boolean;
  /** Serialise the output for a pipeline `outputs` entry named `file` (e.g. `cl.tsv`). */
  write?(output: O, file: string, ctx: { config: C; params: Record<string, number> }): OutputFiles | Promise<OutputFiles>;
  /**
   * The names of the files `write(output, file)` may produce (`file` and its companions: cl.json and cl.png beside
   * cl.tsv, sigmas.tsv, the .npy of an export), known from the config before compute: `validate` checks them as
   * output names, `run` checks --out for foreign files at them before the first stage computes. Without it only
   * `file` is checked before compute; the companions are checked after compute, before anything is written.
   */
  outputFiles?(file: string, ctx: { config: C; params: Record<string, number> }): string[];
  /**
   * Write the file `file` of an outputs entry as the chunks arrive (see ChunkWriter); undefined for a file it
   * does not stream. `write` stays the reference: the other files of the entry, and this one when no complete
   * stream was seen.
   */
  streamFile?(file: string, ctx: { config: C; params: Record<string, number> }): ChunkWriter | undefined;
  /**
   * Cross-field checks ajv cannot express, on the config and the parameter values; return messages of the
   * form "path: what is wrong", with a path `with.<field>` (relative to this stage) or `parameters.<name>`.
   */
  check?(config: C, ctx: { params: Record<string, number>; baseDir?: string }): string[];
  /**
   * What the output will be, known before compute (StaticDescription), from the config, the parameter values
   * and the descriptions of the inputs; and problems of the stage found by comparing them (messages as for
   * `check`: "with.<field>: ...", or an absolute path such as one taken from an input description's `paths`).
   * The planner calls it in topological order; an input whose provider has no describe (or reported problems)
   * is undefined, a `many` input an array. A throw is reported once, as a problem of this stage.
   */
  describe?(config: C, ctx: DescribeContext): { description?: StaticDescription; problems?: string[] };
  /**
   * The config completed from the inputs' static descriptions, before the parameters are collected: fields the
   * pipeline leaves unset that follow from an input (weights/3x2pt: the number of bins and the bin centres from the
   * n(z) stage's description), so that `reads` (one bias per bin), `check` and `describe` follow the inputs and a
   * survey edit is one edit. The planner calls it in topological order with the descriptions of the stage's
   * inputs (undefined when unknown), validates the result against configSchema again and uses it everywhere (run,
   * memo key). Return the config unchanged when there is nothing to fill; a throw is a problem of this stage.
   */
  configure?(config: C, ctx: DescribeContext): C;
}

/**
 * A small JSON-able record about a stage's output, known before compute: e.g. {nBins: 10, z_min: 0.001,
 * z_max: 4} for an n(z), {z_max, k_min, k_max} for a power grid. Field names are a convention of the port.
 * `paths` maps a field to the config path that sets it: relative ("with.z.z_max") as a stage writes it, made
 * absolute ("stages.linear.with.z.z_max") by the planner, so that a downstream stage can name the field to
 * change. A stage passing an input's grid on may return that input's description (its paths stay absolute).
 */
export interface StaticDescription {
  [field: string]: unknown;
  paths?: Record<string, string>;
}

export interface DescribeContext {
  /** Name of the stage being described. */
  stage: string;
  params: Record<string, number>;
  /** Input name -> the description of its provider (undefined when unknown); an array for a `many` input. */
  inputs: Record<string, StaticDescription | (StaticDescription | undefined)[] | undefined>;
  /** Input name -> the stage(s) providing it, for messages. */
  providers: Record<string, string | string[]>;
  baseDir?: string;
}

/**
 * The contract of a port's output, checked by the runtime on every computed output of a stage filling that
 * port (before it is stored or passed on): plain data and a cheap check (shapes, lengths, ascending grids,
 * finiteness of scalars; no scan of large arrays). `check` returns messages naming the field, e.g.
 * "P_Mpc3.value: has 10 entries, expected nz*nk = 4000"; [] when the output conforms.
 * A plugin module exports them as `ports` (next to `plugins`).
 */
export interface PortContract {
  port: string;
  description: string;
  check(output: unknown): string[];
}

/** A numerical method: a factory from its validated config to the strategy object. */
export interface MethodPlugin<C = unknown, T = unknown> {
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
