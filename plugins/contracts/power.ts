/**
 * Contract of the `linear-power` and `nonlinear-power` ports: the matter power spectrum on a (z, k) grid.
 * Units: k in 1/Mpc (log-spaced, ascending), P in Mpc^3. h-units appear only at file boundaries.
 */
import type { DualArray } from '../../core/ad/dual-array.js';
import { blocks, checkAscending, checkDualArray, checkObject, checkString, portContract, type Messages } from './check.js';

export interface PowerGrid {
  /** Wavenumbers [1/Mpc], ascending, log-spaced. */
  readonly k_1overMpc: Float64Array;
  /** Redshifts, ascending. */
  readonly z: Float64Array;
  /** P(k, z) [Mpc^3], row-major z-by-k: P[iz * nk + ik]; tangents parameter-major over the whole grid. */
  readonly P_Mpc3: DualArray;
  /** What produced it (e.g. `eisenstein-hu`, `halofit`), for metadata. */
  readonly source: string;
  /**
   * Optional, with massive neutrinos: the CDM + baryon P_cb(k, z) [Mpc^3] on the same grid, carried beside a
   * total-matter P (linear-power/boltzmann, linear-power/grid) so that pk.tsv gets its `Pcb_z<z>_Mpc3` columns.
   * Consumers do not read it: which spectrum a stage uses is wiring (a stage whose P_Mpc3 is P_cb, e.g.
   * `with.matter: "cb"`, on the input that wants it; docs/power.md "Which spectrum each probe uses").
   */
  readonly P_cb_Mpc3?: DualArray;
}

// ---------------------------------------------------------------------------------------------------------
// The port's contract (both power ports), checked by the runtime on every computed output

/** k positive and ascending, z ascending, P_Mpc3 of nz*nk values, a source string. */
export function checkPowerGrid(x: unknown, out: Messages): void {
  if (!checkObject(out, x, 'a PowerGrid {k_1overMpc, z, P_Mpc3, source}')) return;
  const k = x.k_1overMpc, z = x.z;
  const okK = checkAscending(out, 'k_1overMpc', k);
  if (okK && !(k[0] > 0)) out.push(`k_1overMpc[0]: ${k[0]} must be > 0 (k is log-spaced)`);
  const okZ = checkAscending(out, 'z', z, 1);
  const nk = okK ? k.length : 0, nz = okZ ? z.length : 0;
  checkDualArray(out, 'P_Mpc3', x.P_Mpc3, okK && okZ ? nz * nk : undefined, okK && okZ ? `nz*nk = ${nz}*${nk}` : undefined, blocks());
  if (x.P_cb_Mpc3 !== undefined)
    checkDualArray(out, 'P_cb_Mpc3', x.P_cb_Mpc3, okK && okZ ? nz * nk : undefined, okK && okZ ? `nz*nk = ${nz}*${nk}` : undefined, blocks());
  checkString(out, 'source', x.source);
}

const POWER_DESCRIPTION = 'PowerGrid: k_1overMpc > 0 ascending, z ascending, P_Mpc3 a DualArray of nz*nk values (row-major z-by-k), source';
export const linearPowerPort = portContract('linear-power', `linear ${POWER_DESCRIPTION}`, checkPowerGrid);
export const nonlinearPowerPort = portContract('nonlinear-power', `non-linear ${POWER_DESCRIPTION}`, checkPowerGrid);
