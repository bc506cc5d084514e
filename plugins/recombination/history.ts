/**
 * The thermal history on a grid: solve the RECFAST system (recfast.ts) with forward sensitivities, add
 * reionisation (reionization.ts, with z_reio found from tau_reio by root finding when tau_reio is the input),
 * and derive the optical quantities, in physics order:
 *
 *   1. x_rec(z), T_M(z) from the ODE in x = ln a from z_max = 10^4 (a stiff, L-stable Rosenbrock method:
 *      the rates exceed H by up to 1e18 there), sensitivities S = dy/ds along the varied directions;
 *   2. conformal time tau(x) = tau(x_min) + Integral dx / (a H), tau(x_min) in closed form for radiation +
 *      matter (2/(H0 Omega_m)) (sqrt(Omega_r + Omega_m a) - sqrt(Omega_r));
 *   3. x_e = x_rec + reionisation; kappa' = x_e n_H0 sigma_T (1+z)^2; kappa(x) = Integral_x^0 kappa' dtau,
 *      g = kappa' e^-kappa; baryon drag depth Integral kappa'/R dtau, R = 3 rho_b / (4 rho_gamma);
 *      r_s = Integral c_s dtau, c_s = 1/sqrt(3 (1 + R));
 *   4. T_b = Theta T_R, c_b^2 = (k T_b / mu m_H c^2)(1 - (1/3) d ln T_b/d ln a), 1/mu = 1 - Y + Y/not4 + x_e (1-Y)
 *      (the CLASS definition, thermodynamics.c);
 *   5. z_star (kappa = 1), z_drag (drag depth = 1), z_rec (maximum of g), r_s at z_star and z_drag.
 *
 * thermalHistory runs these steps in that order; each is one function below (solveRecfast, tabulateRecfast,
 * conformalTime, Reionization + reionizationEpoch, kappaPrime, lineOfSight, visibility, baryonTemperature,
 * epochs), and the outputs are assembled on the ascending-z grid by ascending().
 *
 * Tangents: the base quantities q (cosmology.ts) carry tangents in the pipeline's parameter space; the ODE
 * sensitivities are integrated along the "active" directions only (those with a nonzero dq/dtheta), with
 * params s = 0 and q(s) = q0 + (dq/dtheta) s, so that dy/ds is dy/dtheta. Every later step is a closed form
 * or a linear quadrature, differentiated by hand below; the roots (z_star, z_drag, z_reio) by the implicit
 * function theorem.
 */
import { type Dual, constant } from '../../core/ad/dual.js';
import type { DualArray } from '../../core/ad/dual-array.js';
import { gaussLegendreRule } from '../../core/numerics/gauss-legendre.js';
import { applyCumulative, cumulativeWeights } from '../../core/numerics/cumulative.js';
import { brent } from '../../core/numerics/root.js';
import { createRosenbrock, type OdeInterpolant } from '../../core/numerics/ode/index.js';
import type { Recombination } from '../contracts/recombination.js';
import { omegaGammaH2 } from '../contracts/cosmology.js';
import { C_LIGHT, HE_TO_H_MASS, M_H_KELVIN, MPC_IN_M } from './constants.js';
import {
  NQ, Q_H, Q_NA, Q_NM, Q_OB, Q_OM, Q_OR, Q_TCMB, Q_YHE, activeDirections, baseVector, dlnEdq, e2Of, earlyDensities, heliumRatio,
  kappaCoefficient, nH0,
} from './cosmology.js';
import { CR, CT, HC_OVER_K, L_HE2_ION } from './constants.js';
import { IX_H, ITHETA, IY_HE, RECFAST_NAMES, recfastPoint, recfastRhs, sahaInitialState, type RecfastPoint } from './recfast-equations.js';
import { type ReionizationShape, reionizationWeights } from './reionization.js';

/** 100 km/s/Mpc / c in 1/Mpc: H0 = h H100. */
export const H100_PER_MPC = 1e5 / C_LIGHT;

export interface HistoryOptions {
  /** Top of the table (fully ionised above). */
  zMax: number;
  /** Grid step in ln a. */
  dlna: number;
  /** Relative tolerance of the ODE. */
  rtol: number;
  reionization: ReionizationShape;
}

export type ReionizationInput = { kind: 'tau'; tau: Dual } | { kind: 'z'; z: Dual };

/** A value array and its tangent blocks along the active directions (Pa blocks of n). */
interface Col {
  v: Float64Array;
  t: Float64Array;
}

function col(n: number, Pa: number): Col {
  return { v: new Float64Array(n), t: new Float64Array(Pa * n) };
}

/** Cubic Lagrange weights on a uniform grid at index position u (x = x0 + u dx): value (w) and d/du (dw). */
function lagrange4(u: number, n: number, w: Float64Array, dw: Float64Array): number {
  let i = Math.floor(u) - 1;
  if (i < 0) i = 0;
  if (i > n - 4) i = n - 4;
  const t = u - i; // in [0, 3] around nodes 0..3
  const n0 = t, n1 = t - 1, n2 = t - 2, n3 = t - 3;
  w[0] = -(n1 * n2 * n3) / 6;
  w[1] = (n0 * n2 * n3) / 2;
  w[2] = -(n0 * n1 * n3) / 2;
  w[3] = (n0 * n1 * n2) / 6;
  dw[0] = -(n2 * n3 + n1 * n3 + n1 * n2) / 6;
  dw[1] = (n2 * n3 + n0 * n3 + n0 * n2) / 2;
  dw[2] = -(n1 * n3 + n0 * n3 + n0 * n1) / 2;
  dw[3] = (n1 * n2 + n0 * n2 + n0 * n1) / 6;
  return i;
}

// ---------------------------------------------------------------------------------------------------------
// directions, base scalars, grid

/** The base quantities q0 and the directions they vary along: q(s) = q0 + Ja s over the Pa active directions. */
interface Directions {
  /** Tangent directions of the pipeline. */
  P: number;
  q0: Float64Array;
  /** Pipeline index of each active direction. */
  act: number[];
  Pa: number;
  /** dq_j/ds_a, NQ x Pa row-major. */
  Ja: Float64Array;
}

