/**
 * The mixed-dark-matter fit of Eisenstein & Hu (1999, ApJ 511, 5, "Power spectra for cold dark matter and its
 * variants"; "EH99", equation numbers below): the linear transfer function of CDM + baryons + massive neutrinos,
 * without baryon wiggles, and its scale-dependent growth. `linear-power/eisenstein-hu` runs it with
 * `with.transfer: "eh99"`.
 *
 *   T_master(k) = T_sup(k) B(k)                                   (eq. 24)
 *   T_sup = L / (L + C q_eff^2),  L = ln(e + 1.84 beta_c sqrt(alpha_nu) q_eff),  C = 14.4 + 325/(1 + 60.5 q_eff^1.11)
 *                                                                  (eqs. 17-20)
 *   q_eff = q / gamma,  gamma = sqrt(alpha_nu) + (1 - sqrt(alpha_nu)) / (1 + (0.43 k s)^4)      (eqs. 16-17)
 *   B = 1 + 1.2 f_nu^0.64 N_nu^(0.3 + 0.6 f_nu) / (q_nu^-1.6 + q_nu^0.8),  q_nu = 3.92 q sqrt(N_nu/f_nu)   (eqs. 22-23)
 *   D_cbnu(k, z) = [f_cb^(0.7/p_cb) + (D1/(1 + y_fs))^0.7]^(p_cb/0.7) D1^(1 - p_cb)            (eq. 12)
 *   D_cb(k, z)   = [1 + (D1/(1 + y_fs))^0.7]^(p_cb/0.7) D1^(1 - p_cb)                          (eq. 13)
 *   y_fs = 17.2 f_nu (1 + 0.488 f_nu^(-7/6)) (N_nu q / f_nu)^2                                  (eq. 14)
 *
 * with q = k Theta^2 / (Omega_m h^2) [k in 1/Mpc], alpha_nu of eq. 15, beta_c = 1/(1 - 0.949 f_nub) (eq. 21),
 * p_c, p_cb of eq. 11, s the fitted sound horizon (EH98 eq. 26), 1 + z_eq = 2.5e4 omega_m Theta^-4 and
 * y_d = (1 + z_eq)/(1 + z_drag) (EH98 eq. 4), D1(z) the growth of eq. 4 (normalised to (1 + z_eq)/(1 + z) in
 * matter domination; Omega(z), Omega_Lambda(z) of a w0wa universe without radiation). The constants 1.2 in B and
 * 1.11 in C are those of the authors' public code (power.c); the paper's text is quoted with 1.24 in eq. 22 by
 * some readers: we follow the code, as the EH98 part of this stage does. Not tuned to anything.
 *
 * The growth. EH99's D_cbnu = f_cb D1^(1 - p_cb) W(k, z) with W = [1 + (x/c)^0.7]^(p_cb/0.7), x = D1/(1 + y_fs),
 * c = f_cb^(1/p_cb): the factor f_cb D1^(1 - p_cb) is the growth of a universe whose neutrinos do not cluster
 * (the small-scale limit, y_fs -> inf), which the background stage solves exactly (its D(z): baryons + CDM as
 * the source, w0wa, radiation; D(0) = 1). We keep EH99's scale-dependent factor W and take that limit from the
 * background:
 *
 *   P_m(k, z)  = A k^n_s T_master^2(k) W^2(k, z) D(z)^2,
 *   P_cb(k, z) = P_m(k, z) [W_cb(k, z) / (f_cb W(k, z))]^2,   W_cb = [1 + x^0.7]^(p_cb/0.7)   (= (D_cb/D_cbnu)^2)
 *
 * A normalises sigma8 of total matter at z = 0 (top hat of 8 Mpc/h). With m_nu = 0, W = 1 and this is EH99's
 * zero-neutrino fit grown with D(z) (EH99's massless T_master is not EH98's no-wiggle form: other constants).
 * The module returns P / D(z)^2 (a function of the parameters only); the stage multiplies by D(z)^2.
 *
 * Tangents: the k-independent scalars (q scale, s, alpha_nu, beta_c, f_nu, p_cb, ln c, the y_fs coefficient, D1(z))
 * are scalar duals; per k (and per z for W) the closed-form partials are contracted with their tangents, in the
 * parameter directions that reach them only. No per-element allocation.
 */
