/**
 * bdf: variable-order (1-5), variable-step backward differentiation formulas in the quasi-constant-step
 * backward-difference form of Shampine & Reichelt, "The MATLAB ODE Suite", SIAM J. Sci. Comput. 18
 * (1997), section 2 (ode15s), optionally with their numerical differentiation formulas (NDF): with
 * gamma_k = sum_{j<=k} 1/j and the predictor y0 = sum_{j=0}^k nabla^j y_n,
 *
 *   sum_{m=1}^k (1/m) nabla^m y_{n+1} - kappa_k gamma_k (y_{n+1} - y0) = h f(t_{n+1}, y_{n+1}),      (S&R 2.2)
 *
 * kappa = (-0.1850, -1/9, -0.0823, -0.0415, 0) for k = 1..5 (Klopfenstein; S&R Table 1), kappa = 0 for
 * the BDFs. Writing d = y_{n+1} - y0 = nabla^{k+1} y_{n+1} this is
 *   (1 - kappa_k) gamma_k d + sum_{m=1}^k gamma_m nabla^m y_n = h f(t_{n+1}, y0 + d),
 * solved by a simplified Newton iteration with M = I - h/((1-kappa)gamma_k) J. The Jacobian is kept
 * across steps until the iteration fails to converge (then it is re-evaluated; if it was current, h is
 * cut), and M is refactored only when h, the order or J changes. Local error estimate
 * (kappa_k gamma_k + 1/(k+1)) |d| (S&R 2.3). After k+1 steps at one step size, the orders k-1, k, k+1
 * are compared and the step size changed; a step-size change interpolates the backward differences to
 * the new spacing. The dense output is the Newton backward-difference polynomial of each step.
 *
 * Sensitivities (staggered direct method, as in CVODES): once y_{n+1} has converged, the same formula is
 * applied to the linear equation S' = J S + df/dp at (t_{n+1}, y_{n+1}) and solved by iterating with the
 * LU of M (a few solves, no new factorization), with the sensitivity differences kept beside the state's.
 *
 * Organised as OrdinaryDiffEq.jl's solvers are: bdf/algorithm.ts (settings, coefficients of the orders),
 * bdf/cache.ts (work arrays allocated once per leg, and the step state), bdf/perform-step.ts (predict,
 * Newton iterations, error estimate, difference update), bdf/controller.ts (step size and order). This
 * file holds the integration loop that ties them together, and the solver.
 */
import { SegmentKind } from './dense-output.js';
import type { OdeOptions, OdeProblem, OdeSolution, OdeSolver } from './problem.js';
import { BUILTIN_DEFAULTS, Run, buildSolution, type OdeDefaults } from './run.js';
import type { LegResult } from './tsit5.js';
import { BDF_DEFAULTS, bdfAlgorithm, type BdfSettings } from './bdf/algorithm.js';
import { BdfCache, BdfState } from './bdf/cache.js';
import { nextStep, rejectErrorTest, rejectIteration, selectOrderAndStep } from './bdf/controller.js';
import { evaluateJacobian, initialDerivative, localError, performStep, updateDifferences } from './bdf/perform-step.js';

export { BDF_DEFAULTS, type BdfSettings };
export { NDF_KAPPA } from './bdf/algorithm.js';

export function bdfLeg(run: Run, settings: BdfSettings, tStart = run.t0, yStart = run.y0, hHint = 0): LegResult {
  const { n, m, stats } = run;
  const alg = bdfAlgorithm(run, settings, tStart);
  const c = new BdfCache(n, m, alg.maxOrder);
  const s = new BdfState(tStart);

  // start: y_0 and h f(t_0, y_0) as the first two differences, order 1, the Jacobian at t_0
  c.D.set(yStart.subarray(0, m), 0);
  initialDerivative(run, c, s.t);
  let h = hHint > 0 ? Math.min(hHint, run.hMax) : run.initialStep(1, s.t, c.D.subarray(0, n), c.fCur, c.scratchY, c.scratchF);
  h = Math.min(h, Math.abs(run.tEnd - s.t));
  s.h = h;
  s.hs = run.dir * h;
  for (let i = 0; i < m; i++) c.D[m + i] = s.hs * c.F[i];
  evaluateJacobian(run, c, s);

  while (s.t !== run.tEnd) {
    if (stats.steps >= run.maxSteps) run.failMaxSteps(s.t);
    const tNew = nextStep(run, c, s);
    const outcome = performStep(run, c, alg, s, tNew);
    if (outcome !== 'converged') {
      rejectIteration(run, c, s, outcome);
      continue;
    }
    s.nonFiniteStreak = 0;
    const errN = localError(run, c, alg, s.k);
    if (!(errN <= 1)) {
      rejectErrorTest(run, c, alg, s, errN);
      continue;
    }

    // accept: the differences of y_{n+1}, its dense-output segment, and the next step's size and order
    s.failures = 0;
    stats.steps++;
    updateDifferences(run, c, s.k);
    const off = run.rec.beginSegment(SegmentKind.Bdf, s.t, tNew, s.k);
    run.rec.buf.set(c.D.subarray(0, (s.k + 1) * m), off);
    run.rec.commit(c.D);
    s.t = tNew;
    s.jacCurrent = false;
    s.nEqual++;
    if (s.t === run.tEnd) break;
    selectOrderAndStep(run, c, alg, s, errN);
  }
  return { t: s.t, y: Float64Array.from(c.D.subarray(0, m)), h: s.h, stiff: true };
}

export interface BdfConfig extends BdfSettings, OdeDefaults {}

export function createBdf(config: Partial<BdfConfig> = {}): OdeSolver {
  const c = { ...BUILTIN_DEFAULTS, ...BDF_DEFAULTS, ...config };
  const label = c.formula === 'ndf' ? 'ndf' : 'bdf';
  return {
    name: 'bdf',
    config: { ...config },
    solve(problem: OdeProblem, options?: OdeOptions): OdeSolution {
      const run = new Run('ode-solver/bdf', problem, options, c);
      bdfLeg(run, c);
      run.rec.method = label;
      return buildSolution(run);
    },
  };
}
