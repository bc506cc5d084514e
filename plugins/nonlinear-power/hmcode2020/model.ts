/**
 * HMcode 2020 (Mead, Brieden, Troester & Heymans 2021, MNRAS 502, 1401; arXiv:2009.01858; "M21") on a linear
 * P(k, z) grid, row by row, with forward-mode tangents. Equations as numbered in M21:
 *
 *   P_NL = [P_2H^alpha + P_1H^alpha]^(1/alpha)                                                     (eq. 23)
 *   P_2H = P_dwl [1 - f (k/k_d)^n_d/(1 + (k/k_d)^n_d)]                                             (eq. 16)
 *   P_dwl = P_lin - [1 - e^{-k^2 sigma_v^2}] P_wig                                                 (eq. 15; dewiggle.ts)
 *   P_1H = (1 - f_nu)^2 (k/k_*)^4/(1 + (k/k_*)^4) Int dnu F(nu) (M/rho_m) W^2(nu^eta k, M)           (eqs. 17, 10-13)
 *   F(nu) Sheth & Tormen (1999), (A, p, q) = (0.21616, 0.3, 0.707); nu = delta_c/sigma_cold(R), M = 4/3 pi rho_m R^3,
 *   W the NFW window (nfw-window.ts) of virial radius r_v = R Delta_v^(-1/3) and concentration
 *   c = B (1 + z_f)/(1 + z) [g(z_inf)/g_LCDM(z_inf)] [g_LCDM(z)/g(z)] (Bullock et al. 2001; Dolag et al. 2004;
 *   eqs. 20-22), z_f from g(z_f) = g(z) delta_c/sigma_cold(0.01^(1/3) R) (c = B if that lies in the future), z_inf = 10;
 *   delta_c, Delta_v: Mead (2017) fits in g/a, G/a and Omega_m(z), with the neutrino factors (1 - 0.041 f_nu),
 *   (1 + 0.763 f_nu) (M21 appendix A; growth.ts).
 *
 * Fitted parameters (M21 table 2, in the precision of the public implementations — HMcode, CAMB, CLASS v3.3 —
 * of which table 2 is the 4-digit rounding), with sigma_8 = sigma_8,cold(z) and n_eff = -3 - dln sigma^2_cold/dln R
 * at R_nl, sigma_cold(R_nl) = delta_c:
 *   f = 0.2695822 sigma_8^0.9403087 (limited to [1e-3, 0.99] as in HMcode),  k_d = 0.0569871 sigma_8^-1.0890162 h/Mpc,
 *   n_d = 2.8534197,  k_* = 0.0561778 sigma_8^-1.0131066 h/Mpc,  eta = 0.1281210 sigma_8^-0.3643963,
 *   B = 5.1958429,  alpha = 1.8751465 x 1.6029913^n_eff.
 *
 * Baryonic feedback (M21 section 5, the one-parameter model of their table 5 in theta = log10(T_AGN/K) - 7.8): the
 * DMO prediction times the response of a vanilla halo model (alpha = 1, eta = 0, no damping, two-halo term P_dwl),
 * R = [P_dwl + P_1H^bary]/[P_dwl + P_1H^DMO], with B = 4 in the DMO model and in the baryonic one
 * B = (3.44 - 0.496 theta) 10^{z (-0.0671 - 0.0371 theta)}, and the baryonic window
 *   W_b = W_NFW [Omega_c/Omega_m + (Omega_b/Omega_m - f_*) (M/M_b)^2/(1 + (M/M_b)^2)] + f_*          (eqs. 24-26)
 *   f_* = min[(0.0201 - 0.0030 theta) 10^{z (0.409 + 0.0224 theta)}, Omega_b/Omega_m],
 *   M_b = 10^{13.87 + 1.81 theta} 10^{z (-0.108 + 0.195 theta)} Msun/h,
 * as the CAMB and CLASS implementations compose it.
 *
 * Massive neutrinos (hooks; m_nu is not yet a parameter): f_nu enters delta_c, Delta_v and the (1 - f_nu)^2 of
 * P_1H; sigma(R), R_nl, n_eff, sigma_8 use the cold (CDM + baryon) linear spectrum and P_2H, sigma_v the total one.
 * With f_nu = 0 every one of these reduces exactly to the massless expressions.
 *
 * Tangents, forward mode, in the directions that reach the output (the linear P's non-zero blocks and the scalars'
 * components): the variances are linear in P_lin (their tangents are the same sums over d ln P); the roots — R_nl
 * and the formation scale factors — take the implicit-function rule; per node of the halo-mass integral the
 * tangents of nu, dnu/dln R, the concentration and the window's scale; per k the window's closed-form partials.
 */
import { type Dual, add, addC, constant, div, exp, log, mul, powC, scale, sqrt, sub } from '../../../core/ad/dual.js';
import type { DualArray } from '../../../core/ad/dual-array.js';
import { queryGeometry } from '../../../core/ad/interp.js';
import { solveSecondDerivs, splineFactor } from '../../../core/numerics/spline.js';
import type { PowerGrid } from '../../contracts/power.js';
import { G_SI, MPC_M } from '../../contracts/cosmology.js';
import { N_W, noWiggleEH, wiggleGridFor, wiggleRow, wiggleRowTangent, wiggleWork } from './dewiggle.js';
import { type GrowthTable, accumulatedGrowthAt, contractGrowth, growthAt, lnaWhereGrowthIs, omegaMatterNoRadiation, solveGrowth } from './growth.js';
import { KINK_GAUSS, fillMassNodes, massNodes } from './mass-nodes.js';
import { NFW_PREP, nfwPrepare, nfwWindowPrepared } from './nfw-window.js';
import {
  H_K, type Lattice, N_F, R_STEP, dsigma2Table, knotSpline, latticeFor, nodesFromKnots, sigma2At, sigma2Table, sigmaV2,
} from './variance.js';

/** The cosmology HMcode reads, as Duals in the pipeline's tangent directions. */
export interface HmcodeCosmology {
  h: Dual;
  Omega_m: Dual;
  Omega_de: Dual;
  Omega_k: Dual;
  w0: Dual;
  wa: Dual;
  Omega_b: Dual;
  T_cmb: Dual;
  n_s: Dual;
  /** Omega_nu/Omega_m (the neutrino hook: 0 until m_nu is a parameter). */
  f_nu: Dual;
  /** log10(T_AGN/K) with baryonic feedback, else null (dark matter only). */
  log10_T_AGN: Dual | null;
}

