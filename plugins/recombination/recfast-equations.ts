/**
 * The RECFAST recombination model (Seager, Sasselov & Scott 1999, ApJ 523, L1; 2000, ApJS 128, 407: "SSS")
 * with the helium refinements of Wong, Moss & Scott (2008, MNRAS 386, 1023: "WMS08", RECFAST 1.4, CLASS's
 * `recfast_Heswitch = 6`) and the hydrogen correction of RECFAST 1.5 (Rubino-Martin, Chluba, Fendt &
 * Wandelt 2010, MNRAS 403, 439), written as one ODE system in x = ln a for
 *
 *   x_H = n_HII / n_H,  y_He = (n_HeII + n_HeIII) / n_He,  Theta = T_M / T_R,
 *
 * integrated as y = (ln(1 - x_H), ln(1 - y_He), Theta): the neutral fractions in logarithms, so that both the
 * ionised era (1 - x_H ~ 1e-14 in Saha equilibrium, where a step of sqrt(eps) in x_H itself would leave the
 * physical region) and the late era (x_H ~ 2e-4 = -ln(1 - x_H) to full relative precision) are well scaled,
 * with He III <-> He II in Saha equilibrium (SSS 2000 sec. 3: it is, to < 1e-4 in x_e) and
 * x_e = n_e / n_H = x_H + f_He (y_He + y_HeIII).
 *
 * Hydrogen, the effective three-level atom (SSS eq. 1):
 *   d x_H/dt = -C_H [x_e x_H n_H alpha_H - beta_H (1 - x_H) exp(-h nu_Lya / k T_R)],
 *   C_H = [1 + K_H Lambda_2s1s n_H (1 - x_H)] / [1 + K_H (Lambda_2s1s + beta_H) n_H (1 - x_H)],
 *   alpha_H = F 1e-19 a t^b / (1 + c t^d) m^3/s, t = T_M / 1e4 K (Pequignot et al. 1991; F = 1.125),
 *   beta_H = alpha_H(T_R) (2 pi m_e k T_R / h^2)^(3/2) exp(-h nu_2 / k T_R)   (photoionisation from n = 2),
 *   K_H = lambda_Lya^3 / (8 pi H) [1 + A1 G1 + A2 G2]  (Sobolev escape; RECFAST 1.5 Gaussians in ln(1+z)).
 * Photoionisation uses the radiation temperature T_R (detailed balance with the CMB); RECFAST's Fortran uses
 * T_M there, which is the same to < 1e-7 while it matters (z > 800) and irrelevant below.
 *
 * Helium I, singlet channel (SSS eq. 2) with the WMS08 escape probability (Sobolev with optical depth
 * tau_s, plus the continuum opacity of neutral hydrogen, Kholupenko et al. 2007 fit with 0.36 gamma^0.86):
 *   d(f_He y_He)/dt = -C_He [x_e f_He y_HeII n_H alpha_He - beta_He f_He (1 - y_He) exp(-h nu_2^1s / k T_R)],
 *   C_He = [1 + K_He Lambda_He n_HeI e^(h nu_ps/kT)] / [1 + K_He (Lambda_He + beta_He) n_HeI e^(h nu_ps/kT)]
 *   (nu_ps = 2^1P - 2^1S: the line escape rate 1/(K_He n_HeI) acts on the 2^1P population, 3 e^(-h nu_ps/kT)
 *   times that of 2^1S from which beta_He and Lambda_He act, hence e^(+h nu_ps/kT) next to K_He),
 *   K_He = 1 / [(A_2p p_s + A_Hcon) 3 n_HeI],  p_s = (1 - e^-tau_s)/tau_s,  tau_s = 3 A_2p n_HeI lambda^3/(8 pi H),
 *   A_Hcon = A_2p / (1 + 0.36 gamma^0.86),  gamma = 3 A_2p f_He (1 - y_He) c^2 / [sqrt(pi) sigma_H 8 pi Dnu_D (1 - x_H) nu^2],
 * and the triplet channel 2^3P_1 -> 1^1S (WMS08 eqs. for the intercombination line, factor 3 for the
 * statistical weight, its own continuum-opacity fit 0.66 gamma^0.9):
 *   d(f_He y_He)/dt -= C_t [x_e f_He y_HeII n_H alpha_t - 3 beta_t f_He (1 - y_He) exp(-h nu_2^3s / k T_R)],
 *   C_t = c_t / (beta_t + c_t),  c_t = (A_t p_t + A_Hcon,t) exp(-h nu_(2^3P - 2^3S) / k T_R).
 *
 * Matter temperature (SSS eq. 3): Compton heating against adiabatic cooling,
 *   dT_M/dt = -2 H T_M + Gamma_C (T_R - T_M),   Gamma_C = (8 sigma_T a_R T_R^4 / 3 m_e c) x_e / (1 + f_He + x_e),
 * so that with Theta = T_M/T_R:  dTheta/d ln a = -Theta + (Gamma_C / H)(1 - Theta).
 *
 * No approximation switching: the full equations are integrated from z = 10^4 (fully ionised, Theta = 1)
 * with a stiff (L-stable) solver, which follows the Saha equilibrium where the rates exceed H by up to
 * ~10^18 and releases the system smoothly. That keeps the solution (and its parameter derivatives) smooth.
 */
