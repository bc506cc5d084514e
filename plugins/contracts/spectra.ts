/**
 * Contract of the `spectra` port: angular power spectra C_AB(l) of tracer pairs (dimensionless, per sr).
 */
import type { DualArray } from '../../core/ad/dual-array.js';

export interface Spectra {
  /** Multipoles (may be non-integer, as Limber allows). */
  readonly ell: Float64Array;
  /** Tracer names, e.g. L1..L10, G1..G10. */
  readonly tracers: readonly string[];
  /** Pair names in output order, e.g. LL_1_1, ..., GL_1_1 (= G1 x L1), ..., GG_10_10. */
  readonly pairNames: readonly string[];
  /** Tracer indices [A, B] of each pair. */
  readonly pairs: readonly (readonly [number, number])[];
  /** C[pair * nEll + iEll], tangents parameter-major. */
  readonly C: DualArray;
  /** Settings used (quadrature nodes, k range, prefactor), for metadata. */
  readonly settings: Record<string, unknown>;
}
