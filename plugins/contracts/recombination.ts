/**
 * Contract of the `recombination` port: the ionisation and thermal history of the baryons, and the optical
 * quantities of Thomson scattering that the Boltzmann hierarchy needs.
 *
 * Grid: z ascending from 0 to z_max, uniform in ln(1+z) (= -ln a), so that a reader can locate a ln a in
 * O(1). Above z_max the plasma is taken fully ionised (x_e = x_e_early, hydrogen and helium completely
 * ionised) and T_b = T_cmb (1 + z). Units: Mpc for conformal time and 1/Mpc for rates (c = 1), kelvin for
 * temperatures. Every array may carry forward-mode tangents with respect to the pipeline's varied parameters.
 */
import type { Dual } from '../../core/ad/dual.js';
import type { DualArray } from '../../core/ad/dual-array.js';
import { blocks, checkAscending, checkDual, checkDualArray, checkObject, checkString, portContract, type Messages } from './check.js';

export interface Recombination {
  /** Ascending redshifts, uniform in ln(1+z), z[0] = 0, z[n-1] = z_max. */
  readonly z: Float64Array;
  /** Free electrons per hydrogen nucleus, reionisation included. */
  readonly x_e: DualArray;
  /** Thomson scattering rate kappa' = a n_e sigma_T [1/Mpc]. */
  readonly kappa_prime_1overMpc: DualArray;
  /** exp(-kappa), kappa(z) = Integral_0^z kappa' dtau (optical depth from today). */
  readonly exp_minus_kappa: DualArray;
  /** Visibility function g = kappa' exp(-kappa) [1/Mpc]. */
  readonly g_1overMpc: DualArray;
  /** Baryon (matter) temperature [K]. */
  readonly T_b_K: DualArray;
  /** Baryon sound speed squared c_b^2 = (k_B T_b / mu m_H)(1 - (1/3) d ln T_b / d ln a), c = 1. */
  readonly c_b2: DualArray;
  /** Conformal time tau(z) [Mpc]. */
  readonly tau_Mpc: DualArray;
  /** Photon-baryon sound horizon r_s(z) = Integral_0^tau c_s dtau', c_s = 1/sqrt(3 (1 + R)) [Mpc]. */
  readonly r_s_Mpc: DualArray;
  /** x_e above z_max (1 + 2 f_He). */
  readonly x_e_early: Dual;
  /** kappa' = kappa_coefficient x_e (1+z)^2 [1/Mpc]: n_H0 sigma_T (Mpc in m). */
  readonly kappa_coefficient_1overMpc: Dual;
  readonly Y_He: Dual;
  /** n_He / n_H. */
  readonly f_He: Dual;
  /** Reionisation: tanh midpoint and optical depth (one of them an input). */
  readonly z_reio: Dual;
  readonly tau_reio: Dual;
  /** kappa(z_star) = 1. */
  readonly z_star: Dual;
  /** Baryon drag depth Integral kappa'/R dtau = 1, R = 3 rho_b / (4 rho_gamma). */
  readonly z_drag: Dual;
  /** Maximum of the visibility function. */
  readonly z_rec: Dual;
  readonly r_s_star_Mpc: Dual;
  readonly r_s_drag_Mpc: Dual;
  /** What produced it (e.g. `recfast`). */
  readonly source: string;
}

// ---------------------------------------------------------------------------------------------------------
// The port's contract, checked by the runtime on every computed output

const RECOMBINATION_ARRAYS = ['x_e', 'kappa_prime_1overMpc', 'exp_minus_kappa', 'g_1overMpc', 'T_b_K', 'c_b2', 'tau_Mpc', 'r_s_Mpc'] as const;
const RECOMBINATION_SCALARS = [
  'x_e_early', 'kappa_coefficient_1overMpc', 'Y_He', 'f_He', 'z_reio', 'tau_reio', 'z_star', 'z_drag', 'z_rec', 'r_s_star_Mpc', 'r_s_drag_Mpc',
] as const;

/** z ascending from 0, every array of nz values, every scalar a finite Dual, a source. */
export function checkRecombination(x: unknown, out: Messages): void {
  if (!checkObject(out, x, 'a Recombination {z, x_e, kappa_prime_1overMpc, ...}')) return;
  const b = blocks();
  const nz = checkAscending(out, 'z', x.z) ? x.z.length : undefined;
  if (nz !== undefined && (x.z as Float64Array)[0] !== 0) out.push(`z[0]: is ${(x.z as Float64Array)[0]}, expected 0 (the grid starts at z = 0)`);
  for (const f of RECOMBINATION_ARRAYS) checkDualArray(out, f, x[f], nz, 'nz', b);
  for (const f of RECOMBINATION_SCALARS) checkDual(out, f, x[f], b);
  checkString(out, 'source', x.source);
}

export const recombinationPort = portContract(
  'recombination',
  `Recombination: z ascending from 0; ${RECOMBINATION_ARRAYS.join(', ')} DualArrays of nz values; ${RECOMBINATION_SCALARS.join(', ')} Duals; source`,
  checkRecombination,
);
