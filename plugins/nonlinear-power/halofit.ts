/**
 * `nonlinear-power/halofit`: the non-linear matter power spectrum of Takahashi et al. (2012, ApJ 761, 152;
 * "T12", appendix eqs. A1-A13), a re-fit of Smith et al. (2003, MNRAS 341, 1311; "S03"), computed row by row
 * on the linear P(k, z) grid it is given.
 *
 * For each z, in the order of T12's appendix:
 *   1. Delta_L^2(k) = k^3 P_lin(k)/(2 pi^2).
 *   2. The Gaussian-filtered variance sigma^2(R) = Int dln k Delta_L^2 e^{-k^2 R^2} (T12 eq. A4), and the
 *      non-linear scale k_sigma = 1/R from sigma(R) = 1 (Brent's method in ln R).
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
 * The massive-neutrino terms (Bird et al. 2012) are absent: this stage refuses a cosmology with Omega_nu > 0
 * (the cosmology contract's check), rather than ignore the neutrinos.
 *
 * Omega_m(z) = Omega_m (1+z)^3/E^2 and Omega_de(z) = 1 - Omega_m(z) - Omega_r(z) - Omega_k(z) come from the
 * background input (E with radiation, like CCL and CLASS).
 *
 * sigma(R) integrals: ln P_lin is resampled by a cubic spline in ln k onto a uniform ln k grid spanning the
 * linear grid (`sigma_k_per_decade` points per decade) and integrated with the trapezoidal rule, which
 * converges exponentially for these smooth integrands that vanish at both ends. The grid must reach far
 * enough: a clear error names the missing range otherwise.
 *
 * Tangents: the non-linear scale is a root, so its tangent comes from the implicit-function theorem, not
 * from the iterations: with I_0(ln R, theta) = 1,
 *   d ln R/d theta = -(dI_0/dtheta)|_R / (dI_0/d ln R) = J_0 / (2 I_1),   J_j = Int dln k (dDelta_L^2/dtheta) y^(2j) e^{-y^2},
 * and dI_j = J_j + (2j I_j - 2 I_{j+1}) d ln R. The coefficients are scalar duals; per k, T12's formula
 * returns its partial derivatives with respect to Delta_L^2, ln y and the ten coefficients in closed form.
 */
import {
  type Dual, add, addC, constant, div, exp, mul, neg, powC, scale, sub,
} from '../../core/ad/dual.js';
import { type DualArray, at, logA } from '../../core/ad/dual-array.js';
import { interpRowsDual } from '../../core/ad/interp.js';
import { interpRowsAdjoint } from '../../core/ad/interp-adjoint.js';
import { brent } from '../../core/numerics/root.js';
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

/** I_0 = sigma^2(R) = sum_i w_i Delta2_i exp(-k_i^2 R^2). */
function gaussianVariance(g: SigmaGrid, Delta2: Float64Array, o: number, R: number): number {
  const R2 = R * R;
  let s = 0;
  for (let i = 0; i < g.w.length; i++) s += g.w[i] * Delta2[o + i] * Math.exp(-g.k2[i] * R2);
  return s;
}

/** Relative size, against I_0 = 1, of the part of the I_j integrands beyond the grid at R (tail estimate). */
function truncation(g: SigmaGrid, Delta2: Float64Array, o: number, R: number): { low: number; high: number } {
  const n = g.w.length;
  const y2 = g.k2[n - 1] * R * R;
  // Int_{y}^inf t^6 e^{-t^2} dt/t ~ y^6 e^{-y^2}/(2 y^2) for the highest moment used (I_3); Delta2 ~ slowly varying
  const high = (Delta2[o + n - 1] * Math.pow(y2, 3) * Math.exp(-y2)) / (2 * y2);
  // below k_min Delta2 ~ k^(3 + n) with n > -3: Int ~ Delta2(k_min)/(3 + n) < Delta2(k_min)
  const low = Delta2[o];
  return { low, high };
}

/**
 * Non-linear scale, n_eff and C of one row of Delta2 (on the sigma grid, starting at offset o). tangentAt(p, i)
 * is d ln P/d theta_p at node i of that row (null: the row has no tangent).
 */
