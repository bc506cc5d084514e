/**
 * Reverse mode through one k-mode (scheme `discrete`): the discrete adjoint of the tsit5 steps the forward solve
 * accepted, through the approximation switches and the initial conditions, giving dF/ds for
 *
 *   F = sum_i deltaBar_i delta_m(k, x_i) + sum_i deltaCbBar_i delta_cb(k, x_i)
 *
 * with s the setup's active directions (setup.ts: base quantities q0 + Jq s, tables T + sum_a s_a T_a), i.e. the
 * same numbers the forward sensitivities give (mode.ts, ModeResult.dDelta), but in one backward pass per
 * cotangent instead of one tangent per direction.
 *
 * The mode is a chain of linear maps (mode.ts): the initial state y_0(s) (MB95 eq. 96), per regime the RK steps
 * (1) of core/numerics/ode/adjoint-rk.ts with f = A(x; s) y (equations.ts), at each switch the state map
 * y+ = C(x_sw; s) y- (mode.ts convert), and delta_m = g(x; s) . y at the output times (dense output of the step
 * holding x). Reverse mode (ybar: cotangent of the state, sBar: of s):
 *
 *   output x_i:   ybar(x_i) = deltaBar_i g(x_i) (+ deltaCbBar_i g_cb),   sBar += deltaBar_i (dg/ds) . y(x_i)
 *   regime:       adjoint-rk.ts (2)-(3) with (df/dy)^T = A^T and (df/ds)^T lam = lam^T (dA/ds) u at every stage
 *   switch:       ybar- = C^T ybar+,   sBar += ybar+ . (dC/ds) y-
 *   start:        sBar += ybar_0 . dy_0/ds
 *
 * The switching times are those of the fiducial schedule, held fixed (as the forward sensitivities do: their
 * motion with the parameters is not differentiated; docs/boltzmann.md "Forward-mode derivatives"), and so is the
 * accepted step sequence. The per-step stages are recomputed from the stored step-end states, so the memory of a
 * mode is (steps + 1) x n doubles per regime (ModeTape.storedDoubles).
 *
 * Cost, flat in the number of directions: per stage, A^T kbar and the exact cotangents of the 15 scalars f reads in
 * one reverse sweep of the equations (equations-transpose.ts with the stage state, point-transpose.ts; about two
 * evaluations of f: adjoint-reads.ts RhsReadBars), contracted with the tangent rows once per request. The per-mode
 * pieces (delta_m at the outputs, the switch maps, the initial state) still take their scalar cotangents by central
 * differences (nudgeBars, fourth order; a few per mode). how = 'directions' instead differentiates along each s_a (2 Pa
 * evaluations per stage): the reference the tests compare with.
 */
import { type AdjointRhs, type DenseBars, RkWork, TSIT5_TABLEAU, rkAdjoint, rkDenseAt, rkReplay } from '../../../core/numerics/ode/adjoint-rk.js';
import { type OdeInterpolant, type OdeSolver, createTsit5 } from '../../../core/numerics/ode/index.js';
import { type Flags, NUDGE_COUNT, PerturbationRhs, layoutNames } from './equations.js';
import { DELTA_READS, INITIAL_READS, ReadBars, RhsReadBars, nudgeBars } from './adjoint-reads.js';
import { transposeRhs } from './equations-transpose.js';
import { addSwitchMotion } from './adjoint-switches.js';
import { INITIAL_FLAGS, type Schedule, convert, crossCut, directional, initialState, regimeCuts, schedule, transposeBlocks } from './mode.js';
import type { ModeSetup } from './setup.js';

const EMPTY = new Float64Array(0);
/** Step in s of the central differences of the closed-form s dependence (as mode.ts `directional`). */
const SIGMA = 1e-5;

export interface ModeAdjointOptions {
  rtol: number;
  atol: number;
  maxSteps?: number;
  /** Switching times to use instead of those of this setup. */
  schedule?: Schedule;
  /**
   * Take the step sequence of a solve with forward sensitivities (the steps solveMode takes with
   * `sensitivities: true`) instead of the values-only solve: for comparing the two on the same discretisation.
   */
  stepsFromSensitivities?: boolean;
  /** Keep each regime's dense interpolant (the continuous scheme integrates against it). */
  dense?: boolean;
}

