/**
 * Priors in the Fisher forecast (docs/likelihood.md, "Priors"): fisher.tsv holds the data Fisher matrix only,
 * fisher.json lists the priors, and `cosmodag fisher combine` adds data matrices and counts each prior once.
 *
 * Independent computation: the expected covariances are inverted here by plain Gauss-Jordan elimination
 * (not core/numerics/fisher-inverse.ts), from the matrix we chose: (2F)^-1 = F^-1 / 2 without priors, and
 * (2F + P)^-1 with P = diag(1/sigma^2) from the prior given once.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fisherResult } from '../../../plugins/likelihood/fisher-result.js';
import { writeFisher, sigmasTable } from '../../../plugins/likelihood/write-fisher.js';
import { combineFisher, marginalizedErrors, readFisherTsv } from '../../../core/cli/fisher-files.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

/** Inverse of a small dense matrix by Gauss-Jordan with partial pivoting (the test's own). */
function inverse(A: number[][]): number[][] {
  const n = A.length;
  const M = A.map((r, i) => [...r, ...Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[p][c])) p = r;
    [M[c], M[p]] = [M[p], M[c]];
    const d = M[c][c];
    for (let j = 0; j < 2 * n; j++) M[c][j] /= d;
    for (let r = 0; r < n; r++) if (r !== c) { const f = M[r][c]; for (let j = 0; j < 2 * n; j++) M[r][j] -= f * M[c][j]; }
  }
  return M.map((r) => r.slice(n));
}

// a symmetric positive-definite 4x4 "data" Fisher matrix over (Omega_m, w0, wa, h)
const names = ['Omega_m', 'w0', 'wa', 'h'];
const F0 = [
  [4000, -300, -80, 500],
  [-300, 90, 25, -40],
  [-80, 25, 9, -10],
  [500, -40, -10, 300],
];
const fid = [0.32, -1, 0, 0.67];
const H_PRIOR = 0.05;

async function writeRun(dir: string, prior: boolean, fixed: string[] = []) {
  const varied = names.map((n, i) => ({ name: n, value: fid[i], ...(prior && n === 'h' ? { prior_sigma: H_PRIOR } : {}) }));
  const r = fisherResult(Float64Array.from(F0.flat()), varied, fixed, { probes: '3x2pt' });
  fs.mkdirSync(dir, { recursive: true });
  const files = await writeFisher(r, 'fisher.tsv', { plot: false });
  for (const [f, data] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), data);
  return r;
}

