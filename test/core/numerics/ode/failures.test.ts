/**
 * Limits and failures end the solve with an OdeError naming the time and the component; none loops.
 */
import { describe, expect, it } from 'vitest';
import { createAuto, createBdf, createRosenbrock, createTsit5, OdeError, type OdeProblem, type OdeSolver } from '../../../../core/numerics/ode/index.js';
import { rotation } from './problems.js';

const methods: [string, OdeSolver][] = [
  ['tsit5', createTsit5()],
  ['rosenbrock', createRosenbrock()],
  ['bdf', createBdf()],
  ['auto', createAuto()],
];

function failure(fn: () => unknown): OdeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OdeError);
    return e as OdeError;
  }
  throw new Error('expected an OdeError');
}

describe.each(methods)('%s: failures', (_name, solver) => {
  it('NaN in the right-hand side from t = 0.5 on: error names the component and a time near 0.5', () => {
    const p: OdeProblem = {
      f: (t, y, dy) => { dy[0] = -y[0]; dy[1] = t > 0.5 ? NaN : y[0]; },
      y0: [1, 0],
      tspan: [0, 2],
      names: ['x', 'v'],
    };
    const e = failure(() => solver.solve(p));
    expect(e.reason).toBe('non-finite');
    expect(e.component).toBe(1);
    expect(e.t).toBeGreaterThan(0.3);
    expect(e.t).toBeLessThanOrEqual(0.5);
    expect(e.message).toMatch(/NaN in component v near t = 0\.[345]/);
  });

  it('a non-finite value at the initial point fails at once, naming t0 and the component', () => {
    const e = failure(() => solver.solve({ f: (_t, y, dy) => { dy[0] = 1; dy[1] = 1 / 0; }, y0: [0, 0], tspan: [1, 2] }));
    expect(e.reason).toBe('non-finite');
    expect(e.t).toBe(1);
    expect(e.message).toMatch(/Infinity in component y\[1\] at t = 1/);
  });

  it('a blow-up (y\' = y^2, y(0) = 1, singular at t = 1) ends near t = 1 without an endless loop', () => {
    const e = failure(() => solver.solve({ f: (_t, y, dy) => { dy[0] = y[0] * y[0]; }, y0: [1], tspan: [0, 2] }, { rtol: 1e-6 }));
    expect(['step-underflow', 'non-finite', 'max-steps']).toContain(e.reason);
    expect(e.t).toBeGreaterThan(0.99);
    expect(e.t).toBeLessThan(1.0001);
    expect(e.message).toMatch(/t = 0\.99|t = 1/);
    expect(e.component).toBe(0);
  });

  it('the step budget ends the solve with max-steps, naming t', () => {
    const e = failure(() => solver.solve(rotation().problem, { rtol: 1e-10, maxSteps: 5 }));
    expect(e.reason).toBe('max-steps');
    expect(e.t).toBeGreaterThan(0);
    expect(e.t).toBeLessThan(5);
    expect(e.message).toMatch(/maximum number of steps \(5\) reached at t = /);
  });
});

describe('input errors are clear and immediate', () => {
  const solver = createBdf();
  const p = rotation().problem;
  it.each([
    [{ rtol: 0 }, /rtol must be in/],
    [{ atol: [1e-8] }, /options\.atol must have length 2/],
    [{ atol: -1 }, /atol must be > 0/],
    [{ tEval: [0, 6] }, /tEval\[1\] = 6 lies outside tspan/],
    [{ tEval: [2, 1] }, /monotone/],
    [{ sensitivities: true }, /needs problem\.params/],
    [{ maxSteps: 0 }, /maxSteps must be a positive integer/],
  ])('%o', (opts, re) => {
    expect(() => solver.solve(p, opts as object)).toThrow(re);
  });
  it('bad problems and out-of-span interpolation', () => {
    expect(() => solver.solve({ ...p, tspan: [1, 1] })).toThrow(/tspan is empty/);
    expect(() => solver.solve({ ...p, y0: [1, NaN] })).toThrow(/problem\.y0\[1\] is not finite/);
    const sol = solver.solve(p);
    expect(() => sol.interpolant!.at(6)).toThrow(/outside the solved span \[0, 5\]/);
    expect(() => sol.interpolant!.sensitivityAt(1)).toThrow(/sensitivities were not integrated/);
    expect(() => createBdf({ maxOrder: 7 }).solve(p)).toThrow(/maxOrder must be an integer in \[1, 5\]/);
  });
});
