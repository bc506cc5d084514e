/**
 * The P(k, z) plot of `cosmodag plot DIR`: pk.tsv read back, and the ratio to a reference table. Independent check:
 * power laws P = A_z k^n, exact under the (ln k, ln P) interpolation, against a reference 1.1 times larger on a
 * coarser k grid: P / P_ref - 1 = 1/1.1 - 1 everywhere inside the reference's k range.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ratioToReference, readPkTable, redrawPower } from '../../../plugins/contracts/power-plot.js';

const table = (k: number[], z: number[], f: (k: number, z: number) => number) =>
  ['k_1overMpc\t' + z.map((x) => `P_z${x}_Mpc3`).join('\t'), ...k.map((kk) => [kk, ...z.map((x) => f(kk, x))].map((v) => v.toExponential(15)).join('\t'))].join('\n') + '\n';

describe('P(k, z) plot', () => {
  it('ratio to a reference at the shared redshifts; the plots are written', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-pkplot-'));
    const k = Array.from({ length: 61 }, (_, i) => 10 ** (-3 + i / 20));
    const kr = Array.from({ length: 13 }, (_, i) => 10 ** (-3.5 + i / 3));
    const P = (kk: number, z: number) => (1e4 / (1 + z) ** 2) * kk ** -1.3;
    fs.writeFileSync(path.join(dir, 'pk_nl.tsv'), table(k, [0, 1, 2], P));
    fs.writeFileSync(path.join(dir, 'ref.tsv'), table(kr, [0, 2], (kk, z) => 1.1 * P(kk, z)));
    const t = readPkTable(path.join(dir, 'pk_nl.tsv')), ref = readPkTable(path.join(dir, 'ref.tsv'));
    expect(t.z).toEqual([0, 1, 2]);
    const r = ratioToReference(t, ref);
    expect(r.map(([j]) => j)).toEqual([0, 2]);
    for (const [, ratio] of r)
      ratio.forEach((v, q) => {
        if (k[q] > kr[kr.length - 1]) expect(v).toBeNaN();
        else expect(Math.abs(v - (1 / 1.1 - 1))).toBeLessThan(1e-12);
      });
    const files = (await redrawPower(dir, path.join(dir, 'ref.tsv')))!;
    expect(Object.keys(files).sort()).toEqual(['pk_nl.png', 'pk_nl.svg']);
    expect(files['pk_nl.svg']).toContain('against ref.tsv');
    expect(await redrawPower(fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-pkplot-empty-')))).toBeNull();
    fs.writeFileSync(path.join(dir, 'bad.tsv'), 'k\tP\n1\t2\n');
    expect(() => readPkTable(path.join(dir, 'bad.tsv'))).toThrow(/bad\.tsv: the first column must be k_1overMpc/);
  });
});