/** Per-row diagnostics (values). */
export interface HmcodeRowInfo {
  z: number;
  delta_c: number;
  Delta_v: number;
  sigma8: number;
  sigma_v_Mpc: number;
  R_nl_Mpc: number;
  n_eff: number;
  alpha: number;
  f_damp: number;
  k_d_1overMpc: number;
  k_star_1overMpc: number;
  eta: number;
  dolag: number;
  /** g/a, G/a and Omega_m(z) without radiation */
  g_over_a: number;
  G_over_a: number;
  Omega_m_z: number;
}

// M21 table 2 (public-implementation precision)
const F_D = [0.2695822, 0.9403087], K_D = [0.0569871, -1.0890162], N_D = 2.8534197, K_STAR = [0.0561778, -1.0131066];
const ETA = [0.128121, -0.3643963], B_CONC = 5.1958429, ALPHA = [1.8751465, 1.6029913];
// Sheth & Tormen (1999)
const ST_A = 0.21616, ST_P = 0.3, ST_Q = 0.707;
// Mead (2017) delta_c and Delta_v fits: [p0, p1 (1 - g/a), p2 (1 - g/a)^2, p3 (1 - G/a)] for the log10(Omega_m)^n terms
const DC1 = [-0.0069, -0.0208, 0.0312, 0.0021], DC0 = [0.0001, -0.0647, -0.0417, 0.0646];
const DV1 = [-0.79, -10.17, 2.51, 6.51], DV2 = [-1.89, 0.38, 18.8, -15.87];
const DELTA_C_EDS = (3 / 20) * Math.pow(12 * Math.PI, 2 / 3);
const DELTA_V_EDS = 18 * Math.PI * Math.PI;
/** Redshift "infinity" of the Dolag correction and the halo-formation mass fraction (M21). */
export const Z_INF = 10;
/** The B of the unfitted DMO halo model of the feedback response. */
const B_VANILLA = 4;
/** Solar mass [kg] (as CLASS v3, include/fourier.h) and rho_crit/h^2 [Msun/Mpc^3] with CLASS's G and Mpc. */
const M_SUN_KG = 1.98847e30;
const RHO_CRIT_H2 = (3 * 1e10 * MPC_M) / (8 * Math.PI * G_SI * M_SUN_KG);
/** Nodes of the halo-mass integral with a weight below this fraction of the largest are left out. */
const NODE_CUT = 1e-20;

/** Option of hmcodeGrid. */
export interface HmcodeOptions {
  /** the 'baryonic feedback' variant (cosmology.log10_T_AGN must be set) */
  feedback: boolean;
  /**
   * Damp the one-halo terms of both vanilla models of the feedback response by (k/k_*)^4/(1 + (k/k_*)^4) with
   * k_* = 0.0561778 h/Mpc (HMcode's 2023 "low-k fix", its versions 141/144): without it the response tends to
   * [P_lin + P_1H^bary(0)]/[P_lin + P_1H^DMO(0)] != 1 as k -> 0, as in the paper and CLASS v3.3.
   */
  feedbackLowKFix?: boolean;
  /** points per decade of the one-halo k grid (0: the sums at every output k); default ONE_HALO_PER_DECADE */
  oneHaloPerDecade?: number;
}

/**
 * The one-halo sums are smooth in ln k (a sum over many halos of windows; no BAO): they are computed on a grid
 * uniform in ln k over the output range, ONE_HALO_PER_DECADE per decade, and a not-a-knot spline of ln S in ln k
 * (and of the tangents d ln S) gives them at the output k. Against the sums at every output k: < 2e-6 at 32 per
 * decade (test/plugins/nonlinear-power/hmcode2020.test.ts); it saves most of the NFW windows on dense output grids.
 */
export const ONE_HALO_PER_DECADE = 32;

interface OneHaloGrid {
  readonly k: Float64Array;
  toOutput(lnS: Float64Array, dlnS: Float64Array, nA: number, S: Float64Array, dS: Float64Array): void;
}

let lastOneHalo: { kOut: Float64Array; perDecade: number; grid: OneHaloGrid } | null = null;

/** The one-halo k grid for the output k (cached), or the output k themselves (perDecade 0, or a coarse output). */
function oneHaloGrid(kOut: Float64Array, perDecade: number): OneHaloGrid {
  const c = lastOneHalo;
  if (c && c.perDecade === perDecade && c.kOut.length === kOut.length && c.kOut.every((v, i) => v === kOut[i])) return c.grid;
  const nk = kOut.length;
  const a = Math.log(kOut[0]), b = Math.log(kOut[nk - 1]);
  const n1 = perDecade > 0 ? Math.max(8, Math.ceil(((b - a) / Math.LN10) * perDecade) + 1) : nk;
  let grid: OneHaloGrid;
  if (perDecade <= 0 || n1 >= nk) {
    grid = {
      k: kOut,
      toOutput(lnS, dlnS, nA, S, dS) {
        for (let i = 0; i < nk; i++) S[i] = Math.exp(lnS[i]);
        for (let p = 0; p < nA; p++) for (let i = 0; i < nk; i++) dS[p * nk + i] = S[i] * dlnS[p * nk + i];
      },
    };
  } else {
    const lnk = Float64Array.from({ length: n1 }, (_, q) => (q === n1 - 1 ? b : a + ((b - a) * q) / (n1 - 1)));
    const f = splineFactor(lnk);
    const geo = queryGeometry(lnk, Float64Array.from(kOut, Math.log));
    const m = new Float64Array(n1);
    const at = (y: Float64Array, yo: number, i: number) => {
      const j = geo.idx[i];
      return geo.A[i] * y[yo + j] + geo.B[i] * y[yo + j + 1] + geo.C[i] * m[j] + geo.D[i] * m[j + 1];
    };
    grid = {
      k: Float64Array.from(lnk, Math.exp),
      toOutput(lnS, dlnS, nA, S, dS) {
        solveSecondDerivs(f, lnS, 0, m, 0);
        for (let i = 0; i < nk; i++) S[i] = Math.exp(at(lnS, 0, i));
        for (let p = 0; p < nA; p++) {
          solveSecondDerivs(f, dlnS, p * n1, m, 0);
          for (let i = 0; i < nk; i++) dS[p * nk + i] = S[i] * at(dlnS, p * n1, i);
        }
      },
    };
  }
  lastOneHalo = { kOut: Float64Array.from(kOut), perDecade, grid };
  return grid;
}

