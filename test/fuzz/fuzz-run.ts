/**
 * `npm run fuzz -- --cases N [--seed S] [--compute all|cheap]`: the pipeline fuzzer (test/support/fuzz.ts) over
 * every shipped pipeline; prints the count by outcome and every violation with its seed; exit 1 on any violation.
 * `--compute cheap` (default) runs the background pipeline's valid mutations and validates the others;
 * `--compute all` runs every valid mutation (slow: the 3x2pt pipelines take seconds each).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fuzz, type CaseResult } from '../support/fuzz.js';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const cases = Number(arg('cases', '1000')), seed = Number(arg('seed', '1')), compute = arg('compute', 'cheap');
if (!(Number.isInteger(cases) && cases > 0)) { console.error(`--cases: ${arg('cases', '')} is not a positive integer`); process.exit(2); }
const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');
const pipelines = fs.readdirSync(path.join(root, 'pipelines')).filter((f) => f.endsWith('.json') && !f.startsWith('.')).map((f) => path.join(root, 'pipelines', f));
const computeSet = new Set(compute === 'all' ? pipelines : [path.join(root, 'pipelines/background.json')]);
const counts = new Map<string, number>();
const violations: CaseResult[] = [];
const t0 = Date.now();
await fuzz({
  cases, seed, pipelines, compute: computeSet, timeBound: 120,
  onCase: (r) => {
    counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
    if (r.outcome === 'violation') { violations.push(r); console.log(`VIOLATION seed ${r.seed} ${r.pipeline} [${r.mutation}]: ${r.detail}`); }
    const done = [...counts.values()].reduce((a, b) => a + b, 0);
    if (done % 500 === 0) console.log(`${done}/${cases} cases, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  },
});
console.log(`${cases} cases (seeds ${seed}..${seed + cases - 1}) in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${[...counts].map(([k, v]) => `${k} ${v}`).join(', ')}`);
console.log(`RESULT fuzz_violations ${violations.length}`);
process.exit(violations.length ? 1 : 0);
