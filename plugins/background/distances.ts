/**
 * Distances of a w0-wa universe on a redshift grid, with tangents in the base space of expansion.ts
 * (Omega_r, Omega_m, Omega_k, Omega_de, w0, wa). All results here are dimensionless (in units of c/H0);
 * the caller divides by H0 [1/Mpc] with scalar duals (h enters only there and through Omega_r).
 *
 *   line of sight:  U(z) = H0 chi(z) = Integral_0^z dz'/E(z') = Integral_0^ln(1+z) ds e^s/E  (Hogg 1999, eq. 15)
 *   transverse:     V(z) = H0 d_M(z) = U S(Omega_k U^2),  S(u) = sinh(sqrt u)/sqrt u  (u > 0),
 *                                                          sin(sqrt -u)/sqrt -u        (u < 0)  (Hogg eq. 16)
 *   conformal time: T(z) = H0 tau(z) = Integral_0^a(z) da'/(a'^2 E(a'))
 *
 * The integrals use the injected Integrator. chi: one fixed rule per grid interval, its level chosen by the
 * integrator's own adaptivity on blocks of grid intervals (lineOfSightDistance), summed cumulatively; tau: one
 * adaptive rule. The base-space tangents are weighted sums on the same nodes, d(1/E)/dq_k = -(1/2) E^-3 dE^2/dq_k,
 * so they are exact derivatives of the quadrature.
 */
import type { Integrator, QuadratureRule } from '../../core/numerics/integrator.js';
import {
  DQ_E2, E2, EXPANSION_SCRATCH, type ExpansionCoefficients, NB, QA, QM, e2At, expansionAt, nonPositiveE2Error,
} from './expansion.js';

/** A value array on the grid and, optionally, NB base tangent blocks (base[k*n + i] = d value_i / d q_k). */
export interface BaseArray {
  value: Float64Array;
  base: Float64Array | null;
}

/** Grid intervals per block of the integrator's adaptive check (see lineOfSightDistance). */
const CHI_BLOCK = 64;
/** The largest fixed rule (nodes per grid interval) the level search tries before giving up. */
const CHI_MAX_NODES = 4096;

/** The integrand of U in s = ln(1+z): dU/ds = (1+z)/E (values only). */
function chiIntegrand(c: ExpansionCoefficients, s: number): number {
  const e2 = e2At(c, -s);
  if (!(e2 > 0)) throw nonPositiveE2Error(c, Math.expm1(s), e2);
  return Math.exp(s) / Math.sqrt(e2);
}

/**
 * U(z) = H0 chi(z) = Integral_0^ln(1+z) ds (1+z)/E on the ascending grid z (z[0] = 0), cumulatively over the grid
 * intervals, with the bound integrator's rules. withBase: also accumulate dU/dq_k.
 *
 * Which rule: the grid intervals of each block of CHI_BLOCK intervals take the integrator's fixed rule of one
 * level L (`fixedRule(0, 1, L)` mapped affinely onto each interval in s), the lowest level whose sum over the block
 * reproduces the integrator's own adaptive integral of that block (`integrate`, converged to its rtol on the
 * values) to its rtol, or agrees to rtol with the level below (should the adaptive value itself miss it). So the
 * integrator's adaptivity decides the accuracy, once per block instead of once per interval, and each interval
 * costs the nodes of its fixed rule (gauss-legendre: 16; romberg: 3; simpson: 5), not those of a fresh adaptive
 * search (gauss-legendre: 192 probes, then 64 nodes). Each interval's integral is still a weighted sum of the
 * integrand on its own nodes, so the cumulative values and their base tangents (d((1+z)/E)/dq_k =
 * -(1/2) (1+z) E^-3 dE^2/dq_k) are exact for the discrete sums, and the values do not depend on withBase.
 */
