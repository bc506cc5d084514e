/**
 * `nonlinear-power/halofit`: the non-linear matter power spectrum of Takahashi et al. (2012, ApJ 761, 152;
 * "T12", appendix eqs. A1-A13), a re-fit of Smith et al. (2003, MNRAS 341, 1311; "S03"), computed row by row
 * on the linear P(k, z) grid it is given.
 *
 * For each z, in the order of T12's appendix:
 *   1. Delta_L^2(k) = k^3 P_lin(k)/(2 pi^2).
 *   2. The Gaussian-filtered variance sigma^2(R) = Int dln k Delta_L^2 e^{-k^2 R^2} (T12 eq. A4), and the
 *      non-linear scale k_sigma = 1/R from sigma(R) = 1 (Newton's method in ln R, started from the roots of
 *      the rows before).
 *   3. n_eff = -3 - d ln sigma^2/d ln R and C = -d^2 ln sigma^2/d ln R^2 at R (T12 eq. A5), from the moments
 *      I_j = Int dln k Delta_L^2 y^(2j) e^{-y^2}, y = k R:
 *        n_eff = -3 + 2 I_1/I_0,   C = (3 + n_eff)^2 + 4 (I_1 - I_2)/I_0.
 *   4. The coefficients a_n .. nu_n (T12 eqs. A6-A13, mu_n = 0), with Omega_m(z) and Omega_de(z) of the true
 *      cosmology and w in the (1 + w) terms of a_n, b_n:
 *        'w0' (default): w = w0, constant, as CCL v3 codes it;
 *        'instantaneous': w(z) = w0 + wa z/(1+z), as CLASS v3 does (pk_eq = no).
 *   5. f1, f2, f3 interpolated between S03's open (C17) and flat Lambda (C18) forms with weight
 *      Omega_de(z)/(1 - Omega_m(z)); both CCL and CLASS set f1 = f2 = f3 = 1 when |1 - Omega_m(z)| <= 0.01, and
 *      so do we (at z >~ 5 for Omega_m = 0.3; the jump is < 3e-4 in the exponents).
 *   6. Delta_NL^2 = Delta_Q^2 + Delta_H^2 (T12 eqs. A1-A3), y = k/k_sigma, f(y) = y/4 + y^2/8.
 * Massive neutrinos: with f_nu = Omega_nu/Omega_m > 0 the Bird, Viel & Haehnelt (2012) terms as CLASS v3 applies
 * them (section 7; forward tangents and the vjp included). f_nu = Omega_nu/Omega_m with Omega_nu the background's
 * (the density of its mass split: one massive species or three degenerate ones), else the cosmology's; with m_nu = 0
 * (f_nu = 0) that path never runs and the massless Halofit below is unchanged. The config's `f_nu` hook serves
 * external grids computed with neutrinos while parameters.m_nu = 0.
 *
 * Omega_m(z) = Omega_m (1+z)^3/E^2 and Omega_de(z) = 1 - Omega_m(z) - Omega_r(z) - Omega_k(z) come from the
 * background input (E with radiation, like CCL and CLASS).
 *
 * sigma(R) integrals: the trapezoidal rule on a uniform ln k grid spanning the linear grid (`sigma_k_per_decade`
 * points per decade) applied to the not-a-knot cubic spline of ln P_lin in ln k, which converges exponentially
 * for these smooth integrands that vanish at both ends. The rule is placed on the linear k grid once (and
 * kept while the grid is the same); at 200 per decade on a grid uniform in ln k at 100 per decade (the
 * default grids) every node is a knot or a midpoint, where the spline needs no exp. Nodes with y^2 > 64 are
 * left out (their share < 1e-22). The splines of all rows are solved together (splinesOfRows). Per row, one
 * pass over the nodes at a guess extrapolated from the three rows before (one exp per node, a series below
 * y^2 = 1/64) gives the moments M_0..M_7 there, hence every I_j near it as a Taylor series in (R/R_0)^2 - 1,
 * on which Newton's method converges to the root; a guess farther than 1e-4 in (R/R_0)^2 (the first rows)
 * costs a few more passes. The grid must reach far enough: a clear error names the missing range otherwise.
 *
 * Tangents: the non-linear scale is a root, so its tangent comes from the implicit-function theorem, not
 * from the iterations: with I_0(ln R, theta) = 1,
 *   d ln R/d theta = -(dI_0/dtheta)|_R / (dI_0/d ln R) = J_0 / (2 I_1),   J_j = Int dln k (dDelta_L^2/dtheta) y^(2j) e^{-y^2},
 * and dI_j = J_j + (2j I_j - 2 I_{j+1}) d ln R, exactly for the discrete sums. J_j = sum_i c_j,i dP_i/P_i over
 * the knots, with c_j the transposed spline applied to the node weights: no tangent row is resampled. The
 * coefficients' tangents come from their local Jacobian in (n_eff, C, Omega_m(z), Omega_de(z), w); per k,
 * T12's formula gives its partial derivatives with respect to Delta_L^2, ln y and the ten coefficients in
 * closed form (rowPartials). Tangent blocks that are identically zero (parameters reaching neither P_lin nor
 * the cosmology of the rows) are skipped, and stay zero. Values come from one routine (rowValues) with or
 * without tangents.
 */
import { redrawPowerTables } from '../contracts/power-plot.js';
import {
  type Dual, add, addC, constant, div, exp, mul, neg, powC, scale, sub,
} from '../../core/ad/dual.js';
import { type DualArray, at, nonzeroBlocks } from '../../core/ad/dual-array.js';
import { type QueryGeometry, queryGeometry } from '../../core/ad/interp.js';
import { secondDerivsAdjoint } from '../../core/ad/interp-adjoint.js';
import { type SplineFactor, splineFactor } from '../../core/numerics/spline.js';
import { PLUGIN_API_VERSION, type ParameterSpec, type StagePlugin } from '../../core/plugin/types.js';
import type { Background } from '../contracts/background.js';
import {
  type CosmoQuantity, type CosmologyRequirements, cosmologyOf, cosmologyParameterBars, cosmologyProblems, cosmologyReads, cosmologyValues,
} from '../contracts/cosmology.js';
import type { PowerGrid } from '../contracts/power.js';
import { backgroundAt, backgroundAtAdjoint } from '../contracts/background-eval.js';
import { formatPowerGridAt } from '../contracts/power-table.js';
import { describeOnLinearGrid } from '../contracts/power-describe.js';

export type WConvention = 'w0' | 'instantaneous';

export interface HalofitConfig {
  w_convention: WConvention;
  sigma_k_per_decade: number;
  output_z: number[];
  /** f_nu for an external grid computed with neutrinos while parameters.m_nu = 0 (section 7) */
  f_nu?: number;
  /** the matter of the linear input: 'total' (default; Bird et al. terms when f_nu > 0) or 'cb' (none, as CLASS's P_cb) */
  matter?: 'total' | 'cb';
}

/** The cosmology at one redshift as Halofit sees it. */
export interface HalofitCosmology {
  /** Omega_m(z) */
  Omega_m: Dual;
  /** Omega_de(z) */
  Omega_de: Dual;
  /** w entering the (1 + w) terms of a_n and b_n */
  w: Dual;
}

/** The non-linear scale and spectral shape of one linear P(k). */
export interface NonlinearScale {
  /** R with sigma(R) = 1 [Mpc]; k_sigma = 1/R */
  lnR: Dual;
  n_eff: Dual;
  C: Dual;
  /** sigma^2(R) at the root found (1 to ~1e-14) */
  sigma2: number;
}

// ---------------------------------------------------------------------------------------------------------
// 1. sigma(R) machinery on a uniform ln k grid

/** A uniform ln k grid with trapezoid weights for d ln k and the factor k^3/(2 pi^2). */
export interface SigmaGrid {
  readonly lnk: Float64Array;
  readonly k2: Float64Array;
  readonly w: Float64Array;
  readonly k3over2pi2: Float64Array;
}

export function sigmaGrid(kMin: number, kMax: number, perDecade: number): SigmaGrid {
  const a = Math.log(kMin), b = Math.log(kMax);
  const n = Math.max(8, Math.ceil(((b - a) / Math.LN10) * perDecade) + 1);
  const h = (b - a) / (n - 1);
  const lnk = new Float64Array(n), k2 = new Float64Array(n), w = new Float64Array(n), c = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    lnk[i] = i === n - 1 ? b : a + i * h;
    const k = Math.exp(lnk[i]);
    k2[i] = k * k;
    w[i] = i === 0 || i === n - 1 ? h / 2 : h;
    c[i] = (k * k * k) / (2 * Math.PI * Math.PI);
  }
  return { lnk, k2, w, k3over2pi2: c };
}

/**
 * Order of the Taylor model of the moments in eps = (R/R_0)^2 - 1 around a pass at R_0 (t_i = k_i^2 R_0^2):
 * I_j(R) = sum_i w_i Delta_i t_i^j (1 + eps)^j e^{-t_i (1 + eps)} = (1 + eps)^j sum_{n <= TAYLOR} (-eps)^n/n! M_{j+n},
 * with M_m = I_m(R_0).
 */
const TAYLOR = 4;
/** Moments a pass accumulates: M_0 .. M_{TAYLOR+3} (I_0 .. I_3 at the root need TAYLOR more). */
const N_MOM = TAYLOR + 4;
/**
 * The model is trusted for |eps| <= 1e-4: its truncation, eps^5/5! M_{j+5}/I_j with M_{j+5}/I_j < ~1e4 (the
 * moments grow like (j+5)!/j!), is below 1e-18 relative. The guess extrapolated from three rows is within
 * ~1e-5 in ln R on the default grid, so one pass per row is the rule.
 */
const DELTA_MAX = 0.5 * Math.log1p(1e-4); // |d ln R| <= DELTA_MAX gives |e^{2 d ln R} - 1| <= 1e-4
/** Nodes with y^2 = k^2 R^2 above this are left out: there e^{-y^2} y^6 < 1e-22 (I_0 = 1). */
const Y2_CUT = 64;
/** The model's Newton iteration stops after a step this small (the error left is ~ its square). */
const STEP_TOL = 1e-10;

/**
 * The sigma(R) integrals of every row of a linear grid: the rule (SigmaGrid) placed in the intervals of the
 * input ln k grid once (interval and spline basis weights of each node), ln P_lin of all rows and their splines
 * (LinearSplines), and the work arrays of the current row. Per row, Delta_L^2 at a node is exp(spline of ln P)
 * k^3/(2 pi^2), evaluated only for the nodes the passes reach (y^2 <= Y2_CUT). Nothing is allocated per row
 * or per node.
 */
