/**
 * The ODE contract shared by every solver (the problem / algorithm / solve split of
 * DifferentialEquations.jl): an `OdeProblem` says what to integrate and never which algorithm does it;
 * `solver.solve(problem, options)` returns an `OdeSolution` of the same shape from every method.
 *
 * Layout conventions (dense, row-major, as written):
 *   Jacobian     J[i*n + j]   = d f_i / d y_j                 (n x n)
 *   dfdp         out[i*np + p] = d f_i / d p_p               (n x np)
 *   dy0dp        [i*np + p]   = d y0_i / d p_p               (n x np)
 *   sensitivities returned per saved time in the DualArray tangent layout (parameter-major):
 *                S[k*np*n + p*n + i] = d y_i(t_k) / d p_p    (np blocks of n)
 */

/** Right-hand side y' = f(t, y, params), written into dydt (which must not alias y). */
export type OdeRhs = (t: number, y: Float64Array, dydt: Float64Array, params: Float64Array) => void;

export interface OdeProblem {
  /** y' = f(t, y, params): write into dydt, allocate nothing. */
  f: OdeRhs;
  /** Optional dense Jacobian df/dy, row-major into J (n*n; J is zero-filled before the call). */
  jacobian?: (t: number, y: Float64Array, J: Float64Array, params: Float64Array) => void;
  /** Initial state, or a function of the parameters (then dy0/dp defaults to finite differences). */
  y0: Float64Array | ArrayLike<number> | ((params: Float64Array) => ArrayLike<number>);
  /** [t0, t1]; t1 < t0 integrates backward. */
  tspan: readonly [number, number];
  /** Parameters passed to f (and the directions of the sensitivities). */
  params?: Float64Array | ArrayLike<number>;
  /** Optional df/dp, n x np row-major into out (every entry must be written). */
  dfdp?: (t: number, y: Float64Array, out: Float64Array, params: Float64Array) => void;
  /** Optional dy0/dp, n x np row-major. */
  dy0dp?: Float64Array | ArrayLike<number>;
  /** Optional names of the components, used in error messages (`y[2]` otherwise). */
  names?: readonly string[];
}

export interface OdeOptions {
  /** Relative tolerance (default 1e-6). */
  rtol?: number;
  /** Absolute tolerance, scalar or one per component (default 1e-10). */
  atol?: number | ArrayLike<number>;
  /** Maximum number of accepted steps before the solve ends with an error (default 100000). */
  maxSteps?: number;
  /** First step size (magnitude); estimated from f when absent (Hairer, Norsett & Wanner I, II.4). */
  initialStep?: number;
  /** Largest step size (magnitude); default |t1 - t0|. */
  maxStep?: number;
  /** Save points (within tspan, monotone in the direction of integration); every step when absent. */
  tEval?: ArrayLike<number>;
  /** Keep the dense interpolant over the whole span (default true). */
  dense?: boolean;
  /** Integrate forward sensitivities dy/dparams (default false). */
  sensitivities?: boolean;
  /** Include the sensitivities in the local error test (default true; CVODES' errconS). */
  sensitivityErrorControl?: boolean;
  /**
   * Absolute tolerance of the sensitivities, scalar or per component of y (default: atol). For parameter
   * p it is divided by |p_p| (when p_p != 0), as CVODES does with pbar = |p|.
   */
  sensitivityAtol?: number | ArrayLike<number>;
  /** Ignore problem.jacobian and use finite differences (testing, or a suspected wrong Jacobian). */
  finiteDifferenceJacobian?: boolean;
}

export interface OdeStats {
  /** Accepted steps. */
  steps: number;
  /** Rejected step attempts (error test, Newton failure or a non-finite right-hand side). */
  rejections: number;
  /** Calls of f, including those made for finite-difference Jacobians and sensitivities. */
  rhsEvals: number;
  /** Jacobian evaluations (user or finite-difference). */
  jacobians: number;
  /** LU factorizations of the iteration / stage matrix. */
  factorizations: number;
  /** Triangular solves with a factorization (one per right-hand side vector). */
  linearSolves: number;
  /** Newton iterations (implicit multistep methods). */
  newtonIterations: number;
  /** Newton convergence failures (bdf). */
  newtonFailures: number;
  /** For `auto`: the time at which stiffness was detected and the stiff method took over, else null. */
  switchedAt: number | null;
  /** For `tsit5`: whether the stiffness indicator fired (the solve still finishes with tsit5). */
  stiffnessDetected: boolean;
}

export interface OdeInterpolant {
  readonly tStart: number;
  readonly tEnd: number;
  /** y(t) for any t in [tStart, tEnd], written into out (length n), which is returned. */
  at(t: number, out?: Float64Array): Float64Array;
  /** dy/dp(t), parameter-major (np blocks of n), written into out; only when sensitivities were integrated. */
  sensitivityAt(t: number, out?: Float64Array): Float64Array;
}

export interface OdeSolution {
  /** Solver id that produced it (`tsit5`, `rosenbrock23`, `rodas4`, `bdf`, `ndf`, `auto(tsit5->rodas4)`). */
  readonly method: string;
  readonly n: number;
  /** Number of parameters (sensitivity directions); 0 without sensitivities. */
  readonly np: number;
  /** Saved times (t_eval, or t0 and every accepted step). */
  readonly times: Float64Array;
  /** States at the saved times, row-major: states[k*n + i] = y_i(times[k]). */
  readonly states: Float64Array;
  /** Sensitivities at the saved times (parameter-major per time), or null. */
  readonly sensitivities: Float64Array | null;
  /** Dense output over the whole span (null when options.dense === false). */
  readonly interpolant: OdeInterpolant | null;
  readonly stats: OdeStats;
  /** The state at times[k] (a view). */
  state(k: number): Float64Array;
  /** The sensitivity block at times[k] (a view, np blocks of n). */
  sensitivity(k: number): Float64Array;
}

export interface OdeSolver {
  /** Method name as bound in a pipeline (`tsit5`, `rosenbrock`, `bdf`, `auto`). */
  readonly name: string;
  /**
   * The method configuration it was created with (the `create*` argument: only plain data), so that a worker
   * thread can rebuild the same solver by name and config (plugins/linear-power/boltzmann/worker.ts).
   */
  readonly config?: Readonly<Record<string, unknown>>;
  solve(problem: OdeProblem, options?: OdeOptions): OdeSolution;
}

export type OdeFailure = 'max-steps' | 'step-underflow' | 'non-finite' | 'input';

/** A solve that cannot finish: says why, when (t) and, where it applies, which component. */
export class OdeError extends Error {
  constructor(
    message: string,
    readonly reason: OdeFailure,
    readonly t: number,
    readonly component: number | null = null,
  ) {
    super(message);
    this.name = 'OdeError';
  }
}

export function emptyStats(): OdeStats {
  return {
    steps: 0,
    rejections: 0,
    rhsEvals: 0,
    jacobians: 0,
    factorizations: 0,
    linearSolves: 0,
    newtonIterations: 0,
    newtonFailures: 0,
    switchedAt: null,
    stiffnessDetected: false,
  };
}