import {
  A2P_SINGLET, A2P_TRIPLET, CR, CT, C_LIGHT, FUDGE_H, HC_OVER_K, HE_CONTINUUM, HE_TO_H_MASS, HS_SINGLET, HS_TRIPLET,
  K_BOLTZMANN, K_H_GAUSSIANS, LAMBDA_HE_2S1S, LAMBDA_H_2S1S, L_H_ALPHA, L_H_ION, L_HE1_ION, L_HE2_ION, L_HE_2P,
  L_HE_2PT, L_HE_2S, L_HE_2ST, L_HE_2ST_ION, M_HYDROGEN, PPB, SIGMA_H_AT_HE_2PS, SIGMA_H_AT_HE_2PT,
} from './constants.js';
import { H0_PER_S_PER_H, Q_H, Q_TCMB, Q_YHE, e2Of, heliumRatio, nH0 } from './cosmology.js';

/** Energies in kelvin (E/k_B). */
const T_H_2 = HC_OVER_K * (L_H_ION - L_H_ALPHA); // ionisation from n = 2
const T_LYA = HC_OVER_K * L_H_ALPHA;
const T_HE1_2S_ION = HC_OVER_K * (L_HE1_ION - L_HE_2S); // ionisation from 2^1S
const T_HE1_2S = HC_OVER_K * L_HE_2S; // 2^1S above ground
const T_HE1_PS = HC_OVER_K * (L_HE_2P - L_HE_2S); // 2^1P - 2^1S
const T_HE2_ION = HC_OVER_K * L_HE2_ION;
const T_HE_2ST_ION = HC_OVER_K * L_HE_2ST_ION; // ionisation from 2^3S
const T_HE_2ST = HC_OVER_K * L_HE_2ST; // 2^3S above ground
const T_HE_PST = HC_OVER_K * (L_HE_2PT - L_HE_2ST); // 2^3P - 2^3S
/** Sobolev lambda^3 / (8 pi) of Ly-alpha and of the He I 2^1P and 2^3P lines [m^3]. */
const LYA3_8PI = 1 / (L_H_ALPHA ** 3 * 8 * Math.PI);
const HE2P3_8PI = 1 / (L_HE_2P ** 3 * 8 * Math.PI);
const HE2PT3_8PI = 1 / (L_HE_2PT ** 3 * 8 * Math.PI);
/** Line frequencies [Hz] and the Doppler-width factor sqrt(2 k / (m_He c^2)) [K^-1/2]. */
const NU_HE_2P = C_LIGHT * L_HE_2P;
const NU_HE_2PT = C_LIGHT * L_HE_2PT;
const DOPPLER = Math.sqrt((2 * K_BOLTZMANN) / (HE_TO_H_MASS * M_HYDROGEN * C_LIGHT * C_LIGHT));

export const IX_H = 0, IY_HE = 1, ITHETA = 2;
export const RECFAST_NAMES = ['ln(1 - x_H)', 'ln(1 - y_He)', 'T_M/T_R'] as const;

