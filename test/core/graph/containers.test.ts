/**
 * DI for what it is for: every planned pipeline has an inversify container (a child of the registry's) binding
 * its methods, every stage a child of that one (its `stages.X.methods`); a binding made in a further child
 * container — by a test harness, by a package's exported bindings, by a compare variant — reaches the built-in
 * spectra/limber without any change to it, changes its output, and enters its memo key exactly as the same
 * method named in the pipeline file does. Services (the cosmology, the parameter values) are injected the same
 * way and enter the key of the stages that declare them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../core/cache/store.js';
import { parseVary, runVariants, compareVariants } from '../../../core/graph/compare.js';
import { executePlan } from '../../../core/graph/execute.js';
import { applySet } from '../../../core/graph/pipeline-file.js';
import { planPipeline, stageMethods, withBindings } from '../../../core/graph/plan.js';
import { loadAndPlan, registryFor } from '../../../core/graph/runtime.js';
import type { Integrator } from '../../../core/numerics/integrator.js';
import { methodBinding, methodToken, resolveMethod, type Bindings } from '../../../core/plugin/bindings.js';
import { pluginToken } from '../../../core/plugin/registry.js';
import { PLUGIN_API_VERSION, type MethodPlugin, type ServiceProvider, type StagePlugin } from '../../../core/plugin/types.js';
import { InputError } from '../../../core/schema/input-error.js';
import { COSMOLOGY } from '../../../plugins/contracts/cosmology-service.js';
import { cosmologyFrom, cosmologyOf, cosmologyReads, type Cosmology } from '../../../plugins/contracts/cosmology.js';
import type { Spectra } from '../../../plugins/contracts/spectra.js';
import { createGaussLegendre } from '../../../plugins/integrator/gauss-legendre.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const euclid = (...sets: string[]) => {
  const p = JSON.parse(fs.readFileSync(path.join(root, 'pipelines/euclid-3x2pt.json'), 'utf8'));
  for (const s of ['stages.cl.with.plot=false', ...sets]) applySet(p, s);
  return p;
};
const plan3x2 = (...sets: string[]) => loadAndPlan(euclid(...sets), { baseDir: path.join(root, 'pipelines') });
const maxRel = (a: Float64Array, b: Float64Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x / b[i] - 1)), 0);

/**
 * What a third-party package might export: a method plugin and a layer of bindings that rebinds `integrator` to
 * it (a coarse Gauss-Legendre rule that counts its adaptations).
 */
const adaptations = { n: 0 };
const coarseGl: MethodPlugin<Record<string, never>, Integrator> = {
  apiVersion: PLUGIN_API_VERSION, id: 'integrator/coarse-gl', version: '0.1.0', kind: 'integrator',
  description: '4-point Gauss-Legendre panels to rtol 1e-5, counting its adaptations',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  create() {
    const gl = createGaussLegendre({ order: 4, rtol: 1e-5 });
    return { ...gl, name: 'coarse-gl', adaptRule: (f, a, b, atol) => { adaptations.n++; return gl.adaptRule(f, a, b, atol); } };
  },
};
const packageBindings: Bindings = { methods: { integrator: methodBinding(coarseGl) } };

describe('containers: one per pipeline, one per stage', () => {
  it('the pipeline binds its methods (defaults included), a stage override lives in the stage\'s child container', async () => {
    const { plan, registry } = await plan3x2('stages.cl.methods={"integrator":"romberg"}');
    const cl = plan.stages.get('cl')!, bg = plan.stages.get('background')!;
    expect(resolveMethod(plan.container, 'integrator')!.plugin.id).toBe('integrator/gauss-legendre');
    expect(resolveMethod(cl.container, 'integrator')!.plugin.id).toBe('integrator/romberg');
    expect(resolveMethod(bg.container, 'integrator')!.plugin.id).toBe('integrator/gauss-legendre');
    expect(stageMethods(cl).integrator.plugin.id).toBe('integrator/romberg');
    expect(cl.methods.integrator.plugin.id).toBe('integrator/romberg');
    // the registry's container holds the plugins, not a pipeline's choice; a stage's container sees both
    expect(registry.container.isBound(methodToken('integrator'))).toBe(false);
    expect(cl.container.isBound(pluginToken('spectra/limber'))).toBe(true);
    expect(cl.container.isCurrentBound(methodToken('integrator'))).toBe(true);
    expect(bg.container.isCurrentBound(methodToken('integrator'))).toBe(false);
  });
});

