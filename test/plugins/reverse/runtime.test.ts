/**
 * The reverse-mode runtime (core/graph/reverse.ts) and its plumbing:
 *  - on toy stages with a diamond (an output read twice, directly and through another stage): the pulled-back
 *    gradient against the closed form and forward AD; a stage without vjp is differentiated in forward mode at
 *    its boundary with the same result;
 *  - on the main job: a black-box stage (differentiable: 'none') inside a reverse run; the Fisher stage (which
 *    needs whole Jacobians) under differentiator/reverse-adjoint; `cosmodag run` writing gradient.tsv;
 *  - the tests can fail: a vjp that forgets one factor (the spin-2 prefactor) is caught by the dot-product test.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Dual } from '../../../core/ad/dual.js';
import type { DualArray } from '../../../core/ad/dual-array.js';
import { MemoryStore } from '../../../core/cache/store.js';
import { runJob } from '../../../core/cli/run-job.js';
import { executePlan } from '../../../core/graph/execute.js';
import { planPipeline } from '../../../core/graph/plan.js';
import { pullback } from '../../../core/graph/reverse.js';
import { PluginRegistry } from '../../../core/plugin/registry.js';
import { PLUGIN_API_VERSION, type StagePlugin } from '../../../core/plugin/types.js';
import type { FisherResult } from '../../../plugins/likelihood/gaussian-fisher.js';
import type { GaussianLikelihoodResult } from '../../../plugins/likelihood/gaussian.js';
import { limber, limberVjp } from '../../../plugins/spectra/limber.js';
import type { Integrator } from '../../../core/numerics/integrator.js';
import { SHIFTED, fiducialData, likelihoodPipeline, noPlot, preparePipeline, root, variedSets, vjpDotTest } from './harness.js';
import type { TracerSet } from '../../../plugins/contracts/tracers.js';

// ---------------------------------------------------------------------------------------------------------
// toy stages: y = (a, a b, b^2);  z = c y^2;  w = y + z  (y reaches w directly and through z)

type Vec = { y: DualArray };
const arr = (xs: Dual[]): DualArray => {
  const P = xs.reduce((p, x) => (x.d ? x.d.length : p), 0);
  const value = Float64Array.from(xs, (x) => x.v);
  const tangent = P ? new Float64Array(P * xs.length) : null;
  if (tangent) xs.forEach((x, i) => { for (let p = 0; p < P; p++) tangent[p * xs.length + i] = x.d ? x.d[p] : 0; });
  return { value, tangent, P };
};
const toyBase = { apiVersion: PLUGIN_API_VERSION, version: '1.0.0', configSchema: { type: 'object', properties: {} }, differentiable: 'forward' as const };

const src: StagePlugin<{}, {}, Vec> = {
  ...toyBase, id: 'toy-vec/src', port: 'toy-vec', description: 'y = (a, a b, b^2)', inputs: {},
  reads: { a: { default: 2, description: 'a' }, b: { default: 3, description: 'b' } },
  run(ctx) {
    const a = ctx.param('a'), b = ctx.param('b');
    const P = ctx.tangentParams.length;
    const mul = (x: Dual, y: Dual): Dual => ({ v: x.v * y.v, d: P ? Float64Array.from({ length: P }, (_, p) => (x.d ? x.d[p] : 0) * y.v + x.v * (y.d ? y.d[p] : 0)) : null });
    return { y: arr([a, mul(a, b), mul(b, b)]) };
  },
  vjp(ctx, bar) {
    const yb = (bar as { y: Float64Array }).y, a = ctx.param('a').v, b = ctx.param('b').v;
    return { params: { a: yb[0] + yb[1] * b, b: yb[1] * a + 2 * b * yb[2] } };
  },
};

const square = (withVjp: boolean): StagePlugin<{}, { y: Vec }, { z: DualArray }> => ({
  ...toyBase, id: withVjp ? 'toy-sq/with-vjp' : 'toy-sq/forward-only', port: 'toy-sq', description: 'z = c y^2', inputs: { y: 'toy-vec' },
  reads: { c: { default: 0.5, description: 'c' } },
  run(ctx) {
    const { y } = ctx.inputs.y, c = ctx.param('c');
    const n = y.value.length, P = ctx.tangentParams.length;
    const value = Float64Array.from(y.value, (v) => c.v * v * v);
    const tangent = P ? new Float64Array(P * n) : null;
    if (tangent) for (let p = 0; p < P; p++) for (let i = 0; i < n; i++)
      tangent[p * n + i] = 2 * c.v * y.value[i] * (y.tangent ? y.tangent[p * n + i] : 0) + (c.d ? c.d[p] : 0) * y.value[i] * y.value[i];
    return { z: { value, tangent, P: tangent ? P : 0 } };
  },
  ...(withVjp ? {
    vjp(ctx: any, bar: any) {
      const zb = bar.z as Float64Array, y = ctx.inputs.y.y.value as Float64Array, c = ctx.param('c').v;
      return { inputs: { y: { y: Float64Array.from(y, (v, i) => 2 * c * v * zb[i]) } }, params: { c: y.reduce((s, v, i) => s + v * v * zb[i], 0) } };
    },
  } : {}),
});

const sum: StagePlugin<{}, { y: Vec; z: { z: DualArray } }, { w: DualArray }> = {
  ...toyBase, id: 'toy-lin/sum', port: 'toy-lin', description: 'w = y + z', inputs: { y: 'toy-vec', z: 'toy-sq' }, reads: {},
  run(ctx) {
    const y = ctx.inputs.y.y, z = ctx.inputs.z.z;
    const value = Float64Array.from(y.value, (v, i) => v + z.value[i]);
    const P = ctx.tangentParams.length;
    const tangent = P ? Float64Array.from({ length: P * value.length }, (_, j) => (y.tangent ? y.tangent[j] : 0) + (z.tangent ? z.tangent[j] : 0)) : null;
    return { w: { value, tangent, P: tangent ? P : 0 } };
  },
  vjp(_ctx, bar) {
    const wb = (bar as { w: Float64Array }).w;
    return { inputs: { y: { y: wb }, z: { z: wb } } };
  },
};

function toyPlan(withVjp: boolean) {
  const registry = new PluginRegistry();
  for (const p of [src, square(withVjp), sum]) registry.register(p, 'test');
  const plan = planPipeline({
    name: 'toy-reverse',
    parameters: { a: { value: 2, vary: true }, b: { value: 3, vary: true }, c: { value: 0.5, vary: true } },
    stages: { src: { use: 'toy-vec/src' }, sq: { use: withVjp ? 'toy-sq/with-vjp' : 'toy-sq/forward-only' }, sum: { use: 'toy-lin/sum' } },
  }, registry);
  return { plan, registry };
}

describe('reverse runtime on toy stages', () => {
  const omega = Float64Array.of(0.7, -1.3, 0.4);
  // w_i = y_i + c y_i^2: d(omega . w)/dtheta = sum_i omega_i (1 + 2 c y_i) dy_i/dtheta, + sum_i omega_i y_i^2 for c
  const a = 2, b = 3, c = 0.5;
  const y = [a, a * b, b * b];
  const g = (i: number) => omega[i] * (1 + 2 * c * y[i]);
  const exact = [g(0) + g(1) * b, g(1) * a + g(2) * 2 * b, y.reduce((s, v, i) => s + omega[i] * v * v, 0)];

  for (const withVjp of [true, false]) {
    it(`diamond graph, ${withVjp ? 'every stage with a vjp' : 'one stage without vjp (forward mode at its boundary)'}`, async () => {
      const { plan, registry } = toyPlan(withVjp);
      const store = new MemoryStore();
      const r = await pullback(plan, registry, 'sum', { w: omega }, { store });
      expect(r.wrt).toEqual(['a', 'b', 'c']);
      r.gradient.forEach((x, i) => expect(Math.abs(x - exact[i])).toBeLessThan(1e-12 * Math.abs(exact[i])));
      expect(r.stats.forwardBoundary).toEqual(withVjp ? [] : ['sq']);
      // forward AD through the same graph
      const fwd = (await executePlan(plan, registry, { tangents: ['a', 'b', 'c'], store, targets: ['sum'] })).outputs.get('sum') as { w: DualArray };
      for (let p = 0; p < 3; p++) {
        let t = 0;
        for (let i = 0; i < 3; i++) t += omega[i] * fwd.w.tangent![p * 3 + i];
        expect(Math.abs(t - r.gradient[p])).toBeLessThan(1e-12 * Math.abs(t));
      }
    });
  }

  it('a vjp returning a bar for a parameter it does not read is an error naming the stage', async () => {
    const bad = { ...src, id: 'toy-vec/bad', vjp: () => ({ params: { c: 1 } }) };
    const registry = new PluginRegistry();
    for (const p of [bad, square(true), sum]) registry.register(p, 'test');
    const plan = planPipeline({
      name: 'bad', parameters: { a: { value: 2, vary: true } },
      stages: { src: { use: 'toy-vec/bad' }, sq: { use: 'toy-sq/with-vjp' }, sum: { use: 'toy-lin/sum' } },
    }, registry);
    await expect(pullback(plan, registry, 'sum', { w: omega })).rejects.toThrow(/stage "src" \(toy-vec\/bad\): vjp returned a bar for parameter "c", which it does not read/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// the main job

describe('reverse mode on the main job', () => {
  let data: string;
  beforeAll(async () => { data = await fiducialData(); });

  it('cosmodag run writes gradient.tsv and likelihood.json (the reverse-mode gradient)', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-like-'));
    const r = await runJob({ file: likelihoodPipeline, out, params: SHIFTED, sets: [...noPlot, `stages.like.with.data=${JSON.stringify(data)}`], quiet: true });
    const res = r.outputs.get('like') as GaussianLikelihoodResult;
    const tsv = fs.readFileSync(path.join(out, 'gradient.tsv'), 'utf8').trim().split('\n');
    expect(tsv[0]).toBe('parameter\tvalue\tdlnL_dparameter');
    expect(tsv.length - 1).toBe(19);
    tsv.slice(1).forEach((line, i) => {
      const [name, , g] = line.split('\t');
      expect(name).toBe(res.names[i]);
      expect(Math.abs(Number(g) / res.lnL.d![i] - 1)).toBeLessThan(1e-11);
    });
    const json = JSON.parse(fs.readFileSync(path.join(out, 'likelihood.json'), 'utf8'));
    expect(json.lnL).toBe(res.lnL.v);
    expect(json.differentiator).toBe('reverse-adjoint');
    expect(json.settings.reverse.forward_boundary).toEqual([]);
  });

  it('a black box (differentiable: none) is differentiated by the stencil at its boundary, as in forward AD', { tags: ['slow'] }, async () => {
    const p = JSON.parse(fs.readFileSync(likelihoodPipeline, 'utf8'));
    p.plugins = [path.join(root, 'test/fixtures/blackbox-plugins.ts')];
    p.stages.linear.use = 'linear-power/eh-blackbox';
    p.stages.like.with.data = data;
    const file = path.join(os.tmpdir(), `cosmodag-bb-${process.pid}.json`);
    fs.writeFileSync(file, JSON.stringify(p));
    try {
      const run = async (d: string) => {
        const { plan, registry } = await preparePipeline(file, SHIFTED, [...noPlot, ...variedSets(7), `methods.differentiator="${d}"`]);
        return (await executePlan(plan, registry, { store: new MemoryStore() })).outputs.get('like') as GaussianLikelihoodResult;
      };
      const rev = await run('reverse-adjoint'), fwd = await run('forward-ad');
      expect((rev.settings.reverse as { forward_boundary: string[] }).forward_boundary).toEqual(['linear']);
      const worst = Math.max(...Array.from(rev.lnL.d!, (x, i) => Math.abs(x / fwd.lnL.d![i] - 1)));
      console.log(`black box inside reverse mode vs forward AD (both with the stencil around it): ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-9);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it('the Fisher stage (whole Jacobians) under reverse-adjoint gets forward tangents: the same Fisher matrix', async () => {
    const fisherPipeline = path.join(root, 'pipelines/euclid-3x2pt-fisher.json');
    const run = async (d: string) => {
      const { plan, registry } = await preparePipeline(fisherPipeline, [], ['stages.cl.with.plot=false', 'stages.fisher.with.plot=false', ...variedSets(7), `methods.differentiator="${d}"`]);
      return (await executePlan(plan, registry, { store: new MemoryStore() })).outputs.get('fisher') as FisherResult;
    };
    const rev = await run('reverse-adjoint'), fwd = await run('forward-ad');
    expect(Array.from(rev.F)).toEqual(Array.from(fwd.F));
  });

  it('can fail: a Limber vjp that forgets the spin-2 prefactor is caught by the dot-product test', async () => {
    const broken: typeof limber = {
      ...limber, id: 'spectra/limber-broken',
      vjp(ctx, bar) {
        // the same vjp, but as if the tracers had no l-dependent prefactor
        const strip = (s: TracerSet): TracerSet => ({ ...s, tracers: s.tracers.map((t) => ({ ...t, ellFactor: 'none' as const })) });
        const sets = ctx.inputs.tracers;
        const inputs = { ...ctx.inputs, tracers: Array.isArray(sets) ? sets.map(strip) : strip(sets) };
        return limberVjp(inputs, ctx.config, ctx.method<Integrator>('integrator'), ctx.output, (bar as { C: Float64Array }).C);
      },
    };
    const { plan, registry } = await preparePipeline(likelihoodPipeline, SHIFTED, [...noPlot, ...variedSets(7)]);
    registry.register(broken, 'test');
    plan.stages.get('cl')!.plugin = broken;
    const r = await vjpDotTest(plan, registry, 'cl', new MemoryStore());
    console.log(`broken Limber vjp: dot-product test worst ${r.worst.toExponential(2)}`);
    expect(r.worst).toBeGreaterThan(1e-4);
  });
});