/** Options of the backward pass. */
export interface ModeVjpOptions {
  /**
   * Add the motion of the approximation switches with the parameters (adjoint-switches.ts; only with
   * how = 'tables'). Off by default: forward AD holds the switching times fixed, and so does the adjoint.
   */
  switchTimes?: boolean;
  /**
   * With how = 'tables': accumulate the read cotangents into this (e.g. the sum over a request's modes) and leave
   * sBar zero (contract once, at the end: ReadBars.directions) instead of a fresh ReadBars contracted per mode.
   */
  into?: ReadBars;
}

/** One operation of the forward chain, in time order. */
export type Op =
  | { kind: 'start'; rhs: PerturbationRhs; x: number }
  | { kind: 'solve'; rhs: PerturbationRhs; times: Float64Array; states: Float64Array; out: number[]; yOut: Float64Array; dense: OdeInterpolant | null }
  | { kind: 'switch'; from: PerturbationRhs; to: PerturbationRhs; x: number; yIn: Float64Array };

/** What the backward pass of one mode needs: the forward chain with its recorded steps, and the values. */
export interface ModeTape {
  setup: ModeSetup;
  /** The switching times used. */
  schedule: Schedule;
  /** The tolerances of the forward solve (the continuous scheme's backward solves use them too). */
  rtol: number;
  atol: number;
  k: number;
  xOut: Float64Array;
  ops: Op[];
  /** delta_m per unit R at xOut, and delta_cb with massive neutrinos (else null). */
  delta: Float64Array;
  deltaCb: Float64Array | null;
  steps: number;
  /** Doubles held for the backward pass (step-end states of every regime, output states). */
  storedDoubles: number;
}

/** The right-hand side of one regime with its two vector-Jacobian products (see the file comment). */
export class RegimeAdjointRhs implements AdjointRhs {
  readonly n: number;
  readonly np: number;
  private readonly eps: Float64Array;
  private readonly fp: Float64Array;
  private readonly fm: Float64Array;
  private readonly sv: Float64Array;
  private readonly exact: RhsReadBars | null;
  /**
   * reads null: the parameter cotangent is that of the Pa directions s (one central difference of f per
   * direction and stage); else the cotangents of the scalars f reads, scattered into reads (flat in Pa).
   */
  constructor(private readonly rhs: PerturbationRhs, Pa: number, private readonly reads: ReadBars | null = null) {
    this.n = rhs.L.n;
    this.np = Pa;
    this.eps = new Float64Array(Math.max(rhs.L.nq, 1));
    this.fp = new Float64Array(this.n);
    this.fm = new Float64Array(this.n);
    this.sv = new Float64Array(Pa);
    this.exact = reads ? new RhsReadBars(rhs) : null;
  }
  /** f; at an RK stage of the tables scheme, its evaluation is kept for that stage's vjpY (RhsReadBars.save). */
  f(t: number, y: Float64Array, dy: Float64Array, stage?: number): void {
    this.rhs.f(t, y, dy, EMPTY);
    if (this.exact && stage !== undefined) this.exact.save(stage, t, dy);
  }
  /**
   * A^T lam by the transposed equations (equations-transpose.ts: about one evaluation of f, A never formed); with
   * reads, the same sweep also adds lam . (df/d(read scalars))(t, y) into reads (RhsReadBars), which is therefore
   * the parameter part of the tables scheme (vjpP adds nothing then).
   */
  vjpY(t: number, y: Float64Array, lam: Float64Array, out: Float64Array, stage?: number): void {
    if (this.exact) this.exact.add(t, y, lam, this.reads, 1, out, stage ?? -1);
    else transposeRhs(this.rhs, t, lam, out, this.eps);
  }
  /** pbar_a += lam . (dA/ds_a) u by central differences in s_a (how = 'directions'); with reads, nothing (vjpY). */
  vjpP(t: number, u: Float64Array, lam: Float64Array, pbar: Float64Array | null): void {
    if (this.reads) return;
    const n = this.n, fp = this.fp;
    const sv = this.sv, fm = this.fm;
    for (let a = 0; a < this.np; a++) {
      sv[a] = SIGMA;
      this.rhs.f(t, u, fp, sv);
      sv[a] = -SIGMA;
      this.rhs.f(t, u, fm, sv);
      sv[a] = 0;
      let acc = 0;
      for (let i = 0; i < n; i++) acc += lam[i] * (fp[i] - fm[i]);
      pbar![a] += acc / (2 * SIGMA);
    }
  }
}