describe('a method override through a child container reaches spectra/limber unchanged', () => {
  it('a test harness rebinds integrator for the cl stage: only cl recomputes, its output and key change, the key equals the pipeline-file binding\'s', async () => {
    const { plan, registry } = await plan3x2();
    const store = new MemoryStore();
    const base = await executePlan(plan, registry, { store });
    const romberg = registry.method('integrator', 'romberg')!;
    const rebound = withBindings(plan, { methods: { integrator: methodBinding(romberg) } }, 'cl');
    expect(rebound.overrides).toHaveLength(1);
    // nothing mutated: the original plan still resolves its own binding
    expect(resolveMethod(plan.stages.get('cl')!.container, 'integrator')!.plugin.id).toBe('integrator/gauss-legendre');

    const r = await executePlan(rebound, registry, { store });
    expect(r.computed).toEqual(['cl']);
    expect(r.cached.sort()).toEqual(['background', 'linear', 'nonlinear', 'nz', 'weights']);
    expect(r.keys.get('cl')).not.toBe(base.keys.get('cl'));
    const a = base.outputs.get('cl') as Spectra, b = r.outputs.get('cl') as Spectra;
    expect(a.settings.integrator).toBe('gauss-legendre');
    expect(b.settings.integrator).toBe('romberg');
    expect(b.settings.z_nodes).not.toBe(a.settings.z_nodes);
    expect(maxRel(b.C.value, a.C.value)).toBeGreaterThan(0);

    // the same binding written in the pipeline file: the same key, so the store already has it
    const { plan: fromFile, registry: reg2 } = await plan3x2('stages.cl.methods={"integrator":"romberg"}');
    const r3 = await executePlan(fromFile, reg2, { store });
    expect(r3.computed).toEqual([]);
    expect(r3.keys.get('cl')).toBe(r.keys.get('cl'));

    // on the pipeline's container: every stage using an integrator (and what lies downstream) recomputes, with the
    // keys of the pipeline file's `methods.integrator`
    const nc = registry.method('integrator', 'newton-cotes')!;
    const wide = await executePlan(withBindings(plan, { methods: { integrator: methodBinding(nc) } }), registry, { store });
    expect(wide.cached).toEqual(['nz']);
    const { plan: wideFile, registry: reg3 } = await plan3x2('methods.integrator="newton-cotes"');
    const wideFromFile = await executePlan(wideFile, reg3, { store });
    expect(wideFromFile.computed).toEqual([]);
    for (const n of plan.order) expect(wideFromFile.keys.get(n)).toBe(wide.keys.get(n));
  });

  it('bindings exported by a package (a method plugin the registry does not know) reach the stage and enter its key', async () => {
    const { plan, registry } = await plan3x2();
    const store = new MemoryStore();
    const base = await executePlan(plan, registry, { store });
    adaptations.n = 0;
    const r = await executePlan(withBindings(plan, packageBindings, 'cl'), registry, { store });
    expect(adaptations.n).toBeGreaterThan(0);
    expect(r.computed).toEqual(['cl']);
    expect((r.outputs.get('cl') as Spectra).settings.integrator).toBe('coarse-gl');
    expect(r.keys.get('cl')).not.toBe(base.keys.get('cl'));
    // a binding the key could not name is refused, and so is a method kind the stage does not use
    expect(() => withBindings(plan, { methods: { integrator: createGaussLegendre() as never } }, 'cl')).toThrow(/not a method binding .* memo key/);
    const e = (() => { try { withBindings(plan, { methods: { 'ode-solver': methodBinding(registry.method('ode-solver', 'tsit5')!) } }, 'cl'); } catch (x) { return x; } })();
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).issues[0].path).toBe('stages.cl.methods.ode-solver');
  });

  it('a compare variant is a child container rebinding the method: cl alone recomputes, and differs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-containers-'));
    const file = path.join(dir, 'p.json');
    fs.writeFileSync(file, JSON.stringify(euclid()));
    const res = await runVariants({ file, vary: [parseVary('stages.cl.methods.integrator=gauss-legendre,romberg')] });
    const [gl, rb] = res.variants;
    expect(rb.overrides.map((o) => [o.stage, o.bindings.methods!.integrator.plugin.id])).toEqual([['cl', 'integrator/romberg']]);
    expect(gl.overrides.map((o) => o.bindings.methods!.integrator.plugin.id)).toEqual(['integrator/gauss-legendre']);
    expect(rb.computed).toEqual(['cl']);
    const c = compareVariants(res, null);
    const d = c.outputs.find((o) => o.file === 'cl.tsv')!.diffs[1]!;
    expect(d.max).toBeGreaterThan(0);
    expect(d.median).toBeLessThan(1e-5); // two adaptive rules, each converged (the largest difference is at a C_l crossing zero)
  });
});

