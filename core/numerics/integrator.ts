/**
 * The `integrator` method contract. Every quadrature here reduces to a rule — nodes x and weights w
 * with  Integral_a^b f(x) dx ~ sum_i w_i f(x_i)  — so an integral of a DualArray is a weighted sum and
 * forward-mode tangents pass through it exactly (core/ad/dual-array.ts: weightedSum).
 *
 * Adaptivity picks the rule: `adaptRule` refines until the integral of a probe function converges to the
 * configured tolerance, then returns that rule; integrals of the tangents use the same nodes.
 */
export interface QuadratureRule {
  readonly x: Float64Array;
  readonly w: Float64Array;
}

/** Vectorised integrand: fill out[i] = f(x[i]). */
export type VectorIntegrand = (x: Float64Array, out: Float64Array) => void;

export interface Integrator {
  /** Method name as bound in the pipeline (`newton-cotes`, `romberg`, `gauss-legendre`). */
  readonly name: string;
  /** Relative tolerance this instance was configured with (its default when the config names none). */
  readonly rtol: number;
  /**
   * The method's config set `rtol` explicitly. A stage with an accuracy setting of its own for the same integral
   * (spectra/limber's `rtol` for its z nodes) then follows the integrator's rtol instead of its own, so an rtol
   * written in the pipeline's `methods` is never silently overridden. Absent: false.
   */
  readonly rtolGiven?: boolean;
  /** Refine until the integral of f over [a, b] converges to rtol (absolute floor atol); return the rule used. */
  adaptRule(f: VectorIntegrand, a: number, b: number, atol?: number): QuadratureRule;
  /** Definite integral of a scalar function to the configured tolerance. */
  integrate(f: (x: number) => number, a: number, b: number): number;
  /**
   * A rule of fixed size on [a, b] (no adaptivity). `level` counts refinements: larger is finer; the
   * number of nodes grows with it in the method's own way (panels, Romberg levels, Gauss points).
   */
  fixedRule(a: number, b: number, level: number): QuadratureRule;
}