/** d g(s) / d s_a at s = 0 (central differences, step SIGMA), dotted with w: sum_i w_i dg_i/ds_a into out[a]. */
function addSDerivative(Pa: number, g: (sv: Float64Array) => ArrayLike<number>, w: ArrayLike<number>, out: Float64Array): void {
  const sv = new Float64Array(Pa);
  for (let a = 0; a < Pa; a++) {
    sv.fill(0);
    sv[a] = SIGMA;
    const up = Float64Array.from(g(sv));
    sv[a] = -SIGMA;
    const dn = g(sv);
    let acc = 0;
    for (let i = 0; i < up.length; i++) acc += w[i] * (up[i] - dn[i]);
    out[a] += acc / (2 * SIGMA);
  }
}

/** The gradient of a functional linear in y (n entries) by unit vectors. */
function linearGradient(n: number, g: (y: Float64Array) => number): Float64Array {
  const e = new Float64Array(n), out = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    e[j] = 1;
    out[j] = g(e);
    e[j] = 0;
  }
  return out;
}

/**
 * The forward pass of mode k: solve every regime with the injected solver (tsit5: its steps are the
 * discretisation the adjoint differentiates), keep the step-end states, and return delta_m at xOut (dense
 * output of the step holding each x, as the solver's own save points).
 */
export function recordMode(setup: ModeSetup, k: number, xOut: Float64Array, solver: OdeSolver, opt: ModeAdjointOptions): ModeTape {
  // the discrete adjoint differentiates tsit5's steps: with another bound method the modes are re-solved by tsit5
  // (values within the ODE tolerance of that method's: docs/boltzmann.md, "ODE methods")
  if (solver.name !== 'tsit5') solver = createTsit5();
  const sch = opt.schedule ?? schedule(setup, k);
  const nx = xOut.length;
  if (nx === 0 || !(xOut[0] > sch.xIni)) throw new Error(`linear-power/boltzmann: output times must follow the start of mode k = ${k}`);
  const xEnd = xOut[nx - 1];
  const cuts = regimeCuts(sch, xEnd);
  const Pa = setup.Pa;
  const sens = opt.stepsFromSensitivities === true && Pa > 0;
  const params = new Float64Array(sens ? Pa : 0);
  let flags: Flags = INITIAL_FLAGS;
  let rhs = new PerturbationRhs(setup, k, flags);
  const ops: Op[] = [{ kind: 'start', rhs, x: sch.xIni }];
  let y = initialState(rhs, sch.xIni, null);
  let S = sens ? directional(Pa, y.length, (sv) => initialState(rhs, sch.xIni, sv), null, null) : null;
  const delta = new Float64Array(nx);
  const deltaCb = setup.ncdm ? new Float64Array(nx) : null;
  let x0 = sch.xIni, iOut = 0, steps = 0, stored = 0;
  for (let seg = 0; seg <= cuts.length; seg++) {
    const x1 = seg < cuts.length ? cuts[seg].x : xEnd;
    if (x1 > x0) {
      const out: number[] = [];
      while (iOut < nx && xOut[iOut] <= x1) {
        if (xOut[iOut] > x0) out.push(iOut);
        iOut++;
      }
      const n = rhs.L.n;
      const sol = solver.solve(
        { f: rhs.f, y0: y, tspan: [x0, x1], params, dy0dp: S ? transposeBlocks(S, Pa, n) : undefined, names: layoutNames(rhs.L) },
        { rtol: opt.rtol, atol: opt.atol, sensitivities: sens, dense: opt.dense === true, maxSteps: opt.maxSteps ?? 200000 },
      );
      const times = Float64Array.from(sol.times), states = Float64Array.from(sol.states);
      const adj = new RegimeAdjointRhs(rhs, 0);
      const work = new RkWork(n, TSIT5_TABLEAU.stages);
      const yOut = new Float64Array(out.length * n);
      out.forEach((i, j) => {
        const yj = yOut.subarray(j * n, (j + 1) * n);
        rkDenseAt(adj, TSIT5_TABLEAU, times, states, xOut[i], yj, work);
        delta[i] = rhs.deltaMTotal(xOut[i], yj, null);
        if (deltaCb) deltaCb[i] = rhs.deltaM(xOut[i], yj, null);
      });
      ops.push({ kind: 'solve', rhs, times, states, out, yOut, dense: sol.interpolant });
      steps += sol.stats.steps;
      stored += states.length + yOut.length;
      const last = sol.times.length - 1;
      y = Float64Array.from(sol.state(last));
      if (S) S = Float64Array.from(sol.sensitivity(last));
      x0 = x1;
    }
    if (seg < cuts.length) {
      const from = rhs, yOld = y;
      ({ rhs, flags, y, S } = crossCut(setup, k, cuts[seg].change(flags), from, x0, yOld, S, params));
      ops.push({ kind: 'switch', from, to: rhs, x: x0, yIn: yOld });
      stored += yOld.length;
    }
  }
  return { setup, schedule: sch, k, xOut, ops, delta, deltaCb, steps, storedDoubles: stored, rtol: opt.rtol, atol: opt.atol };
}

