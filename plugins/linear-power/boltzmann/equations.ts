/**
 * The linear scalar perturbation equations in the synchronous gauge comoving with the cold dark matter
 * (Ma & Bertschinger 1995, ApJ 455, 7: "MB95", section 4), written for the independent variable x = ln a:
 * every conformal-time derivative below is divided by aH = a'/a at the end (d/dx = (1/aH) d/dtau).
 *
 * Units: k [1/Mpc], tau [Mpc], densities as rho_i-hat = (8 pi G / 3) a^2 rho_i [1/Mpc^2], so that
 * (aH)^2 = sum_i rho_i-hat (flat). Variables (MB95 notation): eta (metric), delta_c (theta_c = 0 by the gauge),
 * delta_b, theta_b, photon temperature F_l (delta_g = F_0, theta_g = 3k F_1/4, sigma_g = F_2/2) and
 * polarisation G_l, massless neutrinos F_l likewise, and the PPF variable Gamma of the dark energy.
 *
 *   Einstein (MB95 eq. 21a, b):  h' = (2/aH) [k^2 eta + (3/2) sum rho_i-hat delta_i],
 *                                eta' = (3/2k^2) sum (rho_i-hat + p_i-hat) theta_i
 *   CDM (eq. 42):                delta_c' = -h'/2
 *   baryons (eq. 66):            delta_b' = -theta_b - h'/2,
 *                                theta_b' = -aH theta_b + c_b^2 k^2 delta_b + R kappa' (theta_g - theta_b),  R = 4 rho_g / 3 rho_b
 *   photons (eq. 63):            delta_g' = -(4/3) theta_g - (2/3) h',
 *                                theta_g' = k^2 (delta_g/4 - sigma_g) + kappa' (theta_b - theta_g),
 *                                F_2' = (8/15) theta_g - (3/5) k F_3 + (4/15) h' + (8/5) eta' - (9/5) kappa' sigma_g + (1/10) kappa' (G_0 + G_2),
 *                                F_l' = k/(2l+1) [l F_(l-1) - (l+1) F_(l+1)] - kappa' F_l,
 *                                G_l' = k/(2l+1) [l G_(l-1) - (l+1) G_(l+1)] + kappa' [-G_l + (1/2) Pi (delta_l0 + delta_l2/5)],  Pi = F_2 + G_0 + G_2
 *   neutrinos (eq. 49):          the same without kappa' (and delta_nu, theta_nu, F_nu,l),
 *   truncation (eq. 51):         F_L' = k F_(L-1) - (L+1)/tau F_L [- kappa' F_L],
 * with three approximation regimes (Blas, Lesgourgues & Tram 2011, "BLT11", CLASS II):
 *
 *   TCA, tight coupling (first order in tau_c = 1/kappa', derived as MB95 eqs. 74-75 but with the actual
 *   d ln kappa'/d tau from the recombination tables instead of tau_c ~ a^2, as BLT11's first_order_CLASS):
 *     slip S = theta_b - theta_g = [tau_c/(1+R)] Q,  Q = -aH theta_b + c_b^2 k^2 delta_b - k^2 delta_g/4,
 *     S' = [tau_c/(1+R)] [Q' + Q (d ln tau_c/d tau - R'/(1+R))],  (Q' with zeroth-order theta_b', delta_g')
 *     theta_b' = [-aH theta_b + c_b^2 k^2 delta_b + R k^2 (delta_g/4 - sigma_g) + R S'] / (1+R),  theta_g = theta_b - S,
 *     sigma_g = (16/45) tau_c (theta_g + h'/2 + 3 eta')  (with polarisation: G_0 + G_2 = 3 sigma_g),
 *     and no photon multipole beyond delta_g is evolved;
 *   UFA, ultra-relativistic fluid (BLT11 eq. 4.11, `ufa_class`): only delta_nu, theta_nu, sigma_nu with
 *     sigma_nu' = -(3/tau) sigma_nu + (2/3) (theta_nu + h'/2);
 *   RSA, radiation streaming (BLT11 eqs. 5.4-5.7, with reionisation): photons and neutrinos follow the
 *     non-oscillating particular solution of their hierarchies,
 *     delta_nu = (4/k^2)(aH h' - k^2 eta),  theta_nu = -h'/2,
 *     delta_g = delta_nu - (4/k^2) kappa' (theta_b + h'/2),
 *     theta_g = -h'/2 + (3/k^2) [kappa'' (theta_b + h'/2) + kappa' (-aH theta_b + c_b^2 k^2 delta_b - aH h' + k^2 eta)],
 *     with h' from the matter (and dark energy) alone, as in CLASS.
 *
 * Massive neutrinos (ncdm; MB95 sec. 3.3 eqs. 55-58, synchronous gauge; CLASS's form, Lesgourgues & Tram 2011,
 * "LT11"): the perturbation Psi(q) of f0 = 1/(e^q+1) on momentum bins q_i (ncdm.ts), eps = sqrt(q^2 + (M0 a)^2),
 *     Psi_0' = -(q k/eps) Psi_1 + (h'/6) dlnf0/dlnq,                                            (MB95 eq. 57)
 *     Psi_1' = (q k/3eps) (Psi_0 - 2 Psi_2),
 *     Psi_2' = (q k/5eps) (2 Psi_1 - 3 Psi_3) - (h'/15 + 2 eta'/5) dlnf0/dlnq,
 *     Psi_l' = q k/((2l+1) eps) [l Psi_(l-1) - (l+1) Psi_(l+1)],   Psi_L' = (q k/eps) Psi_(L-1) - (L+1)/tau Psi_L;
 *   their sources (MB95 eq. 55, rho-hat units, rho_rel = H0^2 A a^-4, sum_i w_i g(q_i) = Integral q^2 f0 g / I_3):
 *     delta rho = rho_rel sum w eps Psi_0,  (rho+p) theta = rho_rel k sum w q Psi_1,  (rho+p) sigma = (2/3) rho_rel sum w (q^2/eps) Psi_2;
 *   background rho, p = rho_rel (F, G)(M0 a) (plugins/contracts/neutrinos.ts).
 *   Fluid approximation from k tau > ncdmFluidKTau (LT11 eqs. 3.5-3.7, CLASS `ncdmfa_CLASS`): delta, theta, sigma with
 *     delta' = -(1+w)(theta + h'/2) - 3 aH (c_eff^2 - w) delta,
 *     theta' = -aH (1 - 3 c_a^2) theta + c_eff^2/(1+w) k^2 delta - k^2 sigma,
 *     sigma' = -3 [aH (2/3 - c_a^2 - pseudo_p/3p) + 1/tau] sigma + (8/3) c_vis^2/(1+w) (theta + h'/2),
 *     c_a^2 = w/(3(1+w)) (5 - pseudo_p/p),  c_eff^2 = c_a^2,  c_vis^2 = 3 w c_a^2,  pseudo_p = rho_rel sum w q^4/(3 eps^3).
 *
 * Dark energy for w != -1: the parameterized post-Friedmann description of Hu & Sawicki (2007) in the form of
 * Fang, Hu & Lewis (2008, "FHL08", PRD 78, 087303), which stays regular when w crosses -1. With
 * X = c_Gamma^2 (k/aH)^2, T = all species but the dark energy, theta_T = sum (rho+p) theta / sum (rho+p):
 *     alpha = [eta + (3/2k^2) (delta rho_T + 3 aH (rho+p)theta_T / k^2) - Gamma] / aH        (sync. gauge (h'+6eta')/2k^2)
 *     S_G = (rho+p)_de (3/2k^2) (theta_T + k^2 alpha) / aH                                    (FHL08 eq. 28, f_zeta = 0)
 *     Gamma' = aH [S_G/(1+X) - (1+X) Gamma]                                                   (FHL08 eq. 31)
 *     (rho+p)theta_de = (rho+p)_de theta_T - (2/3) k^2 aH [S_G - Gamma'/aH - Gamma] / (1 + (9/2)(rho+p)_T/k^2)
 *     delta rho_de = -(2/3) k^2 Gamma - 3 aH (rho+p)theta_de / k^2
 * (all rho-hat units; the same equations as CAMB and CLASS `use_ppf`); where X > X_max the relaxation is too
 * stiff to follow and Gamma = Gamma' = 0 (CLASS's c_gamma_k_H_square_max = 1e3).
 *
 * The right-hand side is linear in the state, so the Jacobian is f applied to the unit vectors (jacobian()).
 */
