/**
 * Scale-independent linear growth D(z) and growth rate f = d ln D / d ln a, with base-space sensitivities.
 *
 * The growth equation of the matter contrast with only baryons + CDM clustering (dark energy and radiation
 * smooth; radiation kept in H), in x = ln a, with G = dD/dx:
 *
 *   dD/dx = G
 *   dG/dx = (3/2) Omega_m a^-3 / E^2 D - (2 + (1/2) d ln E^2/dx) G
 *
 * (from D'' + aH D' = (3/2) a^2 H0^2 Omega_m a^-3 D in conformal time). This is the equation behind CLASS v3's
 * growth_D/growth_f (source rho_b + rho_cdm only, radiation in H) and CCL's D/f: the two references agree
 * with each other, and we agree with both, to ~1e-8 (docs/background.md). We take CLASS's definition as
 * the one we match (it documents its source term; CCL's table has only 11 redshifts).
 *
 * Initial conditions at a_ini (default 1e-6, deep in radiation domination): Meszaros's exact growing mode of
 * the radiation + matter universe, D = y + 2/3, dD/dx = y with y = a Omega_m/Omega_r (Meszaros 1974; e.g.
 * Dodelson, Modern Cosmology, eq. 7.69). Curvature and dark energy are O(1e-12) there; any error in the
 * initial state projects onto the growing mode (removed by D(0) = 1) and the decaying mode, which falls as
 * y^(-5/2) relative to it (below 1e-12 by z = 10).
 *
 * Integration: classical fixed-step RK4 in x, steps no longer than max_dlna and landing on every grid node
 * (growthSchedule). The system is linear in (D, G), so its sensitivities s_k = d(D, G)/dq_k obey
 *   s_k' = A s_k + (dA/dq_k) (D, G),
 * integrated alongside with the same RK4 stages: the result is the exact derivative of the discrete solution.
 * The coefficients of A (one E^2 evaluation each) are computed once per distinct x: 2 per step, not 4.
 *
 * Step size (measured against max_dlna = 5e-4): the error is made in the matter era after equality (steps of
 * 0.05 there give 1e-9 in D, f), not in radiation domination (steps of 0.1 below a_eq/20 change nothing at 1e-13),
 * and the grid region's steps are fixed by the nodes (d ln a = 0.005 on the default grid): a larger matter-era step
 * is not free, a larger radiation-era step would save 17% of the steps. Neither is taken.
 */
import {
  DE2DX, DQ_E2, DQ_SLOPE, E2, EXPANSION_SCRATCH, type ExpansionCoefficients, NB, QA, QM, darkEnergyRatio, e2At, expansionAt,
  nonPositiveE2Error, describeCosmology,
} from './expansion.js';
import type { BaseArray } from './distances.js';

export interface GrowthOptions {
  /** Scale factor where the integration starts (radiation domination). */
  aIni: number;
  /** Largest step in ln a. */
  maxStep: number;
}

/** Dark-energy fraction allowed at a_ini: the initial conditions assume radiation + matter there. */
const MAX_EARLY_DE_FRACTION = 1e-3;

/**
 * Why the initial conditions would be wrong (dark energy above MAX_EARLY_DE_FRACTION of the density at
 * a_ini), naming w0 and wa; null when they hold.
 */
export function earlyDarkEnergyProblem(c: ExpansionCoefficients, aIni: number): string | null {
  const x = Math.log(aIni);
  const deFrac = Math.abs(c.Ode * darkEnergyRatio(c, x)) / e2At(c, x);
  if (deFrac < MAX_EARLY_DE_FRACTION) return null;
  return (
    `dark energy is ${deFrac.toPrecision(3)} of the density at a = ${aIni} (w(a -> 0) = w0 + wa = ${c.w0 + c.wa}); ` +
    'the growth initial conditions assume radiation + matter domination there. Early dark energy is not ' +
    'supported: choose parameters.w0 + parameters.wa well below 0.'
  );
}

// ---------------------------------------------------------------------------------------------------------
// The step schedule and the coefficients of the linear system, shared by the forward run and its adjoint

/** Coefficients of the system at one x: c1, c2 and their base derivatives (see growthCoefficients). */
const NC = 2 + 2 * NB;
const C1 = 0, C2 = 1, DC1 = 2, DC2 = 2 + NB;

/**
 * The points of the RK4 steps, x_0 = ln a_ini < x_1 < ... < x_m = 0: on [ln a_ini, ln a(z_max)] and on every grid
 * interval, equal steps no longer than maxStep, so that the integration lands on every grid node. node[i] is the
 * index of the point of grid node i. The forward run and its adjoint step through the same points, so the adjoint
 * transposes exactly the forward's discrete map.
 */