interface Active {
  /** pipeline tangent block of each local direction */
  readonly act: Int32Array;
  readonly nA: number;
}

/** A Dual in the local directions (components act[a] of the pipeline's). */
function localize(x: Dual, A: Active): Dual {
  if (!x.d) return constant(x.v);
  const d = new Float64Array(A.nA);
  let any = false;
  for (let a = 0; a < A.nA; a++) { d[a] = x.d[A.act[a]]; if (d[a] !== 0) any = true; }
  return { v: x.v, d: any ? d : null };
}

const dOf = (x: Dual, a: number) => (x.d ? x.d[a] : 0);

/** The directions that reach the output: non-zero blocks of the linear grids, non-zero components of the scalars. */
function activeDirections(grids: (PowerGrid | null)[], scalars: Dual[]): Active {
  const used = new Set<number>();
  for (const g of grids) {
    const t = g?.P_Mpc3.tangent;
    if (!t || !g) continue;
    const N = g.P_Mpc3.value.length;
    for (let p = 0; p < g.P_Mpc3.P; p++) {
      for (let i = p * N; i < (p + 1) * N; i++) if (t[i] !== 0) { used.add(p); break; }
    }
  }
  for (const s of scalars) if (s.d) s.d.forEach((v, p) => { if (v !== 0) used.add(p); });
  const act = Int32Array.from([...used].sort((a, b) => a - b));
  return { act, nA: act.length };
}

/** The number of tangent blocks of the output (the pipeline's P). */
function blocksOf(grids: (PowerGrid | null)[], scalars: Dual[]): number {
  let P = 0;
  for (const g of grids) if (g && g.P_Mpc3.tangent) P = Math.max(P, g.P_Mpc3.P);
  for (const s of scalars) if (s.d) P = Math.max(P, s.d.length);
  return P;
}

/** ln P of every row of a grid (k-major per row: row r at r*nk), checking P > 0. */
function lnRows(g: PowerGrid, what: string): Float64Array {
  const v = g.P_Mpc3.value, nk = g.k_1overMpc.length;
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    if (!(v[i] > 0))
      throw new Error(`nonlinear-power/hmcode2020: the ${what} P(k = ${g.k_1overMpc[i % nk]}, z = ${g.z[Math.floor(i / nk)]}) = ${v[i]} is not > 0`);
    out[i] = Math.log(v[i]);
  }
  return out;
}

/** Sheth-Tormen F(nu) and d ln F/d ln nu into out[0], out[1]. */
function shethTormen(nu: number, out: Float64Array): void {
  const q = ST_Q * nu * nu;
  const s = Math.pow(q, -ST_P);
  out[0] = ST_A * (1 + s) * Math.exp(-q / 2);
  out[1] = (-2 * ST_P * s) / (1 + s) - q;
}
const ST = new Float64Array(2);

/** The growth base Duals (Omega_m, Omega_de, Omega_k, w0, wa) of a cosmology, LCDM (w = -1) if asked. */
function growthBase(c: HmcodeCosmology, lcdm: boolean): Dual[] {
  return [c.Omega_m, c.Omega_de, c.Omega_k, lcdm ? constant(-1) : c.w0, lcdm ? constant(0) : c.wa];
}

/** g at ln a as a local Dual. */
function gDual(tab: GrowthTable, lna: number, base: Dual[], nA: number): Dual {
  const v = growthAt(tab, lna);
  return { v: v.v, d: contractGrowth(v.base, base, nA) };
}

let lastGrowth: { key: string; tab: GrowthTable; lcdm: GrowthTable } | null = null;

/** The two growth solutions (true cosmology and its LCDM counterpart), cached by their parameters. */
function growthTables(c: HmcodeCosmology): { tab: GrowthTable; lcdm: GrowthTable } {
  const p = { Omega_m: c.Omega_m.v, Omega_de: c.Omega_de.v, Omega_k: c.Omega_k.v, w0: c.w0.v, wa: c.wa.v };
  const key = JSON.stringify(p);
  if (lastGrowth?.key === key) return lastGrowth;
  const tab = solveGrowth(p);
  const lcdm = p.w0 === -1 && p.wa === 0 ? tab : solveGrowth({ ...p, w0: -1, wa: 0 });
  lastGrowth = { key, tab, lcdm };
  return lastGrowth;
}

/** delta_c and Delta_v (Mead 2017 fits with the M21 neutrino factors) from g/a, G/a, Omega_m(z) and f_nu. */
function sphericalCollapse(gOverA: Dual, GOverA: Dual, Om: Dual, fnu: Dual): { dc: Dual; Dv: Dual } {
  const x = sub(constant(1), gOverA), y = sub(constant(1), GOverA);
  const L = scale(log(Om), 1 / Math.LN10);
  const poly = (p: number[]) => add(add(addC(scale(x, p[1]), p[0]), scale(mul(x, x), p[2])), scale(y, p[3]));
  let dc = add(addC(mul(poly(DC1), L), 1), poly(DC0));
  dc = mul(scale(dc, DELTA_C_EDS), addC(scale(fnu, -0.041), 1));
  let Dv = add(addC(mul(poly(DV1), L), 1), mul(poly(DV2), mul(L, L)));
  Dv = mul(scale(Dv, DELTA_V_EDS), addC(scale(fnu, 0.763), 1));
  return { dc, Dv };
}

/**
 * HMcode 2020 on the linear grid `lin` (total matter; `cold`: the CDM + baryon spectrum on the same grid, or null
 * to use the total one, exact when f_nu = 0). Returns P_NL (tangents in the pipeline's blocks) and per-row diagnostics.
 */