import { fermiDirac } from '../../contracts/neutrinos.js';
import { type ModeSetup, type SplineColumn, P_H0, P_NA, P_NM, P_OB, P_OC, P_ODE, P_OG, P_OUR, P_W0, P_WA } from './setup.js';

export interface Flags {
  tca: boolean;
  ufa: boolean;
  rsa: boolean;
  /** massive neutrinos as a fluid (delta, theta, sigma) instead of the momentum-bin hierarchy */
  ncdmFluid?: boolean;
}

/** Index layout of the state vector for a set of flags (-1: absent). */
export interface Layout {
  n: number;
  eta: number;
  dc: number;
  db: number;
  tb: number;
  gam: number;
  dg: number;
  tg: number;
  /** F_gamma,2 .. F_gamma,Lg at fg + l - 2 */
  fg: number;
  /** G_gamma,0 .. G_gamma,Lp at gg + l */
  gg: number;
  dn: number;
  tn: number;
  /** UFA: sigma_nu */
  sn: number;
  /** F_nu,2 .. F_nu,Ln at fn + l - 2 */
  fn: number;
  /** massive neutrinos: bin i, multipole l at nc + i (Lnc + 1) + l; fluid: delta, theta, sigma at nc, nc+1, nc+2 */
  nc: number;
  nq: number;
  Lnc: number;
  ncFluid: boolean;
  Lg: number;
  Lp: number;
  Ln: number;
}

