/**
 * Reverse mode through PerturbationRhs.point (equations.ts): from the cotangents of the background and thermal
 * quantities of a point (PointBar, indices PB_*; filled by the reverse sweep of equations-transpose.ts) to those of
 * the 15 scalars the point reads (equations.ts NUDGE_*: the base quantities q of setup.ts and the thermal scalars
 * interpolated at x). Exact, one pass; the central differences of adjoint-reads.ts nudgeBars are its test oracle.
 *
 * The point, at the unperturbed parameters (s = 0, no nudge), reads
 *
 *   rho_b = H0^2 Omega_b / a,  rho_c = H0^2 Omega_c / a,  rho_g = H0^2 Omega_g / a^2,  rho_ur = H0^2 Omega_ur / a^2,
 *   rho_rel = H0^2 A / a^2,  rho_ncdm = rho_rel F(M0 a),  p_ncdm = rho_rel G(M0 a),  w = w0 + wa (1 - a),
 *   rho_de = H0^2 Omega_de a^2 exp(-3 (1 + w0 + wa) x - 3 wa (1 - a)),
 *   (aH)^2 = sum rho,  (aH)' = -(1/2) [rho_b + rho_c + 2 (rho_g + rho_ur) + (1 + 3w) rho_de + rho_ncdm + 3 p_ncdm],
 *   inside the table (x >= xMin):  kappa' = e^lk,  kappa'' = kappa' dlk aH,  c_b^2 = cb,  (c_b^2)' = dcb aH,  tau;
 *   above it:  kappa' = e^lk (lk = ln kappa'_early - 2x + nudge),  kappa'' = -2 kappa' aH,
 *              c_b^2 = e^lc,  (c_b^2)' = -c_b^2 aH,  tau = 2 (sqrt(Or + Om a) - sqrt(Or)) / (H0 Om)
 *
 * (rho-hat units, all as in point()); the nudges are additive offsets of q, lk, dlk, cb (ln cb above the table), dcb
 * and tau, so their cotangents are those of these inputs. In both branches kappa'' = kappa' c aH with c independent
 * of lk, and likewise (c_b^2)' above the table, which is why one set of formulas below serves both.
 */
import { fermiDirac } from '../../contracts/neutrinos.js';
import { NUDGE_CB2, NUDGE_DCB2, NUDGE_DLK, NUDGE_LK, NUDGE_TAU, type Point } from './equations.js';
import { type ModeSetup, P_H0, P_NA, P_NM, P_OB, P_OC, P_ODE, P_OG, P_OUR, P_W0, P_WA } from './setup.js';

/** Indices of the cotangents of the Point fields (PointBar). */
export const PB_AH = 0, PB_AHP = 1, PB_RB = 2, PB_RC = 3, PB_RG = 4, PB_RN = 5, PB_RDE = 6, PB_W = 7, PB_KAP = 8,
  PB_KP = 9, PB_CB2 = 10, PB_CB2P = 11, PB_TAU = 12, PB_MA = 13, PB_RREL = 14, PB_RNC = 15, PB_PNC = 16, PB_COUNT = 17;

/**
 * b[0..14] (NUDGE_* order; overwritten) = the cotangents of the read scalars, given pb (PB_* order) the
 * cotangents of the fields of the point p evaluated at x (rhs.point(x, null) with no nudge). fd: 4 doubles of scratch.
 */
