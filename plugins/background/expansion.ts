/**
 * The expansion rate of a w0-wa universe and its derivatives with respect to the density parameters.
 *
 *   E^2(a) = Omega_r a^-4 + Omega_m a^-3 + Omega_k a^-2 + Omega_de g(a),
 *   g(a)   = rho_de(a)/rho_de0 = a^(-3(1+w0+wa)) exp(-3 wa (1-a))
 *
 * for the CPL equation of state w(a) = w0 + wa (1-a) (Chevallier & Polarski 2001, Linder 2003), from
 * d ln rho_de / d ln a = -3 (1 + w(a)). With x = ln a:
 *
 *   ln g = -3 (1+w0+wa) x - 3 wa (1 - e^x),     d ln g/dx = -3 (1 + w(a)),
 *   dE^2/dx = -4 Omega_r a^-4 - 3 Omega_m a^-3 - 2 Omega_k a^-2 - 3 (1 + w) Omega_de g.
 *
 * Massive neutrinos (plugins/contracts/neutrinos.ts; Lesgourgues & Pastor 2006, eqs. 11-12): Omega_m counts them today,
 * so the clustering matter is Omega_cb = Omega_m - Omega_nu0, and their density and pressure follow the Fermi-Dirac
 * integrals F, G at M0 a (A = Omega_nu if massless, M0 = m/(k_B T_ncdm) today):
 *
 *   E^2(a) += A a^-4 F(M0 a) - Omega_nu0 a^-3,   Omega_nu0 = A F(M0),
 *   dE^2/dx += -3 A a^-4 (F + G)(M0 a)   (continuity: d rho/dx = -3 (rho + p))   [+ 3 Omega_nu0 a^-3].
 *
 * With A = 0 (m_nu = 0) none of this runs and every number is the massless model's, to the last bit.
 *
 * Tangents are carried in a fixed "base" space q = (Omega_r, Omega_m, Omega_k, Omega_de, w0, wa, A, M0), treating
 * the eight as independent: every quantity of this stage is first differentiated with respect to q in closed
 * form, then contracted with the Jacobian dq/dtheta (the closure Omega_de = 1 - Omega_m - Omega_r - Omega_k
 * and the h, T_cmb, N_eff dependence of Omega_r live in that Jacobian). h also enters through H0, which the
 * callers handle with scalar duals.
 */
import type { Dual } from '../../core/ad/dual.js';
import type { DualArray } from '../../core/ad/dual-array.js';
import { fermiDirac } from '../contracts/neutrinos.js';

/** Order of the base quantities. */
export const BASE_NAMES = ['Omega_r', 'Omega_m', 'Omega_k', 'Omega_de', 'w0', 'wa', 'nu_amplitude', 'nu_M0'] as const;
/** Indices of the massive-neutrino base quantities: A (their density today were they massless) and M0 = m/(k_B T_ncdm). */
export const QA = 6, QM = 7;
export const NB = BASE_NAMES.length;

/** Plain values of the base quantities (the hot loops read these). */
export interface ExpansionCoefficients {
  readonly Or: number;
  readonly Om: number;
  readonly Ok: number;
  readonly Ode: number;
  readonly w0: number;
  readonly wa: number;
  /** Massive neutrinos: A = their density today were they massless (0: none), M0 = m/(k_B T_ncdm). */
  readonly An: number;
  readonly Mn: number;
  /** F(M0), dF/dM(M0): Omega_nu0 = A F(M0). */
  readonly Fn0: number;
  readonly dFn0: number;
  /** Clustering matter today, baryons + CDM: Omega_m - A F(M0) (= Omega_m exactly when A = 0). */
  readonly Ocb: number;
}

/** Scratch of the Fermi-Dirac lookups (F, dF/dM, G, dG/dM); single-threaded use, no allocation per call. */
const FD = new Float64Array(4);

