/**
 * `cosmodag sample` as a function (core/sampling/sample-job.ts), in this thread (no compiled worker under vitest),
 * on a toy posterior whose answer is known: a correlated 2-D Gaussian likelihood of y = theta
 * (test/fixtures/sampling-toys.ts), b positive with a uniform prior (logit map), wide uniform priors elsewhere.
 * Every sampler: posterior means within 4 Monte Carlo errors (sd / sqrt(ESS)) of the Gaussian's, the standard
 * deviations within 4 of theirs; the files a cosmologist loads (getdist chains, paramnames, ranges, summary.tsv).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sampleJob } from '../../core/sampling/sample-job.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const fixture = path.resolve(here, '../fixtures/sampling-toys.ts');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-sample-'));

const mean = [0.3, 1.0];
const sd = [0.2, 0.3];
const rho = 0.3;
const toy = {
  name: 'toy-posterior',
  plugins: [fixture],
  parameters: {
    a: { value: 0.5, vary: true, latex: '\\alpha', prior: { uniform: [-5, 5] } },
    b: { value: 1.2, vary: true, latex: 'b_{1}', prior: { uniform: [0, 10] } },
  },
  methods: { differentiator: 'reverse-adjoint' },
  stages: {
    model: { use: 'toy-model/identity', with: { params: ['a', 'b'], positive: ['b'] } },
    like: { use: 'likelihood/toy-gaussian', with: { mean, cov: [[sd[0] ** 2, rho * sd[0] * sd[1]], [rho * sd[0] * sd[1], sd[1] ** 2]] } },
  },
};
const file = path.join(tmp, 'toy.json');
fs.writeFileSync(file, JSON.stringify(toy));

describe('cosmodag sample on a toy posterior (in this thread)', () => {
  for (const [sampler, samples] of [['nuts', 1500], ['metropolis', 6000], ['ensemble', 1500]] as const)
    it(`${sampler}: moments within Monte Carlo error, getdist files`, async () => {
      const out = path.join(tmp, sampler);
      const r = await sampleJob({ file, sampler, chains: 2, warmup: 500, samples, seed: 11, out, quiet: true });
      r.summary.forEach((s, i) => {
        // Monte Carlo error of the mean sd/sqrt(ESS); of the sd about sd/sqrt(2 ESS) for a Gaussian
        expect(Math.abs(s.mean - mean[i]) / (sd[i] / Math.sqrt(s.essBulk))).toBeLessThan(4);
        expect(Math.abs(s.sd - sd[i]) / (sd[i] / Math.sqrt(2 * s.essBulk))).toBeLessThan(4);
        // an ensemble's walkers are its series (as ArviZ takes emcee's), short and correlated with each other: looser
        expect(s.rhat).toBeLessThan(sampler === 'ensemble' ? 1.1 : 1.02);
      });
      const files = fs.readdirSync(out);
      for (const f of ['chain_1.txt', 'chain_2.txt', 'chain.paramnames', 'chain.ranges', 'samples.tsv', 'summary.tsv', 'posterior.png', 'posterior.svg', 'sample.json'])
        expect(files).toContain(f);
      expect(fs.readFileSync(path.join(out, 'chain.paramnames'), 'utf8')).toBe('a\t\\alpha\nb\tb_{1}\n');
      expect(fs.readFileSync(path.join(out, 'chain.ranges'), 'utf8')).toBe('a\t-5\t5\nb\t0\t10\n');
      expect(fs.readFileSync(path.join(out, 'summary.tsv'), 'utf8').split('\n')[0]).toBe('parameter\tmean\tsd\tlo68\thi68\tlo95\thi95\trhat\tess_bulk\tess_tail');
      // getdist rows: weight, -ln(posterior) in the physical parameters (ln L + ln prior), then the parameters
      const row = fs.readFileSync(path.join(out, 'chain_1.txt'), 'utf8').split('\n')[0].split(' ').map(Number);
      expect(row).toHaveLength(4);
      expect(row[0]).toBe(1);
      const [a, b] = [row[2], row[3]];
      const za = (a - mean[0]) / sd[0], zb = (b - mean[1]) / sd[1];
      const chi2 = (za * za - 2 * rho * za * zb + zb * zb) / (1 - rho * rho);
      expect(row[1]).toBeCloseTo(0.5 * chi2 + Math.log(10) + Math.log(10), 9);
      const walkers = sampler === 'ensemble' ? new Set(fs.readFileSync(path.join(out, 'samples.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t')[2])).size : 1;
      expect(fs.readFileSync(path.join(out, 'chain_1.txt'), 'utf8').trim().split('\n')).toHaveLength(samples * walkers);
      const json = JSON.parse(fs.readFileSync(path.join(out, 'sample.json'), 'utf8'));
      expect(json.covariance_source).toBe('fisher');
      expect(json.chain_seeds).toHaveLength(2);
    });

  it('--until-ess stops when the smallest bulk ESS reaches the target', async () => {
    const out = path.join(tmp, 'until');
    const r = await sampleJob({ file, sampler: 'nuts', chains: 2, warmup: 300, untilEss: 300, seed: 5, out, quiet: true });
    expect(r.stopped).toBe('ess');
    expect(Math.min(...r.summary.map((s) => s.essBulk))).toBeGreaterThanOrEqual(250); // measured on all draws at the end
  });

  it('--max-time stops the chains at the end of their current iteration, checkpointed', async () => {
    const out = path.join(tmp, 'time');
    const t = performance.now();
    const r = await sampleJob({ file, sampler: 'metropolis', chains: 2, warmup: 100, untilEss: 1e9, maxTime: 1.5, seed: 5, out, quiet: true });
    expect(r.stopped).toBe('time');
    expect((performance.now() - t) / 1000).toBeLessThan(30);
    expect(r.chains.every((c) => c.draws > 0)).toBe(true);
  });
});
