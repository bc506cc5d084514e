/**
 * Massive neutrinos on the background level: the Fermi-Dirac momentum integrals of their energy density and
 * pressure, tabulated once as functions of M = m / (k_B T_ncdm) (mass over temperature today; at scale factor a
 * the same integrals are taken at M a), and the mass split (how many degenerate massive species share m_nu).
 *
 * For one species (particle + antiparticle, g = 2) with the relativistic Fermi-Dirac distribution frozen at
 * decoupling, f(q) = 1/(e^q + 1) in the comoving momentum q = p a / (k_B T_ncdm) (Lesgourgues & Pastor 2006,
 * Phys. Rep. 429, 307, eqs. 11-12 and 40; CLASS's background_ncdm_momenta, Lesgourgues & Tram 2011, JCAP 09, 032):
 *
 *   rho(a) = rho_rel(a) F(M a),   F(M) = Integral_0^inf q^2 sqrt(q^2 + M^2) f(q) dq / I_3,
 *   p(a)   = rho_rel(a) G(M a),   G(M) = Integral_0^inf q^4 / (3 sqrt(q^2 + M^2)) f(q) dq / I_3,
 *
 * with I_n = Integral q^n f dq = (1 - 2^-n) n! zeta(n+1) (I_3 = 7 pi^4/120) and rho_rel the density the species
 * would have if massless: Omega_rel a^-4, Omega_rel = (7/8) (T_ncdm/T_cmb)^4 Omega_g per species. Limits:
 * relativistic F -> 1, G -> 1/3 (7/8 (4/11)^(4/3) of the photons per species at the instantaneous-decoupling
 * temperature); non-relativistic F -> M I_2/I_3, i.e. rho = m n with n = (3 zeta(3)/(2 pi^2)) T_ncdm^3, G -> 0.
 *
 * Convention (CLASS's, reference/class/README.md): each massive species has T_ncdm = 0.71611 T_cmb (CLASS's
 * default, slightly above (4/11)^(1/3) = 0.71377 so that the relation m/Omega_nu h^2 = 93.14 eV of non-
 * instantaneous decoupling holds, Mangano et al. 2005), so it counts (T_ncdm/(4/11)^(1/3))^4 = 1.01329 species
 * of N_eff while relativistic; the massless rest is N_ur = N_eff - N_massive 1.01329 (3.046 -> 2.0328 for one
 * massive species, 0.00641 for three).
 *
 * The table: F, G and their first and second M-derivatives by composite Gauss-Legendre quadrature at 1 + 1842 points uniform in
 * ln M on [1e-4, 1e4] (step 0.01), interpolated by quintic Hermite polynomials in ln M (values, first and second
 * derivatives at the nodes from the quadrature: a C2 interpolant); outside it the series F = 1 + 5 M^2/(7 pi^2)
 * (M < 1e-4) and the non-relativistic expansion to M^-3 (M > 1e4), both exact to < 1e-15 there. The derivative
 * returned is that of the interpolant itself, so tangents are exact derivatives of the tabulated function.
 */
import { type Dual, chain, div, mul, scale } from '../../core/ad/dual.js';
import { gaussLegendre } from '../../core/numerics/gauss-legendre.js';

// ---------------------------------------------------------------------------------------------------------
// 1. Constants and the split

/** Electron volt [J] (CODATA 2006, as CLASS v3's _eV_). */
export const EV_J = 1.602176487e-19;
/** Boltzmann constant [eV/K] from CLASS's k_B (cosmology.ts K_B) and eV. */
export const K_B_EV = 1.3806504e-23 / EV_J;
/** CLASS's default temperature of a massive species today, in units of T_cmb. */
export const T_NCDM_DEFAULT = 0.71611;
/** (4/11)^(1/3): the instantaneous-decoupling neutrino temperature over T_cmb. */
export const T_NU_INSTANT = Math.cbrt(4 / 11);