/** x_H and y_He from the integrated logarithms. */
export const ionisedFraction = (u: number): number => -Math.expm1(u);

/** Case-B hydrogen recombination coefficient [m^3/s] with the fudge factor (SSS eq. 4). */
export function alphaH(T: number): number {
  const t = T / 1e4;
  return (FUDGE_H * 1e-19 * PPB.a * Math.pow(t, PPB.b)) / (1 + PPB.c * Math.pow(t, PPB.d));
}

/**
 * Hummer & Storey (1998) fit for He I recombination [m^3/s], singlet and triplet at one temperature (they share
 * T1 and T2): q / [sqrt(T/T2) (1 + sqrt(T/T2))^(1-p) (1 + sqrt(T/T1))^(1+p)]. Returns the singlet value and
 * leaves the triplet one in hsTriplet.
 */
let hsTriplet = 0;
function alphaHS(T: number): number {
  const s2 = Math.sqrt(T / HS_SINGLET.T2);
  const l2 = Math.log1p(s2);
  const l1 = Math.log1p(Math.sqrt(T / HS_SINGLET.T1));
  hsTriplet = HS_TRIPLET.q / (s2 * Math.exp((1 - HS_TRIPLET.p) * l2 + (1 + HS_TRIPLET.p) * l1));
  return HS_SINGLET.q / (s2 * Math.exp((1 - HS_SINGLET.p) * l2 + (1 + HS_SINGLET.p) * l1));
}

/** Saha factor (2 pi m_e k T / h^2)^(3/2) [1/m^3]. */
const sahaFactor = (T: number): number => {
  const u = CR * T;
  return u * Math.sqrt(u);
};

/**
 * Fraction of helium in He III by Saha equilibrium, given n_H, T, x_H and y_He:
 *   n_e y3 / (y_He - y3) = (2 pi m_e k T/h^2)^(3/2) exp(-E_HeII / kT),  n_e = n_H (x_H + f_He (y_He + y3)),
 * solved as a quadratic in y3 (the stable root).
 */
export function heliumIII(nH: number, T: number, xH: number, yHe: number, fHe: number): number {
  const arg = T_HE2_ION / T;
  if (arg > 700) return 0;
  const S = sahaFactor(T) * Math.exp(-arg);
  const b = nH * (xH + fHe * yHe) + S;
  const c = nH * fHe;
  return (2 * S * yHe) / (b + Math.sqrt(b * b + 4 * c * S * yHe));
}

/** Scratch/diagnostic outputs of one evaluation. */
export interface RecfastPoint {
  xe: number;
  y3: number;
  /** d Theta / d ln a */
  dTheta: number;
}

/**
 * dy/d ln a of the RECFAST system at x = ln a for base quantities q (cosmology.ts); `pt` receives x_e and
 * y_HeIII. No allocation.
 */
