/**
 * The Euclid-like 3x2pt C_l against CCL (../shared/reference/ccl, README "Limber C_ell actually computed").
 * Tolerances from issue 3: every pair to 1e-3 in units of sqrt(C_ii C_jj) (GL_i_j: sqrt(GG_i_i LL_j_j)), the
 * metric the reference README recommends, and the auto-spectra to 1e-3 relative, at every l in [10, 5000].
 * Measured (gauss-legendre, default): 9.5e-5, dominated by LL_1_1 at l ~ 10.6, where CCL replaces the exact
 * spin-2 prefactor by 1 - 1.25/(l+1/2)^2 (good to 5e-5 per lensing leg, README) and we use the exact form.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runJob } from '../../../core/cli/run-job.js';
import { MemoryStore } from '../../../core/cache/store.js';
import type { Spectra } from '../../../plugins/contracts/spectra.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const ref = (f: string) => path.resolve(root, '../shared/reference/ccl', f);

function readTable(file: string): { header: string[]; rows: number[][] } {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
  return { header: lines[0].split('\t').filter(Boolean), rows: lines.slice(1).map((l) => l.split('\t').filter(Boolean).map(Number)) };
}

/** Worst |dC|/sqrt(C_ii C_jj) over all pairs and worst relative error of the auto-spectra. */
export function compareWithReference(s: Spectra, file: string) {
  const { header, rows } = readTable(file);
  const col = new Map(header.map((h, i) => [h, i]));
  expect(s.pairNames).toEqual(header.slice(1));
  const nl = s.ell.length;
  expect(nl).toBe(rows.length);
  let worst = 0, worstAt = '', worstAuto = 0;
  s.pairNames.forEach((name, p) => {
    const [t, i, j] = name.split('_');
    const a = t === 'GG' || t === 'GL' ? `GG_${i}_${i}` : `LL_${i}_${i}`;
    const b = t === 'GG' ? `GG_${j}_${j}` : `LL_${j}_${j}`;
    for (let l = 0; l < nl; l++) {
      expect(Math.abs(s.ell[l] / rows[l][0] - 1)).toBeLessThan(1e-9);
      const r = rows[l][col.get(name)!];
      const norm = Math.sqrt(rows[l][col.get(a)!] * rows[l][col.get(b)!]);
      const d = Math.abs(s.C.value[p * nl + l] - r) / norm;
      if (d > worst) { worst = d; worstAt = `${name} at l = ${s.ell[l].toFixed(1)}`; }
      if (t !== 'GL' && i === j) worstAuto = Math.max(worstAuto, Math.abs(s.C.value[p * nl + l] / r - 1));
    }
  });
  return { worst, worstAt, worstAuto };
}

const store = new MemoryStore();
async function spectra(extra: { params?: string[]; sets?: string[] } = {}): Promise<Spectra> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-cl-'));
  const r = await runJob({ file: path.join(root, 'pipelines/euclid-3x2pt.json'), out, quiet: true, store, params: extra.params, sets: ['stages.cl.with.plot=false', ...(extra.sets ?? [])] });
  return r.outputs.get('cl') as Spectra;
}

describe('3x2pt C_l against CCL', () => {
  it('fiducial (Halofit, NLA IA): all 210 spectra', async () => {
    const c = compareWithReference(await spectra(), ref('fid_cl_3x2pt.tsv'));
    expect(c.worst, c.worstAt).toBeLessThan(1e-3);
    expect(c.worstAuto).toBeLessThan(1e-3);
  });
  it('without intrinsic alignments (A_IA = 0)', async () => {
    const c = compareWithReference(await spectra({ params: ['A_IA=0'] }), ref('fid_cl_3x2pt_noIA.tsv'));
    expect(c.worst, c.worstAt).toBeLessThan(1e-3);
    expect(c.worstAuto).toBeLessThan(1e-3);
  });
  it('linear P(k) everywhere', async () => {
    const c = compareWithReference(await spectra({ sets: ['stages.nonlinear.use="nonlinear-power/linear"'] }), ref('fid_cl_3x2pt_linear.tsv'));
    expect(c.worst, c.worstAt).toBeLessThan(1e-3);
    expect(c.worstAuto).toBeLessThan(1e-3);
  });
  for (const method of ['newton-cotes', 'romberg', 'gauss-legendre'])
    it(`${method} at its default setting reaches the reference`, async () => {
      const c = compareWithReference(await spectra({ sets: [`methods.integrator="${method}"`] }), ref('fid_cl_3x2pt.tsv'));
      expect(c.worst, c.worstAt).toBeLessThan(1e-3);
    });
  it('dropping the spin-2 prefactor is visible at low l (the test can fail)', async () => {
    const c = compareWithReference(await spectra({ sets: ['stages.weights.with.shearPrefactor="none"'] }), ref('fid_cl_3x2pt.tsv'));
    expect(c.worst).toBeGreaterThan(1e-2);
  });
});
