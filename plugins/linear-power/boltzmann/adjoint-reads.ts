/**
 * Reverse mode through the Boltzmann modes, flat in the number of directions: the cotangents of the 15 scalars the
 * equations read at a point (equations.ts PerturbationRhs.nudge: the base quantities q of setup.ts and the thermal
 * scalars interpolated at x), scattered onto the spline nodes they are interpolated from (ReadBars), and contracted
 * with the tangent rows once at the end (ReadBars.directions) or turned into the bar of a recombination input
 * (adjoint-recombination.ts). For the right-hand side they are exact (RhsReadBars: the reverse sweep of
 * equations-transpose.ts and point-transpose.ts); for the other, per-mode quantities (delta_m, the switch maps, the
 * initial state) and as the test oracle of the exact ones, by central differences (nudgeBars).
 */
import {
  type Derived, NUDGE_CB2, NUDGE_COUNT, NUDGE_DCB2, NUDGE_DLK, NUDGE_LK, NUDGE_TAU, type PerturbationRhs, type Point, copyDerived, copyPoint,
  newDerived, newPoint,
} from './equations.js';
import { type ReadsSweep, transposeRhs } from './equations-transpose.js';
import { PB_COUNT, pointTranspose } from './point-transpose.js';
import { type ModeSetup, P_NA, P_NM, type SplineColumn } from './setup.js';

/** The cotangents bv of a spline value and bd of its derivative in interval i at fraction t onto the nodes (ReadBars.add). */
function scatter(c: { y: Float64Array; m: Float64Array }, i: number, t: number, h: number, bv: number, bd: number): void {
  if (bv === 0 && bd === 0) return;
  const u = 1 - t;
  c.y[i] += bv * u - bd / h;
  c.y[i + 1] += bv * t + bd / h;
  c.m[i] += bv * ((h * h) / 6) * (u * u * u - u) - bd * (h / 6) * (3 * u * u - 1);
  c.m[i + 1] += bv * ((h * h) / 6) * (t * t * t - t) + bd * (h / 6) * (3 * t * t - 1);
}

/** The arrays of a ReadBars (what a worker thread sends back: ReadBars.arrays, ReadBars.addArrays). */
export interface ReadBarsArrays {
  q: Float64Array;
  lnKappa: { y: Float64Array; m: Float64Array };
  cb2: { y: Float64Array; m: Float64Array };
  tau: { y: Float64Array; m: Float64Array };
  lnKappaEarly: number;
  lnCb2Early: number;
}

/**
 * Cotangents of one or more modes on what their equations read (flat in the number of directions): the base
 * quantities q (setup.ts P_*), the nodes (values y and second derivatives m) of the ln kappa', c_b^2 and tau
 * splines, and the early-time coefficients (ln of kappa' and of c_b^2 above the table).
 */
export class ReadBars {
  readonly q = new Float64Array(10);
  readonly lnKappa: { y: Float64Array; m: Float64Array };
  readonly cb2: { y: Float64Array; m: Float64Array };
  readonly tau: { y: Float64Array; m: Float64Array };
  lnKappaEarly = 0;
  lnCb2Early = 0;
  constructor(readonly setup: ModeSetup) {
    const col = () => ({ y: new Float64Array(setup.n), m: new Float64Array(setup.n) });
    this.lnKappa = col();
    this.cb2 = col();
    this.tau = col();
  }

  /**
   * Scatter the cotangents of the scalars read at x (indices NUDGE_*) onto what they are made of: q directly; a
   * spline value v = u y_i + t y_i+1 + (h^2/6)[(u^3 - u) m_i + (t^3 - t) m_i+1] and derivative
   * v' = (y_i+1 - y_i)/h + (h/6)[-(3u^2 - 1) m_i + (3t^2 - 1) m_i+1] (equations.ts splineRow) by their weights.
   */
  add(x: number, b: Float64Array): void {
    const S = this.setup;
    for (let j = 0; j < 10; j++) this.q[j] += b[j];
    if (x < S.xMin) {
      this.lnKappaEarly += b[NUDGE_LK];
      this.lnCb2Early += b[NUDGE_CB2];
      return;
    }
    const h = S.dx;
    let i = Math.floor((x - S.xMin) / h);
    if (i < 0) i = 0;
    if (i > S.n - 2) i = S.n - 2;
    const t = (x - S.xMin) / h - i;
    scatter(this.lnKappa, i, t, h, b[NUDGE_LK], b[NUDGE_DLK]);
    scatter(this.cb2, i, t, h, b[NUDGE_CB2], b[NUDGE_DCB2]);
    scatter(this.tau, i, t, h, b[NUDGE_TAU], 0);
  }

