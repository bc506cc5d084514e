/**
 * The scaffold of a plugin for a P(k, z) port (`linear-power`, `nonlinear-power`): a stage that takes the
 * P(k, z) grid of another stage of the same port and modifies it, written on the expression layer (no derivative
 * code), its tests (closed form, and the AD Fisher matrix of a real forecast against finite differences), and a
 * forecast pipeline (the main job with the stage spliced in after the spectrum it modifies).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PLUGIN_API_VERSION } from '../plugin/types.js';

export const POWER_PORTS = ['linear-power', 'nonlinear-power'];

/** The main job's pipeline, from the cosmodag installation this scaffold runs in. */
function mainJob(): Record<string, any> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const up of ['../..', '../../..']) {
    const f = path.resolve(here, up, 'pipelines/euclid-3x2pt-fisher.json');
    if (fs.existsSync(f)) return JSON.parse(fs.readFileSync(f, 'utf8'));
  }
  throw new Error('cannot find pipelines/euclid-3x2pt-fisher.json in the cosmodag installation');
}

/** A forecast pipeline with `id` spliced in after the P(k) it modifies; only Omega_m, sigma8 and A_mod varied. */
function forecastPipeline(name: string, id: string, port: string): Record<string, unknown> {
  const p = mainJob();
  for (const [k, v] of Object.entries(p.parameters as Record<string, { vary?: boolean }>)) if (!['Omega_m', 'sigma8'].includes(k)) v.vary = false;
  p.parameters.A_mod = { value: 0.1, vary: true, latex: 'A_{\\rm mod}' };
  p.name = `${name}-forecast`;
  p.description = `The Euclid-like 3x2pt Fisher forecast with ${id} applied to the ${port === 'linear-power' ? 'linear' : 'non-linear'} P(k); Omega_m, sigma8 and A_mod varied.`;
  p.plugins = ['./dist/src/index.js'];
  const stages = p.stages as Record<string, any>;
  const spliced: Record<string, any> = {};
  for (const [k, v] of Object.entries(stages)) {
    spliced[k] = v;
    if (k === (port === 'linear-power' ? 'linear' : 'nonlinear')) spliced.modified = { use: id, inputs: { power: k } };
  }
  if (port === 'linear-power') spliced.nonlinear.inputs = { linear: 'modified' };
  else spliced.cl.inputs = { ...(spliced.cl.inputs ?? {}), power: 'modified' };
  spliced.cl.with = { ...(spliced.cl.with ?? {}), plot: false };
  spliced.fisher.with = { ...(spliced.fisher.with ?? {}), plot: false };
  p.stages = spliced;
  p.outputs = { fisher: 'fisher.tsv' };
  return p;
}