export function hmcodeGrid(lin: PowerGrid, cold: PowerGrid | null, cosmoIn: HmcodeCosmology, opts: HmcodeOptions): { P: DualArray; rows: HmcodeRowInfo[] } {
  const k = lin.k_1overMpc, z = lin.z, nk = k.length, nz = z.length, N = nk * nz;
  if (lin.P_Mpc3.value.length !== N) throw new Error(`nonlinear-power/hmcode2020: the linear P has ${lin.P_Mpc3.value.length} values, expected ${nz} x ${nk}`);
  if (cold && (cold.k_1overMpc.length !== nk || cold.z.length !== nz || cold.k_1overMpc.some((v, i) => v !== k[i]) || cold.z.some((v, i) => v !== z[i])))
    throw new Error('nonlinear-power/hmcode2020: the cold linear P(k, z) must be on the same (k, z) grid as the total one');
  if (opts.feedback && !cosmoIn.log10_T_AGN) throw new Error('nonlinear-power/hmcode2020: feedback needs log10_T_AGN');
  const scalarsIn = Object.values(cosmoIn).filter((x): x is Dual => x !== null);
  const A = activeDirections([lin, cold], scalarsIn);
  const Pout = blocksOf([lin, cold], scalarsIn);
  const nA = A.nA;
  const L = <T extends Dual | null>(x: T): T => (x ? localize(x, A) : x) as T;
  const c: HmcodeCosmology = {
    h: L(cosmoIn.h), Omega_m: L(cosmoIn.Omega_m), Omega_de: L(cosmoIn.Omega_de), Omega_k: L(cosmoIn.Omega_k), w0: L(cosmoIn.w0), wa: L(cosmoIn.wa),
    Omega_b: L(cosmoIn.Omega_b), T_cmb: L(cosmoIn.T_cmb), n_s: L(cosmoIn.n_s), f_nu: L(cosmoIn.f_nu), log10_T_AGN: L(cosmoIn.log10_T_AGN),
  };
  if (!(c.f_nu.v >= 0 && c.f_nu.v < 1)) throw new Error(`nonlinear-power/hmcode2020: f_nu = ${c.f_nu.v} must lie in [0, 1)`);

  // --- grids, once per evaluation ---
  const lnkIn = Float64Array.from(k, Math.log);
  const Lt = latticeFor(lnkIn);
  const Wg = wiggleGridFor(lnkIn);
  const nq = Lt.nq, nR = Lt.nR, nT = nR + N_F;
  const lnPtot = lnRows(lin, 'linear');
  const lnPcold = cold ? lnRows(cold, 'cold linear') : lnPtot;
  const Ttot = lin.P_Mpc3.tangent, Tcold = cold ? cold.P_Mpc3.tangent : Ttot;
  const Ptot = lin.P_Mpc3.value, Pcold = cold ? cold.P_Mpc3.value : Ptot;

  // growth (no radiation) of the cosmology and of its LCDM counterpart; the EH no-wiggle shape
  const { tab, lcdm } = growthTables(c);
  const baseTrue = growthBase(c, false), baseLcdm = growthBase(c, true);
  const h2 = mul(c.h, c.h);
  const eh = noWiggleEH(Wg, c.h, mul(c.Omega_m, h2), mul(c.Omega_b, h2), scale(c.T_cmb, 1 / 2.7), c.n_s, nA);
  const lnInf = -Math.log1p(Z_INF);
  const dolagInf = div(gDual(tab, lnInf, baseTrue, nA), gDual(lcdm, lnInf, baseLcdm, nA));
  const omOne = sub(constant(1), c.f_nu);
  const nuFactor = mul(omOne, omOne); // (1 - f_nu)^2

  // feedback scalars
  const fb = opts.feedback ? feedbackScalars(c) : null;

  // --- work arrays ---
  const value = new Float64Array(N);
  const tangent = Pout > 0 && nA > 0 ? new Float64Array(Pout * N) : null;
  const m = new Float64Array(nk), dk = new Float64Array(nk), dm = new Float64Array(nk);
  const lnNode = new Float64Array(nq), cCold = new Float64Array(nq), cTot = new Float64Array(nq);
  const dcCold = new Float64Array(nA * nq), dcTot = new Float64Array(nA * nq), dNode = new Float64Array(nq);
  const hasDc = new Uint8Array(nA), hasDcTot = new Uint8Array(nA);
  const S2T = new Float64Array(nT), DT = new Float64Array(nR);
  const dS2T = new Float64Array(nA * nT), dDT = new Float64Array(nA * nR);
  const w2 = new Float64Array(nq), d1 = new Float64Array(nq);
  const ww = wiggleWork(), Pwig = new Float64Array(nk), dPwig = new Float64Array(nA * nk);
  const rows: HmcodeRowInfo[] = [];
  // the nodes of the mass integral (the lattice radii and the Gauss nodes around the concentration kink), their
  // inputs (sigma^2, dsigma^2/dln R, sigma^2 at f^(1/3) R, with tangents j-major: [j * nA + a]) and quantities
  const nN = nR + 2 * KINK_GAUSS.length;
  const nodes = massNodes(nN, nA);
  const xw2 = Array.from({ length: 2 * KINK_GAUSS.length }, () => [new Float64Array(nq), new Float64Array(nq), new Float64Array(nq), new Float64Array(nq)]);
  const I = new Float64Array(nN), lnNu = new Float64Array(nN), conc = new Float64Array(nN), rs = new Float64Array(nN), lnRatio = new Float64Array(nN);
  const u0 = new Float64Array(nN * nA), u1 = new Float64Array(nN * nA), u2 = new Float64Array(nN * nA);
  const dlnRatio = new Float64Array(nN * nA);
  const prep = new Float64Array(nN * NFW_PREP);
  const live = new Int32Array(nN);
  const win = new Float64Array(3), winU = new Float64Array(3), winB = new Float64Array(3);
  const acc = new Float64Array(nA), accU = new Float64Array(nA), accB = new Float64Array(nA);
  const fbw = fb ? feedbackWork(nN, nA) : null;
  // the one-halo k grid and its sums
  const H1 = oneHaloGrid(k, opts.oneHaloPerDecade ?? ONE_HALO_PER_DECADE);
  const n1 = H1.k.length;
  const lnOneH = new Float64Array(n1), lnOneHU = new Float64Array(n1), lnOneHB = new Float64Array(n1);
  const dOneH = new Float64Array(nA * n1), dOneHU = new Float64Array(nA * n1), dOneHB = new Float64Array(nA * n1);
  const Sout = new Float64Array(nk), SUout = new Float64Array(nk), SBout = new Float64Array(nk);
  const dSout = new Float64Array(nA * nk), dSUout = new Float64Array(nA * nk), dSBout = new Float64Array(nA * nk);

  for (let r = 0; r < nz; r++) {
    const o = r * nk;
    const a = 1 / (1 + z[r]), lna = -Math.log1p(z[r]);

    // 1. the lattice weights c_i = w_i Delta^2_i of the cold and total spectra, and their tangents
    const fillNodes = (lnP: Float64Array, T: Float64Array | null, Pv: Float64Array, cv: Float64Array, dc: Float64Array, has: Uint8Array) => {
      knotSpline(Lt, lnP, o, m);
      nodesFromKnots(Lt, lnP, o, m, lnNode, c.n_s.v, null);
      for (let i = 0; i < nq; i++) cv[i] = Lt.wk3[i] * Math.exp(lnNode[i]);
      for (let aa = 0; aa < nA; aa++) {
        const p = A.act[aa];
        let anyK = false;
        if (T) for (let i = 0; i < nk; i++) { dk[i] = T[p * N + o + i] / Pv[o + i]; if (dk[i] !== 0) anyK = true; }
        const dns = dOf(c.n_s, aa);
        has[aa] = anyK || (dns !== 0 && Lt.nIn < nq) ? 1 : 0;
        if (!has[aa]) continue;
        if (!anyK) dk.fill(0);
        knotSpline(Lt, dk, 0, dm);
        nodesFromKnots(Lt, dk, 0, dm, dNode, c.n_s.v, { lnP, lnPo: o, dns });
        for (let i = 0, t = aa * nq; i < nq; i++, t++) dc[t] = cv[i] * dNode[i];
      }
    };
    fillNodes(lnPcold, Tcold, Pcold, cCold, dcCold, hasDc);
    if (cold) fillNodes(lnPtot, Ttot, Ptot, cTot, dcTot, hasDcTot);
    const cT = cold ? cTot : cCold, dcT = cold ? dcTot : dcCold, hasT = cold ? hasDcTot : hasDc;
    const dotDc = (dc: Float64Array, aa: number, w: Float64Array) => {
      let s = 0;
      for (let i = 0, t = aa * nq; i < nq; i++, t++) s += dc[t] * w[i];
      return s;
    };

    // 2. sigma^2 and dsigma^2/dln R on the radii of the mass integral
    sigma2Table(Lt, cCold, S2T);
    dsigma2Table(Lt, cCold, DT);
    for (let aa = 0; aa < nA; aa++) {
      if (!hasDc[aa]) continue;
      sigma2Table(Lt, dcCold.subarray(aa * nq, (aa + 1) * nq), dS2T.subarray(aa * nT, (aa + 1) * nT));
      dsigma2Table(Lt, dcCold.subarray(aa * nq, (aa + 1) * nq), dDT.subarray(aa * nR, (aa + 1) * nR));
    }

    // 3. sigma_8 (cold, R = 8/h Mpc) and sigma_v (total)
    const R8 = 8 / c.h.v;
    const [s8v, s8p] = sigma2At(Lt, cCold, R8, w2, d1);
    const s8d = new Float64Array(nA);
    for (let aa = 0; aa < nA; aa++) s8d[aa] = (hasDc[aa] ? dotDc(dcCold, aa, w2) : 0) - (s8p * dOf(c.h, aa)) / c.h.v;
    const sigma8 = sqrt({ v: s8v, d: nA ? s8d : null });
    const kInv2 = w2; // reuse as 1/k^2
    for (let i = 0; i < nq; i++) kInv2[i] = 1 / (Lt.k[i] * Lt.k[i]);
    const sv2d = new Float64Array(nA);
    for (let aa = 0; aa < nA; aa++) if (hasT[aa]) sv2d[aa] = dotDc(dcT, aa, kInv2) / 3;
    const sigv2: Dual = { v: sigmaV2(Lt, cT), d: nA ? sv2d : null };

    // 4. growth and spherical collapse
    const gA = gDual(tab, lna, baseTrue, nA);
    const GAv = accumulatedGrowthAt(tab, lna);
    const GA: Dual = { v: GAv.v, d: contractGrowth(GAv.base, baseTrue, nA) };
    const omBase = new Float64Array(5);
    const omv = omegaMatterNoRadiation({ Omega_m: c.Omega_m.v, Omega_de: c.Omega_de.v, Omega_k: c.Omega_k.v, w0: c.w0.v, wa: c.wa.v }, lna, omBase);
    const OmZ: Dual = { v: omv, d: contractGrowth(omBase, baseTrue, nA) };
    const { dc, Dv } = sphericalCollapse(scale(gA, 1 / a), scale(GA, 1 / a), OmZ, c.f_nu);
    const dolag = z[r] < Z_INF ? mul(dolagInf, div(gDual(lcdm, lna, baseLcdm, nA), gA)) : constant(1);

    // 5. the non-linear radius sigma_cold(R_nl) = delta_c (Newton in ln R), n_eff; implicit-function tangents
    const lnRnl = nonlinearRadius(Lt, cCold, S2T, dc.v, w2, d1, z[r]);
    const [S0, S1, S2] = sigma2At(Lt, cCold, Math.exp(lnRnl), w2, d1);
    const dlnR = new Float64Array(nA), dS0 = new Float64Array(nA), dS1 = new Float64Array(nA);
    for (let aa = 0; aa < nA; aa++) {
      const j0 = hasDc[aa] ? dotDc(dcCold, aa, w2) : 0, j1 = hasDc[aa] ? dotDc(dcCold, aa, d1) : 0;
      dlnR[aa] = (2 * dc.v * dOf(dc, aa) - j0) / S1;
      dS0[aa] = j0 + S1 * dlnR[aa];
      dS1[aa] = j1 + S2 * dlnR[aa];
    }
    const nEff = addC(scale(div({ v: S1, d: nA ? dS1 : null }, { v: S0, d: nA ? dS0 : null }), -1), -3);

    // 6. the fitted parameters
    let fd = mul(constant(F_D[0]), powC(sigma8, F_D[1]));
    if (fd.v < 1e-3) fd = constant(1e-3);
    if (fd.v > 0.99) fd = constant(0.99);
    const kd = mul(scale(powC(sigma8, K_D[1]), K_D[0]), c.h);
    const kst = mul(scale(powC(sigma8, K_STAR[1]), K_STAR[0]), c.h);
    const eta = scale(powC(sigma8, ETA[1]), ETA[0]);
    const alpha = scale(exp(scale(nEff, Math.log(ALPHA[1]))), ALPHA[0]);
    const sigv = sqrt(sigv2);

    // 7. the nodes of the mass integral: the lattice, plus Gauss nodes on both sides of the kink of c(M) at
    //    R_* = 100^(1/3) R_nl (where z_f = z: sigma(f^(1/3) R_*) = delta_c), with Gregory end corrections
    fillMassNodes(Lt, nodes, S2T, DT, dS2T, dDT, hasDc, nA, lnRnl + Math.log(100) / 3, dlnR, cCold, dcCold, xw2);
    const lnDc = log(dc), lnDv3 = scale(log(Dv), 1 / 3), lnDol = log(dolag);
    let Imax = 0;
    for (let j = 0; j < nN; j++) {
      const s2 = nodes.s2[j], D = nodes.D[j], sf2 = nodes.sf2[j];
      if (nodes.w[j] === 0) { I[j] = 0; continue; }
      const nu = dc.v / Math.sqrt(s2);
      const dnu = (-0.5 * nu * D) / s2;
      shethTormen(nu, ST);
      const F = ST[0], dlnF = ST[1];
      const Rj = nodes.R[j];
      I[j] = nodes.w[j] * (4 / 3) * Math.PI * Rj * Rj * Rj * F * dnu;
      Imax = Math.max(Imax, I[j]);
      lnNu[j] = Math.log(nu);
      // formation: g(a_f) = delta_c g(a)/sigma(f^(1/3) R); c = B (1 + z_f)/(1 + z) x Dolag (B if a_f >= a)
      const t = (dc.v * gA.v) / Math.sqrt(sf2);
      let lnaf = lna, gf: ReturnType<typeof growthAt> | null = null;
      if (t < gA.v) {
        lnaf = lnaWhereGrowthIs(tab, t);
        gf = growthAt(tab, lnaf);
      }
      lnRatio[j] = lna - lnaf + lnDol.v;
      conc[j] = B_CONC * Math.exp(lnRatio[j]);
      nfwPrepare(conc[j], prep, j * NFW_PREP);
      rs[j] = Math.exp(eta.v * lnNu[j] + Math.log(Rj) - lnDv3.v) / conc[j];
      if (nA === 0) continue;
      const gfd = gf ? contractGrowth(gf.base, baseTrue, nA) : null;
      for (let aa = 0, t2 = j * nA; aa < nA; aa++, t2++) {
        const dls2 = nodes.ds2[t2] / s2, dlD = nodes.dD[t2] / D, dlsf2 = nodes.dsf2[t2] / sf2;
        const dlnNu = dOf(lnDc, aa) - 0.5 * dls2;
        const dlnI = dlnF * dlnNu + dlnNu + dlD - dls2 + nodes.dlnw[t2] + 3 * nodes.dlnR[t2];
        let dlr = dOf(lnDol, aa);
        if (gf) {
          const dt = t * (dOf(lnDc, aa) + dOf(gA, aa) / gA.v - 0.5 * dlsf2);
          dlr -= (dt - (gfd ? gfd[aa] : 0)) / gf.slope;
        }
        const dlnc = dlr; // B is a constant
        const dlnrs = dOf(eta, aa) * lnNu[j] + eta.v * dlnNu + nodes.dlnR[t2] - dOf(lnDv3, aa) - dlnc;
        dlnRatio[t2] = dlr;
        u0[t2] = I[j] * dlnI;
        u1[t2] = 2 * I[j] * dlnrs;
        u2[t2] = 2 * I[j] * conc[j] * dlnc;
      }
    }
    let nLive = 0;
    for (let j = 0; j < nN; j++) if (I[j] > NODE_CUT * Imax) live[nLive++] = j;
    if (fbw && fb) feedbackNodes(fb, fbw, z[r], nodes.R, nodes.dlnR, lnRatio, dlnRatio, lnDv3, live, nLive, nA);

    // 8. the wiggle of the total linear P and its tangents
    knotSpline(Lt, lnPtot, o, m);
    wiggleRow(Wg, eh.lnP, lnPtot, o, m, k, ww, Pwig);
    for (let aa = 0; aa < nA; aa++) {
      const p = A.act[aa];
      let anyK = false;
      if (Ttot) for (let i = 0; i < nk; i++) { dk[i] = Ttot[p * N + o + i] / Ptot[o + i]; if (dk[i] !== 0) anyK = true; }
      if (anyK) knotSpline(Lt, dk, 0, dm);
      const dEH = eh.dlnP;
      wiggleRowTangent(Wg, eh.lnP, anyK ? dk : null, 0, anyK ? dm : null, dEH, aa * N_W, k, ww, dPwig.subarray(aa * nk, (aa + 1) * nk));
    }

    // 9. the one-halo sums S(k) = sum_j I_j W^2 (and the feedback models' SU, SB) with their tangents, on the
    //    one-halo k grid (H1 below), then per output k: the sums (a spline of ln S in ln k), the two-halo term, their
    //    combination (and the feedback response)
    for (let q1 = 0; q1 < n1; q1++) {
      const kk = H1.k[q1];
      let S = 0, SU = 0, SB = 0;
      acc.fill(0);
      if (fbw) { accU.fill(0); accB.fill(0); }
      for (let q = 0; q < nLive; q++) {
        const j = live[q];
        nfwWindowPrepared(kk * rs[j], prep, j * NFW_PREP, win);
        const W = win[0], W2 = W * W, Ij = I[j];
        S += Ij * W2;
        for (let aa = 0, t2 = j * nA; aa < nA; aa++, t2++) acc[aa] += u0[t2] * W2 + W * (u1[t2] * win[1] + u2[t2] * win[2]);
        if (fbw) {
          nfwWindowPrepared(kk * fbw.rsU[j], fbw.prepU, j * NFW_PREP, winU);
          nfwWindowPrepared(kk * fbw.rsB[j], fbw.prepB, j * NFW_PREP, winB);
          const Wu = winU[0], Wb = winB[0] * fbw.F[j] + fbw.fs.v;
          SU += Ij * Wu * Wu;
          SB += Ij * Wb * Wb;
          for (let aa = 0, t2 = j * nA; aa < nA; aa++, t2++) {
            accU[aa] += u0[t2] * Wu * Wu + 2 * Ij * Wu * (winU[1] * fbw.dlnxU[t2] + winU[2] * fbw.cU[j] * fbw.dlncU[t2]);
            const dWb = (winB[1] * fbw.dlnxB[t2] + winB[2] * fbw.cB[j] * fbw.dlncB[t2]) * fbw.F[j] + winB[0] * fbw.dF[t2] + dOf(fbw.fs, aa);
            accB[aa] += u0[t2] * Wb * Wb + 2 * Ij * Wb * dWb;
          }
        }
      }
      if (!(S > 0)) throw new Error(`nonlinear-power/hmcode2020 at z = ${z[r]}: the one-halo sum is ${S} at k = ${kk} /Mpc`);
      lnOneH[q1] = Math.log(S);
      for (let aa = 0; aa < nA; aa++) dOneH[aa * n1 + q1] = acc[aa] / S;
      if (fbw) {
        lnOneHU[q1] = Math.log(SU);
        lnOneHB[q1] = Math.log(SB);
        for (let aa = 0; aa < nA; aa++) { dOneHU[aa * n1 + q1] = accU[aa] / SU; dOneHB[aa * n1 + q1] = accB[aa] / SB; }
      }
    }
    H1.toOutput(lnOneH, dOneH, nA, Sout, dSout);
    if (fbw) {
      H1.toOutput(lnOneHU, dOneHU, nA, SUout, dSUout);
      H1.toOutput(lnOneHB, dOneHB, nA, SBout, dSBout);
    }
    const nf2 = nuFactor.v;
    for (let i = 0; i < nk; i++) {
      const kk = k[i];
      const S = Sout[i], SU = fbw ? SUout[i] : 0, SB = fbw ? SBout[i] : 0;
      for (let aa = 0; aa < nA; aa++) acc[aa] = dSout[aa * nk + i];
      if (fbw) for (let aa = 0; aa < nA; aa++) { accU[aa] = dSUout[aa * nk + i]; accB[aa] = dSBout[aa * nk + i]; }
      const ys = kk / kst.v, ys4 = ys * ys * ys * ys;
      const Dst = ys4 / (1 + ys4);
      const P1 = nf2 * Dst * S;
      // two-halo term
      const Pl = Ptot[o + i], Pw = Pwig[i];
      const E = Math.exp(-kk * kk * sigv2.v);
      const Pdwl = Pl - (1 - E) * Pw;
      const yd = Math.pow(kk / kd.v, N_D);
      const Fd = 1 - (fd.v * yd) / (1 + yd);
      const P2 = Pdwl * Fd;
      if (!(P2 > 0)) throw new Error(`nonlinear-power/hmcode2020 at z = ${z[r]}: the two-halo term is ${P2} at k = ${kk} /Mpc (must be > 0)`);
      const al = alpha.v;
      const p2a = Math.pow(P2, al), p1a = P1 > 0 ? Math.pow(P1, al) : 0;
      const Ssum = p2a + p1a;
      const Phm = Math.pow(Ssum, 1 / al);
      let Pnl = Phm, Rfb = 1, Nn = 0, Dn = 0, Dlk = 1, ylk4 = 0;
      if (fbw) {
        if (opts.feedbackLowKFix) {
          // HMcode's 2023 low-k fix: both vanilla one-halo terms damped by (k/k_*)^4/(1 + (k/k_*)^4), k_* = 0.0561778 h/Mpc
          const ylk = kk / (K_STAR[0] * c.h.v);
          ylk4 = ylk * ylk * ylk * ylk;
          Dlk = ylk4 / (1 + ylk4);
        }
        Nn = Pdwl + Dlk * SB;
        Dn = Pdwl + Dlk * nf2 * SU;
        Rfb = Nn / Dn;
        Pnl = Phm * Rfb;
      }
      value[o + i] = Pnl;
      if (!tangent) continue;
      const dAlphaFactor = Phm * (-Math.log(Ssum) / (al * al) + (p2a * Math.log(P2) + (p1a > 0 ? p1a * Math.log(P1) : 0)) / (al * Ssum));
      for (let aa = 0; aa < nA; aa++) {
        const p = A.act[aa];
        const dPl = Ttot ? Ttot[p * N + o + i] : 0;
        const dPw = dPwig[aa * nk + i];
        const dPdwl = dPl - (1 - E) * dPw - E * kk * kk * dOf(sigv2, aa) * Pw;
        const dyd = -N_D * yd * (dOf(kd, aa) / kd.v);
        const dFd = -(dOf(fd, aa) * yd) / (1 + yd) - (fd.v * dyd) / ((1 + yd) * (1 + yd));
        const dP2 = dPdwl * Fd + Pdwl * dFd;
        const dDst = Dst * (4 / (1 + ys4)) * -(dOf(kst, aa) / kst.v);
        const dP1 = nf2 * (Dst * acc[aa] + S * dDst) + Dst * S * dOf(nuFactor, aa);
        let dPhm = (Phm / Ssum) * (p2a * (dP2 / P2) + (p1a > 0 ? p1a * (dP1 / P1) : 0)) + dAlphaFactor * dOf(alpha, aa);
        if (fbw) {
          const dDlk = Dlk * (4 / (1 + ylk4)) * -(dOf(c.h, aa) / c.h.v);
          const dN = dPdwl + Dlk * accB[aa] + (opts.feedbackLowKFix ? SB * dDlk : 0);
          const dD = dPdwl + Dlk * (nf2 * accU[aa] + SU * dOf(nuFactor, aa)) + (opts.feedbackLowKFix ? nf2 * SU * dDlk : 0);
          dPhm = dPhm * Rfb + Phm * Rfb * (dN / Nn - dD / Dn);
        }
        tangent[p * N + o + i] = dPhm;
      }
    }
    rows.push({
      z: z[r], delta_c: dc.v, Delta_v: Dv.v, sigma8: sigma8.v, sigma_v_Mpc: sigv.v, R_nl_Mpc: Math.exp(lnRnl), n_eff: nEff.v,
      alpha: alpha.v, f_damp: fd.v, k_d_1overMpc: kd.v, k_star_1overMpc: kst.v, eta: eta.v, dolag: dolag.v,
      g_over_a: gA.v / a, G_over_a: GA.v / a, Omega_m_z: OmZ.v,
    });
  }
  return { P: { value, tangent, P: tangent ? Pout : 0 }, rows };
}

