/**
 * The BAO wiggle of the linear spectrum, P_wig = P_lin - P_nw, which HMcode 2020 damps in its two-halo term
 * (Mead et al. 2021 eq. 15: P_dwl = P_lin - [1 - exp(-k^2 sigma_v^2)] P_wig). The smooth P_nw follows the paper's
 * footnote 7 and the public implementations (HMcode, CLASS's hmcode.c): the ratio P_lin/P_EH to the Eisenstein &
 * Hu (1998) no-wiggle spectrum (their eqs. 26-31, used only to take out the broad shape) is smoothed with a
 * Gaussian of width sigma = 0.25 in ln k, and P_nw = smoothed ratio x P_EH.
 *
 * Grid and edges, as CLASS v3.3 (`hmcode_nowiggle`, `array_smooth_Gaussian`): N_W = 512 nodes uniform in ln k on
 * [5e-3, 5] /Mpc; a node closer than 3 sigma = 0.75 to either end is left unsmoothed (so P_wig = 0 there, and
 * continuously so), the others take the Gaussian average over all nodes (weights renormalised; we sum the nodes
 * within 10 sigma, the rest being < 1e-21 of the total); P_wig = 0 outside the grid. Between the nodes the
 * dimensionless Delta^2_wig = k^3 P_wig/(2 pi^2) is a not-a-knot cubic spline in ln k. (CLASS writes the edge
 * test with the C function abs() on a double, which truncates to an integer: there the unsmoothed bands are 1.0
 * wide in ln k rather than 0.75. We follow the evident intent, 3 sigma; the two differ by < 1e-4 in P_NL.)
 *
 * Tangents: the smoothing is linear, so dP_wig = dP_EH (y - S y) + P_EH (dy - S dy), y = P_lin/P_EH,
 * dy = y (d ln P_lin - d ln P_EH); P_EH's tangents come from its closed-form partials in its scalars (below).
 */
import type { Dual } from '../../../core/ad/dual.js';
import { type QueryGeometry, queryGeometry } from '../../../core/ad/interp.js';
import { type SplineFactor, solveSecondDerivs, splineFactor } from '../../../core/numerics/spline.js';

export const K_W_MIN = 5e-3;
export const K_W_MAX = 5;
export const N_W = 512;
const SIGMA_W = 0.25;
const N_SIGMA_EDGE = 3;
const N_SIGMA_KERNEL = 10;
const TWO_PI2 = 2 * Math.PI * Math.PI;

export interface WiggleGrid {
  readonly lnk: Float64Array;
  readonly k: Float64Array;
  readonly k3: Float64Array;
  readonly f: SplineFactor;
  /** the wiggle nodes placed on the input grid */
  readonly geoIn: QueryGeometry;
  /** smoothing: for node i, first neighbour lo[i], count n[i] (0: unsmoothed), weights from off[i] in wts */
  readonly lo: Int32Array;
  readonly cnt: Int32Array;
  readonly off: Int32Array;
  readonly wts: Float64Array;
  /** the output (input-grid) k inside [K_W_MIN, K_W_MAX]: first index, count, placement on the wiggle grid */
  readonly outFirst: number;
  readonly outCount: number;
  readonly geoOut: QueryGeometry;
}

let lastGrid: { lnkIn: Float64Array; grid: WiggleGrid } | null = null;

/** The wiggle grid for an input grid ln k (cached while the grid is the same). */
export function wiggleGridFor(lnkIn: Float64Array): WiggleGrid {
  const c = lastGrid;
  if (c && c.lnkIn.length === lnkIn.length && c.lnkIn.every((v, i) => v === lnkIn[i])) return c.grid;
  const n = lnkIn.length;
  const a = Math.log(K_W_MIN), b = Math.log(K_W_MAX);
  if (!(lnkIn[0] <= a && lnkIn[n - 1] >= b))
    throw new Error(
      `nonlinear-power/hmcode2020: the BAO de-wiggling needs the linear P(k) on [${K_W_MIN}, ${K_W_MAX}] /Mpc, but the linear grid ` +
        `spans [${Math.exp(lnkIn[0]).toPrecision(4)}, ${Math.exp(lnkIn[n - 1]).toPrecision(4)}] /Mpc; widen the linear stage's k range`,
    );
  const lnk = Float64Array.from({ length: N_W }, (_, i) => (i === N_W - 1 ? b : a + ((b - a) * i) / (N_W - 1)));
  const k = Float64Array.from(lnk, Math.exp);
  const k3 = Float64Array.from(k, (x) => x * x * x);
  const lo = new Int32Array(N_W), cnt = new Int32Array(N_W), off = new Int32Array(N_W);
  const wl: number[] = [];
  const dx = (b - a) / (N_W - 1);
  const half = Math.ceil((N_SIGMA_KERNEL * SIGMA_W) / dx);
  for (let i = 0; i < N_W; i++) {
    if (Math.abs(lnk[i] - a) < N_SIGMA_EDGE * SIGMA_W || Math.abs(lnk[i] - b) < N_SIGMA_EDGE * SIGMA_W) continue;
    const j0 = Math.max(0, i - half), j1 = Math.min(N_W - 1, i + half);
    let tot = 0;
    for (let j = j0; j <= j1; j++) tot += Math.exp(-((lnk[i] - lnk[j]) ** 2) / (2 * SIGMA_W * SIGMA_W));
    lo[i] = j0;
    cnt[i] = j1 - j0 + 1;
    off[i] = wl.length;
    for (let j = j0; j <= j1; j++) wl.push(Math.exp(-((lnk[i] - lnk[j]) ** 2) / (2 * SIGMA_W * SIGMA_W)) / tot);
  }
  let first = 0;
  while (first < n && lnkIn[first] < a) first++;
  let last = first;
  while (last < n && lnkIn[last] <= b) last++;
  const grid: WiggleGrid = {
    lnk, k, k3, f: splineFactor(lnk), geoIn: queryGeometry(lnkIn, lnk),
    lo, cnt, off, wts: Float64Array.from(wl),
    outFirst: first, outCount: last - first, geoOut: queryGeometry(lnk, lnkIn.subarray(first, last)),
  };
  lastGrid = { lnkIn: Float64Array.from(lnkIn), grid };
  return grid;
}

