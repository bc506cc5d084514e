/**
 * The posterior target built from a pipeline (core/sampling/target.ts) on the toy Gaussian likelihood
 * (test/fixtures/sampling-toys.ts), against its closed form: log p(x) = ln L + ln prior + log-Jacobian and its
 * gradient by the chain rule; the checks before compute (no likelihood stage, a gradient through a black box);
 * the starting covariance (inverse Fisher plus priors, mapped); and, on the main job's likelihood, that a point
 * outside the cosmology's conditions (Omega_b > Omega_m) is refused before anything is computed.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../core/schema/input-error.js';
import { editedSource, targetFor, type PipelineSource } from '../../core/sampling/pipeline-source.js';
import { scaledInverse, startingPoint } from '../../core/sampling/start.js';
import { readSource } from '../../core/sampling/pipeline-source.js';
import { fiducialData } from '../plugins/reverse/harness.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, '../..');
const fixture = path.resolve(here, '../fixtures/sampling-toys.ts');

const mean = [0.3, 1.0];
const cov = [[0.04, 0.018], [0.018, 0.09]];
const toy = (extra: Record<string, unknown> = {}): PipelineSource => ({
  file: 'toy.json', baseDir: here,
  pipeline: {
    name: 'toy', plugins: [fixture],
    parameters: {
      a: { value: 0.5, vary: true, prior: { uniform: [-5, 5], gaussian: [0, 2] } },
      b: { value: 1.2, vary: true, prior: { uniform: [0, 10] } },
    },
    methods: { differentiator: 'reverse-adjoint' },
    stages: {
      model: { use: 'toy-model/identity', with: { params: ['a', 'b'], positive: ['b'] } },
      like: { use: 'likelihood/toy-gaussian', with: { mean, cov } },
    },
    ...extra,
  },
});

/** The closed form: ln L + ln prior at theta (the Jacobian added by the caller). */
function closedForm(a: number, b: number): { lp: number; grad: [number, number] } {
  const P = scaledInverse(Float64Array.from(cov.flat()), 2)!;
  const r = [a - mean[0], b - mean[1]];
  const Pr = [P[0] * r[0] + P[1] * r[1], P[2] * r[0] + P[3] * r[1]];
  const lnL = -0.5 * (r[0] * Pr[0] + r[1] * Pr[1]);
  const lnPrior = -Math.log(10) - 0.5 * (a / 2) ** 2 - Math.log(2) - 0.5 * Math.log(2 * Math.PI) - Math.log(10);
  return { lp: lnL + lnPrior, grad: [-Pr[0] - a / 4, -Pr[1]] };
}

