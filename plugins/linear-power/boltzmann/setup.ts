/**
 * Everything one k-mode of the Boltzmann hierarchy needs, as plain numbers and Float64Arrays (so that it can
 * be sent to a worker thread as is): the homogeneous densities, the thermal history tabulated on a grid
 * uniform in x = ln a (cubic splines of ln kappa', c_b^2 and conformal time tau), the analytic early-time
 * forms above the table, the approximation settings, and, for forward-mode derivatives, the tangents of all
 * of these along the "active" directions (the varied parameters they depend on).
 *
 * Base quantities (`qp`): H0 [1/Mpc], Omega_b, Omega_c, Omega_gamma, Omega_ur, Omega_de, w0, wa, and for massive
 * neutrinos A = N (7/8) (T_ncdm/T_cmb)^4 Omega_gamma (their density today were they massless; 0: none) and
 * M0 = m/(k_B T_ncdm) (plugins/contracts/neutrinos.ts), all from the cosmology contract (plugins/contracts/cosmology.ts) with their tangents. In the
 * right-hand side they are evaluated at q(s) = q0 + Jq s, and the tables at T(x) + sum_a s_a T_a(x): the ODE
 * sensitivities with respect to s at s = 0 are the derivatives along the active directions (linear in s is
 * enough: the solver differentiates once).
 */
import type { Dual } from '../../../core/ad/dual.js';
import type { DualArray } from '../../../core/ad/dual-array.js';
import type { Cosmology } from '../../contracts/cosmology.js';
import { neutrinoAmplitude, neutrinoMassOverT } from '../../contracts/neutrinos.js';
import type { Recombination } from '../../contracts/recombination.js';
import { type NcdmMomenta, ncdmMomenta } from './ncdm.js';

export const P_H0 = 0, P_OB = 1, P_OC = 2, P_OG = 3, P_OUR = 4, P_ODE = 5, P_W0 = 6, P_WA = 7, P_NA = 8, P_NM = 9;
export const NP_BASE = 10;

/** Which approximations and truncations to use (docs/boltzmann.md, "Approximations"). */
export interface ApproximationSettings {
  /** Highest photon temperature multipole (MB95 truncation, eq. 51). */
  lmaxPhotons: number;
  /** Highest photon polarisation multipole. */
  lmaxPolarization: number;
  /** Highest massless-neutrino multipole. */
  lmaxNeutrinos: number;
  /** Tight coupling ends when tau_c/tau_k = k/kappa' or tau_c/tau_h = aH/kappa' exceeds these (BLT11 sec. 3). */
  tcaTauCOverTauK: number;
  tcaTauCOverTauH: number;
  /** Ultra-relativistic fluid approximation from k tau > this (BLT11 sec. 4; <= 0: never). */
  ufaKTau: number;
  /** Radiation streaming from k tau > rsaKTau and tau_c/tau > rsaTauCOverTau (BLT11 sec. 5; rsaKTau <= 0: never). */
  rsaKTau: number;
  rsaTauCOverTau: number;
  /** Start when k tau <= startKTau and omega tau <= startOmegaTau (omega = Omega_m H0 / sqrt(Omega_r)). */
  startKTau: number;
  startOmegaTau: number;
  /** Massive neutrinos: momentum bins (Gauss-Laguerre), highest multipole of each bin's hierarchy. */
  ncdmQBins: number;
  lmaxNcdm: number;
  /** ncdm fluid approximation (LT11 sec. 3.3, CLASS `ncdm_fluid_approximation = 2`) from k tau > this (<= 0: never). */
  ncdmFluidKTau: number;
}

export const DEFAULT_APPROXIMATIONS: ApproximationSettings = {
  lmaxPhotons: 16,
  lmaxPolarization: 6,
  lmaxNeutrinos: 17,
  tcaTauCOverTauK: 0.1,
  tcaTauCOverTauH: 0.005,
  ufaKTau: 30,
  rsaKTau: 45,
  rsaTauCOverTau: 5,
  startKTau: 1e-3,
  startOmegaTau: 1e-4,
  ncdmQBins: 8,
  lmaxNcdm: 17,
  ncdmFluidKTau: 51,
};

/** Cubic spline table on a uniform grid: values, second derivatives, and Pa tangent rows of each. */
export interface SplineColumn {
  y: Float64Array;
  m: Float64Array;
  /** Pa rows of n (tangent along each active direction) or empty. */
  yt: Float64Array;
  mt: Float64Array;
}

