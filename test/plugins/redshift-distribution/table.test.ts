/**
 * redshift-distribution/table: the reader's errors (file, line, column), the normalisation rules, and the
 * cubic-spline photo-z shift checked two ways:
 *  - against the analytic ISTF n(z) evaluated exactly at z - dz (an independent method: no interpolation).
 *    Spline interpolation on the 0.001 grid of a distribution of width ~0.05 (1+z) errs by O(h^4 n''''):
 *    measured 1.8e-11 of the peak; we allow 1e-8;
 *  - the tangent -n'(z - dz) (+ renormalisation) against central differences of the stage, 1e-6 of the
 *    block's max.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { constant, seed } from '../../../core/ad/dual.js';
import { validateWith } from '../../../core/schema/ajv.js';
import { istfPhotometric } from '../../../plugins/redshift-distribution/istf-photometric.js';
import { parseNzTable } from '../../../plugins/redshift-distribution/nz-table-format.js';
import {
  checkTableConfig,
  tabulatedDistribution,
  tablePlugin,
  type TableConfig,
} from '../../../plugins/redshift-distribution/table.js';
import { maxNormRel, referencePath, richardsonFD, stageContext, tangentBlockOf } from './stage-context.js';

const file = referencePath('survey', 'nz_euclid_istf_10bins.tsv');
const table = parseNzTable(readFileSync(file, 'utf8'), file);
const zeros = (n: number) => Array.from({ length: n }, () => constant(0));
const spec = JSON.parse(readFileSync(referencePath('survey', 'survey_spec_euclid_istf.json'), 'utf8'));

describe('reading the ISTF table', () => {
  test('shape and header', () => {
    expect(table.nBins).toBe(10);
    expect(table.z.length).toBe(4000);
    expect(table.columns).toEqual(['z', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8', 'n9', 'n10']);
  });

  test("normalise 'none' returns the columns; 'trapezoid' changes them by < 2e-12 (the table is trapezoid-normalised)", () => {
    const none = tabulatedDistribution(table, zeros(10), 'none');
    expect(Array.from(none.n.value)).toEqual(Array.from(table.rows));
    const trap = tabulatedDistribution(table, zeros(10), 'trapezoid');
    expect(maxNormRel(trap.n.value, table.rows)).toBeLessThan(2e-12);
  });

  test('the plugin through a StageContext, schema defaults, zbar from edges or means', () => {
    const cfg: Record<string, unknown> = { file, bins: 10, binEdges: spec.bin_edges_photo_z };
    expect(validateWith(tablePlugin.configSchema, cfg, 'with')).toEqual([]);
    expect(cfg.normalise).toBe('spline');
    expect(checkTableConfig(cfg as unknown as TableConfig)).toEqual([]);
    const out = tablePlugin.run(stageContext(tablePlugin, cfg as unknown as TableConfig)) as ReturnType<typeof tabulatedDistribution>;
    expect(Array.from(out.zbar)).toEqual(spec.bin_centres_zbar);
    const noEdges = tabulatedDistribution(table, zeros(10), 'spline');
    // mean redshift of bin 5 by an independent sum (rectangle rule; the tails are negligible at both ends)
    let a = 0, b = 0;
    for (let k = 0; k < 4000; k++) {
      a += table.z[k] * table.rows[4 * 4000 + k];
      b += table.rows[4 * 4000 + k];
    }
    expect(Math.abs(noEdges.zbar[4] - a / b)).toBeLessThan(1e-6);
    expect(noEdges.zbarDefinition).toMatch(/mean/);
  });
});

describe('photo-z shift by cubic interpolation', () => {
  test('matches the analytic n_i(z - dz) of the ISTF model (bins 4 and 9, dz = +0.023 / -0.031)', () => {
    const dz = zeros(10);
    dz[3] = constant(0.023);
    dz[8] = constant(-0.031);
    const ours = tabulatedDistribution(table, dz, 'trapezoid');
    const exact = istfPhotometric({ normalise: 'trapezoid' }, dz);
    for (const i of [3, 8]) {
      const r = (x: Float64Array) => x.subarray(i * 4000, (i + 1) * 4000);
      expect(maxNormRel(r(ours.n.value), r(exact.n.value))).toBeLessThan(1e-8);
    }
    // unshifted bins stay the table's
    expect(maxNormRel(ours.n.value.subarray(0, 4000), table.rows.subarray(0, 4000))).toBeLessThan(2e-12);
  });

  test.each(['spline', 'trapezoid', 'none'] as const)('tangent d n_4/d dz_4 vs central differences (%s)', (rule) => {
    const dz = zeros(10);
    dz[3] = seed(0.01, 0, 1);
    const d = tabulatedDistribution(table, dz, rule);
    const fd = richardsonFD((t) => {
      const s = zeros(10);
      s[3] = constant(t);
      return tabulatedDistribution(table, s, rule).n.value;
    }, 0.01, 2e-4);
    expect(maxNormRel(tangentBlockOf(d.n, 0), fd)).toBeLessThan(1e-6);
  });
});

describe('reader errors name file, line and column', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cosmodag-nz-'));
  const write = (name: string, text: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const good = ['z\tn1\tn2', '0.1\t1\t0', '0.2\t2\t1', '0.3\t1\t2', '0.4\t0\t1'];
  const variant = (k: number, line: string) => good.map((l, i) => (i === k ? line : l)).join('\n') + '\n';

  test.each([
    ['negative.tsv', variant(3, '0.3\t1\t-2e-5'), /negative\.tsv:4: column 3 \(n2\): value -2e-5 is negative; n\(z\) must be >= 0/],
    ['nonmonotonic.tsv', variant(3, '0.15\t1\t2'), /nonmonotonic\.tsv:4: column 1 \(z\): redshift 0\.15 does not increase \(previous row has 0\.2\)/],
    ['ragged.tsv', variant(2, '0.2\t2'), /ragged\.tsv:3: ragged row: 2 columns, but the header \(line 1\) has 3/],
    ['nan.tsv', variant(4, '0.4\tnan\t1'), /nan\.tsv:5: column 2 \(n1\): 'nan' is not a number/],
    ['text.tsv', variant(1, '0.1\tabc\t0'), /text\.tsv:2: column 2 \(n1\): 'abc' is not a number/],
    ['empty-field.tsv', variant(1, '0.1\t\t0'), /empty-field\.tsv:2: column 2 \(n1\): '' is not a number/],
    ['inf.tsv', variant(2, '0.2\tInfinity\t1'), /inf\.tsv:3: column 2 \(n1\): Infinity is not finite/],
    ['zero-column.tsv', 'z\tn1\n0.1\t0\n0.2\t0\n0.3\t0\n0.4\t0\n', /zero-column\.tsv: column 2 \(n1\) is zero everywhere/],
  ])('%s', (name, text, re) => {
    const f = write(name, text);
    expect(() => parseNzTable(readFileSync(f, 'utf8'), f)).toThrow(re);
    // the same message reaches the pipeline check under with.file
    const msgs = checkTableConfig({ file: f, bins: name === 'zero-column.tsv' ? 1 : 2, normalise: 'spline' });
    expect(msgs.length).toBe(1);
    expect(msgs[0]).toMatch(/^with\.file: /);
    expect(msgs[0]).toMatch(re);
  });

  test('a table without header, with comments and CRLF line ends, is read', () => {
    const f = write('plain.tsv', '# comment\r\n0.1\t1\r\n0.2\t2\r\n0.3\t1\r\n0.4\t0.5\r\n');
    const t = parseNzTable(readFileSync(f, 'utf8'), f);
    expect(t.columns).toEqual(['z', 'n1']);
    expect(Array.from(t.rows)).toEqual([1, 2, 1, 0.5]);
  });

  test('bins mismatch and missing file are reported under their with. paths', () => {
    const f = write('ok.tsv', good.join('\n'));
    expect(checkTableConfig({ file: f, bins: 3, normalise: 'spline' })).toEqual([
      `with.bins: 3, but ${f} has 2 n_i columns (n1, n2)`,
    ]);
    const missing = path.join(dir, 'missing.tsv');
    expect(checkTableConfig({ file: missing, bins: 2, normalise: 'spline' })[0]).toMatch(/^with\.file: cannot read/);
    expect(() => tablePlugin.run(stageContext(tablePlugin, { file: f, bins: 3, normalise: 'spline' }))).toThrow(/with\.bins = 3/);
  });

  test("the schema requires 'file' and 'bins'", () => {
    const issues = validateWith(tablePlugin.configSchema, {}, 'with');
    expect(issues.map((i) => i.path).sort()).toEqual(['with.bins', 'with.file']);
  });
});