export function powerScaffold(name: string, port: string, v: string, Cfg: string): Record<string, string> {
  const id = `${port}/${name}`;
  const files: Record<string, string> = {};
  files[`src/${name}.ts`] = `/**
 * \`${id}\`: TODO say what this stage computes, with the equation and its reference.
 *
 * As generated it modifies the P(k, z) of another \`${port}\` stage by a smooth suppression above a scale k_s,
 *
 *   P_out(k, z) = P_in(k, z) [1 - A_mod k^2 / (k^2 + k_s^2)],
 *
 * written once, as values, with cosmodag's expression layer (Expr): the tangents of every varied parameter
 * (through P_in and A_mod) and the reverse-mode product come from the same lines. Replace the lines between
 * "1." and "3." by your physics. The guide: cosmodag's docs/plugins.md.
 */
import { Expr, type DualArray, type StagePlugin } from 'cosmodag';

/** The P(k, z) grid of the ${port} port (cosmodag's plugins/contracts/power.ts). */
export interface PowerGrid {
  /** k [1/Mpc], ascending */
  readonly k_1overMpc: Float64Array;
  readonly z: Float64Array;
  /** P [Mpc^3], row-major z-by-k, with tangents */
  readonly P_Mpc3: DualArray;
  readonly source: string;
}

export interface ${Cfg}Config {
  /** Scale of the suppression [1/Mpc]. */
  k_s_1overMpc: number;
}

export const ${v}: StagePlugin<${Cfg}Config, { power: PowerGrid }, PowerGrid> = {
  apiVersion: ${PLUGIN_API_VERSION},
  id: '${id}',
  version: '0.1.0',
  port: '${port}',
  description: 'TODO: one line on what it computes',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      k_s_1overMpc: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'scale of the suppression [1/Mpc]' },
    },
  },
  inputs: { power: '${port}' },
  reads: {
    A_mod: { default: 0.1, min: 0, max: 1, description: 'TODO: amplitude of the suppression at k >> k_s' },
  },
  differentiable: 'forward',
  run(ctx) {
    const { power } = ctx.inputs;
    const e = new Expr(ctx.tangentParams.length);
    const nk = power.k_1overMpc.length, nz = power.z.length, ks2 = ctx.config.k_s_1overMpc ** 2;
    // 1. the shape k^2 / (k^2 + k_s^2) on every (z, k) of the grid (row-major z-by-k, like P)
    const shape = e.constant(Float64Array.from({ length: nz * nk }, (_, i) => {
      const k2 = power.k_1overMpc[i % nk] ** 2;
      return k2 / (k2 + ks2);
    }));
    // 2. the suppression S = 1 - A_mod shape
    const S = e.sub(e.constant(1), e.mul(e.scalar(ctx.param('A_mod')), shape));
    // 3. P_out = P_in S
    const P = e.mul(e.array(power.P_Mpc3), S);
    const out: PowerGrid = { k_1overMpc: power.k_1overMpc, z: power.z, P_Mpc3: e.toDualArray([P]), source: \`\${power.source} x ${name}\` };
    e.dispose(); // work arrays back to the pool (toDualArray copied the result)
    return out;
  },
};
`;
  files[`test/${name}.test.ts`] = `/**
 * Tests of ${id}: the closed form and its derivative on a small grid, then the AD Fisher matrix of a real
 * forecast (pipeline.json: the Euclid-like 3x2pt main job with this stage spliced in) against central finite
 * differences of the whole pipeline.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { executePlan, loadAndPlan, seed, type StageContext } from 'cosmodag';
import { ${v}, type ${Cfg}Config, type PowerGrid } from '../src/${name}.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('${id}', () => {
  it('P_out = P_in [1 - A k^2/(k^2 + k_s^2)] and d P_out / d A_mod = -P_in k^2/(k^2 + k_s^2)', async () => {
    const k = Float64Array.of(0.1, 1, 10), z = Float64Array.of(0, 1);
    const Pin = Float64Array.of(100, 50, 10, 40, 20, 4);
    const power: PowerGrid = { k_1overMpc: k, z, P_Mpc3: { value: Pin, tangent: null, P: 0 }, source: 'test' };
    const ctx = {
      stage: 'modified', config: { k_s_1overMpc: 1 }, inputs: { power }, tangentParams: ['A_mod'],
      param: () => seed(0.2, 0, 1), method: () => { throw new Error('no methods'); }, progress: () => {},
    } as unknown as StageContext<${Cfg}Config, { power: PowerGrid }>;
    const out = (await ${v}.run(ctx)) as PowerGrid;
    for (let i = 0; i < 6; i++) {
      const kk = k[i % 3] ** 2, shape = kk / (kk + 1);
      assert.ok(Math.abs(out.P_Mpc3.value[i] - Pin[i] * (1 - 0.2 * shape)) < 1e-12 * Pin[i]);
      assert.ok(Math.abs(out.P_Mpc3.tangent![i] + Pin[i] * shape) < 1e-12 * Pin[i]);
    }
  });

  it('the forecast: marginalized errors by forward AD = by finite differences (1e-3)', async () => {
    const pipeline = JSON.parse(fs.readFileSync(path.join(root, 'pipeline.json'), 'utf8'));
    const sigmas = async (differentiator: string) => {
      const { plan, registry } = await loadAndPlan({ ...pipeline, methods: { ...pipeline.methods, differentiator } }, { baseDir: root });
      const r = await executePlan(plan, registry);
      return r.outputs.get('fisher') as { names: string[]; sigmaMarginalized: Float64Array };
    };
    const ad = await sigmas('forward-ad'), fd = await sigmas('finite-difference');
    assert.deepEqual(ad.names, ['Omega_m', 'sigma8', 'A_mod']);
    ad.names.forEach((n, i) => {
      const rel = Math.abs(ad.sigmaMarginalized[i] / fd.sigmaMarginalized[i] - 1);
      console.log(\`sigma(\${n}): AD \${ad.sigmaMarginalized[i].toPrecision(6)}, FD \${fd.sigmaMarginalized[i].toPrecision(6)}, relative difference \${rel.toExponential(2)}\`);
      assert.ok(rel < 1e-3, n);
    });
  });
});
`;
  files['pipeline.json'] = JSON.stringify(forecastPipeline(name, id, port), null, 2) + '\n';
  return files;
}
