/**
 * One Fourier mode k from deep in the radiation era to today: adiabatic initial conditions, the approximation
 * schedule (tight coupling -> full hierarchy; full neutrino hierarchy -> fluid; -> radiation streaming), one
 * ODE solve per regime with the injected solver, and the comoving matter density contrast delta_m(k, z) at
 * the requested redshifts, per unit primordial curvature R (eta -> R = 1 as k tau -> 0), with its derivatives
 * along the active directions when asked.
 *
 * Initial conditions (MB95 eq. 96, synchronous gauge, growing adiabatic mode, with C = R/2), at a time where
 * k tau <= 1e-3 and omega tau <= 1e-4 (omega = Omega_m H0 / sqrt(Omega_r); the neglected terms are of those
 * relative orders, so no O(omega tau) corrections are needed):
 *   delta_g = delta_nu = -(2/3) C (k tau)^2,  delta_c = delta_b = (3/4) delta_g,
 *   theta_g = theta_b = -C k^4 tau^3 / 18,  theta_nu = (23 + 4 R_nu)/(15 + 4 R_nu) theta_g,
 *   sigma_nu = 2 C (k tau)^2 / (3 (15 + 4 R_nu)),  eta = 2C - C (5 + 4 R_nu)(k tau)^2 / (6 (15 + 4 R_nu)),
 *   R_nu = rho_nu / (rho_g + rho_nu) (rho_nu: massless and massive neutrinos, relativistic then), Gamma_PPF = 0;
 *   massive neutrinos as the massless ones, bin by bin (MB95 eq. 97 through Psi = -(1/4) dlnf0/dlnq F_l, CLASS's
 *   perturbations_initial_conditions): Psi_0 = -(1/4) delta_nu dlnf0/dlnq, Psi_1 = -eps/(3 q k) theta_nu dlnf0/dlnq,
 *   Psi_2 = -(1/2) sigma_nu dlnf0/dlnq, Psi_l>2 = 0.
 *
 * Switching times (BLT11 sec. 3-5; fixed before the integration from the fiducial background, as CLASS does):
 *   tight coupling ends at the first x with k tau_c > tcaTauCOverTauK or aH tau_c > tcaTauCOverTauH;
 *   the neutrino fluid starts at k tau = ufaKTau; radiation streaming at the later of k tau = rsaKTau and
 *   the first time after recombination where tau_c / tau > rsaTauCOverTau; the massive-neutrino fluid at
 *   k tau = ncdmFluidKTau (CLASS's ncdm_fluid_trigger_tau_over_tau_k).
 * At a switch the new variables take their approximation's values: theta_g = theta_b - slip, F_g2 = 2 sigma_g,
 * G_0 = (5/4) F_2, G_2 = F_2/4 (the first-order tight-coupling values, the other multipoles 0), sigma_nu = F_nu2/2,
 * and the ncdm fluid takes the hierarchy's delta rho / rho, (rho+p) theta / (rho+p), (rho+p) sigma / (rho+p).
 */
import type { OdeSolver } from '../../../core/numerics/ode/index.js';
import { type Flags, type Layout, PerturbationRhs, layoutNames } from './equations.js';
import { type ModeSetup, P_H0, P_NA, P_OB, P_OC, P_OG, P_OUR } from './setup.js';

export interface ModeOptions {
  rtol: number;
  atol: number;
  /** Integrate the sensitivities along the setup's Pa active directions. */
  sensitivities: boolean;
  maxSteps?: number;
  /** Switching times to use instead of those of this setup (frozen schedules for difference quotients). */
  schedule?: Schedule;
}

export interface Schedule {
  xIni: number;
  xTca: number;
  xUfa: number;
  xRsa: number;
  /** start of the massive-neutrino fluid (Infinity: none) */
  xNcdm?: number;
}

