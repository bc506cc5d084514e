/**
 * rosenbrock: linearly implicit one-step methods (Hairer & Wanner, Solving ODEs II, section IV.7),
 * one Jacobian and one LU factorization per step, no Newton iteration.
 *
 * - rosenbrock23: the L-stable order-2 formula with order-3 error estimate of Shampine & Reichelt,
 *   "The MATLAB ODE Suite", SIAM J. Sci. Comput. 18 (1997), section 3.1 (ode23s), d = 1/(2 + sqrt 2),
 *   e32 = 6 + sqrt 2, FSAL, with its continuous extension (dense-output.ts). For loose tolerances.
 * - rodas4: Hairer & Wanner's RODAS (order 4(3), 6 stages, stiffly accurate, L-stable), with the
 *   coefficients of their Fortran code RODAS (METH = 1), written in the transformed stage variables u_i
 *   of HW II section IV.7: (1/(h gamma) I - J) u_i = f(t + c_i h, y + sum a_ij u_j) + sum (c_ij/h) u_j
 *   + h d_i f_t; the embedded solution's correction u_6 is the error estimate; order-3 dense output.
 *   For tight tolerances.
 *
 * The Jacobian (user or finite differences) and f_t (a forward difference in t) are evaluated once per
 * accepted point; a rejected step only refactors with the new h.
 *
 * Sensitivities: the method is applied to the augmented system (y, S), S' = J S + df/dp, whose Jacobian
 * [[J, 0], [H, J]] with H u = d/dy (J S + df/dp) u is block lower triangular. Each stage system is solved
 * by blocks with the same LU: u_y first, then u_S = M^-1 (r_S + c H u_y), where H u_y is one directional
 * difference of the sensitivity right-hand side. So the state's LU is reused and the sensitivities keep
 * the method's order (a block-diagonal approximation would turn the scheme into a W-method of low order).
 */
import { StepController } from './controller.js';
import { DenseLU } from './dense-lu.js';
import { ROS23_D, SegmentKind } from './dense-output.js';
import { BUILTIN_DEFAULTS, EPS, Run, buildSolution, type OdeDefaults } from './run.js';
import type { LegResult } from './tsit5.js';
import { OdeError, type OdeOptions, type OdeProblem, type OdeSolution, type OdeSolver } from './problem.js';

export type RosenbrockVariant = 'rosenbrock23' | 'rodas4';

export interface RosenbrockSettings {
  /** 'auto' picks rosenbrock23 when rtol >= looseRtol, rodas4 otherwise. */
  variant: 'auto' | RosenbrockVariant;
  looseRtol: number;
}

export const ROSENBROCK_DEFAULTS: RosenbrockSettings = { variant: 'auto', looseRtol: 1e-3 };

export function pickVariant(settings: RosenbrockSettings, rtol: number): RosenbrockVariant {
  if (settings.variant !== 'auto') return settings.variant;
  return rtol >= settings.looseRtol ? 'rosenbrock23' : 'rodas4';
}

// RODAS (Hairer & Wanner), METH = 1
export const RODAS4 = {
  gamma: 0.25,
  c: [0, 0.386, 0.21, 0.63, 1, 1],
  d: [0.25, -0.1043, 0.1035, -0.0362, 0, 0],
  a: [
    [],
    [1.544],
    [0.9466785280815826, 0.2557011698983284],
    [3.314825187068521, 2.896124015972201, 0.9986419139977817],
    [1.221224509226641, 6.019134481288629, 12.53708332932087, -0.687886036105895],
  ],
  C: [
    [],
    [-5.6688],
    [-2.430093356833875, -0.2063599157091915],
    [-0.1073529058151375, -9.594562251023355, -20.47028614809616],
    [7.496443313967647, -10.24680431464352, -33.99990352819905, 11.7089089320616],
    [8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136, -6.058818238834054],
  ],
  // dense output: q1 = sum d2j u_j, q2 = sum d3j u_j (j = 1..5)
  d2: [10.12623508344586, -7.487995877610167, -34.80091861555747, -7.992771707568823, 1.025137723295662],
  d3: [-0.6762803392801253, 6.087714651680015, 16.43084320892478, 24.76722511418386, -6.594389125716872],
};

const ROS23_E32 = 6 + Math.SQRT2;
const SQRT_EPS = Math.sqrt(EPS);