/** How m_nu (the sum of the masses) is shared: `species` degenerate massive species, each at T_ncdm T_cmb. */
export interface NeutrinoSplit {
  /** Number of degenerate massive species (1: one massive + massless rest, CLASS's mnu case; 3: three degenerate). */
  readonly species: 1 | 3;
  /** Temperature of each massive species today over T_cmb (CLASS's T_ncdm, default 0.71611). */
  readonly T_ncdm: number;
}

export const DEFAULT_NEUTRINO_SPLIT: NeutrinoSplit = { species: 1, T_ncdm: T_NCDM_DEFAULT };

/** The splits a stage configuration names. */
export const NEUTRINO_SPLITS = { 'one-massive': 1, 'three-degenerate': 3 } as const;
export type NeutrinoSplitName = keyof typeof NEUTRINO_SPLITS;

/**
 * The mass-split settings every stage that reads m_nu takes under `with.neutrinos` (the background, Eisenstein-Hu,
 * the Boltzmann solver): one schema, so that the stages name and bound them alike (plan-time checks compare them).
 */
export const NEUTRINO_SPLIT_PROPERTIES = {
  split: {
    enum: Object.keys(NEUTRINO_SPLITS), default: 'one-massive',
    description:
      "'one-massive': one species of mass m_nu, N_ur = N_eff - 1.0133 massless (CLASS's mnu case: N_ur = 2.0328); " +
      "'three-degenerate': three species of mass m_nu/3, N_ur = N_eff - 3.0399",
  },
  T_ncdm: {
    type: 'number', exclusiveMinimum: 0, maximum: 2, default: T_NCDM_DEFAULT,
    description: 'temperature of each massive species today over T_cmb (CLASS\'s T_ncdm; 0.71611 gives m_nu/Omega_nu h^2 = 93.14 eV)',
  },
} as const;

export function neutrinoSplit(name: NeutrinoSplitName = 'one-massive', T_ncdm = T_NCDM_DEFAULT): NeutrinoSplit {
  return { species: NEUTRINO_SPLITS[name], T_ncdm };
}

/** The share of N_eff each massive species takes while relativistic: (T_ncdm / (4/11)^(1/3))^4 (1.01329 for CLASS's). */
export const neffPerMassive = (split: NeutrinoSplit) => (split.T_ncdm / T_NU_INSTANT) ** 4;

/** Relativistic density of the massive species today over Omega_g: N (7/8) (T_ncdm/T_cmb)^4. */
export const relativisticOverPhotons = (split: NeutrinoSplit) => split.species * (7 / 8) * split.T_ncdm ** 4;

/** Omega_rel = N (7/8) (T_ncdm/T_cmb)^4 Omega_g: the massive species' density today were they massless. */
export function neutrinoAmplitude(Omega_g: Dual, split: NeutrinoSplit): Dual {
  return scale(Omega_g, relativisticOverPhotons(split));
}

/** M0 = (m_nu/N) / (k_B T_ncdm T_cmb): each species' mass over its temperature today (T_cmb in K, m_nu in eV). */
export function neutrinoMassOverT(m_nu: Dual, T_cmb: Dual, split: NeutrinoSplit): Dual {
  return div(scale(m_nu, 1 / (split.species * K_B_EV * split.T_ncdm)), T_cmb);
}

/** Omega_nu today = Omega_rel F(M0), with its tangents (dF/dM of the interpolant). */
export function neutrinoDensityToday(amplitude: Dual, M0: Dual): Dual {
  const out = new Float64Array(4);
  fermiDirac(M0.v, out);
  return mul(amplitude, chain(M0, out[0], out[1]));
}

// ---------------------------------------------------------------------------------------------------------
// 2. The Fermi-Dirac integrals