export interface ModeSetup {
  /** Base quantities (see P_*) and their Jacobian along the active directions, Jq[j*Pa + a]. */
  q0: Float64Array;
  Jq: Float64Array;
  /** Number of active directions. */
  Pa: number;
  /** Table grid: x = ln a from xMin (uniform step dx, n points) to 0. */
  xMin: number;
  dx: number;
  n: number;
  lnKappa: SplineColumn;
  cb2: SplineColumn;
  tau: SplineColumn;
  /** Above the table (x < xMin): kappa' = exp(lnKappaEarly - 2x), c_b^2 = cb2Early e^-x. */
  lnKappaEarly: number;
  dLnKappaEarly: Float64Array;
  cb2Early: number;
  dLnCb2Early: Float64Array;
  /** PPF dark-energy perturbations (Fang, Hu & Lewis 2008) are evolved. */
  ppf: boolean;
  /** c_Gamma^2 = (c_Gamma/c_s)^2 c_s^2 of the PPF transition scale, and the stiffness cut on (c_Gamma k/aH)^2. */
  ppfCGamma2: number;
  ppfXMax: number;
  approx: ApproximationSettings;
  /** Massive-neutrino momentum bins (ncdm.ts), or null without massive neutrinos (A = 0). */
  ncdm: NcdmMomenta | null;
}

/** Natural cubic spline second derivatives on a uniform grid of step h (Thomas algorithm). */
export function uniformSplineM(y: Float64Array, off: number, n: number, h: number, out: Float64Array, outOff: number): void {
  // m_0 = m_{n-1} = 0; m_{i-1} + 4 m_i + m_{i+1} = 6 (y_{i+1} - 2 y_i + y_{i-1}) / h^2
  const c = new Float64Array(n);
  const d = new Float64Array(n);
  for (let i = 1; i < n - 1; i++) {
    const rhs = (6 * (y[off + i + 1] - 2 * y[off + i] + y[off + i - 1])) / (h * h);
    const den = 4 - (i > 1 ? c[i - 1] : 0);
    c[i] = 1 / den;
    d[i] = (rhs - (i > 1 ? d[i - 1] : 0)) / den;
  }
  out[outOff] = 0;
  out[outOff + n - 1] = 0;
  for (let i = n - 2; i >= 1; i--) out[outOff + i] = d[i] - c[i] * (i < n - 2 ? out[outOff + i + 1] : 0);
}

function splineColumn(y: Float64Array, yt: Float64Array, Pa: number, h: number): SplineColumn {
  const n = y.length;
  const m = new Float64Array(n);
  uniformSplineM(y, 0, n, h, m, 0);
  const mt = new Float64Array(Pa * n);
  for (let a = 0; a < Pa; a++) uniformSplineM(yt, a * n, n, h, mt, a * n);
  return { y, m, yt, mt };
}

/** Values and tangent rows (active directions `act`) of a DualArray, reversed (ascending z -> ascending x). */
function reversed(d: DualArray, act: number[]): { v: Float64Array; t: Float64Array } {
  const n = d.value.length;
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = d.value[n - 1 - i];
  const t = new Float64Array(act.length * n);
  if (d.tangent)
    act.forEach((p, a) => {
      for (let i = 0; i < n; i++) t[a * n + i] = d.tangent![p * n + n - 1 - i];
    });
  return { v, t };
}

const tangentOf = (d: Dual, p: number) => (d.d ? d.d[p] : 0);

export interface SetupInput {
  /** The cosmology (its Duals carry tangents over the P varied parameters). */
  cosmology: Cosmology;
  recombination: Recombination;
  P: number;
  approx: ApproximationSettings;
  /** 'ppf' | 'none': dark-energy perturbations; PPF is needed whenever w != -1 or w0, wa are varied. */
  darkEnergy: 'ppf' | 'none';
  ppfCGammaOverCs: number;
}

/**
 * Build the ModeSetup: base values, active directions (those of the P tangent directions along which any
 * base quantity or thermal table varies), and spline tables in x ascending.
 */
