/**
 * Evaluate a tabulated Background at arbitrary redshifts, with tangents: the helper the weights, Limber
 * and Halofit stages use.
 *
 * Interpolation is a not-a-knot cubic spline in s = ln(1+z) (= -ln a), the variable the default grid is
 * uniform in; chi, E, D and f are smooth in it from z = 0 up (chi ~ s near 0, D ~ e^-s in matter
 * domination). Tangents: the spline of each tangent block (core/ad/interp.ts), plus the chain rule
 * through z when z itself is a DualArray.
 */
import { type DualArray, mapUnary } from '../../core/ad/dual-array.js';
import { interpDual } from '../../core/ad/interp.js';
import { interpAdjoint } from '../../core/ad/interp-adjoint.js';
import type { Background } from './background.js';

export interface BackgroundSample {
  /** H/H0 */
  E: DualArray;
  chi_Mpc: DualArray;
  /** Transverse comoving distance (= chi when flat); d_A = d_M/(1+z). */
  dM_Mpc: DualArray;
  D: DualArray;
  f: DualArray;
}

/** ln(1+z) of each background grid, computed once per Background object. */
const lnGrid = new WeakMap<Float64Array, Float64Array>();

function gridOf(bg: Background): Float64Array {
  let s = lnGrid.get(bg.z);
  if (!s) {
    s = new Float64Array(bg.z.length);
    for (let i = 0; i < s.length; i++) s[i] = Math.log1p(bg.z[i]);
    lnGrid.set(bg.z, s);
  }
  return s;
}

/** The grid in ln(1+z) and the queries s = ln(1+z) (a DualArray when z carries tangents), after the range check. */
function queriesOf(bg: Background, z: Float64Array | DualArray): { x: Float64Array; s: Float64Array | DualArray } {
  const zv = z instanceof Float64Array ? z : z.value;
  const zMax = bg.z[bg.z.length - 1];
  for (let i = 0; i < zv.length; i++)
    if (!(zv[i] >= 0 && zv[i] <= zMax * (1 + 1e-12)))
      throw new Error(
        `backgroundAt: z = ${zv[i]} is outside the tabulated range [0, ${zMax}]; ` +
          'raise with.z_max of the background stage (or ask for z inside it)',
      );
  const s: Float64Array | DualArray =
    z instanceof Float64Array ? Float64Array.from(z, Math.log1p) : mapUnary(z, Math.log1p, (v) => 1 / (1 + v));
  return { x: gridOf(bg), s };
}

/** E, chi, d_M, D and f at the redshifts z (within the tabulated range [0, z_max]). */
export function backgroundAt(bg: Background, z: Float64Array | DualArray): BackgroundSample {
  const { x, s } = queriesOf(bg, z);
  return {
    E: interpDual(x, bg.E, s),
    chi_Mpc: interpDual(x, bg.chi_Mpc, s),
    dM_Mpc: interpDual(x, bg.dM_Mpc, s),
    D: interpDual(x, bg.D, s),
    f: interpDual(x, bg.f, s),
  };
}

/** One field of backgroundAt (the same spline), for a consumer that needs only that one. */
export function backgroundFieldAt(bg: Background, z: Float64Array | DualArray, field: keyof BackgroundSample): DualArray {
  const { x, s } = queriesOf(bg, z);
  return interpDual(x, bg[field], s);
}

/** Bars of the sampled quantities (reverse mode): arrays over the query redshifts, any subset. */
export type BackgroundSampleBar = Partial<Record<'E' | 'chi_Mpc' | 'dM_Mpc' | 'D' | 'f', Float64Array>>;

/**
 * Reverse mode of backgroundAt with the redshifts fixed: the bars of E, chi, d_M, D, f at the queries z
 * pulled back onto the Background's grid (the transposed spline in ln(1+z), core/ad/interp-adjoint.ts).
 * Returns a bar of the Background with only the fields that received one.
 */
export function backgroundAtAdjoint(bg: Background, z: Float64Array, bar: BackgroundSampleBar): BackgroundSampleBar {
  const x = gridOf(bg);
  const s = Float64Array.from(z, Math.log1p);
  const out: BackgroundSampleBar = {};
  for (const key of ['E', 'chi_Mpc', 'dM_Mpc', 'D', 'f'] as const) {
    const b = bar[key];
    if (!b) continue;
    if (b.length !== z.length) throw new Error(`backgroundAtAdjoint: the bar of ${key} has ${b.length} values for ${z.length} redshifts`);
    const ybar = new Float64Array(x.length);
    interpAdjoint(x, s, b, ybar);
    out[key] = ybar;
  }
  return out;
}
