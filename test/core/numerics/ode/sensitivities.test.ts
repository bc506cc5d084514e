/**
 * Forward sensitivities dy/dp against central differences of rtol-1e-12 solves (step 1e-5 |p|: the
 * differences' own truncation error is then ~3e-7 relative on HIRES, ~1e-9 on ROBER; a step of 1e-4 |p|
 * would already give 3e-5 on HIRES), and against an exact solution.
 */
import { describe, expect, it } from 'vitest';
import { createAuto, createBdf, createRosenbrock, createTsit5, type OdeProblem, type OdeSolver } from '../../../../core/numerics/ode/index.js';
import { hires, rober, type TestProblem } from './problems.js';

/** Central-difference dy(t1)/dp (parameter-major) from rodas4 at rtol 1e-12. */
function centralDifferences(tp: TestProblem, rel = 1e-5): Float64Array {
  const solver = createRosenbrock();
  const opts = { rtol: 1e-12, atol: tp.atol(1e-12), dense: false, tEval: [tp.problem.tspan[1]] };
  const p0 = Float64Array.from(tp.problem.params as ArrayLike<number>);
  const n = tp.yEnd.length;
  const S = new Float64Array(p0.length * n);
  for (let p = 0; p < p0.length; p++) {
    const dp = rel * Math.abs(p0[p]);
    const up = Float64Array.from(p0), dn = Float64Array.from(p0);
    up[p] += dp;
    dn[p] -= dp;
    const yu = solver.solve({ ...tp.problem, params: up }, opts).state(0);
    const yd = solver.solve({ ...tp.problem, params: dn }, opts).state(0);
    for (let i = 0; i < n; i++) S[p * n + i] = (yu[i] - yd[i]) / (2 * dp);
  }
  return S;
}

/** Largest error relative to each entry (floored at 1e-6 of its parameter column's largest entry). */
function worstRelative(S: Float64Array, ref: Float64Array, n: number): number {
  let worst = 0;
  for (let k = 0; k < ref.length; k++) {
    const p = Math.floor(k / n);
    let col = 0;
    for (let i = 0; i < n; i++) col = Math.max(col, Math.abs(ref[p * n + i]));
    worst = Math.max(worst, Math.abs(S[k] - ref[k]) / Math.max(Math.abs(ref[k]), 1e-6 * col));
  }
  return worst;
}

const cases: [string, TestProblem][] = [
  ['ROBER to t = 40, d/d(k1, k2, k3)', rober(40)],
  ['HIRES, d/d(k6 = 280, k7 = 1.81)', hires()],
];
const methods: [string, OdeSolver][] = [
  ['bdf', createBdf()],
  ['rosenbrock (rodas4)', createRosenbrock()],
  ['auto', createAuto()],
];

describe.each(cases)('sensitivities of %s agree with central differences to 1e-5', (_label, tp) => {
  const ref = centralDifferences(tp);
  const n = tp.yEnd.length;
  it.each(methods)('%s, with the problem Jacobian and df/dp, and with finite differences', (name, solver) => {
    const rtol = 1e-8;
    const exact = solver.solve(tp.problem, { rtol, atol: tp.atol(rtol), sensitivities: true, dense: false });
    expect(exact.np).toBe(ref.length / n);
    expect(worstRelative(exact.sensitivity(exact.times.length - 1), ref, n), `${name} analytic`).toBeLessThan(1e-5);
    // no user derivatives: directional differences (the sensitivity atol is loosened to the noise level)
    const fdProblem: OdeProblem = { ...tp.problem, jacobian: undefined, dfdp: undefined };
    const fd = solver.solve(fdProblem, { rtol, atol: tp.atol(rtol), sensitivities: true, sensitivityAtol: 1e-10, dense: false });
    expect(worstRelative(fd.sensitivity(fd.times.length - 1), ref, n), `${name} finite differences`).toBeLessThan(1e-5);
  });
});

describe('sensitivities with an exact solution', () => {
  // y' = -a y, y(0) = b: y = b e^{-a t}; dy/da = -t b e^{-a t}, dy/db = e^{-a t}; y0 given as a function of
  // the parameters, so dy0/dp comes from differences of it
  const a = 0.7, b = 2.5, T = 3;
  const problem: OdeProblem = {
    f: (_t, y, dy, p) => { dy[0] = -p[0] * y[0]; },
    y0: (p) => [p[1]],
    tspan: [0, T],
    params: [a, b],
  };
  it.each([
    ['tsit5', createTsit5()],
    ['rosenbrock', createRosenbrock()],
    ['bdf', createBdf()],
    ['auto', createAuto()],
  ] as [string, OdeSolver][])('%s: final value and dense sensitivities', (name, solver) => {
    const sol = solver.solve(problem, { rtol: 1e-9, atol: 1e-12, sensitivities: true });
    const S = sol.sensitivity(sol.times.length - 1);
    const e = Math.exp(-a * T);
    expect(Math.abs(S[0] - -T * b * e) / (T * b * e), name).toBeLessThan(1e-6);
    expect(Math.abs(S[1] - e) / e, name).toBeLessThan(1e-6);
    const mid = sol.interpolant!.sensitivityAt(1.3);
    expect(Math.abs(mid[1] - Math.exp(-a * 1.3)), name).toBeLessThan(1e-6);
    expect(Math.abs(mid[0] - -1.3 * b * Math.exp(-a * 1.3)), name).toBeLessThan(1e-6);
  });

  it('dy0/dp given explicitly (n x np row-major) is used as the initial sensitivity', () => {
    const sol = createBdf().solve({ ...problem, y0: [b], dy0dp: [0, 1] }, { rtol: 1e-9, atol: 1e-12, sensitivities: true });
    const S = sol.sensitivity(sol.times.length - 1);
    expect(Math.abs(S[1] - Math.exp(-a * T))).toBeLessThan(1e-6);
    // without dy0dp and with a constant y0 the initial sensitivity is zero: dy/db = 0
    const z = createBdf().solve({ ...problem, y0: [b] }, { rtol: 1e-9, atol: 1e-12, sensitivities: true });
    expect(z.sensitivity(z.times.length - 1)[1]).toBe(0);
  });
});
