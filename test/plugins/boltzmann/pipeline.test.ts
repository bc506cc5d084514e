/**
 * pipelines/linear-power.json (background -> recombination -> boltzmann) through the framework, its pk.tsv,
 * and the 3x2pt pipelines switched to the Boltzmann stage with --set (planned: the same ports and k/z keys).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { executePlan } from '../../../core/graph/execute.js';
import { applyParam, applySet } from '../../../core/graph/pipeline-file.js';
import { planPipeline } from '../../../core/graph/plan.js';
import { PluginRegistry } from '../../../core/plugin/registry.js';
import { plugins } from '../../../plugins/index.js';
import type { BoltzmannPower } from '../../../plugins/linear-power/boltzmann.js';
import { boltzmann } from '../../../plugins/linear-power/boltzmann.js';
import { parsePowerTable, powerTableAt } from '../../../plugins/contracts/power-table.js';
import { classPath, repoRoot } from './harness.js';

const registry = () => {
  const r = new PluginRegistry();
  for (const p of plugins) r.register(p, 'plugins');
  return r;
};
const readPipeline = (name: string) => JSON.parse(readFileSync(path.resolve(repoRoot, 'pipelines', name), 'utf8'));

describe('pipelines/linear-power.json', () => {
  test('runs, and pk.tsv has k_1overMpc then P_z<z>_Mpc3 per requested z, within 0.1% of CLASS up to 1 h/Mpc', async () => {
    const pipeline = readPipeline('linear-power.json');
    pipeline.stages.linear.with.threads = 1;
    const reg = registry();
    const plan = planPipeline(pipeline, reg);
    expect(plan.stages.get('linear')!.plugin.id).toBe('linear-power/boltzmann');
    const res = await executePlan(plan, reg, {});
    const out = res.outputs.get('linear') as BoltzmannPower;
    const files = await boltzmann.write!(out, 'pk.tsv', { config: plan.stages.get('linear')!.config as never, params: {} });
    const text = files['pk.tsv'] as string;
    expect(text.split('\n')[0]).toBe('k_1overMpc\tP_z0_Mpc3\tP_z0.5_Mpc3\tP_z1_Mpc3\tP_z2_Mpc3\tP_z3_Mpc3');
    const ours = parsePowerTable(text, 'pk.tsv', { h_units: 'auto' });
    const cls = parsePowerTable(readFileSync(classPath('fid', 'pk_lin.tsv'), 'utf8'), 'class', { h_units: 'auto', h: 0.67 });
    const idx = [...cls.k_1overMpc.keys()].filter((i) => cls.k_1overMpc[i] >= 0.67e-4 && cls.k_1overMpc[i] <= 0.67);
    const kq = Float64Array.from(idx, (i) => cls.k_1overMpc[i]);
    const nk = cls.k_1overMpc.length;
    for (const [j, z] of [0, 0.5, 1, 2, 3].entries()) {
      const P = powerTableAt(ours, kq, Float64Array.of(z), { extrapolate: false });
      idx.forEach((i, q) => expect(Math.abs(P[q] / cls.P_Mpc3[j * nk + i] - 1)).toBeLessThan(1e-3));
    }
  });
});

describe('pipelines/linear-power.json --param m_nu=0.06', () => {
  test('pk.tsv has P_z<z>_Mpc3 (total matter) then Pcb_z<z>_Mpc3 (CDM + baryons), each within 0.1% of CLASS mnu', { tags: ['slow'] }, async () => {
    const pipeline = readPipeline('linear-power.json');
    applyParam(pipeline, 'm_nu=0.06');
    pipeline.stages.linear.with.threads = 1;
    // output (and so, by the stage's default, modes) to 1 h/Mpc only: the test's range (the pipeline's own 10 /Mpc is slower)
    pipeline.stages.linear.with.k.k_max = 0.67;
    const reg = registry();
    const plan = planPipeline(pipeline, reg);
    const res = await executePlan(plan, reg, {});
    const out = res.outputs.get('linear') as BoltzmannPower;
    const files = await boltzmann.write!(out, 'pk.tsv', { config: plan.stages.get('linear')!.config as never, params: {} });
    const text = files['pk.tsv'] as string;
    const head = text.split('\n')[0].split('\t');
    expect(head).toEqual(['k_1overMpc', ...[0, 0.5, 1, 2, 3].map((z) => `P_z${z}_Mpc3`), ...[0, 0.5, 1, 2, 3].map((z) => `Pcb_z${z}_Mpc3`)]);
    const rows = text.trim().split('\n').slice(1).map((l) => l.split('\t').map(Number));
    const k = Float64Array.from(rows, (r) => r[0]);
    for (const [file, off] of [['pk_lin.tsv', 1], ['pk_cb_lin.tsv', 6]] as const) {
      const cls = parsePowerTable(readFileSync(classPath('mnu', file), 'utf8'), 'class', { h_units: 'auto', h: 0.67 });
      const idx = [...cls.k_1overMpc.keys()].filter((i) => cls.k_1overMpc[i] >= 0.67e-4 && cls.k_1overMpc[i] <= 0.67);
      const kq = Float64Array.from(idx, (i) => cls.k_1overMpc[i]);
      const nk = cls.k_1overMpc.length;
      for (const [j, z] of [0, 0.5, 1, 2, 3].entries()) {
        const ours = { source: 'pk.tsv', k_1overMpc: k, z: Float64Array.of(z), P_Mpc3: Float64Array.from(rows, (r) => r[off + j]) };
        const P = powerTableAt(ours, kq, Float64Array.of(z), { extrapolate: false });
        idx.forEach((i, q) => expect(Math.abs(P[q] / cls.P_Mpc3[j * nk + i] - 1)).toBeLessThan(1e-3));
      }
    }
  });
});

describe.each(['euclid-3x2pt.json', 'euclid-3x2pt-fisher.json'])('%s with --set stages.linear.use="linear-power/boltzmann"', (file) => {
  test('plans: the Boltzmann stage takes the background by port, finds no recombination, keeps the k grid', () => {
    const pipeline = readPipeline(file);
    applySet(pipeline, 'stages.linear.use="linear-power/boltzmann"');
    const plan = planPipeline(pipeline, registry());
    const st = plan.stages.get('linear')!;
    expect(st.plugin.id).toBe('linear-power/boltzmann');
    expect((st.config as { k: { k_max: number } }).k.k_max).toBe(pipeline.stages.linear.with.k.k_max);
  });
});