/** zeta(3), zeta(5), zeta(7). */
const ZETA3 = 1.2020569031595942, ZETA5 = 1.0369277551433699, ZETA7 = 1.0083492773819228;
/** I_n = Integral_0^inf q^n/(e^q+1) dq = (1 - 2^-n) n! zeta(n+1). */
export const I2 = 1.5 * ZETA3;
export const I3 = (7 * Math.PI ** 4) / 120;
export const I4 = 22.5 * ZETA5;
export const I6 = (63 / 64) * 720 * ZETA7;

const U_MIN = Math.log(1e-4), U_MAX = Math.log(1e4), DU = 0.01;
const NU = Math.round((U_MAX - U_MIN) / DU) + 1;
/** Series coefficient of the relativistic limit: F = 1 + C2 M^2, G = (1 - C2 M^2)/3. */
const C2 = 5 / (7 * Math.PI ** 2);

/**
 * The quadrature of F, G and dF/dM, dG/dM at one M: composite Gauss-Legendre (16 nodes per panel) on panels
 * geometric in q from M/4 (ratio 2) up to 2, then of width 2 up to q = 64 (the Fermi-Dirac poles at q = i pi
 * keep panels of width 2 converged to 1e-16; the integrand's branch points at q = +-iM keep the geometric
 * panels near q ~ M converged). Exported for the tests; `out` = [F, dF/dM, G, dG/dM] (and, when it has 6 entries,
 * d^2F/dM^2, d^2G/dM^2).
 */
export function fermiDiracQuadrature(M: number, out: Float64Array): void {
  const { x, w } = gaussLegendre(16);
  const edges: number[] = [0];
  let q = Math.min(M / 4, 1);
  if (q < 1e-8) q = 1e-8;
  while (q < 2) {
    edges.push(q);
    q *= 2;
  }
  for (let e = 2; e <= 64; e += 2) edges.push(e);
  let f = 0, df = 0, g = 0, dg = 0, ddf = 0, ddg = 0;
  const M2 = M * M;
  for (let p = 0; p + 1 < edges.length; p++) {
    const a = edges[p], b = edges[p + 1];
    const c = 0.5 * (a + b), h = 0.5 * (b - a);
    for (let j = 0; j < x.length; j++) {
      const qq = c + h * x[j];
      const wj = h * w[j];
      const q2 = qq * qq;
      const E = Math.sqrt(q2 + M2);
      const occ = wj / (Math.exp(qq) + 1);
      f += occ * q2 * E;
      df += occ * q2 * (M / E);
      g += (occ * q2 * q2) / (3 * E);
      const E3 = E * E * E;
      dg -= (occ * q2 * q2 * M) / (3 * E3);
      ddf += (occ * q2 * q2) / E3;
      ddg -= (occ * q2 * q2 * (1 / E3 - (3 * M2) / (E3 * E * E))) / 3;
    }
  }
  out[0] = f / I3; out[1] = df / I3; out[2] = g / I3; out[3] = dg / I3;
  if (out.length >= 6) {
    out[4] = ddf / I3;
    out[5] = ddg / I3;
  }
}

/** The table over u = ln M: F, dF/du, d^2F/du^2 and the same of G at each node (built on first use). */
let table: { F: Float64Array; Fu: Float64Array; Fuu: Float64Array; G: Float64Array; Gu: Float64Array; Guu: Float64Array } | null = null;

function buildTable() {
  const F = new Float64Array(NU), Fu = new Float64Array(NU), Fuu = new Float64Array(NU);
  const G = new Float64Array(NU), Gu = new Float64Array(NU), Guu = new Float64Array(NU);
  const o = new Float64Array(6);
  for (let i = 0; i < NU; i++) {
    const M = Math.exp(U_MIN + i * DU);
    fermiDiracQuadrature(M, o);
    // d/du = M d/dM, d^2/du^2 = M d/dM + M^2 d^2/dM^2
    F[i] = o[0]; Fu[i] = M * o[1]; Fuu[i] = M * o[1] + M * M * o[4];
    G[i] = o[2]; Gu[i] = M * o[3]; Guu[i] = M * o[3] + M * M * o[5];
  }
  return { F, Fu, Fuu, G, Gu, Guu };
}

