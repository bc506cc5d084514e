/**
 * Distances of a w0-wa universe on a redshift grid, with tangents in the base space of expansion.ts
 * (Omega_r, Omega_m, Omega_k, Omega_de, w0, wa). All results here are dimensionless (in units of c/H0);
 * the caller divides by H0 [1/Mpc] with scalar duals (h enters only there and through Omega_r).
 *
 *   line of sight:  U(z) = H0 chi(z) = Integral_0^z dz'/E(z')                         (Hogg 1999, eq. 15)
 *   transverse:     V(z) = H0 d_M(z) = U S(Omega_k U^2),  S(u) = sinh(sqrt u)/sqrt u  (u > 0),
 *                                                          sin(sqrt -u)/sqrt -u        (u < 0)  (Hogg eq. 16)
 *   conformal time: T(z) = H0 tau(z) = Integral_0^a(z) da'/(a'^2 E(a'))
 *
 * The integrals use the injected Integrator: one rule per grid interval (chosen by its own adaptivity on
 * the value of 1/E), summed cumulatively; the base-space tangents are weighted sums on the same nodes,
 * d(1/E)/dq_k = -(1/2) E^-3 dE^2/dq_k, so they are exact derivatives of the quadrature.
 */
import type { Integrator, QuadratureRule } from '../../core/numerics/integrator.js';
import {
  DQ_E2, E2, EXPANSION_SCRATCH, type ExpansionCoefficients, NB, e2At, expansionAt, nonPositiveE2Error,
} from './expansion.js';

/** A value array on the grid and, optionally, NB base tangent blocks (base[k*n + i] = d value_i / d q_k). */
export interface BaseArray {
  value: Float64Array;
  base: Float64Array | null;
}

/**
 * The quadrature rule of grid interval [z_{i-1}, z_i] for Integral dz/E: the integrator adapts it on 1/E (values
 * only), with an absolute floor far below rtol times the interval's integral (>= dz/E(z_i)), so rtol decides.
 */
export function intervalRules(c: ExpansionCoefficients, z: Float64Array, integrator: Integrator): (i: number) => QuadratureRule {
  // 1/E(z) at the nodes, for the integrator's adaptivity (values only).
  const probe = (zq: Float64Array, out: Float64Array): void => {
    for (let j = 0; j < zq.length; j++) {
      const e2 = e2At(c, -Math.log1p(zq[j]));
      if (!(e2 > 0)) throw nonPositiveE2Error(c, zq[j], e2);
      out[j] = 1 / Math.sqrt(e2);
    }
  };
  return (i) => {
    const floor = (1e-3 * integrator.rtol * (z[i] - z[i - 1])) / Math.sqrt(Math.abs(e2At(c, -Math.log1p(z[i]))));
    return integrator.adaptRule(probe, z[i - 1], z[i], floor);
  };
}

/**
 * U(z) = H0 chi(z) on the ascending grid z (z[0] = 0), cumulatively over the grid intervals with the
 * integrator's rules. withBase: also accumulate dU/dq_k.
 */
export function lineOfSightDistance(
  c: ExpansionCoefficients,
  z: Float64Array,
  integrator: Integrator,
  withBase: boolean,
): BaseArray {
  const n = z.length;
  const value = new Float64Array(n);
  const base = withBase ? new Float64Array(NB * n) : null;
  const scratch = new Float64Array(EXPANSION_SCRATCH);
  const acc = new Float64Array(NB);
  const ruleOf = intervalRules(c, z, integrator);
  let U = 0;
  for (let i = 1; i < n; i++) {
    const rule = ruleOf(i);
    const xs = rule.x, ws = rule.w;
    let s = 0;
    if (base) acc.fill(0);
    for (let j = 0; j < xs.length; j++) {
      expansionAt(c, -Math.log1p(xs[j]), scratch);
      const e2 = scratch[E2];
      if (!(e2 > 0)) throw nonPositiveE2Error(c, xs[j], e2);
      const invE = 1 / Math.sqrt(e2);
      s += ws[j] * invE;
      if (base) {
        const g = -0.5 * ws[j] * invE * invE * invE; // w d(1/E)/dE^2
        for (let k = 0; k < NB; k++) acc[k] += g * scratch[DQ_E2 + k];
      }
    }
    U += s;
    value[i] = U;
    if (base) for (let k = 0; k < NB; k++) base[k * n + i] = base[k * n + i - 1] + acc[k];
  }
  return { value, base };
}

/** (2j+1)! for j = 0..11. */
const ODD_FACTORIALS = (() => {
  const f = new Float64Array(12);
  let acc = 1;
  for (let j = 0; j < 12; j++) {
    // (2j+1)!
    if (j > 0) acc *= 2 * j * (2 * j + 1);
    f[j] = acc;
  }
  return f;
})();

