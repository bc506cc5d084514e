/**
 * Contract of the `background` port: the homogeneous expansion history on a z grid.
 * Units: distances in Mpc, H in 1/Mpc (c = 1), E = H/H0 dimensionless. Every array may carry
 * forward-mode tangents with respect to the pipeline's varied parameters (DualArray).
 */
import type { Dual } from '../../core/ad/dual.js';
import type { DualArray } from '../../core/ad/dual-array.js';
import { blocks, checkAscending, checkDual, checkDualArray, checkObject, portContract, type Messages } from './check.js';

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
  /** Density parameters today (Omega_m = baryons + CDM + massive neutrinos; Omega_r = photons + massless neutrinos). */
  readonly Omega_m: Dual;
  /** Massive-neutrino density today (part of Omega_m; 0 or absent without them). Optional for other background plugins. */
  readonly Omega_nu?: Dual;
  readonly Omega_r: Dual;
  readonly Omega_k: Dual;
  readonly Omega_de: Dual;
  readonly w0: Dual;
  readonly wa: Dual;
  readonly h: Dual;
}

// ---------------------------------------------------------------------------------------------------------
// The port's contract, checked by the runtime on every computed output (plugins/contracts/check.ts)

const BACKGROUND_ARRAYS = ['E', 'chi_Mpc', 'dM_Mpc', 'D', 'f'] as const;
const BACKGROUND_SCALARS = ['H0_1overMpc', 'Omega_m', 'Omega_r', 'Omega_k', 'Omega_de', 'w0', 'wa', 'h'] as const;

/** z ascending from 0, every array of nz values, every scalar a finite Dual, tangent blocks consistent. */
export function checkBackground(x: unknown, out: Messages): void {
  if (!checkObject(out, x, 'a Background {z, E, chi_Mpc, dM_Mpc, D, f, H0_1overMpc, Omega_m, ...}')) return;
  const b = blocks();
  const nz = checkAscending(out, 'z', x.z) ? x.z.length : undefined;
  if (nz !== undefined && x.z instanceof Float64Array && x.z[0] !== 0) out.push(`z[0]: is ${x.z[0]}, expected 0 (the grid starts at z = 0)`);
  for (const f of BACKGROUND_ARRAYS) checkDualArray(out, f, x[f], nz, 'nz', b);
  for (const f of BACKGROUND_SCALARS) checkDual(out, f, x[f], b);
}

export const backgroundPort = portContract(
  'background',
  'Background: z ascending from 0; E, chi_Mpc, dM_Mpc, D, f DualArrays of nz values; H0_1overMpc, Omega_m, Omega_r, Omega_k, Omega_de, w0, wa, h Duals',
  checkBackground,
);
