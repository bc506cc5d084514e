/**
 * `cosmodag compare`: --vary parsing, table differences against analytic values, variants sharing the
 * memo store, reference files, the files and plots it writes, and its errors.
 *
 * The toy plugins (plain ESM, written to a temporary directory so that the built CLI can load them too):
 *   toy-grid/line      x = 1..n and a run counter (the stage no variant changes)
 *   toy-table/scaled   columns A_1, A_2, B_1, B_2 = scale * (x, x^2, 1/x, -x) and a labelled table
 *                      (`sig.tsv`: parameter, sigma) — so a variant with scale s differs by exactly |s - 1|
 *   toy-integral/exp   Integral_0^b e^x dx through the bound integrator (exact: e^b - 1)
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../core/cache/store.js';
import { compareVariants, diffTables, parseTable, parseVary, runVariants, variantsOf } from '../../../core/graph/compare.js';
import { plotComparison } from '../../../core/graph/compare-plot.js';
import { InputError } from '../../../core/schema/input-error.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const TOY = `
export const counts = { grid: 0 };
const grid = {
  apiVersion: 1, id: 'toy-grid/line', version: '1.0.0', port: 'toy-grid', description: 'x = 1..n',
  configSchema: { type: 'object', properties: { n: { type: 'integer', default: 5 } } },
  inputs: {}, reads: {}, differentiable: 'forward',
  run(ctx) { counts.grid++; return { x: Float64Array.from({ length: ctx.config.n }, (_, i) => i + 1) }; },
};
const table = {
  apiVersion: 1, id: 'toy-table/scaled', version: '1.0.0', port: 'toy-table', description: 'scaled columns',
  configSchema: { type: 'object', additionalProperties: false, properties: { scale: { type: 'number', default: 1 } } },
  inputs: { grid: 'toy-grid' }, reads: {}, differentiable: 'forward',
  run(ctx) { if (ctx.config.scale < 0) throw new Error('scale must be positive'); return { x: ctx.inputs.grid.x, s: ctx.config.scale }; },
  write(o, file) {
    const rows = Array.from(o.x, (x) => [x, o.s * x, o.s * x * x, o.s / x, -o.s * x].join('\\t'));
    return {
      [file]: ['x\\tA_1\\tA_2\\tB_1\\tB_2', ...rows].join('\\n') + '\\n',
      'sig.tsv': 'parameter\\tfiducial\\tsigma\\nalpha\\t1\\t' + 0.1 * o.s + '\\nbeta\\t2\\t' + 0.2 + '\\n',
      'picture.svg': '<svg/>',
    };
  },
};
const integral = {
  apiVersion: 1, id: 'toy-integral/exp', version: '1.0.0', port: 'toy-integral', description: 'Integral_0^b e^x dx',
  configSchema: { type: 'object', properties: { b: { type: 'number', default: 3 } } },
  inputs: {}, reads: {}, methods: ['integrator'], differentiable: 'forward',
  run(ctx) { return { I: ctx.method('integrator').integrate(Math.exp, 0, ctx.config.b), b: ctx.config.b }; },
  write(o, file) { return { [file]: 'b\\tintegral\\n' + o.b + '\\t' + o.I.toPrecision(17) + '\\n' }; },
};
// the table scaled by a parameter only this plugin reads (a compare variant may bring one)
const boosted = { ...table, id: 'toy-table/boosted', reads: { A_boost: { default: 1, description: 'boost', unit: '1', min: 0 } },
  run(ctx) { return { x: ctx.inputs.grid.x, s: ctx.config.scale * ctx.param('A_boost').v }; } };
export const plugins = [grid, table, integral, boosted];
`;

function setup(): { dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-compare-'));
  fs.writeFileSync(path.join(dir, 'toy.mjs'), TOY);
  const file = path.join(dir, 'p.json');
  fs.writeFileSync(file, JSON.stringify({
    name: 'toy-compare',
    plugins: ['./toy.mjs'],
    methods: { integrator: 'gauss-legendre' },
    stages: { grid: { use: 'toy-grid/line' }, table: { use: 'toy-table/scaled' }, integral: { use: 'toy-integral/exp' } },
    outputs: { table: 't.tsv', integral: 'int.tsv' },
  }));
  return { dir, file };
}

const cli = (args: string[], cwd = repo) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(process.execPath, [path.join(repo, 'bin/run.js'), ...args], { cwd }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as any).code ?? 1) : 0, stdout, stderr })));

describe('--vary', () => {
  it('parses lists, JSON values and JSON arrays, and labels every combination', () => {
    expect(parseVary('methods.integrator=newton-cotes,romberg,gauss-legendre').values).toEqual(['newton-cotes', 'romberg', 'gauss-legendre']);
    expect(parseVary('parameters.h.value=0.6,0.7').values).toEqual([0.6, 0.7]);
    const m = parseVary('methods.integrator={"use":"romberg","with":{"rtol":1e-6}},gauss-legendre');
    expect(m.values).toEqual([{ use: 'romberg', with: { rtol: 1e-6 } }, 'gauss-legendre']);
    expect(m.texts).toEqual(['romberg(rtol=0.000001)', 'gauss-legendre']);
    expect(parseVary('stages.cl.with.ell.count=[10, 20]').values).toEqual([10, 20]);
    const v = variantsOf([parseVary('methods.integrator=a,b'), parseVary('stages.x.with.n=1,2,3')]);
    expect(v.map((x) => x.label)).toEqual(['integrator=a, n=1', 'integrator=a, n=2', 'integrator=a, n=3', 'integrator=b, n=1', 'integrator=b, n=2', 'integrator=b, n=3']);
    for (const bad of ['methods.integrator', '=a,b', 'a..b=1', 'a=1,,2', 'a=1,1']) expect(() => parseVary(bad)).toThrow(InputError);
  });
});

describe('table differences', () => {
  const T = (rows: string[]) => parseTable(rows.join('\n'), 't');
  it('relative differences against analytic values, with the axis and the place of the largest', () => {
    const ref = T(['ell\tLL_1\tLL_2', '10\t1\t-2', '20\t3\t4', '40\t5\t6']);
    const got = T(['ell\tLL_2\tLL_1', '10\t-2.002\t1', '20\t4\t3.0003', '40\t6.06\t5']);
    const d = diffTables(ref, got);
    expect(d.axis?.name).toBe('ell');
    expect(d.columns).toEqual(['LL_1', 'LL_2']);
    expect(d.max).toBeCloseTo(0.01, 12);
    expect(d.where).toBe('LL_2 at ell = 40 (6.060000 vs 6.000000)');
    // the six differences sorted: 0, 0, 0, 1e-4, 1e-3, 1e-2; median (0 + 1e-4) / 2
    expect(d.median).toBeCloseTo(0.5e-4, 12);
    expect(d.count).toBe(6);
  });

  it('labelled rows, square matrices, a zero reference, and grids that differ', () => {
    const lab = diffTables(T(['parameter\tsigma', 'a\t1', 'b\t0']), T(['parameter\tsigma', 'a\t1.5', 'b\t1']));
    expect(lab.rowLabels).toEqual(['a', 'b']);
    expect(lab.max).toBeCloseTo(0.5, 12);
    expect(lab.zeroReference).toBe(1);
    const sq = diffTables(T(['p\tq', '4\t1', '1\t2']), T(['p\tq', '4\t1', '1\t2.2']));
    // symmetric and square: a matrix; the same numbers but not symmetric: a table with an axis
    expect(diffTables(T(['p\tq', '1\t1', '2\t2']), T(['p\tq', '1\t1', '2\t2'])).axis?.name).toBe('p');
    expect(sq.rowLabels).toEqual(['p', 'q']);
    expect(sq.where).toBe('[q, q] (2.200000 vs 2.000000)');
    expect(() => diffTables(T(['x\ty', '1\t1', '2\t1', '3\t1']), T(['x\ty', '1\t1', '2.5\t1', '3\t1']))).toThrow(/first column \(x\) differs/);
    expect(() => diffTables(T(['x\ty', '1\t1', '2\t1']), T(['x\ty', '1\t1']))).toThrow(/same rows/);
  });
});

describe('normalized, signed differences (as in docs/validation.md)', () => {
  const T = (rows: string[]) => parseTable(rows.join('\n'), 't');
  it('spectra: (a - r) / sqrt(r_ii r_jj) per probe family, a cross-spectrum near zero does not dominate', () => {
    // LL_1_2 is 1e-22 in the reference: its relative difference would be 1e12
    const ref = T(['ell\tLL_1_1\tLL_1_2\tLL_2_2\tGL_1_1\tGG_1_1', '10\t4\t1e-22\t9\t-0.5\t16', '100\t2\t1e-22\t8\t0.5\t4']);
    const got = T(['ell\tLL_1_1\tLL_1_2\tLL_2_2\tGL_1_1\tGG_1_1', '10\t4.004\t1e-10\t9\t-0.508\t16', '100\t2\t1e-22\t7.992\t0.5\t4']);
    const d = diffTables(ref, got);
    expect(d.metric).toBe('spectra');
    // by hand: LL_1_1 at 10: 0.004/4; LL_1_2 at 10: (1e-10 - 1e-22)/sqrt(4*9); LL_2_2 at 100: -0.008/8;
    // GL_1_1 (G1 x L1) at 10: -0.008/sqrt(GG_1_1 LL_1_1) = -0.008/sqrt(16*4)
    const j = (n: string) => d.columns.indexOf(n);
    expect(d.signed[j('LL_1_1')][0]).toBeCloseTo(1e-3, 14);
    expect(d.signed[j('LL_1_2')][0]).toBeCloseTo((1e-10 - 1e-22) / 6, 20);
    expect(d.signed[j('LL_2_2')][1]).toBeCloseTo(-1e-3, 14);
    expect(d.signed[j('GL_1_1')][0]).toBeCloseTo(-0.008 / 8, 14);
    expect(d.max).toBeCloseTo(1e-3, 14);
    expect(d.minSigned).toBeCloseTo(-1e-3, 14);
    expect(d.maxSigned).toBeCloseTo(1e-3, 14);
    expect(d.families.map((f) => f.family)).toEqual(['LL', 'GL', 'GG']);
    const gl = d.families.find((f) => f.family === 'GL')!;
    expect(gl.minSigned).toBeCloseTo(-1e-3, 14);
    expect(gl.maxSigned).toBe(0);
    expect(d.families.find((f) => f.family === 'GG')!.max).toBe(0);
  });

  it('errors in units of the reference sigma, a Fisher matrix by sqrt(F_ii F_jj), signed', () => {
    const s = diffTables(T(['parameter\tsigma', 'a\t0.02', 'b\t0.5']), T(['parameter\tsigma', 'a\t0.019', 'b\t0.55']));
    expect(s.metric).toBe('relative');
    expect(s.signed[0][0]).toBeCloseTo(-0.05, 14);
    expect(s.signed[0][1]).toBeCloseTo(0.1, 14);
    const m = diffTables(T(['p\tq', '4\t1', '1\t9']), T(['p\tq', '4\t0.7', '0.7\t9']));
    expect(m.metric).toBe('matrix');
    expect(m.signed[1][0]).toBeCloseTo(-0.3 / 6, 14);
  });
});

describe('runVariants + compareVariants', () => {
  it('a parameter read by any variant is allowed (not only by all)', async () => {
    const { dir, file } = setup();
    const p = JSON.parse(fs.readFileSync(file, 'utf8'));
    p.parameters = { A_boost: { value: 1.02 } };
    fs.writeFileSync(file, JSON.stringify(p));
    const res = await runVariants({ file, vary: [parseVary('stages.table.use=toy-table/scaled,toy-table/boosted')] });
    const c = compareVariants(res, null);
    expect(c.outputs.find((o) => o.file === 't.tsv')!.diffs[1]!.maxSigned).toBeCloseTo(0.02, 12);
    // read by no variant: still refused
    p.parameters = { A_bost: { value: 1 } };
    fs.writeFileSync(path.join(dir, 'typo.json'), JSON.stringify(p));
    const e = await runVariants({ file: path.join(dir, 'typo.json'), vary: [parseVary('stages.table.use=toy-table/scaled,toy-table/boosted')] }).catch((x) => x);
    expect(e).toBeInstanceOf(InputError);
    expect(e.issues[0].message).toMatch(/no stage of any variant reads a parameter "A_bost"/);
  });

  it('shares the stages a variant does not change, and measures the differences it does make', async () => {
    const { file } = setup();
    const store = new MemoryStore();
    const res = await runVariants({ file, vary: [parseVary('stages.table.with.scale=1,1.001,1.01')], store });
    expect(res.variants.map((v) => v.variant.label)).toEqual(['scale=1', 'scale=1.001', 'scale=1.01']);
    expect(res.variants[0].computed).toEqual(['grid', 'table', 'integral']);
    for (const v of res.variants.slice(1)) {
      expect(v.computed).toEqual(['table']);
      expect(v.cached).toEqual(['grid', 'integral']);
    }
    const c = compareVariants(res, null);
    const t = c.outputs.find((o) => o.file === 't.tsv')!;
    expect(t.diffs[0]).toBeNull();
    // every value scales with s: relative difference exactly |s - 1|
    expect(t.diffs[1]!.max).toBeCloseTo(1e-3, 12);
    expect(t.diffs[1]!.median).toBeCloseTo(1e-3, 12);
    expect(t.diffs[2]!.max).toBeCloseTo(1e-2, 12);
    expect(c.outputs.find((o) => o.file === 'int.tsv')!.diffs[2]!.max).toBe(0);
    expect(c.skipped).toContain('picture.svg');
    const plots = await plotComparison(c);
    expect(plots.map((p) => p.name).sort()).toEqual(['compare-sig', 'compare-t']);
    const sig = plots.find((p) => p.name === 'compare-sig')!;
    expect(sig.svg).toContain('>alpha<');
    expect(Buffer.from(sig.png.subarray(1, 4)).toString()).toBe('PNG');
  });

  it('three integrators against the analytic integral (a reference file)', async () => {
    const { dir, file } = setup();
    const exact = Math.exp(3) - 1;
    fs.writeFileSync(path.join(dir, 'exact.tsv'), `b\tintegral\n3\t${exact.toPrecision(17)}\n`);
    const res = await runVariants({ file, vary: [parseVary('methods.integrator=newton-cotes,romberg,gauss-legendre')] });
    const c = compareVariants(res, { files: { 'int.tsv': path.join(dir, 'exact.tsv') }, read: (f) => fs.readFileSync(f, 'utf8') });
    const d = c.outputs.find((o) => o.file === 'int.tsv')!.diffs;
    // each within its default relative tolerance (Newton-Cotes 1e-8, Romberg and Gauss-Legendre tighter)
    expect(d[0]!.max).toBeLessThan(1e-8);
    expect(d[1]!.max).toBeLessThan(1e-8);
    expect(d[2]!.max).toBeLessThan(1e-12);
    expect(c.skipped).toContain('t.tsv (no reference file)');
  });

  it('a variant failing during compute is named in the error', async () => {
    const { file } = setup();
    const e = await runVariants({ file, vary: [parseVary('stages.table.with.scale=1,-1')] }).catch((x) => x);
    expect(e.message).toMatch(/^variant scale=-1: stage "table" \(toy-table\/scaled\) failed: scale must be positive/);
  });

  it('an invalid variant is an input error naming it, before anything runs', async () => {
    const { file } = setup();
    const e = await runVariants({ file, vary: [parseVary('methods.integrator=romberg,simpsons')] }).catch((x) => x);
    expect(e).toBeInstanceOf(InputError);
    expect(e.issues[0].path).toBe('methods.integrator');
    expect(e.issues[0].message).toMatch(/in variant integrator=simpsons: unknown integrator method "simpsons"/);
  });
});

describe('the compare command (built CLI)', () => {
  it('writes the tables and plots, compares with a reference directory, never overwrites a user\'s file', async () => {
    const { dir, file } = setup();
    const out = path.join(dir, 'out');
    const r = await cli(['compare', file, '--vary', 'stages.table.with.scale=1,1.01', '--out', out]);
    expect(r.stderr).toContain('[2/2] scale=1.01');
    expect(r.code).toBe(0);
    for (const f of ['compare.tsv', 'compare.md', 'variants.tsv', 'compare-t.png', 'compare-t.svg', 'compare-sig.png']) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    const tsv = fs.readFileSync(path.join(out, 'compare.tsv'), 'utf8').split('\n');
    expect(tsv[0]).toBe('output\tvariant\tfamily\tmax_abs_diff\tmedian_abs_diff\twhere_max\tvalues\tzero_reference\twall_seconds\tmetric\tmost_negative\tmost_positive');
    expect(tsv.find((l) => l.startsWith('t.tsv\tscale=1.01'))).toMatch(/^t\.tsv\tscale=1\.01\tall\t1\.0000e-2\t1\.0000e-2\t/);
    expect(r.stdout).toContain('| t.tsv | scale=1.01 | 1.00e-2 | 1.00e-2 |');

    // a previous run as the reference: both variants against it
    const ref = path.join(dir, 'ref');
    expect((await cli(['run', file, '--out', ref, '-q'])).code).toBe(0);
    const r2 = await cli(['compare', file, '--vary', 'stages.table.with.scale=1,1.01', '--reference', ref, '--out', path.join(dir, 'out2'), '-q']);
    expect(r2.code).toBe(0);
    const md = fs.readFileSync(path.join(dir, 'out2', 'compare.md'), 'utf8');
    expect(md).toContain('| t.tsv | scale=1 | 0 | 0 |');
    expect(md).toContain('| t.tsv | scale=1.01 | 1.00e-2 | 1.00e-2 |');

    fs.writeFileSync(path.join(out, 'compare.md'), 'my notes\n');
    const r3 = await cli(['compare', file, '--vary', 'stages.table.with.scale=1,1.01', '--out', out]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/compare\.md exists and was not written by cosmodag/);
    expect(fs.readFileSync(path.join(out, 'compare.md'), 'utf8')).toBe('my notes\n');

    const r4 = await cli(['compare', file, '--vary', 'methods.integrator=romberg,simpsons', '--out', path.join(dir, 'out3')]);
    expect(r4.code).toBe(2);
    expect(r4.stderr).toMatch(/methods\.integrator: in variant integrator=simpsons: unknown integrator method/);
  });
});
