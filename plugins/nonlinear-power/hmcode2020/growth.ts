/**
 * The linear growth HMcode 2020 uses (Mead et al. 2021, arXiv:2009.01858, appendix A, after Mead 2017,
 * arXiv:1606.05345): the scale-independent growth g(a) of a universe without radiation, normalised to g = a at
 * early times (not to 1 today), and the accumulated growth G(a) = Int_0^a g(a')/a' da'. They enter the
 * spherical-collapse fits of delta_c and Delta_v (as g/a and G/a), the halo formation redshift (g(a_f) =
 * delta_c g(a)/sigma(f R)) and the Dolag et al. (2004) concentration correction (a LCDM growth beside the true one).
 *
 * Why not the background port's D(z): that growth includes radiation (HMcode's definition leaves it out, like
 * CLASS's hmcode.c and HMcode's own codes), is normalised to 1 today (HMcode needs g -> a as a -> 0, beyond the
 * background's tabulated z), and brings neither G nor the LCDM reference. So the stage solves HMcode's equation
 * itself from the background's expansion parameters: H^2/H0^2 = Omega_m a^-3 + Omega_de X(a) + Omega_k a^-2 with
 * X(a) = a^(-3(1 + w0 + wa)) e^(-3 wa (1 - a)) (CPL dark energy, today's Omega_de of the true cosmology: radiation
 * is simply dropped, as HMcode does), and, in x = ln a,
 *
 *   g'' + (1 + A/H^2) g' = (3/2) Omega_m(a) g,     G' = g,     A = (a''/a)/H0^2 = -(Omega_m a^-3 + (1 + 3 w) Omega_de X)/2,
 *
 * from a_ini = 1e-4 with g = a^p, g' = p g, p = 1 - 3 f/5, f = 1 - Omega_m(a_ini) (HMcode's initial conditions) and
 * G(a_ini) = g(a_ini)/p (the integral of a^(p-1) from 0). Massive neutrinos would count as matter here (HMcode does
 * the same): Omega_m is the total matter density.
 *
 * Numerics: classical RK4 on a uniform ln a grid (N_STEPS steps), the forward sensitivities with respect to the
 * five base quantities (Omega_m, Omega_de, Omega_k, w0, wa) integrated by the same steps (the exact derivative of
 * the discrete solution), and cubic Hermite interpolation in ln a between the steps from (g, g') and (G, g). With
 * 800 steps (d ln a = 0.0115) g and G move by 1.1e-9 and their sensitivities by 7e-9 when the steps are doubled.
 */
import type { Dual } from '../../../core/ad/dual.js';

/** The expansion parameters the growth depends on, in this order (the local tangent basis). */
export const GROWTH_BASE = ['Omega_m', 'Omega_de', 'Omega_k', 'w0', 'wa'] as const;
const NB = GROWTH_BASE.length;
/** Initial scale factor and number of RK4 steps in ln a up to a = 1. */
const A_INI = 1e-4;
const N_STEPS = 800;

export interface GrowthParameters {
  Omega_m: number;
  Omega_de: number;
  Omega_k: number;
  w0: number;
  wa: number;
}

/** g, g' = dg/dln a, G at the nodes ln a_i (ascending to 0), and their derivatives along the five base quantities. */
export interface GrowthTable {
  readonly lna: Float64Array;
  readonly h: number;
  readonly g: Float64Array;
  readonly dg: Float64Array;
  readonly G: Float64Array;
  /** base-major: [b * n + i] */
  readonly gB: Float64Array;
  readonly dgB: Float64Array;
  readonly GB: Float64Array;
  readonly params: GrowthParameters;
}

/**
 * The coefficients c1 = 1 + A/H^2, c2 = (3/2) Omega_m(a) at ln a = x, and their partial derivatives along the base
 * into out: [c1, c2, dc1/db (5), dc2/db (5)]. Also used for Omega_m(a) = c2/1.5.
 */
function coefficients(p: GrowthParameters, x: number, out: Float64Array): void {
  const a = Math.exp(x);
  const A3 = Math.exp(-3 * x), A2 = Math.exp(-2 * x);
  const w = p.w0 + p.wa * (1 - a);
  const X = Math.exp(-3 * (1 + p.w0 + p.wa) * x - 3 * p.wa * (1 - a));
  const dXw0 = -3 * x * X, dXwa = (-3 * x - 3 * (1 - a)) * X;
  const H2 = p.Omega_m * A3 + p.Omega_de * X + p.Omega_k * A2;
  const N = p.Omega_m * A3 + (1 + 3 * w) * p.Omega_de * X;
  // partials of H2 and N along (Omega_m, Omega_de, Omega_k, w0, wa)
  const dH2 = [A3, X, A2, p.Omega_de * dXw0, p.Omega_de * dXwa];
  const dN = [A3, (1 + 3 * w) * X, 0, 3 * p.Omega_de * X + (1 + 3 * w) * p.Omega_de * dXw0, 3 * (1 - a) * p.Omega_de * X + (1 + 3 * w) * p.Omega_de * dXwa];
  const M = p.Omega_m * A3;
  const dM = [A3, 0, 0, 0, 0];
  out[0] = 1 - N / (2 * H2);
  out[1] = (1.5 * M) / H2;
  for (let b = 0; b < NB; b++) {
    out[2 + b] = -(dN[b] * H2 - N * dH2[b]) / (2 * H2 * H2);
    out[2 + NB + b] = (1.5 * (dM[b] * H2 - M * dH2[b])) / (H2 * H2);
  }
}