interface SigmaRows {
  readonly g: SigmaGrid;
  readonly f: SplineFactor;
  readonly geo: QueryGeometry;
  /** where each node sits: NODE_SPLINE, or exactly at a knot (NODE_LEFT, NODE_RIGHT) or midpoint (NODE_MID) */
  readonly kind: Uint8Array;
  /** the rule's weight times k^3/(2 pi^2) at each node */
  readonly wk3: Float64Array;
  readonly nk: number;
  readonly nz: number;
  /** P_lin of every row (nz*nk, row-major) */
  readonly Pv: Float64Array;
  /** ln P_lin and its splines' second derivatives, k-major (LinearSplines) */
  readonly lnPT: Float64Array;
  readonly mT: Float64Array;
  /** w_q Delta_L^2 at the nodes of the current row (weight included): valid for nodes below nD2 */
  readonly D2: Float64Array;
  row: number;
  nD2: number;
  /** moments M_0 .. M_{N_MOM-1} of the last pass */
  readonly M: Float64Array;
  /** I_0 .. I_3 at the root of the current row */
  readonly I: Float64Array;
  /** node weights w Delta^2 e^{-y^2} at the root (tangents, vjp) */
  readonly a: Float64Array;
  /** e^{-y^2} at the nodes of the last pass */
  readonly e: Float64Array;
  /** node and knot work arrays for the transposed spline evaluation */
  readonly v: Float64Array;
  readonly mbar: Float64Array;
}

const NODE_SPLINE = 0, NODE_LEFT = 1, NODE_RIGHT = 2, NODE_MID = 3;
/** A node within SNAP (relative to its interval) of a knot or a midpoint is taken to be exactly there. */
const SNAP = 1e-12;

/** The rule placed on a ln k grid (x-only: the same for every evaluation on that grid). */
interface PlacedRule {
  readonly lnk: Float64Array;
  readonly perDecade: number;
  readonly g: SigmaGrid;
  readonly f: SplineFactor;
  readonly geo: QueryGeometry;
  readonly kind: Uint8Array;
  readonly wk3: Float64Array;
}

/** The last placed rule: a sampler evaluates on one k grid, so this is built once. */
let lastRule: PlacedRule | null = null;

function placedRule(lnk: Float64Array, perDecade: number): PlacedRule {
  const c = lastRule;
  if (c && c.perDecade === perDecade && c.lnk.length === lnk.length) {
    let same = true;
    for (let i = 0; i < lnk.length; i++) if (c.lnk[i] !== lnk[i]) { same = false; break; }
    if (same) return c;
  }
  const nk = lnk.length;
  const g = sigmaGrid(Math.exp(lnk[0]), Math.exp(lnk[nk - 1]), perDecade);
  const ng = g.lnk.length;
  // Nodes on a knot or a midpoint (all of them when the rule has twice the density of a grid uniform in ln k,
  // as on the default grids) need no exp for Delta: the knot's P, or sqrt(P_i P_i+1) e^{-h^2 (m_i + m_i+1)/16}.
  // Their basis weights are set to the exact ones, so values, tangents and the vjp use the same spline.
  const geo = queryGeometry(lnk, g.lnk);
  const kind = new Uint8Array(ng);
  for (let q = 0; q < ng; q++) {
    const a = geo.A[q], h = lnk[geo.idx[q] + 1] - lnk[geo.idx[q]];
    const k = Math.abs(a - 1) <= SNAP ? NODE_LEFT : Math.abs(a) <= SNAP ? NODE_RIGHT : Math.abs(a - 0.5) <= SNAP ? NODE_MID : NODE_SPLINE;
    if (k === NODE_SPLINE) continue;
    // S = A y_i + B y_i+1 + C m_i + D m_i+1 with C = (A^3 - A) h^2/6, D = (B^3 - B) h^2/6 (interp.ts)
    const A = k === NODE_LEFT ? 1 : k === NODE_RIGHT ? 0 : 0.5;
    kind[q] = k;
    geo.A[q] = A;
    geo.B[q] = 1 - A;
    geo.C[q] = geo.D[q] = k === NODE_MID ? (-h * h) / 16 : 0;
  }
  const wk3 = Float64Array.from(g.w, (w, q) => w * g.k3over2pi2[q]);
  lastRule = { lnk: Float64Array.from(lnk), perDecade, g, f: splineFactor(lnk), geo, kind, wk3 };
  return lastRule;
}

/**
 * ln P_lin of every row and the second derivatives of its not-a-knot spline in ln k, both k-major (knot i of
 * row r at i * nz + r), so that the splines of all rows are solved together with the rows innermost
 * (splinesOfRows).
 */
interface LinearSplines {
  readonly lnPT: Float64Array;
  readonly mT: Float64Array;
}

/**
 * The second derivatives of solveSecondDerivs (core/numerics/spline.ts: the not-a-knot system, its Thomas
 * factors from splineFactor) for the nz rows of a k-major table at once, with the rows innermost, so that the
 * elimination's dependent chain (one per row) does not set the pace; slopes by the inverse interval widths.
 * slope: nz work entries.
 */
function splinesOfRows(f: SplineFactor, y: Float64Array, nz: number, out: Float64Array, slope: Float64Array): void {
  const n = f.x.length;
  const h = f.h, lower = f.lower, upper = f.upper, invPivot = f.invPivot;
  const k = n - 2;
  // right-hand sides 6 (slope_i - slope_i-1) and the forward sweep
  const ih0 = 1 / h[0];
  for (let c = 0; c < nz; c++) slope[c] = (y[nz + c] - y[c]) * ih0;
  for (let j = 0; j < k; j++) {
    const i = j + 1;
    const ih = 1 / h[i], lo = j > 0 ? lower[j] : 0, ip = invPivot[j];
    const r0 = (i - 1) * nz, r1 = i * nz, r2 = (i + 1) * nz;
    for (let c = 0; c < nz; c++) {
      const sl = (y[r2 + c] - y[r1 + c]) * ih;
      const r = 6 * (sl - slope[c]);
      slope[c] = sl;
      out[r1 + c] = (r - lo * out[r0 + c]) * ip;
    }
  }
  // back substitution
  for (let j = k - 2; j >= 0; j--) {
    const u = upper[j], a = (j + 1) * nz, b = (j + 2) * nz;
    for (let c = 0; c < nz; c++) out[a + c] -= u * out[b + c];
  }
  // not-a-knot ends
  const h0 = h[0], h1 = h[1], a = h[n - 3], b = h[n - 2];
  for (let c = 0; c < nz; c++) {
    out[c] = ((h0 + h1) * out[nz + c] - h0 * out[2 * nz + c]) / h1;
    out[(n - 1) * nz + c] = ((a + b) * out[(n - 2) * nz + c] - b * out[(n - 3) * nz + c]) / a;
  }
}

function sigmaRows(lnk: Float64Array, Pv: Float64Array, nz: number, sp: LinearSplines, perDecade: number): SigmaRows {
  const { g, f, geo, kind, wk3 } = placedRule(lnk, perDecade);
  const nk = lnk.length, ng = g.lnk.length;
  return {
    g, f, geo, kind, wk3, nk, nz, Pv, lnPT: sp.lnPT, mT: sp.mT,
    D2: new Float64Array(ng), row: -1, nD2: 0,
    M: new Float64Array(N_MOM), I: new Float64Array(4), a: new Float64Array(ng), e: new Float64Array(ng), v: new Float64Array(ng), mbar: new Float64Array(nk),
  };
}

/** Make row r current (no node evaluated yet). */
function selectRow(s: SigmaRows, r: number): void {
  s.row = r;
  s.nD2 = 0;
}

