/**
 * The homogeneous quantities the recombination model needs, as a flat vector of "base" numbers so that the
 * ODE right-hand side can be evaluated at perturbed parameters (forward sensitivities):
 *
 *   q = (h, Omega_b, Omega_r, Omega_m, Omega_k, Omega_de, w0, wa, T_cmb, Y_He)
 *
 * Omega_r counts photons and massless neutrinos, Omega_m baryons + CDM (the Background contract). The
 * expansion rate is the Friedmann equation of a w0-wa universe (Chevallier & Polarski 2001, Linder 2003):
 *
 *   E^2(a) = Omega_r a^-4 + Omega_m a^-3 + Omega_k a^-2 + Omega_de a^(-3(1+w0+wa)) exp(-3 wa (1-a)),
 *
 * the same as background/w0wa (docs/background.md), recomputed here because the recombination ODE needs it
 * at arbitrary a and at perturbed parameters.
 *
 * Massive neutrinos (plugins/contracts/neutrinos.ts; q[Q_NA] = A, their density today were they massless, 0 when
 * m_nu = 0; q[Q_NM] = M0 = m/(k_B T_ncdm)): Omega_m counts them today, so (as background/expansion.ts)
 *
 *   E^2(a) += A a^-4 F(M0 a) - A F(M0) a^-3   (Fermi-Dirac density; Lesgourgues & Pastor 2006 eqs. 11-12).
 */
import type { Dual } from '../../core/ad/dual.js';
import { fermiDirac } from '../contracts/neutrinos.js';
import { G_NEWTON, M_HYDROGEN, MPC_IN_M, SIGMA_THOMSON } from './constants.js';

export const Q_H = 0, Q_OB = 1, Q_OR = 2, Q_OM = 3, Q_OK = 4, Q_ODE = 5, Q_W0 = 6, Q_WA = 7, Q_TCMB = 8, Q_YHE = 9;
/** Massive neutrinos: A = Omega_rel (density today were they massless; 0: none) and M0 = m/(k_B T_ncdm). */
export const Q_NA = 10, Q_NM = 11;
export const NQ = 12;
export const Q_NAMES = ['h', 'Omega_b', 'Omega_r', 'Omega_m', 'Omega_k', 'Omega_de', 'w0', 'wa', 'T_cmb', 'Y_He', 'nu_amplitude', 'nu_M0'] as const;

/** Scratch of the Fermi-Dirac lookups (single-threaded, no allocation per call). */
const FD = new Float64Array(4);
const FD0 = new Float64Array(4);

/** The massive-neutrino part of E^2: A a^-4 F(M0 a) - A F(M0) a^-3 (0 without them). */
function neutrinoE2(q: ArrayLike<number>, a: number): number {
  const A = q.length > Q_NA ? q[Q_NA] : 0;
  if (A === 0) return 0;
  fermiDirac(q[Q_NM] * a, FD);
  fermiDirac(q[Q_NM], FD0);
  const ia = 1 / a, ia3 = ia * ia * ia;
  return A * ia3 * (ia * FD[0] - FD0[0]);
}

/** H0 = 100 h km/s/Mpc in 1/s. */
export const H0_PER_S_PER_H = 1e5 / MPC_IN_M;

/** E^2(a) at x = ln a. */
export function e2Of(q: ArrayLike<number>, x: number): number {
  const a = Math.exp(x);
  const ia = 1 / a;
  const de = q[Q_ODE] * Math.exp(-3 * (1 + q[Q_W0] + q[Q_WA]) * x - 3 * q[Q_WA] * (1 - a));
  return ia * ia * (q[Q_OK] + ia * (q[Q_OM] + ia * q[Q_OR])) + de + neutrinoE2(q, a);
}

/**
 * d ln E / dq_j at x = ln a for every base quantity (into out, length NQ; h, T_cmb, Y_He give 0: E does not
 * depend on them once Omega_r is given).
 */