import { type Dual, add, addC, constant, div, log, mul, pow, powC, recip, scale, sqrt, sub } from '../../core/ad/dual.js';
import type { DualArray } from '../../core/ad/dual-array.js';
import type { CosmoQuantity, Cosmology } from '../contracts/cosmology.js';
import { topHatRule } from './sigma8.js';

/** The cosmology the fit reads (the massive species from Omega_nu and the split's species count). */
export const EH99_QUANTITIES = [
  'h', 'Omega_m', 'Omega_b', 'omega_m', 'omega_b', 'Omega_cdm', 'Omega_nu', 'T_cmb', 'Omega_k', 'w0', 'wa', 'n_s', 'sigma8',
] as const satisfies readonly CosmoQuantity[];

/** Which matter the output is: total (CDM + baryons + massive neutrinos) or CDM + baryons. */
export type MatterSpecies = 'total' | 'cb';

// ---------------------------------------------------------------------------------------------------------
// 1. The k-independent scalars

interface Scalars {
  /** Theta^2/omega_m [Mpc]: q = k qs */ qs: Dual;
  /** fitted sound horizon (EH98 eq. 26) [Mpc] */ s: Dual;
  /** sqrt(alpha_nu), eq. 15 */ ag: Dual;
  /** eq. 21 */ bc: Dual;
  /** Omega_nu/Omega_m */ fnu: Dual;
  /** p_cb, eq. 11 */ p: Dual;
  /** ln c = ln f_cb / p_cb */ lnc: Dual;
  /** y_fs = Y q^2, eq. 14 */ Y: Dual;
  /** ln f_cb */ lnfcb: Dual;
  /** 1 + z_eq */ zeq1: Dual;
  /** number of degenerate massive species */ N: number;
  /** f_nu > 0: the neutrino terms are active */ massive: boolean;
}

function scalarsOf(c: Cosmology, N: number): Scalars {
  const om = c.omega_m, ob = c.omega_b;
  const theta = scale(c.T_cmb, 1 / 2.7);
  const th2 = mul(theta, theta);
  const fnu = div(c.Omega_nu, c.Omega_m);
  const fb = div(c.Omega_b, c.Omega_m);
  const fc = sub(sub(constant(1), fnu), fb);
  const fcb = sub(constant(1), fnu);
  const fnub = add(fnu, fb);
  // 1 + z_eq = 2.5e4 omega_m Theta^-4 (EH98 eq. 2, as EH's code: "actually 1 + z_eq")
  const zeq1 = scale(div(om, mul(th2, th2)), 2.5e4);
  // z_drag, EH98 eq. 4
  const b1 = mul(scale(powC(om, -0.419), 0.313), addC(scale(powC(om, 0.674), 0.607), 1));
  const b2 = scale(powC(om, 0.223), 0.238);
  const zd = div(mul(scale(powC(om, 0.251), 1291), addC(mul(b1, pow(ob, b2)), 1)), addC(scale(powC(om, 0.828), 0.659), 1));
  const yd1 = addC(div(zeq1, addC(zd, 1)), 1); // 1 + y_d
  // EH98 eq. 26: s = 44.5 ln(9.83/omega_m) / sqrt(1 + 10 omega_b^(3/4)) Mpc
  const s = div(scale(log(recip(om, 9.83)), 44.5), sqrt(addC(scale(powC(ob, 0.75), 10), 1)));
  // eq. 11: p_c, p_cb = (5 - sqrt(1 + 24 f))/4
  const pOf = (f: Dual) => scale(sub(constant(5), sqrt(addC(scale(f, 24), 1))), 0.25);
  const pc = pOf(fc), p = pOf(fcb);
  // eq. 15: alpha_nu
  let an = mul(div(fc, fcb), div(sub(constant(5), scale(add(pc, p), 2)), sub(constant(5), scale(p, 4))));
  an = mul(an, addC(add(scale(fnub, -0.553), scale(powC(fnub, 3), 0.126)), 1));
  const massive = fnu.v > 0;
  if (massive) an = div(an, addC(add(scale(sqrt(scale(fnu, N)), -0.193), scale(fnu, 0.169 * N ** 0.2)), 1));
  an = mul(an, pow(yd1, sub(p, pc)));
  // (1 + (p_c - p_cb)/2 (1 + 1/((3 - 4 p_c)(7 - 4 p_cb))) / (1 + y_d))
  const inner = addC(recip(mul(addC(scale(pc, -4), 3), addC(scale(p, -4), 7))), 1);
  an = mul(an, addC(div(mul(scale(sub(pc, p), 0.5), inner), yd1), 1));
  const ag = sqrt(an);
  const bc = recip(addC(scale(fnub, -0.949), 1)); // eq. 21
  const lnfcb = log(fcb);
  // eq. 14: Y = 17.2 f_nu (1 + 0.488 f_nu^(-7/6)) (N/f_nu)^2 (y_fs = Y q^2); ln c = ln f_cb / p_cb
  const Y = massive ? mul(scale(fnu, 17.2 * N * N), mul(addC(scale(powC(fnu, -7 / 6), 0.488), 1), recip(mul(fnu, fnu)))) : constant(0);
  const lnc = massive ? div(lnfcb, p) : constant(0);
  return { qs: div(th2, om), s, ag, bc, fnu, p, lnc, Y, lnfcb, zeq1, N, massive };
}

