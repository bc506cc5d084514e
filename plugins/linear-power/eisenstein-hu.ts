/**
 * `linear-power/eisenstein-hu`: the linear matter power spectrum from the Eisenstein & Hu fitting formula
 * for the transfer function (Eisenstein & Hu 1998, ApJ 496, 605; "EH98", equation numbers below), with
 * baryon acoustic wiggles (their eqs. 2-24) or without (the zero-baryon-oscillation form, eqs. 26-31).
 *
 *   P(k, z) = A k^n_s T^2(k) D^2(z),   A such that sigma8 (top hat of 8 Mpc/h, z = 0) = the parameter sigma8,
 *
 * with D(z) (D(0) = 1) from the background input. This is CCL's `transfer_function='eisenstein_hu'`
 * (reference/ccl/README.md); CCL codes EH98 as the authors' public code does in three places where the
 * paper's text differs slightly, and we follow the code so as to match it:
 *   R_d = 31.5 omega_b Theta^-4 (1000 / (1 + z_d)) (eq. 5 written with 1 + z_d instead of z_d),
 *   R_eq with z_eq (no 1 +), and the argument of G in eq. 14 is z_eq/(1 + z_d) (eq. 15 has (1+z_eq)/(1+z_d)).
 * Each changes P(k) by less than 1e-4.
 *
 * Everything is in Mpc units: k [1/Mpc], k_eq, k_Silk [1/Mpc], s [Mpc]. (CCL works in h/Mpc; only the
 * products k s, k/k_eq, k/k_Silk enter, so the result is the same.) Theta = T_cmb / 2.7 K.
 *
 * Cost: the k part is computed once per evaluation, T(k) on the output k grid and on the nodes of the sigma8 rule
 * (sigma8.ts: topHatRule, 544 nodes in x = kR with the window in the weights), and P(k, z) = P(k, 0) D(z)^2 is the
 * row P(k, 0) scaled per z; D is the one background field splined (backgroundFieldAt).
 *
 * Tangents: the k-independent scales (k_eq, s, alpha_c, ...) are scalar duals; per k, the transfer function
 * returns its partial derivatives with respect to those scales in closed form, which are contracted with
 * the scales' tangents (no per-k allocation), in the parameter directions that reach them only (h, Omega_m,
 * Omega_b, T_cmb, n_s, sigma8 of the 19 of a 3x2pt run); P(k, z) gets tangent blocks for those and for D's, the
 * other blocks stay zero. The sigma8 normalisation carries its tangent through the quadrature, R = 8/h included
 * (the rule's nodes k = x/R move with h).
 */
import {
  type Dual, add, addC, constant, div, exp, log, mul, neg, pow, powC, recip, scale, sqrt, sub,
} from '../../core/ad/dual.js';
import type { DualArray } from '../../core/ad/dual-array.js';
import { PLUGIN_API_VERSION, type ParameterSpec, type StagePlugin } from '../../core/plugin/types.js';
import type { Background } from '../contracts/background.js';
import {
  type CosmoQuantity, type Cosmology, type CosmologyRequirements, cosmologyFrom, cosmologyOf, cosmologyProblems, cosmologyReads,
  cosmologyValues, parametersOf, seededCosmology,
} from '../contracts/cosmology.js';
import type { PowerGrid } from '../contracts/power.js';
import { backgroundAtAdjoint, backgroundFieldAt } from '../contracts/background-eval.js';
import {
  type KGridConfig, type ZGridConfig, kGridProblems, kGridSchema, logKGrid, outputZProblems, outputZSchema, zGrid,
  zGridProblems, zGridSchema, linearMatterSchema,
} from '../contracts/power-grid-spec.js';
import { formatPowerGridAt } from '../contracts/power-table.js';
import { describeConfiguredGrid } from '../contracts/power-describe.js';
import { inputDescription, setBy } from '../contracts/describe.js';
import type { StaticDescription } from '../../core/plugin/types.js';
import { topHatRule } from './sigma8.js';
import { EH99_QUANTITIES, type MatterSpecies, eh99Power } from './eisenstein-hu-mdm.js';
import {
  NEUTRINO_SPLIT_PROPERTIES, type NeutrinoSplit, type NeutrinoSplitName, T_NCDM_DEFAULT, neutrinoSplit,
} from '../contracts/neutrinos.js';
import { redrawPowerTables } from '../contracts/power-plot.js';

// ---------------------------------------------------------------------------------------------------------
// 1. The k-independent scales of the fit

/**
 * The cosmology of the fit: the contract's quantities it uses. omega_m, omega_b (physical densities) and
 * Omega_b/Omega_m come from the cosmology contract; Omega_cdm > 0 and Omega_nu = 0 are required (EH98 has
 * a CDM component and no massive neutrinos: a cosmology with them is refused, not silently mis-modelled).
 */
export const EH_SCALE_QUANTITIES = [
  'h', 'Omega_m', 'Omega_b', 'omega_m', 'omega_b', 'Omega_cdm', 'Omega_nu', 'T_cmb',
] as const satisfies readonly CosmoQuantity[];
/** ... and the primordial tilt and sigma8 normalisation (R = 8/h Mpc). */
export const EH_QUANTITIES = [...EH_SCALE_QUANTITIES, 'n_s', 'sigma8'] as const satisfies readonly CosmoQuantity[];

/** A Cosmology, or parameter values (numbers or Duals; a missing one takes the contract's default). */
export type EHCosmology = Cosmology | { h: Dual | number; Omega_m: Dual | number; Omega_b: Dual | number; T_cmb: Dual | number };

const isCosmology = (x: object): x is Cosmology => typeof (x as { get?: unknown }).get === 'function';
const asCosmology = (x: EHCosmology | EHPowerParams): Cosmology =>
  isCosmology(x) ? x : cosmologyFrom(x);

/** Scales of the fit with baryon wiggles (EH98 section 3). */
export interface EHWiggleScales {
  readonly kind: 'wiggles';
  /** eq. 3 [1/Mpc] */ readonly keq: Dual;
  /** sound horizon at the drag epoch, eq. 6 [Mpc] */ readonly s: Dual;
  /** CDM suppression and log shift, eqs. 11-12 */ readonly alphaC: Dual; readonly betaC: Dual;
  /** baryon suppression and envelope shift, eqs. 14, 24 */ readonly alphaB: Dual; readonly betaB: Dual;
  /** node shift, eq. 23 */ readonly betaNode: Dual;
  /** Silk damping scale, eq. 7 [1/Mpc] */ readonly kSilk: Dual;
  /** Omega_b / Omega_m */ readonly fb: Dual;
  /** z_drag, eq. 4 (reported, not used per k) */ readonly zDrag: Dual;
}