/** Directions along which anything here varies: the base quantities, and tau_reio or z_reio. */
function activeSpace(q: readonly Dual[], P: number, reio: ReionizationInput): Directions {
  const { q0, J } = baseVector(q, P);
  const reioDual = reio.kind === 'tau' ? reio.tau : reio.z;
  const act = activeDirections(J, NQ, P).concat(
    Array.from({ length: P }, (_, p) => p).filter((p) => reioDual.d && reioDual.d[p] !== 0 && !activeDirections(J, NQ, P).includes(p)),
  ).sort((a, b) => a - b);
  const Pa = act.length;
  const Ja = new Float64Array(NQ * Pa);
  for (let j = 0; j < NQ; j++) for (let a = 0; a < Pa; a++) Ja[j * Pa + a] = J[j * P + act[a]];
  return { P, q0, act, Pa, Ja };
}

/** dq_j/ds_a. */
const dq = (d: Directions, j: number, a: number): number => d.Ja[j * d.Pa + a];

/** Tangents of the early radiation Omega_r + A and matter Omega_m - A F(M0) (cosmology.ts earlyDensities). */
function dEarly(d: Directions, a: number): { dOr: number; dOm: number } {
  const A = d.q0[Q_NA];
  if (A === 0) return { dOr: dq(d, Q_OR, a), dOm: dq(d, Q_OM, a) };
  const e = earlyDensities(d.q0);
  return { dOr: dq(d, Q_OR, a) + dq(d, Q_NA, a), dOm: dq(d, Q_OM, a) - dq(d, Q_NA, a) * e.F0 - A * e.dF0 * dq(d, Q_NM, a) };
}

/** The base quantities at s: q0 + Ja s, into out. */
function baseAt(d: Directions, s: Float64Array, out: Float64Array): Float64Array {
  const { q0, Ja, Pa } = d;
  for (let j = 0; j < NQ; j++) {
    let v = q0[j];
    for (let a = 0; a < Pa; a++) v += Ja[j * Pa + a] * s[a];
    out[j] = v;
  }
  return out;
}

/** Scalars of the fiducial base, and the logarithmic tangents every step uses. */
interface BaseScalars {
  h: number; Ob: number; Om: number; Or: number; T0: number; Y: number;
  /** n_He / n_H, n_H today [1/m^3], the kappa' coefficient, H0 [1/Mpc]. */
  fHe: number; nH0: number; kc: number; H0: number;
  /** d ln n_H0, d f_He, d ln T_cmb, d ln H0 along each active direction. */
  dlnNH: Float64Array; dfHe: Float64Array; dlnT0: Float64Array; dlnH0: Float64Array;
}

function baseScalars(d: Directions): BaseScalars {
  const { q0, Pa } = d;
  // Om, Or: the early-universe matter and radiation (massive neutrinos relativistic there: cosmology.ts earlyDensities)
  const early = earlyDensities(q0);
  const h = q0[Q_H], Ob = q0[Q_OB], Om = early.Om, Or = early.Or, T0 = q0[Q_TCMB], Y = q0[Q_YHE];
  const fHe = heliumRatio(Y, HE_TO_H_MASS);
  // d ln n_H0 = 2 dh/h + dOmega_b/Omega_b - dY/(1-Y); d f_He = f_He dY / (Y (1-Y))
  const dlnNH = new Float64Array(Pa), dfHe = new Float64Array(Pa), dlnT0 = new Float64Array(Pa), dlnH0 = new Float64Array(Pa);
  for (let a = 0; a < Pa; a++) {
    dlnNH[a] = (2 * dq(d, Q_H, a)) / h + dq(d, Q_OB, a) / Ob - dq(d, Q_YHE, a) / (1 - Y);
    dfHe[a] = (fHe * dq(d, Q_YHE, a)) / (Y * (1 - Y));
    dlnT0[a] = dq(d, Q_TCMB, a) / T0;
    dlnH0[a] = dq(d, Q_H, a) / h;
  }
  return { h, Ob, Om, Or, T0, Y, fHe, nH0: nH0(q0), kc: kappaCoefficient(q0), H0: h * H100_PER_MPC, dlnNH, dfHe, dlnT0, dlnH0 };
}

/** The table's grid: uniform in x = ln a, ascending (j = 0 at z_max); reversed to ascending z at the end. */
interface Grid {
  xMin: number;
  n: number;
  dx: number;
  xs: Float64Array;
}

function lnaGrid(zMax: number, dlna: number): Grid {
  const xMin = -Math.log1p(zMax);
  const n = Math.max(16, Math.round(-xMin / dlna) + 1);
  const dx = -xMin / (n - 1);
  const xs = new Float64Array(n);
  for (let j = 0; j < n; j++) xs[j] = xMin + j * dx;
  xs[n - 1] = 0;
  return { xMin, n, dx, xs };
}

// ---------------------------------------------------------------------------------------------------------
// 1. the RECFAST ODE and its table

/** The RECFAST ODE in x = ln a from x_min to 0, with sensitivities along the active directions: its dense output. */
function solveRecfast(d: Directions, xMin: number, rtol: number): OdeInterpolant {
  const qs = new Float64Array(NQ);
  const f = (x: number, y: Float64Array, dy: Float64Array, s: Float64Array): void => {
    recfastRhs(x, y, dy, baseAt(d, s, qs));
  };
  // Start in the equilibrium state (Saha, quasi-static Theta) of the perturbed parameters: consistent initial
  // sensitivities (the solver differentiates this algebraic function by central differences, error ~1e-10),
  // so that no stiff transient (rates up to 1e18 per e-fold) has to be resolved.
  const qInit = new Float64Array(NQ);
  const y0 = (s: Float64Array): Float64Array => sahaInitialState(xMin, baseAt(d, s, qInit));
  const sol = createRosenbrock().solve(
    { f, y0, tspan: [xMin, 0], params: new Float64Array(d.Pa), names: RECFAST_NAMES },
    { rtol, atol: 1e-13, sensitivities: d.Pa > 0, sensitivityErrorControl: false },
  );
  return sol.interpolant!;
}