export function recfastRhs(x: number, y: ArrayLike<number>, dy: Float64Array, q: ArrayLike<number>, pt?: RecfastPoint): void {
  const a = Math.exp(x);
  const z1 = 1 / a; // 1 + z
  const Y = q[Q_YHE];
  const fHe = heliumRatio(Y, HE_TO_H_MASS);
  const TR = q[Q_TCMB] * z1;
  const nHI = Math.exp(y[IX_H]); // 1 - x_H
  const nHeIf = Math.exp(y[IY_HE]); // 1 - y_He
  const xH = -Math.expm1(y[IX_H]);
  const yHe = -Math.expm1(y[IY_HE]);
  const theta = y[ITHETA];
  const TM = theta * TR;
  const nH = nH0(q) * z1 * z1 * z1;
  const H = q[Q_H] * H0_PER_S_PER_H * Math.sqrt(e2Of(q, x)); // 1/s
  const y3 = heliumIII(nH, TR, xH, yHe, fHe);
  const xe = xH + fHe * (yHe + y3);
  const saha = sahaFactor(TR);

  // 1. hydrogen, effective three-level atom
  const aH = alphaH(TM);
  const bH = alphaH(TR) * saha * Math.exp(-T_H_2 / TR);
  const lz = Math.log(z1);
  let gauss = 1;
  for (const g of K_H_GAUSSIANS) {
    const u = (lz - g.z) / g.w;
    gauss += g.A * Math.exp(-u * u);
  }
  const KH = (LYA3_8PI / H) * gauss;
  const n1s = nH * nHI;
  const CH = (1 + KH * LAMBDA_H_2S1S * n1s) / (1 + KH * (LAMBDA_H_2S1S + bH) * n1s);
  const rateH = (xe * xH * nH * aH - bH * nHI * Math.exp(-T_LYA / TR)) * CH;
  dy[IX_H] = rateH / (H * nHI); // d ln(1 - x_H)/d ln a = -(dx_H/d ln a)/(1 - x_H)

  // 2. helium I: singlet and triplet channels (WMS08)
  const nHe = fHe * nH;
  const nHeI = nHe * nHeIf;
  const yHeII = yHe - y3;
  const boltzPS = Math.exp(-T_HE1_PS / TR);
  const aS = alphaHS(TM);
  const aT = hsTriplet;
  const aSR = alphaHS(TR);
  const aTR = hsTriplet;
  const bS = 4 * aSR * saha * Math.exp(-T_HE1_2S_ION / TR);
  const tauS = (3 * A2P_SINGLET * nHeI * HE2P3_8PI) / H;
  const pS = tauS > 1e-8 ? -Math.expm1(-tauS) / tauS : 1 - 0.5 * tauS;
  // continuum opacity of neutral hydrogen (WMS08): gamma ~ (1 - y_He)/(1 - x_H) = exp(u_He - u_H), well defined
  // at all times in the logarithmic variables. (RECFAST 1.4 switches it on below x_H = 0.9999999 only, where the
  // ratio of its round-off-level fractions becomes meaningful; before that helium is in Saha equilibrium, its
  // rates exceeding H by > 1e6, and C_He does not matter.)
  const ratioHeH = Math.exp(y[IY_HE] - y[IX_H]);
  const dopplerS = NU_HE_2P * DOPPLER * Math.sqrt(TM);
  const gammaS = (3 * A2P_SINGLET * fHe * ratioHeH * C_LIGHT * C_LIGHT) /
    (Math.sqrt(Math.PI) * SIGMA_H_AT_HE_2PS * 8 * Math.PI * dopplerS * NU_HE_2P * NU_HE_2P);
  const aHconS = A2P_SINGLET / (1 + HE_CONTINUUM.singlet.p * Math.pow(gammaS, HE_CONTINUUM.singlet.q));
  // C_He with 1/(K_He n_HeI) = 3 (A p_s + A_Hcon) (finite when n_HeI -> 0), both sides divided by K_He n_HeI
  // e^(h nu_ps/kT) so that nothing overflows at low T
  const escape = (A2P_SINGLET * pS + aHconS) * 3 * boltzPS;
  const CS = (escape + LAMBDA_HE_2S1S) / (escape + LAMBDA_HE_2S1S + bS);
  const rateS = (xe * fHe * yHeII * nH * aS - bS * fHe * nHeIf * Math.exp(-T_HE1_2S / TR)) * CS;

  const bT = (4 / 3) * aTR * saha * Math.exp(-T_HE_2ST_ION / TR);
  const tauT = (3 * A2P_TRIPLET * nHeI * HE2PT3_8PI) / H;
  const pT = tauT > 1e-8 ? -Math.expm1(-tauT) / tauT : 1 - 0.5 * tauT;
  const dopplerT = NU_HE_2PT * DOPPLER * Math.sqrt(TM);
  const gammaT = (3 * A2P_TRIPLET * fHe * ratioHeH * C_LIGHT * C_LIGHT) /
    (Math.sqrt(Math.PI) * SIGMA_H_AT_HE_2PT * 8 * Math.PI * dopplerT * NU_HE_2PT * NU_HE_2PT);
  const aHconT = A2P_TRIPLET / (1 + HE_CONTINUUM.triplet.p * Math.pow(gammaT, HE_CONTINUUM.triplet.q)) / 3;
  // C_t = c_t / (beta_t + c_t) = 1 / (1 + beta_t / c_t), with the two Boltzmann factors combined so that it
  // stays finite when both underflow at low temperature
  const rT = ((4 / 3) * aTR * saha * Math.exp(-(T_HE_2ST_ION - T_HE_PST) / TR)) / (A2P_TRIPLET * pT + aHconT);
  const CTt = 1 / (1 + rT);
  const rateT = (xe * fHe * yHeII * nH * aT - 3 * bT * fHe * nHeIf * Math.exp(-T_HE_2ST / TR)) * CTt;
  dy[IY_HE] = (rateS + rateT) / (fHe * H * nHeIf);

  // 3. matter temperature
  const gammaC = (CT * TR * TR * TR * TR * xe) / (1 + fHe + xe);
  dy[ITHETA] = -theta + (gammaC / H) * (1 - theta);
  if (pt) {
    pt.xe = xe;
    pt.y3 = y3;
    pt.dTheta = dy[ITHETA];
  }
}

