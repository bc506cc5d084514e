/**
 * Contract of the `weights` port: a set of tracers, each owning its physics (CCL's pyccl/tracers.py,
 * jax-cosmo's probes.py): its radial kernel, its l-dependent prefactor, its noise, its probe family and the
 * power spectrum it correlates through. The spectra and likelihood stages are generic over tracers: they
 * never look at a tracer's name.
 *
 * In the Limber approximation a pair of tracers A, B gives
 *
 *   C_AB(l) = F_A(l) F_B(l) (1+m_A)(1+m_B) Integral dz  W_A(z) W_B(z) / (H(z) chi(z)^2) P_AB((l+1/2)/chi, z)
 *
 * with W [1/Mpc] the radial kernel on the set's z grid, F the tracer's l-factor (ELL_FACTORS), m its
 * multiplicative bias and P_AB the spectrum both tracers name (`power`).
 */
import type { DualArray } from '../../core/ad/dual-array.js';

/**
 * The l-dependent prefactor of a tracer in Limber (k chi = l + 1/2), as CCL's der_angles with der_bessel = -1:
 *   'spin2':       sqrt((l+2)(l+1) l (l-1)) / (l+1/2)^2   (shear, and IA through the shear tracer)
 *   'convergence': l (l+1) / (l+1/2)^2                     (a convergence field, e.g. CMB lensing kappa)
 *   'none':        1                                       (number counts)
 */
export type EllFactor = 'spin2' | 'convergence' | 'none';

export interface Tracer {
  /** Unique name within a pipeline, e.g. `L1`, `G10`, `K`. */
  readonly name: string;
  /**
   * Probe family: the likelihood's blocks, l_max and the probe selection are per family (e.g. 'WL' cosmic
   * shear, 'GC' photometric clustering, 'CMBK' CMB lensing convergence). Free-form: a plugin may add one.
   */
  readonly family: string;
  /** Letter(s) of the family in spectrum names: `L` gives LL_1_2, GL_3_1, KL_4. */
  readonly code: string;
  /** Bin number in spectrum names (1-based); absent for a tracer that is alone in its family (`K`). */
  readonly index?: number;
  /** LaTeX label for plots. */
  readonly latex?: string;
  readonly ellFactor: EllFactor;
  /**
   * Which 3D spectrum the tracer correlates through: a key the spectra stage maps to one of its power
   * inputs ('matter' = the default power input). A pair whose tracers name different keys uses the geometric
   * mean of the two spectra (docs/spectra.md).
   */
  readonly power: string;
  /** White noise of the auto-spectrum N_AA [sr] (shape noise sigma_eps^2/nbar, shot noise 1/nbar; 0 for none). */
  readonly noise: number;
}

export interface TracerSet {
  /** z grid of the kernels, ascending, z > 0 where any kernel is non-zero. */
  readonly z: Float64Array;
  readonly tracers: readonly Tracer[];
  /** W_A(z) [1/Mpc], row-major tracer-by-z (l-factor and multiplicative bias excluded). */
  readonly W: DualArray;
  /** Per-tracer multiplicative factor (1 + m_A) (1 for tracers without one), with tangents. */
  readonly multiplicative: DualArray;
  /** Largest redshift at which a kernel is non-zero (e.g. the CMB's source redshift), for coverage checks. */
  readonly z_max: number;
}

/** (180 * 60 / pi)^2: square arcminutes per steradian (noise from galaxy densities per arcmin^2). */
export const ARCMIN2_PER_SR = (180 * 60 / Math.PI) ** 2;

/** The l-factor F(l) of one tracer. */
export function ellFactor(kind: EllFactor, l: number): number {
  const lp = l + 0.5;
  if (kind === 'spin2') return l < 2 ? 0 : Math.sqrt((l + 2) * (l + 1) * l * (l - 1)) / (lp * lp);
  if (kind === 'convergence') return (l * (l + 1)) / (lp * lp);
  return 1;
}

/** A spectrum's name: codes of both tracers (the later family first), then the indices present. */
export function pairName(a: Tracer, b: Tracer): string {
  const idx = [a.index, b.index].filter((i): i is number => i !== undefined);
  return [`${a.code}${b.code}`, ...idx].join('_');
}