/** The ODE solution on the grid, with tangents. */
interface RecfastTable {
  /** x_e without reionisation. */
  xrec: Col;
  /** T_M / T_R. */
  theta: Col;
  /** d Theta / d ln a. */
  dTheta: Col;
  /** d tau / d x = 1/(a H) [Mpc]. */
  tauX: Col;
}

const T_HE2 = HC_OVER_K * L_HE2_ION;

/** He III in Saha equilibrium at one point: F(y3) = (b + c y3) y3 - S (y - y3) = 0 (recfast.ts heliumIII). */
interface HeliumIII {
  y3: number; xH: number; yHe: number; fHe: number; nH: number; TR: number; S3: number; dFdy3: number;
}

function heliumIIIAt(y3: number, xH: number, yHe: number, fHe: number, nH: number, TR: number): HeliumIII {
  const S3 = y3 > 0 ? Math.pow(CR * TR, 1.5) * Math.exp(-T_HE2 / TR) : 0;
  const b = nH * (xH + fHe * yHe);
  const c = nH * fHe;
  return { y3, xH, yHe, fHe, nH, TR, S3, dFdy3: b + 2 * c * y3 + S3 };
}

/** dy3 from F(y3) = 0 differentiated implicitly, given dx_H, dy_He and the base's d ln n_H0, d f_He, d ln T0. */
function heliumIIITangent(he: HeliumIII, dxH: number, dyHe: number, dlnNH: number, dfHe: number, dlnT0: number): number {
  const { y3, xH, yHe, fHe, nH, TR, S3 } = he;
  if (!(y3 > 0)) return 0;
  const dnH = nH * dlnNH;
  const db = dnH * (xH + fHe * yHe) + nH * (dxH + dfHe * yHe + fHe * dyHe);
  const dc = dnH * fHe + nH * dfHe;
  const dS = S3 * (1.5 + T_HE2 / TR) * dlnT0;
  return -(db * y3 + dc * y3 * y3 - dS * (yHe - y3) - S3 * dyHe) / he.dFdy3;
}

/** Sample the ODE's dense output (and sensitivities) on the grid: x_rec, Theta, dTheta/dln a, dtau/dx. */
function tabulateRecfast(interp: OdeInterpolant, g: Grid, d: Directions, b: BaseScalars): RecfastTable {
  const { n, xs } = g;
  const { q0, Pa } = d;
  const { T0, fHe, H0, dlnNH, dfHe, dlnT0, dlnH0 } = b;
  const xrec = col(n, Pa), theta = col(n, Pa), dTheta = col(n, Pa), tauX = col(n, Pa);
  const yv = new Float64Array(3), Sv = new Float64Array(3 * Math.max(Pa, 1));
  const pt: RecfastPoint = { xe: 0, y3: 0, dTheta: 0 };
  const dlnE = new Float64Array(NQ);
  for (let j = 0; j < n; j++) {
    const x = xs[j];
    interp.at(x, yv);
    if (Pa > 0) interp.sensitivityAt(x, Sv);
    recfastPoint(x, yv, q0, pt);
    const z1 = Math.exp(-x);
    const eH = Math.exp(yv[IX_H]), eHe = Math.exp(yv[IY_HE]);
    const xH = -Math.expm1(yv[IX_H]), yHe = -Math.expm1(yv[IY_HE]);
    xrec.v[j] = pt.xe;
    theta.v[j] = yv[ITHETA];
    dTheta.v[j] = pt.dTheta;
    const E = Math.sqrt(e2Of(q0, x));
    tauX.v[j] = z1 / (H0 * E);
    dlnEdq(q0, x, dlnE);
    const TR = T0 * z1;
    const he = heliumIIIAt(pt.y3, xH, yHe, fHe, b.nH0 * z1 * z1 * z1, TR);
    const gC = (CT * TR ** 4 * pt.xe) / ((1 + fHe + pt.xe) * H0 * E * (C_LIGHT / MPC_IN_M)); // Gamma_C / H
    for (let a = 0; a < Pa; a++) {
      const dxH = -eH * Sv[a * 3 + IX_H];
      const dyHe = -eHe * Sv[a * 3 + IY_HE];
      const dy3 = heliumIIITangent(he, dxH, dyHe, dlnNH[a], dfHe[a], dlnT0[a]);
      const dxe = dxH + dfHe[a] * (yHe + pt.y3) + fHe * (dyHe + dy3);
      xrec.t[a * n + j] = dxe;
      const dth = Sv[a * 3 + ITHETA];
      theta.t[a * n + j] = dth;
      let dlnEa = 0;
      for (let k = 0; k < NQ; k++) dlnEa += dlnE[k] * dq(d, k, a);
      tauX.t[a * n + j] = -tauX.v[j] * (dlnH0[a] + dlnEa);
      // dTheta/dlna = -Theta + g (1 - Theta), g = Gamma_C/H:
      // d ln g = 4 dT0/T0 + dx_e (1/x_e - 1/(1+f+x_e)) - df/(1+f+x_e) - dh/h - d ln E
      const den = 1 + fHe + pt.xe;
      const dlng = 4 * dlnT0[a] + dxe * (1 / pt.xe - 1 / den) - dfHe[a] / den - dlnH0[a] - dlnEa;
      dTheta.t[a * n + j] = -dth * (1 + gC) + (1 - yv[ITHETA]) * gC * dlng;
    }
  }
  return { xrec, theta, dTheta, tauX };
}

// ---------------------------------------------------------------------------------------------------------
// 2. conformal time

/** Cumulative integral (weights W) of a column, values and tangents. */
function cumulative(W: ReturnType<typeof cumulativeWeights>, C: Col, Pa: number, n: number): Col {
  const out = col(n, Pa);
  applyCumulative(W, C.v, 1, out.v);
  if (Pa > 0) applyCumulative(W, C.t, Pa, out.t);
  return out;
}

