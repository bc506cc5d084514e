/**
 * tsit5: the explicit Runge-Kutta 5(4) pair of Ch. Tsitouras, "Runge-Kutta pairs of order 5(4) satisfying
 * only the first column simplifying assumption", Comput. Math. Appl. 62 (2011) 770-775 (Table 1), with
 *   - FSAL: the 7th stage is f at the new point and becomes the 1st stage of the next step;
 *   - PI step-size control (Gustafsson 1991; Hairer & Wanner II, IV.2 (2.43c)) with exponents
 *     0.7/5 and 0.4/5;
 *   - the paper's free continuous extension of order 4 (dense-output.ts, no extra evaluation);
 *   - a stiffness indicator (Hairer, Norsett & Wanner I, IV.10 / DOPRI5): stages 6 and 7 both sit at
 *     t + h, so h |f(y7) - f(y6)| / |y7 - y6| estimates h |lambda| for the dominant eigenvalue; it is
 *     compared with (a fraction of) the stability boundary of the method on the negative real axis.
 * Sensitivities are integrated as the augmented system (y, S) with S' = J S + df/dp on the same stages;
 * with sensitivity error control they take part in the step-size choice.
 */
import { StepController } from './controller.js';
import { SegmentKind } from './dense-output.js';
import type { OdeOptions, OdeProblem, OdeSolution, OdeSolver } from './problem.js';
import { BUILTIN_DEFAULTS, Run, buildSolution, type OdeDefaults } from './run.js';

// Butcher tableau (Tsitouras 2011, Table 1); row 7 equals b (FSAL).
export const TSIT5_C = [0, 0.161, 0.327, 0.9, 0.9800255409045097, 1, 1];
export const TSIT5_A = [
  [],
  [0.161],
  [-0.008480655492356989, 0.335480655492357],
  [2.8971530571054935, -6.359448489975075, 4.3622954328695815],
  [5.325864828439257, -11.748883564062828, 7.4955393428898365, -0.09249506636175525],
  [5.86145544294642, -12.92096931784711, 8.159367898576159, -0.071584973281401, -0.028269050394068383],
  [0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081, 2.324710524099774],
];
export const TSIT5_B = [0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081, 2.324710524099774, 0];
/** b - bhat: the local error estimate is h sum_i E_i k_i (order 4 embedded solution). */
export const TSIT5_E = [
  -0.00178001105222577714, -0.0008164344596567469, 0.007880878010261995, -0.1447110071732629, 0.5823571654525552,
  -0.45808210592918697, 1 / 66,
];
/**
 * Where the stability function R(z) of the 5th-order solution leaves |R| <= 1 on the negative real axis
 * (computed from the tableau; test/core/numerics/ode/tableaus.test.ts checks it).
 */
export const TSIT5_REAL_STABILITY = 3.5069;
/**
 * A step counts as stability-limited when the estimate h|lambda| exceeds this fraction of the boundary:
 * in that regime the PI controller settles h|lambda| between about 0.75 and 0.98 of the boundary (the
 * error estimate grows before the solution becomes unstable; measured on ROBER), so Hairer's 0.98
 * (DOPRI5: 3.25 vs 3.3) would rarely fire.
 */
const STIFF_FRACTION = 0.7;
/** The power-iteration check runs every POWER_EVERY accepted steps with POWER_ITERATIONS evaluations of f. */
const POWER_EVERY = 25;
const POWER_ITERATIONS = 6;

export interface Tsit5Settings {
  /** Run the stiffness indicator (default true). */
  stiffnessCheck: boolean;
  /** Consecutive-ish steps with h|lambda| beyond the boundary that declare the problem stiff (default 15). */
  stiffSteps: number;
}

export const TSIT5_DEFAULTS: Tsit5Settings = { stiffnessCheck: true, stiffSteps: 15 };

export interface LegResult {
  /** Where the integration stopped (t1, or where stiffness was detected). */
  t: number;
  /** The stored vector there (length m). */
  y: Float64Array;
  /** Last step size magnitude (a hint for a method taking over). */
  h: number;
  stiff: boolean;
}