export const coefficientsOf = (q: readonly Dual[]): ExpansionCoefficients => {
  const An = q.length > QA ? q[QA].v : 0, Mn = q.length > QM ? q[QM].v : 0;
  let Fn0 = 1, dFn0 = 0, Ocb = q[1].v;
  if (An !== 0) {
    fermiDirac(Mn, FD);
    Fn0 = FD[0];
    dFn0 = FD[1];
    Ocb = q[1].v - An * Fn0;
  }
  return { Or: q[0].v, Om: q[1].v, Ok: q[2].v, Ode: q[3].v, w0: q[4].v, wa: q[5].v, An, Mn, Fn0, dFn0, Ocb };
};

/** Layout of the scratch vector filled by `expansionAt`. */
export const E2 = 0;
export const DE2DX = 1;
/** out[DQ_E2 + k] = dE^2/dq_k */
export const DQ_E2 = 2;
/** out[DQ_SLOPE + k] = d(dE^2/dx)/dq_k */
export const DQ_SLOPE = 2 + NB;
export const EXPANSION_SCRATCH = 2 + 2 * NB;

/**
 * E^2, dE^2/dx and their partial derivatives with respect to the base quantities at x = ln a, written to
 * out (length EXPANSION_SCRATCH, see the E2/DE2DX/DQ_* offsets). No allocation.
 */
export function expansionAt(c: ExpansionCoefficients, x: number, out: Float64Array): void {
  const a = Math.exp(x);
  const ia = 1 / a;
  const a2 = ia * ia; // a^-2
  const a3 = a2 * ia;
  const a4 = a2 * a2;
  const g = Math.exp(-3 * (1 + c.w0 + c.wa) * x - 3 * c.wa * (1 - a));
  const w = c.w0 + c.wa * (1 - a);
  const s = -3 * (1 + w); // d ln g / dx
  const de = c.Ode * g;
  out[E2] = a2 * (c.Ok + ia * (c.Ocb + ia * c.Or)) + de; // as e2At, to the last bit
  out[DE2DX] = -4 * c.Or * a4 - 3 * c.Ocb * a3 - 2 * c.Ok * a2 + s * de;
  // d ln g / d w0 = -3x, d ln g / d wa = -3x - 3(1-a); d s / d w0 = -3, d s / d wa = -3(1-a)
  const lw0 = -3 * x;
  const lwa = -3 * x - 3 * (1 - a);
  out[DQ_E2 + 0] = a4;
  out[DQ_E2 + 1] = a3;
  out[DQ_E2 + 2] = a2;
  out[DQ_E2 + 3] = g;
  out[DQ_E2 + 4] = de * lw0;
  out[DQ_E2 + 5] = de * lwa;
  out[DQ_SLOPE + 0] = -4 * a4;
  out[DQ_SLOPE + 1] = -3 * a3;
  out[DQ_SLOPE + 2] = -2 * a2;
  out[DQ_SLOPE + 3] = s * g;
  out[DQ_SLOPE + 4] = de * (s * lw0 - 3);
  out[DQ_SLOPE + 5] = de * (s * lwa - 3 * (1 - a));
  if (c.An === 0) {
    out[DQ_E2 + QA] = out[DQ_E2 + QM] = out[DQ_SLOPE + QA] = out[DQ_SLOPE + QM] = 0;
    return;
  }
  // massive neutrinos: A a^-4 F(M0 a), slope -3 A a^-4 (F + G); the Ocb = Omega_m - A F(M0) terms above
  fermiDirac(c.Mn * a, FD);
  const F = FD[0], dF = FD[1], G = FD[2], dG = FD[3];
  const nu = c.An * a4;
  out[E2] += nu * F;
  out[DE2DX] += -3 * nu * (F + G);
  out[DQ_E2 + QA] = a4 * F - a3 * c.Fn0;
  out[DQ_E2 + QM] = nu * a * dF - a3 * c.An * c.dFn0;
  out[DQ_SLOPE + QA] = -3 * a4 * (F + G) + 3 * a3 * c.Fn0;
  out[DQ_SLOPE + QM] = -3 * nu * a * (dF + dG) + 3 * a3 * c.An * c.dFn0;
}