describe('services', () => {
  /** A stage that receives the cosmology and its parameter values by injection. */
  const probe: StagePlugin<Record<string, never>, Record<string, never>, { H0: number; same: boolean; params: Record<string, number> }> = {
    apiVersion: PLUGIN_API_VERSION, id: 'probe/h0', version: '1.0.0', port: 'probe', description: 'H0 from the injected cosmology',
    configSchema: { type: 'object', additionalProperties: false, properties: {} },
    inputs: {}, reads: cosmologyReads(['H0']), services: [COSMOLOGY, 'parameters'], differentiable: 'forward',
    run(ctx) {
      const c = ctx.service!<Cosmology>(COSMOLOGY);
      return { H0: c.H0.v, same: c === cosmologyOf(ctx), params: { ...ctx.service!<Record<string, number>>('parameters') } };
    },
  };
  /** A stage that declares no service and asks for one. */
  const rogue: StagePlugin = { ...probe, id: 'probe/rogue', services: undefined, run: (ctx) => ({ c: ctx.service!('cosmology') }) };

  it('a stage declaring services gets the cosmology and its parameters; rebinding the cosmology in a child container changes its output and key', async () => {
    const pipeline = { name: 'probe', parameters: { h: { value: 0.7 } }, stages: { probe: { use: 'probe/h0' } } };
    const registry = await registryFor({});
    registry.register(probe, 'test');
    registry.register(rogue, 'test');
    expect(registry.services().map((s) => s.provider.name)).toEqual(['cosmology', 'parameters']);
    const plan = planPipeline(pipeline, registry);
    const store = new MemoryStore();
    const r = await executePlan(plan, registry, { store });
    const out = r.outputs.get('probe') as { H0: number; same: boolean; params: Record<string, number> };
    expect(out.H0).toBeCloseTo(70 / 299792.458, 12);
    expect(out.same).toBe(true);
    expect(out.params).toEqual({ h: 0.7 });

    // another cosmology for this pipeline (say, a package's): a provider with its own identity
    const fixed: ServiceProvider<Cosmology> = { name: COSMOLOGY, id: 'test/h-0.6', version: '1', description: 'h = 0.6 whatever the parameters', create: () => cosmologyFrom({ h: 0.6 }) };
    const r2 = await executePlan(withBindings(plan, { services: { [COSMOLOGY]: fixed } }), registry, { store });
    expect(r2.computed).toEqual(['probe']);
    expect(r2.keys.get('probe')).not.toBe(r.keys.get('probe'));
    expect((r2.outputs.get('probe') as { H0: number }).H0).toBeCloseTo(60 / 299792.458, 12);

    const bad = planPipeline({ name: 'rogue', stages: { r: { use: 'probe/rogue' } } }, registry);
    await expect(executePlan(bad, registry, {})).rejects.toThrow(/asked for the service "cosmology" without declaring it in services/);

    // a service no loaded module provides is a plan problem, before any compute
    registry.register({ ...probe, id: 'probe/needs-nope', services: ['nope'] }, 'test');
    const e = (() => { try { planPipeline({ name: 'nope', stages: { n: { use: 'probe/needs-nope' } } }, registry); } catch (x) { return x; } })();
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).issues.map((i) => `${i.path}: ${i.message}`)).toEqual(['stages.n: probe/needs-nope uses the service "nope", which no loaded module provides; services: cosmology, parameters']);
  });
});