/** Number of nodes with k^2 R^2 <= y2 (k2 ascending). */
function nodesBelow(g: SigmaGrid, R2: number, y2: number): number {
  const k2 = g.k2, lim = y2 / R2;
  let lo = 0, hi = k2.length; // first index with k2 > lim
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (k2[mid] <= lim) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** w Delta_L^2 of the current row at nodes [nD2, n). */
function ensureD2(s: SigmaRows, n: number): void {
  if (n <= s.nD2) return;
  const { idx, A, B, C, D } = s.geo;
  const y = s.lnPT, m = s.mT, P = s.Pv, r = s.row, nz = s.nz, o = r * s.nk, c = s.wk3, D2 = s.D2, kind = s.kind;
  for (let q = s.nD2; q < n; q++) {
    const i = idx[q];
    const kq = kind[q];
    const t0 = i * nz + r, t1 = t0 + nz; // knots i, i+1 of row r in the k-major tables
    let e: number;
    if (kq === NODE_LEFT) e = P[o + i];
    else if (kq === NODE_RIGHT) e = P[o + i + 1];
    else if (kq === NODE_MID) e = Math.sqrt(P[o + i] * P[o + i + 1]) * expSmall(C[q] * (m[t0] + m[t1]));
    else e = Math.exp(A[q] * y[t0] + B[q] * y[t1] + C[q] * m[t0] + D[q] * m[t1]);
    D2[q] = e * c[q];
  }
  s.nD2 = n;
}

/**
 * Below this argument (1/64, strictly) exp and log1p are their Taylor series: e^x to x^7 (expSmall; error
 * < 1e-19 relative), ln(1 + x) to x^10 (error < 1e-19 relative). On the default grid most nodes have y^2 and
 * most knots Delta_L^2 and y below it.
 */
const E_SERIES = 0.015625 * (1 - 1e-15);

/** e^x: a degree-7 Taylor polynomial for |x| < 1/64 (error < 1e-19 relative), else Math.exp. */
function expSmall(x: number): number {
  if (x > -E_SERIES && x < E_SERIES)
    return 1 + x * (1 + x * (1 / 2 + x * (1 / 6 + x * (1 / 24 + x * (1 / 120 + x * (1 / 720 + x / 5040))))));
  return Math.exp(x);
}

/** One pass at ln R: the moments M_j = sum_i w_i Delta_i y_i^(2j) e^{-y_i^2}, j < N_MOM (one exp per node). */
function momentPass(s: SigmaRows, lnR: number): void {
  const R2 = Math.exp(2 * lnR);
  const n = nodesBelow(s.g, R2, Y2_CUT);
  ensureD2(s, n);
  const nLow = Math.min(n, nodesBelow(s.g, R2, E_SERIES));
  const k2 = s.g.k2, D2 = s.D2;
  let m0 = 0, m1 = 0, m2 = 0, m3 = 0, m4 = 0, m5 = 0, m6 = 0, m7 = 0;
  for (let q = 0; q < n; q++) {
    const t = k2[q] * R2;
    // e^{-t}: the series of expSmall where t < 1/64 (nodes below nLow), else Math.exp
    const e = q < nLow ? 1 - t * (1 - t * (1 / 2 - t * (1 / 6 - t * (1 / 24 - t * (1 / 120 - t * (1 / 720 - t / 5040)))))) : Math.exp(-t);
    let a = D2[q] * e;
    m0 += a; a *= t; m1 += a; a *= t; m2 += a; a *= t; m3 += a;
    a *= t; m4 += a; a *= t; m5 += a; a *= t; m6 += a; a *= t; m7 += a;
  }
  const M = s.M;
  M[0] = m0; M[1] = m1; M[2] = m2; M[3] = m3; M[4] = m4; M[5] = m5; M[6] = m6; M[7] = m7;
}

/** The Taylor model at delta = ln(R/R_0): c_n = (-eps)^n/n!, eps = e^{2 delta} - 1 (c[TAYLOR + 1] = 1 + eps). */
function modelCoefficients(delta: number, c: Float64Array): void {
  const eps = Math.expm1(2 * delta);
  c[0] = 1;
  for (let n = 1; n <= TAYLOR; n++) c[n] = (c[n - 1] * -eps) / n;
  c[TAYLOR + 1] = 1 + eps;
}
/** I_j in the model (modelCoefficients first). */
function modelMoment(M: Float64Array, c: Float64Array, j: number): number {
  let s = 0;
  for (let n = TAYLOR; n >= 0; n--) s += c[n] * M[j + n];
  for (let i = 0; i < j; i++) s *= c[TAYLOR + 1];
  return s;
}

const modelC = new Float64Array(TAYLOR + 2);

/**
 * Newton's method on ln I_0(ln R) = 0 in the Taylor model of the last pass, from delta0 (relative to the pass).
 * Returns delta, or NaN when an iterate leaves the model's trust region.
 */
function modelRoot(M: Float64Array, delta0: number): number {
  let d = delta0;
  for (let it = 0; it < 60; it++) {
    if (!(Math.abs(d) <= DELTA_MAX)) return NaN;
    modelCoefficients(d, modelC);
    const I0 = modelMoment(M, modelC, 0), I1 = modelMoment(M, modelC, 1);
    const step = (Math.log(I0) * I0) / (2 * I1);
    d += step;
    if (Math.abs(step) <= STEP_TOL) return Math.abs(d) <= DELTA_MAX ? d : NaN;
  }
  return NaN;
}

/** A first ln R for a row without a neighbour: R = 1/k at the first knot where Delta_L^2 reaches 1. */
function firstGuess(s: SigmaRows, lnk: Float64Array, norm: Float64Array): number {
  const o = s.row * s.nk;
  for (let i = 0; i < s.nk; i++) if (s.Pv[o + i] * norm[i] >= 1) return -lnk[i];
  return -lnk[s.nk - 1];
}

/**
 * The root of sigma^2(R) = 1 for the current row, from a guess: passes (one exp per node each) at Newton
 * iterates of ln sigma^2 in ln R (concave and decreasing: from the left Newton lands right of the root, from
 * the right it converges monotonically), bracketed by the grid ends R = 1/k_max, 1/k_min (evaluated, and the
 * errors raised, only when an iterate reaches them); once an iterate is within the model's trust region the
 * rest of the iteration runs on the Taylor model of that pass. Writes I_0..I_3 at the root into s.I.
 */
function solveRoot(s: SigmaRows, guess: number, where: () => string): number {
  const g = s.g, ng = g.lnk.length;
  const xLo = -g.lnk[ng - 1], xHi = -g.lnk[0];
  let lo = xLo, hi = xHi, loSeen = false, hiSeen = false;
  let x = Math.min(Math.max(guess, xLo), xHi);
  for (let it = 0; it < 200; it++) {
    momentPass(s, x);
    const M = s.M;
    const gx = M[0] > 0 ? Math.log(M[0]) : -Infinity;
    if (x === xLo && !(gx > 0))
      throw new Error(
        `${where()}: sigma(R) < 1 already at R = 1/k_max = ${Math.exp(xLo).toPrecision(4)} Mpc (sigma^2 = ${M[0].toPrecision(4)}); ` +
          `the linear grid (k_max = ${Math.exp(-xLo)} 1/Mpc) does not reach the non-linear scale: raise the linear stage's k_max`,
      );
    if (x === xHi && !(gx < 0))
      throw new Error(`${where()}: sigma(R) >= 1 even at R = 1/k_min = ${Math.exp(xHi).toPrecision(4)} Mpc; the linear P(k) is far too large`);
    if (gx > 0) { lo = x; loSeen = true; } else { hi = x; hiSeen = true; }
    const step = M[1] > 0 && Number.isFinite(gx) ? (gx * M[0]) / (2 * M[1]) : gx > 0 ? Infinity : -Infinity;
    if (Math.abs(step) <= DELTA_MAX) {
      const d = modelRoot(M, step);
      if (!Number.isNaN(d)) {
        modelCoefficients(d, modelC);
        for (let j = 0; j < 4; j++) s.I[j] = modelMoment(M, modelC, j);
        return x + d;
      }
    }
    let xn = x + step;
    if (!(xn > lo && xn < hi)) {
      if (step < 0 && !loSeen) xn = xLo;
      else if (step > 0 && !hiSeen) xn = xHi;
      else xn = 0.5 * (lo + hi);
    }
    x = xn;
  }
  throw new Error(`${where()}: sigma(R) = 1 not solved in 200 passes`);
}

/** Node weights a_q = w_q Delta_q e^{-y_q^2} at ln R into s.a; returns the number of nodes kept. */
function rootWeights(s: SigmaRows, lnR: number): number {
  const n = gaussFactors(s, Math.exp(2 * lnR));
  const D2 = s.D2, a = s.a, e = s.e;
  for (let q = 0; q < n; q++) a[q] = D2[q] * e[q];
  return n;
}

/**
 * e^{-y^2} at the nodes with y^2 = k^2 R^2 <= Y2_CUT into s.e (and their Delta_L^2: ensureD2); returns their
 * number. Below y^2 = 1/64 (the low-k side, often most nodes) the degree-7 series of expSmall, inline.
 */
function gaussFactors(s: SigmaRows, R2: number): number {
  const k2 = s.g.k2, e = s.e;
  const n = nodesBelow(s.g, R2, Y2_CUT);
  ensureD2(s, n);
  const nLow = Math.min(n, nodesBelow(s.g, R2, E_SERIES));
  for (let q = 0; q < nLow; q++) {
    const t = k2[q] * R2;
    e[q] = 1 - t * (1 - t * (1 / 2 - t * (1 / 6 - t * (1 / 24 - t * (1 / 120 - t * (1 / 720 - t / 5040))))));
  }
  for (let q = nLow; q < n; q++) e[q] = Math.exp(-k2[q] * R2);
  return n;
}

/**
 * The transpose of "spline of the current row's knots, at the nodes": ybar (nk, knots) += L^T v for node
 * values v[0..n). (Its forward is linear in the knot values: S(x_q) = A y_i + B y_{i+1} + C m_i + D m_{i+1},
 * m = M y; core/ad/interp-adjoint.ts.) The dot product of ybar with d ln P at the knots is then
 * sum_q v_q dS(x_q), the tangent of a node sum, without splining any tangent row.
 */
function nodeAdjoint(s: SigmaRows, v: Float64Array, n: number, ybar: Float64Array): void {
  const { idx, A, B, C, D } = s.geo;
  const mbar = s.mbar;
  mbar.fill(0);
  for (let q = 0; q < n; q++) {
    const x = v[q];
    const i = idx[q];
    ybar[i] += A[q] * x;
    ybar[i + 1] += B[q] * x;
    mbar[i] += C[q] * x;
    mbar[i + 1] += D[q] * x;
  }
  secondDerivsAdjoint(s.f, mbar, 0, ybar, 0);
}

/** The old checks of the grid's reach at the root (unchanged): the tails of the I_j beyond k_max and below k_min. */
function checkReach(lnk: Float64Array, Plin: Float64Array, o: number, R: number, where: () => string): void {
  const nk = lnk.length;
  const kMin = Math.exp(lnk[0]), kMax = Math.exp(lnk[nk - 1]);
  const y2 = kMax * kMax * R * R;
  const dHigh = (Plin[o + nk - 1] * kMax * kMax * kMax) / (2 * Math.PI * Math.PI);
  // Int_{y}^inf t^6 e^{-t^2} dt/t ~ y^6 e^{-y^2}/(2 y^2) for the highest moment used (I_3); Delta2 ~ slowly varying
  const high = (dHigh * Math.pow(y2, 3) * Math.exp(-y2)) / (2 * y2);
  // below k_min Delta2 ~ k^(3 + n) with n > -3: Int ~ Delta2(k_min)/(3 + n) < Delta2(k_min)
  const low = (Plin[o] * kMin * kMin * kMin) / (2 * Math.PI * Math.PI);
  if (high > 1e-8)
    throw new Error(
      `${where()}: the linear grid ends at k_max = ${kMax.toPrecision(4)} 1/Mpc, too low for the Gaussian sigma(R) ` +
        `integrals at the non-linear scale R = ${R.toPrecision(4)} Mpc (k_max R = ${(kMax * R).toFixed(2)}, need >~ 5.5); raise k_max`,
    );
  if (low > 1e-8)
    throw new Error(
      `${where()}: the linear grid starts at k_min = ${kMin.toPrecision(4)} 1/Mpc, where Delta^2 = ${low.toExponential(2)} ` +
        'is not negligible for the sigma(R) integrals; lower k_min',
    );
}

/** ln R of row r from the roots of the rows before it: quadratic (linear, constant) extrapolation in ln(1+z). */
function extrapolatedGuess(z: Float64Array, roots: Float64Array, r: number): number {
  const u = (i: number) => Math.log1p(z[i]);
  if (r >= 3) {
    const x0 = u(r - 3), x1 = u(r - 2), x2 = u(r - 1), x = u(r);
    const l0 = ((x - x1) * (x - x2)) / ((x0 - x1) * (x0 - x2));
    const l1 = ((x - x0) * (x - x2)) / ((x1 - x0) * (x1 - x2));
    const l2 = ((x - x0) * (x - x1)) / ((x2 - x0) * (x2 - x1));
    return l0 * roots[r - 3] + l1 * roots[r - 2] + l2 * roots[r - 1];
  }
  if (r === 2) return roots[1] + ((roots[1] - roots[0]) * (u(2) - u(1))) / (u(1) - u(0));
  return roots[0];
}

/** extrapolatedGuess, or the previous row's root where the extrapolation is not a number. */
function rowGuess(z: Float64Array, roots: Float64Array, r: number): number {
  const g = extrapolatedGuess(z, roots, r);
  return Number.isFinite(g) ? g : roots[r - 1];
}

/**
 * Non-linear scale, n_eff and C of the current row (after solveRoot: lnR and s.I). Tangents (P > 0 and a
 * linear tangent): J_j = sum_q a_q y_q^(2j) d ln Delta_q = sum_i c_j,i (dP_i/P_i) with c_j = L^T (a y^(2j))
 * (nodeAdjoint), for the blocks in `blocks` only (the others are identically zero).
 */
function scaleOfRow(
  s: SigmaRows, lnR: number, P: number, Plin: DualArray, N: number, blocks: readonly number[], ybar: Float64Array[],
): NonlinearScale {
  const I0 = s.I[0], I1 = s.I[1], I2 = s.I[2], I3 = s.I[3];
  let dlnR: Float64Array | null = null, dI0: Float64Array | null = null, dI1: Float64Array | null = null, dI2: Float64Array | null = null;
  if (P > 0 && Plin.tangent) {
    const J = new Float64Array(3 * P);
    if (blocks.length) {
      const n = rootWeights(s, lnR);
      const R2 = Math.exp(2 * lnR), k2 = s.g.k2, a = s.a, v = s.v;
      const nk = s.nk, o = s.row * nk, Pv = Plin.value, T = Plin.tangent;
      for (let j = 0; j < 3; j++) {
        for (let q = 0; q < n; q++) {
          const y2 = k2[q] * R2;
          v[q] = j === 0 ? a[q] : j === 1 ? a[q] * y2 : a[q] * y2 * y2;
        }
        const yb = ybar[j];
        yb.fill(0);
        nodeAdjoint(s, v, n, yb);
        for (let i = 0; i < nk; i++) yb[i] /= Pv[o + i];
      }
      const yb0 = ybar[0], yb1 = ybar[1], yb2 = ybar[2];
      for (const p of blocks) {
        let s0 = 0, s1 = 0, s2 = 0;
        for (let i = 0, t = p * N + o; i < nk; i++, t++) {
          const x = T[t];
          s0 += yb0[i] * x;
          s1 += yb1[i] * x;
          s2 += yb2[i] * x;
        }
        J[p] = s0;
        J[P + p] = s1;
        J[2 * P + p] = s2;
      }
    }
    dlnR = new Float64Array(P);
    dI0 = new Float64Array(P);
    dI1 = new Float64Array(P);
    dI2 = new Float64Array(P);
    for (let p = 0; p < P; p++) {
      dlnR[p] = J[p] / (2 * I1); // implicit function: J_0 - 2 I_1 dlnR = 0
      dI0[p] = J[p] - 2 * I1 * dlnR[p];
      dI1[p] = J[P + p] + (2 * I1 - 2 * I2) * dlnR[p];
      dI2[p] = J[2 * P + p] + (4 * I2 - 2 * I3) * dlnR[p];
    }
  }
  const i0: Dual = { v: I0, d: dI0 }, i1: Dual = { v: I1, d: dI1 }, i2: Dual = { v: I2, d: dI2 };
  const n_eff = addC(scale(div(i1, i0), 2), -3);
  const n3 = addC(n_eff, 3);
  const C = add(mul(n3, n3), scale(div(sub(i1, i2), i0), 4));
  return { lnR: { v: lnR, d: dlnR }, n_eff, C, sigma2: I0 };
}

// ---------------------------------------------------------------------------------------------------------
// 2. The Takahashi coefficients (scalar duals per redshift)

/** c0 + sum c_i x_i for duals x_i */
function affine(c0: number, terms: [number, Dual][]): Dual {
  let acc = constant(c0);
  for (const [c, x] of terms) acc = add(acc, scale(x, c));
  return acc;
}
const pow10 = (x: Dual) => exp(scale(x, Math.LN10));
const absD = (x: Dual) => (x.v < 0 ? neg(x) : x);

/** Order of the coefficient list (and of the per-k partial derivatives). */
const C_AN = 0, C_BN = 1, C_CN = 2, C_GAM = 3, C_ALPHA = 4, C_BETA = 5, C_NU = 6, C_F1 = 7, C_F2 = 8, C_F3 = 9;
const N_COEF = 10;

export interface TakahashiCoefficients {
  an: Dual; bn: Dual; cn: Dual; gamma: Dual; alpha: Dual; beta: Dual; nu: Dual; f1: Dual; f2: Dual; f3: Dual;
}

/** T12 eqs. A6-A13 and S03 eqs. C17-C18. */
export function takahashiCoefficients(s: NonlinearScale, c: HalofitCosmology): TakahashiCoefficients {
  const n = s.n_eff, C = s.C;
  const n2 = mul(n, n), n3 = mul(n2, n), n4 = mul(n3, n);
  const deW = mul(c.Omega_de, addC(c.w, 1)); // Omega_de(z) (1 + w)
  const an = pow10(affine(1.5222, [[2.8553, n], [2.3706, n2], [0.9903, n3], [0.225, n4], [-0.6038, C], [0.1749, deW]]));
  const bn = pow10(affine(-0.5642, [[0.5864, n], [0.5716, n2], [-1.5474, C], [0.2279, deW]]));
  const cn = pow10(affine(0.3698, [[2.0404, n], [0.8161, n2], [0.5869, C]]));
  const gamma = affine(0.1971, [[-0.0843, n], [0.846, C]]);
  const alpha = absD(affine(6.0835, [[1.3373, n], [-0.1959, n2], [-5.5274, C]]));
  const beta = affine(2.0379, [[-0.7354, n], [0.3157, n2], [1.249, n3], [0.398, n4], [-0.1682, C]]);
  const nu = pow10(affine(5.2105, [[3.6902, n]]));
  let f1: Dual, f2: Dual, f3: Dual;
  const om = c.Omega_m;
  if (Math.abs(1 - om.v) > 0.01) {
    const frac = div(c.Omega_de, sub(constant(1), om));
    const mix = (flat: number, open: number) => add(mul(frac, powC(om, flat)), mul(sub(constant(1), frac), powC(om, open)));
    f1 = mix(-0.0307, -0.0732);
    f2 = mix(-0.0585, -0.1423);
    f3 = mix(0.0743, 0.0725);
  } else {
    f1 = f2 = f3 = constant(1);
  }
  return { an, bn, cn, gamma, alpha, beta, nu, f1, f2, f3 };
}

const coefficientList = (t: TakahashiCoefficients): Dual[] => [t.an, t.bn, t.cn, t.gamma, t.alpha, t.beta, t.nu, t.f1, t.f2, t.f3];

/**
 * The values of takahashiCoefficients in plain numbers, into out (order C_*): the same operations in the same
 * order, so the same numbers to the last bit, without a Dual per operation (tested against it).
 */
export function takahashiValues(n: number, C: number, Om: number, Ode: number, w: number, out: Float64Array): void {
  const n2 = n * n, n3 = n2 * n, n4 = n3 * n;
  const deW = Ode * (w + 1);
  const p10 = (x: number) => Math.exp(Math.LN10 * x);
  out[C_AN] = p10(1.5222 + 2.8553 * n + 2.3706 * n2 + 0.9903 * n3 + 0.225 * n4 + -0.6038 * C + 0.1749 * deW);
  out[C_BN] = p10(-0.5642 + 0.5864 * n + 0.5716 * n2 + -1.5474 * C + 0.2279 * deW);
  out[C_CN] = p10(0.3698 + 2.0404 * n + 0.8161 * n2 + 0.5869 * C);
  out[C_GAM] = 0.1971 + -0.0843 * n + 0.846 * C;
  const alpha = 6.0835 + 1.3373 * n + -0.1959 * n2 + -5.5274 * C;
  out[C_ALPHA] = alpha < 0 ? -alpha : alpha;
  out[C_BETA] = 2.0379 + -0.7354 * n + 0.3157 * n2 + 1.249 * n3 + 0.398 * n4 + -0.1682 * C;
  out[C_NU] = p10(5.2105 + 3.6902 * n);
  if (Math.abs(1 - Om) > 0.01) {
    const frac = Ode / (1 - Om);
    const mix = (flat: number, open: number) => frac * Math.pow(Om, flat) + (1 - frac) * Math.pow(Om, open);
    out[C_F1] = mix(-0.0307, -0.0732);
    out[C_F2] = mix(-0.0585, -0.1423);
    out[C_F3] = mix(0.0743, 0.0725);
  } else {
    out[C_F1] = out[C_F2] = out[C_F3] = 1;
  }
}

// ---------------------------------------------------------------------------------------------------------
// 3. Delta_NL^2 along a row, with partial derivatives (plain numbers, no allocation)

/** Rows of the partials array of rowPartials: d/dDelta_L^2, d/d ln y, then d/d(coefficient C_*) at 2 + C_*. */
const D_DL = 0, D_LNY = 1, N_PARTIAL = 2 + N_COEF;

/**
 * The partial derivatives of T12 eqs. A1-A3 (mu_n = 0) along row o, with y = k R, ln y = ln k + ln R, lnCF3 =
 * ln(c_n f_3) and the one-halo power laws pw (rowPowers), into d[j * nk + i] (j < N_PARTIAL): d Delta_NL^2/
 * d Delta_L^2, d/d ln y, and d/d(coefficient) for the ten coefficients. Shared by the tangents and the vjp.
 */
function rowPartials(
  k: Float64Array, lnk: Float64Array, norm: Float64Array, Pv: Float64Array, o: number, R: number, lnR: number,
  c: Float64Array, lnCF3: number, pw: Float64Array, d: Float64Array,
): void {
  const an = c[C_AN], bn = c[C_BN], cn = c[C_CN], gam = c[C_GAM], alpha = c[C_ALPHA], beta = c[C_BETA], nu = c[C_NU];
  const f1 = c[C_F1], f2 = c[C_F2], f3 = c[C_F3];
  const nk = k.length;
  const icn = 1 / cn, if3 = 1 / f3;
  const iCut = twoHaloEnd(k, norm, Pv, o, R, beta);
  for (let i = 0; i < nk; i++) {
    const DL = Pv[o + i] * norm[i];
    const y = k[i] * R, y2 = y * y, lny = lnk[i] + lnR;
    const yF2 = pw[i], G = pw[nk + i], yF1 = pw[2 * nk + i];
    // two-halo term, eq. A2: Delta_Q^2 = DL (1 + DL)^beta e^{-y/4 - y^2/8}/(1 + alpha DL)
    const lp = i >= iCut ? 0 : DL > -E_SERIES && DL < E_SERIES ? DL * (1 - DL * (1 / 2 - DL * (1 / 3 - DL * (1 / 4 - DL * (1 / 5 - DL * (1 / 6 - DL * (1 / 7 - DL * (1 / 8 - DL * (1 / 9 - DL / 10))))))))) : Math.log1p(DL);
    const iden = 1 / (1 + alpha * DL);
    const x = beta * lp - y / 4 - y2 / 8;
    const Eq = i >= iCut ? 0 : (x > -E_SERIES && x < E_SERIES ? 1 + x * (1 + x * (1 / 2 + x * (1 / 6 + x * (1 / 24 + x * (1 / 120 + x * (1 / 720 + x / 5040)))))) : Math.exp(x)) * iden; // Delta_Q^2/DL
    const DQ = DL * Eq;
    // one-halo term, eq. A3: Delta_H^2 = an y^(3 f1)/(Dd (1 + nu/y^2)), Dd = 1 + bn y^f2 + G
    const iDd = 1 / (1 + bn * yF2 + G);
    const iM = 1 / (y2 + nu);
    const H = yF1 * y2 * iDd * iM; // Delta_H^2/an
    const DH = an * H;
    const hD = DH * iDd;
    const g3 = (3 - gam) * G;
    d[D_DL * nk + i] = Eq * (1 + (beta * DL) / (1 + DL) - alpha * DL * iden);
    d[D_LNY * nk + i] = -DQ * (y / 4 + y2 / 4) + DH * (3 * f1 + 2 * nu * iM) - hD * (bn * f2 * yF2 + g3);
    d[(2 + C_AN) * nk + i] = H;
    d[(2 + C_BN) * nk + i] = -hD * yF2;
    d[(2 + C_CN) * nk + i] = -hD * g3 * icn;
    d[(2 + C_GAM) * nk + i] = hD * G * (lnCF3 + lny);
    d[(2 + C_ALPHA) * nk + i] = -DQ * DL * iden;
    d[(2 + C_BETA) * nk + i] = DQ * lp;
    d[(2 + C_NU) * nk + i] = -DH * iM;
    d[(2 + C_F1) * nk + i] = DH * 3 * lny;
    d[(2 + C_F2) * nk + i] = -hD * bn * yF2 * lny;
    d[(2 + C_F3) * nk + i] = -hD * g3 * if3;
  }
}

/**
 * T12 eqs. A1-A3 (mu_n = 0) along row o of the grid: P_NL = Delta_NL^2 (2 pi^2)/k^3 into out. The one place
 * values are computed, with or without tangents (so that they do not depend on the tangents carried).
 * ln(1 + Delta_L^2) and the two-halo exponential are series where their arguments are below 1/64 (most of
 * the linear k range: Delta_L^2 << 1, y << 1).
 */
function rowValues(k: Float64Array, norm: Float64Array, Pv: Float64Array, o: number, R: number, c: Float64Array, pw: Float64Array, out: Float64Array): void {
  const an = c[C_AN], bn = c[C_BN], alpha = c[C_ALPHA], beta = c[C_BETA], nu = c[C_NU];
  const nk = k.length;
  const iCut = twoHaloEnd(k, norm, Pv, o, R, beta);
  for (let i = 0; i < nk; i++) {
    const nrm = norm[i];
    const DL = Pv[o + i] * nrm;
    const y = k[i] * R, y2 = y * y;
    // Delta_Q^2 = DL e^{..}/den, Delta_H^2 = an y^(3 f1)/(Dd (1 + nu/y^2)) = an y^(3 f1) y^2/B, over one division
    const den = 1 + alpha * DL;
    const B = (1 + bn * pw[i] + pw[nk + i]) * (y2 + nu);
    let Q = 0;
    if (i < iCut) {
      // e^{beta ln(1 + DL) - y/4 - y^2/8} with the series below E_SERIES, written out (the hottest loop)
      const lp = DL > -E_SERIES && DL < E_SERIES ? DL * (1 - DL * (1 / 2 - DL * (1 / 3 - DL * (1 / 4 - DL * (1 / 5 - DL * (1 / 6 - DL * (1 / 7 - DL * (1 / 8 - DL * (1 / 9 - DL / 10))))))))) : Math.log1p(DL);
      const x = beta * lp - y / 4 - y2 / 8;
      Q = DL * (x > -E_SERIES && x < E_SERIES ? 1 + x * (1 + x * (1 / 2 + x * (1 / 6 + x * (1 / 24 + x * (1 / 120 + x * (1 / 720 + x / 5040)))))) : Math.exp(x));
    }
    out[o + i] = (Q * B + an * pw[2 * nk + i] * y2 * den) / (den * B * nrm);
  }
}

/**
 * The first knot of row o from which the two-halo exponential e^{beta ln(1 + DL) - y/4 - y^2/8} underflows to
 * exactly 0 (its exponent below -746 with ln(1 + DL) at the row's largest DL): there Delta_Q^2 = 0 is exact.
 */
function twoHaloEnd(k: Float64Array, norm: Float64Array, Pv: Float64Array, o: number, R: number, beta: number): number {
  const nk = k.length;
  let dMax = 0;
  for (let i = 0; i < nk; i++) dMax = Math.max(dMax, Pv[o + i] * norm[i]);
  const lim = 746 + Math.max(beta, 0) * Math.log1p(dMax);
  let i = nk;
  while (i > 0) {
    const y = k[i - 1] * R;
    if (!(y / 4 + (y * y) / 8 > lim)) break;
    i--;
  }
  return i;
}

/** ln k_i = ln k_0 + i h on the whole grid (to 1e-14 relative): h, else 0. */
function uniformStep(lnk: Float64Array): number {
  const n = lnk.length;
  const h = (lnk[n - 1] - lnk[0]) / (n - 1);
  for (let i = 0; i < n; i++) if (Math.abs(lnk[i] - (lnk[0] + i * h)) > 1e-14 * (1 + Math.abs(lnk[i]))) return 0;
  return h;
}

/** Knots between exact evaluations of the power laws' recurrences. */
const ANCHOR = 32;

/**
 * The one-halo term's power laws along a row into pw (3 x nk: y^f2, (c_n f_3 y)^(3 - gamma), y^(3 f1), with
 * ln y = ln k_i + ln R). On a grid uniform in ln k (h > 0) by recurrence, x_{i+1} = x_i e^{e h}, with an exact
 * exp every ANCHOR knots (the drift stays below ~1e-14 relative); otherwise one exp each.
 */
function rowPowers(lnk: Float64Array, h: number, lnR: number, c: Float64Array, lnCF3: number, pw: Float64Array): void {
  const nk = lnk.length;
  const e0 = c[C_F2], e1 = 3 - c[C_GAM], e2 = 3 * c[C_F1];
  const c1 = e1 * lnCF3;
  if (h > 0) {
    const s0 = Math.exp(e0 * h), s1 = Math.exp(e1 * h), s2 = Math.exp(e2 * h);
    let x0 = 0, x1 = 0, x2 = 0;
    for (let i = 0; i < nk; i++) {
      if (i % ANCHOR === 0) {
        const lny = lnk[i] + lnR;
        x0 = Math.exp(e0 * lny);
        x1 = Math.exp(e1 * lny + c1);
        x2 = Math.exp(e2 * lny);
      } else {
        x0 *= s0;
        x1 *= s1;
        x2 *= s2;
      }
      pw[i] = x0;
      pw[nk + i] = x1;
      pw[2 * nk + i] = x2;
    }
  } else {
    for (let i = 0; i < nk; i++) {
      const lny = lnk[i] + lnR;
      pw[i] = Math.exp(e0 * lny);
      pw[nk + i] = Math.exp(e1 * lny + c1);
      pw[2 * nk + i] = Math.exp(e2 * lny);
    }
  }
}

/** The coefficients' inputs besides the non-linear scale, in the order of their Jacobian's columns. */
const B_NEFF = 0, B_C = 1, B_OM = 2, B_ODE = 3, B_W = 4;
const N_BASE = 5;

/**
 * The ten coefficients at (n_eff, C, Omega_m(z), Omega_de(z), w) into coef and, when jac is given, their
 * Jacobian with respect to those five (jac[c * N_BASE + b]), from a local seeded evaluation.
 */
function coefficientsAt(nEff: number, C: number, Om: number, Ode: number, w: number, coef: Float64Array, jac: Float64Array | null): void {
  takahashiValues(nEff, C, Om, Ode, w, coef);
  if (!jac) return;
  const x = (v: number, b: number): Dual => {
    const t = new Float64Array(N_BASE);
    t[b] = 1;
    return { v, d: t };
  };
  const tc = coefficientList(takahashiCoefficients(
    { lnR: constant(0), n_eff: x(nEff, B_NEFF), C: x(C, B_C), sigma2: 1 },
    { Omega_m: x(Om, B_OM), Omega_de: x(Ode, B_ODE), w: x(w, B_W) },
  ));
  for (let c = 0; c < N_COEF; c++) for (let b = 0; b < N_BASE; b++) jac[c * N_BASE + b] = tc[c].d ? tc[c].d![b] : 0;
}

// ---------------------------------------------------------------------------------------------------------
// 4. Halofit on a whole P(k, z) grid

export interface HalofitOptions {
  sigma_k_per_decade?: number;
  /**
   * Massive neutrinos (Bird, Viel & Haehnelt 2012 as CLASS applies it, section 7): f_nu = Omega_nu/Omega_m and h
   * (for the k/h of the two-halo factor). Active only when f_nu > 0; absent or f_nu = 0: the massless Halofit,
   * unchanged to the last bit.
   */
  neutrinos?: { f_nu: Dual; h: Dual };
}

/** The cosmology of each z row (scalar duals) given the background and the parameters w0, wa. */
export function halofitCosmologies(bg: Background, z: Float64Array, w0: Dual, wa: Dual, convention: WConvention): HalofitCosmology[] {
  const { E } = backgroundAt(bg, z);
  const out: HalofitCosmology[] = [];
  for (let i = 0; i < z.length; i++) {
    const a1 = 1 + z[i];
    const E2 = (() => {
      const e = at(E, i);
      return mul(e, e);
    })();
    const Om = div(scale(bg.Omega_m, a1 * a1 * a1), E2);
    const Or = div(scale(bg.Omega_r, a1 * a1 * a1 * a1), E2);
    const Ok = div(scale(bg.Omega_k, a1 * a1), E2);
    const Ode = sub(sub(sub(constant(1), Om), Or), Ok);
    const w = convention === 'instantaneous' ? add(w0, scale(wa, z[i] / a1)) : w0;
    out.push({ Omega_m: Om, Omega_de: Ode, w });
  }
  return out;
}

/** Non-linear scales of every row (exported for tests and diagnostics). */
export function halofitScales(lin: PowerGrid, opts: HalofitOptions = {}): NonlinearScale[] {
  return halofitGrid(lin, null, opts).scales;
}

/** ln k and k^3/(2 pi^2) of a linear grid, after checking every P_lin > 0. */
function gridOf(lin: PowerGrid, what: string): { lnk: Float64Array; norm: Float64Array } {
  const k = lin.k_1overMpc, z = lin.z, nk = k.length;
  const Pv = lin.P_Mpc3.value;
  for (let i = 0; i < Pv.length; i++)
    if (!(Pv[i] > 0)) throw new Error(`${what}: the linear P(k = ${k[i % nk]}, z = ${z[Math.floor(i / nk)]}) = ${Pv[i]} is not > 0`);
  const lnk = new Float64Array(nk), norm = new Float64Array(nk);
  for (let i = 0; i < nk; i++) {
    lnk[i] = Math.log(k[i]);
    norm[i] = (k[i] * k[i] * k[i]) / (2 * Math.PI * Math.PI);
  }
  return { lnk, norm };
}

/** ln P_lin of every row and its splines in ln k (k-major; LinearSplines). */
function linearSplines(lnk: Float64Array, Pv: Float64Array, nz: number, perDecade: number): LinearSplines {
  const nk = lnk.length;
  const lnPT = new Float64Array(nk * nz), mT = new Float64Array(nk * nz);
  for (let r = 0; r < nz; r++) for (let i = 0, t = r, o = r * nk; i < nk; i++, t += nz) lnPT[t] = Math.log(Pv[o + i]);
  splinesOfRows(placedRule(lnk, perDecade).f, lnPT, nz, mT, new Float64Array(nz));
  return { lnPT, mT };
}

/**
 * P_NL on the linear grid. cosmologies[iz] gives Omega_m(z), Omega_de(z), w for row iz (null: only the
 * scales are computed). Row by row: the root of sigma(R) = 1 (solveRoot, from the previous rows' roots),
 * n_eff and C, their tangents through the transposed spline (scaleOfRow), the coefficients, and per k
 * Delta_NL^2 with its closed-form partials contracted with the tangents of the blocks that are not
 * identically zero (the others stay zero).
 */
export function halofitGrid(
  lin: PowerGrid,
  cosmologies: HalofitCosmology[] | null,
  opts: HalofitOptions = {},
): { P: DualArray; scales: NonlinearScale[] } {
  const { P, scales } = halofitRows(lin, cosmologies, opts);
  return { P, scales };
}

/** halofitGrid, with what the reverse pass reuses: the roots and the splines of ln P_lin. */
function halofitRows(
  lin: PowerGrid,
  cosmologies: HalofitCosmology[] | null,
  opts: HalofitOptions,
): { P: DualArray; scales: NonlinearScale[]; kept: Kept } {
  const k = lin.k_1overMpc, z = lin.z;
  const nk = k.length, nz = z.length, N = nk * nz;
  const Plin = lin.P_Mpc3;
  if (Plin.value.length !== N) throw new Error(`nonlinear-power/halofit: the linear P has ${Plin.value.length} values, expected ${nz} x ${nk}`);
  const { lnk, norm } = gridOf(lin, 'nonlinear-power/halofit');
  // tangent blocks: those of P_lin, else those of the cosmology duals (e.g. w0 varied over a fixed table)
  let P = Plin.tangent ? Plin.P : 0;
  if (P === 0 && cosmologies)
    for (const c of cosmologies) for (const x of [c.Omega_m, c.Omega_de, c.w]) if (x.d) P = x.d.length;
  // the Bird et al. massive-neutrino terms, only when f_nu > 0 (section 7)
  const bird = cosmologies && opts.neutrinos && opts.neutrinos.f_nu.v > 0 ? opts.neutrinos : null;
  if (bird && P === 0) for (const x of [bird.f_nu, bird.h]) if (x.d) P = x.d.length;
  // the blocks that are not identically zero: the linear P's, and (output) those the cosmology duals reach
  const linBlocks = Plin.tangent ? nonzeroBlocks(Plin) : [];
  const used = new Set(linBlocks);
  if (cosmologies)
    for (const c of cosmologies) for (const x of [c.Omega_m, c.Omega_de, c.w]) if (x.d) x.d.forEach((t, p) => { if (t !== 0) used.add(p); });
  if (bird) for (const x of [bird.f_nu, bird.h]) if (x.d) x.d.forEach((t, p) => { if (t !== 0) used.add(p); });
  const outBlocks = Int32Array.from([...used].sort((a, b) => a - b));

  const perDecade = opts.sigma_k_per_decade ?? 200;
  const splines = linearSplines(lnk, Plin.value, nz, perDecade);
  const s = sigmaRows(lnk, Plin.value, nz, splines, perDecade);
  const ybar = [new Float64Array(nk), new Float64Array(nk), new Float64Array(nk)];
  const roots = new Float64Array(nz);
  const value = new Float64Array(N);
  const tangent = P > 0 && cosmologies ? new Float64Array(P * N) : null;
  const Tlin = Plin.tangent;
  const scales: NonlinearScale[] = [];
  const coef = new Float64Array(N_COEF);
  const jac = new Float64Array(N_COEF * N_BASE);
  const dRow = tangent ? new Float64Array((bird ? N_PARTIAL_BIRD : N_PARTIAL) * nk) : new Float64Array(0);
  const cm = new Float64Array(N_COEF * Math.max(P, 1));
  const dR = new Float64Array(Math.max(P, 1));
  const hk = uniformStep(lnk), pw = new Float64Array(3 * nk);
  for (let r = 0; r < nz; r++) {
    const where = () => `nonlinear-power/halofit at z = ${z[r]}`;
    selectRow(s, r);
    const lnR = solveRoot(s, r === 0 ? firstGuess(s, lnk, norm) : rowGuess(z, roots, r), where);
    roots[r] = lnR;
    const R = Math.exp(lnR);
    checkReach(lnk, Plin.value, r * nk, R, where);
    const sc = scaleOfRow(s, lnR, P, Plin, N, linBlocks, ybar);
    scales.push(sc);
    if (!cosmologies) continue;
    const cos = cosmologies[r];
    coefficientsAt(sc.n_eff.v, sc.C.v, cos.Omega_m.v, cos.Omega_de.v, cos.w.v, coef, tangent ? jac : null);
    const an0 = coef[C_AN];
    if (bird) birdCoefficients(sc.n_eff.v, bird.f_nu.v, coef, tangent ? jac : null);
    if (tangent) {
      // the coefficients' tangents: their Jacobian times the tangents of (n_eff, C, Omega_m(z), Omega_de(z), w)
      const base = [sc.n_eff.d, sc.C.d, cos.Omega_m.d, cos.Omega_de.d, cos.w.d];
      for (const p of outBlocks) {
        dR[p] = sc.lnR.d ? sc.lnR.d[p] : 0;
        for (let c = 0; c < N_COEF; c++) {
          let t = 0;
          for (let b = 0; b < N_BASE; b++) {
            const x = base[b];
            if (x) t += jac[c * N_BASE + b] * x[p];
          }
          cm[c * P + p] = t;
        }
        if (bird && bird.f_nu.d) {
          // the Bird terms' own dependence on f_nu: a_n (1 + 0.977 f_nu), beta + f_nu (1.081 + 0.395 n_eff^2)
          const df = bird.f_nu.d[p];
          cm[C_AN * P + p] += an0 * 0.977 * df;
          cm[C_BETA * P + p] += (1.081 + 0.395 * sc.n_eff.v * sc.n_eff.v) * df;
        }
      }
    }
    const lnCF3 = Math.log(coef[C_CN] * coef[C_F3]);
    rowPowers(lnk, hk, lnR, coef, lnCF3, pw);
    const o = r * nk, Pv = Plin.value;
    if (bird) {
      birdRow(k, lnk, norm, Pv, o, R, lnR, coef, lnCF3, pw, bird.f_nu.v, bird.h.v, value, tangent ? dRow : null);
      if (tangent) birdTangents(outBlocks, P, N, o, nk, norm, dRow, dR, cm, Tlin, bird, tangent);
      continue;
    }
    rowValues(k, norm, Pv, o, R, coef, pw, value);
    if (!tangent) continue;
    // tangents: block p, knot i: (d_lny dlnR_p + sum_c d_c dcoef_c,p)/norm_i + d_DL dP_lin
    rowPartials(k, lnk, norm, Pv, o, R, lnR, coef, lnCF3, pw, dRow);
    for (const p of outBlocks) {
      const dl = dR[p];
      const g0 = cm[p], g1 = cm[P + p], g2 = cm[2 * P + p], g3 = cm[3 * P + p], g4 = cm[4 * P + p];
      const g5 = cm[5 * P + p], g6 = cm[6 * P + p], g7 = cm[7 * P + p], g8 = cm[8 * P + p], g9 = cm[9 * P + p];
      const b = p * N + o;
      for (let i = 0; i < nk; i++) {
        const t = dRow[D_LNY * nk + i] * dl + dRow[2 * nk + i] * g0 + dRow[3 * nk + i] * g1 + dRow[4 * nk + i] * g2 + dRow[5 * nk + i] * g3 +
          dRow[6 * nk + i] * g4 + dRow[7 * nk + i] * g5 + dRow[8 * nk + i] * g6 + dRow[9 * nk + i] * g7 + dRow[10 * nk + i] * g8 +
          dRow[11 * nk + i] * g9;
        tangent[b + i] = t / norm[i] + (Tlin ? dRow[D_DL * nk + i] * Tlin[b + i] : 0);
      }
    }
  }
  return { P: { value, tangent, P: tangent ? P : 0 }, scales, kept: { roots, splines } };
}

// ---------------------------------------------------------------------------------------------------------
// 5. The stage

/**
 * The cosmology Halofit reads itself: w0, wa (the (1 + w) terms) and Omega_nu (f_nu = Omega_nu/Omega_m, the Bird
 * et al. terms: section 7); Omega_m(z), Omega_de(z), Omega_m and h come from the background input.
 */
export const HALOFIT_QUANTITIES = ['w0', 'wa', 'Omega_nu'] as const satisfies readonly CosmoQuantity[];
const HALOFIT_REQUIREMENTS: CosmologyRequirements = {};

/** The parameters it reads (cosmology contract): w0, wa. */
export const HALOFIT_PARAMETERS: Record<string, ParameterSpec> = cosmologyReads(HALOFIT_QUANTITIES);

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    w_convention: {
      enum: ['w0', 'instantaneous'], default: 'w0',
      description:
        "w in the (1+w) terms of a_n, b_n: 'w0' = w0 constant (CCL v3); 'instantaneous' = w0 + wa z/(1+z) at each z (CLASS v3, pk_eq = no)",
    },
    sigma_k_per_decade: {
      type: 'integer', minimum: 20, maximum: 10000, default: 200,
      description: 'points per decade of the uniform ln k grid for the Gaussian sigma(R) integrals (trapezoid rule)',
    },
    output_z: {
      type: 'array', minItems: 1, items: { type: 'number', minimum: 0 }, default: [0, 0.5, 1, 2, 3],
      description: 'redshifts of the P(k) columns written to pk.tsv (inside the linear grid)',
    },
    matter: {
      enum: ['total', 'cb'], default: 'total',
      description:
        "the linear input's matter: 'total' (the Bird et al. neutrino terms apply when f_nu > 0) or 'cb' (CDM + baryons: " +
        "Takahashi et al. on P_cb without them, as CLASS computes its non-linear P_cb)",
    },
    f_nu: {
      type: 'number', minimum: 0, maximum: 0.5,
      description:
        'massive-neutrino fraction Omega_nu/Omega_m for the Bird et al. terms, for an external linear P(k) computed with massive ' +
        'neutrinos while parameters.m_nu = 0; default (and with m_nu > 0): the background\'s Omega_nu/Omega_m',
    },
  },
} as const;

