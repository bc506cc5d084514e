/**
 * The discrete adjoint of an explicit Runge-Kutta method over a given sequence of accepted steps
 * t_0 < t_1 < ... < t_N (the steps an adaptive forward solve accepted, held fixed, as forward sensitivities
 * effectively do). One step of an s-stage method with tableau (a, b, c) is
 *
 *   u_1 = y_n,  u_i = y_n + h sum_{j<i} a_ij k_j,  k_i = f(t_n + c_i h, u_i; p),  y_{n+1} = y_n + h sum_i b_i k_i,  (1)
 *
 * and a dense output inside the step is y(t_n + theta h) = y_n + h sum_i b_i(theta) k_i (Tsitouras 2011's
 * continuous extension for tsit5, dense-output.ts). For a scalar F of the states at the step ends and at
 * dense-output times, with cotangent ybar_{n+1} = dF/dy_{n+1} (plus the terms of later steps), reverse mode
 * through (1) gives (Hairer, Lubich & Wanner, "Geometric Numerical Integration" VI.6; Sandu 2006, "On the
 * properties of Runge-Kutta discrete adjoints"):
 *
 *   kbar_i = h b_i ybar_{n+1} + h b_i(theta) ybar_out,                                                   (2)
 *   for i = s..1:  ubar_i = (df/dy)^T(t_i, u_i) kbar_i,   pbar += (df/dp)^T(t_i, u_i) kbar_i,
 *                  kbar_j += h a_ij ubar_i (j < i),
 *   ybar_n = ybar_{n+1} + ybar_out + sum_i ubar_i,                                                       (3)
 *
 * i.e. the exact gradient of the discrete solution (it agrees with the forward sensitivities integrated on the
 * same steps to rounding). The stage states u_i are recomputed per step from the stored y_n (s - 1 evaluations
 * of f), so the memory is the N + 1 states. The problem supplies the two vector-Jacobian products; for a linear
 * f = A(t; p) y, (df/dy)^T kbar = A^T kbar.
 */
import { tsit5DenseWeights } from './dense-output.js';
import { TSIT5_A, TSIT5_B, TSIT5_C } from './tsit5.js';

/** An explicit RK tableau: a (strictly lower rows), b, c, and optionally the dense-output weights b_i(theta). */
export interface ExplicitTableau {
  readonly stages: number;
  readonly a: readonly (readonly number[])[];
  readonly b: readonly number[];
  readonly c: readonly number[];
  readonly dense?: (theta: number, out: Float64Array) => Float64Array;
}

/**
 * tsit5 (core/numerics/ode/tsit5.ts): 7 stages, the 7th (FSAL, a_7j = b_j, b_7 = 0) is used only by the dense
 * output, so it is recomputed only in steps that hold an output time.
 */
export const TSIT5_TABLEAU: ExplicitTableau = { stages: 7, a: TSIT5_A, b: TSIT5_B, c: TSIT5_C, dense: tsit5DenseWeights };

/** The right-hand side and its two vector-Jacobian products at a stage (parameters bound). */
export interface AdjointRhs {
  readonly n: number;
  /** Number of parameters whose cotangent vjpP accumulates (0: none). */
  readonly np: number;
  /**
   * dy = f(t, y) (allocate nothing). stage: the stage index when called by rkStages (a problem may keep what it
   * computed there for the vjpY of the same stage, which rkAdjoint calls, in reverse order, before the next step's
   * rkStages; a problem that keeps nothing ignores it).
   */
  f(t: number, y: Float64Array, dy: Float64Array, stage?: number): void;
  /** out = (df/dy)^T(t, y) lam (overwrite out); stage: as for f, when called by rkAdjoint. */
  vjpY(t: number, y: Float64Array, lam: Float64Array, out: Float64Array, stage?: number): void;
  /**
   * pbar += (df/dp)^T(t, y) lam (pbar: np entries, as passed to rkAdjoint), or, with pbar null, into the
   * problem's own accumulator (e.g. cotangents of tabulated coefficients, scattered by t).
   */
  vjpP?(t: number, y: Float64Array, lam: Float64Array, pbar: Float64Array | null): void;
}

