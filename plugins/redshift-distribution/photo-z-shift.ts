/**
 * Photo-z shifts and unit normalisation of tomographic n_i(z), with their forward-mode tangents.
 *
 * Each bin is shifted in redshift, p_i(z) = s_i(z) / N_i with s_i(z) = r_i(z - dz_i), where r_i is the
 * unshifted (not necessarily normalised) distribution and N_i = Q[s_i] its integral over the grid under the
 * normalisation rule Q (a linear functional of the row). Differentiating (Q is linear),
 *
 *   dp_i/d dz_i = [ -r_i'(z - dz_i) + p_i(z) Q[r_i'(. - dz_i)] ] / N_i,
 *
 * the first term moving the distribution, the second keeping its integral at 1. Bins do not mix, so the
 * tangent block of a parameter theta is, in row i, (dp_i/d dz_i) (d dz_i/d theta).
 */
import type { Dual } from '../../core/ad/dual.js';
import type { DualArray } from '../../core/ad/dual-array.js';
import { solveSecondDerivs, splineFactor } from '../../core/numerics/spline.js';
import type { ParameterSpec } from '../../core/plugin/types.js';

/**
 * `trapezoid`: the trapezoid rule on the grid (the survey spec's rule for its table).
 * `spline`: the exact integral of the not-a-knot cubic spline through the grid values (what CCL does to a
 * tabulated dn/dz: Akima spline, integrated by QAG; on the ISTF table the two splines' integrals agree to 6e-11).
 * `none`: use the rows as given (they must already integrate to 1).
 */
export type NormalisationRule = 'trapezoid' | 'spline' | 'none';
export const NORMALISATION_RULES: readonly NormalisationRule[] = ['trapezoid', 'spline', 'none'];

/** Integral over the whole grid of the row y[off .. off+n) under a rule ('none' integrates with the trapezoid). */
export type RowIntegral = (y: Float64Array, off: number) => number;

export function rowIntegral(z: Float64Array, rule: NormalisationRule): RowIntegral {
  const n = z.length;
  const h = new Float64Array(n - 1);
  for (let k = 0; k < n - 1; k++) h[k] = z[k + 1] - z[k];
  const trapezoid: RowIntegral = (y, off) => {
    let s = 0;
    for (let k = 0; k < n - 1; k++) s += h[k] * (y[off + k] + y[off + k + 1]);
    return 0.5 * s;
  };
  if (rule !== 'spline' || n < 4) return trapezoid;
  // Spline integral over [z_k, z_k+1]: h (y_k + y_k+1)/2 - h^3 (m_k + m_k+1)/24  (m = S'' at the knots).
  const factor = splineFactor(z, 'not-a-knot');
  const m = new Float64Array(n);
  return (y, off) => {
    solveSecondDerivs(factor, y, off, m, 0);
    let s = 0;
    for (let k = 0; k < n - 1; k++) {
      const hk = h[k];
      s += 0.5 * hk * (y[off + k] + y[off + k + 1]) - (hk * hk * hk * (m[k] + m[k + 1])) / 24;
    }
    return s;
  };
}

/**
 * Normalised, shifted distributions as a DualArray (row-major bin-by-z).
 *
 * @param shifted  s_i(z_k) = r_i(z_k - dz_i), nBins rows of length nz (read only).
 * @param slopes   r_i'(z_k - dz_i) (derivative with respect to the argument), same layout; read only when some
 *                 dz_i carries a tangent (may be null otherwise).
 * @param dz       the shift parameters as duals (constants give no tangent).
 * @param names    parameter names of the shifts, for error messages (`dz_1`, ...).
 */
export function normaliseShifted(
  z: Float64Array,
  nBins: number,
  shifted: Float64Array,
  slopes: Float64Array | null,
  dz: readonly Dual[],
  rule: NormalisationRule,
  names: readonly string[],
): DualArray {
  const nz = z.length;
  const Q = rowIntegral(z, rule);
  const value = new Float64Array(nBins * nz);
  const norms = new Float64Array(nBins);
  for (let i = 0; i < nBins; i++) {
    const o = i * nz;
    const N = rule === 'none' ? 1 : Q(shifted, o);
    if (!(N > 0) || !Number.isFinite(N))
      throw new Error(`redshift distribution: bin ${i + 1} (shift ${names[i]} = ${dz[i].v}) has integral ${N} on the grid; cannot normalise`);
    norms[i] = N;
    const inv = 1 / N;
    for (let k = 0; k < nz; k++) value[o + k] = shifted[o + k] * inv;
  }
  let P = 0;
  for (const d of dz) if (d.d) P = d.d.length;
  if (P === 0) return { value, tangent: null, P: 0 };
  if (!slopes) throw new Error('normaliseShifted: slopes are required when a shift carries a tangent');
  const tangent = new Float64Array(P * nBins * nz);
  const dp = new Float64Array(nz);
  for (let i = 0; i < nBins; i++) {
    const seed = dz[i].d;
    if (!seed) continue;
    const o = i * nz;
    const inv = 1 / norms[i];
    // dp_i/d dz_i = (-r' + p Q[r']) / N   ('none': no renormalisation term)
    const qSlope = rule === 'none' ? 0 : Q(slopes, o);
    for (let k = 0; k < nz; k++) dp[k] = (-slopes[o + k] + value[o + k] * qSlope) * inv;
    for (let p = 0; p < P; p++) {
      const g = seed[p];
      if (g === 0) continue;
      const t = p * nBins * nz + o;
      for (let k = 0; k < nz; k++) tangent[t + k] = g * dp[k];
    }
  }
  return { value, tangent, P };
}