/**
 * Omega_nu: the background's (its mass split, so one massive species or three degenerate ones give their own
 * Fermi-Dirac density), or the cosmology's (default split) for a background plugin that does not carry it.
 */
const omegaNuOf = (ctx: { param(name: string): Dual; readonly stage: string }, bg: Background): Dual => bg.Omega_nu ?? cosmologyOf(ctx).Omega_nu;

/** f_nu = Omega_nu/Omega_m of the background (omegaNuOf), or the config's hook (a constant). */
function neutrinoFraction(ctx: { param(name: string): Dual; readonly stage: string }, cfg: HalofitConfig, bg: Background): Dual {
  const c = cosmologyOf(ctx);
  // the cold spectrum: no Bird et al. terms (they model the neutrinos' share of total matter); CLASS's P_cb likewise
  if (cfg.matter === 'cb') {
    if (cfg.f_nu !== undefined) throw new Error('nonlinear-power/halofit: with.f_nu has no effect with with.matter = "cb" (no neutrino terms); remove it');
    return constant(0);
  }
  if (cfg.f_nu === undefined) return div(omegaNuOf(ctx, bg), bg.Omega_m);
  if (c.Omega_nu.v !== 0)
    throw new Error(`nonlinear-power/halofit: with.f_nu is set, but the cosmology has Omega_nu = ${c.Omega_nu.v}; remove with.f_nu (it is only for external grids)`);
  return constant(cfg.f_nu);
}

