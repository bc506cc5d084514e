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
 */
import type { Dual } from '../../core/ad/dual.js';
import { G_NEWTON, M_HYDROGEN, MPC_IN_M, SIGMA_THOMSON } from './constants.js';

export const Q_H = 0, Q_OB = 1, Q_OR = 2, Q_OM = 3, Q_OK = 4, Q_ODE = 5, Q_W0 = 6, Q_WA = 7, Q_TCMB = 8, Q_YHE = 9;
export const NQ = 10;
export const Q_NAMES = ['h', 'Omega_b', 'Omega_r', 'Omega_m', 'Omega_k', 'Omega_de', 'w0', 'wa', 'T_cmb', 'Y_He'] as const;

/** H0 = 100 h km/s/Mpc in 1/s. */
export const H0_PER_S_PER_H = 1e5 / MPC_IN_M;

/** E^2(a) at x = ln a. */
export function e2Of(q: ArrayLike<number>, x: number): number {
  const a = Math.exp(x);
  const ia = 1 / a;
  const de = q[Q_ODE] * Math.exp(-3 * (1 + q[Q_W0] + q[Q_WA]) * x - 3 * q[Q_WA] * (1 - a));
  return ia * ia * (q[Q_OK] + ia * (q[Q_OM] + ia * q[Q_OR])) + de;
}

/**
 * d ln E / dq_j at x = ln a for every base quantity (into out, length NQ; h, T_cmb, Y_He give 0: E does not
 * depend on them once Omega_r is given).
 */
export function dlnEdq(q: ArrayLike<number>, x: number, out: Float64Array): void {
  const a = Math.exp(x);
  const ia = 1 / a;
  const g = Math.exp(-3 * (1 + q[Q_W0] + q[Q_WA]) * x - 3 * q[Q_WA] * (1 - a));
  const e2 = ia * ia * (q[Q_OK] + ia * (q[Q_OM] + ia * q[Q_OR])) + q[Q_ODE] * g;
  const s = 0.5 / e2;
  out.fill(0);
  out[Q_OR] = s * ia * ia * ia * ia;
  out[Q_OM] = s * ia * ia * ia;
  out[Q_OK] = s * ia * ia;
  out[Q_ODE] = s * g;
  out[Q_W0] = s * q[Q_ODE] * g * (-3 * x);
  out[Q_WA] = s * q[Q_ODE] * g * (-3 * x - 3 * (1 - a));
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
