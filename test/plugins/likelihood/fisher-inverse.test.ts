/**
 * Issue 12: the Fisher inversion through ml-matrix's symmetric eigen-decomposition of F scaled to unit diagonal
 * (core/numerics/fisher-inverse.ts, used by plugins/likelihood/fisher-result.ts). On the main job's spectra
 * (pipelines/euclid-3x2pt-fisher.json, 19 parameters, forward-AD tangents) through computeFisher:
 *  - well conditioned: a finite condition number, in the result and in fisher.json, and the errors equal to an
 *    independent inversion (our Cholesky spdInverse, ml-matrix's LU inverse) to 1e-10;
 *  - degenerate on purpose: the Omega_b tangent block replaced by the Omega_m block (dC/dOmega_b = dC/dOmega_m
 *    exactly: singular), by -2 times it (the other relative sign), or by it plus eps times the original block
 *    (near-singular, condition number ~ 1/eps^2): the error names the combination, both names, with the right
 *    relative sign.
 */
import { inverse, Matrix } from 'ml-matrix';
import { beforeAll, describe, expect, it } from 'vitest';
import { preparePipeline } from '../../../core/cli/run-job.js';
import { executePlan } from '../../../core/graph/execute.js';
import { variedParameters } from '../../../core/graph/plan.js';
import { spdInverse } from '../../../core/numerics/cholesky.js';
import { DegenerateFisherError, FISHER_MAX_CONDITION, formatCombination, invertFisher } from '../../../core/numerics/fisher-inverse.js';
import { combineFisher, marginalizedErrors } from '../../../core/cli/fisher-files.js';
import type { Spectra } from '../../../plugins/contracts/spectra.js';
import { computeFisher, type FisherConfig } from '../../../plugins/likelihood/gaussian-fisher.js';
import type { VariedSpec } from '../../../plugins/likelihood/fisher-result.js';
import { writeFisher } from '../../../plugins/likelihood/write-fisher.js';
import { repoRoot } from '../../support/harness.js';

const main = `${repoRoot}/pipelines/euclid-3x2pt-fisher.json`;

let spectra: Spectra, config: FisherConfig, varied: VariedSpec[];

beforeAll(async () => {
  const { plan, registry } = await preparePipeline(main, [], ['stages.cl.with.plot=false', 'stages.fisher.with.plot=false']);
  const names = variedParameters(plan);
  varied = names.map((n) => { const p = plan.parameters.get(n)!; return { name: n, value: p.value, prior_sigma: p.prior_sigma, latex: p.latex }; });
  spectra = (await executePlan(plan, registry, { tangents: names, targets: ['cl'] })).outputs.get('cl') as Spectra;
  config = plan.stages.get('fisher')!.config as unknown as FisherConfig;
}, 120_000);

/** The spectra with the tangent block of `target` replaced by sum_k c_k (block of name_k). */
function withBlock(target: string, combo: [string, number][]): Spectra {
  const N = spectra.C.value.length, t = spectra.C.tangent!;
  const tangent = Float64Array.from(t);
  const at = (n: string) => varied.findIndex((v) => v.name === n);
  const o = at(target) * N;
  tangent.fill(0, o, o + N);
  for (const [n, c] of combo) for (let i = 0; i < N; i++) tangent[o + i] += c * t[at(n) * N + i];
  return { ...spectra, C: { ...spectra.C, tangent } };
}

function errorOf(f: () => unknown): DegenerateFisherError {
  try { f(); } catch (e) { if (e instanceof DegenerateFisherError) return e; throw e; }
  throw new Error('no error thrown');
}