export function layoutOf(flags: Flags, s: ModeSetup): Layout {
  let n = 0;
  const take = (on: boolean, count = 1) => {
    if (!on) return -1;
    const i = n;
    n += count;
    return i;
  };
  const A = s.approx;
  const eta = take(true), dc = take(true), db = take(true), tb = take(true);
  const gam = take(s.ppf);
  const dg = take(!flags.rsa);
  const full = !flags.tca && !flags.rsa;
  const tg = take(full);
  const fg = take(full, A.lmaxPhotons - 1);
  const gg = take(full, A.lmaxPolarization + 1);
  const dn = take(!flags.rsa), tn = take(!flags.rsa);
  const sn = take(!flags.rsa && flags.ufa);
  const fn = take(!flags.rsa && !flags.ufa, A.lmaxNeutrinos - 1);
  const nq = s.ncdm ? s.ncdm.q.length : 0;
  const ncFluid = !!flags.ncdmFluid;
  const nc = take(nq > 0, ncFluid ? 3 : nq * (A.lmaxNcdm + 1));
  return {
    n, eta, dc, db, tb, gam, dg, tg, fg, gg, dn, tn, sn, fn, nc, nq, Lnc: A.lmaxNcdm, ncFluid,
    Lg: A.lmaxPhotons, Lp: A.lmaxPolarization, Ln: A.lmaxNeutrinos,
  };
}

/** Names of the state components (error messages). */
export function layoutNames(L: Layout): string[] {
  const out = new Array<string>(L.n);
  const put = (i: number, name: string) => i >= 0 && (out[i] = name);
  put(L.eta, 'eta'); put(L.dc, 'delta_c'); put(L.db, 'delta_b'); put(L.tb, 'theta_b'); put(L.gam, 'Gamma_ppf');
  put(L.dg, 'delta_g'); put(L.tg, 'theta_g'); put(L.dn, 'delta_nu'); put(L.tn, 'theta_nu'); put(L.sn, 'sigma_nu');
  if (L.fg >= 0) for (let l = 2; l <= L.Lg; l++) put(L.fg + l - 2, `F_g${l}`);
  if (L.gg >= 0) for (let l = 0; l <= L.Lp; l++) put(L.gg + l, `G_g${l}`);
  if (L.fn >= 0) for (let l = 2; l <= L.Ln; l++) put(L.fn + l - 2, `F_nu${l}`);
  if (L.nc >= 0) {
    if (L.ncFluid) {
      put(L.nc, 'delta_ncdm'); put(L.nc + 1, 'theta_ncdm'); put(L.nc + 2, 'sigma_ncdm');
    } else for (let i = 0; i < L.nq; i++) for (let l = 0; l <= L.Lnc; l++) put(L.nc + i * (L.Lnc + 1) + l, `Psi_ncdm_q${i}_l${l}`);
  }
  return out;
}

/** Background and thermal quantities at one x (filled by PerturbationRhs.point). */
export interface Point {
  a: number;
  /** aH [1/Mpc] and its conformal-time derivative */
  aH: number;
  aHprime: number;
  rb: number;
  rc: number;
  rg: number;
  rn: number;
  rde: number;
  w: number;
  kappa: number;
  /** d kappa' / d tau */
  kappaPrime: number;
  cb2: number;
  /** d c_b^2 / d tau */
  cb2Prime: number;
  tau: number;
  /** massive neutrinos: M0 a, rho_rel = H0^2 A a^-4, background density and pressure (rho-hat units) */
  ma: number;
  rrel: number;
  rnc: number;
  pnc: number;
}

export const newPoint = (): Point => ({
  a: 0, aH: 0, aHprime: 0, rb: 0, rc: 0, rg: 0, rn: 0, rde: 0, w: 0, kappa: 0, kappaPrime: 0, cb2: 0, cb2Prime: 0, tau: 0,
  ma: 0, rrel: 0, rnc: 0, pnc: 0,
});

/** dst = src (no allocation). */
export function copyPoint(dst: Point, s: Point): void {
  dst.a = s.a; dst.aH = s.aH; dst.aHprime = s.aHprime; dst.rb = s.rb; dst.rc = s.rc; dst.rg = s.rg; dst.rn = s.rn; dst.rde = s.rde;
  dst.w = s.w; dst.kappa = s.kappa; dst.kappaPrime = s.kappaPrime; dst.cb2 = s.cb2; dst.cb2Prime = s.cb2Prime; dst.tau = s.tau;
  dst.ma = s.ma; dst.rrel = s.rrel; dst.rnc = s.rnc; dst.pnc = s.pnc;
}