/** ln R with sigma^2(R) = delta_c^2: bracket on the lattice table, then Newton in ln R (sigma^2 decreases with R). */
function nonlinearRadius(Lt: Lattice, c: Float64Array, S2T: Float64Array, dc: number, w2: Float64Array, d1: Float64Array, z: number): number {
  const target = 2 * Math.log(dc);
  const lnR0 = Math.log(Lt.R[0]) - N_F * R_STEP * H_K, step = R_STEP * H_K;
  let lo = -Infinity, hi = Infinity, x = NaN;
  for (let j = 0; j + 1 < S2T.length; j++) {
    if (S2T[j] >= dc * dc && S2T[j + 1] < dc * dc) {
      lo = lnR0 + j * step;
      hi = lo + step;
      const f0 = Math.log(S2T[j]) - target, f1 = Math.log(S2T[j + 1]) - target;
      x = lo + (step * f0) / (f0 - f1);
      break;
    }
  }
  if (!Number.isFinite(x)) {
    if (S2T[0] < dc * dc) x = lnR0 - step; // the root lies below the lattice: Newton from its bottom
    else throw new Error(`nonlinear-power/hmcode2020 at z = ${z}: sigma(R) > delta_c up to R = ${Lt.R[Lt.nR - 1]} Mpc; the linear P(k) is far too large`);
  }
  for (let it = 0; it < 100; it++) {
    const [s0, s1] = sigma2At(Lt, c, Math.exp(x), w2, d1);
    const f = Math.log(s0) - target;
    if (f > 0) lo = Math.max(lo, x);
    else hi = Math.min(hi, x);
    let xn = x - f / (s1 / s0);
    if (!(xn > lo && xn < hi) && Number.isFinite(lo) && Number.isFinite(hi)) xn = 0.5 * (lo + hi);
    if (Math.abs(xn - x) < 1e-13) return xn;
    x = xn;
  }
  throw new Error(`nonlinear-power/hmcode2020 at z = ${z}: the non-linear radius sigma(R) = delta_c did not converge`);
}