/** Scales of the zero-baryon-oscillation ("no-wiggle") fit (EH98 section 4.2). */
export interface EHNoWiggleScales {
  readonly kind: 'no-wiggles';
  /** Theta^2 / (Omega_m h^2) [Mpc]: q = k qScale / gamma_eff-factor (eq. 28 in 1/Mpc) */ readonly qScale: Dual;
  /** eq. 31 */ readonly alphaGamma: Dual;
  /** approximate sound horizon, eq. 26 [Mpc] */ readonly sApprox: Dual;
}

export type EHScales = EHWiggleScales | EHNoWiggleScales;

/** What the fit requires beyond the contract's ranges and cross-checks. */
function ehRequirements(wiggles: boolean): CosmologyRequirements {
  return {
    Omega_cdm_positive: 'for the EH98 fit (f_c = 1 - f_b > 0)',
    Omega_b_positive: wiggles ? 'for the EH98 fit with wiggles (use with.wiggles: false for no baryons)' : undefined,
    no_massive_neutrinos:
      'in the EH98 fit (Eisenstein & Hu 1998 have none). For m_nu > 0 set with.transfer: "eh99" (their 1999 ' +
      'mixed-dark-matter fit, no wiggles: with.wiggles: false) or use the Boltzmann stage or an external P(k) ' +
      'through linear-power/grid',
  };
}

/** Problems of a cosmology for the fit (contract ranges and cross-checks, and the fit's requirements), naming the parameter. */
export function ehParameterProblems(values: Partial<Record<string, number>>, wiggles: boolean, quantities: readonly CosmoQuantity[] = EH_SCALE_QUANTITIES): string[] {
  return cosmologyProblems(values, quantities, ehRequirements(wiggles));
}

const valuesOf = (c: Cosmology, quantities: readonly CosmoQuantity[]) => Object.fromEntries(parametersOf(quantities).map((p) => [p, c[p].v]));

/** The scales of EH98 as duals (tangents follow those of the cosmology's h, Omega_m, Omega_b, T_cmb). */
export function ehScales(cosmo: EHCosmology, wiggles = true): EHScales {
  const c = asCosmology(cosmo);
  const problems = ehParameterProblems(valuesOf(c, EH_SCALE_QUANTITIES), wiggles);
  if (problems.length) throw new Error(`linear-power/eisenstein-hu: ${problems.join('; ')}`);
  const Om = c.Omega_m, Ob = c.Omega_b, Tcmb = c.T_cmb;
  const om = c.omega_m; // omega_m = Omega_m h^2
  const ob = c.omega_b; // omega_b = Omega_b h^2
  const fb = div(Ob, Om);
  const theta = scale(Tcmb, 1 / 2.7);
  const th2 = mul(theta, theta);

  if (!wiggles) {
    // eq. 26: s ~ 44.5 ln(9.83/omega_m) / sqrt(1 + 10 omega_b^(3/4)) Mpc
    const sApprox = div(scale(log(recip(om, 9.83)), 44.5), sqrt(addC(scale(powC(ob, 0.75), 10), 1)));
    // eq. 31: alpha_Gamma = 1 - 0.328 ln(431 omega_m) f_b + 0.38 ln(22.3 omega_m) f_b^2
    const alphaGamma = add(
      sub(constant(1), mul(scale(log(scale(om, 431)), 0.328), fb)),
      mul(scale(log(scale(om, 22.3)), 0.38), mul(fb, fb)),
    );
    return { kind: 'no-wiggles', qScale: div(th2, om), alphaGamma, sApprox };
  }

  const th4 = mul(th2, th2);
  const zeq = scale(div(om, th4), 2.5e4); // eq. 2
  const keq = scale(div(om, th2), 0.0746); // eq. 3 [1/Mpc]
  // eq. 4: drag epoch
  const b1 = mul(scale(powC(om, -0.419), 0.313), addC(scale(powC(om, 0.674), 0.607), 1));
  const b2 = scale(powC(om, 0.223), 0.238);
  const zDrag = div(mul(scale(powC(om, 0.251), 1291), addC(mul(b1, pow(ob, b2)), 1)), addC(scale(powC(om, 0.828), 0.659), 1));
  // eq. 5: R(z) = 31.5 omega_b Theta^-4 (z/10^3)^-1, at z_eq and (as EH's code) at 1 + z_d
  const R1000 = scale(div(ob, th4), 31.5e3);
  const Req = div(R1000, zeq);
  const Rd = div(R1000, addC(zDrag, 1));
  // eq. 6: s = 2/(3 k_eq) sqrt(6/R_eq) ln[(sqrt(1+R_d) + sqrt(R_d+R_eq)) / (1 + sqrt(R_eq))]
  const s = mul(
    mul(recip(scale(keq, 3), 2), sqrt(recip(Req, 6))),
    log(div(add(sqrt(addC(Rd, 1)), sqrt(add(Rd, Req))), addC(sqrt(Req), 1))),
  );
  // eq. 7: k_Silk = 1.6 omega_b^0.52 omega_m^0.73 [1 + (10.4 omega_m)^-0.95] /Mpc
  const kSilk = scale(mul(mul(powC(ob, 0.52), powC(om, 0.73)), addC(powC(scale(om, 10.4), -0.95), 1)), 1.6);
  // eq. 11: alpha_c = a1^(-f_b) a2^(-f_b^3)
  const a1 = mul(powC(scale(om, 46.9), 0.67), addC(powC(scale(om, 32.1), -0.532), 1));
  const a2 = mul(powC(scale(om, 12.0), 0.424), addC(powC(scale(om, 45.0), -0.582), 1));
  const alphaC = exp(neg(add(mul(fb, log(a1)), mul(mul(fb, mul(fb, fb)), log(a2)))));
  // eq. 12: beta_c^-1 = 1 + b1 (f_c^b2 - 1), f_c = 1 - f_b
  const bb1 = recip(addC(powC(scale(om, 458), -0.708), 1), 0.944);
  const bb2 = powC(scale(om, 0.395), -0.0266);
  const betaC = recip(addC(mul(bb1, addC(pow(sub(constant(1), fb), bb2), -1)), 1));
  // eq. 15: G(y) = y [-6 sqrt(1+y) + (2+3y) ln((sqrt(1+y)+1)/(sqrt(1+y)-1))], y = z_eq/(1+z_d) (EH's code)
  const y = div(zeq, addC(zDrag, 1));
  const sq = sqrt(addC(y, 1));
  const G = mul(y, add(scale(sq, -6), mul(addC(scale(y, 3), 2), log(div(addC(sq, 1), addC(sq, -1))))));
  // eq. 14: alpha_b = 2.07 k_eq s (1 + R_d)^(-3/4) G
  const alphaB = scale(mul(mul(keq, s), mul(powC(addC(Rd, 1), -0.75), G)), 2.07);
  // eq. 24: beta_b = 0.5 + f_b + (3 - 2 f_b) sqrt((17.2 omega_m)^2 + 1)
  const betaB = add(addC(fb, 0.5), mul(addC(scale(fb, -2), 3), sqrt(addC(powC(scale(om, 17.2), 2), 1))));
  // eq. 23: beta_node = 8.41 omega_m^0.435
  const betaNode = scale(powC(om, 0.435), 8.41);
  return { kind: 'wiggles', keq, s, alphaC, betaC, alphaB, betaB, betaNode, kSilk, fb, zDrag };
}

