/**
 * The `sampler` method contract (issue 14): a sampler is a MethodPlugin of kind `sampler` (`sampler/nuts`,
 * `sampler/ensemble`, `sampler/metropolis`), swapped like integrators. Its `create(config)` returns a
 * SamplerMethod. The driver (`cosmodag sample`, core/sampling/) owns everything around it: priors, the map to an
 * unconstrained space, the pipeline evaluation, worker threads, checkpoints, outputs and diagnostics.
 *
 * A sampler works on an unconstrained target x in R^dim. It is a stepping machine over a JSON-serialisable state,
 * so that a chain is checkpointed by writing its state and resumed by reading it back: `init` makes the state,
 * `step` advances one iteration and returns the draws it produced. Everything random comes from the state's own
 * RNG (core/sampling/rng.ts), so a chain is reproducible from its seed and continues identically after a resume.
 */

/** What a sampler evaluates: the log posterior density in the unconstrained space (Jacobians included). */
export interface SamplingTarget {
  /** Dimension of x. */
  readonly dim: number;
  /** Names of the coordinates (for messages and outputs). */
  readonly names: readonly string[];
  /**
   * log density at x (-Infinity outside the support: the sampler rejects the move; never NaN). When `gradient`
   * is given, it is filled with d log p / dx (only valid when `hasGradient`).
   */
  logDensity(x: Float64Array, gradient?: Float64Array): Promise<number>;
  /** True when logDensity can fill a gradient (a pipeline whose every stage has a reverse VJP or forward tangents). */
  readonly hasGradient: boolean;
}

/** Per-chain settings given by the driver. */
export interface ChainSettings {
  /** Warm-up (adaptation) iterations; their draws are flagged `warmup` and not kept in the chains. */
  warmup: number;
  /** The seed of this chain (the driver derives one per chain from --seed). */
  seed: number;
  /** Starting point in the unconstrained space. */
  start: Float64Array;
  /**
   * A covariance guess in the unconstrained space (dim x dim, row-major), e.g. the inverse Fisher matrix mapped
   * through the transforms: NUTS starts its dense mass matrix from it, Metropolis its proposal, ensemble its
   * initial ball. Optional: identity scaled by `initialScale` otherwise.
   */
  covariance?: Float64Array;
}

/** One draw of a chain (for the ensemble sampler, one per walker and iteration). */
export interface Draw {
  /** Position in the unconstrained space (length dim). */
  x: Float64Array;
  /** log density there. */
  logDensity: number;
  /** True during warm-up. */
  warmup: boolean;
  /** Which walker (ensemble) or 0. */
  walker: number;
  /**
   * Per-iteration statistics; numbers only. NUTS: accept_stat, step_size, tree_depth, n_leapfrog, divergent (0/1),
   * energy. Metropolis: accept (0/1), scale. Ensemble: accept (0/1).
   */
  stats: Record<string, number>;
}

/** A chain's state: plain JSON (numbers, arrays of numbers, nested objects) so that it round-trips through a file. */
export type ChainState = { iteration: number; [key: string]: unknown };

export interface SamplerMethod {
  /** `nuts`, `ensemble`, `metropolis`. */
  readonly name: string;
  /** True when the sampler calls logDensity with a gradient. */
  readonly needsGradient: boolean;
  /** A fresh chain state at settings.start (may evaluate the target). */
  init(target: SamplingTarget, settings: ChainSettings): Promise<ChainState>;
  /** Advance one iteration (adapting while state.iteration < settings.warmup); mutates and returns nothing but the draws. */
  step(target: SamplingTarget, state: ChainState, settings: ChainSettings): Promise<Draw[]>;
  /** Likelihood evaluations so far in this chain (for ESS per evaluation). */
  evaluations(state: ChainState): number;
}