/**
 * Fraction of bin i's mass that a shift keeps on the grid, Q[s_i] / Q[r_i]; a shift that pushes most of a
 * distribution off the grid is an input error, not a silently renormalised sliver.
 */
export function checkRetainedMass(
  z: Float64Array,
  nBins: number,
  shifted: Float64Array,
  unshiftedNorms: Float64Array,
  dz: readonly Dual[],
  names: readonly string[],
  minFraction = 0.5,
): void {
  const Q = rowIntegral(z, 'trapezoid');
  for (let i = 0; i < nBins; i++) {
    if (dz[i].v === 0) continue;
    const f = Q(shifted, i * z.length) / unshiftedNorms[i];
    if (!(f >= minFraction))
      throw new Error(
        `parameter ${names[i]} = ${dz[i].v} shifts ${(100 * (1 - f)).toFixed(1)}% of n_${i + 1}(z) off the grid ` +
          `[${z[0]}, ${z[z.length - 1]}] (at most ${100 * (1 - minFraction)}% allowed); use a smaller shift or a wider grid`,
      );
  }
}

/** Bin-edge midpoints zbar_i = (e_i + e_{i+1})/2. */
export function edgeMidpoints(edges: readonly number[]): Float64Array {
  const out = new Float64Array(edges.length - 1);
  for (let i = 0; i < out.length; i++) out[i] = 0.5 * (edges[i] + edges[i + 1]);
  return out;
}

/** Mean redshift of each row, Int z p dz / Int p dz (trapezoid). */
export function meanRedshifts(z: Float64Array, nBins: number, rows: Float64Array): Float64Array {
  const nz = z.length;
  const out = new Float64Array(nBins);
  for (let i = 0; i < nBins; i++) {
    let s0 = 0, s1 = 0;
    for (let k = 0; k < nz - 1; k++) {
      const h = z[k + 1] - z[k];
      const a = rows[i * nz + k], b = rows[i * nz + k + 1];
      s0 += h * (a + b);
      s1 += h * (z[k] * a + z[k + 1] * b);
    }
    out[i] = s1 / s0;
  }
  return out;
}

/** Photo-z shift parameter names dz_1..dz_n and their specs (shared by every n(z) plugin). */
export function shiftParameterNames(nBins: number): string[] {
  return Array.from({ length: nBins }, (_, i) => `dz_${i + 1}`);
}

export function shiftParameterSpecs(nBins: number): Record<string, ParameterSpec> {
  const specs: Record<string, ParameterSpec> = {};
  for (const name of shiftParameterNames(nBins))
    specs[name] = {
      default: 0,
      description: `photo-z shift of bin ${name.slice(3)}: n_i(z) -> n_i(z - ${name}) (positive moves the bin to higher z)`,
      absStep: 1e-3,
    };
  return specs;
}

/**
 * Reverse mode of normaliseShifted: the bars of the shifts dz_i from the bar of the normalised rows p_i.
 * With dp_i/d dz_i = (-r_i'(z - dz_i) + p_i Q[r_i'(. - dz_i)]) / N_i (above) and Q linear,
 *   dzbar_i = sum_k pbar_ik dp_ik/d dz_i = ( -sum_k pbar_ik r'_ik + (sum_k pbar_ik p_ik) Q[r'_i] ) / N_i.
 * `value` are the normalised rows, `slopes` r_i'(z_k - dz_i), `norms` N_i (1 for 'none').
 */
export function normaliseShiftedAdjoint(
  z: Float64Array,
  nBins: number,
  value: Float64Array,
  slopes: Float64Array,
  norms: Float64Array,
  rule: NormalisationRule,
  pbar: Float64Array,
): Float64Array {
  const nz = z.length;
  const Q = rowIntegral(z, rule);
  const out = new Float64Array(nBins);
  for (let i = 0; i < nBins; i++) {
    const o = i * nz;
    let sr = 0, sp = 0;
    for (let k = 0; k < nz; k++) {
      sr += pbar[o + k] * slopes[o + k];
      sp += pbar[o + k] * value[o + k];
    }
    if (sr === 0 && sp === 0) continue;
    const qSlope = rule === 'none' ? 0 : Q(slopes, o);
    out[i] = (-sr + sp * qSlope) / norms[i];
  }
  return out;
}
