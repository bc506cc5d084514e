/**
 * Contract of the `redshift-distribution` port: tomographic n_i(z), each normalised to unit integral
 * over its z grid.
 */
import type { DualArray } from '../../core/ad/dual-array.js';

export interface RedshiftDistribution {
  /** Common z grid, ascending. */
  readonly z: Float64Array;
  readonly nBins: number;
  /** p_i(z), row-major bin-by-z: n[i * nz + iz]; unit integral per bin. Tangents carry photo-z shifts dz_i. */
  readonly n: DualArray;
  /** Mean redshift of each bin (or bin-edge midpoint, see `zbarDefinition`). */
  readonly zbar: Float64Array;
  readonly zbarDefinition: string;
}
