/**
 * Radiation density today: CMB photons plus massless neutrinos, from T_cmb and N_eff.
 *
 *   rho_gamma = (4 sigma_B / c) T_cmb^4                         (black body; = pi^2/15 T^4 in natural units)
 *   rho_crit  = 3 H0^2 / (8 pi G),   H0 = 100 h km/s/Mpc
 *   Omega_gamma h^2 = rho_gamma / rho_crit(h = 1)
 *   Omega_ur = N_eff (7/8) (4/11)^(4/3) Omega_gamma          (instantaneous decoupling: T_nu = (4/11)^(1/3) T_cmb)
 *
 * Constants are those CLASS v3 uses (include/background.h), so that Omega_g and Omega_ur reproduce CLASS's
 * derived values (reference/class/README.md: Omega_g = 5.50897589856e-05, Omega_ur = 3.81093814014e-05 at
 * h = 0.67, T_cmb = 2.7255 K) to 1e-12. CLASS builds sigma_B = 2 pi^5 k_B^4 / (15 h_P^3 c^2) from CODATA 2006
 * k_B and h_P (sigma_B = 5.670400e-8 W m^-2 K^-4) and uses G = 6.67428e-11; the CODATA 2018 values
 * (sigma_B = 5.670374e-8, G = 6.67430e-11) would give Omega_gamma 4.6e-6 lower — a difference we measured
 * and chose not to carry, since the references are CLASS and CCL (CCL quotes the same Omega_gamma = 5.50897e-5).
 */
import { type Dual, add, chain, div, mul, scale } from '../../core/ad/dual.js';

/** Speed of light [m/s] (exact). */
export const C_M_PER_S = 2.99792458e8;
/** Speed of light [km/s]: H0 [1/Mpc] = 100 h / C_KM_PER_S. */
export const C_KM_PER_S = 2.99792458e5;
/** Megaparsec [m] (CLASS _Mpc_over_m_). */
export const MPC_M = 3.085677581282e22;
/** Newton's constant [m^3 kg^-1 s^-2] (CLASS _G_, CODATA 2006). */
export const G_SI = 6.67428e-11;
/** Boltzmann and Planck constants as CLASS v3 uses them (CODATA 2006). */
export const K_B = 1.3806504e-23;
export const H_PLANCK = 6.62606896e-34;
/** Stefan-Boltzmann constant [W m^-2 K^-4] = 2 pi^5 k_B^4 / (15 h^3 c^2). */
export const SIGMA_B = (2 * Math.PI ** 5 * K_B ** 4) / (15 * H_PLANCK ** 3 * C_M_PER_S ** 2);

/** Energy density of massless neutrinos per effective species, relative to photons: (7/8)(4/11)^(4/3). */
export const UR_PER_NEFF = (7 / 8) * Math.pow(4 / 11, 4 / 3);

/** Omega_gamma h^2 for a CMB temperature T_cmb [K]. */
export function omegaGammaH2(T_cmb: number): number {
  const rhoGamma = ((4 * SIGMA_B) / C_M_PER_S) * T_cmb ** 4; // J/m^3
  const H100 = 1e5 / MPC_M; // 100 km/s/Mpc in 1/s
  const rhoCrit100 = (3 * C_M_PER_S ** 2 * H100 * H100) / (8 * Math.PI * G_SI); // J/m^3 for h = 1
  return rhoGamma / rhoCrit100;
}

export interface RadiationDensities {
  Omega_gamma: Dual;
  Omega_ur: Dual;
  /** Omega_gamma + Omega_ur */
  Omega_r: Dual;
}

/** Omega_gamma = (Omega_gamma h^2)(T_cmb) / h^2 and Omega_ur = N_eff (7/8)(4/11)^(4/3) Omega_gamma, as duals. */
export function radiationDensities(h: Dual, T_cmb: Dual, N_eff: Dual): RadiationDensities {
  const og2 = omegaGammaH2(T_cmb.v);
  // d(Omega_gamma h^2)/dT = 4 Omega_gamma h^2 / T
  const ogh2 = chain(T_cmb, og2, (4 * og2) / T_cmb.v);
  const Omega_gamma = div(ogh2, mul(h, h));
  const Omega_ur = mul(scale(N_eff, UR_PER_NEFF), Omega_gamma);
  const Omega_r = add(Omega_gamma, Omega_ur);
  return { Omega_gamma, Omega_ur, Omega_r };
}

