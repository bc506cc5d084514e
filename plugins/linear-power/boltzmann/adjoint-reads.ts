/**
 * Reverse mode through the Boltzmann modes, flat in the number of directions: the cotangents of the 15 scalars the
 * equations read at a point (equations.ts PerturbationRhs.nudge: the base quantities q of setup.ts and the thermal
 * scalars interpolated at x), by central differences of the (state-linear) quantity being pulled back, scattered
 * onto the spline nodes they are interpolated from (ReadBars), and contracted with the tangent rows once at the end
 * (ReadBars.directions) or turned into the bar of a recombination input (adjoint-recombination.ts).
 */
import { NUDGE_CB2, NUDGE_COUNT, NUDGE_DCB2, NUDGE_DLK, NUDGE_LK, NUDGE_TAU, type PerturbationRhs } from './equations.js';
import { type ModeSetup, P_NA, P_NM, type SplineColumn } from './setup.js';

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
    const t = (x - S.xMin) / h - i, u = 1 - t;
    const scatter = (c: { y: Float64Array; m: Float64Array }, bv: number, bd: number) => {
      if (bv === 0 && bd === 0) return;
      c.y[i] += bv * u - bd / h;
      c.y[i + 1] += bv * t + bd / h;
      c.m[i] += bv * ((h * h) / 6) * (u * u * u - u) - bd * (h / 6) * (3 * u * u - 1);
      c.m[i + 1] += bv * ((h * h) / 6) * (t * t * t - t) + bd * (h / 6) * (3 * t * t - 1);
    };
    scatter(this.lnKappa, b[NUDGE_LK], b[NUDGE_DLK]);
    scatter(this.cb2, b[NUDGE_CB2], b[NUDGE_DCB2]);
    scatter(this.tau, b[NUDGE_TAU], 0);
  }

  /** Sum another mode's cotangents into these. */
  addAll(o: ReadBars): void {
    const sum = (a: Float64Array, b: Float64Array) => { for (let i = 0; i < a.length; i++) a[i] += b[i]; };
    sum(this.q, o.q);
    for (const key of ['lnKappa', 'cb2', 'tau'] as const) {
      sum(this[key].y, o[key].y);
      sum(this[key].m, o[key].m);
    }
    this.lnKappaEarly += o.lnKappaEarly;
    this.lnCb2Early += o.lnCb2Early;
  }

  /**
   * The cotangents of the setup's Pa active directions: q = q0 + Jq s, tables T + sum_a s_a T_a (values and
   * second derivatives), early coefficients + s . d(ln)/ds: one contraction with the tangent rows (Pa x table).
   */
  directions(out = new Float64Array(this.setup.Pa)): Float64Array {
    const S = this.setup, Pa = S.Pa, n = S.n;
    for (let a = 0; a < Pa; a++) {
      let acc = 0;
      for (let j = 0; j < 10; j++) acc += this.q[j] * S.Jq[j * Pa + a];
      const rows = (c: { y: Float64Array; m: Float64Array }, col: SplineColumn) => {
        let r = 0;
        for (let i = 0; i < n; i++) r += c.y[i] * col.yt[a * n + i] + c.m[i] * col.mt[a * n + i];
        return r;
      };
      acc += rows(this.lnKappa, S.lnKappa) + rows(this.cb2, S.cb2) + rows(this.tau, S.tau);
      acc += this.lnKappaEarly * S.dLnKappaEarly[a] + this.lnCb2Early * S.dLnCb2Early[a];
      out[a] += acc;
    }
    return out;
  }
}

/**
 * Which read scalars can change the right-hand side of a regime (equations.ts): c_b^2' only in tight coupling,
 * kappa'' in tight coupling and radiation streaming, tau wherever a hierarchy is truncated or a fluid has a
 * 1/tau term (all but radiation streaming without massive neutrinos); the others always.
 */
export function rhsReads(rhs: PerturbationRhs): Uint8Array {
  const use = new Uint8Array(NUDGE_COUNT).fill(1);
  const { tca, rsa } = rhs.flags;
  if (!tca) use[NUDGE_DCB2] = 0;
  if (!tca && !rsa) use[NUDGE_DLK] = 0;
  if (rsa && !rhs.setup.ncdm) use[NUDGE_TAU] = 0;
  return use;
}

/** delta_m reads only the base quantities (densities and aH). */
export const DELTA_READS = Uint8Array.from({ length: NUDGE_COUNT }, (_, j) => (j < 10 ? 1 : 0));
/** The initial conditions read the base quantities and tau. */
export const INITIAL_READS = Uint8Array.from({ length: NUDGE_COUNT }, (_, j) => (j < 10 || j === NUDGE_TAU ? 1 : 0));

/**
 * Cotangents of the scalars read at x (rhs.nudge indices) of the scalar g(): central differences with steps
 * 1e-6 of each scalar's size there (g is smooth in them; linear in the state, which is held fixed), added into
 * reads at x, times weight (a quadrature weight), for the scalars `use` marks (all when null). The
 * massive-neutrino quantities are skipped without massive neutrinos (they are 0 and unread).
 */
export function nudgeBars(rhs: PerturbationRhs, x: number, g: () => number, reads: ReadBars, b: Float64Array, weight = 1, use: Uint8Array | null = null): void {
  const nd = rhs.nudge!;
  const S = rhs.setup;
  nd.fill(0);
  const p = rhs.point(x, null);
  const aH = p.aH;
  const size = (j: number): number => {
    if (j < 10) return Math.abs(S.q0[j]) || 1;
    switch (j) {
      case NUDGE_LK: return 1;
      case NUDGE_DLK: return Math.max(Math.abs(p.kappaPrime / (p.kappa * aH)), 1);
      case NUDGE_CB2: return x < S.xMin ? 1 : Math.abs(p.cb2) || 1e-10;
      case NUDGE_DCB2: return Math.max(Math.abs(p.cb2Prime / aH), Math.abs(p.cb2)) || 1e-10;
      default: return Math.abs(p.tau) || 1;
    }
  };
  b.fill(0);
  for (let j = 0; j < NUDGE_COUNT; j++) {
    if (use && !use[j]) continue;
    if (!S.ncdm && (j === P_NA || j === P_NM)) continue;
    if (x < S.xMin && (j === NUDGE_DLK || j === NUDGE_DCB2 || j === NUDGE_TAU)) continue;
    const h = 1e-6 * size(j);
    nd[j] = h;
    const up = g();
    nd[j] = -h;
    const dn = g();
    nd[j] = 0;
    b[j] = (weight * (up - dn)) / (2 * h);
  }
  reads.add(x, b);
}