export interface ModeResult {
  k: number;
  /** delta_m per unit R at each requested x (ascending). */
  delta: Float64Array;
  /** d delta / d s_a, Pa blocks of nx (parameter-major), or null. */
  dDelta: Float64Array | null;
  /** With massive neutrinos: delta_cb (CDM + baryons, comoving gauge) per unit R, and its tangents; else null. */
  deltaCb: Float64Array | null;
  dDeltaCb: Float64Array | null;
  /** Switching times (x = ln a) and work done. */
  xIni: number;
  xTca: number;
  xUfa: number;
  xRsa: number;
  steps: number;
  rhsEvals: number;
}

/** a(tau) for radiation + matter: inverse of tau = (2 / H0 Omega_m)(sqrt(Omega_r + Omega_m a) - sqrt(Omega_r)). */
function aOfTau(s: ModeSetup, tau: number): number {
  const q = s.q0;
  const Om = q[P_OB] + q[P_OC], Or = q[P_OG] + q[P_OUR] + q[P_NA];
  const r = Math.sqrt(Or) + 0.5 * tau * q[P_H0] * Om;
  return (r * r - Or) / Om;
}

/** First x in [x0, x1] where g(x) >= 0 (g increasing through 0 there), by a scan of step h then bisection to 1e-7. */
function firstCrossing(g: (x: number) => number, x0: number, x1: number, h: number): number {
  if (g(x0) >= 0) return x0;
  let a = x0;
  for (let b = x0 + h; ; b += h) {
    const bb = Math.min(b, x1);
    if (g(bb) >= 0) {
      let lo = a, hi = bb;
      for (let it = 0; it < 60 && hi - lo > 1e-7; it++) {
        const m = 0.5 * (lo + hi);
        if (g(m) >= 0) hi = m;
        else lo = m;
      }
      return hi;
    }
    if (bb >= x1) return Infinity;
    a = bb;
  }
}

/** The switching schedule of mode k (x = ln a). */
export function schedule(setup: ModeSetup, k: number): Schedule {
  const A = setup.approx;
  const probe = new PerturbationRhs(setup, k, { tca: true, ufa: false, rsa: false });
  const q = setup.q0;
  const Om = q[P_OB] + q[P_OC], Or = q[P_OG] + q[P_OUR] + q[P_NA];
  const omega = (Om * q[P_H0]) / Math.sqrt(Or);
  const tauIni = Math.min(A.startKTau / k, A.startOmegaTau / omega);
  const xIni = Math.log(aOfTau(setup, tauIni));
  const xTca = firstCrossing(
    (x) => {
      const p = probe.point(x, null);
      return Math.max(k / (p.kappa * A.tcaTauCOverTauK), p.aH / (p.kappa * A.tcaTauCOverTauH)) - 1;
    },
    xIni, 0, 0.25,
  );
  if (!(xTca < 0))
    throw new Error(`linear-power/boltzmann: tight coupling never ends for k = ${k} /Mpc (check the recombination history)`);
  const ktau = (x: number) => k * probe.point(x, null).tau;
  const xUfa = A.ufaKTau > 0 ? firstCrossing((x) => ktau(x) - A.ufaKTau, xIni, 0, 0.25) : Infinity;
  let xRsa = Infinity;
  if (A.rsaKTau > 0) {
    // free streaming of photons: first time after the tight-coupling era with tau_c / tau > trigger
    const xFs = firstCrossing((x) => {
      const p = probe.point(x, null);
      return 1 / (p.kappa * p.tau) - A.rsaTauCOverTau;
    }, xTca, 0, 0.05);
    const xK = firstCrossing((x) => ktau(x) - A.rsaKTau, xIni, 0, 0.25);
    xRsa = Math.max(xFs, xK);
  }
  const xNcdm = setup.ncdm && A.ncdmFluidKTau > 0 ? firstCrossing((x) => ktau(x) - A.ncdmFluidKTau, xIni, 0, 0.25) : Infinity;
  return { xIni, xTca, xUfa: Math.min(xUfa, xRsa), xRsa, xNcdm };
}

