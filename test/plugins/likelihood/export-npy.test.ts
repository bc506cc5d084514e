/**
 * Data-vector export (.npy): the files load in numpy (when python3 with numpy is present; otherwise the header is
 * parsed here), and numpy's own linear algebra on them reproduces our likelihood: D^T Cov^-1 D (D the
 * derivatives) = the Fisher stage's matrix, and d^T Cov^-1 d (d = model - data) = likelihood/gaussian's chi2.
 * Those are independent computations of the same numbers (dense solves in LAPACK against our per-bin Cholesky
 * traces Tr[Sigma^-1 dC_a Sigma^-1 dC_b]).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runJob } from '../../../core/cli/run-job.js';
import { MemoryStore } from '../../../core/cache/store.js';
import type { FisherResult } from '../../../plugins/likelihood/gaussian-fisher.js';
import type { GaussianLikelihoodResult } from '../../../plugins/likelihood/gaussian.js';
import { npy } from '../../../plugins/likelihood/export-npy.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const file = path.join(root, 'pipelines/euclid-3x2pt-fisher.json');
const store = new MemoryStore();
const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;
// lensing only to l = 100: 37 bins x 55 pairs, a dense covariance of ~2000^2
const small = ['stages.cl.with.plot=false', 'stages.fisher.with.plot=false', 'stages.fisher.with.probes="WL"', 'stages.fisher.with.l_max={"WL":100}',
  `stages.fisher.with.fixed=${JSON.stringify(Array.from({ length: 10 }, (_, i) => `b_${i + 1}`))}`]; // lensing does not see the biases

function python(code: string): string {
  const r = spawnSync('python3', ['-c', code], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

/** The header of an .npy file, parsed here (no numpy). */
function npyHeader(buf: Buffer): { descr: string; fortran: boolean; shape: number[]; offset: number } {
  expect(Array.from(buf.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const len = buf.readUInt16LE(8);
  const h = buf.subarray(10, 10 + len).toString('latin1');
  expect((10 + len) % 64).toBe(0);
  expect(h.endsWith('\n')).toBe(true);
  const descr = /'descr': '([^']+)'/.exec(h)![1];
  const fortran = /'fortran_order': (True|False)/.exec(h)![1] === 'True';
  const shape = /'shape': \(([^)]*)\)/.exec(h)![1].split(',').map((x) => x.trim()).filter(Boolean).map(Number);
  return { descr, fortran, shape, offset: 10 + len };
}