export const halofit: StagePlugin<HalofitConfig, { linear: PowerGrid; background: Background }, PowerGrid> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'nonlinear-power/halofit',
  version: '1.0.0',
  port: 'nonlinear-power',
  description:
    'Non-linear matter P(k, z) from Halofit (Takahashi et al. 2012) on the linear grid; k_sigma, n_eff, C from the ' +
    'Gaussian-filtered sigma(R) of the linear P at each z; forward-mode tangents (implicit-function rule for k_sigma).',
  configSchema,
  inputs: { linear: 'linear-power', background: 'background' },
  reads: HALOFIT_PARAMETERS,

  check(_config, { params }) {
    return cosmologyProblems(params, HALOFIT_QUANTITIES, HALOFIT_REQUIREMENTS);
  },
  differentiable: 'forward',
  describe: (_config, ctx) => describeOnLinearGrid(ctx, { background: true }),

  run(ctx): PowerGrid {
    const cfg = ctx.config;
    const lin = ctx.inputs.linear;
    const bg = ctx.inputs.background;
    const zTop = bg.z[bg.z.length - 1];
    if (lin.z[lin.z.length - 1] > zTop * (1 + 1e-12))
      throw new Error(
        `nonlinear-power/halofit: the linear grid reaches z = ${lin.z[lin.z.length - 1]}, beyond the background's grid (up to z = ${zTop}); ` +
          "raise the background stage's z_max",
      );
    const problems = cosmologyProblems(cosmologyValues(ctx, HALOFIT_QUANTITIES), HALOFIT_QUANTITIES, HALOFIT_REQUIREMENTS);
    if (problems.length) throw new Error(`nonlinear-power/halofit: ${problems.join('; ')}`);
    const c = cosmologyOf(ctx);
    const cos = halofitCosmologies(bg, lin.z, c.w0, c.wa, cfg.w_convention ?? 'w0');
    const neutrinos = { f_nu: neutrinoFraction(ctx, cfg, bg), h: bg.h };
    const { P, kept } = halofitRows(lin, cos, { sigma_k_per_decade: cfg.sigma_k_per_decade, neutrinos });
    const out: PowerGrid = { k_1overMpc: lin.k_1overMpc, z: lin.z, P_Mpc3: P, source: 'halofit' };
    KEPT.set(out, kept); // for the reverse pass
    return out;
  },

  vjp(ctx, outputBar) {
    const Pbar = (outputBar as { P_Mpc3?: Float64Array }).P_Mpc3;
    if (!Pbar) return {};
    const cfg = ctx.config;
    const values = cosmologyValues(ctx, HALOFIT_QUANTITIES);
    const bg = ctx.inputs.background;
    const fnu = neutrinoFraction(ctx, cfg, bg);
    const r = halofitAdjoint(ctx.inputs.linear, bg, values.w0, values.wa, cfg.w_convention ?? 'w0',
      { sigma_k_per_decade: cfg.sigma_k_per_decade, neutrinos: { f_nu: fnu, h: bg.h } }, ctx.output, Pbar);
    if (fnu.v === 0)
      return {
        inputs: { linear: { P_Mpc3: r.PlinBar }, background: r.background },
        params: cosmologyParameterBars(values, { w0: r.w0, wa: r.wa }),
      };
    // f_nu = Omega_nu/Omega_m (the background's Omega_m; Omega_nu the background's when it carries it, else the
    // cosmology's), unless the config's constant
    const fromModel = cfg.f_nu === undefined;
    const fromBackground = fromModel && bg.Omega_nu !== undefined;
    const OmBar = (r.background.Omega_m ?? 0) - (fromModel ? (r.f_nu * fnu.v) / bg.Omega_m.v : 0);
    const nuBar = fromModel ? r.f_nu / bg.Omega_m.v : 0;
    return {
      inputs: {
        linear: { P_Mpc3: r.PlinBar },
        background: { ...r.background, Omega_m: OmBar, h: r.h, ...(fromBackground ? { Omega_nu: nuBar } : {}) },
      },
      params: cosmologyParameterBars(values, { w0: r.w0, wa: r.wa, ...(fromModel && !fromBackground ? { Omega_nu: nuBar } : {}) }),
    };
  },

  // `cosmodag plot DIR`: P(k, z) of the pk.tsv / pk_nl.tsv any power stage wrote there (one plugin draws them)
  redraw: redrawPowerTables,
  write(output, file, { config }) {
    return { [file]: formatPowerGridAt(output, Float64Array.from(config.output_z)) };
  },
};