export function growthSchedule(z: Float64Array, opts: GrowthOptions): { x: Float64Array; node: Int32Array } {
  const n = z.length;
  if (z[0] !== 0) throw new Error(`linearGrowth: the grid must start at z = 0 (got ${z[0]})`);
  const xIni = Math.log(opts.aIni);
  const xg = new Float64Array(n);
  for (let i = 0; i < n; i++) xg[i] = -Math.log1p(z[i]);
  const xTop = xg[n - 1];
  if (!(xIni < xTop))
    throw new Error(`background/w0wa: with.growth.a_ini = ${opts.aIni} must be below a(z_max) = ${Math.exp(xTop)}`);
  const stepsIn = (x0: number, x1: number) => Math.max(1, Math.ceil((x1 - x0) / opts.maxStep - 1e-9));
  let total = stepsIn(xIni, xTop);
  for (let i = n - 2; i >= 0; i--) total += stepsIn(xg[i + 1], xg[i]);
  const x = new Float64Array(total + 1);
  const node = new Int32Array(n);
  let j = 0;
  x[0] = xIni;
  const fill = (x0: number, x1: number) => {
    const m = stepsIn(x0, x1);
    const h = (x1 - x0) / m;
    for (let k = 1; k < m; k++) x[++j] = x0 + k * h;
    x[++j] = x1;
  };
  fill(xIni, xTop);
  node[n - 1] = j;
  for (let i = n - 2; i >= 0; i--) {
    fill(xg[i + 1], xg[i]);
    node[i] = j;
  }
  return { x, node };
}

/**
 * The system y' = A(x) y, A = [[0, 1], [c1, -c2]], at x = ln a: c1 = (3/2) Omega_m a^-3/E^2, c2 = 2 + (1/2) dE^2/dx / E^2
 * into out[o + C1], out[o + C2]; with derivatives, dc1/dq_k and dc2/dq_k into out[o + DC1 + k], out[o + DC2 + k].
 * s: expansion scratch (EXPANSION_SCRATCH).
 */
function growthCoefficients(c: ExpansionCoefficients, x: number, s: Float64Array, out: Float64Array, o: number, withD: boolean): void {
  expansionAt(c, x, s);
  const e2 = s[E2];
  if (!(e2 > 0)) throw nonPositiveE2Error(c, Math.expm1(-x), e2);
  const inv = 1 / e2;
  const a3 = Math.exp(-3 * x);
  out[o + C1] = 1.5 * c.Ocb * a3 * inv; // source: baryons + CDM (Omega_cb = Omega_m when there are no massive neutrinos)
  out[o + C2] = 2 + 0.5 * s[DE2DX] * inv;
  if (!withD) return;
  for (let k = 0; k < NB; k++) {
    const dE2 = s[DQ_E2 + k];
    out[o + DC1 + k] = 1.5 * a3 * (dOcb(c, k) - c.Ocb * inv * dE2) * inv;
    out[o + DC2 + k] = 0.5 * (s[DQ_SLOPE + k] - s[DE2DX] * inv * dE2) * inv;
  }
}

/** d Omega_cb / d q_k, Omega_cb = Omega_m - A F(M0). */
function dOcb(c: ExpansionCoefficients, k: number): number {
  if (k === 1) return 1;
  if (c.An === 0) return 0;
  if (k === QA) return -c.Fn0;
  if (k === QM) return -c.An * c.dFn0;
  return 0;
}

/**
 * Meszaros's growing mode at a_ini, y_M = a_ini Omega_cb / (Omega_r + A) (the massive neutrinos are radiation
 * there), and dy_M/dq_k into dy (when given).
 */
function meszaros(c: ExpansionCoefficients, aIni: number, dy: Float64Array | null): number {
  const Orad = c.Or + c.An;
  const yM = (aIni * c.Ocb) / Orad;
  if (dy) {
    dy.fill(0);
    dy[0] = -yM / Orad; // d/dOmega_r
    dy[1] = yM / c.Ocb; // d/dOmega_m
    if (c.An !== 0) {
      dy[QA] = -yM / Orad + (yM / c.Ocb) * dOcb(c, QA);
      dy[QM] = (yM / c.Ocb) * dOcb(c, QM);
    }
  }
  return yM;
}