/** Cotangents on dense outputs: times (ascending, within [t_0, t_N]) and bars (times.length blocks of n). */
export interface DenseBars {
  t: ArrayLike<number>;
  bar: Float64Array;
}

/** Work arrays of one problem size (reused across steps and solves). */
export class RkWork {
  readonly k: Float64Array[];
  readonly u: Float64Array[];
  readonly kbar: Float64Array[];
  /** ubar_i of every stage of the step being undone (gathered into the kbar_j and into ybar_n: rkAdjoint) */
  readonly ubar: Float64Array[];
  readonly w: Float64Array;
  readonly live: Uint8Array;
  /** the stages whose ubar the step has formed */
  readonly done: Uint8Array;
  /** the terms of one gather (gatherInto) */
  readonly terms: Float64Array[] = [];
  readonly coefs: Float64Array;
  /** the state at the start of the step being undone */
  readonly yn: Float64Array;
  constructor(readonly n: number, readonly stages: number) {
    this.k = Array.from({ length: stages }, () => new Float64Array(n));
    this.u = Array.from({ length: stages }, () => new Float64Array(n));
    this.kbar = Array.from({ length: stages }, () => new Float64Array(n));
    this.ubar = Array.from({ length: stages }, () => new Float64Array(n));
    this.w = new Float64Array(stages);
    this.live = new Uint8Array(stages);
    this.done = new Uint8Array(stages);
    this.coefs = new Float64Array(stages);
    this.yn = new Float64Array(n);
  }
}

/** out += sum_m c[m] terms[m] over m < count: one pass over out per 6 terms (unrolled by count; RK tableaux). */
function gatherInto(out: Float64Array, terms: Float64Array[], c: Float64Array, count: number, n: number): void {
  for (let m = 0; m < count; m += 6) {
    const r = Math.min(count - m, 6);
    const A = terms[m], ca = c[m];
    if (r === 1) {
      for (let q = 0; q < n; q++) out[q] += ca * A[q];
      continue;
    }
    const B = terms[m + 1], cb = c[m + 1];
    if (r === 2) {
      for (let q = 0; q < n; q++) out[q] += ca * A[q] + cb * B[q];
      continue;
    }
    const C = terms[m + 2], cc = c[m + 2];
    if (r === 3) {
      for (let q = 0; q < n; q++) out[q] += ca * A[q] + cb * B[q] + cc * C[q];
      continue;
    }
    const D = terms[m + 3], cd = c[m + 3];
    if (r === 4) {
      for (let q = 0; q < n; q++) out[q] += ca * A[q] + cb * B[q] + cc * C[q] + cd * D[q];
      continue;
    }
    const E = terms[m + 4], ce = c[m + 4];
    if (r === 5) {
      for (let q = 0; q < n; q++) out[q] += ca * A[q] + cb * B[q] + cc * C[q] + cd * D[q] + ce * E[q];
      continue;
    }
    const F = terms[m + 5], cf = c[m + 5];
    for (let q = 0; q < n; q++) out[q] += ca * A[q] + cb * B[q] + cc * C[q] + cd * D[q] + ce * E[q] + cf * F[q];
  }
}

/** The time of stage i of the step [t0, t1] (c_i = 1 maps to t1 exactly, as the forward solver does). */
const stageTime = (tab: ExplicitTableau, i: number, t0: number, t1: number): number =>
  tab.c[i] === 1 ? t1 : t0 + tab.c[i] * (t1 - t0);

/**
 * Recompute the stages u_i, k_i (i < count) of the step from (t0, y0) to t1 into work (equation (1)).
 */
export function rkStages(rhs: AdjointRhs, tab: ExplicitTableau, t0: number, t1: number, y0: Float64Array, count: number, work: RkWork): void {
  const n = rhs.n, h = t1 - t0;
  for (let i = 0; i < count; i++) {
    const u = work.u[i], row = tab.a[i];
    let nt = 0;
    for (let j = 0; j < i; j++) {
      if (row[j] === 0) continue;
      work.terms[nt] = work.k[j];
      work.coefs[nt++] = h * row[j];
    }
    for (let q = 0; q < n; q++) u[q] = y0[q];
    gatherInto(u, work.terms, work.coefs, nt, n);
    rhs.f(stageTime(tab, i, t0, t1), u, work.k[i], i);
  }
}