/**
 * F(M), dF/dM, G(M), dG/dM into out[0..3] (no allocation): the Hermite interpolant of the table in ln M, the
 * relativistic series below it, the non-relativistic expansion above it. M >= 0.
 */
export function fermiDirac(M: number, out: Float64Array): void {
  if (M < 1e-4) {
    const m2 = C2 * M * M;
    out[0] = 1 + m2; out[1] = 2 * C2 * M; out[2] = (1 - m2) / 3; out[3] = (-2 * C2 * M) / 3;
    return;
  }
  if (M > 1e4) {
    // sqrt(q^2 + M^2) = M + q^2/(2M) - q^4/(8M^3) + ...; 1/sqrt = (1 - q^2/(2M^2) + 3q^4/(8M^4))/M
    const iM = 1 / M, iM2 = iM * iM;
    out[0] = (M * I2 + 0.5 * I4 * iM - 0.125 * I6 * iM * iM2) / I3;
    out[1] = (I2 - 0.5 * I4 * iM2 + 0.375 * I6 * iM2 * iM2) / I3;
    out[2] = (iM * (I4 - 0.5 * I6 * iM2)) / (3 * I3);
    out[3] = (-I4 * iM2 + 1.5 * I6 * iM2 * iM2) / (3 * I3);
    return;
  }
  if (!table) table = buildTable();
  const u = Math.log(M);
  let i = Math.floor((u - U_MIN) / DU);
  if (i < 0) i = 0;
  if (i > NU - 2) i = NU - 2;
  const t = (u - (U_MIN + i * DU)) / DU;
  // quintic Hermite basis on [0, 1] (values, first and second derivatives at both ends: a C2 interpolant, so that
  // the growth ODE and finite differences see a smooth function) and its derivative
  const t2 = t * t, t3 = t2 * t, t4 = t3 * t, t5 = t4 * t;
  const h0 = 1 - 10 * t3 + 15 * t4 - 6 * t5, h5 = 10 * t3 - 15 * t4 + 6 * t5;
  const h1 = t - 6 * t3 + 8 * t4 - 3 * t5, h4 = -4 * t3 + 7 * t4 - 3 * t5;
  const h2 = 0.5 * (t2 - 3 * t3 + 3 * t4 - t5), h3 = 0.5 * (t3 - 2 * t4 + t5);
  const d0 = -30 * t2 + 60 * t3 - 30 * t4, d5 = -d0;
  const d1 = 1 - 18 * t2 + 32 * t3 - 15 * t4, d4 = -12 * t2 + 28 * t3 - 15 * t4;
  const d2 = 0.5 * (2 * t - 9 * t2 + 12 * t3 - 5 * t4), d3 = 0.5 * (3 * t2 - 8 * t3 + 5 * t4);
  const { F, Fu, Fuu, G, Gu, Guu } = table;
  const D2 = DU * DU;
  out[0] = h0 * F[i] + DU * (h1 * Fu[i] + h4 * Fu[i + 1]) + D2 * (h2 * Fuu[i] + h3 * Fuu[i + 1]) + h5 * F[i + 1];
  out[1] = (d0 * F[i] + DU * (d1 * Fu[i] + d4 * Fu[i + 1]) + D2 * (d2 * Fuu[i] + d3 * Fuu[i + 1]) + d5 * F[i + 1]) / (DU * M);
  out[2] = h0 * G[i] + DU * (h1 * Gu[i] + h4 * Gu[i + 1]) + D2 * (h2 * Guu[i] + h3 * Guu[i + 1]) + h5 * G[i + 1];
  out[3] = (d0 * G[i] + DU * (d1 * Gu[i] + d4 * Gu[i + 1]) + D2 * (d2 * Guu[i] + d3 * Guu[i + 1]) + d5 * G[i + 1]) / (DU * M);
}