/** PI controller (controller.ts): 0.9 errN^(-0.7/5) errPrev^(0.4/5) within [0.2, 10]; rejections 0.9 errN^(-1/5). */
const CONTROL = { p: 5, beta1: 0.7 / 5, beta2: 0.4 / 5, qmin: 0.2, qmax: 10, safety: 0.9 };

/**
 * Integrate with tsit5 from (tStart, yStart) (default the problem's start) to t1, or until stiffness is
 * detected when stopOnStiff is set.
 */
export function tsit5Leg(run: Run, settings: Tsit5Settings, stopOnStiff: boolean, tStart = run.t0, yStart = run.y0): LegResult {
  const { n, m, dir, stats } = run;
  const sens = run.sens;
  const A = TSIT5_A, C = TSIT5_C, E = TSIT5_E;
  const k: Float64Array[] = [];
  for (let s = 0; s < 7; s++) k.push(new Float64Array(m));
  const y = Float64Array.from(yStart);
  const yStage = new Float64Array(m);
  const yNew = new Float64Array(m);
  const err = new Float64Array(m);
  const yV = y.subarray(0, n), yStageV = yStage.subarray(0, n), yNewV = yNew.subarray(0, n);
  const kV = k.map((v) => v.subarray(0, n));
  const scratchY = new Float64Array(n), scratchF = new Float64Array(n);

  /** Stage derivative (state and sensitivities) at (t, Y); returns the first bad stored component or -1. */
  const deriv = (t: number, Y: Float64Array, YV: Float64Array, K: Float64Array, KV: Float64Array): number => {
    const bad = run.rhs(t, YV, KV);
    if (bad >= 0) return bad;
    return sens ? run.sensRhs(t, YV, KV, Y, n, K, n) : -1;
  };

  let t = tStart;
  {
    const bad = deriv(t, y, yV, k[0], kV[0]);
    if (bad >= 0) run.failNonFinite(t, bad, k[0][bad], yV);
  }
  let h = run.initialStep(5, t, yV, kV[0], scratchY, scratchF);
  const control = new StepController(CONTROL);
  let nonFiniteStreak = 0;
  let stiffCount = 0, nonStiffCount = 0;
  let stiff = false;
  let powerHits = 0;
  const pv = new Float64Array(n), pw = new Float64Array(n), py = new Float64Array(n), pf = new Float64Array(n);

  /**
   * |lambda_max| of J(t, y) by power iteration with difference quotients J v ~ (f(y + s v) - f(y)) / s
   * (one evaluation each), in tolerance-scaled variables (a diagonal similarity: same eigenvalues).
   */
  const spectralRadius = (tc: number): number => {
    const f0 = kV[0]; // FSAL: f at the current point
    for (let i = 0; i < n; i++) pv[i] = 1 + 0.5 * Math.sin(1.7 * i + 0.3); // fixed start, all modes present
    let rho = 0;
    for (let it = 0; it < POWER_ITERATIONS; it++) {
      // v is in scaled units: the perturbation of y_i is s * v_i * w_i
      let vn = 0;
      for (let i = 0; i < n; i++) vn += pv[i] * pv[i];
      vn = Math.sqrt(vn);
      if (!(vn > 0)) return rho;
      const s = Math.sqrt(Number.EPSILON) / vn;
      for (let i = 0; i < n; i++) py[i] = yV[i] + s * pv[i] * (run.atol[i] + run.rtol * Math.abs(yV[i]));
      if (run.rhs(tc, py, pf) >= 0) return rho;
      let wn = 0;
      for (let i = 0; i < n; i++) {
        pw[i] = (pf[i] - f0[i]) / (s * (run.atol[i] + run.rtol * Math.abs(yV[i])));
        wn += pw[i] * pw[i];
      }
      wn = Math.sqrt(wn);
      rho = wn / vn;
      if (!(wn > 0)) return rho;
      for (let i = 0; i < n; i++) pv[i] = pw[i] / wn;
    }
    return rho;
  };

  while (t !== run.tEnd) {
    if (stats.steps >= run.maxSteps) run.failMaxSteps(t);
    h = Math.min(h, run.hMax);
    const hs = run.clip(t, dir * h);
    if (Math.abs(hs) < run.hMin(t)) run.failUnderflow(t, hs, nonFiniteStreak > 0);
    const tNew = run.stepEnd(t, hs);

    // stages 2..7 (stage 7's argument is the 5th-order solution)
    let bad = -1;
    for (let s = 1; s < 7 && bad < 0; s++) {
      const row = A[s];
      const Y = s === 6 ? yNew : yStage;
      for (let i = 0; i < m; i++) {
        let acc = 0;
        for (let j = 0; j < s; j++) acc += row[j] * k[j][i];
        Y[i] = y[i] + hs * acc;
      }
      bad = deriv(s === 6 ? tNew : t + C[s] * hs, Y, s === 6 ? yNewV : yStageV, k[s], kV[s]);
    }
    if (bad >= 0) {
      // a non-finite derivative in a trial step: retry with a much smaller step
      stats.rejections++;
      if (++nonFiniteStreak > 40) run.failUnderflow(t, hs, true);
      h = Math.abs(hs) * control.nonFinite();
      continue;
    }
    nonFiniteStreak = 0;
    for (let i = 0; i < m; i++) {
      let acc = 0;
      for (let j = 0; j < 7; j++) acc += E[j] * k[j][i];
      err[i] = hs * acc;
    }
    const errN = run.errNorm(err, y, yNew);
    if (!(errN <= 1)) {
      stats.rejections++;
      h = Math.abs(hs) * control.rejected(errN);
      continue;
    }

    // accepted
    stats.steps++;
    if (settings.stiffnessCheck) {
      // h |lambda| ~ |h| |k7 - k6| / |y7 - y6|, y6 = stage-6 argument (left in yStage)
      let num = 0, den = 0;
      for (let i = 0; i < n; i++) {
        num += (k[6][i] - k[5][i]) ** 2;
        den += (yNew[i] - yStage[i]) ** 2;
      }
      if (den > 0) {
        const hLambda = Math.abs(hs) * Math.sqrt(num / den);
        if (hLambda > STIFF_FRACTION * TSIT5_REAL_STABILITY) {
          nonStiffCount = 0;
          if (++stiffCount >= settings.stiffSteps) {
            stiff = true;
            stats.stiffnessDetected = true;
          }
        } else if (++nonStiffCount >= 6) {
          stiffCount = 0;
        }
      }
    }
    const off = run.rec.beginSegment(SegmentKind.Tsit5, t, tNew);
    const buf = run.rec.buf;
    buf.set(y, off);
    for (let s = 0; s < 7; s++) buf.set(k[s], off + (s + 1) * m);
    run.rec.commit(yNew);
    t = tNew;
    y.set(yNew);
    k[0].set(k[6]); // FSAL

    h = Math.abs(hs) * control.accepted(errN);
    if (settings.stiffnessCheck && !stiff && stats.steps % POWER_EVERY === 0 && t !== run.tEnd) {
      // the stage estimate sees only the direction y7 - y6; when the fast modes are not excited (a
      // quasi-steady stiff component) it underestimates |lambda|: check with a few power iterations
      if (Math.min(h, run.hMax) * spectralRadius(t) > STIFF_FRACTION * TSIT5_REAL_STABILITY) {
        if (++powerHits >= 2) {
          stiff = true;
          stats.stiffnessDetected = true;
        }
      } else powerHits = 0;
    }
    if (stiff && stopOnStiff) break;
  }
  return { t, y, h, stiff };
}

export interface Tsit5Config extends Tsit5Settings, OdeDefaults {}

export function createTsit5(config: Partial<Tsit5Config> = {}): OdeSolver {
  const c = { ...BUILTIN_DEFAULTS, ...TSIT5_DEFAULTS, ...config };
  return {
    name: 'tsit5',
    config: { ...config },
    solve(problem: OdeProblem, options?: OdeOptions): OdeSolution {
      const run = new Run('ode-solver/tsit5', problem, options, c);
      tsit5Leg(run, c, false);
      run.rec.method = 'tsit5';
      return buildSolution(run);
    },
  };
}