function nonlinearScale(
  g: SigmaGrid,
  Delta2: Float64Array,
  o: number,
  P: number,
  tangentAt: ((p: number, i: number) => number) | null,
  where: string,
): NonlinearScale {
  const n = g.w.length;
  const kMin = Math.exp(g.lnk[0]), kMax = Math.exp(g.lnk[n - 1]);
  const f = (lnR: number) => gaussianVariance(g, Delta2, o, Math.exp(lnR)) - 1;
  const lo = -Math.log(kMax), hi = -Math.log(kMin);
  const fLo = f(lo), fHi = f(hi);
  if (!(fLo > 0))
    throw new Error(
      `${where}: sigma(R) < 1 already at R = 1/k_max = ${Math.exp(lo).toPrecision(4)} Mpc (sigma^2 = ${(fLo + 1).toPrecision(4)}); ` +
        `the linear grid (k_max = ${kMax} 1/Mpc) does not reach the non-linear scale: raise the linear stage's k_max`,
    );
  if (!(fHi < 0))
    throw new Error(`${where}: sigma(R) >= 1 even at R = 1/k_min = ${Math.exp(hi).toPrecision(4)} Mpc; the linear P(k) is far too large`);
  const lnR = brent(f, lo, hi, { xtol: 1e-12, rtol: 0, name: `${where}: sigma(R) = 1` });
  const R = Math.exp(lnR);
  const tr = truncation(g, Delta2, o, R);
  if (tr.high > 1e-8)
    throw new Error(
      `${where}: the linear grid ends at k_max = ${kMax.toPrecision(4)} 1/Mpc, too low for the Gaussian sigma(R) ` +
        `integrals at the non-linear scale R = ${R.toPrecision(4)} Mpc (k_max R = ${(kMax * R).toFixed(2)}, need >~ 5.5); raise k_max`,
    );
  if (tr.low > 1e-8)
    throw new Error(
      `${where}: the linear grid starts at k_min = ${kMin.toPrecision(4)} 1/Mpc, where Delta^2 = ${tr.low.toExponential(2)} ` +
        'is not negligible for the sigma(R) integrals; lower k_min',
    );

  // moments I_0..I_3 and the tangent integrals J_0..J_2 at the root
  const R2 = R * R;
  let I0 = 0, I1 = 0, I2 = 0, I3 = 0;
  const J = P > 0 && tangentAt ? new Float64Array(3 * P) : null;
  for (let i = 0; i < n; i++) {
    const y2 = g.k2[i] * R2;
    const a = g.w[i] * Delta2[o + i] * Math.exp(-y2);
    I0 += a;
    I1 += a * y2;
    I2 += a * y2 * y2;
    I3 += a * y2 * y2 * y2;
    if (J && a !== 0)
      for (let p = 0; p < P; p++) {
        const t = a * tangentAt!(p, i); // w Delta2 e^{-y^2} d ln P/d theta
        J[p] += t;
        J[P + p] += t * y2;
        J[2 * P + p] += t * y2 * y2;
      }
  }
  let dlnR: Float64Array | null = null, dI0: Float64Array | null = null, dI1: Float64Array | null = null, dI2: Float64Array | null = null;
  if (J) {
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

// ---------------------------------------------------------------------------------------------------------
// 3. Delta_NL^2 at one k, with partial derivatives (plain numbers, no allocation)

/**
 * T12 eqs. A1-A3 with mu_n = 0: returns Delta_NL^2 and writes d[0] = d/dDelta_L^2, d[1] = d/d ln y,
 * d[2 + C_*] = d/d(coefficient).
 */
function deltaNL(DL: number, y: number, c: Float64Array, d: Float64Array | null): number {
  const an = c[C_AN], bn = c[C_BN], cn = c[C_CN], gam = c[C_GAM], alpha = c[C_ALPHA], beta = c[C_BETA], nu = c[C_NU];
  const f1 = c[C_F1], f2 = c[C_F2], f3 = c[C_F3];
  // two-halo term, eq. A2
  const fy = y / 4 + (y * y) / 8;
  const lp = Math.log1p(DL);
  const DQ = DL * Math.exp(beta * lp - fy) / (1 + alpha * DL);
  // one-halo term, eq. A3
  const lny = Math.log(y);
  const yf2 = Math.exp(f2 * lny);
  const lnG = (3 - gam) * Math.log(cn * f3 * y);
  const G = Math.exp(lnG);
  const Dd = 1 + bn * yf2 + G;
  const nuy = nu / (y * y);
  const M = 1 + nuy;
  const DH = (an * Math.exp(3 * f1 * lny)) / (Dd * M);
  if (d) {
    d[0] = DQ * (1 / DL + beta / (1 + DL) - alpha / (1 + alpha * DL));
    d[1] = -DQ * (y / 4 + (y * y) / 4) + DH * (3 * f1 - (bn * f2 * yf2 + (3 - gam) * G) / Dd + (2 * nuy) / M);
    d[2 + C_AN] = DH / an;
    d[2 + C_BN] = (-DH * yf2) / Dd;
    d[2 + C_CN] = (-DH * (3 - gam) * G) / (cn * Dd);
    d[2 + C_GAM] = (DH * G * Math.log(cn * f3 * y)) / Dd;
    d[2 + C_ALPHA] = (-DQ * DL) / (1 + alpha * DL);
    d[2 + C_BETA] = DQ * lp;
    d[2 + C_NU] = -DH / (y * y * M);
    d[2 + C_F1] = DH * 3 * lny;
    d[2 + C_F2] = (-DH * bn * yf2 * lny) / Dd;
    d[2 + C_F3] = (-DH * (3 - gam) * G) / (f3 * Dd);
  }
  return DQ + DH;
}

// ---------------------------------------------------------------------------------------------------------
// 4. Halofit on a whole P(k, z) grid

export interface HalofitOptions {
  sigma_k_per_decade?: number;
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

/**
 * P_NL on the linear grid. cosmologies[iz] gives Omega_m(z), Omega_de(z), w for row iz (null: only the
 * scales are computed).
 */
export function halofitGrid(
  lin: PowerGrid,
  cosmologies: HalofitCosmology[] | null,
  opts: HalofitOptions = {},
): { P: DualArray; scales: NonlinearScale[] } {
  const k = lin.k_1overMpc, z = lin.z;
  const nk = k.length, nz = z.length, N = nk * nz;
  const Plin = lin.P_Mpc3;
  if (Plin.value.length !== N) throw new Error(`nonlinear-power/halofit: the linear P has ${Plin.value.length} values, expected ${nz} x ${nk}`);
  for (let i = 0; i < N; i++)
    if (!(Plin.value[i] > 0))
      throw new Error(`nonlinear-power/halofit: the linear P(k = ${k[i % nk]}, z = ${z[Math.floor(i / nk)]}) = ${Plin.value[i]} is not > 0`);
  // tangent blocks: those of P_lin, else those of the cosmology duals (e.g. w0 varied over a fixed table)
  let P = Plin.tangent ? Plin.P : 0;
  if (P === 0 && cosmologies)
    for (const c of cosmologies) for (const x of [c.Omega_m, c.Omega_de, c.w]) if (x.d) P = x.d.length;

  // resample ln P_lin onto the uniform sigma grid (all rows, with tangents)
  const g = sigmaGrid(k[0], k[nk - 1], opts.sigma_k_per_decade ?? 200);
  const ng = g.lnk.length;
  const lnk = Float64Array.from(k, Math.log);
  const lnPf = interpRowsDual(lnk, logA(Plin), nz, g.lnk);
  const Delta2 = new Float64Array(nz * ng);
  for (let r = 0; r < nz; r++) for (let i = 0; i < ng; i++) Delta2[r * ng + i] = Math.exp(lnPf.value[r * ng + i]) * g.k3over2pi2[i];
  const blk = nz * ng;

  const value = new Float64Array(N);
  const tangent = P > 0 && cosmologies ? new Float64Array(P * N) : null;
  const scales: NonlinearScale[] = [];
  const coef = new Float64Array(N_COEF);
  const d = new Float64Array(2 + N_COEF);
  const cm = new Float64Array(N_COEF * Math.max(P, 1));
  for (let r = 0; r < nz; r++) {
    const where = `nonlinear-power/halofit at z = ${z[r]}`;
    const tAt = lnPf.tangent ? (p: number, i: number) => lnPf.tangent![p * blk + r * ng + i] : null;
    const s = nonlinearScale(g, Delta2, r * ng, P, tAt, where);
    scales.push(s);
    if (!cosmologies) continue;
    const cl = coefficientList(takahashiCoefficients(s, cosmologies[r]));
    for (let c = 0; c < N_COEF; c++) {
      coef[c] = cl[c].v;
      if (tangent) for (let p = 0; p < P; p++) cm[c * P + p] = cl[c].d ? cl[c].d![p] : 0;
    }
    const R = Math.exp(s.lnR.v);
    const dlnR = s.lnR.d;
    for (let i = 0; i < nk; i++) {
      const idx = r * nk + i;
      const norm = (k[i] * k[i] * k[i]) / (2 * Math.PI * Math.PI);
      const DL = Plin.value[idx] * norm;
      const DNL = deltaNL(DL, k[i] * R, coef, tangent ? d : null);
      value[idx] = DNL / norm;
      if (tangent) {
        for (let p = 0; p < P; p++) {
          let t = d[1] * (dlnR ? dlnR[p] : 0);
          for (let c = 0; c < N_COEF; c++) t += d[2 + c] * cm[c * P + p];
          tangent[p * N + idx] = t / norm + d[0] * (Plin.tangent ? Plin.tangent[p * N + idx] : 0);
        }
      }
    }
  }
  return { P: { value, tangent, P: tangent ? P : 0 }, scales };
}

// ---------------------------------------------------------------------------------------------------------
// 5. The stage

/**
 * The cosmology Halofit reads itself: w0, wa (the (1 + w) terms); Omega_m(z), Omega_de(z) come from the
 * background input. Omega_nu: refused when > 0 (no Bird et al. 2012 correction here).
 */
export const HALOFIT_QUANTITIES = ['w0', 'wa', 'Omega_nu'] as const satisfies readonly CosmoQuantity[];
const HALOFIT_REQUIREMENTS: CosmologyRequirements = { no_massive_neutrinos: 'in Halofit (no Bird et al. 2012 correction)' };

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
  },
} as const;

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
    const { P, scales } = halofitGrid(lin, cos, { sigma_k_per_decade: cfg.sigma_k_per_decade });
    const out: PowerGrid = { k_1overMpc: lin.k_1overMpc, z: lin.z, P_Mpc3: P, source: 'halofit' };
    KEPT_ROOTS.set(out, Float64Array.from(scales, (sc) => sc.lnR.v)); // the roots, for the reverse pass
    return out;
  },

  vjp(ctx, outputBar) {
    const Pbar = (outputBar as { P_Mpc3?: Float64Array }).P_Mpc3;
    if (!Pbar) return {};
    const cfg = ctx.config;
    const values = cosmologyValues(ctx, HALOFIT_QUANTITIES);
    const r = halofitAdjoint(ctx.inputs.linear, ctx.inputs.background, values.w0, values.wa, cfg.w_convention ?? 'w0',
      { sigma_k_per_decade: cfg.sigma_k_per_decade }, ctx.output, Pbar);
    return {
      inputs: { linear: { P_Mpc3: r.PlinBar }, background: r.background },
      params: cosmologyParameterBars(values, { w0: r.w0, wa: r.wa }),
    };
  },

  write(output, file, { config }) {
    return { [file]: formatPowerGridAt(output, Float64Array.from(config.output_z)) };
  },
};