export function pointTranspose(S: ModeSetup, x: number, p: Point, pb: Float64Array, b: Float64Array, fd: Float64Array): void {
  const q = S.q0, a = p.a, aH = p.aH;
  b.fill(0);
  let aHb = pb[PB_AH];
  // thermal scalars: d kappa'/d lk = kappa', d kappa''/d lk = kappa'', d kappa''/d dlk = kappa' aH, d kappa''/d aH = kappa''/aH
  const kpb = pb[PB_KP], cpb = pb[PB_CB2P];
  b[NUDGE_LK] = p.kappa * pb[PB_KAP] + p.kappaPrime * kpb;
  aHb += (p.kappaPrime / aH) * kpb + (p.cb2Prime / aH) * cpb;
  if (x >= S.xMin) {
    b[NUDGE_DLK] = p.kappa * aH * kpb;
    b[NUDGE_CB2] = pb[PB_CB2];
    b[NUDGE_DCB2] = aH * cpb;
    b[NUDGE_TAU] = pb[PB_TAU];
  } else {
    // c_b^2 = e^lc: d/d lc of c_b^2 and of (c_b^2)' = -c_b^2 aH
    b[NUDGE_CB2] = p.cb2 * pb[PB_CB2] + p.cb2Prime * cpb;
    // tau = 2 (s1 - s0)/(H0 Om), s1 = sqrt(Or + Om a), s0 = sqrt(Or)
    const taub = pb[PB_TAU];
    if (taub !== 0) {
      const Om = q[P_OB] + q[P_OC], Or = q[P_OG] + q[P_OUR] + q[P_NA];
      const s1 = Math.sqrt(Or + Om * a), s0 = Math.sqrt(Or), H0 = q[P_H0];
      const dOm = a / (s1 * H0 * Om) - p.tau / Om, dOr = (1 / s1 - 1 / s0) / (H0 * Om);
      b[P_H0] += (-p.tau / H0) * taub;
      b[P_OB] += dOm * taub;
      b[P_OC] += dOm * taub;
      b[P_OG] += dOr * taub;
      b[P_OUR] += dOr * taub;
      if (S.ncdm) b[P_NA] += dOr * taub;
    }
  }
  // background: aH = sqrt(sum rho), and (aH)'
  const sb = aHb / (2 * aH), hpb = pb[PB_AHP];
  const rbb = pb[PB_RB] + sb - 0.5 * hpb;
  const rcb = pb[PB_RC] + sb - 0.5 * hpb;
  const rgb = pb[PB_RG] + sb - hpb;
  const rnb = pb[PB_RN] + sb - hpb;
  const rdeb = pb[PB_RDE] + sb - 0.5 * (1 + 3 * p.w) * hpb;
  const wb = pb[PB_W] - 1.5 * p.rde * hpb;
  const H0 = q[P_H0], a2 = a * a;
  let H02b = (p.rb * rbb + p.rc * rcb + p.rg * rgb + p.rn * rnb + p.rde * rdeb) / (H0 * H0);
  b[P_OB] += ((H0 * H0) / a) * rbb;
  b[P_OC] += ((H0 * H0) / a) * rcb;
  b[P_OG] += ((H0 * H0) / a2) * rgb;
  b[P_OUR] += ((H0 * H0) / a2) * rnb;
  // rho_de = H0^2 Omega_de E(x; w0, wa): d ln rho_de/d w0 = -3x, d ln rho_de/d wa = -3x - 3(1 - a)
  const dRdeDOde = q[P_ODE] !== 0 ? p.rde / q[P_ODE] : H0 * H0 * a2 * Math.exp(-3 * (1 + q[P_W0] + q[P_WA]) * x - 3 * q[P_WA] * (1 - a));
  b[P_ODE] += dRdeDOde * rdeb;
  b[P_W0] += wb - 3 * x * p.rde * rdeb;
  b[P_WA] += (1 - a) * wb + (-3 * x - 3 * (1 - a)) * p.rde * rdeb;
  if (S.ncdm) {
    // rho_ncdm = rho_rel F(M0 a), p_ncdm = rho_rel G(M0 a), rho_rel = H0^2 A / a^2
    fermiDirac(p.ma, fd);
    const rncb = pb[PB_RNC] + sb - 0.5 * hpb, pncb = pb[PB_PNC] - 1.5 * hpb;
    const rrelb = pb[PB_RREL] + fd[0] * rncb + fd[2] * pncb;
    const mab = pb[PB_MA] + p.rrel * (fd[1] * rncb + fd[3] * pncb);
    b[P_NM] += a * mab;
    b[P_NA] += ((H0 * H0) / a2) * rrelb;
    H02b += (p.rrel * rrelb) / (H0 * H0);
  }
  b[P_H0] += 2 * H0 * H02b;
}