// ---------------------------------------------------------------------------------------------------------
// 2. T(k) at one k, with partial derivatives with respect to the scales (plain numbers, no allocation)

/** Order of the partial derivatives of the wiggled T(k). */
const W_KEQ = 0, W_S = 1, W_AC = 2, W_BC = 3, W_AB = 4, W_BB = 5, W_BN = 6, W_KS = 7, W_FB = 8;

interface WiggleValues {
  keq: number; s: number; alphaC: number; betaC: number; alphaB: number; betaB: number; betaNode: number; kSilk: number; fb: number;
  /** ln(13.41 k_eq), ln k_Silk, beta_b^3, beta_node^3 (per evaluation, not per k) */
  lnQ: number; lnKSilk: number; bb3: number; bn3: number;
}

/**
 * EH98 eq. 16: T = f_b T_b + f_c T_c at k [1/Mpc] (lnk = ln k); when d is given, d[W_*] = dT/d(scale).
 * The three T0(k; a, b) of eqs. 17-21 (eq. 19: T0 = L/(L + C q^2), L = ln(e + 1.8 b q), C = 14.2/a + 386/(1 + 69.9 q^1.08))
 * share q^1.08 and, for b = beta_c, L: two logarithms and one power per k.
 */
function transferWiggles(k: number, lnk: number, c: WiggleValues, d: Float64Array | null): number {
  const q = k / (13.41 * c.keq); // eq. 10
  const x = k * c.s;
  const q2 = q * q;
  const qp = 69.9 * Math.exp(1.08 * (lnk - c.lnQ)); // 69.9 q^1.08
  const C0 = 386 / (1 + qp);
  const ebB = Math.E + 1.8 * c.betaC * q, eb1 = Math.E + 1.8 * q;
  const LB = Math.log(ebB), L1 = Math.log(eb1);
  const Ca = 14.2 + C0, Cc = 14.2 / c.alphaC + C0;
  const denA = LB + Ca * q2, denB = LB + Cc * q2, den1 = L1 + Ca * q2;
  // CDM, eqs. 17-18: T_c = f T0(k; 1, beta_c) + (1 - f) T0(k; alpha_c, beta_c), f = 1/(1 + (k s/5.4)^4)
  const Ta = LB / denA, Tb0 = LB / denB;
  const r = x / 5.4, r2 = r * r, r4 = r2 * r2;
  const f = 1 / (1 + r4);
  const Tc = f * Ta + (1 - f) * Tb0;
  // baryons, eq. 21: T_b = [T0(k;1,1)/(1 + (k s/5.2)^2) + alpha_b/(1 + (beta_b/k s)^3) e^{-(k/k_Silk)^1.4}] j0(k s~)
  const T11 = L1 / den1;
  const y = x / 5.2;
  const env = 1 / (1 + y * y);
  const A1 = T11 * env;
  const x3 = x * x * x;
  const g = x3 / (x3 + c.bb3); // = 1/(1 + (beta_b/x)^3)
  const ks14 = Math.exp(1.4 * (lnk - c.lnKSilk)); // (k/k_Silk)^1.4
  const e = Math.exp(-ks14);
  const A2 = c.alphaB * g * e;
  // eq. 22: s~ = s / [1 + (beta_node/(k s))^3]^(1/3), so k s~ = x^2 / (x^3 + beta_node^3)^(1/3)
  const xt = (x * x) / Math.cbrt(x3 + c.bn3);
  let j: number, dj = 0;
  if (xt < 1e-2) {
    // j0(u) = sin u/u and j0'(u) by their series
    const u2 = xt * xt;
    j = 1 - u2 / 6 + (u2 * u2) / 120;
    if (d) dj = -xt / 3 + (u2 * xt) / 30;
  } else {
    const sn = Math.sin(xt);
    j = sn / xt;
    if (d) dj = (Math.cos(xt) - j) / xt;
  }
  const Tb = (A1 + A2) * j;
  const T = c.fb * Tb + (1 - c.fb) * Tc;
  if (d) {
    const fb = c.fb, fc = 1 - c.fb;
    // partials of the three T0: dT0/dq, and dT0/da, dT0/db where they enter
    const dCdq = (-386 * 1.08 * qp) / (q * (1 + qp) * (1 + qp));
    const dLBdq = (1.8 * c.betaC) / ebB, dLBdb = (1.8 * q) / ebB;
    const iA2 = 1 / (denA * denA), iB2 = 1 / (denB * denB), i12 = 1 / (den1 * den1);
    const dTa_dq = (Ca * q2 * dLBdq - LB * q2 * dCdq - 2 * LB * Ca * q) * iA2;
    const dTa_db = Ca * q2 * iA2 * dLBdb;
    const dTb0_dq = (Cc * q2 * dLBdq - LB * q2 * dCdq - 2 * LB * Cc * q) * iB2;
    const dTb0_da = (LB * q2 * 14.2 * iB2) / (c.alphaC * c.alphaC);
    const dTb0_db = Cc * q2 * iB2 * dLBdb;
    const dT11_dq = (Ca * q2 * (1.8 / eb1) - L1 * q2 * dCdq - 2 * L1 * Ca * q) * i12;
    const dfdx = (-4 * r4 * f * f) / x;
    const dTc_dq = f * dTa_dq + (1 - f) * dTb0_dq;
    const dTc_dx = dfdx * (Ta - Tb0);
    const dA1_dx = (-T11 * 2 * x * env * env) / (5.2 * 5.2);
    const xb = x3 + c.bb3, xn = x3 + c.bn3;
    const dg_dx = (3 * x * x * c.bb3) / (xb * xb);
    const dxt_dx = xt * (2 / x - (x * x) / xn);
    const dTb_dq = dT11_dq * env * j;
    const dTb_dx = (dA1_dx + c.alphaB * e * dg_dx) * j + (A1 + A2) * dj * dxt_dx;
    d[W_KEQ] = (fb * dTb_dq + fc * dTc_dq) * (-q / c.keq);
    d[W_S] = (fb * dTb_dx + fc * dTc_dx) * k;
    d[W_AC] = fc * (1 - f) * dTb0_da;
    d[W_BC] = fc * (f * dTa_db + (1 - f) * dTb0_db);
    d[W_AB] = fb * g * e * j;
    d[W_BB] = fb * c.alphaB * e * ((-3 * c.betaB * c.betaB * x3) / (xb * xb)) * j;
    d[W_BN] = fb * (A1 + A2) * dj * xt * ((-c.betaNode * c.betaNode) / xn);
    d[W_KS] = fb * c.alphaB * g * e * ((1.4 * ks14) / c.kSilk) * j;
    d[W_FB] = Tb - Tc;
  }
  return T;
}