// ---------------------------------------------------------------------------------------------------------
// 6. Reverse mode

/**
 * Kept from the forward run for the reverse pass: ln R of each row's root (the backward pass needs the root,
 * not its iterations) and ln P_lin with its splines (the same numbers, not computed again).
 */
interface Kept {
  readonly roots: Float64Array;
  readonly splines: LinearSplines;
}
const KEPT = new WeakMap<PowerGrid, Kept>();

/**
 * The vector-Jacobian product of Halofit on a grid: Pbar (the bar of P_NL, z-by-k) pulled back to the linear
 * P(k, z), to the background (E at the rows' redshifts, Omega_m, Omega_r, Omega_k) and to w0, wa. Per row, in
 * reverse order of the forward steps:
 *   6'. Delta_NL^2(Delta_L^2, ln y, coefficients): the closed-form partials of rowPartials, transposed: the direct
 *       term into P_lin, the rest into lnRbar and the coefficients' bars;
 *   4'. the coefficients are scalar functions of (n_eff, C, Omega_m(z), Omega_de(z), w): their local Jacobian
 *       (coefficientsAt) transposed;
 *   3'. n_eff = -3 + 2 I_1/I_0, C = (3 + n_eff)^2 + 4 (I_1 - I_2)/I_0 transposed into I_0..I_2 bars; with
 *       I_j = sum_q a_q y_q^(2j), a_q = w_q Delta_q e^(-y_q^2), y = k R, dI_j/d ln R = 2j I_j - 2 I_(j+1);
 *   2'. the root: I_0(ln R, Delta) = 1, so d ln R = J_0/(2 I_1) with J_0 = sum_q a_q d ln Delta_q
 *       (implicit-function theorem); transposed, the total bar of ln R becomes
 *       d ln Delta bar_q += lnRbar a_q/(2 I_1), and the direct dependence adds sum_j Ibar_j a_q y_q^(2j);
 *   1'. ln Delta_q = (spline of ln P_lin in ln k at node q) + ln k_q^3/(2 pi^2): the node bars pulled back
 *       through the spline (nodeAdjoint) onto ln P_lin, then dP/P.
 * Cosmology: Omega_m(z) = Omega_m (1+z)^3/E^2 (likewise Omega_r, Omega_k), Omega_de(z) = 1 - the others.
 */