  /** The arrays alone (no setup): what crosses threads. */
  arrays(): ReadBarsArrays {
    return { q: this.q, lnKappa: this.lnKappa, cb2: this.cb2, tau: this.tau, lnKappaEarly: this.lnKappaEarly, lnCb2Early: this.lnCb2Early };
  }

  /** Add another's cotangents (another thread's modes, same table grid), entry by entry. */
  addArrays(o: ReadBarsArrays): this {
    const add = (to: Float64Array, from: Float64Array) => {
      if (from.length !== to.length) throw new Error(`linear-power/boltzmann: read cotangents of ${from.length} entries added to ${to.length}`);
      for (let i = 0; i < to.length; i++) to[i] += from[i];
    };
    add(this.q, o.q);
    for (const c of ['lnKappa', 'cb2', 'tau'] as const) {
      add(this[c].y, o[c].y);
      add(this[c].m, o[c].m);
    }
    this.lnKappaEarly += o.lnKappaEarly;
    this.lnCb2Early += o.lnCb2Early;
    return this;
  }

  /**
   * The cotangents of the setup's Pa active directions: q = q0 + Jq s, tables T + sum_a s_a T_a (values and
   * second derivatives), early coefficients + s . d(ln)/ds: one contraction with the tangent rows (Pa x table).
   */
  directions(out = new Float64Array(this.setup.Pa)): Float64Array {
    const S = this.setup, Pa = S.Pa, n = S.n;
    const rows = (c: { y: Float64Array; m: Float64Array }, col: SplineColumn, a: number) => {
      let r = 0;
      for (let i = 0; i < n; i++) r += c.y[i] * col.yt[a * n + i] + c.m[i] * col.mt[a * n + i];
      return r;
    };
    for (let a = 0; a < Pa; a++) {
      let acc = 0;
      for (let j = 0; j < 10; j++) acc += this.q[j] * S.Jq[j * Pa + a];
      acc += rows(this.lnKappa, S.lnKappa, a) + rows(this.cb2, S.cb2, a) + rows(this.tau, S.tau, a);
      acc += this.lnKappaEarly * S.dLnKappaEarly[a] + this.lnCb2Early * S.dLnCb2Early[a];
      out[a] += acc;
    }
    return out;
  }
}

/**
 * The exact cotangents of the read scalars of the right-hand side, lam^T (df/d scalars)(x, y), and A^T lam, in one
 * reverse sweep (equations-transpose.ts with a state, then point-transpose.ts): about two evaluations of f, against
 * the 2 x 13 of nudgeBars. Allocates nothing per call.
 */
export class RhsReadBars {
  /** The cotangents of the last call (NUDGE_* order, times its weight). */
  readonly b = new Float64Array(NUDGE_COUNT);
  private readonly rd: ReadsSweep;
  private readonly eps: Float64Array;
  private readonly fd = new Float64Array(4);
  private readonly scratch: Float64Array;
  private readonly fy: Float64Array;
  /** Kept evaluations (save): x, the point, the derived quantities and f of each slot. */
  private readonly slots: { x: number; p: Point; d: Derived; f: Float64Array }[] = [];
  constructor(private readonly rhs: PerturbationRhs) {
    const n = rhs.L.n;
    this.fy = new Float64Array(n);
    this.rd = { y: this.fy, f: this.fy, pb: new Float64Array(PB_COUNT), known: false, p: null, d: null };
    this.eps = new Float64Array(Math.max(rhs.L.nq, 1));
    this.scratch = new Float64Array(n);
  }

  /**
   * Keep the evaluation the rhs just made at x (its point and derived quantities) with its result f, in slot
   * (an RK stage index): add at the same slot, x and state then skips the point and the forward evaluation.
   */
  save(slot: number, x: number, f: Float64Array): void {
    while (this.slots.length <= slot) this.slots.push({ x: NaN, p: newPoint(), d: newDerived(), f: new Float64Array(this.rhs.L.n) });
    const s = this.slots[slot];
    s.x = x;
    copyPoint(s.p, this.rhs.pt);
    copyDerived(s.d, this.rhs.derived);
    s.f.set(f);
  }

