/**
 * weights/table (kernel tables) and the non-Limber settings of spectra/limber: bad input gives clear errors naming
 * the file, line, column or JSON path and what is allowed, before compute where possible.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { preparePipeline } from '../../../core/cli/run-job.js';
import { executePlan } from '../../../core/graph/execute.js';
import { kernelTablePlugin, parseKernelTable, KERNEL_TABLE_TRACERS } from '../../../plugins/weights/table.js';
import type { TracerSet } from '../../../plugins/contracts/tracers.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const n5k = path.join(root, 'pipelines/n5k.json');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-kernels-'));

/** A small valid table: z, chi_Mpc, two clustering and one shear kernel. */
function table(rows = 8, edit?: (cells: string[][]) => void, header = ['z', 'chi_Mpc', 'K_cl_0', 'K_cl_1', 'K_sh_0']): string {
  const cells = Array.from({ length: rows }, (_, i) => {
    const z = 0.1 * (i + 1);
    return [z, 400 * z, Math.exp(-((z - 0.4) ** 2) / 0.02), Math.exp(-((z - 0.6) ** 2) / 0.02), 1e-4 * z].map(String);
  });
  edit?.(cells);
  return [header.join('\t'), ...cells.map((r) => r.join('\t'))].join('\n') + '\n';
}
const parse = (text: string) => parseKernelTable(text, 'k.tsv', KERNEL_TABLE_TRACERS);

describe('weights/table: reading kernel tables', () => {
  it('a valid table: tracers L1 then G1, G2 (families in with.tracers order), W = K on the z column', () => {
    const t = parse(table());
    expect(t.groups.map((g) => g.names)).toEqual([['K_sh_0'], ['K_cl_0', 'K_cl_1']]);
    const file = path.join(tmp, 'ok.tsv');
    fs.writeFileSync(file, table());
    const set = kernelTablePlugin.run({ config: { file, tracers: KERNEL_TABLE_TRACERS }, baseDir: tmp } as never) as TracerSet;
    expect(set.tracers.map((x) => `${x.name}:${x.ellFactor}`)).toEqual(['L1:spin2', 'G1:none', 'G2:none']);
    expect(set.W.tangent).toBeNull();
    expect(set.W.value[2 * 8 + 3]).toBeCloseTo(Math.exp(-((0.4 - 0.6) ** 2) / 0.02), 12);
  });
  it('non-monotonic chi', () => {
    expect(() => parse(table(8, (c) => { c[4][1] = '100'; }))).toThrow(/k\.tsv:6: chi_Mpc = 100 is not monotonic \(the row before has 160\)/);
  });
  it('non-monotonic z', () => {
    expect(() => parse(table(8, (c) => { c[3][0] = '0.2'; }))).toThrow(/k\.tsv:5: z = 0\.2 does not increase/);
  });
  it('NaN and non-numbers', () => {
    expect(() => parse(table(8, (c) => { c[2][3] = 'NaN'; }))).toThrow(/k\.tsv:4: column 4 \('K_cl_1'\) holds 'NaN', which is not a finite number/);
    expect(() => parse(table(8, (c) => { c[2][2] = 'abc'; }))).toThrow(/column 3 \('K_cl_0'\) holds 'abc'/);
  });
  it('missing columns: no kernel of a family, no z, a short row', () => {
    expect(() => parse(table(8, undefined, ['z', 'chi_Mpc', 'K_cl_0', 'K_cl_1', 'K_xx_0']))).toThrow(/no column starts with 'K_sh_' \(with\.tracers\[0\]\.prefix\)/);
    expect(() => parse(table(8, undefined, ['redshift', 'chi_Mpc', 'K_cl_0', 'K_cl_1', 'K_sh_0']))).toThrow(/no 'z' column in the header/);
    expect(() => parse(table(8, (c) => { c[5].pop(); }))).toThrow(/k\.tsv:7: 4 columns, but the header has 5/);
  });
  it('a kernel column that is zero everywhere, or non-zero at z = 0', () => {
    expect(() => parse(table(8, (c) => { for (const r of c) r[3] = '0'; }))).toThrow(/column 'K_cl_1' is zero everywhere/);
    expect(() => parse(table(8, (c) => { c[0][0] = '0'; c[0][1] = '0'; }))).toThrow(/column 'K_sh_0' is .* at z = 0; the spectra integrate in ln z/);
  });
  it('the file content enters the memo key (fingerprint)', () => {
    const a = path.join(tmp, 'a.tsv');
    fs.writeFileSync(a, table());
    const f1 = kernelTablePlugin.fingerprint!({ file: 'a.tsv', tracers: KERNEL_TABLE_TRACERS }, { baseDir: tmp });
    fs.writeFileSync(a, table(9));
    const f2 = kernelTablePlugin.fingerprint!({ file: 'a.tsv', tracers: KERNEL_TABLE_TRACERS }, { baseDir: tmp });
    expect(f1).not.toBe(f2);
  });
});