/** Adiabatic initial state at x (layout of flags {tca, full neutrinos}) for parameters sv. */
export function initialState(rhs: PerturbationRhs, x: number, sv: Float64Array | null): Float64Array {
  const L = rhs.L;
  const p = rhs.point(x, sv);
  const y = new Float64Array(L.n);
  const k = rhs.k;
  const kt = k * p.tau;
  const kt2 = kt * kt;
  const Rnu = (p.rn + p.rnc) / (p.rg + p.rn + p.rnc);
  const C = 0.5; // eta -> 2C = 1 = R
  const dg = (-2 / 3) * C * kt2;
  const tg = (-C * k * kt2 * kt) / 18;
  y[L.eta] = 2 * C - (C * (5 + 4 * Rnu) * kt2) / (6 * (15 + 4 * Rnu));
  y[L.dc] = 0.75 * dg;
  y[L.db] = 0.75 * dg;
  y[L.tb] = tg;
  y[L.dg] = dg;
  y[L.dn] = dg;
  y[L.tn] = ((23 + 4 * Rnu) / (15 + 4 * Rnu)) * tg;
  const sigma = (2 * C * kt2) / (3 * (15 + 4 * Rnu));
  if (L.sn >= 0) y[L.sn] = sigma;
  else y[L.fn] = 2 * sigma;
  const NC = rhs.setup.ncdm;
  if (NC && !L.ncFluid) {
    const stride = L.Lnc + 1;
    for (let i = 0; i < L.nq; i++) {
      const o = L.nc + i * stride, qi = NC.q[i], dl = NC.dlnf0[i];
      const eps = Math.sqrt(qi * qi + p.ma * p.ma);
      y[o] = -0.25 * y[L.dn] * dl;
      y[o + 1] = ((-eps / (3 * qi * k)) * y[L.tn]) * dl;
      y[o + 2] = -0.5 * sigma * dl;
    }
  }
  return y;
}

/** The state in layout `to` from the state in layout `from` at a switch x (see the file comment). */
export function convert(from: PerturbationRhs, to: PerturbationRhs, x: number, y: Float64Array, sv: Float64Array, scratch: Float64Array): Float64Array {
  const A = from.L, B = to.L;
  const out = new Float64Array(B.n);
  for (const key of ['eta', 'dc', 'db', 'tb', 'gam', 'dg', 'dn', 'tn'] as const) if (B[key] >= 0) out[B[key]] = y[A[key]];
  if (B.tg >= 0) {
    if (A.tg >= 0) {
      out[B.tg] = y[A.tg];
      for (let l = 2; l <= B.Lg; l++) out[B.fg + l - 2] = y[A.fg + l - 2];
      for (let l = 0; l <= B.Lp; l++) out[B.gg + l] = y[A.gg + l];
    } else {
      // leaving tight coupling: first-order values from the TCA right-hand side at this point
      from.f(x, y, scratch, sv);
      const d = from.derived;
      out[B.tg] = d.thetaG;
      out[B.fg] = 2 * d.sigmaG;
      out[B.gg] = 2.5 * d.sigmaG;
      out[B.gg + 2] = 0.5 * d.sigmaG;
    }
  }
  if (B.sn >= 0) out[B.sn] = A.sn >= 0 ? y[A.sn] : 0.5 * y[A.fn];
  if (B.fn >= 0) for (let l = 2; l <= B.Ln; l++) out[B.fn + l - 2] = y[A.fn + l - 2];
  if (B.nc >= 0) {
    if (A.ncFluid === B.ncFluid) {
      const m = B.ncFluid ? 3 : B.nq * (B.Lnc + 1);
      for (let i = 0; i < m; i++) out[B.nc + i] = y[A.nc + i];
    } else {
      // hierarchy -> fluid: delta = delta rho / rho, theta, sigma over (rho + p) of the bins (MB95 eq. 55)
      const p = from.point(x, sv.length > 0 ? sv : null);
      const m = new Float64Array(3);
      from.ncdmMoments(p, y, m);
      out[B.nc] = m[0] / p.rnc;
      out[B.nc + 1] = m[1] / (p.rnc + p.pnc);
      out[B.nc + 2] = m[2] / (p.rnc + p.pnc);
    }
  }
  return out;
}