/** Dense output of the step [t0, t1] at t from its stages (all `stages` recomputed in work). */
function rkDenseFromStages(tab: ExplicitTableau, t0: number, t1: number, y0: Float64Array, t: number, work: RkWork, out: Float64Array): void {
  const n = work.n, h = t1 - t0;
  const w = tab.dense!(h === 0 ? 1 : (t - t0) / h, work.w);
  for (let q = 0; q < n; q++) {
    let acc = 0;
    for (let j = 0; j < tab.stages; j++) acc += w[j] * work.k[j][q];
    out[q] = y0[q] + h * acc;
  }
}

/** Index n of the step [times[n], times[n+1]] holding t (the first one whose end reaches t). */
function stepOf(times: Float64Array, t: number): number {
  let lo = 0, hi = times.length - 2;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid + 1] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Forward replay of the method on the fixed steps `times` from y0: the states at every step end (rows of n)
 * and, at the dense times tOut (ascending, within the span), the dense output (rows of n). Used for values
 * at perturbed parameters on a frozen step sequence (finite differences of the discrete solution) and for
 * the outputs of a recorded solve.
 */
export function rkReplay(
  rhs: AdjointRhs, tab: ExplicitTableau, times: Float64Array, y0: ArrayLike<number>, tOut: ArrayLike<number> = [], work = new RkWork(rhs.n, tab.stages),
): { states: Float64Array; outputs: Float64Array } {
  const n = rhs.n, N = times.length - 1;
  const states = new Float64Array((N + 1) * n);
  states.set(y0, 0);
  const outputs = new Float64Array(tOut.length * n);
  const lastB = lastUpdateStage(tab);
  let o = 0;
  for (let s = 0; s < N; s++) {
    const yn = states.subarray(s * n, (s + 1) * n);
    const withOut = o < tOut.length && tOut[o] <= times[s + 1];
    rkStages(rhs, tab, times[s], times[s + 1], yn, withOut ? tab.stages : lastB + 1, work);
    const next = states.subarray((s + 1) * n, (s + 2) * n);
    const h = times[s + 1] - times[s];
    for (let q = 0; q < n; q++) {
      let acc = 0;
      for (let j = 0; j < tab.stages; j++) if (tab.b[j] !== 0) acc += tab.b[j] * work.k[j][q];
      next[q] = yn[q] + h * acc;
    }
    while (o < tOut.length && tOut[o] <= times[s + 1]) {
      rkDenseFromStages(tab, times[s], times[s + 1], yn, tOut[o], work, outputs.subarray(o * n, (o + 1) * n));
      o++;
    }
  }
  return { states, outputs };
}

/** The last stage with b_i != 0 (tsit5: the 6th; the FSAL 7th enters only the dense output). */
function lastUpdateStage(tab: ExplicitTableau): number {
  let last = 0;
  for (let i = 0; i < tab.stages; i++) if (tab.b[i] !== 0) last = i;
  return last;
}

/**
 * The backward sweep (2)-(3) over the recorded steps: given the cotangent of the final state (lamEnd, or null
 * for zero) and cotangents on dense outputs, returns ybar_0 = dF/dy(t_0) and adds dF/dp into pbar (through
 * rhs.vjpP, called at every stage with a nonzero cotangent, with pbar as given, possibly null). The states
 * at the step ends are `states` (rows of n, times.length of them, e.g. a solve's saved points without tEval).
 */
