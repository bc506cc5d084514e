/**
 * Spectra by wiring: which P(k, z) a probe family correlates through is an input of the spectra stage
 * (`with.power`), not a fixed port lookup. With the clustering family on the linear spectrum and lensing on
 * Halofit, GG must match CCL's all-linear table and LL CCL's Halofit table (both to 1e-3 of sqrt(C_ii C_jj), the
 * README's metric); the GL cross-pairs use the geometric mean of the two spectra, so they lie between the
 * all-linear and the all-Halofit values. And the likelihood is generic over families: CMB lensing joins a
 * Fisher forecast by naming its family in `probes`.
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
const store = new MemoryStore();

function readTable(file: string): { header: string[]; rows: number[][] } {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
  return { header: lines[0].split('\t').filter(Boolean), rows: lines.slice(1).map((l) => l.split('\t').filter(Boolean).map(Number)) };
}

async function run(file: string, sets: string[]) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-wiring-'));
  return runJob({ file: path.join(root, file), out, quiet: true, store, sets: ['stages.cl.with.plot=false', ...sets] });
}

describe('spectra by wiring', async () => {
  const wired = (await run('pipelines/euclid-3x2pt.json', ['stages.cl.with.power={"GC":"power_lin"}', 'stages.cl.inputs={"power_lin":"linear"}'])).outputs.get('cl') as Spectra;
  const nl = wired.ell.length;

  it('GG follows the linear input, LL the non-linear one (against CCL)', () => {
    for (const [prefix, file] of [['GG', 'fid_cl_3x2pt_linear.tsv'], ['LL', 'fid_cl_3x2pt.tsv']] as const) {
      const { header, rows } = readTable(ref(file));
      let worst = 0;
      wired.pairNames.forEach((name, p) => {
        if (!name.startsWith(prefix)) return;
        const [, i, j] = name.split('_');
        for (let l = 0; l < nl; l++) {
          const norm = Math.sqrt(rows[l][header.indexOf(`${prefix}_${i}_${i}`)] * rows[l][header.indexOf(`${prefix}_${j}_${j}`)]);
          worst = Math.max(worst, Math.abs(wired.C.value[p * nl + l] - rows[l][header.indexOf(name)]) / norm);
        }
      });
      console.log(`${prefix} on its wired spectrum vs CCL ${file}: ${worst.toExponential(2)}`);
      expect(worst, prefix).toBeLessThan(1e-3);
    }
    expect(wired.settings.power_inputs).toMatchObject({ G1: 'power_lin', L1: 'power' });
  });

  it('GL (two spectra) lies between the all-linear and all-Halofit values', () => {
    const lin = readTable(ref('fid_cl_3x2pt_linear.tsv')), nlin = readTable(ref('fid_cl_3x2pt.tsv'));
    for (const name of ['GL_3_7', 'GL_5_10']) {
      const p = wired.pairNames.indexOf(name);
      for (let l = 40; l < nl; l += 10) {
        const a = lin.rows[l][lin.header.indexOf(name)], b = nlin.rows[l][nlin.header.indexOf(name)];
        const c = wired.C.value[p * nl + l];
        expect(c, `${name} at l = ${wired.ell[l]}`).toBeGreaterThan(Math.min(a, b) * (1 - 1e-3));
        expect(c, `${name} at l = ${wired.ell[l]}`).toBeLessThan(Math.max(a, b) * (1 + 1e-3));
      }
    }
  });

  it('a power input named in with.power but not wired is an error naming it', async () => {
    await expect(run('pipelines/euclid-3x2pt.json', ['stages.cl.with.power={"GC":"power_cb"}'])).rejects.toThrow(/power_cb/);
  });
});

describe('the likelihood is generic over tracer families', () => {
  const fisher = (probes: unknown, extra: string[] = []) =>
    run('pipelines/euclid-3x2pt-fisher.json', [
      // P(k, z) to z = 10 for the CMB kernel; Halofit's non-linear scale at z ~ 6 needs k beyond the main job's 100 /Mpc
      'stages.background.with.z_max=1100', 'stages.linear.with.z={"z_max":10,"count":121}', 'stages.linear.with.k.k_max=1000', 'stages.cmb={"use":"weights/cmb-lensing"}',
      'stages.cl.inputs={"tracers":["weights","cmb"]}', 'stages.cl.with.z_beyond_power="growth"', 'stages.fisher.with.plot=false',
      `stages.fisher.with.probes=${JSON.stringify(probes)}`, ...extra,
    ]);
  it('adding CMB lensing (CMBK, l_max 2000, noise-free) tightens every cosmological error; 3x2pt alone ignores the K tracer', async () => {
    const base = (await fisher('3x2pt')).outputs.get('fisher') as { names: string[]; sigmaMarginalized: Float64Array };
    const withK = (await fisher(['WL', 'GC', 'CMBK'], ['stages.fisher.with.l_max={"WL":1500,"GC":750,"CMBK":2000}'])).outputs.get('fisher') as typeof base;
    for (const n of ['Omega_m', 'sigma8', 'w0', 'h']) {
      const i = base.names.indexOf(n);
      expect(withK.sigmaMarginalized[i], n).toBeLessThan(base.sigmaMarginalized[i]);
    }
    // with probes = 3x2pt the K tracer is computed but not used: the main job's errors, up to discretisation
    // (z nodes adapted on all tracers, K included, and a P(k, z) grid to z = 10 instead of 4): measured 1.1e-4 (b_3)
    const main = (await run('pipelines/euclid-3x2pt-fisher.json', ['stages.fisher.with.plot=false'])).outputs.get('fisher') as typeof base;
    expect(base.names).toEqual(main.names);
    base.names.forEach((n, i) => expect(Math.abs(base.sigmaMarginalized[i] / main.sigmaMarginalized[i] - 1), n).toBeLessThan(1e-3));
  });
  it('a family used without its l_max is an error naming with.l_max.CMBK', async () => {
    await expect(fisher(['WL', 'GC', 'CMBK'])).rejects.toThrow(/with\.l_max\.CMBK/);
  });
});