// ---------------------------------------------------------------------------------------------------------
// 6. Reverse mode

/** ln R of each row's root, kept from the forward run (the backward pass needs the root, not its iterations). */
const KEPT_ROOTS = new WeakMap<PowerGrid, Float64Array>();

/**
 * The vector-Jacobian product of Halofit on a grid: Pbar (the bar of P_NL, z-by-k) pulled back to the linear
 * P(k, z), to the background (E at the rows' redshifts, Omega_m, Omega_r, Omega_k) and to w0, wa. Per row, in
 * reverse order of the forward steps:
 *   6'. Delta_NL^2(Delta_L^2, ln y, coefficients): the closed-form partials of deltaNL, transposed: the direct
 *       term into P_lin, the rest into lnRbar and the coefficients' bars;
 *   4'. the coefficients are scalar functions of (n_eff, C, Omega_m(z), Omega_de(z), w): their local Jacobian
 *       (5 seeded scalar duals through takahashiCoefficients) transposed;
 *   3'. n_eff = -3 + 2 I_1/I_0, C = (3 + n_eff)^2 + 4 (I_1 - I_2)/I_0 transposed into I_0..I_2 bars; with
 *       I_j = sum_i w_i Delta_i y_i^(2j) e^(-y_i^2), y = k R, dI_j/d ln R = 2j I_j - 2 I_(j+1);
 *   2'. the root: I_0(ln R, Delta) = 1, so d ln R = J_0/(2 I_1) with J_0 = sum_i a_i d ln Delta_i,
 *       a_i = w_i Delta_i e^(-y_i^2) (implicit-function theorem); transposed, the total bar of ln R becomes
 *       d ln Delta bar_i += lnRbar a_i/(2 I_1), and the direct dependence adds sum_j Ibar_j a_i y_i^(2j);
 *   1'. Delta = e^(ln P_resampled) k^3/(2 pi^2): ln Delta bar is the bar of the resampled ln P, pulled back
 *       through the spline in ln k (core/ad/interp-adjoint.ts) onto ln P_lin, then dP/P.
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
  const g = sigmaGrid(k[0], k[nk - 1], opts.sigma_k_per_decade ?? 200);
  const ng = g.lnk.length;
  const lnk = Float64Array.from(k, Math.log);
  const lnPf = interpRowsDual(lnk, { value: Float64Array.from(Plin, Math.log), tangent: null, P: 0 }, nz, g.lnk).value;
  const roots = KEPT_ROOTS.get(output) ?? Float64Array.from(halofitScales(lin, opts), (sc) => sc.lnR.v);
  const E = backgroundAt(bg, z).E.value;

  const PlinBar = new Float64Array(N);
  const lnPfBar = new Float64Array(nz * ng);
  const Ebar = new Float64Array(nz);
  let OmBar = 0, OrBar = 0, OkBar = 0, w0Bar = 0, waBar = 0;
  const coef = new Float64Array(N_COEF), coefBar = new Float64Array(N_COEF);
  const d = new Float64Array(2 + N_COEF);
  const Delta = new Float64Array(ng);
  // local seeds: the coefficients' Jacobian with respect to (n_eff, C, Omega_m(z), Omega_de(z), w)
  const local = (v: number, j: number): Dual => { const t = new Float64Array(5); t[j] = 1; return { v, d: t }; };
  for (let r = 0; r < nz; r++) {
    let any = false;
    for (let i = 0; i < nk; i++) if (Pbar[r * nk + i] !== 0) { any = true; break; }
    if (!any) continue;
    // the row's forward quantities at the root
    const lnR = roots[r], R = Math.exp(lnR), R2 = R * R;
    let I0 = 0, I1 = 0, I2 = 0, I3 = 0;
    for (let i = 0; i < ng; i++) {
      Delta[i] = Math.exp(lnPf[r * ng + i]) * g.k3over2pi2[i];
      const y2 = g.k2[i] * R2;
      const a = g.w[i] * Delta[i] * Math.exp(-y2);
      I0 += a; I1 += a * y2; I2 += a * y2 * y2; I3 += a * y2 * y2 * y2;
    }
    const nEff = -3 + (2 * I1) / I0;
    const Cv = (3 + nEff) * (3 + nEff) + (4 * (I1 - I2)) / I0;
    const a1 = 1 + z[r], E2 = E[r] * E[r];
    const Omz = (bg.Omega_m.v * a1 * a1 * a1) / E2, Orz = (bg.Omega_r.v * a1 * a1 * a1 * a1) / E2, Okz = (bg.Omega_k.v * a1 * a1) / E2;
    const wz = convention === 'instantaneous' ? w0 + (wa * z[r]) / a1 : w0;
    const tc = coefficientList(takahashiCoefficients(
      { lnR: { v: lnR, d: null }, n_eff: local(nEff, 0), C: local(Cv, 1), sigma2: I0 },
      { Omega_m: local(Omz, 2), Omega_de: local(1 - Omz - Orz - Okz, 3), w: local(wz, 4) },
    ));
    for (let c = 0; c < N_COEF; c++) coef[c] = tc[c].v;
    // 6'. per k
    coefBar.fill(0);
    let lnRbar = 0;
    for (let i = 0; i < nk; i++) {
      const idx = r * nk + i;
      const pb = Pbar[idx];
      if (pb === 0) continue;
      const norm = (k[i] * k[i] * k[i]) / (2 * Math.PI * Math.PI);
      deltaNL(Plin[idx] * norm, k[i] * R, coef, d);
      PlinBar[idx] += pb * d[0]; // value = DNL/norm, DL = P norm
      const t = pb / norm;
      lnRbar += t * d[1];
      for (let c = 0; c < N_COEF; c++) coefBar[c] += t * d[2 + c];
    }
    // 4'. coefficients -> (n_eff, C, Omega_m(z), Omega_de(z), w)
    const lb = new Float64Array(5);
    for (let c = 0; c < N_COEF; c++) {
      const dd = tc[c].d;
      if (dd && coefBar[c] !== 0) for (let j = 0; j < 5; j++) lb[j] += coefBar[c] * dd[j];
    }
    // 3'. (n_eff, C) -> I_0, I_1, I_2
    const nBar = lb[0] + lb[1] * 2 * (3 + nEff);
    const I0bar = (nBar * -2 * I1) / (I0 * I0) - (lb[1] * 4 * (I1 - I2)) / (I0 * I0);
    const I1bar = (nBar * 2) / I0 + (lb[1] * 4) / I0;
    const I2bar = (-lb[1] * 4) / I0;
    // 2'. ln R: total bar (direct + through the moments), then the implicit-function rule into ln Delta
    const L = lnRbar + I0bar * (-2 * I1) + I1bar * (2 * I1 - 2 * I2) + I2bar * (4 * I2 - 2 * I3);
    const rootFactor = L / (2 * I1);
    for (let i = 0; i < ng; i++) {
      const y2 = g.k2[i] * R2;
      const a = g.w[i] * Delta[i] * Math.exp(-y2);
      if (a === 0) continue;
      lnPfBar[r * ng + i] += a * (rootFactor + I0bar + y2 * (I1bar + y2 * I2bar)); // 1'. d ln Delta = d ln P
    }
    // cosmology of the row
    const OmzBar = lb[2] - lb[3], OrzBar = -lb[3], OkzBar = -lb[3];
    OmBar += (OmzBar * a1 * a1 * a1) / E2;
    OrBar += (OrzBar * a1 * a1 * a1 * a1) / E2;
    OkBar += (OkzBar * a1 * a1) / E2;
    Ebar[r] += (-2 / E[r]) * (OmzBar * Omz + OrzBar * Orz + OkzBar * Okz);
    w0Bar += lb[4];
    if (convention === 'instantaneous') waBar += (lb[4] * z[r]) / a1;
  }
  // 1'. resampled ln P -> ln P_lin rows -> P_lin
  const lnPlinBar = new Float64Array(N);
  interpRowsAdjoint(lnk, nz, g.lnk, lnPfBar, lnPlinBar);
  for (let i = 0; i < N; i++) PlinBar[i] += lnPlinBar[i] / Plin[i];
  const bgE = backgroundAtAdjoint(bg, z, { E: Ebar });
  return { PlinBar, background: { ...bgE, Omega_m: OmBar, Omega_r: OrBar, Omega_k: OkBar }, w0: w0Bar, wa: waBar };
}