/** tau(x) = tau(x_min) + Integral dtau/dx dx, tau(x_min) for radiation + matter. */
function conformalTime(g: Grid, W: ReturnType<typeof cumulativeWeights>, tauX: Col, d: Directions, b: BaseScalars): Col {
  const { n } = g;
  const { Pa } = d;
  const { Om, Or, H0, dlnH0 } = b;
  const a0 = Math.exp(g.xMin);
  const s1 = Math.sqrt(Or + Om * a0), s0 = Math.sqrt(Or);
  const tau0 = (2 * (s1 - s0)) / (H0 * Om);
  const tau = cumulative(W, tauX, Pa, n);
  const dTau0 = new Float64Array(Pa);
  for (let a = 0; a < Pa; a++) {
    const { dOm, dOr } = dEarly(d, a);
    dTau0[a] = -tau0 * dlnH0[a] + (2 / H0) * ((a0 * dOm + dOr) / (2 * s1 * Om) - dOr / (2 * s0 * Om) - ((s1 - s0) * dOm) / (Om * Om));
  }
  for (let j = 0; j < n; j++) {
    tau.v[j] += tau0;
    for (let a = 0; a < Pa; a++) tau.t[a * n + j] += dTau0[a];
  }
  return tau;
}

// ---------------------------------------------------------------------------------------------------------
// 3. reionisation, kappa', optical depths

/** Redshift above which the reionisation weights are below 1e-17 (tanh = -1 in double precision). */
function reionizationTop(zRe: number, r: ReionizationShape): number {
  const yTop = Math.pow(1 + zRe, r.exponent) + 20 * r.exponent * Math.pow(1 + zRe, r.exponent - 1) * r.width;
  return Math.max(Math.pow(yTop, 1 / r.exponent) - 1, r.heliumRedshift + 20 * r.heliumWidth);
}

/**
 * x_e = x_rec + tanh reionisation at a trial z_re, rewritten in place for each trial (only the low-z end is
 * visited), and the Thomson depth from today to the minimum of x_e that defines tau_reio.
 */
class Reionization {
  /** x_e with tangents at fixed z_re (the z_re dependence is added by addZreDependence). */
  readonly xe: Col;
  /** dx_e/dz_re. */
  readonly dxeDzre: Float64Array;
  /** Lowest index written by a previous call. */
  private visited: number;
  private readonly w = new Float64Array(3);

  constructor(
    private readonly g: Grid,
    private readonly xrec: Col,
    private readonly tauX: Col,
    private readonly b: BaseScalars,
    private readonly shape: ReionizationShape,
    private readonly Pa: number,
  ) {
    const n = g.n;
    this.xe = col(n, Pa);
    this.dxeDzre = new Float64Array(n);
    this.xe.v.set(xrec.v);
    this.xe.t.set(xrec.t);
    this.visited = n;
  }

  /** Write x_e for this z_re. */
  apply(zRe: number): void {
    const { g, xrec, xe, dxeDzre, w, Pa } = this;
    const { n, xs } = g;
    const { fHe, dfHe } = this.b;
    const top = reionizationTop(zRe, this.shape);
    let j = n - 1;
    for (; j >= 0; j--) {
      const z = Math.expm1(-xs[j]);
      if (z > top) break;
      reionizationWeights(z, zRe, this.shape, w);
      const xa = 1 + fHe;
      xe.v[j] = xrec.v[j] + (xa - xrec.v[j]) * w[0] + fHe * w[1];
      dxeDzre[j] = (xa - xrec.v[j]) * w[2];
      for (let a = 0; a < Pa; a++) xe.t[a * n + j] = xrec.t[a * n + j] * (1 - w[0]) + dfHe[a] * (w[0] + w[1]);
    }
    // undo what an earlier call (larger z_re) wrote above this call's range
    for (let i = j; i >= this.visited && i >= 0; i--) {
      xe.v[i] = xrec.v[i];
      dxeDzre[i] = 0;
      for (let a = 0; a < Pa; a++) xe.t[a * n + i] = xrec.t[a * n + i];
    }
    this.visited = Math.min(this.visited, j + 1);
  }

  /** F = kappa' dtau/dx at grid point j, the integrand of the Thomson depth in x. */
  F(j: number): number {
    return this.b.kc * this.xe.v[j] * Math.exp(-2 * this.g.xs[j]) * this.tauX.v[j];
  }

  /** The tangent of F at j for the x_e tangent dxe along direction a (a < 0: along z_re, x_e alone). */
  dF(j: number, dxe: number, a: number): number {
    const { kc, dlnNH } = this.b;
    const e2x = Math.exp(-2 * this.g.xs[j]);
    if (a < 0) return kc * e2x * this.tauX.v[j] * dxe; // along z_re
    return kc * e2x * ((dxe + this.xe.v[j] * dlnNH[a]) * this.tauX.v[j] + this.xe.v[j] * this.tauX.t[a * this.g.n + j]);
  }

  /**
   * tau_reio: Thomson depth from today to the global minimum of x_e (CLASS's definition), after apply(zRe).
   * The end point is the minimum of the (smooth) x_e, located at the vertex x_min = x_j + u dx of the parabola
   * through the grid minimum and its neighbours; the depth is the trapezoid sum from x_j to 0 minus
   * u dx F_j for the piece between x_j and x_min, so that it moves continuously with z_re.
   */
  depthToMinimum(zRe: number): { tau: number; jMin: number; u: number } {
    this.apply(zRe);
    const { n, xs, dx } = this.g;
    const xe = this.xe;
    let jMin = n - 2;
    for (let j = n - 2; j >= 1 && Math.expm1(-xs[j]) < 200; j--) if (xe.v[j] < xe.v[jMin]) jMin = j;
    const D = xe.v[jMin - 1] - 2 * xe.v[jMin] + xe.v[jMin + 1];
    const u = D > 0 ? (xe.v[jMin - 1] - xe.v[jMin + 1]) / (2 * D) : 0;
    let sum = 0;
    for (let j = jMin; j < n - 1; j++) sum += 0.5 * (this.F(j) + this.F(j + 1)) * dx;
    return { tau: sum - u * dx * this.F(jMin), jMin, u };
  }

