/**
 * The stiff problems of the IVP test set (Mazzia & Magherini, release 2.4): every method must reach the
 * reference final state with relative error <= 10 rtol in every component, at rtol 1e-6 and 1e-8. The
 * absolute tolerances (problems.ts) sit below rtol |y_ref| so that no component escapes relative
 * control. Measured errors and step counts: docs/ode.md (npm run bench:ode).
 */
import { describe, expect, it } from 'vitest';
import { createAuto, createBdf, createRosenbrock, type OdeSolver } from '../../../../core/numerics/ode/index.js';
import { hires, maxRelError, orego, rober, vdp, type TestProblem } from './problems.js';

const problems: TestProblem[] = [rober(), hires(), vdp(), orego()];
const methods: [string, OdeSolver][] = [
  ['bdf', createBdf()],
  ['rosenbrock', createRosenbrock()],
  ['auto', createAuto()],
];

function componentErrors(solver: OdeSolver, tp: TestProblem, rtol: number) {
  const sol = solver.solve(tp.problem, { rtol, atol: tp.atol(rtol), tEval: [tp.problem.tspan[1]], dense: false });
  const y = sol.state(0);
  return { sol, errs: tp.yEnd.map((r, i) => Math.abs(y[i] - r) / Math.abs(r)) };
}

describe.each(methods)('%s on the stiff IVP test set', (name, solver) => {
  for (const tp of problems) {
    it.each([1e-6, 1e-8])(`${tp.name} at rtol %s: every component within 10 rtol`, (rtol) => {
      const { sol, errs } = componentErrors(solver, tp, rtol);
      errs.forEach((e, i) => expect(e, `${name} ${tp.name} y[${i}]`).toBeLessThanOrEqual(10 * rtol));
      expect(sol.stats.steps).toBeGreaterThan(10);
      if (name === 'auto') expect(sol.stats.switchedAt, 'auto switches to the stiff method').not.toBeNull();
    });
  }
});

describe('stiff variants', () => {
  it('ndf formula, auto -> bdf, and rosenbrock23 at a loose tolerance also reach the references', () => {
    const ndf = createBdf({ formula: 'ndf' });
    for (const tp of [rober(), hires()]) {
      const { sol, errs } = componentErrors(ndf, tp, 1e-7);
      expect(sol.method).toBe('ndf');
      expect(Math.max(...errs)).toBeLessThanOrEqual(1e-6);
    }
    const ab = componentErrors(createAuto({ stiff: 'bdf' }), hires(), 1e-7);
    expect(ab.sol.method).toBe('auto(tsit5->bdf)');
    expect(Math.max(...ab.errs)).toBeLessThanOrEqual(1e-6);
    const ros23 = createRosenbrock({ variant: 'rosenbrock23' });
    for (const tp of [rober(), hires()]) {
      const { sol, errs } = componentErrors(ros23, tp, 1e-4);
      expect(sol.method).toBe('rosenbrock23');
      expect(Math.max(...errs), tp.name).toBeLessThanOrEqual(1e-3);
    }
  });

  it('bdf with raw error-per-step control (localErrorFraction 1) is cheaper and less accurate', () => {
    const tp = orego();
    const tight = componentErrors(createBdf(), tp, 1e-6);
    const raw = componentErrors(createBdf({ localErrorFraction: 1 }), tp, 1e-6);
    expect(raw.sol.stats.steps).toBeLessThan(tight.sol.stats.steps);
    expect(Math.max(...raw.errs)).toBeGreaterThan(Math.max(...tight.errs));
  });

  it('a finite-difference Jacobian gives the same answers as the analytic one', () => {
    for (const [solver, rtol] of [[createBdf(), 1e-7], [createRosenbrock(), 1e-7]] as [OdeSolver, number][]) {
      const tp = hires();
      const sol = solver.solve(tp.problem, { rtol, atol: tp.atol(rtol), finiteDifferenceJacobian: true, dense: false, tEval: [tp.problem.tspan[1]] });
      expect(maxRelError(sol.state(0), tp.yEnd)).toBeLessThanOrEqual(10 * rtol);
    }
  });
});
