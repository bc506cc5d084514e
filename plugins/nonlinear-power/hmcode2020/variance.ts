/**
 * The variances HMcode 2020 needs from a linear P(k), on one logarithmic lattice:
 *
 *   sigma^2(R)  = Int dln k Delta^2(k) W^2(k R),   W(x) = 3 (sin x - x cos x)/x^3 (top hat),
 *   dsigma^2/dln R = Int dln k Delta^2(k) 2 x W(x) W'(x),
 *   sigma_v^2   = (1/3) Int dln k Delta^2(k)/k^2      (the 1D linear displacement; Mead et al. 2021 eq. 18),
 *
 * with Delta^2 = k^3 P/(2 pi^2). The quadrature is the trapezoidal rule on ln k_i = ln k_min + i H_K, where k_min is
 * the linear grid's first k and the nodes run to K_TOP = 1e6 /Mpc (CLASS's hmcode_max_k_extra). The halo radii of the
 * one-halo integral sit on the same lattice, ln R_j = ln R_LO + R_STEP j H_K, so that ln(k_i R_j) is a lattice point
 * and W^2(k_i R_j) is one table read (no trigonometry per row): sigma^2(R_j) = sum_i c_i W2[i + R_STEP j'], c_i = w_i
 * Delta^2_i. H_K = ln(100)/192 (96 per decade) makes the radius of the halo-formation mass fraction f = 0.01,
 * f^(1/3) R_j = R_{j - N_F}, a lattice point too (N_F = 16 radius steps below). sigma at other radii (8 Mpc/h, the
 * non-linear radius) is summed with W evaluated directly.
 *
 * ln P at the nodes: the not-a-knot cubic spline of ln P_lin in ln k on the input grid; above the grid's k_max the
 * spectrum continues as the late-time CDM form P ~ k^(n_s - 4) ln^2(k/k_*): s(k) = sqrt(P k^(4 - n_s)) linear in
 * ln k through the last two knots (CLASS's default extrapolation of the transfer function for HMcode,
 * `extrap_max_scaled`). It matters only for halos below ~1e9 Msun/h.
 */
import { type QueryGeometry, queryGeometry } from '../../../core/ad/interp.js';
import { type SplineFactor, solveSecondDerivs, splineFactor } from '../../../core/numerics/spline.js';

/** ln k step of the lattice. */
export const H_K = Math.log(100) / 192;
/** Radius step, in ln k steps. */
export const R_STEP = 2;
/** f^(1/3) R_j = R_{j - N_F} for the formation mass fraction f = 0.01: ln(100)/3 = N_F R_STEP H_K. */
export const N_F = 64 / R_STEP;
/** Top of the k lattice [1/Mpc]. */
export const K_TOP = 1e6;
/** Range of the Lagrangian radii of the one-halo integral [Mpc]: halos of ~1e2 to ~4e18 Msun/h. */
export const R_LO = 1e-3;
export const R_HI = 300;

const TWO_PI2 = 2 * Math.PI * Math.PI;

/** The lattice placed on one input k grid (x-only: reused while the grid is the same). */
export interface Lattice {
  readonly lnkIn: Float64Array;
  readonly nkIn: number;
  readonly fIn: SplineFactor;
  /** nodes */
  readonly nq: number;
  readonly k: Float64Array;
  readonly lnk: Float64Array;
  /** trapezoid weight x k^3/(2 pi^2): c_i = wk3_i P_i */
  readonly wk3: Float64Array;
  /** nodes inside the input grid (the others are extrapolated) */
  readonly nIn: number;
  readonly geo: QueryGeometry;
  /** radii R_j, j = 0..nR-1 (index j + N_F in the sigma^2 table, which starts N_F steps lower) */
  readonly nR: number;
  readonly R: Float64Array;
  /** W^2 and 2 x W W' on the product lattice: index i + R_STEP (j + N_F) */
  readonly W2: Float64Array;
  readonly DW: Float64Array;
  /** for table row j' (radius R_{j' - N_F}): the number of nodes with k R <= X_TOP */
  readonly top: Int32Array;
}