/** Omega_m(a) of the no-radiation expansion and its partials along the base (5). */
export function omegaMatterNoRadiation(p: GrowthParameters, x: number, dOut: Float64Array): number {
  const s = new Float64Array(2 + 2 * NB);
  coefficients(p, x, s);
  for (let b = 0; b < NB; b++) dOut[b] = s[2 + NB + b] / 1.5;
  return s[1] / 1.5;
}

/** Solve the growth equation with its sensitivities (module comment). */
export function solveGrowth(p: GrowthParameters): GrowthTable {
  const x0 = Math.log(A_INI);
  const n = N_STEPS + 1, h = -x0 / N_STEPS;
  const lna = new Float64Array(n);
  for (let i = 0; i < n; i++) lna[i] = i === N_STEPS ? 0 : x0 + i * h;
  // state: y = (g, g', G), sensitivities s[b] = dy/db (3 each): 18 numbers
  const Y = 3 + 3 * NB;
  const y = new Float64Array(Y);
  const cf = new Float64Array(2 + 2 * NB);
  coefficients(p, x0, cf);
  const f = 1 - cf[1] / 1.5;
  const pw = 1 - (3 * f) / 5;
  y[0] = Math.exp(pw * x0);
  y[1] = pw * y[0];
  y[2] = y[0] / pw;
  for (let b = 0; b < NB; b++) {
    const dpw = (3 / 5) * (cf[2 + NB + b] / 1.5); // dp = -(3/5) df, df = -dOmega_m(a_ini)
    const dy0 = y[0] * x0 * dpw;
    y[3 + 3 * b] = dy0;
    y[4 + 3 * b] = dpw * y[0] + pw * dy0;
    y[5 + 3 * b] = dy0 / pw - (y[0] * dpw) / (pw * pw);
  }
  const g = new Float64Array(n), dg = new Float64Array(n), G = new Float64Array(n);
  const gB = new Float64Array(NB * n), dgB = new Float64Array(NB * n), GB = new Float64Array(NB * n);
  const store = (i: number) => {
    g[i] = y[0]; dg[i] = y[1]; G[i] = y[2];
    for (let b = 0; b < NB; b++) { gB[b * n + i] = y[3 + 3 * b]; dgB[b * n + i] = y[4 + 3 * b]; GB[b * n + i] = y[5 + 3 * b]; }
  };
  store(0);
  const rhs = (x: number, u: Float64Array, out: Float64Array) => {
    coefficients(p, x, cf);
    const c1 = cf[0], c2 = cf[1];
    out[0] = u[1];
    out[1] = -c1 * u[1] + c2 * u[0];
    out[2] = u[0];
    for (let b = 0; b < NB; b++) {
      const o = 3 + 3 * b;
      out[o] = u[o + 1];
      out[o + 1] = -c1 * u[o + 1] - cf[2 + b] * u[1] + c2 * u[o] + cf[2 + NB + b] * u[0];
      out[o + 2] = u[o];
    }
  };
  const k1 = new Float64Array(Y), k2 = new Float64Array(Y), k3 = new Float64Array(Y), k4 = new Float64Array(Y), t = new Float64Array(Y);
  for (let i = 0; i < N_STEPS; i++) {
    const x = lna[i], hh = lna[i + 1] - x;
    rhs(x, y, k1);
    for (let j = 0; j < Y; j++) t[j] = y[j] + 0.5 * hh * k1[j];
    rhs(x + 0.5 * hh, t, k2);
    for (let j = 0; j < Y; j++) t[j] = y[j] + 0.5 * hh * k2[j];
    rhs(x + 0.5 * hh, t, k3);
    for (let j = 0; j < Y; j++) t[j] = y[j] + hh * k3[j];
    rhs(x + hh, t, k4);
    for (let j = 0; j < Y; j++) y[j] += (hh / 6) * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]);
    store(i + 1);
  }
  return { lna, h, g, dg, G, gB, dgB, GB, params: { ...p } };
}

/** A growth value with its partials along the base (5). */
export interface GrowthValue {
  v: number;
  /** d/dln a */
  slope: number;
  base: Float64Array;
}

/** Cubic Hermite basis on [0, 1] at t, for values (h00, h10, h01, h11); derivative factors in dh. */
function hermite(t: number, hw: Float64Array): void {
  const t2 = t * t, t3 = t2 * t;
  hw[0] = 2 * t3 - 3 * t2 + 1;
  hw[1] = t3 - 2 * t2 + t;
  hw[2] = -2 * t3 + 3 * t2;
  hw[3] = t3 - t2;
  // derivatives d/dt
  hw[4] = 6 * t2 - 6 * t;
  hw[5] = 3 * t2 - 4 * t + 1;
  hw[6] = -6 * t2 + 6 * t;
  hw[7] = 3 * t2 - 2 * t;
}