/**
 * EH98 eqs. 28-30 (in 1/Mpc): q = k Theta^2 / (omega_m gamma), gamma = alpha_G + (1 - alpha_G)/(1 + (0.43 k s)^4),
 * T0 = L0/(L0 + C0 q^2), L0 = ln(2e + 1.8 q), C0 = 14.2 + 731/(1 + 62.5 q).
 * d[0..2] = dT/d(qScale, alphaGamma, sApprox).
 */
function transferNoWiggles(k: number, qScale: number, aG: number, sA: number, d: Float64Array | null): number {
  const v = 0.43 * k * sA, v2 = v * v;
  const u = v2 * v2;
  const gam = aG + (1 - aG) / (1 + u);
  const q = (k * qScale) / gam;
  const eb = 2 * Math.E + 1.8 * q;
  const L = Math.log(eb);
  const C = 14.2 + 731 / (1 + 62.5 * q);
  const q2 = q * q;
  const den = L + C * q2;
  const T = L / den;
  if (d) {
    const den2 = den * den;
    const dCdq = (-731 * 62.5) / ((1 + 62.5 * q) * (1 + 62.5 * q));
    const dTdq = ((C * q2 * 1.8) / eb - L * q2 * dCdq - 2 * L * C * q) / den2;
    const dq_dgam = -q / gam;
    d[0] = (dTdq * q) / qScale;
    d[1] = dTdq * dq_dgam * (1 - 1 / (1 + u));
    d[2] = dTdq * dq_dgam * ((-(1 - aG) * 4 * u) / (sA * (1 + u) * (1 + u)));
  }
  return T;
}

// ---------------------------------------------------------------------------------------------------------
// 3. T(k) on an array of k, with tangents in the parameter directions that reach it

function scaleList(sc: EHScales): Dual[] {
  return sc.kind === 'wiggles'
    ? [sc.keq, sc.s, sc.alphaC, sc.betaC, sc.alphaB, sc.betaB, sc.betaNode, sc.kSilk, sc.fb]
    : [sc.qScale, sc.alphaGamma, sc.sApprox];
}

/**
 * The values of the scales, as the per-k kernels read them, and the scales' k-homogeneity: T depends on k only
 * through k/k_eq, k s, k/k_Silk (wiggles) or k qScale, k s (no wiggles), so d T/d ln k = sum_j h_j x_j dT/dx_j with
 * h = (-1, +1, -1) on (k_eq, s, k_Silk) or (+1, +1) on (qScale, sApprox): what a node at k = x/R contributes to the
 * tangent through R.
 */
interface ScaleValues {
  readonly list: Dual[];
  readonly w: WiggleValues | null;
  readonly nw: { q: number; a: number; s: number } | null;
  /** h_j x_j for each scale (0 for the dimensionless ones). */
  readonly lnkWeight: Float64Array;
}

function scaleValues(sc: EHScales): ScaleValues {
  const list = scaleList(sc);
  const lnkWeight = new Float64Array(list.length);
  if (sc.kind === 'wiggles') {
    const w: WiggleValues = {
      keq: sc.keq.v, s: sc.s.v, alphaC: sc.alphaC.v, betaC: sc.betaC.v, alphaB: sc.alphaB.v, betaB: sc.betaB.v,
      betaNode: sc.betaNode.v, kSilk: sc.kSilk.v, fb: sc.fb.v,
      lnQ: Math.log(13.41 * sc.keq.v), lnKSilk: Math.log(sc.kSilk.v), bb3: sc.betaB.v ** 3, bn3: sc.betaNode.v ** 3,
    };
    lnkWeight[W_KEQ] = -w.keq;
    lnkWeight[W_S] = w.s;
    lnkWeight[W_KS] = -w.kSilk;
    return { list, w, nw: null, lnkWeight };
  }
  lnkWeight[0] = sc.qScale.v;
  lnkWeight[2] = sc.sApprox.v;
  return { list, w: null, nw: { q: sc.qScale.v, a: sc.alphaGamma.v, s: sc.sApprox.v }, lnkWeight };
}

/**
 * The parameter directions (tangent columns) that reach a set of scalar duals: the columns where any of them has a
 * non-zero tangent, of P in all. Work arrays are then Pa = cols.length wide instead of P.
 */
interface Columns {
  readonly P: number;
  readonly cols: Int32Array;
}

function columnsOf(xs: readonly Dual[]): Columns {
  const P = xs.reduce((acc, x) => (x.d ? Math.max(acc, x.d.length) : acc), 0);
  const cols: number[] = [];
  for (let p = 0; p < P; p++) if (xs.some((x) => x.d && x.d[p] !== 0)) cols.push(p);
  return { P, cols: Int32Array.from(cols) };
}

/** The tangents of x in the columns cols (length Pa). */
function tangentsIn(x: Dual, cols: Int32Array): Float64Array {
  const out = new Float64Array(cols.length);
  if (x.d) for (let a = 0; a < cols.length; a++) out[a] = x.d[cols[a]];
  return out;
}

/**
 * T at the nodes k (lnk = ln k) into T, and with tangents (dsc: the scales' tangents, scale-major, ns x Pa) the
 * relative tangents dT/T into dlnT (Pa x n, column-major), including, when dlnk is given (Pa: the same d ln k for
 * every node), the move of the nodes.
 */