/** S(u) = sinh(sqrt u)/sqrt u (continued to u < 0 as sin) and dS/du; Taylor series for |u| < 0.1. */
function curvatureFactor(u: number, out: Float64Array): void {
  if (Math.abs(u) < 0.1) {
    // S = sum_j u^j/(2j+1)!, S' = sum_j j u^(j-1)/(2j+1)!; 9 terms: remainder < 0.1^9/19! ~ 1e-26
    let S = 0, dS = 0, up = 1, upm1 = 0;
    for (let j = 0; j < 9; j++) {
      S += up / ODD_FACTORIALS[j];
      if (j > 0) dS += (j * upm1) / ODD_FACTORIALS[j];
      upm1 = up;
      up *= u;
    }
    out[0] = S;
    out[1] = dS;
    return;
  }
  if (u > 0) {
    const s = Math.sqrt(u);
    const sh = Math.sinh(s), ch = Math.cosh(s);
    out[0] = sh / s;
    out[1] = (s * ch - sh) / (2 * s * s * s);
  } else {
    const s = Math.sqrt(-u);
    const sn = Math.sin(s), cs = Math.cos(s);
    out[0] = sn / s;
    out[1] = -(s * cs - sn) / (2 * s * s * s);
  }
}


/**
 * V = H0 d_M = U S(Omega_k U^2) from U = H0 chi, with base tangents
 * dV/dq_k = (S + 2 Omega_k U^2 S') dU/dq_k + U^3 S' [q_k = Omega_k].
 * A closed universe whose grid reaches the antipode (sqrt(-Omega_k) U >= pi) is an error.
 */
export function transverseDistance(U: BaseArray, Ok: number, z: Float64Array): BaseArray {
  const n = U.value.length;
  const value = new Float64Array(n);
  const base = U.base ? new Float64Array(NB * n) : null;
  const sf = new Float64Array(2);
  for (let i = 0; i < n; i++) {
    const u0 = U.value[i];
    const u = Ok * u0 * u0;
    if (Ok < 0 && Math.sqrt(-u) >= Math.PI)
      throw new Error(
        `background/w0wa: parameters.Omega_k = ${Ok} closes the universe before z = ${z[i].toPrecision(4)} ` +
          `(sqrt(-Omega_k) H0 chi = ${Math.sqrt(-u).toFixed(3)} >= pi: the grid reaches the antipode); ` +
          `use a smaller |Omega_k| or a smaller z_max.`,
      );
    curvatureFactor(u, sf);
    value[i] = u0 * sf[0];
    if (base && U.base) {
      const gU = sf[0] + 2 * u * sf[1];
      for (let k = 0; k < NB; k++) base[k * n + i] = gU * U.base[k * n + i];
      base[2 * n + i] += u0 * u0 * u0 * sf[1]; // q_2 = Omega_k
    }
  }
  return { value, base };
}

/**
 * T(z) = H0 tau(z), conformal time since the big bang, on the grid: T(z) = T(z_max) + U(z_max) - U(z).
 * T(z_max) = Integral_0^a_top da/(a^2 E): analytic below a_ini for radiation + matter,
 *   Integral_0^a da/sqrt(Omega_r + Omega_m a) = 2 (sqrt(Omega_r + Omega_m a) - sqrt(Omega_r)) / Omega_m,
 * (curvature and dark energy change it by O(a_ini^2) relative), then the integrator in x = ln a on
 * [ln a_ini, ln a_top] with integrand 1/(a E).
 */
