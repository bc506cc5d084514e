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
 * Tangents: the k-independent scales (k_eq, s, alpha_c, ...) are scalar duals; per k, the transfer function
 * returns its partial derivatives with respect to those scales in closed form, which are contracted with
 * the scales' tangents (no per-k allocation). The sigma8 normalisation carries its tangent through the
 * quadrature (sigma8.ts), R = 8/h included.
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
import { backgroundAt, backgroundAtAdjoint } from '../contracts/background-eval.js';
import {
  type KGridConfig, type ZGridConfig, kGridProblems, kGridSchema, logKGrid, outputZProblems, outputZSchema, zGrid,
  zGridProblems, zGridSchema,
} from '../contracts/power-grid-spec.js';
import { formatPowerGridAt } from '../contracts/power-table.js';
import { describeConfiguredGrid } from '../contracts/power-describe.js';
import { sigmaRule, topHatVariance } from './sigma8.js';

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
    no_massive_neutrinos: 'in the EH98 fit (Eisenstein & Hu 1998 have none)',
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

/**
 * EH98 eq. 19-20: T0(k; a, b) = L / (L + C q^2), L = ln(e + 1.8 b q), C = 14.2/a + 386/(1 + 69.9 q^1.08).
 * Writes dT0/dq, dT0/da, dT0/db to out[o..o+2].
 */
function t0(q: number, a: number, b: number, out: Float64Array, o: number): number {
  const eb = Math.E + 1.8 * b * q;
  const L = Math.log(eb);
  const qp = 69.9 * Math.pow(q, 1.08);
  const C = 14.2 / a + 386 / (1 + qp);
  const q2 = q * q;
  const den = L + C * q2;
  const T = L / den;
  const den2 = den * den;
  const dTdL = (C * q2) / den2;
  const dTdC = (-L * q2) / den2;
  const dCdq = (-386 * 1.08 * qp) / (q * (1 + qp) * (1 + qp));
  out[o] = dTdL * ((1.8 * b) / eb) + dTdC * dCdq - (2 * L * C * q) / den2;
  out[o + 1] = (dTdC * -14.2) / (a * a);
  out[o + 2] = dTdL * ((1.8 * q) / eb);
  return T;
}

/** Spherical Bessel j0(u) = sin u / u and its derivative, with series below |u| = 1e-2. */
function j0(u: number): number {
  if (Math.abs(u) < 1e-2) {
    const u2 = u * u;
    return 1 - u2 / 6 + (u2 * u2) / 120;
  }
  return Math.sin(u) / u;
}
function j0Deriv(u: number): number {
  if (Math.abs(u) < 1e-2) return -u / 3 + (u * u * u) / 30;
  return (Math.cos(u) - Math.sin(u) / u) / u;
}

/** Order of the partial derivatives of the wiggled T(k). */
const W_KEQ = 0, W_S = 1, W_AC = 2, W_BC = 3, W_AB = 4, W_BB = 5, W_BN = 6, W_KS = 7, W_FB = 8;

const t0Scratch = new Float64Array(9);

interface WiggleValues {
  keq: number; s: number; alphaC: number; betaC: number; alphaB: number; betaB: number; betaNode: number; kSilk: number; fb: number;
}

/**
 * EH98 eq. 16: T = f_b T_b + f_c T_c at k [1/Mpc]; when d is given, d[W_*] = dT/d(scale).
 */
