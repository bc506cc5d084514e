/**
 * Contract of the `linear-power` and `nonlinear-power` ports: the matter power spectrum on a (z, k) grid.
 * Units: k in 1/Mpc (log-spaced, ascending), P in Mpc^3. h-units appear only at file boundaries.
 */
import type { DualArray } from '../../core/ad/dual-array.js';

export interface PowerGrid {
  /** Wavenumbers [1/Mpc], ascending, log-spaced. */
  readonly k_1overMpc: Float64Array;
  /** Redshifts, ascending. */
  readonly z: Float64Array;
  /** P(k, z) [Mpc^3], row-major z-by-k: P[iz * nk + ik]; tangents parameter-major over the whole grid. */
  readonly P_Mpc3: DualArray;
  /** What produced it (e.g. `eisenstein-hu`, `halofit`), for metadata. */
  readonly source: string;
}