export const newDerived = (): Derived => ({
  hPrime: 0, etaPrime: 0, thetaG: 0, deltaG: 0, thetaN: 0, deltaN: 0, sigmaG: 0, dRhoT: 0, rpThetaT: 0, rpT: 0,
});

/** dst = src (no allocation). */
export function copyDerived(dst: Derived, s: Derived): void {
  dst.hPrime = s.hPrime; dst.etaPrime = s.etaPrime; dst.thetaG = s.thetaG; dst.deltaG = s.deltaG; dst.thetaN = s.thetaN;
  dst.deltaN = s.deltaN; dst.sigmaG = s.sigmaG; dst.dRhoT = s.dRhoT; dst.rpThetaT = s.rpThetaT; dst.rpT = s.rpT;
}

/** Output slots of the derived (algebraic) quantities of the last evaluation. */
export interface Derived {
  hPrime: number;
  etaPrime: number;
  thetaG: number;
  deltaG: number;
  thetaN: number;
  deltaN: number;
  sigmaG: number;
  /** delta rho, (rho+p) theta and rho + p summed over all species but the dark energy (step 1; the PPF's T sums) */
  dRhoT: number;
  rpThetaT: number;
  rpT: number;
}

/** Cubic spline on a uniform grid (step h): value or derivative in interval i at fraction t, row offset o. */
function splineRow(y: Float64Array, m: Float64Array, o: number, i: number, t: number, h: number, deriv: boolean): number {
  const u = 1 - t;
  if (deriv) return (y[o + i + 1] - y[o + i]) / h + (h / 6) * (-(3 * u * u - 1) * m[o + i] + (3 * t * t - 1) * m[o + i + 1]);
  return u * y[o + i] + t * y[o + i + 1] + ((h * h) / 6) * ((u * u * u - u) * m[o + i] + (t * t * t - t) * m[o + i + 1]);
}

/**
 * Indices of PerturbationRhs.nudge: the base quantities (P_* of setup.ts, 0..9), then the thermal scalars read at the
 * evaluation point: ln kappa', d ln kappa'/dx, c_b^2, d c_b^2/dx, tau (x >= the table's start; above it, NUDGE_LK
 * offsets ln of the early kappa' coefficient and NUDGE_CB2 ln c_b^2, the others have no effect).
 */
export const NUDGE_LK = 10, NUDGE_DLK = 11, NUDGE_CB2 = 12, NUDGE_DCB2 = 13, NUDGE_TAU = 14, NUDGE_COUNT = 15;

export class PerturbationRhs {
  /**
   * Additive offsets of what the equations read at a point (indices NUDGE_*), or null: reverse mode
   * (adjoint.ts) differentiates f, delta_m and the switch maps with respect to these few scalars and accumulates
   * their cotangents onto the base quantities and the spline nodes (flat in the number of directions).
   */
  nudge: Float64Array | null = null;
  readonly L: Layout;
  readonly k: number;
  readonly k2: number;
  private readonly s: ModeSetup;
  private readonly q = new Float64Array(10);
  private readonly fd = new Float64Array(4);
  /** eps_i = sqrt(q_i^2 + (M0 a)^2) of the last evaluation */
  private readonly eps: Float64Array;
  /** The point of the last evaluation (point(), f). */
  readonly pt: Point = newPoint();
  readonly derived: Derived = newDerived();
  private unit: Float64Array;
  private col: Float64Array;

  constructor(readonly setup: ModeSetup, k: number, readonly flags: Flags) {
    this.s = setup;
    this.k = k;
    this.k2 = k * k;
    this.L = layoutOf(flags, setup);
    this.unit = new Float64Array(this.L.n);
    this.col = new Float64Array(this.L.n);
    this.eps = new Float64Array(this.L.nq);
  }

  /** Base quantities at s (q0 + Jq s), into this.q. */
  private params(sv: Float64Array | null): Float64Array {
    const S = this.s, q = this.q;
    const Pa = sv ? Math.min(sv.length, S.Pa) : 0;
    for (let j = 0; j < 10; j++) {
      let v = S.q0[j];
      for (let a = 0; a < Pa; a++) v += S.Jq[j * S.Pa + a] * sv![a];
      q[j] = v;
    }
    if (this.nudge) for (let j = 0; j < 10; j++) q[j] += this.nudge[j];
    return q;
  }

  /** Spline value (deriv false) or derivative (true) of a column (plus sum_a s_a tangent row) at x. */
  private spline(c: SplineColumn, x: number, sv: Float64Array | null, deriv: boolean): number {
    const S = this.s;
    const h = S.dx;
    let i = Math.floor((x - S.xMin) / h);
    if (i < 0) i = 0;
    if (i > S.n - 2) i = S.n - 2;
    const t = (x - S.xMin) / h - i;
    let v = splineRow(c.y, c.m, 0, i, t, h, deriv);
    if (sv) for (let a = 0; a < S.Pa; a++) if (sv[a] !== 0) v += sv[a] * splineRow(c.yt, c.mt, a * S.n, i, t, h, deriv);
    return v;
  }