describe('bad input through the pipeline (pipelines/n5k.json)', () => {
  it('a bad kernel table is a plan problem naming stages.kernels.with.file, before compute', async () => {
    const bad = path.join(tmp, 'bad.tsv');
    fs.writeFileSync(bad, table(8, (c) => { c[4][1] = '100'; }));
    await expect(preparePipeline(n5k, [], [`stages.kernels.with.file="${bad}"`])).rejects.toThrow(/stages\.kernels\.with\.file: .*chi_Mpc = 100 is not monotonic/);
  });
  it('a switch multipole below 2 is refused, naming stages.cl.with.non_limber.l_switch', async () => {
    await expect(preparePipeline(n5k, [], ['stages.cl.with.non_limber={"l_switch":1}'])).rejects.toThrow(
      /stages\.cl\.with\.non_limber\.l_switch: 1 is not allowed; the switch multipole must be a number >= 2/,
    );
    await expect(preparePipeline(n5k, [], ['stages.cl.with.non_limber={"l_swich":300}'])).rejects.toThrow(/stages\.cl\.with\.non_limber\.l_swich: unknown setting \(allowed: l_switch, dlnchi\)/);
  });
  it('a linear P(k) grid that does not reach the k the correction needs: an error naming both ranges', async () => {
    const { plan, registry } = await preparePipeline(n5k, [], ['stages.linear.with.k={"k_min":0.001}']);
    await expect(executePlan(plan, registry, { targets: ['cl'] })).rejects.toThrow(
      /linear P\(k\) of input "linear" .* covers k in \[1\.000e-3, 1\.000e\+2\] 1\/Mpc, but the non-Limber correction needs \[1\.3\d+e-4, 6\.\d+e\+1\] 1\/Mpc/,
    );
    // the switch multipole raised to 2001: the correction would need k beyond the table's 100 /Mpc
    const p2 = await preparePipeline(n5k, [], ['stages.cl.with.non_limber={"l_switch":2001}']);
    await expect(executePlan(p2.plan, p2.registry, { targets: ['cl'] })).rejects.toThrow(/needs \[.*, 1\.2\d+e\+2\] 1\/Mpc .* extend the linear stage's k grid or lower with\.non_limber\.l_switch/);
  });
  it('non_limber without a linear-power stage: a plan problem', async () => {
    const raw = JSON.parse(fs.readFileSync(n5k, 'utf8'));
    delete raw.stages.linear;
    for (const s of ['power', 'kernels']) raw.stages[s].with.file = path.resolve(path.dirname(n5k), raw.stages[s].with.file);
    const file = path.join(tmp, 'no-linear.json');
    fs.writeFileSync(file, JSON.stringify(raw));
    await expect(preparePipeline(file, [], [])).rejects.toThrow(/stages\.cl.*linear/);
  });
});
