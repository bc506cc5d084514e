/**
 * The fuzzer's fast set (issue 19): a few hundred seeded mutations of every shipped pipeline, validated (and the
 * background pipeline run) in this process; every case must end valid, computed with finite outputs inside
 * --out, as an input error naming its path, or as a stage error naming its stage (test/support/fuzz.ts).
 * `npm run fuzz -- --cases 5000` runs thousands.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyEdits, cliEditCases, fuzz } from '../../support/fuzz.js';
import { InputError } from '../../../core/schema/input-error.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const pipelines = fs.readdirSync(path.join(root, 'pipelines')).filter((f) => f.endsWith('.json') && !f.startsWith('.')).map((f) => path.join(root, 'pipelines', f));

describe('the pipeline fuzzer (fast set)', () => {
  it('300 seeded mutations: no crash, no escape, no hang', async () => {
    const results = await fuzz({ cases: 300, seed: 20261202, pipelines, compute: new Set([path.join(root, 'pipelines/background.json')]), timeBound: 60 });
    const bad = results.filter((r) => r.outcome === 'violation');
    expect(bad.map((r) => `seed ${r.seed} ${r.pipeline} [${r.mutation}]: ${r.detail}`)).toEqual([]);
    const count = (o: string) => results.filter((r) => r.outcome === o).length;
    // the mutations reach every outcome (else the fuzzer tests nothing)
    expect(count('input-error')).toBeGreaterThan(100);
    expect(count('valid') + count('computed')).toBeGreaterThan(10);
  }, 600_000);

  it('command-line edits: every bad one is an input error naming the flag or path', () => {
    const base = JSON.parse(fs.readFileSync(path.join(root, 'pipelines/euclid-3x2pt.json'), 'utf8')) as unknown;
    for (const c of cliEditCases()) {
      const e = applyEdits(structuredClone(base), c);
      expect(e, JSON.stringify(c)).toBeInstanceOf(InputError);
      expect((e as InputError).issues.every((i) => i.path !== ''), JSON.stringify(c)).toBe(true);
    }
  });
});