  /** Background and thermal quantities at x for parameters s. */
  point(x: number, sv: Float64Array | null): Point {
    const S = this.s;
    const q = this.params(sv);
    const p = this.pt;
    const a = Math.exp(x);
    const H02 = q[P_H0] * q[P_H0];
    p.a = a;
    p.rb = (H02 * q[P_OB]) / a;
    p.rc = (H02 * q[P_OC]) / a;
    p.rg = (H02 * q[P_OG]) / (a * a);
    p.rn = (H02 * q[P_OUR]) / (a * a);
    p.w = q[P_W0] + q[P_WA] * (1 - a);
    p.rde = H02 * q[P_ODE] * a * a * Math.exp(-3 * (1 + q[P_W0] + q[P_WA]) * x - 3 * q[P_WA] * (1 - a));
    if (S.ncdm) {
      // Fermi-Dirac density and pressure (neutrinos.ts): rho = rho_rel F(M0 a), p = rho_rel G(M0 a)
      p.ma = q[P_NM] * a;
      fermiDirac(p.ma, this.fd);
      p.rrel = (H02 * q[P_NA]) / (a * a);
      p.rnc = p.rrel * this.fd[0];
      p.pnc = p.rrel * this.fd[2];
    }
    const aH2 = p.rb + p.rc + p.rg + p.rn + p.rde + p.rnc;
    p.aH = Math.sqrt(aH2);
    // (aH)' = -(1/2) sum rho-hat (1 + 3w)   (conformal-time Friedmann acceleration equation)
    p.aHprime = -0.5 * (p.rb + p.rc + 2 * (p.rg + p.rn) + (1 + 3 * p.w) * p.rde + p.rnc + 3 * p.pnc);
    const nd = this.nudge;
    if (x >= S.xMin) {
      const lk = this.spline(S.lnKappa, x, sv, false) + (nd ? nd[NUDGE_LK] : 0);
      p.kappa = Math.exp(lk);
      p.kappaPrime = p.kappa * (this.spline(S.lnKappa, x, sv, true) + (nd ? nd[NUDGE_DLK] : 0)) * p.aH;
      p.cb2 = this.spline(S.cb2, x, sv, false) + (nd ? nd[NUDGE_CB2] : 0);
      p.cb2Prime = (this.spline(S.cb2, x, sv, true) + (nd ? nd[NUDGE_DCB2] : 0)) * p.aH;
      p.tau = this.spline(S.tau, x, sv, false) + (nd ? nd[NUDGE_TAU] : 0);
    } else {
      let lk = S.lnKappaEarly - 2 * x + (nd ? nd[NUDGE_LK] : 0);
      let lc = Math.log(S.cb2Early) - x + (nd ? nd[NUDGE_CB2] : 0);
      if (sv)
        for (let j = 0; j < S.Pa; j++) {
          lk += sv[j] * S.dLnKappaEarly[j];
          lc += sv[j] * S.dLnCb2Early[j];
        }
      p.kappa = Math.exp(lk);
      p.kappaPrime = -2 * p.kappa * p.aH;
      p.cb2 = Math.exp(lc);
      p.cb2Prime = -p.cb2 * p.aH;
      // radiation + matter: tau = (2 / H0 Omega_m)(sqrt(Omega_r + Omega_m a) - sqrt(Omega_r)) (the massive neutrinos
      // are radiation above the table, z > 10^4: F(M0 a) - 1 < 1e-4)
      const Om = q[P_OB] + q[P_OC], Or = q[P_OG] + q[P_OUR] + q[P_NA];
      p.tau = (2 * (Math.sqrt(Or + Om * a) - Math.sqrt(Or))) / (q[P_H0] * Om);
    }
    return p;
  }

  /** dy/dx at x (s: the sensitivity parameters, or an empty array). */
  f = (x: number, y: Float64Array, dy: Float64Array, sv: Float64Array): void => {
    this.evaluate(this.point(x, sv.length > 0 ? sv : null), y, dy);
  };

