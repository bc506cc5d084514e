/**
 * Non-stiff problems with exact solutions, for every method: to 1e-10 absolute at the end and along the
 * dense output (rtol per method chosen to reach it; measured errors in docs/ode.md), save points,
 * backward integration, and statistics.
 */
import { describe, expect, it } from 'vitest';
import { createAuto, createBdf, createRosenbrock, createTsit5, type OdeSolver } from '../../../../core/numerics/ode/index.js';
import { forcedLinear, kepler, maxAbsError, rotation, type TestProblem } from './problems.js';

// rtol that brings each method's global error below 1e-10 on these problems (BDF: no local extrapolation,
// its global error on the orbit is ~100 x rtol, see docs/ode.md)
const methods: [string, OdeSolver, number][] = [
  ['tsit5', createTsit5(), 1e-12],
  ['rosenbrock', createRosenbrock(), 1e-12],
  ['bdf', createBdf(), 1e-13],
  ['auto', createAuto(), 1e-12],
];

function check(tp: TestProblem, solver: OdeSolver, rtol: number) {
  const sol = solver.solve(tp.problem, { rtol, atol: tp.atol(rtol) });
  const last = sol.times.length - 1;
  expect(sol.times[last]).toBe(tp.problem.tspan[1]);
  const endErr = maxAbsError(sol.state(last), tp.yEnd);
  let denseErr = 0;
  const out = new Float64Array(sol.n);
  const [t0, t1] = tp.problem.tspan;
  for (let k = 0; k <= 100; k++) {
    const t = t0 + ((t1 - t0) * k) / 100;
    sol.interpolant!.at(t, out);
    denseErr = Math.max(denseErr, maxAbsError(out, tp.exact!(t)));
  }
  return { sol, endErr, denseErr };
}

describe.each(methods)('%s on non-stiff problems with exact solutions', (name, solver, rtol) => {
  it.each([rotation(), forcedLinear(), kepler(0.5)])('$name to 1e-10 (end and dense output)', (tp) => {
    const { sol, endErr, denseErr } = check(tp, solver, rtol);
    expect(endErr, `${name} ${tp.name} end`).toBeLessThan(1e-10);
    expect(denseErr, `${name} ${tp.name} dense`).toBeLessThan(1e-10);
    expect(sol.stats.steps).toBeGreaterThan(10);
    expect(sol.stats.rhsEvals).toBeGreaterThan(sol.stats.steps);
    if (name === 'auto') expect(sol.stats.switchedAt, 'no switch on a non-stiff problem').toBeNull();
  });
});

describe('solution shape and options', () => {
  it('t_eval fills exactly the requested points (interpolated) and honours a backward span', () => {
    const tp = rotation();
    const tEval = [0, 0.5, 1.25, 3, 5];
    for (const solver of [createTsit5(), createRosenbrock(), createBdf()]) {
      const sol = solver.solve(tp.problem, { rtol: 1e-9, atol: 1e-12, tEval, dense: false });
      expect(Array.from(sol.times)).toEqual(tEval);
      expect(sol.interpolant).toBeNull();
      for (let k = 0; k < tEval.length; k++) expect(maxAbsError(sol.state(k), tp.exact!(tEval[k]))).toBeLessThan(1e-7);
      // backward: from y(5) to t = 0
      const back = solver.solve({ ...tp.problem, y0: tp.exact!(5), tspan: [5, 0] }, { rtol: 1e-9, atol: 1e-12, tEval: [5, 2, 0] });
      expect(Array.from(back.times)).toEqual([5, 2, 0]);
      // the backward problem is unstable (growth e^5): error ~ e^5 x tolerance
      expect(maxAbsError(back.state(2), [1, 0])).toBeLessThan(1e-5);
      expect(maxAbsError(back.interpolant!.at(2.5), tp.exact!(2.5))).toBeLessThan(1e-5);
    }
  });

  it('rosenbrock23 (loose tolerances) converges with its order: error falls ~ rtol', () => {
    const tp = forcedLinear();
    const solver = createRosenbrock({ variant: 'rosenbrock23' });
    const errs = [1e-3, 1e-5].map((rtol) => {
      const sol = solver.solve(tp.problem, { rtol, atol: 1e-3 * rtol });
      expect(sol.method).toBe('rosenbrock23');
      return maxAbsError(sol.state(sol.times.length - 1), tp.yEnd);
    });
    expect(errs[0]).toBeLessThan(1e-2);
    expect(errs[1]).toBeLessThan(1e-4);
    expect(errs[1]).toBeLessThan(errs[0] / 10);
    expect(createRosenbrock().solve(tp.problem, { rtol: 1e-2 }).method).toBe('rosenbrock23');
    expect(createRosenbrock().solve(tp.problem, { rtol: 1e-6 }).method).toBe('rodas4');
  });

  it('reuses Jacobians and factorizations (bdf) and counts one Jacobian per step (rosenbrock)', () => {
    const tp = kepler(0.3);
    const b = createBdf().solve(tp.problem, { rtol: 1e-8, atol: 1e-8 });
    expect(b.stats.jacobians).toBeLessThan(b.stats.steps / 20);
    expect(b.stats.factorizations).toBeLessThan(b.stats.steps / 2);
    expect(b.stats.newtonIterations).toBeGreaterThanOrEqual(b.stats.steps);
    const r = createRosenbrock().solve(tp.problem, { rtol: 1e-8, atol: 1e-8 });
    expect(r.stats.jacobians).toBeGreaterThanOrEqual(r.stats.steps);
    expect(r.stats.factorizations).toBe(r.stats.steps + r.stats.rejections);
  });
});