describe('data vector export (.npy)', () => {
  it('npy(): header and values as NEP 1 describes them', () => {
    const v = Float64Array.of(1.5, -2, 3e-300, Math.PI, 0, 7);
    const buf = Buffer.from(npy(v, [2, 3]));
    const h = npyHeader(buf);
    expect(h).toMatchObject({ descr: '<f8', fortran: false, shape: [2, 3] });
    for (let i = 0; i < 6; i++) expect(buf.readDoubleLE(h.offset + 8 * i)).toBe(v[i]);
    expect(npyHeader(Buffer.from(npy(v, [6]))).shape).toEqual([6]);
    if (hasNumpy) {
      const f = path.join(os.tmpdir(), `cosmodag-npy-${process.pid}.npy`);
      fs.writeFileSync(f, buf);
      expect(python(`import numpy as np; a = np.load('${f}'); print(a.dtype, a.shape, repr(a[1, 0]), repr(a[0, 2]))`)).toBe('float64 (2, 3) np.float64(3.141592653589793) np.float64(3e-300)');
    }
  });

  it('Fisher stage: numpy D Cov^-1 D^T = fisher.tsv; blocks = dense', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-export-'));
    const r = await runJob({ file, out, quiet: true, store, sets: [...small, 'stages.fisher.with.export={"format":"npy"}'] });
    const F = r.outputs.get('fisher') as FisherResult;
    const meta = JSON.parse(fs.readFileSync(path.join(out, 'datavector.json'), 'utf8'));
    const N = meta.length, P = F.names.length;
    expect(meta.entries).toHaveLength(N);
    expect(meta.entries[0]).toMatchObject({ pair: 'LL_1_1', ell_index: 0 });
    expect(npyHeader(fs.readFileSync(path.join(out, 'covariance.npy'))).shape).toEqual([N, N]);
    expect(npyHeader(fs.readFileSync(path.join(out, 'derivatives.npy'))).shape).toEqual([P, N]);
    const outB = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-export-b-'));
    await runJob({ file, out: outB, quiet: true, store, sets: [...small, 'stages.fisher.with.export={"format":"npy","covariance":"blocks"}'] });
    if (!hasNumpy) { console.log('python3 with numpy not found: headers checked only'); return; }
    const res = python(`
import numpy as np, json
d = '${out}'
D = np.load(d + '/derivatives.npy'); C = np.load(d + '/covariance.npy'); v = np.load(d + '/datavector.npy')
F = D @ np.linalg.solve(C, D.T)
Ft = np.loadtxt(d + '/fisher.tsv', skiprows=1)
B = np.load('${outB}/covariance_blocks.npy'); sizes = json.load(open('${outB}/datavector.json'))['block_sizes']
Cb = np.zeros_like(C); o = 0
for k, n in enumerate(sizes):
    Cb[o:o+n, o:o+n] = B[k, :n, :n]; o += n
print(json.dumps({'rel': float(np.max(np.abs(F - Ft)) / np.max(np.abs(np.diag(Ft)))), 'diag': float(np.max(np.abs(np.diag(F) / np.diag(Ft) - 1))), 'blocks': float(np.max(np.abs(Cb - C))), 'n': int(v.size), 'sym': float(np.max(np.abs(C - C.T)))}))`);
    const m = JSON.parse(res);
    console.log(`numpy D Cov^-1 D^T vs fisher.tsv: max |dF| / max F_ii = ${m.rel.toExponential(2)}, diagonal ${m.diag.toExponential(2)} (N = ${m.n})`);
    expect(m.n).toBe(N);
    expect(m.rel).toBeLessThan(1e-9);
    expect(m.diag).toBeLessThan(1e-9);
    expect(m.blocks).toBe(0);
    expect(m.sym).toBe(0);
  }, 120_000);

  it('likelihood/gaussian: numpy d^T Cov^-1 d = -2 ln L against data from another cosmology', async () => {
    // the data: C_l at sigma8 = 0.83 written by a run
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-export-data-'));
    await runJob({ file, out: dataDir, quiet: true, store, params: ['sigma8=0.83'], sets: [...small] });
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-export-like-'));
    const like = { use: 'likelihood/gaussian', with: { data: path.join(dataDir, 'cl.tsv'), probes: 'WL', l_max: { WL: 100 }, export: { format: 'npy' } } };
    const r = await runJob({ file, out, quiet: true, store, sets: ['stages.cl.with.plot=false', `stages.fisher=${JSON.stringify(like)}`, 'outputs.fisher="likelihood.tsv"'] });
    const L = r.outputs.get('fisher') as GaussianLikelihoodResult;
    if (!hasNumpy) return;
    // the model at the fiducial, in the export's order, from cl.tsv of this run
    const res = python(`
import numpy as np, json
d = '${out}'
meta = json.load(open(d + '/datavector.json'))
C = np.load(d + '/covariance.npy'); data = np.load(d + '/datavector.npy')
cl = np.loadtxt(d + '/cl.tsv', skiprows=1); names = open(d + '/cl.tsv').readline().strip().split('\\t')
model = np.array([cl[e['ell_index'], names.index(e['pair'])] for e in meta['entries']])
x = model - data
print(float(x @ np.linalg.solve(C, x)))`);
    const chi2 = Number(res);
    console.log(`numpy chi2 ${chi2.toPrecision(10)} vs likelihood/gaussian ${L.chi2.toPrecision(10)}`);
    expect(L.chi2).toBeGreaterThan(1);
    expect(Math.abs(chi2 / L.chi2 - 1)).toBeLessThan(1e-6); // cl.tsv holds 11 digits
  }, 120_000);
});