/**
 * x_e, y_HeIII and dTheta/d ln a at x for the state y (the algebraic part of recfastRhs, without the rates:
 * for tabulating a solved history).
 */
export function recfastPoint(x: number, y: ArrayLike<number>, q: ArrayLike<number>, pt: RecfastPoint): void {
  const z1 = Math.exp(-x);
  const fHe = heliumRatio(q[Q_YHE], HE_TO_H_MASS);
  const TR = q[Q_TCMB] * z1;
  const xH = -Math.expm1(y[IX_H]);
  const yHe = -Math.expm1(y[IY_HE]);
  const nH = nH0(q) * z1 * z1 * z1;
  const y3 = heliumIII(nH, TR, xH, yHe, fHe);
  const xe = xH + fHe * (yHe + y3);
  const H = q[Q_H] * H0_PER_S_PER_H * Math.sqrt(e2Of(q, x));
  const gammaC = (CT * TR * TR * TR * TR * xe) / (1 + fHe + xe);
  pt.xe = xe;
  pt.y3 = y3;
  pt.dTheta = -y[ITHETA] + (gammaC / H) * (1 - y[ITHETA]);
}

/**
 * The equilibrium state at x = ln a deep in the ionised era, to start the integration: hydrogen and helium I
 * by Saha (SSS eqs. 5-6: x_e x_H / (1 - x_H) = S_H / n_H, n_e y_HeII / (1 - y_He) = 4 S_HeI), He III by
 * heliumIII, and the quasi-static temperature Theta = g / (1 + g), g = Gamma_C / H (dTheta/d ln a = 0).
 */
export function sahaInitialState(x: number, q: ArrayLike<number>): Float64Array {
  const z1 = Math.exp(-x);
  const fHe = heliumRatio(q[Q_YHE], HE_TO_H_MASS);
  const TR = q[Q_TCMB] * z1;
  const nH = nH0(q) * z1 * z1 * z1;
  const s = sahaFactor(TR);
  const sH = s * Math.exp(-(HC_OVER_K * L_H_ION) / TR);
  const sHe = 4 * s * Math.exp(-(HC_OVER_K * L_HE1_ION) / TR);
  let xH = 1, yHe = 1, y3 = 0, uH = 0, uHe = 0;
  for (let it = 0; it < 50; it++) {
    y3 = heliumIII(nH, TR, xH, yHe, fHe);
    const ne = nH * (xH + fHe * (yHe + y3));
    // 1 - x_H = n_e x_H / S_H ... written as ln(1 - x_H) = -ln(1 + S_H/n_e); likewise for helium
    uH = -Math.log1p(sH / ne);
    xH = -Math.expm1(uH);
    uHe = Math.log(ne * (1 - y3)) - Math.log(sHe + ne); // n_e (y - y3) = S (1 - y)
    yHe = -Math.expm1(uHe);
  }
  const xe = xH + fHe * (yHe + y3);
  const H = q[Q_H] * H0_PER_S_PER_H * Math.sqrt(e2Of(q, x));
  const g = (CT * TR ** 4 * xe) / ((1 + fHe + xe) * H);
  return Float64Array.of(uH, uHe, g / (1 + g));
}