export function dlnEdq(q: ArrayLike<number>, x: number, out: Float64Array): void {
  const a = Math.exp(x);
  const ia = 1 / a;
  const g = Math.exp(-3 * (1 + q[Q_W0] + q[Q_WA]) * x - 3 * q[Q_WA] * (1 - a));
  const e2 = ia * ia * (q[Q_OK] + ia * (q[Q_OM] + ia * q[Q_OR])) + q[Q_ODE] * g + neutrinoE2(q, a);
  const s = 0.5 / e2;
  out.fill(0);
  out[Q_OR] = s * ia * ia * ia * ia;
  out[Q_OM] = s * ia * ia * ia;
  out[Q_OK] = s * ia * ia;
  out[Q_ODE] = s * g;
  out[Q_W0] = s * q[Q_ODE] * g * (-3 * x);
  out[Q_WA] = s * q[Q_ODE] * g * (-3 * x - 3 * (1 - a));
  const A = q.length > Q_NA ? q[Q_NA] : 0;
  if (A !== 0) {
    // d/dA [A a^-4 F(M0 a) - A F(M0) a^-3], d/dM0 [...] (neutrinoE2 filled FD, FD0 at this a)
    const ia3 = ia * ia * ia;
    out[Q_NA] = s * ia3 * (ia * FD[0] - FD0[0]);
    out[Q_NM] = s * A * ia3 * (FD[1] - FD0[1]);
  }
}

/**
 * The radiation and clustering-matter densities of the early universe (z >= 10^4, where the massive neutrinos
 * are relativistic: F(M0 a) - 1 < 1e-4 for m_nu < 1 eV), for the closed-form starts of tau and r_s:
 * Omega_r,early = Omega_r + A, Omega_m,early = Omega_m - A F(M0); and their derivatives along dq.
 */
export function earlyDensities(q: ArrayLike<number>): { Or: number; Om: number; F0: number; dF0: number } {
  const A = q.length > Q_NA ? q[Q_NA] : 0;
  if (A === 0) return { Or: q[Q_OR], Om: q[Q_OM], F0: 1, dF0: 0 };
  fermiDirac(q[Q_NM], FD0);
  return { Or: q[Q_OR] + A, Om: q[Q_OM] - A * FD0[0], F0: FD0[0], dF0: FD0[1] };
}

/** Hydrogen number density today [1/m^3]: n_H = 3 H0^2 Omega_b (1 - Y) / (8 pi G m_H). */
export function nH0(q: ArrayLike<number>): number {
  const H0 = q[Q_H] * H0_PER_S_PER_H;
  return (3 * H0 * H0 * q[Q_OB] * (1 - q[Q_YHE])) / (8 * Math.PI * G_NEWTON * M_HYDROGEN);
}

/** Thomson rate per free electron per hydrogen, today: kappa' = x_e n_H0 sigma_T a^-2 [1/Mpc]. */
export function kappaCoefficient(q: ArrayLike<number>): number {
  return nH0(q) * SIGMA_THOMSON * MPC_IN_M;
}

/** f_He = n_He / n_H = Y / (not4 (1 - Y)). */
export const heliumRatio = (Y: number, not4: number): number => Y / (not4 * (1 - Y));

/** Values and the tangent matrix J[j*P + p] = dq_j/dtheta_p of a list of base duals. */
export function baseVector(q: readonly Dual[], P: number): { q0: Float64Array; J: Float64Array } {
  const q0 = Float64Array.from(q, (d) => d.v);
  const J = new Float64Array(q.length * P);
  q.forEach((d, j) => {
    if (d.d) for (let p = 0; p < P; p++) J[j * P + p] = d.d[p];
  });
  return { q0, J };
}

/** Indices p with a nonzero column of J (the directions the ODE sensitivities must follow). */
export function activeDirections(J: Float64Array, nq: number, P: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < P; p++) {
    let any = false;
    for (let j = 0; j < nq; j++) if (J[j * P + p] !== 0) any = true;
    if (any) out.push(p);
  }
  return out;
}
