/**
 * `cosmodag sample` on bad input: each must exit 2 with a one-line message naming the JSON path (or flag) and the
 * problem, before anything is computed, and leave --out unwritten. Runs the built CLI (npm run build first, as the
 * other CLI tests do); the toy pipelines use test/fixtures/sampling-toys.ts compiled to dist/.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { toyPosterior } from '../support/sampling-toy-pipeline.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-sample-bad-'));

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const toy = (edit: (p: Json) => void = () => {}) => toyPosterior(edit);

function sample(pipeline: string | object, ...args: string[]) {
  const file = typeof pipeline === 'string' ? pipeline : path.join(dir, `p-${Math.random().toString(36).slice(2)}.json`);
  if (typeof pipeline !== 'string') fs.writeFileSync(file, JSON.stringify(pipeline));
  const out = path.join(dir, `out-${Math.random().toString(36).slice(2)}`);
  const r = spawnSync(process.execPath, [path.join(root, 'bin/run.js'), 'sample', file, '--out', out, '--chains', '2', '--warmup', '20', '--samples', '20', '--seed', '1', ...args], {
    encoding: 'utf8', cwd: root, env: { ...process.env, COSMODAG_SKIP_BUILD_CHECK: '1' },
  });
  return { code: r.status, stderr: r.stderr, out };
}

/** A cl.tsv (with its cl.json) of one lensing auto-spectrum, with a NaN in its third row. */
function nanData(): string {
  const d = fs.mkdtempSync(path.join(dir, 'data-'));
  fs.writeFileSync(path.join(d, 'cl.json'), JSON.stringify({ tracers: ['L1'], settings: {} }));
  fs.writeFileSync(path.join(d, 'cl.tsv'), 'ell\tLL_1_1\n10\t1e-9\n20\t8e-10\n30\tNaN\n40\t5e-10\n');
  return path.join(d, 'cl.tsv');
}

const likelihood = path.join(root, 'pipelines/euclid-3x2pt-likelihood.json');

const cases: [string, () => [string | object, ...string[]], RegExp][] = [
  ['a prior with lo >= hi', () => [toy((p) => { p.parameters.a.prior.uniform = [3, 2]; })], /^error: parameters\.a\.prior\.uniform: \[3,2\]: the lower bound must be smaller than the upper one/],
  ['a gaussian prior with sigma <= 0', () => [toy((p) => { p.parameters.a.prior = { gaussian: [0, -1] }; })], /^error: parameters\.a\.prior\.gaussian: \[0,-1\]: sigma = -1 must be > 0/],
  ['a bounded parameter without a prior', () => [toy((p) => { delete p.parameters.b.prior; })], /^error: parameters\.b\.prior: b is sampled and its physical range is b > 0 .*give it a uniform prior/],
  ['a NaN in the data file', () => [likelihood, '--set', `stages.like.with.data=${JSON.stringify(nanData())}`], /^error: stages\.like\.with\.data: .*cl\.tsv, line 4, column LL_1_1: "NaN" is not a finite number/],
  ['data that are the model at every point (ln L constant)', () => [likelihood], /^error: stages\.like\.with\.data: is "model": the data are the model at every sampled point/],
  ['a pipeline without a likelihood stage', () => [path.join(root, 'pipelines/euclid-3x2pt-fisher.json')], /^error: stages\.fisher: likelihood\/gaussian-fisher does not compute a log-likelihood, and no other stage does/],
  ['nuts through a black box', () => [toy((p) => { p.stages.model.use = 'toy-model/blackbox'; }), '--sampler', 'nuts'], /^error: the sampler needs gradients, and this pipeline cannot give exact ones: stages\.model: toy-model\/blackbox is a black box/],
  ['an unknown sampler', () => [toy(), '--sampler', 'gibbs'], /^error: --sampler: unknown sampler method "gibbs"; available: .*nuts/],
  ['a bad --max-time', () => [toy(), '--max-time', 'soon'], /^error: --max-time: "soon" is not a duration/],
  ['--resume without a run', () => [toy(), '--resume'], /^error: --resume: .* holds no sampling run to resume/],
];

describe('cosmodag sample: bad input exits 2 before compute, writing nothing', () => {
  for (const [what, make, message] of cases)
    it(what, () => {
      const r = sample(...make());
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(2);
      expect(fs.existsSync(r.out)).toBe(false);
    });
});