export function buildModeSetup(inp: SetupInput): { setup: ModeSetup; active: number[] } {
  const c = inp.cosmology, rec = inp.recombination;
  const P = inp.P;
  if (Math.abs(c.Omega_k.v) > 0)
    throw new Error(
      `linear-power/boltzmann: parameters.Omega_k = ${c.Omega_k.v}: only flat cosmologies are implemented ` +
        '(the hierarchy would need the curvature factors s_l of Lesgourgues & Tram 2013)',
    );
  const T = c.T_cmb;
  // the base quantities in P_* order, from the cosmology contract (Omega_c = Omega_m - Omega_b - Omega_nu,
  // Omega_gamma from T_cmb, Omega_ur from N_eff, Omega_de by closure)
  // massive neutrinos: A and M0 of the cosmology's mass split (m_nu = 0: none, A = 0 exactly)
  const massive = c.m_nu.v > 0;
  const zero: Dual = { v: 0, d: null };
  const baseDuals = [
    c.H0, c.Omega_b, c.Omega_cdm, c.Omega_g, c.Omega_ur, c.Omega_de, c.w0, c.wa,
    massive ? neutrinoAmplitude(c.Omega_g, c.neutrinos) : zero,
    massive ? neutrinoMassOverT(c.m_nu, c.T_cmb, c.neutrinos) : zero,
  ];
  const base = baseDuals.map((x) => ({ v: x.v, d: (p: number) => tangentOf(x, p) }));
  if (!(base[P_OC].v > 0))
    throw new Error(`linear-power/boltzmann: Omega_cdm = Omega_m - Omega_b = ${base[P_OC].v} must be > 0 (cold dark matter)`);

  // active directions: any base tangent or thermal-table tangent nonzero
  const tables = [rec.kappa_prime_1overMpc, rec.c_b2, rec.tau_Mpc];
  const active: number[] = [];
  for (let p = 0; p < P; p++) {
    let on = base.some((b) => b.d(p) !== 0) || tangentOf(rec.x_e_early, p) !== 0 || tangentOf(rec.kappa_coefficient_1overMpc, p) !== 0;
    for (const t of tables) if (!on && t.tangent) for (let i = 0, o = p * t.value.length; i < t.value.length && !on; i++) on = t.tangent[o + i] !== 0;
    if (on) active.push(p);
  }
  const Pa = active.length;
  const q0 = Float64Array.from(base, (b) => b.v);
  const Jq = new Float64Array(NP_BASE * Pa);
  base.forEach((b, j) => active.forEach((p, a) => (Jq[j * Pa + a] = b.d(p))));

  // thermal tables, ascending x (the recombination grid is uniform in ln(1+z))
  const n = rec.z.length;
  const xMin = -Math.log1p(rec.z[n - 1]);
  const dx = -xMin / (n - 1);
  for (let i = 1; i < n; i++) {
    const expect = Math.log1p(rec.z[i]) - Math.log1p(rec.z[i - 1]);
    if (Math.abs(expect - dx) > 1e-6 * dx)
      throw new Error('linear-power/boltzmann: the recombination grid must be uniform in ln(1+z) (the Recombination contract)');
  }
  const kp = reversed(rec.kappa_prime_1overMpc, active);
  const lnK = new Float64Array(n), lnKt = new Float64Array(Pa * n);
  for (let i = 0; i < n; i++) {
    lnK[i] = Math.log(kp.v[i]);
    for (let a = 0; a < Pa; a++) lnKt[a * n + i] = kp.t[a * n + i] / kp.v[i];
  }
  const cb = reversed(rec.c_b2, active);
  const tau = reversed(rec.tau_Mpc, active);

  // early forms: kappa' = kappa_c x_e,early a^-2; c_b^2 = (k T_cmb / a m_H c^2)(1/mu)(4/3) with T_b = T_R
  const kc = rec.kappa_coefficient_1overMpc, xe = rec.x_e_early, Y = rec.Y_He;
  const lnKappaEarly = Math.log(kc.v * xe.v);
  const dLnKappaEarly = Float64Array.from(active, (p) => tangentOf(kc, p) / kc.v + tangentOf(xe, p) / xe.v);
  const NOT4 = 3.9715, MH_K = (1.673575e-27 * 2.99792458e8 ** 2) / 1.3806504e-23;
  const invMu = 1 - Y.v + Y.v / NOT4 + xe.v * (1 - Y.v);
  const cb2Early = ((T.v / MH_K) * invMu * 4) / 3;
  const dLnCb2Early = Float64Array.from(active, (p) => {
    const dY = tangentOf(Y, p);
    return tangentOf(T, p) / T.v + (-dY + dY / NOT4 + tangentOf(xe, p) * (1 - Y.v) - xe.v * dY) / invMu;
  });

  const wConst = c.w0.v === -1 && c.wa.v === 0;
  const deVaried = active.some((p) => tangentOf(c.w0, p) !== 0 || tangentOf(c.wa, p) !== 0);
  const ppf = inp.darkEnergy === 'ppf' && (!wConst || deVaried) && c.Omega_de.v !== 0;
  return {
    active,
    setup: {
      q0, Jq, Pa, xMin, dx, n,
      lnKappa: splineColumn(lnK, lnKt, Pa, dx),
      cb2: splineColumn(cb.v, cb.t, Pa, dx),
      tau: splineColumn(tau.v, tau.t, Pa, dx),
      lnKappaEarly, dLnKappaEarly, cb2Early, dLnCb2Early,
      ppf,
      ppfCGamma2: inp.ppfCGammaOverCs * inp.ppfCGammaOverCs,
      ppfXMax: 1e3,
      approx: inp.approx,
      ncdm: massive ? ncdmMomenta(inp.approx.ncdmQBins) : null,
    },
  };
}