export function lineOfSightDistance(
  c: ExpansionCoefficients,
  z: Float64Array,
  integrator: Integrator,
  withBase: boolean,
): BaseArray {
  const n = z.length;
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) s[i] = Math.log1p(z[i]);
  const blocks = chiBlocks(c, s, integrator);
  const value = new Float64Array(n);
  const base = withBase ? new Float64Array(NB * n) : null;
  const scratch = new Float64Array(EXPANSION_SCRATCH);
  const acc = new Float64Array(NB);
  const rules: QuadratureRule[] = []; // fixed rules on [0, 1] by level
  const ruleAt = (level: number): QuadratureRule => {
    if (!rules[level]) {
      const r = integrator.fixedRule(0, 1, level);
      if (r.x.length > CHI_MAX_NODES)
        throw new Error(
          `background/w0wa: the ${integrator.name} integrator's fixed rules do not reproduce its adaptive integral of chi ` +
            `(rtol ${integrator.rtol}) between z = ${Math.expm1(s[0]).toPrecision(4)} and ${Math.expm1(s[n - 1]).toPrecision(4)} ` +
            `with up to ${CHI_MAX_NODES} nodes per grid interval; use more grid points (with.grid.count) or another integrator`,
        );
      rules[level] = r;
    }
    return rules[level];
  };
  let U = 0;
  for (let b = 0; b < blocks.count; b++) {
    const lo = b * CHI_BLOCK, hi = Math.min(lo + CHI_BLOCK, n - 1);
    // the lowest level whose sum over the block meets the integrator's adaptive integral of it (or, should that
    // integral be off by more than its rtol, agrees with the level below)
    let previous = NaN;
    for (let level = 0; ; level++) {
      const { x: t, w } = ruleAt(level);
      const m = t.length;
      let sum = 0;
      for (let i = lo + 1; i <= hi; i++) {
        const s0 = s[i - 1], h = s[i] - s0;
        let I = 0;
        if (base) {
          acc.fill(0);
          for (let j = 0; j < m; j++) {
            const sj = s0 + h * t[j];
            expansionAt(c, -sj, scratch);
            const e2 = scratch[E2];
            if (!(e2 > 0)) throw nonPositiveE2Error(c, Math.expm1(sj), e2);
            const wf = h * w[j] * (Math.exp(sj) / Math.sqrt(e2)); // w (1+z)/E, as h * w[j] * chiIntegrand below
            I += wf;
            const g = (-0.5 * wf) / e2; // w d((1+z)/E)/dE^2
            for (let k = 0; k < NB; k++) acc[k] += g * scratch[DQ_E2 + k];
          }
          for (let k = 0; k < NB; k++) base[k * n + i] = base[k * n + i - 1] + acc[k];
        } else {
          for (let j = 0; j < m; j++) I += h * w[j] * chiIntegrand(c, s0 + h * t[j]);
        }
        sum += I;
        value[i] = U + sum;
      }
      const tol = blocks.tolerance[b];
      if (Math.abs(sum - blocks.integral[b]) <= tol || Math.abs(sum - previous) <= tol) {
        U += sum;
        break;
      }
      previous = sum;
    }
  }
  return { value, base };
}

/**
 * The integrator's adaptive integral of dU/ds on each block of CHI_BLOCK grid intervals (`integrate`: its rule
 * adapted on the values, and the estimate it accepted), and the tolerance a block's sum of per-interval fixed rules
 * must meet: rtol relative (the block integrals are > 0).
 */
function chiBlocks(c: ExpansionCoefficients, s: Float64Array, integrator: Integrator) {
  const n = s.length;
  const count = Math.ceil((n - 1) / CHI_BLOCK);
  const integral = new Float64Array(count), tolerance = new Float64Array(count);
  const f = (x: number) => chiIntegrand(c, x);
  for (let b = 0; b < count; b++) {
    const I = integrator.integrate(f, s[b * CHI_BLOCK], s[Math.min((b + 1) * CHI_BLOCK, n - 1)]);
    integral[b] = I;
    tolerance[b] = integrator.rtol * Math.abs(I);
  }
  return { count, integral, tolerance };
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
  // radiation: photons + massless neutrinos + the massive ones (relativistic at a_ini: M0 a_ini << 1); matter: b + cdm
  const Orad = c.Or + c.An, Omat = c.Ocb; // (Or + 0 and Om when A = 0: bit for bit the massless model's)
  const r = Math.sqrt(Orad + Omat * aIni), r0 = Math.sqrt(Orad);
  let T = (2 * (r - r0)) / Omat;
  const dT = new Float64Array(NB);
  const dRad = (1 / r - 1 / r0) / Omat, dMat = aIni / (Omat * r) - T / Omat;
  dT[0] = dRad; // d/dOmega_r
  dT[1] = dMat; // d/dOmega_m
  if (c.An !== 0) {
    dT[QA] = dRad - dMat * c.Fn0; // Omega_cb = Omega_m - A F(M0)
    dT[QM] = -dMat * c.An * c.dFn0;
  }
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
 * qbar_k += sum_i Ubar_i dU_i/dq_k for U = H0 chi: the base tangents of lineOfSightDistance (the same rules, chosen
 * on the same values), projected on Ubar. With NB = 6 base directions, the forward tangents cost no more than
 * a transposed sweep and are its exact transpose.
 */
export function lineOfSightDistanceAdjoint(c: ExpansionCoefficients, z: Float64Array, integrator: Integrator, Ubar: Float64Array, qbar: Float64Array): void {
  const n = z.length;
  const U = lineOfSightDistance(c, z, integrator, true);
  for (let k = 0; k < NB; k++) {
    let t = 0;
    for (let i = 0; i < n; i++) t += Ubar[i] * U.base![k * n + i];
    qbar[k] += t;
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