export function rosenbrockLeg(run: Run, variant: RosenbrockVariant, tStart = run.t0, yStart = run.y0, hHint = 0): LegResult {
  const { n, m, np, dir, stats, sens } = run;
  const rodas = variant === 'rodas4';
  const nStages = rodas ? 6 : 3;
  const y = Float64Array.from(yStart);
  const yV = y.subarray(0, n);
  const f0 = new Float64Array(m), f0V = f0.subarray(0, n);
  const T = new Float64Array(m);
  const fT = new Float64Array(m), fTV = fT.subarray(0, n);
  const J = new Float64Array(n * n);
  const lu = new DenseLU(n);
  const work = new Float64Array(n);
  const K: Float64Array[] = [];
  for (let s = 0; s < nStages; s++) K.push(new Float64Array(m));
  const Y = new Float64Array(m), YV = Y.subarray(0, n);
  const F = new Float64Array(m), FV = F.subarray(0, n);
  const r = new Float64Array(m);
  const yNew = new Float64Array(m), yNewV = yNew.subarray(0, n);
  const err = new Float64Array(m);
  const Hu = sens ? new Float64Array(n * np) : null;
  const tmpS = new Float64Array(n);
  const scratchY = new Float64Array(n), scratchF = new Float64Array(n);

  const deriv = (t: number, Z: Float64Array, ZV: Float64Array, D: Float64Array, DV: Float64Array): number => {
    const bad = run.rhs(t, ZV, DV);
    if (bad >= 0) return bad;
    return sens ? run.sensRhs(t, ZV, DV, Z, n, D, n) : -1;
  };

  let t = tStart;
  let hs = 0;
  /** Factor of the coupling term H u_y in the sensitivity block: 1 (Rodas form) or h d (Ros23 form). */
  let cH = 1;

  /** Solve the augmented stage system for right-hand side r into out; returns the bad component or -1. */
  const solveAug = (rhs: Float64Array, out: Float64Array): number => {
    lu.solve(rhs, 0, out, 0, work);
    stats.linearSolves++;
    if (!sens) return -1;
    // H u_y: the coupling block of the augmented Jacobian applied to u_y
    const hu = Hu!;
    const bad = run.sensCoupling(t, y, out, y, n, f0, n, hu);
    if (bad >= 0) return bad;
    for (let p = 0; p < np; p++) {
      const o = n + p * n;
      for (let i = 0; i < n; i++) tmpS[i] = rhs[o + i] + cH * hu[p * n + i];
      lu.solve(tmpS, 0, out, o, work);
      stats.linearSolves++;
    }
    return -1;
  };

  /** Jacobian and f_t at the accepted point (t, y), whose derivative is in f0. */
  const prepare = (h: number): void => {
    if (!run.jacobian(t, yV, f0V, J))
      throw new OdeError(`${run.what}: the Jacobian is not finite at t = ${t}`, 'non-finite', t);
    let d = SQRT_EPS * Math.max(Math.abs(t), Math.abs(h));
    const tp = t + d;
    d = tp - t;
    const bad = deriv(tp, y, yV, fT, fTV);
    for (let i = 0; i < m; i++) T[i] = bad >= 0 ? 0 : (fT[i] - f0[i]) / d;
  };

  {
    const bad = deriv(t, y, yV, f0, f0V);
    if (bad >= 0) run.failNonFinite(t, bad, f0[bad], yV);
  }
  let h = hHint > 0 ? Math.min(hHint, run.hMax) : run.initialStep(rodas ? 4 : 2, t, yV, f0V, scratchY, scratchF);
  prepare(h);
  let nonFiniteStreak = 0;
  const order = rodas ? 4 : 3; // order of the error estimate's leading term (exponent 1/order)
  // I controller: 0.9 errN^(-1/order), within [0.2, 6] (rodas4) or [0.2, 5] (rosenbrock23)
  const control = new StepController({ p: order, beta1: 1 / order, beta2: 0, qmin: 0.2, qmax: rodas ? 6 : 5, safety: 0.9 });

  while (t !== run.tEnd) {
    if (stats.steps >= run.maxSteps) run.failMaxSteps(t);
    h = Math.min(h, run.hMax);
    hs = run.clip(t, dir * h);
    if (Math.abs(hs) < run.hMin(t)) run.failUnderflow(t, hs, nonFiniteStreak > 0);
    const tNew = run.stepEnd(t, hs);

    // iteration matrix: Rodas form M = 1/(h gamma) I - J, Ros23 form M = I - h d J
    const a = lu.lu;
    if (rodas) {
      const diag = 1 / (hs * RODAS4.gamma);
      for (let k = 0; k < n * n; k++) a[k] = -J[k];
      for (let i = 0; i < n; i++) a[i * n + i] += diag;
      cH = 1;
    } else {
      const hd = hs * ROS23_D;
      for (let k = 0; k < n * n; k++) a[k] = -hd * J[k];
      for (let i = 0; i < n; i++) a[i * n + i] += 1;
      cH = hd;
    }
    stats.factorizations++;
    let bad = lu.factor() ? -1 : -2;

    if (bad === -1) bad = rodas ? rodasStep(hs, tNew) : ros23Step(hs, tNew);
    if (bad !== -1) {
      // singular matrix (-2) or a non-finite value in a trial stage: retry much smaller
      stats.rejections++;
      if (++nonFiniteStreak > 40) run.failUnderflow(t, hs, bad >= 0);
      h = Math.abs(hs) * control.nonFinite();
      continue;
    }
    nonFiniteStreak = 0;
    const errN = run.errNorm(err, y, yNew);
    if (!(errN <= 1)) {
      stats.rejections++;
      h = Math.abs(hs) * control.rejected(errN);
      continue;
    }

    // accepted: record, move, and prepare the next point
    stats.steps++;
    const kind = rodas ? SegmentKind.Rodas4 : SegmentKind.Rosenbrock23;
    const off = run.rec.beginSegment(kind, t, tNew);
    const buf = run.rec.buf;
    buf.set(y, off);
    if (rodas) {
      buf.set(yNew, off + m);
      const { d2, d3 } = RODAS4;
      for (let i = 0; i < m; i++) {
        let q1 = 0, q2 = 0;
        for (let j = 0; j < 5; j++) {
          q1 += d2[j] * K[j][i];
          q2 += d3[j] * K[j][i];
        }
        buf[off + 2 * m + i] = q1;
        buf[off + 3 * m + i] = q2;
      }
    } else {
      buf.set(K[0], off + m);
      buf.set(K[1], off + 2 * m);
    }
    run.rec.commit(yNew);
    t = tNew;
    y.set(yNew);
    h = Math.abs(hs) * control.accepted(errN);
    if (t === run.tEnd) break;
    if (rodas) {
      const b = deriv(t, y, yV, f0, f0V);
      if (b >= 0) run.failNonFinite(t, b, f0[b], yV);
    } else {
      f0.set(F); // FSAL: F holds f(t_new, y_new)
    }
    prepare(h);
  }
  return { t, y, h, stiff: true };

  // ---- one Rodas4 step from (t, y) with step hs: fills yNew, err; returns -1 or a bad component
  function rodasStep(hs: number, tNew: number): number {
    const { c, d, a: A, C } = RODAS4;
    for (let i = 0; i < m; i++) r[i] = f0[i] + hs * d[0] * T[i];
    let bad = solveAug(r, K[0]);
    if (bad >= 0) return bad;
    for (let s = 1; s < 6; s++) {
      if (s < 5) {
        const row = A[s];
        for (let i = 0; i < m; i++) {
          let acc = 0;
          for (let j = 0; j < s; j++) acc += row[j] * K[j][i];
          Y[i] = y[i] + acc;
        }
      } else {
        for (let i = 0; i < m; i++) Y[i] += K[4][i]; // stage 6 argument: stage 5's plus u5
      }
      bad = deriv(s >= 4 ? tNew : t + c[s] * hs, Y, YV, F, FV);
      if (bad >= 0) return bad;
      const row = C[s];
      const hd = hs * d[s];
      for (let i = 0; i < m; i++) {
        let acc = 0;
        for (let j = 0; j < s; j++) acc += row[j] * K[j][i];
        r[i] = F[i] + acc / hs + hd * T[i];
      }
      bad = solveAug(r, K[s]);
      if (bad >= 0) return bad;
    }
    for (let i = 0; i < m; i++) {
      yNew[i] = Y[i] + K[5][i];
      err[i] = K[5][i];
    }
    return -1;
  }

  // ---- one Rosenbrock23 step (Shampine & Reichelt 1997, (3.1)-(3.3))
  function ros23Step(hs: number, tNew: number): number {
    const hd = hs * ROS23_D;
    const [k1, k2, k3] = K;
    for (let i = 0; i < m; i++) r[i] = f0[i] + hd * T[i];
    let bad = solveAug(r, k1);
    if (bad >= 0) return bad;
    for (let i = 0; i < m; i++) Y[i] = y[i] + 0.5 * hs * k1[i];
    bad = deriv(t + 0.5 * hs, Y, YV, F, FV);
    if (bad >= 0) return bad;
    for (let i = 0; i < m; i++) r[i] = F[i] - k1[i];
    bad = solveAug(r, k2);
    if (bad >= 0) return bad;
    for (let i = 0; i < m; i++) {
      k2[i] += k1[i];
      yNew[i] = y[i] + hs * k2[i];
    }
    // k3 needs F1 (in F) and F2 = f(t_new, y_new): form the F1 part first, then evaluate F2 into F
    for (let i = 0; i < m; i++) r[i] = -ROS23_E32 * (k2[i] - F[i]) - 2 * (k1[i] - f0[i]) + hd * T[i];
    bad = deriv(tNew, yNew, yNewV, F, FV);
    if (bad >= 0) return bad;
    for (let i = 0; i < m; i++) r[i] += F[i];
    bad = solveAug(r, k3);
    if (bad >= 0) return bad;
    for (let i = 0; i < m; i++) err[i] = (hs / 6) * (k1[i] - 2 * k2[i] + k3[i]);
    return -1;
  }
}

export interface RosenbrockConfig extends RosenbrockSettings, OdeDefaults {}

export function createRosenbrock(config: Partial<RosenbrockConfig> = {}): OdeSolver {
  const c = { ...BUILTIN_DEFAULTS, ...ROSENBROCK_DEFAULTS, ...config };
  return {
    name: 'rosenbrock',
    config: { ...config },
    solve(problem: OdeProblem, options?: OdeOptions): OdeSolution {
      const run = new Run('ode-solver/rosenbrock', problem, options, c);
      const variant = pickVariant(c, run.rtol);
      rosenbrockLeg(run, variant);
      run.rec.method = variant;
      return buildSolution(run);
    },
  };
}
