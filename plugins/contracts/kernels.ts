/**
 * Contract of the `weights` port: radial weights of each tracer on a z grid, so that (Limber)
 *   C_AB(l) = Integral dz  W_A(z) W_B(z) / (H(z) chi(z)^2) P((l+1/2)/chi(z), z)      [H in 1/Mpc, chi in Mpc]
 * Lensing tracers carry an l-dependent spin-2 prefactor F_l applied by the spectra stage.
 */
import type { DualArray } from '../../core/ad/dual-array.js';

export type TracerKind = 'lensing' | 'clustering';

export interface Kernels {
  /** z grid, ascending. */
  readonly z: Float64Array;
  /** Tracer names in order, e.g. L1..L10 then G1..G10. */
  readonly tracers: readonly string[];
  readonly kinds: readonly TracerKind[];
  /** W_A(z) [1/Mpc], row-major tracer-by-z; lensing rows include the NLA IA term, exclude F_l. */
  readonly W: DualArray;
  /** Per-tracer multiplicative factor (1 + m_i) for lensing, 1 for clustering, as duals' values/tangents. */
  readonly multiplicative: DualArray;
  /** Spin-2 prefactor convention for lensing tracers. */
  readonly shearPrefactor: 'exact' | 'none';
}