export function rkAdjoint(
  rhs: AdjointRhs, tab: ExplicitTableau, times: Float64Array, states: Float64Array,
  lamEnd: Float64Array | null, dense: DenseBars | null, pbar: Float64Array | null, work = new RkWork(rhs.n, tab.stages),
): Float64Array {
  const n = rhs.n, N = times.length - 1, S = tab.stages;
  const lam = new Float64Array(n);
  if (lamEnd) lam.set(lamEnd);
  const nOut = dense ? dense.t.length : 0;
  if (nOut > 0 && !tab.dense) throw new Error('rkAdjoint: dense-output cotangents need a tableau with dense weights');
  const lastB = lastUpdateStage(tab);
  let o = nOut - 1;
  for (let s = N - 1; s >= 0; s--) {
    const t0 = times[s], t1 = times[s + 1], h = t1 - t0;
    const yn = work.yn;
    for (let q = 0, o0 = s * n; q < n; q++) yn[q] = states[o0 + q];
    // outputs in this step: t in (t0, t1] (an output at t_0 itself is handled after the loop)
    const oHi = o;
    while (o >= 0 && dense!.t[o] > t0) o--;
    const withOut = oHi > o;
    const count = withOut ? S : lastB + 1;
    rkStages(rhs, tab, t0, t1, yn, count, work);
    // (2): the stage cotangents from y_{n+1} and the dense outputs
    for (let i = 0; i < count; i++) {
      const kb = work.kbar[i], hb = h * tab.b[i];
      for (let q = 0; q < n; q++) kb[q] = hb * lam[q];
      work.live[i] = tab.b[i] !== 0 ? 1 : 0;
    }
    for (let r = oHi; r > o; r--) {
      const w = tab.dense!(h === 0 ? 1 : (dense!.t[r] - t0) / h, work.w);
      const bar = dense!.bar.subarray(r * n, (r + 1) * n);
      for (let i = 0; i < count; i++) {
        if (w[i] === 0) continue;
        const kb = work.kbar[i], hw = h * w[i];
        for (let q = 0; q < n; q++) kb[q] += hw * bar[q];
        work.live[i] = 1;
      }
      for (let q = 0; q < n; q++) lam[q] += bar[q];
    }
    // (3): stages in reverse; lam already holds ybar_{n+1} + ybar_out, the identity part of ybar_n. The terms
    // h a_ij ubar_i of the later stages i are gathered into kbar_j when stage j is reached (one pass over kbar_j,
    // not one per pair), and the ubar_i into ybar_n at the end.
    const ub = work.ubar, done = work.done, terms = work.terms, coefs = work.coefs;
    done.fill(0);
    for (let j = count - 1; j >= 0; j--) {
      let nt = 0;
      for (let i = j + 1; i < count; i++) {
        if (!done[i] || tab.a[i][j] === 0) continue;
        terms[nt] = ub[i];
        coefs[nt++] = h * tab.a[i][j];
      }
      if (nt > 0) {
        gatherInto(work.kbar[j], terms, coefs, nt, n);
        work.live[j] = 1;
      }
      if (!work.live[j]) continue;
      const tj = stageTime(tab, j, t0, t1);
      rhs.vjpY(tj, work.u[j], work.kbar[j], ub[j], j);
      if (rhs.vjpP) rhs.vjpP(tj, work.u[j], work.kbar[j], pbar);
      done[j] = 1;
    }
    let nt = 0;
    for (let i = 0; i < count; i++) {
      if (!done[i]) continue;
      terms[nt] = ub[i];
      coefs[nt++] = 1;
    }
    gatherInto(lam, terms, coefs, nt, n);
  }
  // outputs at t_0 exactly
  for (; o >= 0; o--) {
    const bar = dense!.bar.subarray(o * n, (o + 1) * n);
    for (let q = 0; q < n; q++) lam[q] += bar[q];
  }
  return lam;
}

/**
 * The dense output at t of a recorded solve on the steps `times` with step-end states `states` (the stages of
 * the step holding t are recomputed), into out.
 */
export function rkDenseAt(
  rhs: AdjointRhs, tab: ExplicitTableau, times: Float64Array, states: Float64Array, t: number, out: Float64Array, work = new RkWork(rhs.n, tab.stages),
): void {
  const n = rhs.n, s = stepOf(times, t);
  const yn = states.subarray(s * n, (s + 1) * n);
  rkStages(rhs, tab, times[s], times[s + 1], yn, tab.stages, work);
  rkDenseFromStages(tab, times[s], times[s + 1], yn, t, work, out);
}
