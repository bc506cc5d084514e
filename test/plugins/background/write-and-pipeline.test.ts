/**
 * background.tsv (write()) and pipelines/background.json: the file format, its values against CLASS,
 * and the pipeline planned (and run) by the framework with this plugin registered.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { cubicSpline, splineEval } from '../../../core/numerics/spline.js';
import { PluginRegistry } from '../../../core/plugin/registry.js';
import { planPipeline } from '../../../core/graph/plan.js';
import { executePlan } from '../../../core/graph/execute.js';
import { InputError } from '../../../core/schema/input-error.js';
import { integratorPlugins } from '../../../plugins/integrator/index.js';
import { type W0waConfig, w0waBackground } from '../../../plugins/background/w0wa.js';
import type { Background } from '../../../plugins/contracts/background.js';
import { CLASS_FID, configWith, readTable, referencePath, repoRoot, runBackground } from './harness.js';

const HEADER = 'z\tH_1overMpc\tchi_Mpc\tdA_Mpc\tD\tf';

function parseTsv(text: string): { head: string; rows: number[][]; raw: string[][] } {
  const lines = text.trimEnd().split('\n');
  const raw = lines.slice(1).map((l) => l.split('\t'));
  return { head: lines[0], rows: raw.map((r) => r.map(Number)), raw };
}

/** CLASS column as a spline in ln(1+z) (CLASS rows are uniform in ln a, d ln a = 0.0024). */
function classSpline(name: string, column: string) {
  const t = readTable(referencePath('class', name, 'background.tsv'));
  const keep = [...t['z'].keys()].filter((i) => t['z'][i] <= 10.5);
  const s = Float64Array.from(keep, (i) => Math.log1p(t['z'][i]));
  const y = Float64Array.from(keep, (i) => t[column][i]);
  const sp = cubicSpline(s, y);
  return (z: number) => splineEval(sp, Math.log1p(z));
}

async function writeFile(bg: Background, config: W0waConfig) {
  const files = await w0waBackground.write!(bg, 'background.tsv', { config, params: CLASS_FID });
  expect(Object.keys(files)).toEqual(['background.tsv']);
  return files['background.tsv'] as string;
}

describe('write(): background.tsv', () => {
  test('header, default output grid z = 0..10 (101 rows), %.10e values, agreement with CLASS fid', async () => {
    const text = await writeFile(runBackground({ params: CLASS_FID }), configWith());
    const { head, rows, raw } = parseTsv(text);
    expect(head).toBe(HEADER);
    expect(rows).toHaveLength(101);
    for (const r of raw) for (const cell of r) expect(cell).toMatch(/^-?\d\.\d{10}e[+-]\d{2,3}$/);
    rows.forEach((r, i) => expect(r[0]).toBeCloseTo(i / 10, 12));
    expect(raw[0][1]).toBe('2.2348794378e-04'); // H0 = 0.67/2997.92458 (CLASS derived.tsv)
    const H = classSpline('fid', 'H[1/Mpc]');
    const chi = classSpline('fid', 'comov_dist[Mpc]');
    const dA = classSpline('fid', 'ang_diam_dist[Mpc]');
    const D = classSpline('fid', 'growth_D[norm D(z=0)=1]');
    const f = classSpline('fid', 'growth_f[dlnD/dlna]');
    for (const [z, h, c, a, d, g] of rows) {
      expect(Math.abs(h / H(z) - 1)).toBeLessThan(1e-7);
      if (z > 0) expect(Math.abs(c / chi(z) - 1)).toBeLessThan(1e-7);
      if (z > 0) expect(Math.abs(a / dA(z) - 1)).toBeLessThan(1e-7);
      expect(Math.abs(d / D(z) - 1)).toBeLessThan(1e-7);
      expect(Math.abs(g / f(z) - 1)).toBeLessThan(1e-7);
    }
  });

  test('output_z as a list and as a log1p range; curved d_A = d_M/(1+z)', async () => {
    const params = { ...CLASS_FID, Omega_k: 0.05 };
    const bg = runBackground({ params });
    const list = parseTsv(await writeFile(bg, configWith({ output_z: [0.5, 1, 3] }))).rows;
    expect(list.map((r) => r[0])).toEqual([0.5, 1, 3]);
    // open: d_A = sinh(sqrt(Omega_k) H0 chi) / (sqrt(Omega_k) H0 (1+z)), above chi/(1+z)
    const k = Math.sqrt(0.05) * bg.H0_1overMpc.v;
    for (const [z, , chi, dA] of list) {
      expect(Math.abs(dA / (Math.sinh(k * chi) / (k * (1 + z))) - 1)).toBeLessThan(1e-9);
      expect(dA / (chi / (1 + z)) - 1).toBeGreaterThan(1e-4);
    }
    const log = parseTsv(await writeFile(bg, configWith({ output_z: { min: 0, max: 9, count: 4, spacing: 'log1p' } }))).rows;
    expect(log.map((r) => r[0])).toEqual([0, Math.expm1(Math.log(10) / 3), Math.expm1((2 * Math.log(10)) / 3), 9].map((z) => Number(z.toExponential(10))));
  });
});

describe('pipelines/background.json', () => {
  const pipeline = JSON.parse(readFileSync(path.resolve(repoRoot, 'pipelines/background.json'), 'utf8'));
  const registry = () => {
    const r = new PluginRegistry();
    for (const p of integratorPlugins) r.register(p, 'plugins/integrator');
    r.register(w0waBackground, 'plugins/background/w0wa.ts');
    return r;
  };

  test('its parameters are the CLASS fid cosmology and it plans cleanly', () => {
    for (const [k, v] of Object.entries(CLASS_FID)) expect(pipeline.parameters[k].value).toBe(v);
    const plan = planPipeline(pipeline, registry());
    expect(plan.stages.get('background')!.plugin.id).toBe('background/w0wa');
    expect(plan.stages.get('background')!.config).toEqual(configWith(pipeline.stages.background.with));
  });

  test('the planner reports impossible parameters by path', () => {
    const bad = structuredClone(pipeline);
    bad.parameters.h.value = 0;
    expect(() => planPipeline(bad, registry())).toThrow(InputError);
    try {
      planPipeline(bad, registry());
    } catch (e) {
      expect((e as InputError).issues.map((i) => i.path)).toContain('parameters.h.value');
    }
    const bad2 = structuredClone(pipeline);
    bad2.parameters.Omega_b.value = 0.4;
    try {
      planPipeline(bad2, registry());
      expect.unreachable();
    } catch (e) {
      expect((e as InputError).issues.map((i) => i.path)).toContain('parameters.Omega_b');
    }
  });

  test('runs through the framework and writes what run() + write() give directly', async () => {
    const reg = registry();
    const plan = planPipeline(pipeline, reg);
    const res = await executePlan(plan, reg, { tangents: ['Omega_m'] });
    const bg = res.outputs.get('background') as Background;
    expect(bg.chi_Mpc.P).toBe(1);
    const viaFramework = await writeFile(bg, plan.stages.get('background')!.config as unknown as W0waConfig);
    const direct = await writeFile(runBackground({ params: CLASS_FID }), configWith(pipeline.stages.background.with));
    expect(viaFramework).toBe(direct);
  });
});
