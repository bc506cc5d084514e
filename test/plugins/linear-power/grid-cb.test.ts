/**
 * `linear-power/grid` with the CDM + baryon spectrum (massive neutrinos, issue 17): the `Pcb_z<z>_Mpc3` columns of
 * our own pk.tsv, or CLASS's pk_cb_lin.tsv as `with.cb_file` beside pk_lin.tsv; `with.matter` chooses which one the
 * stage outputs (the downstream stages take P_cb by wiring: HMcode's `cold` input, Halofit's `matter: "cb"`).
 *
 * - round trip: the pk.tsv that pipelines/linear-power.json writes with --param m_nu=0.06 (on a small grid here) read
 *   back gives the values the Boltzmann stage produced in the same test, P and P_cb, and writes the same file again;
 * - CLASS mnu pk_lin.tsv + pk_cb_lin.tsv through one grid pair into HMcode 2020 (cold input) and Halofit (cb) against
 *   CLASS's pk_nl_hmcode2020.tsv and pk_cb_nl_halofit.tsv;
 * - bad input: errors (and plan problems, i.e. `cosmodag validate`) naming with.file, with.cb_file or with.matter.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { executePlan } from '../../../core/graph/execute.js';
import { applyParam, applySet } from '../../../core/graph/pipeline-file.js';
import { planPipeline } from '../../../core/graph/plan.js';
import { PluginRegistry } from '../../../core/plugin/registry.js';
import { plugins } from '../../../plugins/index.js';
import type { PowerGrid } from '../../../plugins/contracts/power.js';
import { parsePowerTable, readGridTables } from '../../../plugins/contracts/power-table.js';
import { type BoltzmannPower, boltzmann } from '../../../plugins/linear-power/boltzmann.js';
import { linearPowerGrid } from '../../../plugins/linear-power/grid.js';
import { configOf, fakeContext, referencePath, repoRoot } from './harness.js';

const H = 0.67;
const registry = () => {
  const r = new PluginRegistry();
  for (const p of plugins) r.register(p, 'plugins');
  return r;
};
const pipelinesDir = path.resolve(repoRoot, 'pipelines');
const readPipeline = (name: string) => JSON.parse(readFileSync(path.resolve(pipelinesDir, name), 'utf8'));
const MNU_LIN = referencePath('class/mnu/pk_lin.tsv');
const MNU_CB = referencePath('class/mnu/pk_cb_lin.tsv');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'grid-cb-'));
const runGrid = (w: Record<string, unknown>, h = H) => linearPowerGrid.run(fakeContext(linearPowerGrid, { params: { h }, with: w })) as PowerGrid;

describe('Pcb_z<z>_Mpc3 columns', () => {
  const head = 'k_1overMpc\tP_z0_Mpc3\tP_z1_Mpc3\tPcb_z0_Mpc3\tPcb_z1_Mpc3';
  const rows = ['0.001\t1000\t400\t1001\t401', '0.01\t5000\t2000\t5010\t2010', '0.1\t2000\t800\t2050\t820', '1\t50\t20\t53\t21'];
  const parse = (lines: string[]) => parsePowerTable(lines.join('\n'), 'cb.tsv', { h_units: 'auto' });

  test('are read beside the P columns (any order), at the same z', () => {
    const t = parse(['k_1overMpc\tPcb_z1_Mpc3\tP_z0_Mpc3\tPcb_z0_Mpc3\tP_z1_Mpc3', ...rows.map((r) => {
      const f = r.split('\t');
      return [f[0], f[4], f[1], f[3], f[2]].join('\t');
    })]);
    expect(Array.from(t.z)).toEqual([0, 1]);
    expect(Array.from(t.P_Mpc3)).toEqual([1000, 5000, 2000, 50, 400, 2000, 800, 20]);
    expect(Array.from(t.Pcb_Mpc3!)).toEqual([1001, 5010, 2050, 53, 401, 2010, 820, 21]);
  });

  test('P_cb at other redshifts than P, or P_cb without P, is an error naming the columns', () => {
    expect(() => parse(['k_1overMpc\tP_z0_Mpc3\tP_z1_Mpc3\tPcb_z0_Mpc3\tPcb_z2_Mpc3', ...rows])).toThrow(
      /cb\.tsv:1: the Pcb columns are at z = \[0, 2\] but the P columns at z = \[0, 1\]; P_cb must be given at the same redshifts as P/,
    );
    expect(() => parse(['k_1overMpc\tPcb_z0_Mpc3', ...rows.map((r) => r.split('\t').slice(0, 2).join('\t'))])).toThrow(
      /cb\.tsv:1: the header has Pcb .* but no P \(total matter\) column/,
    );
    expect(() => parse([head.replace('Pcb_z1', 'Pcb_z0'), ...rows])).toThrow(/two columns \('Pcb_z0_Mpc3', 'Pcb_z0_Mpc3'\) have the same z = 0/);
  });

  test('the grid stage: matter "total" carries P_cb along and writes it back; "cb" outputs P_cb', async () => {
    const file = path.join(tmp(), 'pk.tsv');
    writeFileSync(file, [head, ...rows].join('\n') + '\n');
    const tot = runGrid({ file });
    expect(Array.from(tot.P_Mpc3.value)).toEqual([1000, 5000, 2000, 50, 400, 2000, 800, 20]);
    expect(Array.from(tot.P_cb_Mpc3!.value)).toEqual([1001, 5010, 2050, 53, 401, 2010, 820, 21]);
    const text = (await linearPowerGrid.write!(tot, 'pk.tsv', { config: configOf(linearPowerGrid, { file }), params: {} }))['pk.tsv'] as string;
    expect(text.split('\n')[0]).toBe(head);
    const cb = runGrid({ file, matter: 'cb' });
    expect(Array.from(cb.P_Mpc3.value)).toEqual([1001, 5010, 2050, 53, 401, 2010, 820, 21]);
    expect(cb.P_cb_Mpc3).toBeUndefined();
    expect(cb.source).toMatch(/\(cb\)$/);
    // a resampled grid interpolates P_cb exactly as P (same table machinery)
    const r = runGrid({ file, k: { k_min: 0.002, k_max: 0.5, per_decade: 10 } });
    const rc = runGrid({ file, matter: 'cb', k: { k_min: 0.002, k_max: 0.5, per_decade: 10 } });
    expect(Array.from(r.P_cb_Mpc3!.value)).toEqual(Array.from(rc.P_Mpc3.value));
  });
});

describe('round trip of the pk.tsv of pipelines/linear-power.json --param m_nu=0.06', () => {
  test('P and P_cb read back equal what the Boltzmann stage produced; the grid stage writes the same pk.tsv', async () => {
    const pipeline = readPipeline('linear-power.json');
    applyParam(pipeline, 'm_nu=0.06');
    // a small grid (the test's cost): output z at grid nodes, few coarse modes
    applySet(pipeline, 'stages.linear.with.k={"k_min":0.001,"k_max":0.3,"per_decade":10}');
    applySet(pipeline, 'stages.linear.with.z={"z_max":3,"count":7,"spacing":"linear"}');
    applySet(pipeline, 'stages.linear.with.transfer={"per_decade":6,"bao":{"step":0}}');
    applySet(pipeline, 'stages.linear.with.threads=1');
    const reg = registry();
    const plan = planPipeline(pipeline, reg, pipelinesDir);
    const out = (await executePlan(plan, reg, {})).outputs.get('linear') as BoltzmannPower;
    expect(out.P_cb_Mpc3).toBeDefined();
    const files = await boltzmann.write!(out, 'pk.tsv', { config: plan.stages.get('linear')!.config as never, params: {} });
    const text = files['pk.tsv'] as string;
    const dir = tmp();
    const file = path.join(dir, 'pk.tsv');
    writeFileSync(file, text);

    const zs = [0, 0.5, 1, 2, 3];
    const nk = out.k_1overMpc.length;
    const rowOf = (z: number) => Array.from(out.z).findIndex((v) => Math.abs(v - z) < 1e-12);
    const check = (g: PowerGrid, P: Float64Array) => {
      expect(Array.from(g.z)).toEqual(zs);
      expect(g.k_1overMpc.length).toBe(nk);
      let worst = 0;
      zs.forEach((z, j) => {
        const r = rowOf(z);
        expect(r).toBeGreaterThanOrEqual(0);
        for (let i = 0; i < nk; i++) {
          expect(Math.abs(g.k_1overMpc[i] / out.k_1overMpc[i] - 1)).toBeLessThan(1e-10);
          worst = Math.max(worst, Math.abs(g.P_Mpc3.value[j * nk + i] / P[r * nk + i] - 1));
        }
      });
      expect(worst).toBeLessThan(1e-10); // 11 significant digits in the file
    };
    const tot = runGrid({ file });
    check(tot, out.P_Mpc3.value);
    check({ ...tot, P_Mpc3: tot.P_cb_Mpc3! }, out.P_cb_Mpc3!.value);
    check(runGrid({ file, matter: 'cb' }), out.P_cb_Mpc3!.value);
    // P_cb differs from P (the neutrinos' suppression), so the columns were not mixed up
    expect(Math.abs(tot.P_cb_Mpc3!.value[nk - 1] / tot.P_Mpc3.value[nk - 1] - 1)).toBeGreaterThan(1e-3);
    // and the grid stage writes the same file back (a pipeline reading pk.tsv and writing it again)
    const again = await linearPowerGrid.write!(tot, 'pk.tsv', { config: configOf(linearPowerGrid, { file }), params: {} });
    expect(again['pk.tsv']).toBe(text);
  });
});

describe('CLASS mnu: pk_lin.tsv with cb_file pk_cb_lin.tsv into the non-linear stages', () => {
  // one table pair, two grid stages (total and cb) wired as the non-linear stages choose their spectrum
  const LIN = `{"use":"linear-power/grid","with":{"file":"../../shared/reference/class/mnu/pk_lin.tsv","cb_file":"../../shared/reference/class/mnu/pk_cb_lin.tsv"}}`;
  const COLD = `{"use":"linear-power/grid","with":{"file":"../../shared/reference/class/mnu/pk_lin.tsv","cb_file":"../../shared/reference/class/mnu/pk_cb_lin.tsv","matter":"cb"}}`;
  const cases = [
    ['HMcode 2020 (total, cold input)', 'pk_nl_hmcode2020.tsv', 1e-3, ['stages.nonlinear.use="nonlinear-power/hmcode2020"',
      'stages.nonlinear.with.cold_input=true', 'stages.nonlinear.inputs={"linear":"linear","cold":"cold"}']],
    ['HMcode 2020 on P_cb (the cold grid as linear and cold input, CLASS\'s convention)', 'pk_cb_nl_hmcode2020.tsv', 1e-3, [
      'stages.nonlinear.use="nonlinear-power/hmcode2020"', 'stages.nonlinear.with.cold_input=true', 'stages.nonlinear.inputs={"linear":"cold","cold":"cold"}']],
    ['Halofit on P_cb (matter "cb")', 'pk_cb_nl_halofit.tsv', 1e-4, ['stages.nonlinear.inputs={"linear":"cold"}', 'stages.nonlinear.with.matter="cb"']],
    ['Halofit on P_m (Bird et al. terms)', 'pk_nl_halofit.tsv', 1e-4, []],
  ] as const;
  test.each(cases)('%s vs CLASS %s (bound %s), 1e-4 /Mpc <= k <= 10 h/Mpc, z <= 3', async (name, file, bound, sets) => {
    const pipeline = readPipeline('nonlinear-power.json');
    applySet(pipeline, `stages.linear=${LIN}`);
    applySet(pipeline, `stages.cold=${COLD}`);
    for (const s of sets) applySet(pipeline, s);
    applyParam(pipeline, 'm_nu=0.06');
    if (!name.startsWith('HMcode')) delete pipeline.parameters.n_s; // Halofit on a table reads no n_s
    const reg = registry();
    const plan = planPipeline(pipeline, reg, pipelinesDir);
    const out = (await executePlan(plan, reg, {})).outputs.get('nonlinear') as PowerGrid;
    const cls = parsePowerTable(readFileSync(referencePath(`class/mnu/${file}`), 'utf8'), 'class', { h_units: 'auto', h: H });
    expect(out.k_1overMpc.length).toBe(cls.k_1overMpc.length);
    let worst = 0;
    for (let i = 0; i < cls.P_Mpc3.length; i++) {
      const k = cls.k_1overMpc[i % cls.k_1overMpc.length];
      if (k > 10 * H || k < 1e-4) continue; // CLASS's Halofit is P_lin below 1e-4 /Mpc
      worst = Math.max(worst, Math.abs(out.P_Mpc3.value[i] / cls.P_Mpc3[i] - 1));
    }
    console.log(`grid with cb_file, ${name} vs ${file}: worst ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(bound);
  });
});

describe('bad input names the config path and what is allowed', () => {
  const fid = referencePath('class/fid/pk_lin.tsv');

  test('tables that do not share k or z, P_cb given twice, matter "cb" without P_cb', () => {
    const dir = tmp();
    const base = readGridTables({ file: MNU_LIN, cb_file: MNU_CB, h_units: 'auto', extrapolate: false, k: 'native', z: 'native' }, dir, H);
    expect(base.cb!.P_Mpc3.length).toBe(base.total.P_Mpc3.length);
    // CLASS's k grid depends (slightly) on the cosmology: fid's rows are not mnu's
    expect(() => runGrid({ file: MNU_LIN, cb_file: fid })).toThrow(/^with\.cb_file: k row \d+ is [\d.e-]+ 1\/Mpc .* but [\d.e-]+ 1\/Mpc in with\.file .*must share their k rows/);
    // a table with fewer redshifts
    const lines = readFileSync(MNU_CB, 'utf8').trim().split('\n').map((l) => l.split('\t').slice(0, 4).join('\t'));
    const fewer = path.join(dir, 'pk_cb_3z.tsv');
    writeFileSync(fewer, lines.join('\n') + '\n');
    expect(() => runGrid({ file: MNU_LIN, cb_file: fewer })).toThrow(/^with\.cb_file: its redshifts \[0, 0\.5, 1\] .* differ from with\.file's \[0, 0\.5, 1, 2, 3\]/);
    const rowsShort = path.join(dir, 'pk_cb_short.tsv');
    writeFileSync(rowsShort, readFileSync(MNU_CB, 'utf8').trim().split('\n').slice(0, 100).join('\n') + '\n');
    expect(() => runGrid({ file: MNU_LIN, cb_file: rowsShort })).toThrow(/^with\.cb_file: 99 k rows .* against 299 in with\.file/);
    // P_cb twice: a pk.tsv with Pcb columns and a cb_file
    const ours = path.join(dir, 'pk.tsv');
    writeFileSync(ours, 'k_1overMpc\tP_z0_Mpc3\tPcb_z0_Mpc3\n0.001\t1\t1\n0.01\t2\t2\n0.1\t3\t3\n1\t1\t1\n');
    expect(() => runGrid({ file: ours, cb_file: MNU_CB })).toThrow(/^with\.cb_file: .*pk\.tsv \(with\.file\) already has Pcb_z<z>_Mpc3 columns/);
    expect(() => runGrid({ file: MNU_LIN, cb_file: ours })).toThrow(/^with\.cb_file: .*pk\.tsv has Pcb_z<z>_Mpc3 columns; with\.cb_file must be a table whose P columns/);
    expect(() => runGrid({ file: MNU_LIN, matter: 'cb' })).toThrow(/^with\.matter: 'cb' needs the CDM \+ baryon spectrum.*allowed: 'total', 'cb'/);
    expect(() => runGrid({ file: MNU_LIN, cb_file: path.join(dir, 'missing.tsv') })).toThrow(/^with\.cb_file: cannot read the P\(k, z\) table/);
    expect(() => runGrid({ file: MNU_LIN, matter: 'both' })).toThrow(/matter/);
  });

  test('planning (cosmodag validate) reports mismatched tables before compute, naming the stage path', () => {
    const readPipeline = (name: string) => {
      const p = JSON.parse(readFileSync(path.resolve(pipelinesDir, name), 'utf8'));
      delete p.parameters.n_s; // Halofit on a table reads no n_s
      return p;
    };
    const pipeline = readPipeline('nonlinear-power.json');
    applySet(pipeline, 'stages.linear={"use":"linear-power/grid","with":{"file":"../../shared/reference/class/mnu/pk_lin.tsv","cb_file":"../../shared/reference/class/fid/pk_lin.tsv"}}');
    expect(() => planPipeline(pipeline, registry(), pipelinesDir)).toThrow(/stages\.linear\.with\.cb_file: k row \d+ is .* must share their k rows/);
    const p2 = readPipeline('nonlinear-power.json');
    applySet(p2, 'stages.linear={"use":"linear-power/grid","with":{"file":"../../shared/reference/class/mnu/pk_lin.tsv","matter":"cb"}}');
    expect(() => planPipeline(p2, registry(), pipelinesDir)).toThrow(/stages\.linear\.with\.matter: 'cb' needs the CDM \+ baryon spectrum/);
    const p3 = readPipeline('nonlinear-power.json');
    applySet(p3, 'stages.linear={"use":"linear-power/grid","with":{"file":"../../shared/reference/class/mnu/pk_lin.tsv","matter":"cold"}}');
    expect(() => planPipeline(p3, registry(), pipelinesDir)).toThrow(/stages\.linear\.with\.matter.*(total|allowed)/s);
  });
});