  /**
   * dy/dx from the background and thermal quantities p of the point (f without the point's evaluation); the
   * algebraic quantities into this.derived (the reverse sweep of equations-transpose.ts reads them).
   */
  evaluate(p: Point, y: Float64Array, dy: Float64Array): void {
    const L = this.L, S = this.s;
    const k = this.k, k2 = this.k2;
    const aH = p.aH;
    const kap = p.kappa;
    const tauC = 1 / kap;
    const R = (4 * p.rg) / (3 * p.rb);
    const { tca, ufa, rsa } = this.flags;
    const eta = y[L.eta], dc = y[L.dc], db = y[L.db], tb = y[L.tb];

    // 1. sums over the non-dark-energy species (radiation only outside the RSA, as CLASS)
    let dRho = p.rc * dc + p.rb * db;
    let rpTheta = p.rb * tb;
    let rp = p.rb + p.rc;
    // massive neutrinos (MB95 eq. 55 by the quadrature of ncdm.ts, or the fluid variables)
    const nc = L.nc, NC = S.ncdm;
    if (NC) {
      const ma2 = p.ma * p.ma;
      for (let i = 0; i < L.nq; i++) this.eps[i] = Math.sqrt(NC.q[i] * NC.q[i] + ma2);
      if (L.ncFluid) {
        dRho += p.rnc * y[nc];
        rpTheta += (p.rnc + p.pnc) * y[nc + 1];
      } else {
        let sd = 0, st = 0;
        const stride = L.Lnc + 1;
        for (let i = 0; i < L.nq; i++) {
          const o = nc + i * stride;
          sd += NC.w[i] * this.eps[i] * y[o];
          st += NC.w[i] * NC.q[i] * y[o + 1];
        }
        dRho += p.rrel * sd;
        rpTheta += p.rrel * k * st;
      }
      rp += p.rnc + p.pnc;
    }
    let dg = 0, dn = 0, tn = 0;
    if (!rsa) {
      dg = y[L.dg];
      dn = y[L.dn];
      tn = y[L.tn];
      dRho += p.rg * dg + p.rn * dn;
      rpTheta += (4 / 3) * p.rn * tn;
      rp += (4 / 3) * (p.rg + p.rn);
    }
    // photon velocity: tight coupling gives it from the slip (needs no h')
    let tg = 0, slip = 0, Q = 0;
    if (tca) {
      Q = -aH * tb + p.cb2 * k2 * db - (k2 * dg) / 4;
      slip = (tauC / (1 + R)) * Q;
      tg = tb - slip;
    } else if (!rsa) tg = y[L.tg];
    if (!rsa) rpTheta += (4 / 3) * p.rg * tg;
    const der = this.derived;
    der.dRhoT = dRho;
    der.rpThetaT = rpTheta;
    der.rpT = rp;

    // 2. PPF dark energy
    let gamma = 0, gammaPrime = 0;
    if (S.ppf) {
      const X = (S.ppfCGamma2 * k2) / (aH * aH);
      const rpDe = (1 + p.w) * p.rde;
      const thetaT = rpTheta / rp;
      // beyond the stiffness cut X > X_max: Gamma = Gamma' = 0 (its quasi-static value is ~S_G/X^2)
      if (X <= S.ppfXMax) gamma = y[L.gam];
      const alpha = (eta + (1.5 / k2) * (dRho + (3 * aH * rpTheta) / k2) - gamma) / aH;
      const SG = (rpDe * 1.5 * (thetaT + k2 * alpha)) / (k2 * aH);
      if (X <= S.ppfXMax) gammaPrime = aH * (SG / (1 + X) - (1 + X) * gamma);
      const rpThetaDe = rpDe * thetaT - ((2 / 3) * k2 * aH * (SG - gammaPrime / aH - gamma)) / (1 + (4.5 * rp) / k2);
      dRho += -(2 / 3) * k2 * gamma - (3 * aH * rpThetaDe) / k2;
      rpTheta += rpThetaDe;
      dy[L.gam] = gammaPrime;
    }

    // 3. metric
    const hP = (2 * (k2 * eta + 1.5 * dRho)) / aH;
    let etaP = (1.5 * rpTheta) / k2;

    // 4. radiation streaming: algebraic radiation from h'
    if (rsa) {
      dn = (4 / k2) * (aH * hP - k2 * eta);
      tn = -0.5 * hP;
      const tbh = tb + 0.5 * hP;
      dg = dn - (4 / k2) * kap * tbh;
      tg = -0.5 * hP + (3 / k2) * (p.kappaPrime * tbh + kap * (-aH * tb + p.cb2 * k2 * db - aH * hP + k2 * eta));
      etaP += (1.5 / k2) * (4 / 3) * (p.rg * tg + p.rn * tn);
    }
    dy[L.eta] = etaP;
    dy[L.dc] = -0.5 * hP;
    dy[L.db] = -tb - 0.5 * hP;

    // 5. photons and baryons
    let sigmaG = 0;
    if (tca) {
      sigmaG = (16 / 45) * tauC * (tg + 0.5 * hP + 3 * etaP);
      // S' = [tau_c/(1+R)] [Q' + Q (d ln tau_c/dtau - R'/(1+R))], zeroth-order theta_b', delta_b', delta_g'
      const tb0 = (-aH * tb + p.cb2 * k2 * db + (R * k2 * dg) / 4) / (1 + R);
      const db0 = -tb - 0.5 * hP;
      const dg0 = -(4 / 3) * tb - (2 / 3) * hP;
      const Qp = -p.aHprime * tb - aH * tb0 + p.cb2Prime * k2 * db + p.cb2 * k2 * db0 - (k2 * dg0) / 4;
      const dlnTauC = -p.kappaPrime / kap;
      const slipP = (tauC / (1 + R)) * (Qp + Q * (dlnTauC - (aH * R) / (1 + R)));
      dy[L.tb] = (-aH * tb + p.cb2 * k2 * db + R * k2 * (dg / 4 - sigmaG) + R * slipP) / (1 + R);
      dy[L.dg] = -(4 / 3) * tg - (2 / 3) * hP;
    } else {
      dy[L.tb] = -aH * tb + p.cb2 * k2 * db + R * kap * (tg - tb);
      if (!rsa) {
        const fg = L.fg, gg = L.gg, Lg = L.Lg, Lp = L.Lp;
        const F2 = y[fg];
        sigmaG = 0.5 * F2;
        const G0 = y[gg], G2 = y[gg + 2];
        const Pi = F2 + G0 + G2;
        const itau = 1 / p.tau;
        dy[L.dg] = -(4 / 3) * tg - (2 / 3) * hP;
        dy[L.tg] = k2 * (dg / 4 - sigmaG) + kap * (tb - tg);
        // F_2 (MB95 eq. 63), with F_1 = 4 theta_g / 3k
        dy[fg] = (8 / 15) * tg - (3 / 5) * k * y[fg + 1] + (4 / 15) * hP + (8 / 5) * etaP - (9 / 5) * kap * sigmaG + (kap / 10) * (G0 + G2);
        for (let l = 3; l < Lg; l++) {
          const i = fg + l - 2;
          dy[i] = (k / (2 * l + 1)) * (l * y[i - 1] - (l + 1) * y[i + 1]) - kap * y[i];
        }
        {
          const i = fg + Lg - 2;
          dy[i] = k * y[i - 1] - (Lg + 1) * itau * y[i] - kap * y[i];
        }
        // polarisation
        dy[gg] = -k * y[gg + 1] + kap * (-G0 + 0.5 * Pi);
        for (let l = 1; l < Lp; l++) {
          const i = gg + l;
          dy[i] = (k / (2 * l + 1)) * (l * y[i - 1] - (l + 1) * y[i + 1]) - kap * y[i] + (l === 2 ? (kap * Pi) / 10 : 0);
        }
        {
          const i = gg + Lp;
          dy[i] = k * y[i - 1] - (Lp + 1) * itau * y[i] - kap * y[i];
        }
      }
    }

    // 6. massless neutrinos
    if (!rsa) {
      dy[L.dn] = -(4 / 3) * tn - (2 / 3) * hP;
      if (ufa) {
        const sn = y[L.sn];
        dy[L.tn] = k2 * (dn / 4 - sn);
        dy[L.sn] = -(3 / p.tau) * sn + (2 / 3) * (tn + 0.5 * hP);
      } else {
        const fn = L.fn, Ln = L.Ln;
        const F2 = y[fn];
        dy[L.tn] = k2 * (dn / 4 - 0.5 * F2);
        dy[fn] = (8 / 15) * tn - (3 / 5) * k * y[fn + 1] + (4 / 15) * hP + (8 / 5) * etaP;
        for (let l = 3; l < Ln; l++) {
          const i = fn + l - 2;
          dy[i] = (k / (2 * l + 1)) * (l * y[i - 1] - (l + 1) * y[i + 1]);
        }
        const i = fn + Ln - 2;
        dy[i] = k * y[i - 1] - ((Ln + 1) / p.tau) * y[i];
      }
    }

    // 6b. massive neutrinos (file comment: MB95 eqs. 57-58 with the truncation of eq. 51, or the LT11 fluid)
    if (NC) {
      if (L.ncFluid) {
        const w = p.pnc / p.rnc;
        let s2 = 0, s4 = 0; // pseudo_p / p = sum w q^4/eps^3 / sum w q^2/eps
        for (let i = 0; i < L.nq; i++) {
          const q2 = NC.q[i] * NC.q[i], e = this.eps[i];
          s2 += (NC.w[i] * q2) / e;
          s4 += (NC.w[i] * q2 * q2) / (e * e * e);
        }
        const ppOverP = s4 / s2;
        const ca2 = (w / (3 * (1 + w))) * (5 - ppOverP);
        const cvis2 = 3 * w * ca2;
        const d = y[nc], th = y[nc + 1], sg = y[nc + 2];
        dy[nc] = -(1 + w) * (th + 0.5 * hP) - 3 * aH * (ca2 - w) * d;
        dy[nc + 1] = -aH * (1 - 3 * ca2) * th + (ca2 / (1 + w)) * k2 * d - k2 * sg;
        dy[nc + 2] = -3 * (aH * (2 / 3 - ca2 - ppOverP / 3) + 1 / p.tau) * sg + ((8 / 3) * cvis2 / (1 + w)) * (th + 0.5 * hP);
      } else {
        const Lc = L.Lnc, stride = Lc + 1;
        const src2 = hP / 15 + 0.4 * etaP;
        const itau = 1 / p.tau;
        for (let i = 0; i < L.nq; i++) {
          const o = nc + i * stride;
          const qk = (NC.q[i] * k) / this.eps[i];
          const dl = NC.dlnf0[i];
          dy[o] = -qk * y[o + 1] + (hP / 6) * dl;
          dy[o + 1] = (qk / 3) * (y[o] - 2 * y[o + 2]);
          dy[o + 2] = (qk / 5) * (2 * y[o + 1] - 3 * y[o + 3]) - src2 * dl;
          for (let l = 3; l < Lc; l++) dy[o + l] = (qk / (2 * l + 1)) * (l * y[o + l - 1] - (l + 1) * y[o + l + 1]);
          dy[o + Lc] = qk * y[o + Lc - 1] - (Lc + 1) * itau * y[o + Lc];
        }
      }
    }

    // 7. d/dx = (1/aH) d/dtau
    const inv = 1 / aH;
    for (let i = 0; i < L.n; i++) dy[i] *= inv;

    der.hPrime = hP;
    der.etaPrime = etaP;
    der.thetaG = tg;
    der.deltaG = dg;
    der.thetaN = tn;
    der.deltaN = dn;
    der.sigmaG = sigmaG;
  }