/** rho_de(a)/rho_de0 = g(a) at x = ln a. */
export function darkEnergyRatio(c: ExpansionCoefficients, x: number): number {
  return Math.exp(-3 * (1 + c.w0 + c.wa) * x - 3 * c.wa * (1 - Math.exp(x)));
}

/** E^2 only (for probes), no partials. */
export function e2At(c: ExpansionCoefficients, x: number): number {
  const a = Math.exp(x);
  const ia = 1 / a;
  const a2 = ia * ia;
  const g = Math.exp(-3 * (1 + c.w0 + c.wa) * x - 3 * c.wa * (1 - a));
  const e2 = a2 * (c.Ok + ia * (c.Ocb + ia * c.Or)) + c.Ode * g;
  if (c.An === 0) return e2;
  fermiDirac(c.Mn * a, FD);
  return e2 + c.An * a2 * a2 * FD[0];
}

/** Jacobian of the base quantities with respect to the varied parameters: J[k*P + p] = dq_k/dtheta_p. */
export function baseJacobian(q: readonly Dual[], P: number): Float64Array {
  const J = new Float64Array(NB * P);
  for (let k = 0; k < NB; k++) {
    const d = q[k].d;
    if (d) for (let p = 0; p < P; p++) J[k * P + p] = d[p];
  }
  return J;
}

/**
 * Contract a base-space array (value plus NB tangent blocks d/dq_k, or none) with the Jacobian into the
 * varied-parameter space: tangent[p*n+i] = sum_k J[k*P+p] base[k*n+i]. P = 0 gives a constant array.
 */
export function contractBase(value: Float64Array, base: Float64Array | null, J: Float64Array, P: number): DualArray {
  if (P === 0 || !base) return { value, tangent: null, P: 0 };
  const n = value.length;
  const tangent = new Float64Array(P * n);
  for (let k = 0; k < NB; k++) {
    const bk = k * n;
    for (let p = 0; p < P; p++) {
      const jkp = J[k * P + p];
      if (jkp === 0) continue;
      const o = p * n;
      for (let i = 0; i < n; i++) tangent[o + i] += jkp * base[bk + i];
    }
  }
  return { value, tangent, P };
}

/** Describe the cosmology in an error message. */
export function describeCosmology(c: ExpansionCoefficients): string {
  const f = (v: number) => Number(v.toPrecision(6));
  return (
    `Omega_m = ${f(c.Om)}, Omega_k = ${f(c.Ok)}, Omega_r = ${f(c.Or)}, ` +
    `Omega_de = 1 - Omega_m - Omega_r - Omega_k = ${f(c.Ode)}, w0 = ${f(c.w0)}, wa = ${f(c.wa)}` +
    (c.An !== 0 ? `, Omega_nu = ${f(c.An * c.Fn0)}` : '')
  );
}

/** Why E^2 <= 0 at z (without the stage prefix), naming the parameters. */
export function nonPositiveE2Message(c: ExpansionCoefficients, z: number, e2: number): string {
  return (
    `E(z)^2 = H^2/H0^2 = ${e2.toPrecision(4)} <= 0 at z = ${z.toPrecision(6)} for ${describeCosmology(c)}. ` +
    'A recollapsing or bouncing universe is not supported: choose parameters.Omega_k, parameters.w0, ' +
    'parameters.wa (or parameters.Omega_m) with H^2 > 0 at all z.'
  );
}

/** The parameter most likely responsible for E^2 <= 0 (for the path of a check message). */
export function nonPositiveE2Culprit(c: ExpansionCoefficients): string {
  if (c.Ok < 0) return 'parameters.Omega_k';
  if (c.Ode < 0) return 'parameters.Omega_m';
  return 'parameters.w0';
}

/** The error thrown when E^2 <= 0: the model recollapses or bounces before the requested epoch. */
export function nonPositiveE2Error(c: ExpansionCoefficients, z: number, e2: number): Error {
  return new Error(`background/w0wa: ${nonPositiveE2Message(c, z, e2)}`);
}