/**
 * Right-hand side at one stage: out = A u for the state (D, G), and for the sensitivities s_k (withBase)
 * s_k' = A s_k + (dA/dq_k) (D, G). cf: the coefficients at the stage's x (offset o).
 */
function growthRhs(cf: Float64Array, o: number, u: Float64Array, out: Float64Array, S: number): void {
  const c1 = cf[o + C1], c2 = cf[o + C2];
  const D = u[0], G = u[1];
  out[0] = G;
  out[1] = c1 * D - c2 * G;
  for (let k = 0, j = 2; j < S; k++, j += 2) {
    out[j] = u[j + 1];
    out[j + 1] = c1 * u[j] - c2 * u[j + 1] + cf[o + DC1 + k] * D - cf[o + DC2 + k] * G;
  }
}

/**
 * D (normalised to D(z=0) = 1) and f on the ascending grid z (z[0] = 0), with base tangents when withBase.
 * Classical RK4 on the points of growthSchedule; the coefficients are evaluated once per distinct x (a step's
 * end is the next step's start, its two middle stages share one point).
 */
export function linearGrowth(
  c: ExpansionCoefficients,
  z: Float64Array,
  opts: GrowthOptions,
  withBase: boolean,
): { D: BaseArray; f: BaseArray } {
  const n = z.length;
  const { x: X, node } = growthSchedule(z, opts);
  const early = earlyDarkEnergyProblem(c, opts.aIni);
  if (early) throw new Error(`background/w0wa: ${early}`);

  const S = withBase ? 2 + 2 * NB : 2;
  const y = new Float64Array(S);
  const k1 = new Float64Array(S), k2 = new Float64Array(S), k3 = new Float64Array(S), k4 = new Float64Array(S);
  const tmp = new Float64Array(S);
  const s = new Float64Array(EXPANSION_SCRATCH);
  // coefficients at the start, middle and end of the current step
  let cA = new Float64Array(NC), cB = new Float64Array(NC);
  const cM = new Float64Array(NC);

  // Meszaros growing mode at a_ini.
  const dyM = withBase ? new Float64Array(NB) : null;
  const yM = meszaros(c, opts.aIni, dyM);
  y[0] = yM + 2 / 3;
  y[1] = yM;
  if (dyM) for (let k = 0; k < NB; k++) y[2 + 2 * k] = y[3 + 2 * k] = dyM[k];

  // Raw D, G (and sensitivities) at the nodes, from z_max down to 0.
  const raw = new Float64Array(S * n);
  const total = X.length - 1;
  let next = n - 1; // the next grid node to record
  growthCoefficients(c, X[0], s, cA, 0, withBase);
  for (let j = 0; j < total; j++) {
    const x = X[j], h = X[j + 1] - x;
    growthCoefficients(c, x + 0.5 * h, s, cM, 0, withBase);
    growthCoefficients(c, X[j + 1], s, cB, 0, withBase);
    growthRhs(cA, 0, y, k1, S);
    for (let i = 0; i < S; i++) tmp[i] = y[i] + 0.5 * h * k1[i];
    growthRhs(cM, 0, tmp, k2, S);
    for (let i = 0; i < S; i++) tmp[i] = y[i] + 0.5 * h * k2[i];
    growthRhs(cM, 0, tmp, k3, S);
    for (let i = 0; i < S; i++) tmp[i] = y[i] + h * k3[i];
    growthRhs(cB, 0, tmp, k4, S);
    for (let i = 0; i < S; i++) y[i] += (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    const t = cA; cA = cB; cB = t;
    if (node[next] === j + 1) raw.set(y, S * next--);
  }

  const D0 = raw[0];
  if (!(D0 > 0) || !Number.isFinite(D0))
    throw new Error(`background/w0wa: the growth factor is not positive today (${D0}) for ${describeCosmology(c)}`);
  const Dv = new Float64Array(n), fv = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    Dv[i] = raw[S * i] / D0;
    fv[i] = raw[S * i + 1] / raw[S * i];
  }
  if (!withBase) return { D: { value: Dv, base: null }, f: { value: fv, base: null } };
  const Db = new Float64Array(NB * n), fb = new Float64Array(NB * n);
  for (let k = 0; k < NB; k++) {
    const dD0 = raw[2 + 2 * k];
    for (let i = 0; i < n; i++) {
      const o = S * i;
      const D = raw[o], G = raw[o + 1], dD = raw[o + 2 + 2 * k], dG = raw[o + 3 + 2 * k];
      Db[k * n + i] = (dD * D0 - D * dD0) / (D0 * D0);
      fb[k * n + i] = (dG * D - G * dD) / (D * D);
    }
  }
  return { D: { value: Dv, base: Db }, f: { value: fv, base: fb } };
}

