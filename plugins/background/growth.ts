/**
 * Scale-independent linear growth D(z) and growth rate f = d ln D / d ln a, with base-space sensitivities.
 *
 * The growth equation of the matter contrast with only baryons + CDM clustering (dark energy and radiation
 * smooth; radiation kept in H), in x = ln a, with G = dD/dx:
 *
 *   dD/dx = G
 *   dG/dx = (3/2) Omega_m a^-3 / E^2 D - (2 + (1/2) d ln E^2/dx) G
 *
 * (from D'' + aH D' = (3/2) a^2 H0^2 Omega_m a^-3 D in conformal time). This is the equation behind CLASS v3's
 * growth_D/growth_f (source rho_b + rho_cdm only, radiation in H) and CCL's D/f: the two references agree
 * with each other, and we agree with both, to ~1e-8 (docs/background.md). We take CLASS's definition as
 * the one we match (it documents its source term; CCL's table has only 11 redshifts).
 *
 * Initial conditions at a_ini (default 1e-6, deep in radiation domination): Meszaros's exact growing mode of
 * the radiation + matter universe, D = y + 2/3, dD/dx = y with y = a Omega_m/Omega_r (Meszaros 1974; e.g.
 * Dodelson, Modern Cosmology, eq. 7.69). Curvature and dark energy are O(1e-12) there; any error in the
 * initial state projects onto the growing mode (removed by D(0) = 1) and the decaying mode, which falls as
 * y^(-5/2) relative to it (below 1e-12 by z = 10).
 *
 * Integration: classical fixed-step RK4 in x, steps no longer than max_dlna and landing on every grid node.
 * The system is linear in (D, G), so its sensitivities s_k = d(D, G)/dq_k obey
 *   s_k' = A s_k + (dA/dq_k) (D, G),
 * integrated alongside with the same RK4 stages: the result is the exact derivative of the discrete solution.
 */
import {
  DE2DX, DQ_E2, DQ_SLOPE, E2, EXPANSION_SCRATCH, type ExpansionCoefficients, NB, darkEnergyRatio, e2At, expansionAt,
  nonPositiveE2Error, describeCosmology,
} from './expansion.js';
import type { BaseArray } from './distances.js';

export interface GrowthOptions {
  /** Scale factor where the integration starts (radiation domination). */
  aIni: number;
  /** Largest step in ln a. */
  maxStep: number;
}

/** Dark-energy fraction allowed at a_ini: the initial conditions assume radiation + matter there. */
const MAX_EARLY_DE_FRACTION = 1e-3;

/**
 * Why the initial conditions would be wrong (dark energy above MAX_EARLY_DE_FRACTION of the density at
 * a_ini), naming w0 and wa; null when they hold.
 */
export function earlyDarkEnergyProblem(c: ExpansionCoefficients, aIni: number): string | null {
  const x = Math.log(aIni);
  const deFrac = Math.abs(c.Ode * darkEnergyRatio(c, x)) / e2At(c, x);
  if (deFrac < MAX_EARLY_DE_FRACTION) return null;
  return (
    `dark energy is ${deFrac.toPrecision(3)} of the density at a = ${aIni} (w(a -> 0) = w0 + wa = ${c.w0 + c.wa}); ` +
    'the growth initial conditions assume radiation + matter domination there. Early dark energy is not ' +
    'supported: choose parameters.w0 + parameters.wa well below 0.'
  );
}

/**
 * D (normalised to D(z=0) = 1) and f on the ascending grid z (z[0] = 0), with base tangents when withBase.
 */