/** Top hat W, W' and W'' at x (series below 0.1). */
export function topHat(x: number, out: Float64Array): void {
  if (x < 0.1) {
    const x2 = x * x;
    out[0] = 1 + x2 * (-1 / 10 + x2 * (1 / 280 + x2 * (-1 / 15120 + x2 / 1330560)));
    out[1] = x * (-1 / 5 + x2 * (1 / 70 + x2 * (-1 / 2520 + x2 / 166320)));
    out[2] = -1 / 5 + x2 * (3 / 70 + x2 * (-1 / 504 + x2 * (7 / 166320)));
    return;
  }
  const s = Math.sin(x), c = Math.cos(x), x2 = x * x;
  out[0] = (3 * (s - x * c)) / (x2 * x);
  out[1] = (3 * ((x2 - 3) * s + 3 * x * c)) / (x2 * x2);
  out[2] = (3 * ((x2 * x - 12 * x) * c + (12 - 5 * x2) * s)) / (x2 * x2 * x);
}

let lastLattice: Lattice | null = null;

/** The lattice for an input grid ln k (cached while the grid is the same). */
export function latticeFor(lnkIn: Float64Array): Lattice {
  const c = lastLattice;
  if (c && c.nkIn === lnkIn.length) {
    let same = true;
    for (let i = 0; i < lnkIn.length; i++) if (c.lnkIn[i] !== lnkIn[i]) { same = false; break; }
    if (same) return c;
  }
  const nkIn = lnkIn.length;
  const lnk0 = lnkIn[0], lnkMax = lnkIn[nkIn - 1];
  const nq = Math.ceil((Math.log(K_TOP) - lnk0) / H_K) + 1;
  const lnk = new Float64Array(nq), k = new Float64Array(nq), wk3 = new Float64Array(nq);
  let nIn = 0;
  for (let i = 0; i < nq; i++) {
    lnk[i] = lnk0 + i * H_K;
    k[i] = Math.exp(lnk[i]);
    wk3[i] = ((i === 0 || i === nq - 1 ? 0.5 : 1) * H_K * k[i] * k[i] * k[i]) / TWO_PI2;
    if (lnk[i] <= lnkMax * (1 + 1e-15) + 1e-15) nIn = i + 1;
  }
  const geo = queryGeometry(lnkIn, lnk.subarray(0, nIn));
  const nR = Math.floor(Math.log(R_HI / R_LO) / (R_STEP * H_K)) + 1;
  const R = Float64Array.from({ length: nR }, (_, j) => R_LO * Math.exp(R_STEP * H_K * j));
  const nT = nq + R_STEP * (nR - 1 + N_F);
  const W2 = new Float64Array(nT), DW = new Float64Array(nT);
  const t = new Float64Array(3);
  const lnx0 = lnk0 + Math.log(R_LO) - R_STEP * N_F * H_K;
  for (let s = 0; s < nT; s++) {
    const x = Math.exp(lnx0 + s * H_K);
    topHat(x, t);
    W2[s] = t[0] * t[0];
    DW[s] = 2 * x * t[0] * t[1];
  }
  const top = new Int32Array(nR + N_F);
  for (let j = 0; j < nR + N_F; j++) {
    const Rj = R_LO * Math.exp(R_STEP * H_K * (j - N_F));
    let n = 0;
    while (n < nq && k[n] * Rj <= X_TOP) n++;
    top[j] = n;
  }
  lastLattice = { lnkIn: Float64Array.from(lnkIn), nkIn, fIn: splineFactor(lnkIn), nq, k, lnk, wk3, nIn, geo, nR, R, W2, DW, top };
  return lastLattice;
}

/**
 * ln P at the lattice nodes from a row of knot values y (= ln P_lin, or a tangent d ln P) and their spline
 * second derivatives m (knotSpline), with the extrapolation above the grid. For a tangent row pass `value` = the
 * value row's ln P and dns (the tangent of n_s); for values, null.
 */