  /**
   * Tangents of the depth at fixed z_re (partial, per direction), and its z_re derivative, at z_re (applied
   * again); the vertex offset u = (f_- - f_+) / (2 D), D = f_- - 2 f_0 + f_+, moves with the x_e values f
   * around the minimum.
   */
  depthTangents(zRe: number): { dDepth: Float64Array; dDepthDzre: number } {
    const { jMin, u: uMin } = this.depthToMinimum(zRe);
    const { n, dx } = this.g;
    const { xe, dxeDzre, Pa } = this;
    const dDepth = new Float64Array(Pa);
    let dDepthDzre = 0;
    const Dm = xe.v[jMin - 1] - 2 * xe.v[jMin] + xe.v[jMin + 1];
    const dVertex = (dm: number, d0: number, dp: number) => (Dm > 0 ? (dm - dp) / (2 * Dm) - (uMin * (dm - 2 * d0 + dp)) / Dm : 0);
    for (let jj = jMin; jj < n; jj++) {
      const wt = (jj === jMin || jj === n - 1 ? 0.5 : 1) * dx; // trapezoid weights on the uniform grid
      dDepthDzre += wt * this.dF(jj, dxeDzre[jj], -1);
      for (let a = 0; a < Pa; a++) dDepth[a] += wt * this.dF(jj, xe.t[a * n + jj], a);
    }
    dDepthDzre -= dx * (dVertex(dxeDzre[jMin - 1], dxeDzre[jMin], dxeDzre[jMin + 1]) * this.F(jMin) + uMin * this.dF(jMin, dxeDzre[jMin], -1));
    for (let a = 0; a < Pa; a++) {
      const t = (j: number) => xe.t[a * n + j];
      dDepth[a] -= dx * (dVertex(t(jMin - 1), t(jMin), t(jMin + 1)) * this.F(jMin) + uMin * this.dF(jMin, t(jMin), a));
    }
    return { dDepth, dDepthDzre };
  }

  /** Add the z_re dependence to the x_e tangents: dx_e += dx_e/dz_re dz_re. */
  addZreDependence(dzRe: Float64Array): void {
    const { n } = this.g;
    for (let j = 0; j < n; j++) for (let a = 0; a < this.Pa; a++) this.xe.t[a * n + j] += this.dxeDzre[j] * dzRe[a];
  }
}

/** z_reio and tau_reio with their tangents (along the active directions). */
interface ReionizationEpoch {
  zRe: number;
  dzRe: Float64Array;
  tauReio: number;
  dTauReio: Float64Array;
}

/** The tangent of a pipeline Dual along the active directions. */
function activeTangent(d: Directions, x: Dual): Float64Array {
  const out = new Float64Array(d.Pa);
  if (x.d) for (let a = 0; a < d.Pa; a++) out[a] = x.d[d.act[a]];
  return out;
}

/**
 * z_reio given, or found from tau_reio by root finding; the other one's tangent from the depth's tangents
 * (implicit function theorem for tau_reio as the input). Leaves x_e at the final z_re, z_re tangents included.
 */
function reionizationEpoch(rx: Reionization, reio: ReionizationInput, d: Directions): ReionizationEpoch {
  let zRe: number, dzRe: Float64Array;
  let tauReio: number, dTauReio: Float64Array;
  if (reio.kind === 'z') {
    zRe = reio.z.v;
    dzRe = activeTangent(d, reio.z);
    tauReio = rx.depthToMinimum(zRe).tau;
    dTauReio = new Float64Array(d.Pa); // filled below from the tangent of the depth
  } else {
    const target = reio.tau.v;
    const lo = 0.01, hi = 50;
    const tLo = rx.depthToMinimum(lo).tau, tHi = rx.depthToMinimum(hi).tau;
    if (!(target > tLo && target < tHi))
      throw new Error(
        `recombination: tau_reio = ${target} cannot be reached with the tanh reionisation (z_reio in [${lo}, ${hi}] gives ` +
          `tau in [${tLo.toPrecision(4)}, ${tHi.toPrecision(4)}]); choose tau_reio inside that range`,
      );
    zRe = brent((zr) => rx.depthToMinimum(zr).tau - target, lo, hi, { xtol: 1e-8, name: 'z_reio for tau_reio' });
    tauReio = target;
    dTauReio = activeTangent(d, reio.tau);
    dzRe = new Float64Array(d.Pa); // filled below
  }
  const { dDepth, dDepthDzre } = rx.depthTangents(zRe);
  for (let a = 0; a < d.Pa; a++) {
    if (reio.kind === 'z') dTauReio[a] = dDepth[a] + dDepthDzre * dzRe[a];
    else dzRe[a] = (dTauReio[a] - dDepth[a]) / dDepthDzre;
  }
  rx.addZreDependence(dzRe);
  return { zRe, dzRe, tauReio, dTauReio };
}

/** kappa' = x_e n_H0 sigma_T (1+z)^2 [1/Mpc]. */
function kappaPrime(g: Grid, xe: Col, b: BaseScalars, Pa: number): Col {
  const { n, xs } = g;
  const { kc, dlnNH } = b;
  const kp = col(n, Pa);
  for (let j = 0; j < n; j++) {
    const e2x = Math.exp(-2 * xs[j]);
    kp.v[j] = kc * xe.v[j] * e2x;
    for (let a = 0; a < Pa; a++) kp.t[a * n + j] = kc * e2x * (xe.t[a * n + j] + xe.v[j] * dlnNH[a]);
  }
  return kp;
}

/** R = 3 rho_b / (4 rho_gamma) = 3 omega_b / (4 omega_gamma) a = R1 a (omega_gamma: the cosmology contract's), and d ln R1. */
function baryonPhotonRatio(d: Directions, b: BaseScalars): { R1: number; dlnR1: Float64Array } {
  const { Ob, h, T0, dlnH0, dlnT0 } = b;
  const R1 = (3 * Ob * h * h) / (4 * omegaGammaH2(T0));
  const dlnR1 = new Float64Array(d.Pa);
  for (let a = 0; a < d.Pa; a++) dlnR1[a] = dq(d, Q_OB, a) / Ob + 2 * dlnH0[a] - 4 * dlnT0[a];
  return { R1, dlnR1 };
}