describe('Fisher inversion by the eigen-decomposition of the unit-diagonal matrix', () => {
  it('a well-conditioned Fisher matrix: finite condition number, errors equal to two independent inversions to 1e-10', async () => {
    const r = computeFisher(spectra, config, varied);
    const K = r.names.length;
    console.log(`main job: condition number of the unit-diagonal Fisher matrix ${r.condition.toExponential(3)}`);
    expect(Number.isFinite(r.condition)).toBe(true);
    expect(r.condition).toBeGreaterThan(1);
    expect(r.condition).toBeLessThan(FISHER_MAX_CONDITION);
    const chol = spdInverse(r.F, K)!;
    const lu = inverse(new Matrix(Array.from({ length: K }, (_, i) => Array.from(r.F.subarray(i * K, (i + 1) * K)))));
    let worstSigma = 0, worstCov = 0;
    for (let i = 0; i < K; i++) {
      for (const ref of [Math.sqrt(chol[i * K + i]), Math.sqrt(lu.get(i, i))]) worstSigma = Math.max(worstSigma, Math.abs(r.sigmaMarginalized[i] / ref - 1));
      for (let j = 0; j < K; j++) {
        const scale = Math.sqrt(chol[i * K + i] * chol[j * K + j]);
        worstCov = Math.max(worstCov, Math.abs(r.cov[i * K + j] - chol[i * K + j]) / scale, Math.abs(r.cov[i * K + j] - lu.get(i, j)) / scale);
      }
    }
    console.log(`marginalized errors vs Cholesky / LU inverse: ${worstSigma.toExponential(2)}; covariance (in units of sigma_i sigma_j): ${worstCov.toExponential(2)}`);
    expect(worstSigma).toBeLessThan(1e-10);
    expect(worstCov).toBeLessThan(1e-10);
    // fisher.json carries it
    const files = await writeFisher(r, 'fisher.tsv', { plot: false });
    const json = JSON.parse(files['fisher.json'] as string);
    expect(json.condition_number).toBe(r.condition);
  });

  it('dC/dOmega_b = dC/dOmega_m exactly: the error names "0.71 Omega_m - 0.71 Omega_b" and suggests fixing one or a prior', () => {
    const e = errorOf(() => computeFisher(withBlock('Omega_b', [['Omega_m', 1]]), config, varied));
    console.log(e.message);
    expect(e.message).toMatch(/^the Fisher matrix is (singular|near-singular)/);
    expect(e.combination).toBe('0.71 Omega_m - 0.71 Omega_b');
    expect(e.message).toContain('Omega_m, Omega_b are degenerate');
    expect(e.message).toMatch(/fix one of them .* prior/);
    const im = varied.findIndex((v) => v.name === 'Omega_m'), ib = varied.findIndex((v) => v.name === 'Omega_b');
    expect(Math.abs(e.direction[im])).toBeCloseTo(Math.SQRT1_2, 6);
    expect(e.direction[im] * e.direction[ib]).toBeLessThan(0);
    e.direction.forEach((v, i) => { if (i !== im && i !== ib) expect(Math.abs(v)).toBeLessThan(1e-6); });
  });

  it('dC/dOmega_b = -2 dC/dOmega_m: the other relative sign, "0.71 Omega_m + 0.71 Omega_b" (in units of the conditional errors)', () => {
    const e = errorOf(() => computeFisher(withBlock('Omega_b', [['Omega_m', -2]]), config, varied));
    expect(e.combination).toBe('0.71 Omega_m + 0.71 Omega_b');
  });

  it('near-singular (dC/dOmega_b = dC/dOmega_m + eps x its own dC/dOmega_b): refused at eps = 1e-6, accepted at 1e-4', () => {
    // the condition number goes as 1/eps^2 (measured: 2.6e14 at 1e-6, 2.6e10 at 1e-4, 2.6e8 at 1e-3)
    const e = errorOf(() => computeFisher(withBlock('Omega_b', [['Omega_m', 1], ['Omega_b', 1e-6]]), config, varied));
    console.log(e.message);
    expect(e.condition).toBeGreaterThan(1e13);
    expect(e.condition).toBeLessThan(1e16);
    expect(e.message).toMatch(/near-singular: condition number [0-9.]+e\+1[3-5] of the matrix scaled to unit diagonal, above 1e\+12/);
    expect(e.combination).toBe('0.71 Omega_m - 0.71 Omega_b');
    const k4 = computeFisher(withBlock('Omega_b', [['Omega_m', 1], ['Omega_b', 1e-4]]), config, varied).condition;
    const k3 = computeFisher(withBlock('Omega_b', [['Omega_m', 1], ['Omega_b', 1e-3]]), config, varied).condition;
    expect(k4).toBeLessThan(FISHER_MAX_CONDITION);
    expect(k4 / k3).toBeCloseTo(100, 0);
  });

  it('the remedies work: a prior on Omega_b, or Omega_b fixed, makes the degenerate matrix invertible', () => {
    const s = withBlock('Omega_b', [['Omega_m', 1]]);
    const withPrior = varied.map((v) => (v.name === 'Omega_b' ? { ...v, prior_sigma: 0.01 } : v));
    expect(Number.isFinite(computeFisher(s, config, withPrior).condition)).toBe(true);
    const fixed = computeFisher(s, { ...config, fixed: ['Omega_b'] }, varied);
    expect(fixed.names).not.toContain('Omega_b');
    expect(fixed.condition).toBeLessThan(FISHER_MAX_CONDITION);
  });

  it('`fisher combine` of matrices that leave a direction unconstrained names it', () => {
    // two one-parameter-pair matrices that both constrain only a + b
    const one = { names: ['a', 'b'], F: Float64Array.of(1, 1, 1, 1) };
    const e = errorOf(() => marginalizedErrors(combineFisher([one, { ...one, F: Float64Array.of(4, 4, 4, 4) }])));
    expect(e.message).toMatch(/^the combined Fisher matrix is (singular|near-singular)/);
    expect(e.combination).toBe('0.71 a - 0.71 b');
  });
});

describe('invertFisher and formatCombination', () => {
  it('the condition number does not depend on the parameters\' units', () => {
    const F = Float64Array.of(4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 2);
    const k0 = invertFisher(F, ['x', 'y', 'z']).condition;
    // y in units 1e9 times smaller: its row and column scale by 1e9, F_yy by 1e18
    const G = Float64Array.from(F, (v, i) => v * (Math.floor(i / 3) === 1 ? 1e9 : 1) * (i % 3 === 1 ? 1e9 : 1));
    expect(invertFisher(G, ['x', 'y', 'z']).condition / k0 - 1).toBeLessThan(1e-12);
  });

  it('writes the dominant components, largest first and positive, and elides the small ones', () => {
    expect(formatCombination([-0.6, 0.01, 0.8], ['a', 'b', 'c'])).toBe('0.80 c - 0.60 a');
    expect(formatCombination([0.5, -0.5, 0.5, -0.5], ['p', 'q', 'r', 's'])).toBe('0.50 p - 0.50 q + 0.50 r - 0.50 s');
  });
});