function transferAt(
  k: Float64Array, lnk: Float64Array, sv: ScaleValues, T: Float64Array,
  tan: { dsc: Float64Array; Pa: number; dlnk: Float64Array | null; dlnT: Float64Array } | null,
): void {
  const n = k.length;
  const ns = sv.list.length;
  const d = tan ? new Float64Array(ns) : null;
  const w = sv.w, nw = sv.nw;
  for (let i = 0; i < n; i++) {
    if (!(k[i] > 0)) throw new Error(`eisenstein-hu: k[${i}] = ${k[i]} must be > 0`);
    const Ti = w ? transferWiggles(k[i], lnk[i], w, d) : transferNoWiggles(k[i], nw!.q, nw!.a, nw!.s, d);
    T[i] = Ti;
    if (!tan || !d) continue;
    const { dsc, Pa, dlnk, dlnT } = tan;
    const iT = 1 / Ti;
    let dTdlnk = 0;
    if (dlnk) for (let j = 0; j < ns; j++) dTdlnk += sv.lnkWeight[j] * d[j];
    for (let a = 0; a < Pa; a++) {
      let t = dlnk ? dTdlnk * dlnk[a] : 0;
      for (let j = 0; j < ns; j++) t += d[j] * dsc[j * Pa + a];
      dlnT[a * n + i] = t * iT;
    }
  }
}

/** The scales' tangents in the columns cols, scale-major (ns x Pa). */
function scaleTangents(sv: ScaleValues, cols: Int32Array): Float64Array {
  const Pa = cols.length;
  const m = new Float64Array(sv.list.length * Pa);
  sv.list.forEach((x, j) => m.set(tangentsIn(x, cols), j * Pa));
  return m;
}

/** T(k) of EH98 from precomputed scales, with tangents. k [1/Mpc] > 0. */
export function transferFromScales(k: Float64Array, sc: EHScales): DualArray {
  const n = k.length;
  const sv = scaleValues(sc);
  const { P, cols } = columnsOf(sv.list);
  const lnk = Float64Array.from(k, Math.log);
  const value = new Float64Array(n);
  if (P === 0) {
    transferAt(k, lnk, sv, value, null);
    return { value, tangent: null, P: 0 };
  }
  const Pa = cols.length;
  const dlnT = new Float64Array(Pa * n);
  transferAt(k, lnk, sv, value, { dsc: scaleTangents(sv, cols), Pa, dlnk: null, dlnT });
  const tangent = new Float64Array(P * n);
  for (let a = 0; a < Pa; a++) {
    const o = cols[a] * n;
    for (let i = 0; i < n; i++) tangent[o + i] = dlnT[a * n + i] * value[i];
  }
  return { value, tangent, P };
}

/** The EH98 transfer function T(k) (k in 1/Mpc), with or without wiggles, tangents following the duals in cosmo. */
export function ehTransfer(k: Float64Array, cosmo: EHCosmology, opts: { wiggles?: boolean } = {}): DualArray {
  return transferFromScales(k, ehScales(cosmo, opts.wiggles ?? true));
}

// ---------------------------------------------------------------------------------------------------------
// 4. Primordial tilt and sigma8 normalisation

export type EHPowerParams =
  | Cosmology
  | { h: Dual | number; Omega_m: Dual | number; Omega_b: Dual | number; T_cmb: Dual | number; n_s: Dual | number; sigma8: Dual | number };

/**
 * P(k, z = 0) [Mpc^3] normalised to sigma8, on the k grid (1/Mpc), and the amplitude A of P = A k^n_s T^2.
 *
 *   A = sigma8^2 / sigma^2_shape(R = 8/h Mpc),  sigma^2_shape = sum_i w_i Delta^2_shape(x_i/R),
 *   Delta^2_shape(k) = k^(3+n_s) T^2(k) / (2 pi^2)
 *
 * on the fixed top-hat rule in x = kR (sigma8.ts: topHatRule, the window in the weights), so the nodes k_i = x_i/R
 * move with h: d ln k_i = -d ln R, entering through k^(3+n_s) and T (T's d/d ln k from its scales' homogeneity).
 * Tangents are carried as d ln P per parameter column that reaches P (all others are zero blocks): d ln P =
 * d ln A + ln k d n_s + 2 dT/T. `sigmaRefine` divides the rule's panel widths (convergence tests).
 */
export function ehLinearPowerZ0(
  k: Float64Array,
  params: EHPowerParams,
  opts: { wiggles?: boolean; sigmaRefine?: number } = {},
): { P: DualArray; amplitude: Dual } {
  const c = asCosmology(params);
  const problems = ehParameterProblems(valuesOf(c, EH_QUANTITIES), opts.wiggles ?? true, EH_QUANTITIES);
  if (problems.length) throw new Error(`linear-power/eisenstein-hu: ${problems.join('; ')}`);
  const sc = ehScales(c, opts.wiggles ?? true);
  const ns = c.n_s, sigma8 = c.sigma8, h = c.h;
  const sv = scaleValues(sc);
  const { P, cols } = columnsOf([...sv.list, ns, sigma8, h]);
  const Pa = cols.length;
  const dsc = Pa ? scaleTangents(sv, cols) : null;
  const dns = tangentsIn(ns, cols), ds8 = tangentsIn(sigma8, cols);
  const dlnR = tangentsIn(h, cols).map((t) => -t / h.v); // R = 8/h

  // sigma^2 of the shape on the top-hat rule, R = 8/h Mpc
  const rule = topHatRule(opts.sigmaRefine);
  const m = rule.x.length;
  const lnR = Math.log(8 / h.v);
  const kr = new Float64Array(m), lnkr = new Float64Array(m), Tr = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    lnkr[i] = rule.lnx[i] - lnR;
    kr[i] = Math.exp(lnkr[i]);
  }
  const dlnTr = dsc ? new Float64Array(Pa * m) : null;
  const dlnk = dlnR.map((t) => -t);
  transferAt(kr, lnkr, sv, Tr, dsc ? { dsc, Pa, dlnk, dlnT: dlnTr! } : null);
  const inv2pi2 = 1 / (2 * Math.PI * Math.PI);
  let var8 = 0;
  const dvar8 = new Float64Array(Pa);
  for (let i = 0; i < m; i++) {
    const wD = rule.w[i] * Math.exp((3 + ns.v) * lnkr[i]) * Tr[i] * Tr[i] * inv2pi2;
    var8 += wD;
    if (dlnTr) for (let a = 0; a < Pa; a++) dvar8[a] += wD * ((3 + ns.v) * dlnk[a] + lnkr[i] * dns[a] + 2 * dlnTr[a * m + i]);
  }
  // A = sigma8^2 / sigma^2_shape: d ln A = 2 d sigma8/sigma8 - d sigma^2/sigma^2
  const A = (sigma8.v * sigma8.v) / var8;
  const dlnA = Float64Array.from(cols, (_, a) => (2 * ds8[a]) / sigma8.v - dvar8[a] / var8);

  // P(k, 0) = A k^n_s T^2 on the output grid
  const n = k.length;
  const lnk = Float64Array.from(k, Math.log);
  const T = new Float64Array(n);
  const dlnT = dsc ? new Float64Array(Pa * n) : null;
  transferAt(k, lnk, sv, T, dsc ? { dsc, Pa, dlnk: null, dlnT: dlnT! } : null);
  const value = new Float64Array(n);
  for (let i = 0; i < n; i++) value[i] = A * Math.exp(ns.v * lnk[i]) * T[i] * T[i];
  let tangent: Float64Array | null = null;
  let amplitude: Dual = { v: A, d: null };
  if (P > 0) {
    tangent = new Float64Array(P * n);
    for (let a = 0; a < Pa; a++) {
      const o = cols[a] * n;
      for (let i = 0; i < n; i++) tangent[o + i] = value[i] * (dlnA[a] + lnk[i] * dns[a] + 2 * (dlnT ? dlnT[a * n + i] : 0));
    }
    const dA = new Float64Array(P);
    for (let a = 0; a < Pa; a++) dA[cols[a]] = A * dlnA[a];
    amplitude = { v: A, d: dA };
  }
  return { P: { value, tangent, P: tangent ? P : 0 }, amplitude };
}