// ---------------------------------------------------------------------------------------------------------
// Reverse mode: the discrete adjoint of the RK4 integration

/**
 * qbar_k += sum_i (Dbar_i dD_i/dq_k + fbar_i df_i/dq_k): the discrete adjoint of linearGrowth's RK4, i.e. the
 * exact transpose of the forward sensitivities (which are the exact derivative of the discrete solution).
 *
 * The forward solution is recomputed (values only, 2 states) on the same points (growthSchedule), storing the
 * state at the start of every step and the coefficients (with their base derivatives) at every point; then,
 * from z = 0 back to a_ini, each step y' = y + h/6 (k1 + 2 k2 + 2 k3 + k4) of the linear system y' = A(x) y,
 * A = [[0, 1], [c1, -c2]], is transposed stage by stage with lambda = ybar:
 *   kbar_1..4 = (h/6, h/3, h/3, h/6) lambda;
 *   k4 = A(x+h) u4, u4 = y + h k3:     u4bar = A^T k4bar, ybar += u4bar, k3bar += h u4bar;
 *   k3 = A(x+h/2) u3, u3 = y + h/2 k2: u3bar = A^T k3bar, ybar += u3bar, k2bar += h/2 u3bar;
 *   k2 = A(x+h/2) u2, u2 = y + h/2 k1: u2bar = A^T k2bar, ybar += u2bar, k1bar += h/2 u2bar;
 *   k1 = A(x) y:                       ybar += A^T k1bar;
 * and at each stage qbar_k += kbar . (dA/dq_k) u = kbar_2 (dc1/dq_k u_0 - dc2/dq_k u_1). The bars of the
 * outputs enter lambda at the nodes where the forward run records them, D_i = D_raw,i / D_raw,0 and
 * f_i = G_i / D_raw,i; the Meszaros initial state D = y_M + 2/3, G = y_M, y_M = a_ini Omega_m / Omega_r,
 * finally takes lambda at a_ini.
 */