/** The flags of the first regime (tight coupling, full neutrino hierarchies). */
export const INITIAL_FLAGS: Flags = { tca: true, ufa: false, rsa: false };

/** The switches before xEnd in time order: where, and the flags they change. */
export function regimeCuts(sch: Schedule, xEnd: number): { x: number; change: (f: Flags) => Flags }[] {
  return [
    { x: sch.xTca, change: (f: Flags) => ({ ...f, tca: false }) },
    { x: sch.xUfa, change: (f: Flags) => ({ ...f, ufa: true }) },
    { x: sch.xRsa, change: (f: Flags) => ({ ...f, rsa: true, ufa: true }) },
    { x: sch.xNcdm ?? Infinity, change: (f: Flags) => ({ ...f, ncdmFluid: true }) },
  ].filter((c) => Number.isFinite(c.x) && c.x < xEnd).sort((a, b) => a.x - b.x);
}

/**
 * Solve mode k and return delta_m at the ascending x values xOut (all > the start time). Sensitivities use
 * params s = 0 of length setup.Pa; conversions and delta_m are differentiated by central differences along
 * (S_a, e_a) (they are linear in y; the s dependence is smooth and closed form).
 */
export function solveMode(setup: ModeSetup, k: number, xOut: Float64Array, solver: OdeSolver, opt: ModeOptions): ModeResult {
  const sch = opt.schedule ?? schedule(setup, k);
  const Pa = opt.sensitivities ? setup.Pa : 0;
  const params = new Float64Array(Pa);
  const nx = xOut.length;
  if (nx === 0) throw new Error('linear-power/boltzmann: no output times');
  if (!(xOut[0] > sch.xIni)) throw new Error(`linear-power/boltzmann: output x = ${xOut[0]} precedes the start of mode k = ${k}`);
  const xEnd = xOut[nx - 1];
  const cuts = regimeCuts(sch, xEnd);
  let flags: Flags = INITIAL_FLAGS;
  let rhs = new PerturbationRhs(setup, k, flags);
  let y: Float64Array;
  let S: Float64Array | null = null; // Pa blocks of n
  const delta = new Float64Array(nx);
  const dDelta = Pa > 0 ? new Float64Array(Pa * nx) : null;
  const withNcdm = setup.ncdm !== null;
  const deltaCb = withNcdm ? new Float64Array(nx) : null;
  const dDeltaCb = withNcdm && Pa > 0 ? new Float64Array(Pa * nx) : null;
  let steps = 0, rhsEvals = 0;

  // initial state and its sensitivities (central differences of the closed form in s)
  y = initialState(rhs, sch.xIni, null);
  if (Pa > 0) S = directional(Pa, y.length, (sv) => initialState(rhs, sch.xIni, sv), null, null);

  let x0 = sch.xIni;
  let iOut = 0;
  for (let seg = 0; seg <= cuts.length; seg++) {
    const x1 = seg < cuts.length ? cuts[seg].x : xEnd;
    if (x1 > x0) {
      const tEval: number[] = [];
      const outIdx: number[] = [];
      while (iOut < nx && xOut[iOut] <= x1) {
        if (xOut[iOut] > x0) {
          tEval.push(xOut[iOut]);
          outIdx.push(iOut);
        }
        iOut++;
      }
      if (tEval.length === 0 || tEval[tEval.length - 1] !== x1) tEval.push(x1);
      const dy0dp = S ? transposeBlocks(S, Pa, rhs.L.n) : undefined;
      const sol = solver.solve(
        // the exact Jacobian (f is linear: n evaluations of f) serves the implicit methods' Newton matrices; with
        // sensitivities the solvers would also use it in J S (n evaluations per stage), where two directional
        // differences per parameter are cheaper, so it is left out then
        { f: rhs.f, jacobian: Pa > 0 ? undefined : rhs.jacobian, y0: y, tspan: [x0, x1], params, dy0dp, names: layoutNames(rhs.L) },
        {
          rtol: opt.rtol, atol: opt.atol, sensitivities: Pa > 0, tEval, dense: false, maxSteps: opt.maxSteps ?? 200000,
        },
      );
      steps += sol.stats.steps;
      rhsEvals += sol.stats.rhsEvals;
      for (let j = 0; j < outIdx.length; j++) {
        const yj = sol.state(j);
        const i = outIdx[j];
        delta[i] = rhs.deltaMTotal(tEval[j], yj, null);
        if (deltaCb) deltaCb[i] = rhs.deltaM(tEval[j], yj, null);
        if (dDelta) {
          const Sj = sol.sensitivity(j);
          const d = directional(Pa, 1, (sv, yy) => Float64Array.of(rhs.deltaMTotal(tEval[j], yy!, sv)), yj, Sj);
          for (let a = 0; a < Pa; a++) dDelta[a * nx + i] = d[a];
          if (dDeltaCb) {
            const c = directional(Pa, 1, (sv, yy) => Float64Array.of(rhs.deltaM(tEval[j], yy!, sv)), yj, Sj);
            for (let a = 0; a < Pa; a++) dDeltaCb[a * nx + i] = c[a];
          }
        }
      }
      const last = sol.times.length - 1;
      y = Float64Array.from(sol.state(last));
      if (S) S = Float64Array.from(sol.sensitivity(last));
      x0 = x1;
    }
    if (seg < cuts.length) ({ rhs, flags, y, S } = crossCut(setup, k, cuts[seg].change(flags), rhs, x0, y, S, params));
  }
  return { k, delta, dDelta, deltaCb, dDeltaCb, xIni: sch.xIni, xTca: sch.xTca, xUfa: sch.xUfa, xRsa: sch.xRsa, steps, rhsEvals };
}