export function halofitAdjoint(
  lin: PowerGrid, bg: Background, w0: number, wa: number, convention: WConvention, opts: HalofitOptions,
  output: PowerGrid, Pbar: Float64Array,
) {
  const k = lin.k_1overMpc, z = lin.z;
  const nk = k.length, nz = z.length, N = nk * nz;
  const Plin = lin.P_Mpc3.value;
  if (Pbar.length !== N) throw new Error(`nonlinear-power/halofit vjp: the bar of P has ${Pbar.length} entries, expected ${nz} x ${nk}`);
  const { lnk, norm } = gridOf(lin, 'nonlinear-power/halofit vjp');
  const perDecade = opts.sigma_k_per_decade ?? 200;
  const kept = KEPT.get(output);
  const splines = kept?.splines ?? linearSplines(lnk, Plin, nz, perDecade);
  const s = sigmaRows(lnk, Plin, nz, splines, perDecade);
  const roots = kept?.roots ?? Float64Array.from(halofitScales(lin, opts), (sc) => sc.lnR.v);
  const E = backgroundAt(bg, z).E.value;

  const PlinBar = new Float64Array(N);
  const Ebar = new Float64Array(nz);
  let OmBar = 0, OrBar = 0, OkBar = 0, w0Bar = 0, waBar = 0;
  const coef = new Float64Array(N_COEF), coefBar = new Float64Array(N_COEF);
  const jac = new Float64Array(N_COEF * N_BASE);
  const bird = opts.neutrinos && opts.neutrinos.f_nu.v > 0 ? { f: opts.neutrinos.f_nu.v, h: opts.neutrinos.h.v } : null;
  let fnuBar = 0, lnhBar = 0;
  const birdOut = bird ? new Float64Array(N) : null;
  const dRow = new Float64Array((bird ? N_PARTIAL_BIRD : N_PARTIAL) * nk);
  const lb = new Float64Array(N_BASE);
  const ybar = new Float64Array(nk);
  const hk = uniformStep(lnk), pw = new Float64Array(3 * nk);
  for (let r = 0; r < nz; r++) {
    const o = r * nk;
    let any = false;
    for (let i = 0; i < nk; i++) if (Pbar[o + i] !== 0) { any = true; break; }
    if (!any) continue;
    // the row's forward quantities at the root
    selectRow(s, r);
    const lnR = roots[r], R = Math.exp(lnR), R2 = R * R;
    const n = rootWeights(s, lnR);
    const a = s.a, k2 = s.g.k2;
    let I0 = 0, I1 = 0, I2 = 0, I3 = 0;
    for (let q = 0; q < n; q++) {
      const y2 = k2[q] * R2, aq = a[q];
      I0 += aq; I1 += aq * y2; I2 += aq * y2 * y2; I3 += aq * y2 * y2 * y2;
    }
    const nEff = -3 + (2 * I1) / I0;
    const Cv = (3 + nEff) * (3 + nEff) + (4 * (I1 - I2)) / I0;
    const a1 = 1 + z[r], E2 = E[r] * E[r];
    const Omz = (bg.Omega_m.v * a1 * a1 * a1) / E2, Orz = (bg.Omega_r.v * a1 * a1 * a1 * a1) / E2, Okz = (bg.Omega_k.v * a1 * a1) / E2;
    const wz = convention === 'instantaneous' ? w0 + (wa * z[r]) / a1 : w0;
    coefficientsAt(nEff, Cv, Omz, 1 - Omz - Orz - Okz, wz, coef, jac);
    const an0 = coef[C_AN];
    if (bird) birdCoefficients(nEff, bird.f, coef, jac);
    const lnCF3 = Math.log(coef[C_CN] * coef[C_F3]);
    rowPowers(lnk, hk, lnR, coef, lnCF3, pw);
    // 6'. per k: value = Delta_NL^2/norm, Delta_L^2 = P norm
    if (bird) {
      birdRow(k, lnk, norm, Plin, o, R, lnR, coef, lnCF3, pw, bird.f, bird.h, birdOut!, dRow);
      for (let i = 0; i < nk; i++) {
        const t = Pbar[o + i] / norm[i];
        fnuBar += t * dRow[D_FNU * nk + i];
        lnhBar += t * dRow[D_LNH * nk + i];
      }
    } else rowPartials(k, lnk, norm, Plin, o, R, lnR, coef, lnCF3, pw, dRow);
    let lnRbar = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0, b7 = 0, b8 = 0, b9 = 0;
    for (let i = 0; i < nk; i++) {
      const pb = Pbar[o + i];
      PlinBar[o + i] += pb * dRow[D_DL * nk + i];
      const t = pb / norm[i];
      lnRbar += t * dRow[D_LNY * nk + i];
      b0 += t * dRow[2 * nk + i]; b1 += t * dRow[3 * nk + i]; b2 += t * dRow[4 * nk + i]; b3 += t * dRow[5 * nk + i];
      b4 += t * dRow[6 * nk + i]; b5 += t * dRow[7 * nk + i]; b6 += t * dRow[8 * nk + i]; b7 += t * dRow[9 * nk + i];
      b8 += t * dRow[10 * nk + i]; b9 += t * dRow[11 * nk + i];
    }
    coefBar[0] = b0; coefBar[1] = b1; coefBar[2] = b2; coefBar[3] = b3; coefBar[4] = b4;
    coefBar[5] = b5; coefBar[6] = b6; coefBar[7] = b7; coefBar[8] = b8; coefBar[9] = b9;
    if (bird) fnuBar += coefBar[C_AN] * an0 * 0.977 + coefBar[C_BETA] * (1.081 + 0.395 * nEff * nEff);
    // 4'. coefficients -> (n_eff, C, Omega_m(z), Omega_de(z), w)
    lb.fill(0);
    for (let c = 0; c < N_COEF; c++) if (coefBar[c] !== 0) for (let b = 0; b < N_BASE; b++) lb[b] += coefBar[c] * jac[c * N_BASE + b];
    // 3'. (n_eff, C) -> I_0, I_1, I_2
    const nBar = lb[B_NEFF] + lb[B_C] * 2 * (3 + nEff);
    const I0bar = (nBar * -2 * I1) / (I0 * I0) - (lb[B_C] * 4 * (I1 - I2)) / (I0 * I0);
    const I1bar = (nBar * 2) / I0 + (lb[B_C] * 4) / I0;
    const I2bar = (-lb[B_C] * 4) / I0;
    // 2'. ln R: total bar (direct + through the moments), then the implicit-function rule into ln Delta
    const L = lnRbar + I0bar * (-2 * I1) + I1bar * (2 * I1 - 2 * I2) + I2bar * (4 * I2 - 2 * I3);
    const rootFactor = L / (2 * I1);
    const v = s.v;
    for (let q = 0; q < n; q++) {
      const y2 = k2[q] * R2;
      v[q] = a[q] * (rootFactor + I0bar + y2 * (I1bar + y2 * I2bar));
    }
    // 1'. node bars of ln Delta = ln P at the nodes -> ln P_lin at the knots -> P_lin
    ybar.fill(0);
    nodeAdjoint(s, v, n, ybar);
    for (let i = 0; i < nk; i++) PlinBar[o + i] += ybar[i] / Plin[o + i];
    // cosmology of the row
    const OmzBar = lb[B_OM] - lb[B_ODE], OrzBar = -lb[B_ODE], OkzBar = -lb[B_ODE];
    OmBar += (OmzBar * a1 * a1 * a1) / E2;
    OrBar += (OrzBar * a1 * a1 * a1 * a1) / E2;
    OkBar += (OkzBar * a1 * a1) / E2;
    Ebar[r] += (-2 / E[r]) * (OmzBar * Omz + OrzBar * Orz + OkzBar * Okz);
    w0Bar += lb[B_W];
    if (convention === 'instantaneous') waBar += (lb[B_W] * z[r]) / a1;
  }
  const bgE = backgroundAtAdjoint(bg, z, { E: Ebar });
  return {
    PlinBar, background: { ...bgE, Omega_m: OmBar, Omega_r: OrBar, Omega_k: OkBar }, w0: w0Bar, wa: waBar,
    f_nu: fnuBar, h: bird ? lnhBar / bird.h : 0,
  };
}