/** True when block p of a tangent (P blocks of n) has a non-zero entry. */
function blockNonZero(t: Float64Array, p: number, n: number): boolean {
  for (let i = p * n, e = i + n; i < e; i++) if (t[i] !== 0) return true;
  return false;
}

/**
 * P(k, z) = P(k, 0) D(z)^2 on the z-by-k grid (row-major): each row is the k part scaled. Tangents by blocks, only
 * for the parameters that reach P(k, 0) or D (the others stay zero blocks):
 *   dP(k, z)/dtheta_p = dP(k, 0)/dtheta_p D(z)^2 + P(k, 0) 2 D(z) dD(z)/dtheta_p.
 */
export function scaleByGrowth(P0: DualArray, D: DualArray): DualArray {
  const nk = P0.value.length, nz = D.value.length;
  const N = nk * nz;
  const P = P0.tangent ? P0.P : D.tangent ? D.P : 0;
  const value = new Float64Array(N);
  const p0 = P0.value, Dv = D.value;
  for (let iz = 0; iz < nz; iz++) {
    const D2 = Dv[iz] * Dv[iz];
    for (let ik = 0, o = iz * nk; ik < nk; ik++) value[o + ik] = p0[ik] * D2;
  }
  if (!P) return { value, tangent: null, P: 0 };
  const tangent = new Float64Array(P * N);
  const t0 = P0.tangent, tD = D.tangent;
  for (let p = 0; p < P; p++) {
    const hasP0 = t0 !== null && blockNonZero(t0, p, nk);
    const hasD = tD !== null && blockNonZero(tD, p, nz);
    if (!hasP0 && !hasD) continue;
    for (let iz = 0; iz < nz; iz++) {
      const D2 = Dv[iz] * Dv[iz];
      const g = hasD ? 2 * Dv[iz] * tD[p * nz + iz] : 0;
      const o = p * N + iz * nk;
      if (hasP0) {
        const b = p * nk;
        for (let ik = 0; ik < nk; ik++) tangent[o + ik] = t0[b + ik] * D2 + g * p0[ik];
      } else if (g !== 0) {
        for (let ik = 0; ik < nk; ik++) tangent[o + ik] = g * p0[ik];
      }
    }
  }
  return { value, tangent, P };
}

// ---------------------------------------------------------------------------------------------------------
// 5. The stage

export interface EisensteinHuConfig {
  k: KGridConfig;
  z: ZGridConfig;
  wiggles: boolean;
  /** 'eh98' (default: CDM + baryons, with or without wiggles) or 'eh99' (mixed dark matter, massive neutrinos). */
  transfer?: 'eh98' | 'eh99';
  /** Which matter's P(k): 'total' (default) or 'cb' (CDM + baryons; the same as total without massive neutrinos). */
  matter?: MatterSpecies;
  /** The mass split of m_nu (eh99; must match the background's). */
  neutrinos?: { split?: NeutrinoSplitName; T_ncdm?: number };
  output_z: number[];
}

/** The parameters it reads (cosmology contract): h, Omega_m, Omega_b, T_cmb, n_s, sigma8. */
export const EH_PARAMETERS: Record<string, ParameterSpec> = cosmologyReads(EH_QUANTITIES);
/** ... and with transfer: 'eh99' also m_nu (through Omega_nu), N_eff-free, Omega_k, w0, wa (its D1(z)). */
export const EH99_PARAMETERS: Record<string, ParameterSpec> = cosmologyReads(EH99_QUANTITIES);

const isEh99 = (c: Partial<EisensteinHuConfig>) => c.transfer === 'eh99';
/** The mass split of a configuration. */
export const ehSplitOf = (c: Partial<EisensteinHuConfig>): NeutrinoSplit =>
  neutrinoSplit(c.neutrinos?.split ?? 'one-massive', c.neutrinos?.T_ncdm ?? T_NCDM_DEFAULT);

/** sigma8 of CDM + baryons (derived) of the last eh99 evaluation of an output. */
const SIGMA8_CB = new WeakMap<PowerGrid, number>();
export const ehSigma8Cb = (out: PowerGrid): number | undefined => SIGMA8_CB.get(out);

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    k: kGridSchema,
    z: zGridSchema,
    wiggles: {
      type: 'boolean', default: true,
      description: 'true: EH98 with baryon acoustic oscillations (as CCL); false: the no-wiggle form (EH98 section 4.2)',
    },
    transfer: {
      enum: ['eh98', 'eh99'], default: 'eh98',
      description:
        "'eh98': Eisenstein & Hu (1998), CDM + baryons (no massive neutrinos); 'eh99': Eisenstein & Hu (1999) mixed dark " +
        'matter (CDM + baryons + massive neutrinos, scale-dependent growth, no wiggles: needs with.wiggles: false)',
    },
    matter: linearMatterSchema,
    neutrinos: {
      type: 'object', additionalProperties: false, default: {},
      description: 'the mass split of parameters.m_nu (eh99; the same as the background stage\'s with.neutrinos)',
      properties: NEUTRINO_SPLIT_PROPERTIES, // one-massive: N_nu = 1 in EH99; three-degenerate: N_nu = 3
    },
    output_z: outputZSchema,
  },
} as const;