/** kappa(x) = K(0) - K(x) from the cumulative integral K, in place (likewise the drag depth). */
function depthFromToday(C: Col, n: number, Pa: number): void {
  const top = C.v[n - 1];
  for (let j = 0; j < n; j++) C.v[j] = top - C.v[j];
  for (let a = 0; a < Pa; a++) {
    const tTop = C.t[a * n + n - 1];
    for (let j = 0; j < n; j++) C.t[a * n + j] = tTop - C.t[a * n + j];
  }
}

/** r_s(x_min): Integral_0^a0 c_s da / (a^2 H) = Integral da / (H0 sqrt(Omega_r + Omega_m a) sqrt(3 (1 + R1 a))). */
function soundHorizonAtStart(g: Grid, d: Directions, b: BaseScalars, R1: number, dlnR1: Float64Array): { v: number; dv: Float64Array } {
  const { Om, Or, H0, dlnH0 } = b;
  const rule = gaussLegendreRule(0, Math.exp(g.xMin), 16, 2);
  let v = 0;
  const dv = new Float64Array(d.Pa);
  const dE = Array.from({ length: d.Pa }, (_, a) => dEarly(d, a));
  for (let i = 0; i < rule.x.length; i++) {
    const aa = rule.x[i];
    const m = Or + Om * aa, r = 1 + R1 * aa;
    const F = rule.w[i] / (H0 * Math.sqrt(m) * Math.sqrt(3 * r));
    v += F;
    for (let a = 0; a < d.Pa; a++)
      dv[a] += F * (-dlnH0[a] - (dE[a].dOr + aa * dE[a].dOm) / (2 * m) - (R1 * aa * dlnR1[a]) / (2 * r));
  }
  return { v, dv };
}

/**
 * The line-of-sight integrals: the optical depth kappa (integrand kappa' tau_x), the baryon drag depth
 * (kappa' tau_x / R), both counted from today, and the sound horizon r_s (c_s tau_x) from a = 0.
 */
function lineOfSight(g: Grid, W: ReturnType<typeof cumulativeWeights>, kp: Col, tauX: Col, d: Directions, b: BaseScalars): { K: Col; Kb: Col; rs: Col } {
  const { n, xs } = g;
  const { Pa } = d;
  const { R1, dlnR1 } = baryonPhotonRatio(d, b);
  const ik = col(n, Pa), ib = col(n, Pa), ir = col(n, Pa);
  for (let j = 0; j < n; j++) {
    const R = R1 * Math.exp(xs[j]);
    const cs = 1 / Math.sqrt(3 * (1 + R));
    ik.v[j] = kp.v[j] * tauX.v[j];
    ib.v[j] = ik.v[j] / R;
    ir.v[j] = cs * tauX.v[j];
    for (let a = 0; a < Pa; a++) {
      const o = a * n + j;
      ik.t[o] = kp.t[o] * tauX.v[j] + kp.v[j] * tauX.t[o];
      ib.t[o] = ik.t[o] / R - ib.v[j] * dlnR1[a];
      ir.t[o] = cs * tauX.t[o] - ((cs * R) / (2 * (1 + R))) * dlnR1[a] * tauX.v[j];
    }
  }
  const K = cumulative(W, ik, Pa, n), Kb = cumulative(W, ib, Pa, n), rs = cumulative(W, ir, Pa, n);
  depthFromToday(K, n, Pa);
  depthFromToday(Kb, n, Pa);
  const r0 = soundHorizonAtStart(g, d, b, R1, dlnR1);
  for (let j = 0; j < n; j++) {
    rs.v[j] += r0.v;
    for (let a = 0; a < Pa; a++) rs.t[a * n + j] += r0.dv[a];
  }
  return { K, Kb, rs };
}

/** e^-kappa and the visibility function g = kappa' e^-kappa. */
function visibility(K: Col, kp: Col, n: number, Pa: number): { emk: Col; g: Col } {
  const emk = col(n, Pa), g = col(n, Pa);
  for (let j = 0; j < n; j++) {
    const e = Math.exp(-K.v[j]);
    emk.v[j] = e;
    g.v[j] = kp.v[j] * e;
    for (let a = 0; a < Pa; a++) {
      const o = a * n + j;
      emk.t[o] = -e * K.t[o];
      g.t[o] = kp.t[o] * e + kp.v[j] * emk.t[o];
    }
  }
  return { emk, g };
}

// ---------------------------------------------------------------------------------------------------------
// 4. baryon temperature and sound speed

/**
 * The matter temperature below z = 50 with the reionised x_e in the Compton term (SSS eq. 3 in Theta = T_M/T_R:
 * dTheta/dln a = -Theta + g (1 - Theta), g = Gamma_C/H = [8 sigma_T a_R T_R^4 / (3 m_e c)] x_e/((1 + f_He + x_e) H)),
 * as CLASS does (its T_b equation takes the full x_e; no photo-heating in either): the RECFAST ODE carries the
 * x_e without reionisation, whose Compton heating would be missed (T_b(z = 0) = 0.022 K instead of CLASS's 0.36 K,
 * c_b^2 16x too small, 2e-3 in P at k = 50 h/Mpc). Above z = 50 the reionised and RECFAST x_e coincide and the
 * RECFAST Theta is kept. Step: Theta relaxes exactly to g/(1+g) over each grid step with g averaged over the
 * step (second order); tangents by the same linear recursion, d ln g as in tabulateRecfast. Overwrites
 * tab.theta and tab.dTheta from z = 50 on.
 */