  /**
   * weight x d(lam . f(x, y))/d(read scalars) into this.b and (when given) reads at x; out = A(x)^T lam (when given).
   * The rhs's nudge must be null or zero. slot: that of a save at (x, y) (the caller guarantees the state: the
   * stage state of the last RK step's stages), or -1.
   */
  add(x: number, y: Float64Array, lam: Float64Array, reads: ReadBars | null, weight = 1, out: Float64Array | null = null, slot = -1): void {
    const rhs = this.rhs, b = this.b, rd = this.rd;
    const s = slot >= 0 && slot < this.slots.length && this.slots[slot].x === x ? this.slots[slot] : null;
    rd.y = y;
    rd.known = s !== null;
    rd.f = s ? s.f : this.fy;
    rd.p = s ? s.p : null;
    rd.d = s ? s.d : null;
    const p = transposeRhs(rhs, x, lam, out ?? this.scratch, this.eps, rd);
    pointTranspose(rhs.setup, x, p, rd.pb, b, this.fd);
    if (weight !== 1) for (let j = 0; j < NUDGE_COUNT; j++) b[j] *= weight;
    if (reads) reads.add(x, b);
  }
}

/** delta_m reads only the base quantities (densities and aH). */
export const DELTA_READS = Uint8Array.from({ length: NUDGE_COUNT }, (_, j) => (j < 10 ? 1 : 0));
/** The initial conditions read the base quantities and tau. */
export const INITIAL_READS = Uint8Array.from({ length: NUDGE_COUNT }, (_, j) => (j < 10 || j === NUDGE_TAU ? 1 : 0));

/** The size of read scalar j at a point p at x (nudgeBars' steps are 1e-6 of it). */
export function nudgeSize(S: ModeSetup, x: number, p: Point, j: number): number {
  if (j < 10) return Math.abs(S.q0[j]) || 1;
  switch (j) {
    case NUDGE_LK: return 1;
    case NUDGE_DLK: return Math.max(Math.abs(p.kappaPrime / (p.kappa * p.aH)), 1);
    case NUDGE_CB2: return x < S.xMin ? 1 : Math.abs(p.cb2) || 1e-10;
    case NUDGE_DCB2: return Math.max(Math.abs(p.cb2Prime / p.aH), Math.abs(p.cb2)) || 1e-10;
    default: return Math.abs(p.tau) || 1;
  }
}

/**
 * Cotangents of the scalars read at x (rhs.nudge indices) of the scalar g(), by central differences in each scalar
 * (g is smooth in them; linear in the state, which is held fixed): fourth order (8 (g(h) - g(-h)) - (g(2h) - g(-2h)))
 * / 12h with h = 1e-4 of the scalar's size there (nudgeSize; truncation ~1e-10, rounding ~1e-12 of g's terms), or
 * second order (g(h) - g(-h))/2h with h = 1e-6 of it (the adjoint's scheme before the exact sweep: errors ~1e-8
 * that reached the gradient as ~3e-8); rel(j) overrides the step. Added into reads at x, times weight (a
 * quadrature weight), for the scalars `use` marks (all when null). The massive-neutrino quantities are skipped
 * without massive neutrinos (they are 0 and unread).
 */
export function nudgeBars(
  rhs: PerturbationRhs, x: number, g: () => number, reads: ReadBars, b: Float64Array, weight = 1, use: Uint8Array | null = null,
  rel: ((j: number) => number) | null = null, order: 2 | 4 = 4,
): void {
  const nd = rhs.nudge!;
  const S = rhs.setup;
  nd.fill(0);
  const p = rhs.point(x, null);
  const size = (j: number) => nudgeSize(S, x, p, j);
  b.fill(0);
  for (let j = 0; j < NUDGE_COUNT; j++) {
    if (use && !use[j]) continue;
    if (!S.ncdm && (j === P_NA || j === P_NM)) continue;
    if (x < S.xMin && (j === NUDGE_DLK || j === NUDGE_DCB2 || j === NUDGE_TAU)) continue;
    const h = (rel ? rel(j) : order === 4 ? 1e-4 : 1e-6) * size(j);
    nd[j] = h;
    const up = g();
    nd[j] = -h;
    const dn = g();
    let d = up - dn;
    if (order === 4) {
      nd[j] = 2 * h;
      const up2 = g();
      nd[j] = -2 * h;
      d = (8 * d - (up2 - g())) / 6;
    }
    nd[j] = 0;
    b[j] = (weight * d) / (2 * h);
  }
  reads.add(x, b);
}