/**
 * EH99 eq. 4 (Carroll, Press & Turner 1992): D1(z) = (1 + z_eq)/(1 + z) (5/2) Omega(z) / [Omega^(4/7) - Omega_L +
 * (1 + Omega/2)(1 + Omega_L/70)], with Omega(z) = Omega_m (1+z)^3/E^2, Omega_L(z) = Omega_L f_de(z)/E^2 and
 * E^2 = Omega_m (1+z)^3 + Omega_k (1+z)^2 + Omega_L f_de(z), Omega_L = 1 - Omega_m - Omega_k (no radiation, as EH99),
 * f_de = (1+z)^(3(1 + w0 + wa)) e^(-3 wa z/(1+z)).
 */
function growthD1(c: Cosmology, zeq1: Dual, z: number): Dual {
  const zp = 1 + z;
  const Om = c.Omega_m, Ok = c.Omega_k;
  const OL = sub(sub(constant(1), Om), Ok);
  // ln f_de = 3 (1 + w0 + wa) ln(1+z) - 3 wa z/(1+z)
  const lnfde = add(scale(addC(add(c.w0, c.wa), 1), 3 * Math.log(zp)), scale(c.wa, (-3 * z) / zp));
  const fde = { v: Math.exp(lnfde.v), d: lnfde.d ? lnfde.d.map((t) => t * Math.exp(lnfde.v)) : null };
  const mz = scale(Om, zp ** 3), kz = scale(Ok, zp * zp), lz = mul(OL, fde);
  const E2 = add(add(mz, kz), lz);
  const Omz = div(mz, E2), OLz = div(lz, E2);
  const den = add(sub(powC(Omz, 4 / 7), OLz), mul(addC(scale(Omz, 0.5), 1), addC(scale(OLz, 1 / 70), 1)));
  return scale(div(mul(zeq1, Omz), den), 2.5 / zp);
}

// ---------------------------------------------------------------------------------------------------------
// 2. Per-k kernels: values and partial derivatives, no allocation

/** Partials of T_master: d[M_*] = dT/d(scalar), d[M_LNK] = dT/d ln k at fixed scalars. */
const M_QS = 0, M_S = 1, M_AG = 2, M_BC = 3, M_FNU = 4, M_LNK = 5;
const NM = 6;

interface Values { qs: number; s: number; ag: number; bc: number; fnu: number; N: number; massive: boolean; Bamp: number; lnBampDf: number }

