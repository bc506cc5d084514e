/**
 * pipelines/nonlinear-power.json: it plans with Halofit (default), HMcode 2020 (with and without feedback) and with
 * each linear input the docs name (Boltzmann, Eisenstein-Hu, CLASS's own table); with CLASS's table and HMcode it
 * runs, pk_nl.tsv has the columns of pk.tsv, and it reproduces CLASS's HMcode table.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { executePlan } from '../../../core/graph/execute.js';
import { applyParam, applySet } from '../../../core/graph/pipeline-file.js';
import { planPipeline } from '../../../core/graph/plan.js';
import { PluginRegistry } from '../../../core/plugin/registry.js';
import { plugins } from '../../../plugins/index.js';
import type { PowerGrid } from '../../../plugins/contracts/power.js';
import { parsePowerTable } from '../../../plugins/contracts/power-table.js';
import { hmcode2020 } from '../../../plugins/nonlinear-power/hmcode2020.js';
import { referencePath, repoRoot } from '../linear-power/harness.js';

const registry = () => {
  const r = new PluginRegistry();
  for (const p of plugins) r.register(p, 'plugins');
  return r;
};
const pipelinesDir = path.resolve(repoRoot, 'pipelines');
const readPipeline = () => JSON.parse(readFileSync(path.resolve(pipelinesDir, 'nonlinear-power.json'), 'utf8'));
const HMCODE = 'stages.nonlinear.use="nonlinear-power/hmcode2020"';
const CLASS_LINEAR = 'stages.linear={"use":"linear-power/grid","with":{"file":"../../shared/reference/class/fid/pk_lin.tsv"}}';
const EH_LINEAR = 'stages.linear={"use":"linear-power/eisenstein-hu","with":{"z":{"z_max":3,"count":31}}}';

describe('pipelines/nonlinear-power.json', () => {
  test.each([
    ['Halofit on the Boltzmann stage (as written)', [], 'nonlinear-power/halofit', 'linear-power/boltzmann'],
    ['HMcode 2020', [HMCODE], 'nonlinear-power/hmcode2020', 'linear-power/boltzmann'],
    ['HMcode 2020 with feedback', [HMCODE, 'stages.nonlinear.with.feedback=true'], 'nonlinear-power/hmcode2020', 'linear-power/boltzmann'],
    ['Halofit on Eisenstein-Hu', [EH_LINEAR], 'nonlinear-power/halofit', 'linear-power/eisenstein-hu'],
    ['HMcode 2020 on CLASS\'s linear table', [HMCODE, CLASS_LINEAR], 'nonlinear-power/hmcode2020', 'linear-power/grid'],
  ] as const)('plans: %s', (_name, sets, nonlinear, linear) => {
    const pipeline = readPipeline();
    for (const s of sets) applySet(pipeline, s);
    if (sets.includes('stages.nonlinear.with.feedback=true' as never)) applyParam(pipeline, 'log10_T_AGN=7.8');
    const plan = planPipeline(pipeline, registry(), pipelinesDir);
    expect(plan.stages.get('nonlinear')!.plugin.id).toBe(nonlinear);
    expect(plan.stages.get('linear')!.plugin.id).toBe(linear);
  });

  test('an out-of-range log10_T_AGN is refused at planning, naming the parameter and the calibrated range', () => {
    const pipeline = readPipeline();
    applySet(pipeline, HMCODE);
    applySet(pipeline, 'stages.nonlinear.with.feedback=true');
    applyParam(pipeline, 'log10_T_AGN=8.6');
    expect(() => planPipeline(pipeline, registry(), pipelinesDir)).toThrow(/log10_T_AGN.*8\.6.*calibrated range 7\.3-8\.3.*<= 8\.3/s);
  });

  test('HMcode 2020 on CLASS\'s linear table: pk_nl.tsv in the layout of pk.tsv, within 5e-3 of CLASS (measured 2.4e-4)', async () => {
    const pipeline = readPipeline();
    applySet(pipeline, HMCODE);
    applySet(pipeline, CLASS_LINEAR);
    const reg = registry();
    const plan = planPipeline(pipeline, reg, pipelinesDir);
    const res = await executePlan(plan, reg, {});
    const out = res.outputs.get('nonlinear') as PowerGrid;
    const files = await hmcode2020.write!(out, 'pk_nl.tsv', { config: plan.stages.get('nonlinear')!.config as never, params: {} });
    const text = files['pk_nl.tsv'] as string;
    expect(text.split('\n')[0]).toBe('k_1overMpc\tP_z0_Mpc3\tP_z0.5_Mpc3\tP_z1_Mpc3\tP_z2_Mpc3\tP_z3_Mpc3');
    const ours = parsePowerTable(text, 'pk_nl.tsv', { h_units: 'auto' });
    const cls = parsePowerTable(readFileSync(referencePath('class/fid/pk_nl_hmcode2020.tsv'), 'utf8'), 'class', { h_units: 'auto', h: 0.67 });
    expect(ours.k_1overMpc.length).toBe(cls.k_1overMpc.length);
    let worst = 0;
    for (let i = 0; i < cls.P_Mpc3.length; i++) {
      if (cls.k_1overMpc[i % cls.k_1overMpc.length] > 6.7) continue; // k <= 10 h/Mpc
      worst = Math.max(worst, Math.abs(ours.P_Mpc3[i] / cls.P_Mpc3[i] - 1));
    }
    expect(worst).toBeLessThan(5e-3);
    expect(worst).toBeLessThan(1e-3);
  });

  test.each([
    ['Halofit', [], 'pk_nl_halofit.tsv', 1e-3],
    ['HMcode 2020 (cold input: CLASS\'s P_cb table)', [HMCODE, 'stages.nonlinear.with.cold_input=true', 'stages.nonlinear.inputs={"linear":"linear","cold":"cold"}',
      'stages.cold={"use":"linear-power/grid","with":{"file":"../../shared/reference/class/mnu/pk_cb_lin.tsv"}}'], 'pk_nl_hmcode2020.tsv', 5e-3],
  ] as const)('mnu with --param m_nu=0.06 on CLASS\'s linear table, %s: within the issue\'s bound of CLASS (k <= 10 h/Mpc)', async (_n, sets, file, bound) => {
    const pipeline = readPipeline();
    applySet(pipeline, 'stages.linear={"use":"linear-power/grid","with":{"file":"../../shared/reference/class/mnu/pk_lin.tsv"}}');
    for (const x of sets) applySet(pipeline, x);
    applyParam(pipeline, 'm_nu=0.06');
    if (sets.length === 0) delete pipeline.parameters.n_s; // Halofit on a table reads no n_s (HMcode does)
    const reg = registry();
    const plan = planPipeline(pipeline, reg, pipelinesDir);
    const out = (await executePlan(plan, reg, {})).outputs.get('nonlinear') as PowerGrid;
    const cls = parsePowerTable(readFileSync(referencePath(`class/mnu/${file}`), 'utf8'), 'class', { h_units: 'auto', h: 0.67 });
    let worst = 0;
    for (let i = 0; i < cls.P_Mpc3.length; i++) {
      const k = cls.k_1overMpc[i % cls.k_1overMpc.length];
      if (k > 6.7 || k < 1e-4) continue; // 1e-4 /Mpc <= k <= 10 h/Mpc (CLASS's Halofit is linear below 1e-4 /Mpc)
      worst = Math.max(worst, Math.abs(out.P_Mpc3.value[i] / cls.P_Mpc3[i] - 1));
    }
    console.log(`nonlinear-power.json mnu ${_n}: worst ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(bound);
  });
});