export interface ModeVjpResult {
  /** dF/ds over the setup's Pa active directions. */
  sBar: Float64Array;
  /** With how = 'tables': the cotangents of what the equations read (sBar = reads.directions()); else null. */
  reads: ReadBars | null;
}

/**
 * The backward pass through one regime: from the cotangent of its end state (null: zero) and those of its dense
 * outputs, the cotangent of its start state; the parameter part into reads (or sBar for 'directions').
 */
export type RegimeBackward = (
  op: Extract<Op, { kind: 'solve' }>, lam: Float64Array | null, dense: DenseBars, reads: ReadBars | null, sBar: Float64Array, tape: ModeTape,
) => Float64Array;

/** Scheme `discrete`: the adjoint of the recorded tsit5 steps (adjoint-rk.ts). */
export const discreteRegime: RegimeBackward = (op, lam, dense, reads, sBar) =>
  rkAdjoint(new RegimeAdjointRhs(op.rhs, sBar.length, reads), TSIT5_TABLEAU, op.times, op.states, lam, dense, reads ? null : sBar);

/**
 * The backward pass: dF/ds (setup.Pa entries) for F = deltaBar . delta (+ deltaCbBar . deltaCb), on the
 * discretisation recorded in the tape. how = 'tables' (default) accumulates the cotangents of the scalars the
 * equations read onto the base quantities and spline nodes (ReadBars: flat in Pa) and contracts them with the
 * tangent rows at the end; 'directions' differentiates along each s_a (cost proportional to Pa; the reference).
 */