// ---------------------------------------------------------------------------------------------------------
// 7. Massive neutrinos: Bird, Viel & Haehnelt (2012, MNRAS 420, 2551) as CLASS v3 applies it to Takahashi 2012
//
// With f_nu = Omega_nu/Omega_m > 0 (CLASS's halofit.c, "SPB14"; Bird's later CAMB form, without the
// (Omega_m - 0.3) term of the 2012 paper):
//   beta_n -> beta_n + f_nu (1.081 + 0.395 n_eff^2),      Delta_H^2 -> Delta_H^2 (1 + 0.977 f_nu),
//   Delta_Q^2 = Delta_L^2 (1 + D)^beta_n/(1 + alpha_n D) e^{-y/4 - y^2/8},  D = Delta_L^2 [1 + f_nu 47.48 q^2/(1 + 1.5 q^2)],
// q = k/(h Mpc^-1) (the h^2 of Cuesta's fix in CLASS). Delta_L^2 is that of the total matter P_lin, as is sigma(R).
// Only this path runs when f_nu > 0; with f_nu = 0 the code above is unchanged (to the last bit, and its speed).

/** Rows of the partials of the Bird path beyond those of rowPartials: d/df_nu, d/dln h. */
const D_FNU = N_PARTIAL, D_LNH = N_PARTIAL + 1, N_PARTIAL_BIRD = N_PARTIAL + 2;

/** a_n (1 + 0.977 f_nu), beta_n + f_nu (1.081 + 0.395 n^2), and their Jacobian rows in (n_eff, C, Omega_m, Omega_de, w). */
function birdCoefficients(nEff: number, fnu: number, coef: Float64Array, jac: Float64Array | null): void {
  const s = 1 + 0.977 * fnu;
  coef[C_AN] *= s;
  coef[C_BETA] += fnu * (1.081 + 0.395 * nEff * nEff);
  if (!jac) return;
  for (let b = 0; b < N_BASE; b++) jac[C_AN * N_BASE + b] *= s;
  jac[C_BETA * N_BASE + B_NEFF] += fnu * 0.79 * nEff;
}

/**
 * Values (into out, P_NL along row o) and, when d is given, the partials of Delta_NL^2 in the layout of
 * rowPartials plus d/df_nu and d/dln h, for the Bird path (plain loops: this path is not the tuned one).
 */
function birdRow(
  k: Float64Array, lnk: Float64Array, norm: Float64Array, Pv: Float64Array, o: number, R: number, lnR: number,
  c: Float64Array, lnCF3: number, pw: Float64Array, fnu: number, h: number, out: Float64Array, d: Float64Array | null,
): void {
  const an = c[C_AN], bn = c[C_BN], cn = c[C_CN], gam = c[C_GAM], alpha = c[C_ALPHA], beta = c[C_BETA], nu = c[C_NU];
  const f1 = c[C_F1], f2 = c[C_F2], f3 = c[C_F3];
  const nk = k.length;
  for (let i = 0; i < nk; i++) {
    const DL = Pv[o + i] * norm[i];
    const y = k[i] * R, y2 = y * y, lny = lnk[i] + lnR;
    const q = k[i] / h, q2 = q * q;
    const gk = (47.48 * q2) / (1 + 1.5 * q2);
    const DLa = DL * (1 + fnu * gk);
    const lp = Math.log1p(DLa);
    const iden = 1 / (1 + alpha * DLa);
    const E = Math.exp(beta * lp - y / 4 - y2 / 8) * iden;
    const DQ = DL * E;
    const yF2 = pw[i], G = pw[nk + i], yF1 = pw[2 * nk + i];
    const iDd = 1 / (1 + bn * yF2 + G);
    const iM = 1 / (y2 + nu);
    const H = yF1 * y2 * iDd * iM;
    const DH = an * H;
    out[o + i] = (DQ + DH) / norm[i];
    if (!d) continue;
    const hD = DH * iDd;
    const g3 = (3 - gam) * G;
    const c1 = beta / (1 + DLa) - alpha * iden; // d ln Delta_Q^2/d D
    d[D_DL * nk + i] = E + DQ * c1 * (1 + fnu * gk);
    d[D_LNY * nk + i] = -DQ * (y / 4 + y2 / 4) + DH * (3 * f1 + 2 * nu * iM) - hD * (bn * f2 * yF2 + g3);
    d[(2 + C_AN) * nk + i] = H;
    d[(2 + C_BN) * nk + i] = -hD * yF2;
    d[(2 + C_CN) * nk + i] = (-hD * g3) / cn;
    d[(2 + C_GAM) * nk + i] = hD * G * (lnCF3 + lny);
    d[(2 + C_ALPHA) * nk + i] = -DQ * DLa * iden;
    d[(2 + C_BETA) * nk + i] = DQ * lp;
    d[(2 + C_NU) * nk + i] = -DH * iM;
    d[(2 + C_F1) * nk + i] = DH * 3 * lny;
    d[(2 + C_F2) * nk + i] = -hD * bn * yF2 * lny;
    d[(2 + C_F3) * nk + i] = (-hD * g3) / f3;
    d[D_FNU * nk + i] = DQ * c1 * DL * gk;
    // dg/dln h = -2 x 47.48 q^2/(1 + 1.5 q^2)^2
    d[D_LNH * nk + i] = DQ * c1 * DL * fnu * ((-2 * 47.48 * q2) / ((1 + 1.5 * q2) * (1 + 1.5 * q2)));
  }
}

/** The tangent blocks of one row on the Bird path (the loop of halofitRows with the two extra partials). */
function birdTangents(
  outBlocks: Int32Array, P: number, N: number, o: number, nk: number, norm: Float64Array, dRow: Float64Array, dR: Float64Array,
  cm: Float64Array, Tlin: Float64Array | null, bird: { f_nu: Dual; h: Dual }, tangent: Float64Array,
): void {
  for (const p of outBlocks) {
    const dl = dR[p];
    const df = bird.f_nu.d ? bird.f_nu.d[p] : 0, dlnh = bird.h.d ? bird.h.d[p] / bird.h.v : 0;
    const b = p * N + o;
    for (let i = 0; i < nk; i++) {
      let t = dRow[D_LNY * nk + i] * dl + dRow[D_FNU * nk + i] * df + dRow[D_LNH * nk + i] * dlnh;
      for (let c = 0; c < N_COEF; c++) t += dRow[(2 + c) * nk + i] * cm[c * P + p];
      tangent[b + i] = t / norm[i] + (Tlin ? dRow[D_DL * nk + i] * Tlin[b + i] : 0);
    }
  }
}