function comptonAfterReionization(g: Grid, tab: RecfastTable, xe: Col, d: Directions, b: BaseScalars): void {
  const { n, xs, dx } = g;
  const { Pa, q0 } = d;
  const { T0, fHe, H0, dfHe, dlnT0, dlnH0 } = b;
  const { theta, dTheta } = tab;
  let j0 = 0;
  while (j0 < n - 1 && Math.exp(-xs[j0]) - 1 > 50) j0++;
  const gv = new Float64Array(n - j0), dlng = new Float64Array(Pa * (n - j0));
  const dlnE = new Float64Array(NQ);
  for (let j = j0; j < n; j++) {
    const x = xs[j], TR = T0 * Math.exp(-x), E = Math.sqrt(e2Of(q0, x));
    const den = 1 + fHe + xe.v[j];
    gv[j - j0] = (CT * TR ** 4 * xe.v[j]) / (den * H0 * E * (C_LIGHT / MPC_IN_M));
    if (Pa > 0) dlnEdq(q0, x, dlnE);
    for (let a = 0; a < Pa; a++) {
      let dlnEa = 0;
      for (let k = 0; k < NQ; k++) dlnEa += dlnE[k] * dq(d, k, a);
      const dxe = xe.t[a * n + j];
      dlng[a * (n - j0) + j - j0] = 4 * dlnT0[a] + dxe * (1 / xe.v[j] - 1 / den) - dfHe[a] / den - dlnH0[a] - dlnEa;
    }
  }
  for (let j = j0; j < n; j++) {
    const i = j - j0;
    if (j > j0) {
      const gm = 0.5 * (gv[i - 1] + gv[i]);
      const e = Math.exp(-(1 + gm) * dx), inf = gm / (1 + gm);
      const th0 = theta.v[j - 1];
      theta.v[j] = inf + (th0 - inf) * e;
      // d Theta_j = e d Theta_(j-1) + (1 - Theta_mid) d g_mid (1 - e)/(1 + g_mid)   (linearised step)
      const thm = 0.5 * (th0 + theta.v[j]);
      for (let a = 0; a < Pa; a++) {
        const o = a * (n - j0);
        const dgm = 0.5 * (gv[i - 1] * dlng[o + i - 1] + gv[i] * dlng[o + i]);
        theta.t[a * n + j] = e * theta.t[a * n + j - 1] + ((1 - thm) * dgm * (1 - e)) / (1 + gm);
      }
    }
    const th = theta.v[j], gj = gv[i];
    dTheta.v[j] = -th + gj * (1 - th);
    for (let a = 0; a < Pa; a++) {
      const dth = theta.t[a * n + j];
      dTheta.t[a * n + j] = -dth * (1 + gj) + (1 - th) * gj * dlng[a * (n - j0) + i];
    }
  }
}

function baryonTemperature(g: Grid, tab: RecfastTable, xe: Col, d: Directions, b: BaseScalars): { Tb: Col; cb2: Col } {
  const { n, xs } = g;
  const { Pa } = d;
  const { theta, dTheta } = tab;
  const { T0, Y, dlnT0 } = b;
  const Tb = col(n, Pa), cb2 = col(n, Pa);
  for (let j = 0; j < n; j++) {
    const z1 = Math.exp(-xs[j]);
    const TR = T0 * z1;
    Tb.v[j] = theta.v[j] * TR;
    const invMu = 1 - Y + Y / HE_TO_H_MASS + xe.v[j] * (1 - Y);
    const dlnTb = dTheta.v[j] / theta.v[j] - 1;
    const fac = 1 - dlnTb / 3;
    cb2.v[j] = (Tb.v[j] / M_H_KELVIN) * invMu * fac;
    for (let a = 0; a < Pa; a++) {
      const o = a * n + j;
      Tb.t[o] = theta.t[o] * TR + Tb.v[j] * dlnT0[a];
      const dY = dq(d, Q_YHE, a);
      const dInvMu = -dY + dY / HE_TO_H_MASS + xe.t[o] * (1 - Y) - xe.v[j] * dY;
      const dDlnTb = dTheta.t[o] / theta.v[j] - (dTheta.v[j] * theta.t[o]) / (theta.v[j] * theta.v[j]);
      cb2.t[o] = cb2.v[j] * (Tb.t[o] / Tb.v[j] + dInvMu / invMu) - (Tb.v[j] / M_H_KELVIN) * invMu * (dDlnTb / 3);
    }
  }
  return { Tb, cb2 };
}

// ---------------------------------------------------------------------------------------------------------
// 5. derived epochs: roots of kappa = 1 and drag depth = 1, maximum of g; tangents by implicit differentiation

/** A column interpolated at a grid position: value, d/dx, and their tangents. */
interface Sample { v: number; dv: number; t: Float64Array; dt: Float64Array }

/** An epoch x and its tangents dx/dtheta (active directions). */
interface Epoch { x: number; dx: Float64Array }

/** Cubic Lagrange interpolation of columns at grid positions u (x = x_min + u dx), tangents included. */
class ColumnSampler {
  private readonly wv = new Float64Array(4);
  private readonly dw = new Float64Array(4);

  constructor(private readonly g: Grid, private readonly Pa: number) {}

  sample(): Sample {
    return { v: 0, dv: 0, t: new Float64Array(this.Pa), dt: new Float64Array(this.Pa) };
  }

  at(C: Col, u: number, out: Sample): void {
    const { n, dx } = this.g;
    const { wv, dw } = this;
    const i = lagrange4(u, n, wv, dw);
    out.v = 0;
    out.dv = 0;
    for (let k = 0; k < 4; k++) {
      out.v += wv[k] * C.v[i + k];
      out.dv += (dw[k] * C.v[i + k]) / dx;
    }
    for (let a = 0; a < this.Pa; a++) {
      let s = 0, ds = 0;
      for (let k = 0; k < 4; k++) {
        s += wv[k] * C.t[a * n + i + k];
        ds += (dw[k] * C.t[a * n + i + k]) / dx;
      }
      out.t[a] = s;
      out.dt[a] = ds;
    }
  }

  /** x where C = level (C decreasing in x), and dx/dtheta. */
  rootOf(C: Col, level: number, what: string, zMax: number): Epoch {
    const { n, xMin, dx } = this.g;
    let j = 0;
    while (j < n - 1 && !(C.v[j] >= level && C.v[j + 1] < level)) j++;
    if (j >= n - 1) throw new Error(`recombination: ${what} never reaches ${level} between z = 0 and z = ${zMax}`);
    const s = this.sample();
    const u = brent((uu) => (this.at(C, uu, s), s.v - level), j, j + 1, { xtol: 1e-12, name: what });
    this.at(C, u, s);
    const dxr = new Float64Array(this.Pa);
    for (let a = 0; a < this.Pa; a++) dxr[a] = -s.t[a] / s.dv;
    return { x: xMin + u * dx, dx: dxr };
  }