describe('the posterior target', () => {
  it('log p(x) and its gradient against the closed form (logit maps, reverse mode)', async () => {
    const { target, problem } = await targetFor(toy(), true);
    expect(target.hasGradient).toBe(true);
    expect(problem.map.transforms.map((t) => t.kind)).toEqual(['logit', 'logit']);
    for (const [a, b] of [[0.5, 1.2], [-0.7, 0.3], [2.5, 6]]) {
      const x = problem.map.toUnconstrained([a, b]);
      const g = new Float64Array(2);
      const lp = await target.logDensity(x, g);
      const cf = closedForm(a, b);
      const t = problem.map.transforms;
      expect(lp).toBeCloseTo(cf.lp + t[0].logJacobian(x[0]) + t[1].logJacobian(x[1]), 10);
      for (let i = 0; i < 2; i++) expect(g[i]).toBeCloseTo(cf.grad[i] * t[i].derivative(x[i]) + t[i].logJacobianGradient(x[i]), 9);
      // and by central differences of log p itself
      for (let i = 0; i < 2; i++) {
        const h = 1e-5, xp = Float64Array.from(x), xm = Float64Array.from(x);
        xp[i] += h; xm[i] -= h;
        const fd = ((await target.logDensity(xp)) - (await target.logDensity(xm))) / (2 * h);
        expect(Math.abs(g[i] - fd)).toBeLessThan(1e-6 * Math.max(1, Math.abs(fd)));
      }
    }
  });

  it('a gradient-free sampler gets a values-only target with the same density', async () => {
    const grad = (await targetFor(toy(), true)).target;
    const { target, problem } = await targetFor(toy(), false);
    expect(target.hasGradient).toBe(false);
    const x = problem.map.toUnconstrained([0.1, 2]);
    expect(await target.logDensity(x)).toBe(await grad.logDensity(x));
    await expect(target.logDensity(x, new Float64Array(2))).rejects.toThrow(/gives no gradient/);
  });

  it('refuses a pipeline without a log-likelihood stage, and a gradient through a black box', async () => {
    const noLike = editedSource(toy(), []);
    delete (noLike.pipeline as { stages: Record<string, unknown> }).stages.like;
    await expect(targetFor(noLike, false)).rejects.toThrow(/stages\.model: toy-model\/identity does not compute a log-likelihood/);
    const box = editedSource(toy(), ['stages.model.use="toy-model/blackbox"']);
    const e = await targetFor(box, true).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).issues[0]).toMatchObject({ path: 'stages.model', message: expect.stringMatching(/black box .* depends on the sampled parameters a, b: a gradient sampler cannot get exact gradients through it; use --sampler ensemble/) });
    // the same pipeline is fine for a gradient-free sampler
    expect((await targetFor(box, false)).target.dim).toBe(2);
    const fd = editedSource(toy(), ['methods.differentiator="finite-difference"']);
    await expect(targetFor(fd, true)).rejects.toThrow(/methods\.differentiator: finite-difference.*approximate derivatives/);
  });

  it('starts from the inverse Fisher matrix plus the priors, mapped to the unconstrained space', async () => {
    const src = toy();
    const { target, problem } = await targetFor(src, true);
    const start = await startingPoint(src, problem, target);
    expect(start.source).toBe('fisher');
    // F = cov^-1 (y = theta) + the gaussian prior on a (1/2^2) [+ 12/w^2 of each uniform prior]
    const F = scaledInverse(Float64Array.from(cov.flat()), 2)!;
    F[0] += 1 / 4;
    const Fc = scaledInverse(F, 2)!;
    for (let k = 0; k < 4; k++) expect(start.fisher!.cov[k]).toBeCloseTo(Fc[k], 12);
    const FU = Float64Array.from(F);
    FU[0] += 12 / 100;
    FU[3] += 12 / 100;
    const C = scaledInverse(FU, 2)!;
    const d = [0, 1].map((i) => 1 / problem.map.transforms[i].derivative(start.x0[i]));
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) expect(start.covariance[i * 2 + j]).toBeCloseTo(d[i] * C[i * 2 + j] * d[j], 10);
  });

  it('on the main job\'s likelihood, a point with Omega_b > Omega_m is refused before compute', async () => {
    // a prior wide enough to reach Omega_b > Omega_m
    const main = path.join(root, 'pipelines/euclid-3x2pt-likelihood.json');
    // its default data ("model") are refused for sampling, naming the option
    await expect(targetFor(readSource(main, [], ['stages.cl.with.plot=false']), false)).rejects.toThrow(/stages\.like\.with\.data: is "model": .* the chains would sample the prior/);
    const src = readSource(main, [], ['stages.cl.with.plot=false', 'parameters.Omega_b.prior={"uniform": [0.02, 0.5]}', `stages.like.with.data=${JSON.stringify(await fiducialData())}`]);
    const { target, problem } = await targetFor(src, false);
    expect(problem.parameters).toHaveLength(19);
    const theta = problem.parameters.map((p) => p.value);
    theta[problem.parameters.findIndex((p) => p.name === 'Omega_b')] = 0.3;
    theta[problem.parameters.findIndex((p) => p.name === 'Omega_m')] = 0.21;
    expect(await target.logDensity(problem.map.toUnconstrained(theta))).toBe(-Infinity);
    expect(target.counts).toMatchObject({ evaluations: 0, outside: 1 });
  });
});
