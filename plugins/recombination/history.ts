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
import { createRosenbrock } from '../../core/numerics/ode/index.js';
import type { Recombination } from '../contracts/recombination.js';
import { omegaGammaH2 } from '../contracts/cosmology.js';
import { C_LIGHT, HE_TO_H_MASS, M_H_KELVIN, MPC_IN_M } from './constants.js';
import {
  NQ, Q_H, Q_OB, Q_OM, Q_OR, Q_TCMB, Q_YHE, activeDirections, baseVector, dlnEdq, e2Of, heliumRatio,
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

/**
 * Solve the thermal history. q: the NQ base quantities as duals (tangents over P parameters).
 */
export function thermalHistory(q: readonly Dual[], P: number, reio: ReionizationInput, opt: HistoryOptions): Recombination {
  if (q.length !== NQ) throw new Error(`thermalHistory: expected ${NQ} base quantities, got ${q.length}`);
  const { q0, J } = baseVector(q, P);
  // directions along which anything here varies: the base quantities, and tau_reio or z_reio
  const reioDual = reio.kind === 'tau' ? reio.tau : reio.z;
  const act = activeDirections(J, NQ, P).concat(
    Array.from({ length: P }, (_, p) => p).filter((p) => reioDual.d && reioDual.d[p] !== 0 && !activeDirections(J, NQ, P).includes(p)),
  ).sort((a, b) => a - b);
  const Pa = act.length;
  const Ja = new Float64Array(NQ * Pa);
  for (let j = 0; j < NQ; j++) for (let a = 0; a < Pa; a++) Ja[j * Pa + a] = J[j * P + act[a]];
  const dq = (j: number, a: number) => Ja[j * Pa + a];

  // ---------------------------------------------------------------------------------------------------
  // 1. the RECFAST ODE in x = ln a with sensitivities along the active directions
  const xMin = -Math.log1p(opt.zMax);
  const qs = new Float64Array(NQ);
  const f = (x: number, y: Float64Array, dy: Float64Array, s: Float64Array): void => {
    for (let j = 0; j < NQ; j++) {
      let v = q0[j];
      for (let a = 0; a < Pa; a++) v += Ja[j * Pa + a] * s[a];
      qs[j] = v;
    }
    recfastRhs(x, y, dy, qs);
  };
  // Start in the equilibrium state (Saha, quasi-static Theta) of the perturbed parameters: consistent initial
  // sensitivities (the solver differentiates this algebraic function by central differences, error ~1e-10),
  // so that no stiff transient (rates up to 1e18 per e-fold) has to be resolved.
  const qInit = new Float64Array(NQ);
  const y0 = (s: Float64Array): Float64Array => {
    for (let j = 0; j < NQ; j++) {
      let v = q0[j];
      for (let a = 0; a < Pa; a++) v += Ja[j * Pa + a] * s[a];
      qInit[j] = v;
    }
    return sahaInitialState(xMin, qInit);
  };
  const sol = createRosenbrock().solve(
    { f, y0, tspan: [xMin, 0], params: new Float64Array(Pa), names: RECFAST_NAMES },
    { rtol: opt.rtol, atol: 1e-13, sensitivities: Pa > 0, sensitivityErrorControl: false },
  );
  const interp = sol.interpolant!;

  // grid uniform in x = ln a, ascending (j = 0 at z_max); reversed to ascending z at the end
  const n = Math.max(16, Math.round(-xMin / opt.dlna) + 1);
  const dx = -xMin / (n - 1);
  const xs = new Float64Array(n);
  for (let j = 0; j < n; j++) xs[j] = xMin + j * dx;
  xs[n - 1] = 0;

  const h = q0[Q_H], Ob = q0[Q_OB], Om = q0[Q_OM], Or = q0[Q_OR], T0 = q0[Q_TCMB], Y = q0[Q_YHE];
  const fHe = heliumRatio(Y, HE_TO_H_MASS);
  const nH0v = nH0(q0);
  const kc = kappaCoefficient(q0);
  // d ln n_H0 = 2 dh/h + dOmega_b/Omega_b - dY/(1-Y); d f_He = f_He dY / (Y (1-Y))
  const dlnNH = new Float64Array(Pa), dfHe = new Float64Array(Pa), dlnT0 = new Float64Array(Pa), dlnH0 = new Float64Array(Pa);
  for (let a = 0; a < Pa; a++) {
    dlnNH[a] = (2 * dq(Q_H, a)) / h + dq(Q_OB, a) / Ob - dq(Q_YHE, a) / (1 - Y);
    dfHe[a] = (fHe * dq(Q_YHE, a)) / (Y * (1 - Y));
    dlnT0[a] = dq(Q_TCMB, a) / T0;
    dlnH0[a] = dq(Q_H, a) / h;
  }

  const xrec = col(n, Pa); // x_e without reionisation
  const theta = col(n, Pa); // T_M / T_R
  const dTheta = col(n, Pa); // d Theta / d ln a
  const tauX = col(n, Pa); // d tau / d x = 1/(a H) [Mpc]
  const yv = new Float64Array(3), Sv = new Float64Array(3 * Math.max(Pa, 1));
  const pt: RecfastPoint = { xe: 0, y3: 0, dTheta: 0 };
  const dlnE = new Float64Array(NQ);
  const H0 = h * H100_PER_MPC;
  const T_HE2 = HC_OVER_K * L_HE2_ION;
  for (let j = 0; j < n; j++) {
    const x = xs[j];
    interp.at(x, yv);
    if (Pa > 0) interp.sensitivityAt(x, Sv);
    recfastPoint(x, yv, q0, pt);
    const z1 = Math.exp(-x);
    const eH = Math.exp(yv[IX_H]), eHe = Math.exp(yv[IY_HE]);
    const xH = -Math.expm1(yv[IX_H]), yHe = -Math.expm1(yv[IY_HE]);
    const y3 = pt.y3;
    xrec.v[j] = pt.xe;
    theta.v[j] = yv[ITHETA];
    dTheta.v[j] = pt.dTheta;
    const E = Math.sqrt(e2Of(q0, x));
    tauX.v[j] = z1 / (H0 * E);
    dlnEdq(q0, x, dlnE);
    // He III Saha: F(y3) = (b + c y3) y3 - S (y - y3) = 0 (recfast.ts heliumIII), differentiated implicitly
    const TR = T0 * z1;
    const nH = nH0v * z1 * z1 * z1;
    const S3 = y3 > 0 ? Math.pow(CR * TR, 1.5) * Math.exp(-T_HE2 / TR) : 0;
    const b = nH * (xH + fHe * yHe);
    const c = nH * fHe;
    const dFdy3 = b + 2 * c * y3 + S3;
    const gC = (CT * TR ** 4 * pt.xe) / ((1 + fHe + pt.xe) * H0 * E * (C_LIGHT / MPC_IN_M)); // Gamma_C / H
    for (let a = 0; a < Pa; a++) {
      const dxH = -eH * Sv[a * 3 + IX_H];
      const dyHe = -eHe * Sv[a * 3 + IY_HE];
      let dy3 = 0;
      if (y3 > 0) {
        const dnH = nH * dlnNH[a];
        const db = dnH * (xH + fHe * yHe) + nH * (dxH + dfHe[a] * yHe + fHe * dyHe);
        const dc = dnH * fHe + nH * dfHe[a];
        const dS = S3 * (1.5 + T_HE2 / TR) * dlnT0[a];
        dy3 = -(db * y3 + dc * y3 * y3 - dS * (yHe - y3) - S3 * dyHe) / dFdy3;
      }
      const dxe = dxH + dfHe[a] * (yHe + y3) + fHe * (dyHe + dy3);
      xrec.t[a * n + j] = dxe;
      const dth = Sv[a * 3 + ITHETA];
      theta.t[a * n + j] = dth;
      let dlnEa = 0;
      for (let k = 0; k < NQ; k++) dlnEa += dlnE[k] * dq(k, a);
      tauX.t[a * n + j] = -tauX.v[j] * (dlnH0[a] + dlnEa);
      // dTheta/dlna = -Theta + g (1 - Theta), g = Gamma_C/H:
      // d ln g = 4 dT0/T0 + dx_e (1/x_e - 1/(1+f+x_e)) - df/(1+f+x_e) - dh/h - d ln E
      const den = 1 + fHe + pt.xe;
      const dlng = 4 * dlnT0[a] + dxe * (1 / pt.xe - 1 / den) - dfHe[a] / den - dlnH0[a] - dlnEa;
      dTheta.t[a * n + j] = -dth * (1 + gC) + (1 - yv[ITHETA]) * gC * dlng;
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // 2. conformal time: tau(x_min) for radiation + matter, then the cumulative integral of 1/(aH)
  const a0 = Math.exp(xMin);
  const s1 = Math.sqrt(Or + Om * a0), s0 = Math.sqrt(Or);
  const tau0 = (2 * (s1 - s0)) / (H0 * Om);
  const tau = col(n, Pa);
  const W = cumulativeWeights(xs); // 4th-order cumulative quadrature on the grid, reused below
  applyCumulative(W, tauX.v, 1, tau.v);
  if (Pa > 0) applyCumulative(W, tauX.t, Pa, tau.t);
  const dTau0 = new Float64Array(Pa);
  for (let a = 0; a < Pa; a++) {
    const dOm = dq(Q_OM, a), dOr = dq(Q_OR, a);
    dTau0[a] = -tau0 * dlnH0[a] + (2 / H0) * ((a0 * dOm + dOr) / (2 * s1 * Om) - dOr / (2 * s0 * Om) - ((s1 - s0) * dOm) / (Om * Om));
  }
  for (let j = 0; j < n; j++) {
    tau.v[j] += tau0;
    for (let a = 0; a < Pa; a++) tau.t[a * n + j] += dTau0[a];
  }

  // ---------------------------------------------------------------------------------------------------
  // 3. reionisation, kappa', optical depth
  const w = new Float64Array(3);
  const xe = col(n, Pa);
  const dxeDzre = new Float64Array(n);
  // weights below 1e-17 (tanh = -1 in double precision) leave x_e = x_rec: only the low-z end is visited
  const zTop = (zRe: number): number => {
    const r = opt.reionization;
    const yTop = Math.pow(1 + zRe, r.exponent) + 20 * r.exponent * Math.pow(1 + zRe, r.exponent - 1) * r.width;
    return Math.max(Math.pow(yTop, 1 / r.exponent) - 1, r.heliumRedshift + 20 * r.heliumWidth);
  };
  xe.v.set(xrec.v);
  xe.t.set(xrec.t);
  let visited = n; // lowest index written by a previous call
  const applyReionization = (zRe: number): void => {
    const top = zTop(zRe);
    let j = n - 1;
    for (; j >= 0; j--) {
      const z = Math.expm1(-xs[j]);
      if (z > top) break;
      reionizationWeights(z, zRe, opt.reionization, w);
      const xa = 1 + fHe;
      xe.v[j] = xrec.v[j] + (xa - xrec.v[j]) * w[0] + fHe * w[1];
      dxeDzre[j] = (xa - xrec.v[j]) * w[2];
      for (let a = 0; a < Pa; a++) xe.t[a * n + j] = xrec.t[a * n + j] * (1 - w[0]) + dfHe[a] * (w[0] + w[1]);
    }
    // undo what an earlier call (larger z_re) wrote above this call's range
    for (let i = j; i >= visited && i >= 0; i--) {
      xe.v[i] = xrec.v[i];
      dxeDzre[i] = 0;
      for (let a = 0; a < Pa; a++) xe.t[a * n + i] = xrec.t[a * n + i];
    }
    visited = Math.min(visited, j + 1);
  };
  // tau_reio: Thomson depth from today to the global minimum of x_e (CLASS's definition)
  // The end point is the minimum of the (smooth) x_e, located at the vertex x_min = x_j + u dx of the parabola
  // through the grid minimum and its neighbours; the depth is the trapezoid sum from x_j to 0 minus
  // u dx F_j for the piece between x_j and x_min (F = kappa' dtau/dx), so that it moves continuously with z_re.
  const Fk = (j: number) => kc * xe.v[j] * Math.exp(-2 * xs[j]) * tauX.v[j];
  const depthToMinimum = (zRe: number): { tau: number; jMin: number; u: number } => {
    applyReionization(zRe);
    let jMin = n - 2;
    for (let j = n - 2; j >= 1 && Math.expm1(-xs[j]) < 200; j--) if (xe.v[j] < xe.v[jMin]) jMin = j;
    const D = xe.v[jMin - 1] - 2 * xe.v[jMin] + xe.v[jMin + 1];
    const u = D > 0 ? (xe.v[jMin - 1] - xe.v[jMin + 1]) / (2 * D) : 0;
    let sum = 0;
    for (let j = jMin; j < n - 1; j++) sum += 0.5 * (Fk(j) + Fk(j + 1)) * dx;
    return { tau: sum - u * dx * Fk(jMin), jMin, u };
  };
  let zRe: number, dzRe: Float64Array;
  let tauReio: number, dTauReio: Float64Array;
  const tangentOf = (d: Dual) => {
    const out = new Float64Array(Pa);
    if (d.d) for (let a = 0; a < Pa; a++) out[a] = d.d[act[a]];
    return out;
  };
  if (reio.kind === 'z') {
    zRe = reio.z.v;
    dzRe = tangentOf(reio.z);
    tauReio = depthToMinimum(zRe).tau;
    dTauReio = new Float64Array(Pa); // filled below from the tangent of the depth
  } else {
    const target = reio.tau.v;
    const lo = 0.01, hi = 50;
    const tLo = depthToMinimum(lo).tau, tHi = depthToMinimum(hi).tau;
    if (!(target > tLo && target < tHi))
      throw new Error(
        `recombination: tau_reio = ${target} cannot be reached with the tanh reionisation (z_reio in [${lo}, ${hi}] gives ` +
          `tau in [${tLo.toPrecision(4)}, ${tHi.toPrecision(4)}]); choose tau_reio inside that range`,
      );
    zRe = brent((zr) => depthToMinimum(zr).tau - target, lo, hi, { xtol: 1e-8, name: 'z_reio for tau_reio' });
    tauReio = target;
    dTauReio = tangentOf(reio.tau);
    dzRe = new Float64Array(Pa); // filled below
  }
  // tangent of the depth at fixed z_re (partial), and its z_re derivative, on the final z_re; the vertex offset
  // u = (f_- - f_+) / (2 D), D = f_- - 2 f_0 + f_+, moves with the x_e values f around the minimum
  const { jMin, u: uMin } = depthToMinimum(zRe);
  const dDepth = new Float64Array(Pa);
  let dDepthDzre = 0;
  const dFk = (jj: number, dxe: number, a: number) => {
    const e2x = Math.exp(-2 * xs[jj]);
    if (a < 0) return kc * e2x * tauX.v[jj] * dxe; // along z_re
    return kc * e2x * ((dxe + xe.v[jj] * dlnNH[a]) * tauX.v[jj] + xe.v[jj] * tauX.t[a * n + jj]);
  };
  const Dm = xe.v[jMin - 1] - 2 * xe.v[jMin] + xe.v[jMin + 1];
  const dVertex = (dm: number, d0: number, dp: number) => (Dm > 0 ? (dm - dp) / (2 * Dm) - (uMin * (dm - 2 * d0 + dp)) / Dm : 0);
  for (let jj = jMin; jj < n; jj++) {
    const wt = (jj === jMin || jj === n - 1 ? 0.5 : 1) * dx; // trapezoid weights on the uniform grid
    dDepthDzre += wt * dFk(jj, dxeDzre[jj], -1);
    for (let a = 0; a < Pa; a++) dDepth[a] += wt * dFk(jj, xe.t[a * n + jj], a);
  }
  dDepthDzre -= dx * (dVertex(dxeDzre[jMin - 1], dxeDzre[jMin], dxeDzre[jMin + 1]) * Fk(jMin) + uMin * dFk(jMin, dxeDzre[jMin], -1));
  for (let a = 0; a < Pa; a++) {
    const t = (j: number) => xe.t[a * n + j];
    dDepth[a] -= dx * (dVertex(t(jMin - 1), t(jMin), t(jMin + 1)) * Fk(jMin) + uMin * dFk(jMin, t(jMin), a));
  }
  for (let a = 0; a < Pa; a++) {
    if (reio.kind === 'z') dTauReio[a] = dDepth[a] + dDepthDzre * dzRe[a];
    else dzRe[a] = (dTauReio[a] - dDepth[a]) / dDepthDzre;
  }
  // x_e tangent including the z_re dependence
  for (let j = 0; j < n; j++) for (let a = 0; a < Pa; a++) xe.t[a * n + j] += dxeDzre[j] * dzRe[a];

  const kp = col(n, Pa); // kappa'
  for (let j = 0; j < n; j++) {
    const e2x = Math.exp(-2 * xs[j]);
    kp.v[j] = kc * xe.v[j] * e2x;
    for (let a = 0; a < Pa; a++) kp.t[a * n + j] = kc * e2x * (xe.t[a * n + j] + xe.v[j] * dlnNH[a]);
  }
  // integrands in x of kappa (kappa' tau_x), drag depth (kappa' tau_x / R) and sound horizon (c_s tau_x)
  // R = 3 rho_b / (4 rho_gamma) = 3 omega_b / (4 omega_gamma) a = R1 a (omega_gamma: the cosmology contract's)
  const R1 = (3 * Ob * h * h) / (4 * omegaGammaH2(T0));
  const dlnR1 = new Float64Array(Pa);
  for (let a = 0; a < Pa; a++) dlnR1[a] = dq(Q_OB, a) / Ob + 2 * dlnH0[a] - 4 * dlnT0[a];
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
  const K = col(n, Pa), Kb = col(n, Pa), rs = col(n, Pa);
  applyCumulative(W, ik.v, 1, K.v);
  applyCumulative(W, ib.v, 1, Kb.v);
  applyCumulative(W, ir.v, 1, rs.v);
  if (Pa > 0) {
    applyCumulative(W, ik.t, Pa, K.t);
    applyCumulative(W, ib.t, Pa, Kb.t);
    applyCumulative(W, ir.t, Pa, rs.t);
  }
  // kappa(x) = K(0) - K(x); likewise the drag depth
  for (const C of [K, Kb]) {
    const top = C.v[n - 1];
    for (let j = 0; j < n; j++) C.v[j] = top - C.v[j];
    for (let a = 0; a < Pa; a++) {
      const tTop = C.t[a * n + n - 1];
      for (let j = 0; j < n; j++) C.t[a * n + j] = tTop - C.t[a * n + j];
    }
  }
  // r_s(x_min): Integral_0^a0 c_s da / (a^2 H) = Integral da / (H0 sqrt(Omega_r + Omega_m a) sqrt(3 (1 + R1 a)))
  {
    const rule = gaussLegendreRule(0, a0, 16, 2);
    let v = 0;
    const dv = new Float64Array(Pa);
    for (let i = 0; i < rule.x.length; i++) {
      const aa = rule.x[i];
      const m = Or + Om * aa, r = 1 + R1 * aa;
      const F = rule.w[i] / (H0 * Math.sqrt(m) * Math.sqrt(3 * r));
      v += F;
      for (let a = 0; a < Pa; a++)
        dv[a] += F * (-dlnH0[a] - (dq(Q_OR, a) + aa * dq(Q_OM, a)) / (2 * m) - (R1 * aa * dlnR1[a]) / (2 * r));
    }
    for (let j = 0; j < n; j++) {
      rs.v[j] += v;
      for (let a = 0; a < Pa; a++) rs.t[a * n + j] += dv[a];
    }
  }
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

  // ---------------------------------------------------------------------------------------------------
  // 4. baryon temperature and sound speed
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
      const dY = dq(Q_YHE, a);
      const dInvMu = -dY + dY / HE_TO_H_MASS + xe.t[o] * (1 - Y) - xe.v[j] * dY;
      const dDlnTb = dTheta.t[o] / theta.v[j] - (dTheta.v[j] * theta.t[o]) / (theta.v[j] * theta.v[j]);
      cb2.t[o] = cb2.v[j] * (Tb.t[o] / Tb.v[j] + dInvMu / invMu) - (Tb.v[j] / M_H_KELVIN) * invMu * (dDlnTb / 3);
    }
  }

  // ---------------------------------------------------------------------------------------------------
  // 5. derived epochs: roots of kappa = 1 and drag depth = 1, maximum of g; tangents by implicit differentiation
  const wv = new Float64Array(4), dw = new Float64Array(4);
  const at = (C: Col, u: number, out: { v: number; dv: number; t: Float64Array; dt: Float64Array }): void => {
    const i = lagrange4(u, n, wv, dw);
    out.v = 0;
    out.dv = 0;
    for (let k = 0; k < 4; k++) {
      out.v += wv[k] * C.v[i + k];
      out.dv += (dw[k] * C.v[i + k]) / dx;
    }
    for (let a = 0; a < Pa; a++) {
      let s = 0, ds = 0;
      for (let k = 0; k < 4; k++) {
        s += wv[k] * C.t[a * n + i + k];
        ds += (dw[k] * C.t[a * n + i + k]) / dx;
      }
      out.t[a] = s;
      out.dt[a] = ds;
    }
  };
  const scratch = () => ({ v: 0, dv: 0, t: new Float64Array(Pa), dt: new Float64Array(Pa) });
  /** x where C = level (C decreasing in x), and dx/dtheta. */
  const rootOf = (C: Col, level: number, what: string): { x: number; dx: Float64Array } => {
    let j = 0;
    while (j < n - 1 && !(C.v[j] >= level && C.v[j + 1] < level)) j++;
    if (j >= n - 1) throw new Error(`recombination: ${what} never reaches ${level} between z = 0 and z = ${opt.zMax}`);
    const s = scratch();
    const u = brent((uu) => (at(C, uu, s), s.v - level), j, j + 1, { xtol: 1e-12, name: what });
    at(C, u, s);
    const dxr = new Float64Array(Pa);
    for (let a = 0; a < Pa; a++) dxr[a] = -s.t[a] / s.dv;
    return { x: xMin + u * dx, dx: dxr };
  };
  const star = rootOf(K, 1, 'the optical depth kappa');
  const drag = rootOf(Kb, 1, 'the baryon drag depth');
  // maximum of g: g' = 0, Newton on the local cubic; dx = -(dg'/dtheta) / g''
  let jMax = 0;
  for (let j = 1; j < n; j++) if (g.v[j] > g.v[jMax]) jMax = j;
  const gs = scratch();
  const slope = (uu: number) => (at(g, uu, gs), gs.dv);
  const uMax = brent(slope, Math.max(jMax - 1, 0), Math.min(jMax + 1, n - 1), { xtol: 1e-12, name: 'maximum of the visibility function' });
  const hU = 1e-3;
  const gpp = (slope(uMax + hU) - slope(uMax - hU)) / (2 * hU * dx);
  at(g, uMax, gs);
  const xRecMax = xMin + uMax * dx;
  const dxRec = new Float64Array(Pa);
  for (let a = 0; a < Pa; a++) dxRec[a] = -gs.dt[a] / gpp;

  const rsAt = (root: { x: number; dx: Float64Array }): Dual => {
    const s = scratch();
    at(rs, (root.x - xMin) / dx, s);
    return toDual(s.v, (a) => s.t[a] + s.dv * root.dx[a]);
  };
  const toDual = (v: number, d: (a: number) => number): Dual => {
    if (P === 0) return constant(v);
    const out = new Float64Array(P);
    for (let a = 0; a < Pa; a++) out[act[a]] = d(a);
    return { v, d: out };
  };
  const zOf = (root: { x: number; dx: Float64Array }): Dual => {
    const z1 = Math.exp(-root.x);
    return toDual(z1 - 1, (a) => -z1 * root.dx[a]);
  };

  // ---------------------------------------------------------------------------------------------------
  // outputs on the ascending-z grid (index i = n - 1 - j)
  const zAsc = new Float64Array(n);
  for (let i = 0; i < n; i++) zAsc[i] = Math.expm1(-xs[n - 1 - i]);
  zAsc[0] = 0;
  const out = (C: Col): DualArray => {
    const value = new Float64Array(n);
    for (let i = 0; i < n; i++) value[i] = C.v[n - 1 - i];
    if (P === 0) return { value, tangent: null, P: 0 };
    const tangent = new Float64Array(P * n);
    for (let a = 0; a < Pa; a++) {
      const o = act[a] * n, oa = a * n;
      for (let i = 0; i < n; i++) tangent[o + i] = C.t[oa + n - 1 - i];
    }
    return { value, tangent, P };
  };
  const xeEarly = toDual(1 + 2 * fHe, (a) => 2 * dfHe[a]);
  return {
    z: zAsc,
    x_e: out(xe),
    kappa_prime_1overMpc: out(kp),
    exp_minus_kappa: out(emk),
    g_1overMpc: out(g),
    T_b_K: out(Tb),
    c_b2: out(cb2),
    tau_Mpc: out(tau),
    r_s_Mpc: out(rs),
    x_e_early: xeEarly,
    kappa_coefficient_1overMpc: toDual(kc, (a) => kc * dlnNH[a]),
    Y_He: q[Q_YHE],
    f_He: toDual(fHe, (a) => dfHe[a]),
    z_reio: toDual(zRe, (a) => dzRe[a]),
    tau_reio: toDual(tauReio, (a) => dTauReio[a]),
    z_star: zOf(star),
    z_drag: zOf(drag),
    z_rec: zOf({ x: xRecMax, dx: dxRec }),
    r_s_star_Mpc: rsAt(star),
    r_s_drag_Mpc: rsAt(drag),
    source: 'recfast',
  };
}