/** T_master at k [1/Mpc] (eqs. 16-24); partials into d when given. */
function masterAt(k: number, v: Values, d: Float64Array | null): number {
  const q = k * v.qs;
  const ks = 0.43 * k * v.s, ks2 = ks * ks;
  const u4 = ks2 * ks2;
  const g = v.ag + (1 - v.ag) / (1 + u4);
  const qe = q / g;
  const eL = Math.E + 1.84 * v.bc * v.ag * qe;
  const L = Math.log(eL);
  const qp = 60.5 * Math.pow(qe, 1.11);
  const C = 14.4 + 325 / (1 + qp);
  const qe2 = qe * qe;
  const den = L + C * qe2;
  const Ts = L / den;
  let B = 1, dBdlnq = 0, dBdf = 0;
  if (v.massive) {
    // eqs. 22-23
    const qn = 3.92 * q * Math.sqrt(v.N / v.fnu);
    const a = Math.pow(qn, -1.6), b = Math.pow(qn, 0.8);
    const Dn = a + b;
    B = 1 + v.Bamp / Dn;
    dBdlnq = (-v.Bamp / (Dn * Dn)) * (-1.6 * a + 0.8 * b); // d B / d ln q_nu
    dBdf = (v.Bamp / Dn) * v.lnBampDf + dBdlnq * (-0.5 / v.fnu);
  }
  const T = Ts * B;
  if (d) {
    const iden2 = 1 / (den * den);
    const dTsdL = C * qe2 * iden2, dTsdC = -L * qe2 * iden2;
    const dLdqe = (1.84 * v.bc * v.ag) / eL;
    const dCdqe = (-325 * 1.11 * qp) / (qe * (1 + qp) * (1 + qp));
    const dTsdqe = dTsdL * dLdqe + dTsdC * dCdqe - 2 * L * C * qe * iden2;
    const dgdu4 = -(1 - v.ag) / ((1 + u4) * (1 + u4));
    const dTs_dlnq = dTsdqe * qe; // q_eff ~ q
    const dTs_dg = dTsdqe * (-qe / g);
    d[M_QS] = (dTs_dlnq * B + Ts * dBdlnq) / v.qs;
    d[M_S] = dTs_dg * dgdu4 * ((4 * u4) / v.s) * B;
    d[M_AG] = (dTsdL * ((1.84 * v.bc * qe) / eL) + dTs_dg * (1 - 1 / (1 + u4))) * B;
    d[M_BC] = dTsdL * ((1.84 * v.ag * qe) / eL) * B;
    d[M_FNU] = Ts * dBdf;
    d[M_LNK] = (dTs_dlnq + dTs_dg * dgdu4 * 4 * u4) * B + Ts * dBdlnq;
  }
  return T;
}

/** Partials of ln W: d[W_P] = d/d p_cb (at fixed ln c), d/d ln c, d/d Y, d/d ln D1, d/d ln q. */
const W_P = 0, W_LNC = 1, W_Y = 2, W_LND1 = 3, W_LNQ = 4;
const NW = 5;

/**
 * ln W = (p/0.7) ln(1 + u^0.7), u = D1 / ((1 + Y q^2) c) (section 1; ln c = 0 gives W_cb).
 * Partials into d when given.
 */
function lnGrowthFactor(q: number, lnD1: number, p: number, lnc: number, Y: number, d: Float64Array | null): number {
  const yq = Y * q * q;
  const lnu = lnD1 - Math.log1p(yq) - lnc;
  const u7 = Math.exp(0.7 * lnu);
  const L = Math.log1p(u7);
  if (d) {
    const pv = (p * u7) / (1 + u7); // d ln W / d ln u
    d[W_P] = L / 0.7;
    d[W_LNC] = -pv;
    d[W_Y] = (-pv * q * q) / (1 + yq);
    d[W_LND1] = pv;
    d[W_LNQ] = (-pv * 2 * yq) / (1 + yq);
  }
  return (p / 0.7) * L;
}

// ---------------------------------------------------------------------------------------------------------
// 3. The grid