// ---------------------------------------------------------------------------------------------------------
// baryonic feedback (M21 section 5, one-parameter model)

interface FeedbackScalars {
  theta: Dual;
  fb: Dual;
  fc: Dual;
  /** ln(M/R^3) = ln(4/3 pi rho_crit h^2 Omega_m h) [Msun/h per Mpc^3] */
  lnMperR3: Dual;
}

function feedbackScalars(c: HmcodeCosmology): FeedbackScalars {
  const theta = addC(c.log10_T_AGN!, -7.8);
  const fb = div(c.Omega_b, c.Omega_m);
  // Omega_c = Omega_m - Omega_b - Omega_nu (Omega_nu = f_nu Omega_m)
  const fc = sub(sub(constant(1), fb), c.f_nu);
  const lnMperR3 = add(log(mul(c.Omega_m, mul(c.h, mul(c.h, c.h)))), constant(Math.log((4 / 3) * Math.PI * RHO_CRIT_H2)));
  return { theta, fb, fc, lnMperR3 };
}

interface FeedbackWork {
  prepU: Float64Array;
  prepB: Float64Array;
  rsU: Float64Array;
  cU: Float64Array;
  rsB: Float64Array;
  cB: Float64Array;
  F: Float64Array;
  fs: Dual;
  dlnxU: Float64Array;
  dlncU: Float64Array;
  dlnxB: Float64Array;
  dlncB: Float64Array;
  dF: Float64Array;
}