/** dy0dp layout (n x Pa row-major) from Pa blocks of n. */
export function transposeBlocks(S: Float64Array, Pa: number, n: number): Float64Array {
  const out = new Float64Array(n * Pa);
  for (let a = 0; a < Pa; a++) for (let i = 0; i < n; i++) out[i * Pa + a] = S[a * n + i];
  return out;
}

/**
 * Cross a regime cut at x into the regime `flags`: its right-hand side, and the state (and, when S is given, the
 * sensitivities along the params' Pa directions) mapped into its variables.
 */
export function crossCut(
  setup: ModeSetup, k: number, flags: Flags, from: PerturbationRhs, x: number, y: Float64Array, S: Float64Array | null, params: Float64Array,
): { rhs: PerturbationRhs; flags: Flags; y: Float64Array; S: Float64Array | null } {
  const to = new PerturbationRhs(setup, k, flags);
  const scratch = new Float64Array(from.L.n);
  const yTo = convert(from, to, x, y, params, scratch);
  const STo = S ? directional(params.length, to.L.n, (sv, yy) => convert(from, to, x, yy!, sv, scratch), y, S) : null;
  return { rhs: to, flags, y: yTo, S: STo };
}

/**
 * d g(s, y(s)) / d s_a at s = 0 for each active direction a, by a central difference along (S_a, e_a)
 * (exact in y when g is linear in y; O(sigma^2) in s). Returns Pa blocks of m.
 */
export function directional(
  Pa: number, m: number,
  g: (sv: Float64Array, y: Float64Array | null) => Float64Array,
  y: Float64Array | null, S: Float64Array | null,
): Float64Array {
  const out = new Float64Array(Pa * m);
  const sv = new Float64Array(Pa);
  const n = y ? y.length : 0;
  const yp = y ? new Float64Array(n) : null;
  const sigma = 1e-5;
  for (let a = 0; a < Pa; a++) {
    const eval1 = (sgn: number) => {
      sv.fill(0);
      sv[a] = sgn * sigma;
      if (yp && y && S) for (let i = 0; i < n; i++) yp[i] = y[i] + sgn * sigma * S[a * n + i];
      return Float64Array.from(g(sv, yp));
    };
    const up = eval1(1), dn = eval1(-1);
    for (let i = 0; i < m; i++) out[a * m + i] = (up[i] - dn[i]) / (2 * sigma);
  }
  return out;
}

export type { Layout };