/** y smoothed into out (unsmoothed nodes copied). */
function smooth(g: WiggleGrid, y: Float64Array, out: Float64Array): void {
  for (let i = 0; i < N_W; i++) {
    const n = g.cnt[i];
    if (n === 0) { out[i] = y[i]; continue; }
    let s = 0;
    for (let j = 0, o = g.off[i], l = g.lo[i]; j < n; j++) s += g.wts[o + j] * y[l + j];
    out[i] = s;
  }
}

/**
 * ln P_EH (no wiggle, EH98 eqs. 26-31, shape k^n_s T^2 with an arbitrary amplitude) at the wiggle nodes and its
 * tangents d ln P_EH (nA x N_W), from the Duals (in the caller's nA directions) of h, omega_m = Omega_m h^2,
 * omega_b = Omega_b h^2, Theta = T_cmb/2.7 K and n_s.
 */
export function noWiggleEH(
  g: WiggleGrid, h: Dual, omM: Dual, omB: Dual, theta: Dual, ns: Dual, nA: number,
): { lnP: Float64Array; dlnP: Float64Array | null } {
  const om = omM.v, ob = omB.v, hv = h.v, th2 = theta.v * theta.v;
  const root = Math.sqrt(1 + 10 * Math.pow(ob, 0.75));
  const s = (44.5 * Math.log(9.83 / om)) / root; // Mpc
  const fb = ob / om;
  const alpha = 1 - 0.328 * Math.log(431 * om) * fb + 0.38 * Math.log(22.3 * om) * fb * fb;
  const omh = om / hv; // Omega_m h
  // scalar tangents: d ln s, d alpha, d ln(Omega_m h), d ln h, d ln Theta^2, d n_s
  const dLnS = new Float64Array(nA), dAlpha = new Float64Array(nA), dLnOmh = new Float64Array(nA), dLnH = new Float64Array(nA), dLnTh2 = new Float64Array(nA), dNs = new Float64Array(nA);
  let any = false;
  for (let p = 0; p < nA; p++) {
    const dom = omM.d ? omM.d[p] : 0, dob = omB.d ? omB.d[p] : 0, dh = h.d ? h.d[p] : 0, dth = theta.d ? theta.d[p] : 0;
    const dn = ns.d ? ns.d[p] : 0;
    if (dom === 0 && dob === 0 && dh === 0 && dth === 0 && dn === 0) continue;
    any = true;
    // s = 44.5 ln(9.83/om)/root: d ln s = -dom/(om ln(9.83/om)) - d ln root
    const dRoot = (10 * 0.75 * Math.pow(ob, -0.25) * dob) / (2 * root * root);
    dLnS[p] = -dom / (om * Math.log(9.83 / om)) - dRoot;
    const dfb = dob / om - (ob * dom) / (om * om);
    dAlpha[p] = -0.328 * ((dom / om) * fb + Math.log(431 * om) * dfb) + 0.38 * ((dom / om) * fb * fb + Math.log(22.3 * om) * 2 * fb * dfb);
    dLnOmh[p] = dom / om - dh / hv;
    dLnH[p] = dh / hv;
    dLnTh2[p] = (2 * dth) / theta.v;
    dNs[p] = dn;
  }
  const lnP = new Float64Array(N_W);
  const dlnP = any ? new Float64Array(nA * N_W) : null;
  const E2 = 2 * Math.E;
  for (let i = 0; i < N_W; i++) {
    const k = g.k[i];
    const u = Math.pow(0.43 * k * s, 4);
    const r = 1 / (1 + u);
    const den = alpha + (1 - alpha) * r;
    const Gam = omh * den;
    const q = (k * th2) / (hv * Gam);
    const L = Math.log(E2 + 1.8 * q), C = 14.2 + 731 / (1 + 62.5 * q);
    const T = L / (L + C * q * q);
    lnP[i] = ns.v * g.lnk[i] + 2 * Math.log(T);
    if (!dlnP) continue;
    const Lp = 1.8 / (E2 + 1.8 * q), Cp = (-731 * 62.5) / ((1 + 62.5 * q) * (1 + 62.5 * q));
    const dlnTdlnq = q * (Lp / L - (Lp + Cp * q * q + 2 * C * q) / (L + C * q * q));
    for (let p = 0; p < nA; p++) {
      const dLnGam = dLnOmh[p] + ((1 - r) * dAlpha[p] - (1 - alpha) * r * r * u * 4 * dLnS[p]) / den;
      const dLnQ = dLnTh2[p] - dLnH[p] - dLnGam;
      dlnP[p * N_W + i] = g.lnk[i] * dNs[p] + 2 * dlnTdlnq * dLnQ;
    }
  }
  return { lnP, dlnP };
}

