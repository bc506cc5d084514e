/**
 * Contract of the `background` port: the homogeneous expansion history on a z grid.
 * Units: distances in Mpc, H in 1/Mpc (c = 1), E = H/H0 dimensionless. Every array may carry
 * forward-mode tangents with respect to the pipeline's varied parameters (DualArray).
 */
import type { Dual } from '../../core/ad/dual.js';
import type { DualArray } from '../../core/ad/dual-array.js';

export interface Background {
  /** Grid the arrays are tabulated on, ascending from z = 0 to z_max (dense enough for cubic splines to 1e-7). */
  readonly z: Float64Array;
  /** E(z) = H(z)/H0, radiation included. */
  readonly E: DualArray;
  /** Line-of-sight comoving distance chi(z) [Mpc]. */
  readonly chi_Mpc: DualArray;
  /** Transverse comoving distance [Mpc] (= chi when flat). */
  readonly dM_Mpc: DualArray;
  /** Linear growth D(z), D(0) = 1 (scale independent; source: baryons + CDM). */
  readonly D: DualArray;
  /** Growth rate f = d ln D / d ln a. */
  readonly f: DualArray;
  /** H0 / c [1/Mpc]. */
  readonly H0_1overMpc: Dual;
  /** Density parameters today (Omega_m = baryons + CDM; Omega_r = photons + massless neutrinos). */
  readonly Omega_m: Dual;
  readonly Omega_r: Dual;
  readonly Omega_k: Dual;
  readonly Omega_de: Dual;
  readonly w0: Dual;
  readonly wa: Dual;
  readonly h: Dual;
}