const HW = new Float64Array(8);

function locate(tab: GrowthTable, x: number): { i: number; t: number } {
  const n = tab.lna.length;
  if (!(x >= tab.lna[0] - 1e-12 && x <= 1e-12))
    throw new Error(`hmcode2020 growth: ln a = ${x} is outside the solved range [${tab.lna[0].toFixed(3)}, 0]`);
  let i = Math.floor((x - tab.lna[0]) / tab.h);
  if (i < 0) i = 0;
  if (i > n - 2) i = n - 2;
  return { i, t: (x - tab.lna[i]) / (tab.lna[i + 1] - tab.lna[i]) };
}

/** g at ln a = x (Hermite from g and g'), with its slope and base partials. */
export function growthAt(tab: GrowthTable, x: number): GrowthValue {
  const { i, t } = locate(tab, x);
  const hh = tab.lna[i + 1] - tab.lna[i];
  hermite(t, HW);
  const n = tab.lna.length;
  const v = HW[0] * tab.g[i] + HW[1] * hh * tab.dg[i] + HW[2] * tab.g[i + 1] + HW[3] * hh * tab.dg[i + 1];
  const slope = (HW[4] * tab.g[i] + HW[5] * hh * tab.dg[i] + HW[6] * tab.g[i + 1] + HW[7] * hh * tab.dg[i + 1]) / hh;
  const base = new Float64Array(NB);
  for (let b = 0; b < NB; b++) {
    const o = b * n + i;
    base[b] = HW[0] * tab.gB[o] + HW[1] * hh * tab.dgB[o] + HW[2] * tab.gB[o + 1] + HW[3] * hh * tab.dgB[o + 1];
  }
  return { v, slope, base };
}

/** G at ln a = x (Hermite from G and G' = g). */
export function accumulatedGrowthAt(tab: GrowthTable, x: number): GrowthValue {
  const { i, t } = locate(tab, x);
  const hh = tab.lna[i + 1] - tab.lna[i];
  hermite(t, HW);
  const n = tab.lna.length;
  const v = HW[0] * tab.G[i] + HW[1] * hh * tab.g[i] + HW[2] * tab.G[i + 1] + HW[3] * hh * tab.g[i + 1];
  const slope = (HW[4] * tab.G[i] + HW[5] * hh * tab.g[i] + HW[6] * tab.G[i + 1] + HW[7] * hh * tab.g[i + 1]) / hh;
  const base = new Float64Array(NB);
  for (let b = 0; b < NB; b++) {
    const o = b * n + i;
    base[b] = HW[0] * tab.GB[o] + HW[1] * hh * tab.gB[o] + HW[2] * tab.GB[o + 1] + HW[3] * hh * tab.gB[o + 1];
  }
  return { v, slope, base };
}

/**
 * The ln a at which g reaches `target` (g increases with a), for targets below g(a = 1); below g(a_ini) the
 * matter-era power law g ~ a^p continues the table. Returns ln a (values only: the caller applies the
 * implicit-function rule d ln a = (d target - dg|_a)/g').
 */
export function lnaWhereGrowthIs(tab: GrowthTable, target: number): number {
  const n = tab.lna.length;
  if (!(target > 0)) throw new Error(`hmcode2020 growth: cannot invert g = ${target}`);
  if (target <= tab.g[0]) return tab.lna[0] + Math.log(target / tab.g[0]) / (tab.dg[0] / tab.g[0]);
  if (target >= tab.g[n - 1]) return 0;
  let lo = 0, hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (tab.g[mid] <= target) lo = mid;
    else hi = mid;
  }
  // Newton on the Hermite cubic of interval lo, from the linear guess
  let x = tab.lna[lo] + ((target - tab.g[lo]) / (tab.g[hi] - tab.g[lo])) * (tab.lna[hi] - tab.lna[lo]);
  const hh = tab.lna[hi] - tab.lna[lo];
  for (let it = 0; it < 20; it++) {
    hermite((x - tab.lna[lo]) / hh, HW);
    const v = HW[0] * tab.g[lo] + HW[1] * hh * tab.dg[lo] + HW[2] * tab.g[hi] + HW[3] * hh * tab.dg[hi];
    const slope = (HW[4] * tab.g[lo] + HW[5] * hh * tab.dg[lo] + HW[6] * tab.g[hi] + HW[7] * hh * tab.dg[hi]) / hh;
    const step = (target - v) / slope;
    x = Math.min(Math.max(x + step, tab.lna[lo]), tab.lna[hi]);
    if (Math.abs(step) < 1e-15) break;
  }
  return x;
}

/** A growth value's tangents in the caller's directions: sum_b base_b d(base quantity b). */
export function contractGrowth(base: Float64Array, dBase: readonly (Dual | null)[], nA: number): Float64Array | null {
  let out: Float64Array | null = null;
  for (let b = 0; b < NB; b++) {
    const d = dBase[b]?.d;
    if (!d || base[b] === 0) continue;
    out ??= new Float64Array(nA);
    for (let p = 0; p < nA; p++) out[p] += base[b] * d[p];
  }
  return out;
}