  /** Maximum of g: g' = 0, Newton on the local cubic; dx = -(dg'/dtheta) / g''. */
  maximumOf(g: Col): Epoch {
    const { n, xMin, dx } = this.g;
    let jMax = 0;
    for (let j = 1; j < n; j++) if (g.v[j] > g.v[jMax]) jMax = j;
    const gs = this.sample();
    const slope = (uu: number) => (this.at(g, uu, gs), gs.dv);
    const uMax = brent(slope, Math.max(jMax - 1, 0), Math.min(jMax + 1, n - 1), { xtol: 1e-12, name: 'maximum of the visibility function' });
    const hU = 1e-3;
    const gpp = (slope(uMax + hU) - slope(uMax - hU)) / (2 * hU * dx);
    this.at(g, uMax, gs);
    const dxRec = new Float64Array(this.Pa);
    for (let a = 0; a < this.Pa; a++) dxRec[a] = -gs.dt[a] / gpp;
    return { x: xMin + uMax * dx, dx: dxRec };
  }
}

// ---------------------------------------------------------------------------------------------------------
// outputs

/** A pipeline Dual from a value and its tangent along each active direction. */
function toDual(d: Directions, v: number, dt: (a: number) => number): Dual {
  if (d.P === 0) return constant(v);
  const out = new Float64Array(d.P);
  for (let a = 0; a < d.Pa; a++) out[d.act[a]] = dt(a);
  return { v, d: out };
}

/** z at an epoch, with tangents. */
function zOf(d: Directions, root: Epoch): Dual {
  const z1 = Math.exp(-root.x);
  return toDual(d, z1 - 1, (a) => -z1 * root.dx[a]);
}

/** A column on the ascending-z grid (index i = n - 1 - j) as a DualArray in the pipeline's directions. */
function ascending(d: Directions, C: Col, n: number): DualArray {
  const { P, Pa, act } = d;
  const value = new Float64Array(n);
  for (let i = 0; i < n; i++) value[i] = C.v[n - 1 - i];
  if (P === 0) return { value, tangent: null, P: 0 };
  const tangent = new Float64Array(P * n);
  for (let a = 0; a < Pa; a++) {
    const o = act[a] * n, oa = a * n;
    for (let i = 0; i < n; i++) tangent[o + i] = C.t[oa + n - 1 - i];
  }
  return { value, tangent, P };
}

/** The z grid, ascending (z = 0 exactly at i = 0). */
function ascendingZ(g: Grid): Float64Array {
  const { n, xs } = g;
  const zAsc = new Float64Array(n);
  for (let i = 0; i < n; i++) zAsc[i] = Math.expm1(-xs[n - 1 - i]);
  zAsc[0] = 0;
  return zAsc;
}

/**
 * Solve the thermal history. q: the NQ base quantities as duals (tangents over P parameters).
 */
export function thermalHistory(q: readonly Dual[], P: number, reio: ReionizationInput, opt: HistoryOptions): Recombination {
  if (q.length !== NQ) throw new Error(`thermalHistory: expected ${NQ} base quantities, got ${q.length}`);
  const d = activeSpace(q, P, reio);
  const { Pa } = d;
  const grid = lnaGrid(opt.zMax, opt.dlna);
  const { n } = grid;
  const b = baseScalars(d);

  // 1. the RECFAST ODE, on the grid
  const tab = tabulateRecfast(solveRecfast(d, grid.xMin, opt.rtol), grid, d, b);
  // 2. conformal time
  const W = cumulativeWeights(grid.xs); // 4th-order cumulative quadrature on the grid, reused below
  const tau = conformalTime(grid, W, tab.tauX, d, b);
  // 3. reionisation, kappa', optical depths
  const rx = new Reionization(grid, tab.xrec, tab.tauX, b, opt.reionization, Pa);
  const epoch = reionizationEpoch(rx, reio, d);
  const xe = rx.xe;
  const kp = kappaPrime(grid, xe, b, Pa);
  const { K, Kb, rs } = lineOfSight(grid, W, kp, tab.tauX, d, b);
  const { emk, g } = visibility(K, kp, n, Pa);
  // 4. baryon temperature (Compton coupling with the reionised x_e below z = 50) and sound speed
  comptonAfterReionization(grid, tab, xe, d, b);
  const { Tb, cb2 } = baryonTemperature(grid, tab, xe, d, b);
  // 5. derived epochs
  const sampler = new ColumnSampler(grid, Pa);
  const star = sampler.rootOf(K, 1, 'the optical depth kappa', opt.zMax);
  const drag = sampler.rootOf(Kb, 1, 'the baryon drag depth', opt.zMax);
  const rec = sampler.maximumOf(g);
  const rsAt = (root: Epoch): Dual => {
    const s = sampler.sample();
    sampler.at(rs, (root.x - grid.xMin) / grid.dx, s);
    return toDual(d, s.v, (a) => s.t[a] + s.dv * root.dx[a]);
  };

  const { fHe, dfHe, kc, dlnNH } = b;
  return {
    z: ascendingZ(grid),
    x_e: ascending(d, xe, n),
    kappa_prime_1overMpc: ascending(d, kp, n),
    exp_minus_kappa: ascending(d, emk, n),
    g_1overMpc: ascending(d, g, n),
    T_b_K: ascending(d, Tb, n),
    c_b2: ascending(d, cb2, n),
    tau_Mpc: ascending(d, tau, n),
    r_s_Mpc: ascending(d, rs, n),
    x_e_early: toDual(d, 1 + 2 * fHe, (a) => 2 * dfHe[a]),
    kappa_coefficient_1overMpc: toDual(d, kc, (a) => kc * dlnNH[a]),
    Y_He: q[Q_YHE],
    f_He: toDual(d, fHe, (a) => dfHe[a]),
    z_reio: toDual(d, epoch.zRe, (a) => epoch.dzRe[a]),
    tau_reio: toDual(d, epoch.tauReio, (a) => epoch.dTauReio[a]),
    z_star: zOf(d, star),
    z_drag: zOf(d, drag),
    z_rec: zOf(d, rec),
    r_s_star_Mpc: rsAt(star),
    r_s_drag_Mpc: rsAt(drag),
    source: 'recfast',
  };
}