function configProblems(c: EisensteinHuConfig): string[] {
  const out = [...kGridProblems(c.k), ...zGridProblems(c.z), ...outputZProblems(c.output_z, c.z.z_max)];
  if (isEh99(c) && c.wiggles)
    out.push('with.wiggles: true is not available with with.transfer: "eh99" (the Eisenstein & Hu 1999 fit has no baryon wiggles); set with.wiggles: false');
  if (!isEh99(c) && c.neutrinos?.split === 'three-degenerate')
    out.push('with.neutrinos.split is read only with with.transfer: "eh99" (EH98 has no massive neutrinos)');
  return out;
}

/** Problems of the parameters for the configured fit (EH98 refuses m_nu > 0; EH99 needs Omega_cdm > 0). */
function parameterProblems(c: Partial<EisensteinHuConfig>, params: Partial<Record<string, number>>): string[] {
  if (!isEh99(c)) return ehParameterProblems(params, c.wiggles ?? true, EH_QUANTITIES);
  return cosmologyProblems(params, EH99_QUANTITIES, { Omega_cdm_positive: 'for the EH99 fit (f_c > 0)' }, ehSplitOf(c));
}

export const eisensteinHu: StagePlugin<EisensteinHuConfig, { background: Background }, PowerGrid> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'linear-power/eisenstein-hu',
  version: '1.0.0',
  port: 'linear-power',
  description:
    'Linear matter P(k, z) from the Eisenstein & Hu (1998) transfer function (with or without BAO wiggles) times k^n_s, ' +
    'normalised to sigma8 at z = 0 and grown with D(z) from the background; forward-mode tangents.',
  configSchema,
  inputs: { background: 'background' },
  reads: (config) => (isEh99(config) ? EH99_PARAMETERS : EH_PARAMETERS),
  differentiable: 'forward',
  describe: (config, ctx) => {
    const d = describeConfiguredGrid(config, ctx, { background: true });
    const split = isEh99(config) ? splitProblem(config, inputDescription(ctx, 'background')) : null;
    return split ? { ...d, problems: [...(d.problems ?? []), split] } : d;
  },

  check(config, { params }) {
    return [...configProblems(config), ...parameterProblems(config, params)];
  },

  run(ctx): PowerGrid {
    const cfg = ctx.config;
    const problems = configProblems(cfg);
    if (problems.length) throw new Error(`linear-power/eisenstein-hu: invalid config:\n  ${problems.join('\n  ')}`);
    const p = isEh99(cfg) ? cosmologyOf(ctx, ehSplitOf(cfg)) : cosmologyOf(ctx);
    const bg = ctx.inputs.background;
    const k = logKGrid(cfg.k);
    const z = zGrid(cfg.z);
    const zTop = bg.z[bg.z.length - 1];
    if (zTop < cfg.z.z_max)
      throw new Error(
        `linear-power/eisenstein-hu: with.z.z_max = ${cfg.z.z_max} lies beyond the background's grid (up to z = ${zTop}); ` +
          'lower with.z.z_max or raise the background stage\'s z_max',
      );
    const D = backgroundFieldAt(bg, z, 'D');
    if (isEh99(cfg)) {
      const split = ehSplitOf(cfg);
      const pv = cosmologyValues(ctx, EH99_QUANTITIES);
      const problems = parameterProblems(cfg, pv);
      if (problems.length) throw new Error(`linear-power/eisenstein-hu: ${problems.join('; ')}`);
      const c = cosmologyOf(ctx, split);
      splitAgreement(c.Omega_nu.v, bg, cfg);
      // 1. P(k, z)/D(z)^2 of EH99 (T_master^2 and its scale-dependent growth factor), sigma8 of total matter
      const r = eh99Power(k, z, c, { N: split.species, matter: cfg.matter ?? 'total' });
      // 2. times the background's growth of the clustering matter, D(z)^2
      const out: PowerGrid = { k_1overMpc: k, z, P_Mpc3: growRows(r.P, D), source: `eisenstein-hu-1999${cfg.matter === 'cb' ? ' (cb)' : ''}` };
      SIGMA8_CB.set(out, r.sigma8_cb);
      return out;
    }
    // 1. P(k, 0) = A k^n_s T^2(k), normalised to sigma8
    const { P: P0 } = ehLinearPowerZ0(k, p, { wiggles: cfg.wiggles });
    // 2. grow it: P(k, z) = P(k, 0) D(z)^2
    return { k_1overMpc: k, z, P_Mpc3: scaleByGrowth(P0, D), source: cfg.wiggles ? 'eisenstein-hu' : 'eisenstein-hu-nowiggle' };
  },

  vjp(ctx, outputBar) {
    const Pbar = (outputBar as { P_Mpc3?: Float64Array }).P_Mpc3;
    if (!Pbar) return {};
    const cfg = ctx.config;
    if (isEh99(cfg)) {
      const r99 = eh99Adjoint(ctx.inputs.background, logKGrid(cfg.k), zGrid(cfg.z), cfg, cosmologyValues(ctx, EH99_QUANTITIES), Pbar);
      return { inputs: { background: r99.background }, params: r99.params };
    }
    const r = eisensteinHuAdjoint(ctx.inputs.background, logKGrid(cfg.k), zGrid(cfg.z), cfg.wiggles, cosmologyValues(ctx, EH_QUANTITIES), Pbar);
    return { inputs: { background: r.background }, params: r.params };
  },

  redraw: redrawPowerTables,
  // eh99: sigma8 of CDM + baryons, derived (sigma8, the parameter, is that of total matter)
  summarize(output) {
    const s8cb = SIGMA8_CB.get(output);
    return s8cb === undefined ? '' : `${output.source}: sigma8 of CDM + baryons (derived) = ${s8cb.toFixed(6)}`;
  },

  write(output, file, { config }) {
    return { [file]: formatPowerGridAt(output, Float64Array.from(config.output_z)) };
  },
};

// ---------------------------------------------------------------------------------------------------------
// 6. Reverse mode

/**
 * The vector-Jacobian product of P(k, z) = P0(k) D(z)^2:
 *   P0bar_k = sum_z Pbar_zk D_z^2,    Dbar_z = sum_k Pbar_zk 2 D_z P0_k   (then D onto the background's grid);
 * and P0 depends on nothing but this stage's parameters (its cosmology reads: h, Omega_m, Omega_b, T_cmb, n_s,
 * sigma8): its Jacobian is one tangent block per parameter of one forward pass seeded locally in them (the
 * contract's derived quantities omega_m, omega_b carry the dependency Jacobian, the EH98 scales are scalar
 * functions of them, the sigma8 normalisation a fixed rule), so thetabar_j = sum_k P0bar_k dP0_k/dtheta_j at a
 * cost independent of how many parameters the pipeline varies.
 */
