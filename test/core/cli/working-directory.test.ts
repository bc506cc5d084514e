/**
 * Issue 20, "every relative path resolves against the pipeline file's folder": one pipeline whose data files are
 * given by relative paths (an n(z) table and a P(k, z) table in ../data) run by the built CLI from three working
 * directories — the repository root, the pipeline's own folder and an unrelated temporary folder — with the
 * pipeline itself named by a path relative to each: the outputs are byte for byte the same. (npm run build first.)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

/** A project folder: pipelines/cwd.json reading ../data/nz.tsv and ../data/pk.tsv. */
function project(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-cwd-project-'));
  fs.mkdirSync(path.join(dir, 'pipelines'));
  fs.mkdirSync(path.join(dir, 'data'));
  // two tomographic bins on z = 0.01 .. 3
  const nz = ['z\tn1\tn2'];
  for (let i = 1; i <= 300; i++) {
    const z = i / 100;
    nz.push(`${z}\t${(z * z * Math.exp(-((z / 0.4) ** 1.5))).toExponential(8)}\t${(z * z * Math.exp(-(((z - 1.3) / 0.35) ** 2))).toExponential(8)}`);
  }
  fs.writeFileSync(path.join(dir, 'data/nz.tsv'), nz.join('\n') + '\n');
  // a smooth P(k, z) in Mpc units: a turnover at k0, growth (1+z)^-2
  const zs = [0, 0.5, 1, 2, 3, 4.5];
  const pk = [['k_1overMpc', ...zs.map((z) => `P_z${z}_Mpc3`)].join('\t')];
  for (let i = 0; i <= 90; i++) {
    const k = 10 ** (-5 + (9 * i) / 90), x = k / 0.015;
    pk.push([k.toExponential(8), ...zs.map((z) => ((3e4 * x) / (1 + x * x) ** 1.4 / (1 + z) ** 2).toExponential(10))].join('\t'));
  }
  fs.writeFileSync(path.join(dir, 'data/pk.tsv'), pk.join('\n') + '\n');
  const pipeline = {
    name: 'cwd-check',
    stages: {
      background: { use: 'background/w0wa', with: { z_max: 10 } },
      linear: { use: 'linear-power/grid', with: { file: '../data/pk.tsv', h_units: false } },
      nonlinear: { use: 'nonlinear-power/linear', inputs: { linear: 'linear' } },
      nz: { use: 'redshift-distribution/table', with: { file: '../data/nz.tsv', bins: 2, binEdges: [0.01, 0.9, 3] } },
      weights: { use: 'weights/3x2pt' },
      cl: { use: 'spectra/limber', with: { ell: { min: 10, max: 1000, count: 8, spacing: 'log' }, plot: false } },
    },
    outputs: { cl: 'cl.tsv', nz: 'nz.tsv' },
  };
  fs.writeFileSync(path.join(dir, 'pipelines/cwd.json'), JSON.stringify(pipeline, null, 2));
  return dir;
}

describe('one pipeline, three working directories', () => {
  it('relative data paths resolve against the pipeline folder: the same outputs from the repo root, the pipeline folder and a temp folder', () => {
    const dir = project();
    const file = path.join(dir, 'pipelines/cwd.json');
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-cwd-elsewhere-'));
    const outs: Record<string, string> = {};
    for (const [name, cwd] of [['root', root], ['pipeline folder', path.dirname(file)], ['temp folder', elsewhere]] as const) {
      const out = path.join(dir, `out-${name.replace(' ', '-')}`);
      const r = spawnSync(process.execPath, [path.join(root, 'bin/run.js'), 'run', path.relative(cwd, file) || file, '--out', out, '--quiet'], { encoding: 'utf8', cwd });
      expect(r.stderr, `from the ${name}`).toBe('');
      expect(r.status, `from the ${name}`).toBe(0);
      outs[name] = out;
    }
    expect(path.relative(path.dirname(file), file)).toBe('cwd.json'); // run there by its bare name
    const files = ['cl.tsv', 'nz.tsv'];
    const read = (out: string) => files.map((f) => fs.readFileSync(path.join(out, f), 'utf8'));
    const [a, b, c] = Object.values(outs).map(read);
    expect(a[0].split('\n').length).toBeGreaterThan(8); // a header and the 8 multipoles
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    // nothing was written into the working directories
    expect(fs.readdirSync(elsewhere)).toEqual([]);
  }, 180_000);
});