function transferWiggles(k: number, c: WiggleValues, d: Float64Array | null): number {
  const sc = t0Scratch;
  const q = k / (13.41 * c.keq); // eq. 10
  const x = k * c.s;
  // CDM, eqs. 17-18: T_c = f T0(k; 1, beta_c) + (1 - f) T0(k; alpha_c, beta_c), f = 1/(1 + (k s/5.4)^4)
  const r4 = Math.pow(x / 5.4, 4);
  const f = 1 / (1 + r4);
  const Ta = t0(q, 1, c.betaC, sc, 0);
  const Tb0 = t0(q, c.alphaC, c.betaC, sc, 3);
  const Tc = f * Ta + (1 - f) * Tb0;
  // baryons, eq. 21: T_b = [T0(k;1,1)/(1 + (k s/5.2)^2) + alpha_b/(1 + (beta_b/k s)^3) e^{-(k/k_Silk)^1.4}] j0(k s~)
  const T11 = t0(q, 1, 1, sc, 6);
  const env = 1 / (1 + (x / 5.2) * (x / 5.2));
  const A1 = T11 * env;
  const x3 = x * x * x;
  const bb3 = c.betaB * c.betaB * c.betaB;
  const g = x3 / (x3 + bb3); // = 1/(1 + (beta_b/x)^3)
  const ks14 = Math.pow(k / c.kSilk, 1.4);
  const e = Math.exp(-ks14);
  const A2 = c.alphaB * g * e;
  // eq. 22: s~ = s / [1 + (beta_node/(k s))^3]^(1/3), so k s~ = x^2 / (x^3 + beta_node^3)^(1/3)
  const bn3 = c.betaNode * c.betaNode * c.betaNode;
  const xt = (x * x) / Math.cbrt(x3 + bn3);
  const j = j0(xt);
  const Tb = (A1 + A2) * j;
  const T = c.fb * Tb + (1 - c.fb) * Tc;
  if (d) {
    const fb = c.fb, fc = 1 - c.fb;
    const dj = j0Deriv(xt);
    const dfdx = (-4 * r4 * f * f) / x;
    const dTc_dq = f * sc[0] + (1 - f) * sc[3];
    const dTc_dx = dfdx * (Ta - Tb0);
    const dA1_dx = (-T11 * 2 * x * env * env) / (5.2 * 5.2);
    const dg_dx = (3 * x * x * bb3) / ((x3 + bb3) * (x3 + bb3));
    const dxt_dx = xt * (2 / x - (x * x) / (x3 + bn3));
    const dTb_dq = sc[6] * env * j;
    const dTb_dx = (dA1_dx + c.alphaB * e * dg_dx) * j + (A1 + A2) * dj * dxt_dx;
    d[W_KEQ] = (fb * dTb_dq + fc * dTc_dq) * (-q / c.keq);
    d[W_S] = (fb * dTb_dx + fc * dTc_dx) * k;
    d[W_AC] = fc * (1 - f) * sc[4];
    d[W_BC] = fc * (f * sc[2] + (1 - f) * sc[5]);
    d[W_AB] = fb * g * e * j;
    d[W_BB] = fb * c.alphaB * e * ((-3 * c.betaB * c.betaB * x3) / ((x3 + bb3) * (x3 + bb3))) * j;
    d[W_BN] = fb * (A1 + A2) * dj * xt * ((-c.betaNode * c.betaNode) / (x3 + bn3));
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
  const u = Math.pow(0.43 * k * sA, 4);
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
// 3. T(k) on an array of k, as a DualArray

function scaleList(sc: EHScales): Dual[] {
  return sc.kind === 'wiggles'
    ? [sc.keq, sc.s, sc.alphaC, sc.betaC, sc.alphaB, sc.betaB, sc.betaNode, sc.kSilk, sc.fb]
    : [sc.qScale, sc.alphaGamma, sc.sApprox];
}

/** Tangent blocks of a list of scalar duals, scale-major: out[j*P + p]; null when all are constants. */
function tangentMatrix(xs: Dual[]): { P: number; m: Float64Array } | null {
  const P = xs.reduce((acc, x) => (x.d ? x.d.length : acc), 0);
  if (P === 0) return null;
  const m = new Float64Array(xs.length * P);
  xs.forEach((x, j) => x.d && m.set(x.d, j * P));
  return { P, m };
}

/** T(k) of EH98 from precomputed scales, with tangents. k [1/Mpc] > 0. */
export function transferFromScales(k: Float64Array, sc: EHScales): DualArray {
  const n = k.length;
  const list = scaleList(sc);
  const tm = tangentMatrix(list);
  const ns = list.length;
  const value = new Float64Array(n);
  const dT = new Float64Array(ns);
  const P = tm ? tm.P : 0;
  const tangent = tm ? new Float64Array(P * n) : null;
  const wv: WiggleValues | null =
    sc.kind === 'wiggles'
      ? {
          keq: sc.keq.v, s: sc.s.v, alphaC: sc.alphaC.v, betaC: sc.betaC.v, alphaB: sc.alphaB.v,
          betaB: sc.betaB.v, betaNode: sc.betaNode.v, kSilk: sc.kSilk.v, fb: sc.fb.v,
        }
      : null;
  const nw = sc.kind === 'no-wiggles' ? { q: sc.qScale.v, a: sc.alphaGamma.v, s: sc.sApprox.v } : null;
  for (let i = 0; i < n; i++) {
    if (!(k[i] > 0)) throw new Error(`eisenstein-hu: k[${i}] = ${k[i]} must be > 0`);
    value[i] = wv ? transferWiggles(k[i], wv, tangent ? dT : null) : transferNoWiggles(k[i], nw!.q, nw!.a, nw!.s, tangent ? dT : null);
    if (tangent) {
      const m = tm!.m;
      for (let p = 0; p < P; p++) {
        let t = 0;
        for (let j = 0; j < ns; j++) t += dT[j] * m[j * P + p];
        tangent[p * n + i] = t;
      }
    }
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

/** Unnormalised k^3 k^n_s T^2 / (2 pi^2) (a dimensionless-power shape) from T, with tangents. */
function delta2Shape(k: Float64Array, T: DualArray, ns: Dual): DualArray {
  const n = k.length;
  const P = T.tangent ? T.P : ns.d ? ns.d.length : 0;
  const value = new Float64Array(n);
  const tangent = P ? new Float64Array(P * n) : null;
  const inv2pi2 = 1 / (2 * Math.PI * Math.PI);
  for (let i = 0; i < n; i++) {
    const lk = Math.log(k[i]);
    const Ti = T.value[i];
    const v = Math.exp((3 + ns.v) * lk) * Ti * Ti * inv2pi2;
    value[i] = v;
    if (tangent)
      for (let p = 0, j = i; p < P; p++, j += n) {
        let dl = ns.d ? lk * ns.d[p] : 0; // d ln(shape)
        if (T.tangent) dl += (2 * T.tangent[j]) / Ti;
        tangent[j] = v * dl;
      }
  }
  return { value, tangent, P };
}

/**
 * P(k, z = 0) [Mpc^3] normalised to sigma8, on the k grid (1/Mpc). Returns also the amplitude A of
 * P = A k^n_s T^2 and the unnormalised sigma8 it was divided by.
 */
export function ehLinearPowerZ0(
  k: Float64Array,
  params: EHPowerParams,
  opts: { wiggles?: boolean; sigmaPanels?: number } = {},
): { P: DualArray; amplitude: Dual } {
  const c = asCosmology(params);
  const problems = ehParameterProblems(valuesOf(c, EH_QUANTITIES), opts.wiggles ?? true, EH_QUANTITIES);
  if (problems.length) throw new Error(`linear-power/eisenstein-hu: ${problems.join('; ')}`);
  const sc = ehScales(c, opts.wiggles ?? true);
  const ns = c.n_s, sigma8 = c.sigma8, h = c.h;
  // sigma^2(8 Mpc/h) of the shape, R = 8/h Mpc
  const rule = sigmaRule(opts.sigmaPanels);
  const shapeOnRule = delta2Shape(rule.k, transferFromScales(rule.k, sc), ns);
  const var8 = topHatVariance(rule, shapeOnRule, recip(h, 8));
  // Delta^2 = A' shape with A' = sigma8^2 / sigma^2; P = 2 pi^2 Delta^2 / k^3
  const amplitude = div(mul(sigma8, sigma8), var8);
  const shape = delta2Shape(k, transferFromScales(k, sc), ns);
  const n = k.length;
  const P = shape.tangent ? shape.P : amplitude.d ? amplitude.d.length : 0;
  const value = new Float64Array(n);
  const tangent = P ? new Float64Array(P * n) : null;
  for (let i = 0; i < n; i++) {
    const conv = (2 * Math.PI * Math.PI) / (k[i] * k[i] * k[i]);
    value[i] = amplitude.v * shape.value[i] * conv;
    if (tangent)
      for (let p = 0, j = i; p < P; p++, j += n) {
        let t = amplitude.d ? amplitude.d[p] * shape.value[i] : 0;
        if (shape.tangent) t += amplitude.v * shape.tangent[j];
        tangent[j] = t * conv;
      }
  }
  return { P: { value, tangent, P }, amplitude };
}

/** P(k, z) = P(k, 0) D(z)^2 on the z-by-k grid (row-major), tangents from both factors. */
export function scaleByGrowth(P0: DualArray, D: DualArray): DualArray {
  const nk = P0.value.length, nz = D.value.length;
  const N = nk * nz;
  const P = P0.tangent ? P0.P : D.tangent ? D.P : 0;
  const value = new Float64Array(N);
  const tangent = P ? new Float64Array(P * N) : null;
  for (let iz = 0; iz < nz; iz++) {
    const Dz = D.value[iz];
    const D2 = Dz * Dz;
    for (let ik = 0; ik < nk; ik++) {
      const idx = iz * nk + ik;
      value[idx] = P0.value[ik] * D2;
      if (tangent)
        for (let p = 0; p < P; p++) {
          let t = P0.tangent ? P0.tangent[p * nk + ik] * D2 : 0;
          if (D.tangent) t += 2 * Dz * D.tangent[p * nz + iz] * P0.value[ik];
          tangent[p * N + idx] = t;
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
  output_z: number[];
}

/** The parameters it reads (cosmology contract): h, Omega_m, Omega_b, T_cmb, n_s, sigma8. */
export const EH_PARAMETERS: Record<string, ParameterSpec> = cosmologyReads(EH_QUANTITIES);

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
    output_z: outputZSchema,
  },
} as const;

function configProblems(c: EisensteinHuConfig): string[] {
  return [...kGridProblems(c.k), ...zGridProblems(c.z), ...outputZProblems(c.output_z, c.z.z_max)];
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
  reads: EH_PARAMETERS,
  differentiable: 'forward',
  describe: (config, ctx) => describeConfiguredGrid(config, ctx, { background: true }),

  check(config, { params }) {
    return [...configProblems(config), ...ehParameterProblems(params, config.wiggles, EH_QUANTITIES)];
  },

  run(ctx): PowerGrid {
    const cfg = ctx.config;
    const problems = configProblems(cfg);
    if (problems.length) throw new Error(`linear-power/eisenstein-hu: invalid config:\n  ${problems.join('\n  ')}`);
    const p = cosmologyOf(ctx);
    const bg = ctx.inputs.background;
    const k = logKGrid(cfg.k);
    const z = zGrid(cfg.z);
    const zTop = bg.z[bg.z.length - 1];
    if (zTop < cfg.z.z_max)
      throw new Error(
        `linear-power/eisenstein-hu: with.z.z_max = ${cfg.z.z_max} lies beyond the background's grid (up to z = ${zTop}); ` +
          'lower with.z.z_max or raise the background stage\'s z_max',
      );
    // 1. P(k, 0) = A k^n_s T^2(k), normalised to sigma8
    const { P: P0 } = ehLinearPowerZ0(k, p, { wiggles: cfg.wiggles });
    // 2. grow it: P(k, z) = P(k, 0) D(z)^2
    const { D } = backgroundAt(bg, z);
    return { k_1overMpc: k, z, P_Mpc3: scaleByGrowth(P0, D), source: cfg.wiggles ? 'eisenstein-hu' : 'eisenstein-hu-nowiggle' };
  },

  vjp(ctx, outputBar) {
    const Pbar = (outputBar as { P_Mpc3?: Float64Array }).P_Mpc3;
    if (!Pbar) return {};
    const cfg = ctx.config;
    const r = eisensteinHuAdjoint(ctx.inputs.background, logKGrid(cfg.k), zGrid(cfg.z), cfg.wiggles, cosmologyValues(ctx, EH_QUANTITIES), Pbar);
    return { inputs: { background: r.background }, params: r.params };
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
  const D = backgroundAt(bg, z).D.value;
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