export function eisensteinHuAdjoint(
  bg: Background, k: Float64Array, z: Float64Array, wiggles: boolean, values: Record<string, number>, Pbar: Float64Array,
) {
  const nk = k.length, nz = z.length;
  if (Pbar.length !== nk * nz) throw new Error(`linear-power/eisenstein-hu vjp: the bar of P has ${Pbar.length} entries, expected ${nz} x ${nk}`);
  const reads = parametersOf(EH_QUANTITIES);
  const { P: P0 } = ehLinearPowerZ0(k, seededCosmology(values, reads), { wiggles });
  const D = backgroundFieldAt(bg, z, 'D').value;
  const P0bar = new Float64Array(nk), Dbar = new Float64Array(nz);
  for (let iz = 0; iz < nz; iz++) {
    const D2 = D[iz] * D[iz];
    let db = 0;
    for (let ik = 0; ik < nk; ik++) {
      const pb = Pbar[iz * nk + ik];
      P0bar[ik] += pb * D2;
      db += pb * P0.value[ik];
    }
    Dbar[iz] = 2 * D[iz] * db;
  }
  const params: Record<string, number> = {};
  reads.forEach((n, j) => {
    let t = 0;
    if (P0.tangent) for (let ik = 0; ik < nk; ik++) t += P0bar[ik] * P0.tangent[j * nk + ik];
    params[n] = t;
  });
  return { background: backgroundAtAdjoint(bg, z, { D: Dbar }), params };
}

// ---------------------------------------------------------------------------------------------------------
// 7. EH99 (with.transfer: "eh99"): growth rows, the split check, reverse mode

/** Before compute: the background's described mass split (background/w0wa describes it) against with.neutrinos. */
function splitProblem(cfg: EisensteinHuConfig, bg: StaticDescription | undefined): string | null {
  const mine = ehSplitOf(cfg);
  const name = cfg.neutrinos?.split ?? 'one-massive';
  const theirs = bg?.neutrino_split, T = bg?.T_ncdm;
  if (typeof theirs === 'string' && theirs !== name)
    return `with.neutrinos.split: "${name}" differs from the background's "${theirs}"${setBy(bg, 'neutrino_split')}; give both stages the same mass split`;
  if (typeof T === 'number' && T !== mine.T_ncdm)
    return `with.neutrinos.T_ncdm: ${mine.T_ncdm} differs from the background's ${T}${setBy(bg, 'T_ncdm')}; give both stages the same T_ncdm`;
  return null;
}

/** The background's Omega_nu (its mass split) must be this stage's: the two stages would model different neutrinos. */
function splitAgreement(Onu: number, bg: Background, cfg: EisensteinHuConfig): void {
  const b = bg.Omega_nu?.v;
  if (b === undefined || Math.abs(b - Onu) <= 1e-12 * Math.max(Math.abs(Onu), 1e-30)) return;
  throw new Error(
    `linear-power/eisenstein-hu: Omega_nu = ${Onu} for with.neutrinos.split = "${cfg.neutrinos?.split ?? 'one-massive'}", ` +
      `but the background stage has Omega_nu = ${b}: give both stages the same with.neutrinos (split and T_ncdm)`,
  );
}

/** P(k, z) = Pt(k, z) D(z)^2 on the z-by-k grid, tangents of both (Pt: nz x nk, D: nz). */
export function growRows(Pt: DualArray, D: DualArray): DualArray {
  const nz = D.value.length, N = Pt.value.length, nk = N / nz;
  const P = Pt.tangent ? Pt.P : D.tangent ? D.P : 0;
  const value = new Float64Array(N);
  for (let iz = 0; iz < nz; iz++) {
    const D2 = D.value[iz] * D.value[iz];
    for (let ik = 0, o = iz * nk; ik < nk; ik++) value[o + ik] = Pt.value[o + ik] * D2;
  }
  if (!P) return { value, tangent: null, P: 0 };
  const tangent = new Float64Array(P * N);
  const tP = Pt.tangent, tD = D.tangent;
  for (let p = 0; p < P; p++) {
    const hasP = tP !== null && blockNonZero(tP, p, N);
    const hasD = tD !== null && blockNonZero(tD, p, nz);
    if (!hasP && !hasD) continue;
    for (let iz = 0; iz < nz; iz++) {
      const D2 = D.value[iz] * D.value[iz];
      const g = hasD ? 2 * D.value[iz] * tD[p * nz + iz] : 0;
      const o = iz * nk, b = p * N + o;
      for (let ik = 0; ik < nk; ik++) tangent[b + ik] = (hasP ? tP[b + ik] * D2 : 0) + g * Pt.value[o + ik];
    }
  }
  return { value, tangent, P };
}

/**
 * The vector-Jacobian product of P(k, z) = Pt(k, z) D(z)^2 (EH99): Ptbar = Pbar D^2 pulled back to this stage's
 * parameters through one forward pass seeded locally in them (EH99_QUANTITIES' parameters: the Jacobian has one
 * block per parameter), Dbar_z = sum_k Pbar 2 D_z Pt (then onto the background's grid).
 */
export function eh99Adjoint(
  bg: Background, k: Float64Array, z: Float64Array, cfg: Partial<EisensteinHuConfig>, values: Record<string, number>, Pbar: Float64Array,
) {
  const nk = k.length, nz = z.length, N = nk * nz;
  if (Pbar.length !== N) throw new Error(`linear-power/eisenstein-hu vjp: the bar of P has ${Pbar.length} entries, expected ${nz} x ${nk}`);
  const reads = parametersOf(EH99_QUANTITIES);
  const split = ehSplitOf(cfg);
  const { P: Pt } = eh99Power(k, z, seededCosmology(values, reads, split), { N: split.species, matter: cfg.matter ?? 'total' });
  const D = backgroundFieldAt(bg, z, 'D').value;
  const Dbar = new Float64Array(nz);
  const Ptbar = new Float64Array(N);
  for (let iz = 0; iz < nz; iz++) {
    let db = 0;
    for (let ik = 0; ik < nk; ik++) {
      const o = iz * nk + ik;
      Ptbar[o] = Pbar[o] * D[iz] * D[iz];
      db += Pbar[o] * Pt.value[o];
    }
    Dbar[iz] = 2 * D[iz] * db;
  }
  const params: Record<string, number> = {};
  reads.forEach((n, j) => {
    let t = 0;
    if (Pt.tangent) for (let i = 0; i < N; i++) t += Ptbar[i] * Pt.tangent[j * N + i];
    params[n] = t;
  });
  return { background: backgroundAtAdjoint(bg, z, { D: Dbar }), params };
}