  /**
   * Jacobian J[i*n + j] = df_i/dy_j: f is linear and homogeneous in y, so column j is f(e_j) (the point's
   * quantities evaluated once for the n columns).
   */
  jacobian = (x: number, _y: Float64Array, J: Float64Array, sv: Float64Array): void => {
    const n = this.L.n;
    const e = this.unit, c = this.col;
    const p = this.point(x, sv.length > 0 ? sv : null);
    e.fill(0);
    for (let j = 0; j < n; j++) {
      e[j] = 1;
      this.evaluate(p, e, c);
      e[j] = 0;
      for (let i = 0; i < n; i++) J[i * n + j] = c[i];
    }
  };

  /**
   * The comoving-gauge total-matter density contrast (CLASS's delta_m): delta_m^sync + 3 aH theta_m / k^2 with
   * delta_m^sync = (rho_b delta_b + rho_c delta_c)/(rho_b + rho_c), theta_m = rho_b theta_b / (rho_b + rho_c).
   */
  deltaM(x: number, y: Float64Array, sv: Float64Array | null): number {
    const p = this.point(x, sv);
    const L = this.L;
    const rm = p.rb + p.rc;
    return (p.rb * y[L.db] + p.rc * y[L.dc]) / rm + (3 * p.aH * p.rb * y[L.tb]) / (rm * this.k2);
  }