/** Work arrays of one row. */
export interface WiggleWork {
  readonly P: Float64Array;
  readonly y: Float64Array;
  readonly ys: Float64Array;
  readonly dy: Float64Array;
  readonly dys: Float64Array;
  readonly D: Float64Array;
  readonly m: Float64Array;
}

export const wiggleWork = (): WiggleWork => ({
  P: new Float64Array(N_W), y: new Float64Array(N_W), ys: new Float64Array(N_W), dy: new Float64Array(N_W),
  dys: new Float64Array(N_W), D: new Float64Array(N_W), m: new Float64Array(N_W),
});

/** ln P_lin (knot row y with spline second derivatives mk) at the wiggle nodes into out. */
function atNodes(g: WiggleGrid, y: Float64Array, yo: number, mk: Float64Array, out: Float64Array): void {
  const { idx, A, B, C, D } = g.geoIn;
  for (let q = 0; q < N_W; q++) {
    const i = idx[q];
    out[q] = A[q] * y[yo + i] + B[q] * y[yo + i + 1] + C[q] * mk[i] + D[q] * mk[i + 1];
  }
}

/** Delta^2 at the wiggle nodes (D) -> P_wig at the output k (first..first+count of the input grid) into out. */
function toOutput(g: WiggleGrid, w: WiggleWork, kIn: Float64Array, out: Float64Array): void {
  solveSecondDerivs(g.f, w.D, 0, w.m, 0);
  const { idx, A, B, C, D } = g.geoOut;
  out.fill(0);
  for (let q = 0; q < g.outCount; q++) {
    const i = idx[q], kk = kIn[g.outFirst + q];
    out[g.outFirst + q] = ((A[q] * w.D[i] + B[q] * w.D[i + 1] + C[q] * w.m[i] + D[q] * w.m[i + 1]) * TWO_PI2) / (kk * kk * kk);
  }
}

/**
 * The wiggle P_wig at the output k (the input grid; 0 outside [K_W_MIN, K_W_MAX]) for one row: ln P_lin knots
 * lnPk (offset o) with spline second derivatives mk; into out (length nk). Keeps y and S y in w for tangents.
 */
export function wiggleRow(
  g: WiggleGrid, lnEH: Float64Array, lnPk: Float64Array, o: number, mk: Float64Array, kIn: Float64Array, w: WiggleWork, out: Float64Array,
): void {
  atNodes(g, lnPk, o, mk, w.P);
  for (let i = 0; i < N_W; i++) w.y[i] = Math.exp(w.P[i] - lnEH[i]);
  smooth(g, w.y, w.ys);
  for (let i = 0; i < N_W; i++) w.D[i] = (g.k3[i] * Math.exp(lnEH[i]) * (w.y[i] - w.ys[i])) / TWO_PI2;
  toOutput(g, w, kIn, out);
}

/**
 * The tangent of wiggleRow along one direction: d ln P_lin at the knots (dk, offset o, spline second derivatives
 * dmk; null: zero) and d ln P_EH at the nodes (dEH; null: zero), after wiggleRow for the same row (w holds y, S y).
 */
export function wiggleRowTangent(
  g: WiggleGrid, lnEH: Float64Array, dk: Float64Array | null, o: number, dmk: Float64Array | null, dEH: Float64Array | null, dEHo: number,
  kIn: Float64Array, w: WiggleWork, out: Float64Array,
): void {
  if (dk && dmk) atNodes(g, dk, o, dmk, w.P);
  else w.P.fill(0);
  for (let i = 0; i < N_W; i++) w.dy[i] = w.y[i] * (w.P[i] - (dEH ? dEH[dEHo + i] : 0));
  smooth(g, w.dy, w.dys);
  for (let i = 0; i < N_W; i++) {
    const PEH = Math.exp(lnEH[i]);
    const dPEH = dEH ? PEH * dEH[dEHo + i] : 0;
    w.D[i] = (g.k3[i] * (dPEH * (w.y[i] - w.ys[i]) + PEH * (w.dy[i] - w.dys[i]))) / TWO_PI2;
  }
  toOutput(g, w, kIn, out);
}