/** Tangent columns that any of the duals reaches. */
function columnsOf(xs: readonly Dual[]): { P: number; cols: Int32Array } {
  const P = xs.reduce((acc, x) => (x.d ? Math.max(acc, x.d.length) : acc), 0);
  const cols: number[] = [];
  for (let p = 0; p < P; p++) if (xs.some((x) => x.d && x.d[p] !== 0)) cols.push(p);
  return { P, cols: Int32Array.from(cols) };
}
const tan = (x: Dual, cols: Int32Array): Float64Array => Float64Array.from(cols, (c) => (x.d ? x.d[c] : 0));

export interface Eh99Result {
  /** P(k, z) / D(z)^2 [Mpc^3], row-major z-by-k, of the species asked for. */
  P: DualArray;
  /** sigma8 of CDM + baryons at z = 0 (derived; value only). */
  sigma8_cb: number;
  /** T_master(k) on the output k (value only, for tests). */
  master: Float64Array;
}

/**
 * EH99 P(k, z)/D(z)^2 on the k grid [1/Mpc] x z grid, normalised so that sigma8 of total matter at z = 0 is the
 * cosmology's (D(0) = 1). N = number of degenerate massive species of the mass split.
 */
export function eh99Power(
  k: Float64Array, z: Float64Array, c: Cosmology, opts: { N: number; matter: MatterSpecies; sigmaRefine?: number },
): Eh99Result {
  const sc = scalarsOf(c, opts.N);
  const nk = k.length, nz = z.length;
  const D1 = Array.from(z, (zz) => growthD1(c, sc.zeq1, zz));
  const D10 = growthD1(c, sc.zeq1, 0);
  const lnD1 = D1.map(log), lnD10 = log(D10);
  const h = c.h, ns = c.n_s, s8 = c.sigma8;
  const list = [sc.qs, sc.s, sc.ag, sc.bc, sc.fnu, sc.p, sc.lnc, sc.Y, lnD10, ns, s8, h, sc.lnfcb, ...lnD1];
  const { P, cols } = columnsOf(list);
  const Pa = cols.length;
  // scalar tangents (Pa each)
  const tM = [sc.qs, sc.s, sc.ag, sc.bc, sc.fnu].map((x) => tan(x, cols));
  const tP = tan(sc.p, cols), tC = tan(sc.lnc, cols), tY = tan(sc.Y, cols), tD0 = tan(lnD10, cols);
  const tNs = tan(ns, cols), tS8 = tan(s8, cols), tFcb = tan(sc.lnfcb, cols);
  const tQs = tM[M_QS].map((t) => t / sc.qs.v); // d ln qs
  const dlnk = tan(h, cols).map((t) => t / h.v); // nodes k = x/R, R = 8/h: d ln k = d ln h
  const N = sc.N;
  const Bamp = sc.massive ? 1.2 * Math.pow(sc.fnu.v, 0.64) * Math.pow(N, 0.3 + 0.6 * sc.fnu.v) : 0;
  const vals: Values = {
    qs: sc.qs.v, s: sc.s.v, ag: sc.ag.v, bc: sc.bc.v, fnu: sc.fnu.v, N, massive: sc.massive,
    Bamp, lnBampDf: sc.massive ? 0.64 / sc.fnu.v + 0.6 * Math.log(N) : 0,
  };
  const dm = new Float64Array(NM), dw = new Float64Array(NW);
  const p = sc.p.v, lnc = sc.lnc.v, Y = sc.Y.v;

  // --- sigma8 of total matter (and of CDM + baryons) on the top-hat rule at z = 0
  const rule = topHatRule(opts.sigmaRefine);
  const lnR = Math.log(8 / h.v);
  let var8 = 0, var8cb = 0;
  const dvar8 = new Float64Array(Pa);
  for (let i = 0; i < rule.x.length; i++) {
    const lnkr = rule.lnx[i] - lnR, kr = Math.exp(lnkr);
    const T = masterAt(kr, vals, Pa ? dm : null);
    const q = kr * vals.qs;
    const lnW = sc.massive ? lnGrowthFactor(q, lnD10.v, p, lnc, Y, Pa ? dw : null) : 0;
    const base = (rule.w[i] * Math.exp((3 + ns.v) * lnkr) * T * T) / (2 * Math.PI * Math.PI);
    const wD = base * Math.exp(2 * lnW);
    var8 += wD;
    if (sc.massive) var8cb += base * Math.exp(2 * (lnGrowthFactor(q, lnD10.v, p, 0, Y, null) - sc.lnfcb.v));
    else var8cb += wD;
    if (!Pa) continue;
    const iT = 1 / T;
    for (let a = 0; a < Pa; a++) {
      let dlnT = dm[M_LNK] * dlnk[a];
      for (let j = 0; j < 5; j++) dlnT += dm[j] * tM[j][a];
      let dlnW = 0;
      if (sc.massive) dlnW = dw[W_P] * tP[a] + dw[W_LNC] * tC[a] + dw[W_Y] * tY[a] + dw[W_LND1] * tD0[a] + dw[W_LNQ] * (tQs[a] + dlnk[a]);
      dvar8[a] += wD * ((3 + ns.v) * dlnk[a] + lnkr * tNs[a] + 2 * dlnT * iT + 2 * dlnW);
    }
  }
  const A = (s8.v * s8.v) / var8;
  const dlnA = Float64Array.from({ length: Pa }, (_, a) => (2 * tS8[a]) / s8.v - dvar8[a] / var8);
  const sigma8_cb = s8.v * Math.sqrt(var8cb / var8);

  // --- the grid
  const value = new Float64Array(nz * nk);
  const tangent = P > 0 && Pa > 0 ? new Float64Array(P * nz * nk) : null;
  const master = new Float64Array(nk);
  const dlnTk = new Float64Array(Pa * nk); // d ln T per k (column-major a * nk + ik)
  const base = new Float64Array(nk); // ln A + n_s ln k + 2 ln T
  for (let ik = 0; ik < nk; ik++) {
    const lnk = Math.log(k[ik]);
    const T = masterAt(k[ik], vals, Pa ? dm : null);
    master[ik] = T;
    base[ik] = Math.log(A) + ns.v * lnk + 2 * Math.log(T);
    for (let a = 0; a < Pa; a++) {
      let t = 0;
      for (let j = 0; j < 5; j++) t += dm[j] * tM[j][a];
      dlnTk[a * nk + ik] = dlnA[a] + lnk * tNs[a] + (2 * t) / T;
    }
  }
  const cb = opts.matter === 'cb';
  const dwc = new Float64Array(NW);
  for (let iz = 0; iz < nz; iz++) {
    const tDz = Pa ? tan(lnD1[iz], cols) : null;
    const ld1 = lnD1[iz].v;
    for (let ik = 0; ik < nk; ik++) {
      const q = k[ik] * vals.qs;
      const o = iz * nk + ik;
      let lnP = base[ik];
      if (sc.massive) {
        lnP += 2 * lnGrowthFactor(q, ld1, p, lnc, Y, Pa ? dw : null);
        if (cb) lnP += 2 * (lnGrowthFactor(q, ld1, p, 0, Y, Pa ? dwc : null) - sc.lnfcb.v) - 2 * lnGrowthFactor(q, ld1, p, lnc, Y, null);
      }
      const v = Math.exp(lnP);
      value[o] = v;
      if (!tangent) continue;
      for (let a = 0; a < Pa; a++) {
        let t = dlnTk[a * nk + ik];
        if (sc.massive) {
          const w = cb ? dwc : dw;
          const dlnc = cb ? 0 : tC[a];
          t += 2 * (w[W_P] * tP[a] + w[W_LNC] * dlnc + w[W_Y] * tY[a] + w[W_LND1] * tDz![a] + w[W_LNQ] * tQs[a]);
          if (cb) t -= 2 * tFcb[a];
        }
        tangent[cols[a] * nz * nk + o] = v * t;
      }
    }
  }
  return { P: { value, tangent, P: tangent ? P : 0 }, sigma8_cb, master };
}