export function conformalTime(
  c: ExpansionCoefficients,
  U: BaseArray,
  z: Float64Array,
  aIni: number,
  integrator: Integrator,
): BaseArray {
  const n = z.length;
  const xTop = -Math.log1p(z[n - 1]);
  const xIni = Math.log(aIni);
  const scratch = new Float64Array(EXPANSION_SCRATCH);
  const probe = (xq: Float64Array, out: Float64Array): void => {
    for (let j = 0; j < xq.length; j++) {
      const e2 = e2At(c, xq[j]);
      if (!(e2 > 0)) throw nonPositiveE2Error(c, Math.expm1(-xq[j]), e2);
      out[j] = 1 / (Math.exp(xq[j]) * Math.sqrt(e2));
    }
  };
  // Early part, analytic.
  const r = Math.sqrt(c.Or + c.Om * aIni), r0 = Math.sqrt(c.Or);
  let T = (2 * (r - r0)) / c.Om;
  const dT = new Float64Array(NB);
  dT[0] = (1 / r - 1 / r0) / c.Om; // d/dOmega_r
  dT[1] = aIni / (c.Om * r) - T / c.Om; // d/dOmega_m
  if (xTop > xIni) {
    const rule = integrator.adaptRule(probe, xIni, xTop, 1e-3 * integrator.rtol * T);
    for (let j = 0; j < rule.x.length; j++) {
      const x = rule.x[j];
      expansionAt(c, x, scratch);
      const e2 = scratch[E2];
      if (!(e2 > 0)) throw nonPositiveE2Error(c, Math.expm1(-x), e2);
      const E = Math.sqrt(e2);
      const v = 1 / (Math.exp(x) * E);
      T += rule.w[j] * v;
      const g = (-0.5 * rule.w[j] * v) / e2;
      for (let k = 0; k < NB; k++) dT[k] += g * scratch[DQ_E2 + k];
    }
  }
  const value = new Float64Array(n);
  const base = U.base ? new Float64Array(NB * n) : null;
  const Utop = U.value[n - 1];
  for (let i = 0; i < n; i++) value[i] = T + Utop - U.value[i];
  if (base && U.base)
    for (let k = 0; k < NB; k++) {
      const o = k * n;
      const top = U.base[o + n - 1];
      for (let i = 0; i < n; i++) base[o + i] = dT[k] + top - U.base[o + i];
    }
  return { value, base };
}

// ---------------------------------------------------------------------------------------------------------
// Reverse mode: bars of U, V, T pulled back to the base quantities q (and to U)

/**
 * qbar_k += sum_i Ubar_i dU_i/dq_k for U = H0 chi. U_i = sum_{j <= i} s_j with s_j = sum_nodes w/E the
 * integral over interval j, so sbar_j = sum_{i >= j} Ubar_i (a running sum from the top), and
 * d(1/E)/dq_k = -(1/2) E^-3 dE^2/dq_k at each node of the interval's rule (the rules of the forward run:
 * intervalRules adapts on the same values).
 */
export function lineOfSightDistanceAdjoint(c: ExpansionCoefficients, z: Float64Array, integrator: Integrator, Ubar: Float64Array, qbar: Float64Array): void {
  const n = z.length;
  const scratch = new Float64Array(EXPANSION_SCRATCH);
  const ruleOf = intervalRules(c, z, integrator);
  let suffix = 0;
  for (let i = n - 1; i >= 1; i--) {
    suffix += Ubar[i];
    if (suffix === 0) continue;
    const rule = ruleOf(i);
    for (let j = 0; j < rule.x.length; j++) {
      expansionAt(c, -Math.log1p(rule.x[j]), scratch);
      const invE = 1 / Math.sqrt(scratch[E2]);
      const g = -0.5 * rule.w[j] * invE * invE * invE * suffix;
      for (let k = 0; k < NB; k++) qbar[k] += g * scratch[DQ_E2 + k];
    }
  }
}

/**
 * V = U S(Omega_k U^2): Ubar_i += Vbar_i (S + 2 u S'), qbar[Omega_k] += Vbar_i U^3 S' (u = Omega_k U^2), the
 * transpose of transverseDistance's tangent.
 */
export function transverseDistanceAdjoint(U: Float64Array, Ok: number, Vbar: Float64Array, Ubar: Float64Array, qbar: Float64Array): void {
  const sf = new Float64Array(2);
  for (let i = 0; i < U.length; i++) {
    if (Vbar[i] === 0) continue;
    const u0 = U[i], u = Ok * u0 * u0;
    curvatureFactor(u, sf);
    Ubar[i] += Vbar[i] * (sf[0] + 2 * u * sf[1]);
    qbar[2] += Vbar[i] * u0 * u0 * u0 * sf[1]; // q_2 = Omega_k
  }
}

/**
 * T_i = T(z_max) + U_(n-1) - U_i: Ubar_(n-1) += sum Tbar, Ubar_i -= Tbar_i, and T(z_max) (early analytic part
 * plus the integral in ln a) gives qbar += (sum Tbar) dT(z_max)/dq, its base derivative taken from
 * conformalTime itself (with a zero U tangent, its base rows are dT(z_max)/dq).
 */
export function conformalTimeAdjoint(
  c: ExpansionCoefficients, U: Float64Array, z: Float64Array, aIni: number, integrator: Integrator, Tbar: Float64Array, Ubar: Float64Array, qbar: Float64Array,
): void {
  const n = z.length;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    sum += Tbar[i];
    Ubar[i] -= Tbar[i];
  }
  if (sum === 0) return;
  Ubar[n - 1] += sum;
  const T = conformalTime(c, { value: U, base: new Float64Array(NB * n) }, z, aIni, integrator);
  for (let k = 0; k < NB; k++) qbar[k] += sum * T.base![k * n];
}