function feedbackWork(nR: number, nA: number): FeedbackWork {
  const a = () => new Float64Array(nR), b = () => new Float64Array(nR * nA);
  return {
    prepU: new Float64Array(nR * NFW_PREP), prepB: new Float64Array(nR * NFW_PREP),
    rsU: a(), cU: a(), rsB: a(), cB: a(), F: a(), fs: constant(0), dlnxU: b(), dlncU: b(), dlnxB: b(), dlncB: b(), dF: b(),
  };
}

/** The per-node quantities of the two vanilla halo models of the feedback response at redshift z. */
function feedbackNodes(
  s: FeedbackScalars, w: FeedbackWork, z: number, R: Float64Array, dlnR: Float64Array, lnRatio: Float64Array, dlnRatio: Float64Array,
  lnDv3: Dual, live: Int32Array, nLive: number, nA: number,
): void {
  const th = s.theta;
  const ten = (x: Dual) => exp(scale(x, Math.LN10));
  const Bb = mul(addC(scale(th, -0.496), 3.44), ten(scale(addC(scale(th, -0.0371), -0.0671), z)));
  const fstar = mul(addC(scale(th, -0.003), 0.0201), ten(scale(addC(scale(th, 0.0224), 0.409), z)));
  const fs = fstar.v < s.fb.v ? fstar : s.fb;
  w.fs = fs;
  const lnMb = scale(add(addC(scale(th, 1.81), 13.87), scale(addC(scale(th, 0.195), -0.108), z)), Math.LN10);
  const gas = sub(s.fb, fs); // Omega_b/Omega_m - f_*
  const lnBb = log(Bb);
  for (let q = 0; q < nLive; q++) {
    const j = live[q];
    const lnRv = Math.log(R[j]) - lnDv3.v;
    w.cU[j] = B_VANILLA * Math.exp(lnRatio[j]);
    w.cB[j] = Bb.v * Math.exp(lnRatio[j]);
    nfwPrepare(w.cU[j], w.prepU, j * NFW_PREP);
    nfwPrepare(w.cB[j], w.prepB, j * NFW_PREP);
    w.rsU[j] = Math.exp(lnRv) / w.cU[j];
    w.rsB[j] = Math.exp(lnRv) / w.cB[j];
    const lnMu = s.lnMperR3.v + 3 * Math.log(R[j]) - lnMb.v;
    const mu2 = Math.exp(2 * lnMu);
    const fr = mu2 / (1 + mu2);
    w.F[j] = s.fc.v + gas.v * fr;
    for (let aa = 0, t = j * nA; aa < nA; aa++, t++) {
      const dlr = dlnRatio[t];
      w.dlncU[t] = dlr;
      w.dlncB[t] = dOf(lnBb, aa) + dlr;
      w.dlnxU[t] = dlnR[t] - dOf(lnDv3, aa) - w.dlncU[t];
      w.dlnxB[t] = dlnR[t] - dOf(lnDv3, aa) - w.dlncB[t];
      const dlnMu = dOf(s.lnMperR3, aa) + 3 * dlnR[t] - dOf(lnMb, aa);
      w.dF[t] = dOf(s.fc, aa) + dOf(gas, aa) * fr + gas.v * ((2 * mu2) / ((1 + mu2) * (1 + mu2))) * dlnMu;
    }
  }
}