export function modeVjp(
  tape: ModeTape, deltaBar: ArrayLike<number>, deltaCbBar: ArrayLike<number> | null = null, how: 'tables' | 'directions' = 'tables',
  regime: RegimeBackward = discreteRegime, vopt: ModeVjpOptions = {},
): ModeVjpResult {
  const Pa = tape.setup.Pa, xOut = tape.xOut;
  const sBar = new Float64Array(Pa);
  const reads = how === 'tables' ? (vopt.into ?? new ReadBars(tape.setup)) : null;
  const b = new Float64Array(NUDGE_COUNT);
  const nudged = new Set<PerturbationRhs>();
  const nudge = (r: PerturbationRhs) => {
    if (reads && !r.nudge) {
      r.nudge = new Float64Array(NUDGE_COUNT);
      nudged.add(r);
    }
    return r;
  };
  /** The explicit dependence of g (through the scalars read at x, or s) into reads or sBar, weighted by w. */
  const explicit = (rhs: PerturbationRhs, x: number, gs: (sv: Float64Array) => ArrayLike<number>, w: ArrayLike<number>, use: Uint8Array | null) => {
    if (reads) {
      nudgeBars(nudge(rhs), x, () => {
        const v = gs(EMPTY);
        let acc = 0;
        for (let i = 0; i < v.length; i++) acc += w[i] * v[i];
        return acc;
      }, reads, b, 1, use);
    } else addSDerivative(Pa, gs, w, sBar);
  };
  let lam: Float64Array | null = null; // cotangent of the state after the op being undone
  try {
    for (let o = tape.ops.length - 1; o >= 0; o--) {
      const op = tape.ops[o];
      if (op.kind === 'solve') {
        const { rhs } = op, n = rhs.L.n;
        const bar = new Float64Array(op.out.length * n);
        const t = new Float64Array(op.out.length);
        op.out.forEach((i, j) => {
          const x = xOut[i];
          t[j] = x;
          const yj = op.yOut.subarray(j * n, (j + 1) * n);
          const row = bar.subarray(j * n, (j + 1) * n);
          const wm = deltaBar[i], wc = deltaCbBar ? deltaCbBar[i] : 0;
          if (wm !== 0) {
            const g = linearGradient(n, (e) => rhs.deltaMTotal(x, e, null));
            for (let q = 0; q < n; q++) row[q] += wm * g[q];
            explicit(rhs, x, (sv) => [rhs.deltaMTotal(x, yj, sv.length ? sv : null)], [wm], DELTA_READS);
          }
          if (wc !== 0) {
            const g = linearGradient(n, (e) => rhs.deltaM(x, e, null));
            for (let q = 0; q < n; q++) row[q] += wc * g[q];
            explicit(rhs, x, (sv) => [rhs.deltaM(x, yj, sv.length ? sv : null)], [wc], DELTA_READS);
          }
        });
        const dense: DenseBars = { t, bar };
        nudge(rhs);
        lam = regime(op, lam, dense, reads, sBar, tape);
      } else if (op.kind === 'switch') {
        const { from, to, x, yIn } = op;
        const scratch = new Float64Array(from.L.n);
        const ybar = lam ?? new Float64Array(to.L.n);
        // ybar- = C^T ybar+ (C by its columns C e_j), and the explicit dependence ybar+ . (dC/d.) y-
        const back = new Float64Array(from.L.n);
        const e = new Float64Array(from.L.n);
        for (let j = 0; j < from.L.n; j++) {
          e[j] = 1;
          const col = convert(from, to, x, e, EMPTY, scratch);
          e[j] = 0;
          let acc = 0;
          for (let q = 0; q < col.length; q++) acc += ybar[q] * col[q];
          back[j] = acc;
        }
        explicit(from, x, (sv) => convert(from, to, x, yIn, sv, scratch), ybar, null);
        if (vopt.switchTimes && reads) addSwitchMotion(from, to, x, yIn, ybar, tape.schedule, reads);
        lam = back;
      } else if (lam) {
        const ybar0 = lam;
        explicit(op.rhs, op.x, (sv) => initialState(op.rhs, op.x, sv.length ? sv : null), ybar0, INITIAL_READS);
      }
    }
  } finally {
    for (const r of nudged) r.nudge = null;
  }
  if (reads && !vopt.into) reads.directions(sBar);
  return { sBar, reads };
}

/**
 * delta_m (and delta_cb) of the recorded discretisation (same steps, same switching times) at parameters s:
 * the discrete solution the adjoint differentiates, for difference quotients (tests).
 */
export function replayMode(tape: ModeTape, sv: Float64Array): { delta: Float64Array; deltaCb: Float64Array | null } {
  const nx = tape.xOut.length;
  const delta = new Float64Array(nx);
  const deltaCb = tape.deltaCb ? new Float64Array(nx) : null;
  let y: Float64Array = EMPTY;
  for (const op of tape.ops) {
    if (op.kind === 'start') y = initialState(op.rhs, op.x, sv);
    else if (op.kind === 'switch') y = convert(op.from, op.to, op.x, y, sv, new Float64Array(op.from.L.n));
    else {
      const rhs = op.rhs;
      const f: AdjointRhs = { n: rhs.L.n, np: 0, f: (t, u, dy) => rhs.f(t, u, dy, sv), vjpY: () => undefined };
      const tOut = op.out.map((i) => tape.xOut[i]);
      const rep = rkReplay(f, TSIT5_TABLEAU, op.times, y, tOut);
      const n = rhs.L.n;
      op.out.forEach((i, j) => {
        const yj = rep.outputs.subarray(j * n, (j + 1) * n);
        delta[i] = rhs.deltaMTotal(tape.xOut[i], yj, sv);
        if (deltaCb) deltaCb[i] = rhs.deltaM(tape.xOut[i], yj, sv);
      });
      y = rep.states.slice(rep.states.length - n);
    }
  }
  return { delta, deltaCb };
}