export function linearGrowthAdjoint(
  c: ExpansionCoefficients, z: Float64Array, opts: GrowthOptions, Dbar: Float64Array | null, fbar: Float64Array | null, qbar: Float64Array,
): void {
  const n = z.length;
  const { x: X, node } = growthSchedule(z, opts);
  const total = X.length - 1;
  const s = new Float64Array(EXPANSION_SCRATCH);
  // coefficients at the step points (cP) and at the step midpoints (cM), NC per point
  const cP = new Float64Array(NC * (total + 1));
  const cM = new Float64Array(NC * total);
  const states = new Float64Array(2 * total);
  const raw = new Float64Array(2 * n);
  const dyM = new Float64Array(NB);
  const yM = meszaros(c, opts.aIni, dyM);
  let y0 = yM + 2 / 3, y1 = yM;
  let next = n - 1;
  growthCoefficients(c, X[0], s, cP, 0, true);
  for (let j = 0; j < total; j++) {
    const x = X[j], h = X[j + 1] - x;
    const oA = NC * j, oM = NC * j, oB = NC * (j + 1);
    growthCoefficients(c, x + 0.5 * h, s, cM, oM, true);
    growthCoefficients(c, X[j + 1], s, cP, oB, true);
    states[2 * j] = y0; states[2 * j + 1] = y1;
    const k1a = y1, k1b = cP[oA + C1] * y0 - cP[oA + C2] * y1;
    let u0 = y0 + 0.5 * h * k1a, u1 = y1 + 0.5 * h * k1b;
    const k2a = u1, k2b = cM[oM + C1] * u0 - cM[oM + C2] * u1;
    u0 = y0 + 0.5 * h * k2a; u1 = y1 + 0.5 * h * k2b;
    const k3a = u1, k3b = cM[oM + C1] * u0 - cM[oM + C2] * u1;
    u0 = y0 + h * k3a; u1 = y1 + h * k3b;
    const k4a = u1, k4b = cP[oB + C1] * u0 - cP[oB + C2] * u1;
    y0 += (h / 6) * (k1a + 2 * k2a + 2 * k3a + k4a);
    y1 += (h / 6) * (k1b + 2 * k2b + 2 * k3b + k4b);
    if (node[next] === j + 1) { raw[2 * next] = y0; raw[2 * next + 1] = y1; next--; }
  }

  // bars of the raw states at the nodes: D_i = Draw_i/Draw_0, f_i = G_i/Draw_i
  const D0 = raw[0];
  const rb = new Float64Array(2 * n);
  let D0bar = 0;
  for (let i = 0; i < n; i++) {
    const Dr = raw[2 * i], G = raw[2 * i + 1];
    if (Dbar && Dbar[i] !== 0) {
      rb[2 * i] += Dbar[i] / D0;
      D0bar -= (Dbar[i] * Dr) / (D0 * D0);
    }
    if (fbar && fbar[i] !== 0) {
      rb[2 * i] -= (fbar[i] * G) / (Dr * Dr);
      rb[2 * i + 1] += fbar[i] / Dr;
    }
  }
  rb[0] += D0bar;

  // backward through the steps; lambda picks up the node bars where the forward run recorded the nodes
  let l0 = 0, l1 = 0;
  let nd = 0; // nodes are recorded at decreasing i: node 0 last, so first in the backward sweep
  // qbar += kbar_2 (dc1/dq u0 - dc2/dq u1) for one stage with coefficients cc[o..]
  const addQ = (cc: Float64Array, o: number, kb1: number, u0: number, u1: number) => {
    if (kb1 === 0) return;
    for (let k = 0; k < NB; k++) qbar[k] += kb1 * (cc[o + DC1 + k] * u0 - cc[o + DC2 + k] * u1);
  };
  for (let st = total - 1; st >= 0; st--) {
    while (nd < n && node[nd] === st + 1) {
      l0 += rb[2 * nd];
      l1 += rb[2 * nd + 1];
      nd++;
    }
    const x = X[st], h = X[st + 1] - x;
    const oA = NC * st, oM = NC * st, oB = NC * (st + 1);
    const ya = states[2 * st], yb = states[2 * st + 1];
    // forward stages of this step
    const k1a = yb, k1b = cP[oA + C1] * ya - cP[oA + C2] * yb;
    const u2a = ya + 0.5 * h * k1a, u2b = yb + 0.5 * h * k1b;
    const k2a = u2b, k2b = cM[oM + C1] * u2a - cM[oM + C2] * u2b;
    const u3a = ya + 0.5 * h * k2a, u3b = yb + 0.5 * h * k2b;
    const k3a = u3b, k3b = cM[oM + C1] * u3a - cM[oM + C2] * u3b;
    const u4a = ya + h * k3a, u4b = yb + h * k3b;
    // transposed stages; A^T v = (c1 v_1, v_0 - c2 v_1)
    let ya_ = l0, yb_ = l1;
    let k1a_ = (h / 6) * l0, k1b_ = (h / 6) * l1;
    let k2a_ = (h / 3) * l0, k2b_ = (h / 3) * l1;
    let k3a_ = (h / 3) * l0, k3b_ = (h / 3) * l1;
    const k4a_ = (h / 6) * l0, k4b_ = (h / 6) * l1;
    // k4 = A(x+h) u4
    addQ(cP, oB, k4b_, u4a, u4b);
    let ua = cP[oB + C1] * k4b_, ub = k4a_ - cP[oB + C2] * k4b_;
    ya_ += ua; yb_ += ub; k3a_ += h * ua; k3b_ += h * ub;
    // k3 = A(x+h/2) u3
    addQ(cM, oM, k3b_, u3a, u3b);
    ua = cM[oM + C1] * k3b_; ub = k3a_ - cM[oM + C2] * k3b_;
    ya_ += ua; yb_ += ub; k2a_ += 0.5 * h * ua; k2b_ += 0.5 * h * ub;
    // k2 = A(x+h/2) u2
    addQ(cM, oM, k2b_, u2a, u2b);
    ua = cM[oM + C1] * k2b_; ub = k2a_ - cM[oM + C2] * k2b_;
    ya_ += ua; yb_ += ub; k1a_ += 0.5 * h * ua; k1b_ += 0.5 * h * ub;
    // k1 = A(x) y
    addQ(cP, oA, k1b_, ya, yb);
    ya_ += cP[oA + C1] * k1b_; yb_ += k1a_ - cP[oA + C2] * k1b_;
    l0 = ya_; l1 = yb_;
  }
  while (nd < n && node[nd] === 0) { l0 += rb[2 * nd]; l1 += rb[2 * nd + 1]; nd++; }
  // Meszaros initial state: D = y_M + 2/3, G = y_M, y_M = a_ini Omega_m / Omega_r
  const yMbar = l0 + l1;
  for (let k = 0; k < NB; k++) if (dyM[k] !== 0) qbar[k] += yMbar * dyM[k];
}
