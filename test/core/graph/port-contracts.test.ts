/**
 * Port contracts: every computed output is checked against its port's contract at the stage boundary, so a
 * plugin returning the wrong shape fails at its own stage, naming the stage, the plugin, the port and the field.
 * The built-in contracts come from `cosmodag/plugins` (npm run build first, as CI does); a third-party module
 * may declare contracts for its own ports (`ports`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { executePlan, StageError } from '../../../core/graph/execute.js';
import { loadAndPlan } from '../../../core/graph/runtime.js';
import { PluginRegistry } from '../../../core/plugin/registry.js';
import { loadPluginModule } from '../../../core/plugin/loader.js';
import { InputError } from '../../../core/schema/input-error.js';
import { checkBackground } from '../../../plugins/contracts/background.js';
import { checkPowerGrid } from '../../../plugins/contracts/power.js';
import { checkTracerSet } from '../../../plugins/contracts/tracers-check.js';
import { tinyBackground } from '../../fixtures/contract-plugins.js';

const fixture = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures/contract-plugins.ts');

async function run(use: string) {
  const pipeline = { name: 'contract', plugins: [fixture], stages: { s: { use } } };
  const { plan, registry } = await loadAndPlan(pipeline);
  return executePlan(plan, registry);
}

const messages = (check: (x: unknown, out: string[]) => void, x: unknown) => {
  const out: string[] = [];
  check(x, out);
  return out;
};

describe('port contracts at the stage boundary', () => {
  it('a background plugin whose output lacks a field fails, naming the stage, the plugin, the port and the field', async () => {
    const err = await run('background/toy-without-D').catch((e) => e);
    expect(err).toBeInstanceOf(StageError);
    expect(err.message).toMatch(/^stage "s" \(background\/toy-without-D\) failed: its output does not satisfy the contract of port "background": D: missing$/);
  });

  it('a conforming background plugin passes', async () => {
    const r = await run('background/toy-good');
    expect(r.computed).toEqual(['s']);
  });

  it('a descending grid is named with its index', async () => {
    const err = await run('background/toy-descending').catch((e) => e);
    expect(err.message).toMatch(/z: not ascending at index 2 \(1 after 2\)/);
  });

  it('a third-party module declares the contract of its own port (`ports`), checked the same way', async () => {
    const err = await run('toy-grid/short').catch((e) => e);
    expect(err.message).toMatch(/stage "s" \(toy-grid\/short\) failed: .*port "toy-grid": y: has 2 entries, expected nx = 3/);
    expect((await run('toy-grid/good')).computed).toEqual(['s']);
  });

  it('the built-in contracts are registered through the loader, and a second contract for a port is refused', async () => {
    const registry = new PluginRegistry();
    await loadPluginModule(registry, 'cosmodag/plugins', process.cwd());
    expect(registry.portContracts().map((c) => c.contract.port)).toEqual(
      ['background', 'linear-power', 'nonlinear-power', 'recombination', 'redshift-distribution', 'spectra', 'weights'],
    );
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-ports-')), 'dup-ports.mjs');
    fs.writeFileSync(file, "export const ports = [{ port: 'background', description: 'another', check: () => [] }];");
    const e = await loadPluginModule(registry, file, process.cwd()).catch((x) => x);
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(/the contract of port "background" from .* is already registered by cosmodag\/plugins/);
  });
});

describe('contract checkers name the field', () => {
  it('DualArray lengths and tangent blocks', () => {
    const b = tinyBackground();
    expect(messages(checkBackground, b)).toEqual([]);
    b.E = { value: new Float64Array(2), tangent: null, P: 0 };
    b.chi_Mpc = { value: new Float64Array(3), tangent: new Float64Array(5), P: 2 };
    b.h = { v: Number.NaN, d: null };
    expect(messages(checkBackground, b)).toEqual([
      'E.value: has 2 entries, expected nz = 3',
      'chi_Mpc.tangent: has 5 entries, expected P*n = 2*3 = 6',
      'h.v: NaN is not a finite number',
    ]);
    const c = tinyBackground();
    c.D = { value: new Float64Array(3), tangent: new Float64Array(6), P: 2 };
    c.f = { value: new Float64Array(3), tangent: new Float64Array(9), P: 3 };
    expect(messages(checkBackground, c)).toEqual(['f.tangent: carries 3 tangent blocks, but D.tangent carries 2']);
  });

  it('a power grid: P has nz*nk values, k and z ascending', () => {
    const k = Float64Array.of(0.01, 0.1, 1, 10), z = Float64Array.of(0, 1, 2);
    expect(messages(checkPowerGrid, { k_1overMpc: k, z, P_Mpc3: { value: new Float64Array(12), tangent: null, P: 0 }, source: 't' })).toEqual([]);
    expect(messages(checkPowerGrid, { k_1overMpc: k, z, P_Mpc3: { value: new Float64Array(10), tangent: null, P: 0 }, source: 't' }))
      .toEqual(['P_Mpc3.value: has 10 entries, expected nz*nk = 3*4 = 12']);
    expect(messages(checkPowerGrid, { k_1overMpc: Float64Array.of(0.01, 0.1, 0.1, 1), z, P_Mpc3: { value: new Float64Array(12), tangent: null, P: 0 } }))
      .toEqual(['k_1overMpc: not ascending at index 2 (0.1 after 0.1)', 'source: missing']);
  });

  it('a tracer set: each tracer\'s fields, unique names, W of nTracers*nz', () => {
    const t = (name: string, family: string) => ({ name, family, code: name[0], index: 1, ellFactor: 'none', power: 'matter', noise: 0 });
    const good = {
      z: Float64Array.of(0.1, 0.2, 0.3), tracers: [t('L1', 'WL'), t('G1', 'GC')],
      W: { value: new Float64Array(6), tangent: null, P: 0 }, multiplicative: { value: Float64Array.of(1, 1), tangent: null, P: 0 }, z_max: 0.3,
    };
    expect(messages(checkTracerSet, good)).toEqual([]);
    const bad = { ...good, tracers: [t('L1', 'WL'), { ...t('L1', 'GC'), ellFactor: 'spin3' }, { name: 'K', code: 'K', ellFactor: 'none', power: 'matter', noise: 0 }] };
    expect(messages(checkTracerSet, bad)).toEqual([
      "tracers[1].ellFactor: \"spin3\" is not one of 'spin2', 'convergence', 'none'",
      'tracers[1].name: "L1" is used by an earlier tracer; names must be unique',
      'tracers[2].family: missing',
      'W.value: has 6 entries, expected nTracers*nz = 3*3 = 9',
      'multiplicative.value: has 2 entries, expected nTracers = 3',
    ]);
  });
});