function combineCli(args: string[]) {
  const r = spawnSync(process.execPath, [path.join(root, 'bin/run.js'), 'fisher', 'combine', ...args], { encoding: 'utf8', cwd: root, env: { ...process.env, COSMODAG_SKIP_BUILD_CHECK: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('priors in the Fisher matrix and `fisher combine`', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-fisher-combine-'));

  it('fisher.tsv is the data matrix; the prior is listed in fisher.json and enters the errors', async () => {
    const dir = path.join(tmp, 'prior');
    const r = await writeRun(dir, true);
    const back = readFisherTsv(path.join(dir, 'fisher.tsv'));
    expect(Array.from(back.F)).toEqual(F0.flat()); // no 1/sigma^2 folded in (12 digits written, integers here)
    expect(back.priors).toEqual({ h: H_PRIOR });
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'fisher.json'), 'utf8'));
    expect(json.priors).toEqual({ h: H_PRIOR });
    expect(json.fisher).toEqual(F0);
    // the run's errors are those of F + P
    const cov = inverse(F0.map((row, i) => row.map((v, j) => v + (i === j && names[i] === 'h' ? 1 / H_PRIOR ** 2 : 0))));
    names.forEach((_, i) => expect(Math.abs(r.sigmaMarginalized[i] / Math.sqrt(cov[i][i]) - 1)).toBeLessThan(1e-12));
    expect(sigmasTable(r)).toMatch(/priors \(Gaussian, added to the data Fisher matrix\): sigma\(h\) = 0\.05/);
  });

  it('a file combined with itself halves the variances exactly (no prior)', async () => {
    const dir = path.join(tmp, 'none');
    const r = await writeRun(dir, false);
    const f = path.join(dir, 'fisher.tsv');
    const sig = marginalizedErrors(combineFisher([readFisherTsv(f), readFisherTsv(f)]));
    const cov = inverse(F0);
    names.forEach((_, i) => {
      expect(Math.abs(sig[i] ** 2 / (cov[i][i] / 2) - 1)).toBeLessThan(1e-12);
      expect(Math.abs(sig[i] ** 2 / (r.sigmaMarginalized[i] ** 2 / 2) - 1)).toBeLessThan(1e-12);
    });
    // through the CLI, with its files
    const out = path.join(tmp, 'none-out');
    const c = combineCli([f, f, '--out', out]);
    expect(c.code, c.stderr).toBe(0);
    const rows = fs.readFileSync(path.join(out, 'sigmas.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'));
    rows.forEach(([n, , s], i) => { expect(n).toBe(names[i]); expect(Math.abs(Number(s) ** 2 / (cov[i][i] / 2) - 1)).toBeLessThan(1e-6); });
    expect(c.stdout).toMatch(/figure of merit \(w0, wa\): \d/);
  });

  it('with a prior given once, combine = (2F + P)^-1 (the prior is not doubled)', () => {
    const dir = path.join(tmp, 'prior');
    const f = path.join(dir, 'fisher.tsv');
    const sum = combineFisher([readFisherTsv(f), readFisherTsv(f)]);
    expect(sum.priors).toEqual({ h: H_PRIOR });
    const sig = marginalizedErrors(sum);
    const cov = inverse(F0.map((row, i) => row.map((v, j) => 2 * v + (i === j && names[i] === 'h' ? 1 / H_PRIOR ** 2 : 0))));
    const doubled = inverse(F0.map((row, i) => row.map((v, j) => 2 * v + (i === j && names[i] === 'h' ? 2 / H_PRIOR ** 2 : 0))));
    names.forEach((_, i) => expect(Math.abs(sig[i] / Math.sqrt(cov[i][i]) - 1)).toBeLessThan(1e-12));
    const ih = names.indexOf('h');
    expect(Math.abs(sig[ih] / Math.sqrt(doubled[ih][ih]) - 1)).toBeGreaterThan(1e-3); // and it would differ if doubled
    // the prior from one file and a prior-free file: the same
    const sig2 = marginalizedErrors(combineFisher([readFisherTsv(f), readFisherTsv(path.join(tmp, 'none', 'fisher.tsv'))]));
    names.forEach((_, i) => expect(Math.abs(sig2[i] / Math.sqrt(cov[i][i]) - 1)).toBeLessThan(1e-12));
    // CLI: the combined fisher.json keeps the prior apart
    const out = path.join(tmp, 'prior-out');
    const c = combineCli([f, f, '--out', out]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/priors \(counted once\): sigma\(h\) = 0\.05/);
    const j = JSON.parse(fs.readFileSync(path.join(out, 'fisher.json'), 'utf8'));
    expect(j.priors).toEqual({ h: H_PRIOR });
    expect(j.fisher).toEqual(F0.map((r) => r.map((v) => 2 * v)));
  });

  it('priors that disagree between files are refused, naming both', async () => {
    const other = path.join(tmp, 'other');
    await writeRun(other, true);
    const jf = path.join(other, 'fisher.json');
    const j = JSON.parse(fs.readFileSync(jf, 'utf8'));
    j.priors.h = 0.1;
    fs.writeFileSync(jf, JSON.stringify(j));
    expect(() => combineFisher([readFisherTsv(path.join(tmp, 'prior', 'fisher.tsv')), readFisherTsv(path.join(other, 'fisher.tsv'))]))
      .toThrow(/gives h a prior of width 0\.1, but .*prior\/fisher\.tsv gives 0\.05; a prior is counted once/);
  });

  it('a missing figure of merit says why', async () => {
    const r = await writeRun(path.join(tmp, 'fixed'), false, ['wa']);
    expect(Number.isNaN(r.fom)).toBe(true);
    expect(sigmasTable(r)).toMatch(/no figure of merit \(w0, wa\): wa is held fixed \(with\.fixed\)/);
    const j = JSON.parse(fs.readFileSync(path.join(tmp, 'fixed', 'fisher.json'), 'utf8'));
    expect(j.figure_of_merit_w0_wa).toBeNull();
    expect(j.figure_of_merit_note).toMatch(/wa is held fixed/);
    const c = combineCli([path.join(tmp, 'fixed', 'fisher.tsv')]);
    expect(c.stdout).toMatch(/no figure of merit \(w0, wa\): wa is not in the Fisher matrices/);
  });
});