export function nodesFromKnots(
  L: Lattice, y: Float64Array, yo: number, m: Float64Array, out: Float64Array,
  ns: number, value: { lnP: Float64Array; lnPo: number; dns: number } | null,
): void {
  const { idx, A, B, C, D } = L.geo;
  for (let q = 0; q < L.nIn; q++) {
    const i = idx[q];
    out[q] = A[q] * y[yo + i] + B[q] * y[yo + i + 1] + C[q] * m[i] + D[q] * m[i + 1];
  }
  if (L.nIn === L.nq) return;
  // extrapolation: s = sqrt(P k^(4 - ns)) linear in ln k through the last two knots
  const n = L.nkIn, x1 = L.lnkIn[n - 2], x2 = L.lnkIn[n - 1];
  if (!value) {
    const s1 = Math.exp(0.5 * (y[yo + n - 2] + (4 - ns) * x1)), s2 = Math.exp(0.5 * (y[yo + n - 1] + (4 - ns) * x2));
    const slope = (s2 - s1) / (x2 - x1);
    for (let q = L.nIn; q < L.nq; q++) {
      const s = s2 + slope * (L.lnk[q] - x2);
      if (!(s > 0))
        throw new Error(
          `nonlinear-power/hmcode2020: the linear P(k) cannot be extrapolated beyond k_max = ${Math.exp(x2).toPrecision(4)} /Mpc ` +
            '(its transfer function does not grow like ln k there); give a linear grid reaching higher k',
        );
      out[q] = 2 * Math.log(s) + (ns - 4) * L.lnk[q];
    }
    return;
  }
  // tangent: d ln s_m = (d ln P_m - ln k_m dns)/2; d ln P(k) = 2 ds/s + ln k dns
  const { lnP, lnPo, dns } = value;
  const s1 = Math.exp(0.5 * (lnP[lnPo + n - 2] + (4 - ns) * x1)), s2 = Math.exp(0.5 * (lnP[lnPo + n - 1] + (4 - ns) * x2));
  const ds1 = 0.5 * s1 * (y[yo + n - 2] - x1 * dns), ds2 = 0.5 * s2 * (y[yo + n - 1] - x2 * dns);
  const slope = (s2 - s1) / (x2 - x1), dslope = (ds2 - ds1) / (x2 - x1);
  for (let q = L.nIn; q < L.nq; q++) {
    const u = L.lnk[q] - x2;
    out[q] = (2 * (ds2 + dslope * u)) / (s2 + slope * u) + L.lnk[q] * dns;
  }
}

/** Second derivatives m (length nk) of the not-a-knot spline of the knot row y[yo..yo+nk) on the input grid. */
export function knotSpline(L: Lattice, y: Float64Array, yo: number, m: Float64Array): void {
  solveSecondDerivs(L.fIn, y, yo, m, 0);
}

/**
 * sigma^2 at the radii R_{j - N_F}, j = 0..nR + N_F - 1, from node weights c: out[j]. The sums stop at k R = X_TOP
 * (L.top[j] nodes), where W^2 < 1e-17: beyond, even Delta^2(k)/sigma^2 ~ 1e6 leaves < 1e-11.
 */
export function sigma2Table(L: Lattice, c: Float64Array, out: Float64Array): void {
  const W2 = L.W2, top = L.top;
  for (let j = 0; j < L.nR + N_F; j++) {
    const o = R_STEP * j, n = top[j];
    let s = 0;
    for (let i = 0; i < n; i++) s += c[i] * W2[o + i];
    out[j] = s;
  }
}

/** dsigma^2/dln R at the radii R_j, j = 0..nR-1: out[j] (same truncation: |2 x W W'| < 1e-12 there). */
export function dsigma2Table(L: Lattice, c: Float64Array, out: Float64Array): void {
  const DW = L.DW, top = L.top;
  for (let j = 0; j < L.nR; j++) {
    const o = R_STEP * (j + N_F), n = top[j + N_F];
    let s = 0;
    for (let i = 0; i < n; i++) s += c[i] * DW[o + i];
    out[j] = s;
  }
}

/** Where the table sums stop: k R = X_TOP. */
export const X_TOP = 3e4;

/**
 * sigma^2(R) and its first two derivatives in ln R from node weights c, with the per-node factors kept for
 * tangents: w2[i] = W^2(k_i R), d1[i] = 2 x W W' (d sigma^2/dln R = sum c d1).
 * Returns [S0, S1, S2] = [sigma^2, dsigma^2/dln R, d^2 sigma^2/dln R^2].
 */
export function sigma2At(L: Lattice, c: Float64Array, R: number, w2: Float64Array, d1: Float64Array): [number, number, number] {
  const t = TH;
  let s0 = 0, s1 = 0, s2 = 0;
  for (let i = 0; i < L.nq; i++) {
    const x = L.k[i] * R;
    topHat(x, t);
    const W = t[0], Wp = t[1], Wpp = t[2];
    const a = W * W, b = 2 * x * W * Wp;
    w2[i] = a;
    d1[i] = b;
    s0 += c[i] * a;
    s1 += c[i] * b;
    s2 += c[i] * (2 * x * x * (Wp * Wp + W * Wpp) + b);
  }
  return [s0, s1, s2];
}
const TH = new Float64Array(3);

/** sigma_v^2 = (1/3) sum_i w_i Delta^2_i/k_i^2 from node weights c (= w Delta^2). */
export function sigmaV2(L: Lattice, c: Float64Array): number {
  let s = 0;
  for (let i = 0; i < L.nq; i++) s += c[i] / (L.k[i] * L.k[i]);
  return s / 3;
}