export function linearGrowth(
  c: ExpansionCoefficients,
  z: Float64Array,
  opts: GrowthOptions,
  withBase: boolean,
): { D: BaseArray; f: BaseArray } {
  const n = z.length;
  if (z[0] !== 0) throw new Error(`linearGrowth: the grid must start at z = 0 (got ${z[0]})`);
  const xIni = Math.log(opts.aIni);
  const xTop = -Math.log1p(z[n - 1]);
  if (!(xIni < xTop))
    throw new Error(`background/w0wa: with.growth.a_ini = ${opts.aIni} must be below a(z_max) = ${Math.exp(xTop)}`);
  const early = earlyDarkEnergyProblem(c, opts.aIni);
  if (early) throw new Error(`background/w0wa: ${early}`);

  const S = withBase ? 2 + 2 * NB : 2;
  const y = new Float64Array(S);
  const k1 = new Float64Array(S), k2 = new Float64Array(S), k3 = new Float64Array(S), k4 = new Float64Array(S);
  const tmp = new Float64Array(S);
  const s = new Float64Array(EXPANSION_SCRATCH);

  // Right-hand side A(x) y (+ dA/dq_k y for the sensitivities).
  const rhs = (x: number, u: Float64Array, out: Float64Array): void => {
    expansionAt(c, x, s);
    const e2 = s[E2];
    if (!(e2 > 0)) throw nonPositiveE2Error(c, Math.expm1(-x), e2);
    const inv = 1 / e2;
    const a3 = Math.exp(-3 * x);
    const c1 = 1.5 * c.Om * a3 * inv; // (3/2) Omega_m(a)
    const c2 = 2 + 0.5 * s[DE2DX] * inv; // 2 + d ln H / d ln a
    const D = u[0], G = u[1];
    out[0] = G;
    out[1] = c1 * D - c2 * G;
    if (S === 2) return;
    for (let k = 0; k < NB; k++) {
      const dE2 = s[DQ_E2 + k];
      const dc1 = 1.5 * a3 * ((k === 1 ? 1 : 0) - c.Om * inv * dE2) * inv;
      const dc2 = 0.5 * (s[DQ_SLOPE + k] - s[DE2DX] * inv * dE2) * inv;
      const j = 2 + 2 * k;
      out[j] = u[j + 1];
      out[j + 1] = c1 * u[j] - c2 * u[j + 1] + dc1 * D - dc2 * G;
    }
  };

  const step = (x: number, h: number): void => {
    rhs(x, y, k1);
    for (let i = 0; i < S; i++) tmp[i] = y[i] + 0.5 * h * k1[i];
    rhs(x + 0.5 * h, tmp, k2);
    for (let i = 0; i < S; i++) tmp[i] = y[i] + 0.5 * h * k2[i];
    rhs(x + 0.5 * h, tmp, k3);
    for (let i = 0; i < S; i++) tmp[i] = y[i] + h * k3[i];
    rhs(x + h, tmp, k4);
    for (let i = 0; i < S; i++) y[i] += (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
  };

  const advance = (x0: number, x1: number): void => {
    const m = Math.max(1, Math.ceil((x1 - x0) / opts.maxStep - 1e-9));
    const h = (x1 - x0) / m;
    for (let j = 0; j < m; j++) step(x0 + j * h, h);
  };

  // Meszaros growing mode at a_ini.
  const yM = (Math.exp(xIni) * c.Om) / c.Or;
  y[0] = yM + 2 / 3;
  y[1] = yM;
  if (withBase) {
    y[2 + 0] = y[3 + 0] = -yM / c.Or; // d/dOmega_r
    y[2 + 2] = y[3 + 2] = yM / c.Om; // d/dOmega_m
  }

  // Raw D, G (and sensitivities) at the nodes, from z_max down to 0.
  const raw = new Float64Array(S * n);
  advance(xIni, xTop);
  raw.set(y, S * (n - 1));
  for (let i = n - 2; i >= 0; i--) {
    advance(-Math.log1p(z[i + 1]), -Math.log1p(z[i]));
    raw.set(y, S * i);
  }

  const D0 = raw[0];
  if (!(D0 > 0) || !Number.isFinite(D0))
    throw new Error(`background/w0wa: the growth factor is not positive today (${D0}) for ${describeCosmology(c)}`);
  const Dv = new Float64Array(n), fv = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    Dv[i] = raw[S * i] / D0;
    fv[i] = raw[S * i + 1] / raw[S * i];
  }
  if (!withBase) return { D: { value: Dv, base: null }, f: { value: fv, base: null } };
  const Db = new Float64Array(NB * n), fb = new Float64Array(NB * n);
  for (let k = 0; k < NB; k++) {
    const dD0 = raw[2 + 2 * k];
    for (let i = 0; i < n; i++) {
      const o = S * i;
      const D = raw[o], G = raw[o + 1], dD = raw[o + 2 + 2 * k], dG = raw[o + 3 + 2 * k];
      Db[k * n + i] = (dD * D0 - D * dD0) / (D0 * D0);
      fb[k * n + i] = (dG * D - G * dD) / (D * D);
    }
  }
  return { D: { value: Dv, base: Db }, f: { value: fv, base: fb } };
}
