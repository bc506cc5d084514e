/**
 * Priors in the pipeline JSON (core/sampling/priors.ts, checked by the planner): the schema and the cross-field
 * checks with their JSON paths, the relation to prior_sigma (the Fisher stages' prior), and the supports of the
 * sampled parameters (a physically bounded parameter needs a uniform prior inside its physical range).
 */
import { describe, expect, it } from 'vitest';
import { planPipeline } from '../../core/graph/plan.js';
import { InputError } from '../../core/schema/input-error.js';
import { logPrior, priorProblems, sampledParameters } from '../../core/sampling/priors.js';
import type { Pipeline } from '../../core/graph/pipeline.js';
import { toyRegistry } from '../fixtures/graph-toys.js';

const pipe = (parameters: Pipeline['parameters']): Pipeline => ({ name: 'p', parameters, stages: { s: { use: 'toy-vec/param' } } });

function planIssues(parameters: Pipeline['parameters']): string[] {
  try {
    planPipeline(pipe(parameters), toyRegistry());
    return [];
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return e.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

describe('priors in the pipeline', () => {
  it('refuses lo >= hi, sigma <= 0 and a width contradicting prior_sigma, naming the JSON path', () => {
    expect(priorProblems(pipe({ a: { value: 1, prior: { uniform: [2, 1] } } })).map((i) => i.path)).toEqual(['parameters.a.prior.uniform']);
    expect(priorProblems(pipe({ a: { value: 1, prior: { uniform: [1, 1] } } }))[0].message).toMatch(/lower bound must be smaller/);
    expect(priorProblems(pipe({ a: { value: 1, prior: { gaussian: [1, 0] } } }))[0]).toMatchObject({ path: 'parameters.a.prior.gaussian', message: expect.stringMatching(/sigma = 0 must be > 0/) });
    expect(priorProblems(pipe({ a: { value: 1, prior: { gaussian: [1, -2] } } }))[0].message).toMatch(/sigma = -2/);
    expect(priorProblems(pipe({ a: { value: 1, prior_sigma: 0.1, prior: { gaussian: [1, 0.2] } } }))[0]).toMatchObject({ path: 'parameters.a.prior_sigma', message: expect.stringMatching(/contradicts prior.gaussian/) });
    expect(priorProblems(pipe({ a: { value: 1, prior_sigma: 0.2, prior: { gaussian: [1.1, 0.2] } } }))).toEqual([]);
  });

  it('the planner reports them (cosmodag validate/run/sample), and the schema the shape', () => {
    expect(planIssues({ a: { value: 1, prior: { uniform: [3, 2] } } })).toEqual([expect.stringMatching(/^parameters\.a\.prior\.uniform: \[3,2\]: the lower bound must be smaller/)]);
    expect(planIssues({ a: { value: 1, prior: { uniform: [1, 2, 3] } as never } })[0]).toMatch(/^parameters\.a\.prior\.uniform: has 3 items; allows at most 2/);
    expect(planIssues({ a: { value: 1, prior: { flat: [1, 2] } as never } })[0]).toMatch(/^parameters\.a\.prior\.flat: is not a known field here/);
    expect(planIssues({ a: { value: 1, prior: {} } })[0]).toMatch(/^parameters\.a\.prior/);
  });

  it('a gaussian prior is the Fisher stages\' prior_sigma', () => {
    const plan = planPipeline(pipe({ a: { value: 1, vary: true, prior: { gaussian: [1, 0.25] } } }), toyRegistry());
    expect(plan.parameters.get('a')!.prior_sigma).toBe(0.25);
    const plain = planPipeline(pipe({ a: { value: 1, vary: true, prior_sigma: 0.5 } }), toyRegistry());
    expect(plain.parameters.get('a')!.prior_sigma).toBe(0.5);
  });

  const spec = (s: object) => ({ default: 0, description: 'x', ...s });
  it('a sampled parameter with a physical bound needs a uniform prior inside its physical range', () => {
    const r = sampledParameters(['h', 'sigma8', 'w0'], (n) => ({
      h: { value: 0.67, spec: spec({ exclusiveMin: 0, max: 2, description: 'Hubble' }) },
      sigma8: { value: 0.8, spec: spec({ exclusiveMin: 0 }), prior: { gaussian: [0.8, 0.1] as [number, number] } },
      w0: { value: -1, spec: spec({}) },
    })[n as 'h' | 'sigma8' | 'w0']);
    expect(r.problems.map((i) => i.path)).toEqual(['parameters.h.prior', 'parameters.sigma8.prior']);
    expect(r.problems[0].message).toMatch(/h is sampled and its physical range is h > 0 and <= 2 \(Hubble\): give it a uniform prior inside that range, e\.g\. "prior": \{"uniform": \[0\.34, 1\]\}/);
    expect(r.parameters.map((p) => [p.name, p.improper])).toEqual([['w0', true]]);
  });

  it('a uniform prior beyond the physical range, or a start outside the prior, is refused', () => {
    const look = (value: number, uniform: [number, number]) => () => ({ value, spec: spec({ exclusiveMin: 0, max: 2 }), prior: { uniform } });
    expect(sampledParameters(['h'], look(0.7, [-0.1, 1])).problems[0]).toMatchObject({ path: 'parameters.h.prior.uniform', message: expect.stringMatching(/reaches outside the physical range/) });
    expect(sampledParameters(['h'], look(0.7, [0.5, 2.5])).problems[0].path).toBe('parameters.h.prior.uniform');
    expect(sampledParameters(['h'], look(1.2, [0.5, 1])).problems[0]).toMatchObject({ path: 'parameters.h.value', message: expect.stringMatching(/not strictly inside the prior range \[0\.5, 1\]/) });
    // an open physical bound may be the prior's bound: the support is open there
    const ok = sampledParameters(['h'], look(0.7, [0, 2]));
    expect(ok.problems).toEqual([]);
    expect([ok.parameters[0].lower, ok.parameters[0].upper]).toEqual([0, 2]);
  });

  it('ln prior: flat on the range, a truncated Gaussian, prior_sigma alone as N(value, prior_sigma)', () => {
    const [p] = sampledParameters(['a'], () => ({ value: 1, spec: spec({}), prior: { uniform: [0, 4], gaussian: [1, 0.5] } })).parameters;
    const z = (1.5 - 1) / 0.5;
    expect(logPrior(p, 1.5).value).toBeCloseTo(-Math.log(4) - 0.5 * z * z - Math.log(0.5) - 0.5 * Math.log(2 * Math.PI), 12);
    expect(logPrior(p, 1.5).gradient).toBeCloseTo(-z / 0.5, 12);
    expect(logPrior(p, 4.5).value).toBe(-Infinity);
    const [q] = sampledParameters(['a'], () => ({ value: 2, spec: spec({}), prior_sigma: 0.1 })).parameters;
    expect(q.prior.gaussian).toEqual([2, 0.1]);
  });
});