  /**
   * The comoving-gauge total-matter density contrast with the massive neutrinos (CLASS's delta_m when N_ncdm > 0,
   * perturbations.c: delta_m = sum rho_i delta_i / sum rho_i + 3 aH theta_m / k^2, theta_m = sum (rho+p)_i theta_i /
   * sum (rho+p)_i over b, cdm, ncdm). Without them, deltaM.
   */
  deltaMTotal(x: number, y: Float64Array, sv: Float64Array | null): number {
    if (!this.s.ncdm) return this.deltaM(x, y, sv);
    const p = this.point(x, sv);
    const L = this.L;
    this.ncdmMoments(p, y, this.fd);
    const dRhoNc = this.fd[0], rpThNc = this.fd[1];
    const rm = p.rb + p.rc + p.rnc;
    const rpm = p.rb + p.rc + p.rnc + p.pnc;
    return (p.rb * y[L.db] + p.rc * y[L.dc] + dRhoNc) / rm + (3 * p.aH * (p.rb * y[L.tb] + rpThNc)) / (rpm * this.k2);
  }

  /** delta rho, (rho+p) theta, (rho+p) sigma of the massive neutrinos at point p (rho-hat units) into out[0..2]. */
  ncdmMoments(p: Point, y: Float64Array, out: Float64Array): void {
    const L = this.L, NC = this.s.ncdm!, nc = L.nc;
    if (L.ncFluid) {
      out[0] = p.rnc * y[nc];
      out[1] = (p.rnc + p.pnc) * y[nc + 1];
      out[2] = (p.rnc + p.pnc) * y[nc + 2];
      return;
    }
    let sd = 0, st = 0, ss = 0;
    const stride = L.Lnc + 1, ma2 = p.ma * p.ma;
    for (let i = 0; i < L.nq; i++) {
      const o = nc + i * stride, qi = NC.q[i];
      const e = Math.sqrt(qi * qi + ma2);
      sd += NC.w[i] * e * y[o];
      st += NC.w[i] * qi * y[o + 1];
      ss += ((NC.w[i] * qi * qi) / e) * y[o + 2];
    }
    out[0] = p.rrel * sd;
    out[1] = p.rrel * this.k * st;
    out[2] = ((2 / 3) * p.rrel * ss);
  }
}
