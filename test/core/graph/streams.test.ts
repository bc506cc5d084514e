/**
 * Streams: a stage's chunks reach a stage consuming it as a stream before the stage has finished, and the
 * consumer starts with its provider; what a consumer sees when the provider comes from the memo store; the
 * Limber stage's multipole blocks and the Boltzmann stage's k-mode blocks as real emitters (the blocked Limber
 * contraction giving the very same numbers); a provider failing mid-stream.
 *
 * Order is read off one shared trace: the run's events and the consumer's processing are pushed into it as
 * they happen (one thread), so "before" means before.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Subject } from 'rxjs';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../core/cache/store.js';
import { executePlan, type RunEvent } from '../../../core/graph/execute.js';
import { planPipeline } from '../../../core/graph/plan.js';
import { loadAndPlan } from '../../../core/graph/runtime.js';
import { PluginRegistry } from '../../../core/plugin/registry.js';
import { createGaussLegendre } from '../../../plugins/integrator/gauss-legendre.js';
import type { Spectra } from '../../../plugins/contracts/spectra.js';
import type { BoltzmannChunk, BoltzmannPower } from '../../../plugins/linear-power/boltzmann.js';
import { computeLimber, type LimberChunk, type LimberConfig } from '../../../plugins/spectra/limber.js';
import { plugins as streamPlugins, trace, type SinkOutput } from '../../fixtures/stream-plugins.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const fixture = path.resolve(here, '../../fixtures/stream-plugins.ts');

/** The run's top-level events into the shared trace (and the chunks' data, by stage). */
function recorder() {
  const events = new Subject<RunEvent>();
  const data = new Map<string, unknown[]>();
  events.subscribe((e) => {
    if (e.depth) return;
    trace.push({ what: e.type, stage: e.stage, range: e.type === 'chunk' ? e.range : undefined });
    if (e.type === 'chunk') data.set(e.stage!, [...(data.get(e.stage!) ?? []), e.data]);
  });
  return { events, data };
}
const at = (what: string, stage?: string) => trace.findIndex((e) => e.what === what && (stage === undefined || e.stage === stage));

/** The consumer received chunks of `provider` before the provider completed, and started with it. */
function expectStreamedBeforeCompletion(provider: string) {
  const firstChunk = at('chunk', provider);
  const done = at('stage-computed', provider);
  expect(firstChunk, 'the provider emitted a chunk').toBeGreaterThan(-1);
  expect(firstChunk, "the first chunk comes before the provider's stage-computed").toBeLessThan(done);
  expect(at('stage-start', 'sink'), 'the consumer starts while its provider computes').toBeLessThan(done);
  expect(at('stage-start', 'sink')).toBeGreaterThan(at('stage-start', provider));
  expect(at('sink-chunk'), "the consumer processes the first chunk before the provider's completion").toBeLessThan(done);
  expect(at('sink-chunk')).toBeGreaterThan(firstChunk);
  expect(at('sink-input-pending'), 'the whole input is not there yet while chunks arrive').toBeGreaterThan(-1);
}

/** Chunk ranges, in arrival order, tile [0, total). */
function expectTiling(ranges: [number, number][], total: number) {
  let end = 0;
  for (const [a, b] of ranges) {
    expect(a).toBe(end);
    expect(b).toBeGreaterThan(a);
    end = b;
  }
  expect(end).toBe(total);
}

describe('a stage consuming another as a stream (toy stages)', () => {
  const registry = new PluginRegistry();
  for (const p of streamPlugins) registry.register(p, 'test/fixtures/stream-plugins.ts');
  const pipeline = (rows: object = {}, sink: object = {}) => ({
    name: 'toy-stream',
    stages: { rows: { use: 'toy-rows/chunks', with: { n: 12, parts: 4, ...rows } }, sink: { use: 'stream-sink/record', with: sink } },
  });
  beforeEach(() => { trace.length = 0; });

  it('receives every chunk as it is produced, before the provider completes, and its result at the end', async () => {
    const plan = planPipeline(pipeline(), registry);
    expect(plan.stages.get('sink')!.streams).toEqual(['source']);
    const { events } = recorder();
    const r = await executePlan(plan, registry, { events });
    expectStreamedBeforeCompletion('rows');
    // each chunk reaches the consumer right after the provider emitted it, while the provider is paused between them
    const seq = trace.filter((e) => e.what === 'chunk' || e.what === 'sink-chunk').map((e) => `${e.what}:${e.range!.join('-')}`);
    expect(seq).toEqual(['chunk:0-3', 'sink-chunk:0-3', 'chunk:3-6', 'sink-chunk:3-6', 'chunk:6-9', 'sink-chunk:6-9', 'chunk:9-12', 'sink-chunk:9-12']);
    expect(at('sink-result')).toBeGreaterThan(at('stage-computed', 'rows'));
    expect(trace.find((e) => e.what === 'sink-input-pending')!.message).toMatch(/still being computed: read it from ctx\.stream\("source"\)/);
    expect(r.outputs.get('sink')).toEqual({ chunks: 4, covered: 12, total: 12, sawResultOnly: false });
    expect(r.computed).toEqual(['rows', 'sink']);
  });

  it('a provider from the memo store replays its result only: no chunk, the whole output at once', async () => {
    const store = new MemoryStore();
    await executePlan(planPipeline(pipeline(), registry), registry, { store });
    trace.length = 0;
    const { events } = recorder();
    // the consumer changes (another config), its provider is cached
    const r = await executePlan(planPipeline(pipeline({}, { tag: 'again' }), registry), registry, { store, events });
    expect(r.cached).toEqual(['rows']);
    expect(r.computed).toEqual(['sink']);
    expect(r.outputs.get('sink')).toEqual({ chunks: 0, covered: 0, total: 0, sawResultOnly: true });
    expect(at('chunk')).toBe(-1);
  });

  it('a provider failing mid-stream fails the run with its own error (no stray rejection from the consumer)', async () => {
    const e = await executePlan(planPipeline(pipeline({ fail_after: 2 }), registry), registry, {}).catch((x: Error) => x);
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toMatch(/^stage "rows" \(toy-rows\/chunks\) failed: failing after 2 chunks, as asked/);
    expect(trace.filter((t) => t.what === 'sink-chunk')).toHaveLength(2);
  });
});

describe('the Limber stage streams its multipole blocks', () => {
  beforeEach(() => { trace.length = 0; });

  it('a consumer gets each block of C_l before the stage completes; the blocks are the output; the numbers are those of the unblocked contraction', async () => {
    const pipeline = JSON.parse(fs.readFileSync(path.join(root, 'pipelines/euclid-3x2pt.json'), 'utf8'));
    pipeline.plugins = [fixture];
    pipeline.stages.cl.with.plot = false;
    pipeline.stages.sink = { use: 'stream-sink/record', inputs: { source: 'cl' } };
    const { plan, registry } = await loadAndPlan(pipeline, { baseDir: path.join(root, 'pipelines') });
    const { events, data } = recorder();
    const r = await executePlan(plan, registry, { events, tangents: ['Omega_m', 'A_IA'] });
    expectStreamedBeforeCompletion('cl');
    const cl = r.outputs.get('cl') as Spectra;
    const nl = cl.ell.length, np = cl.pairNames.length;
    const blocks = data.get('cl') as LimberChunk[];
    expect(blocks.length).toBeGreaterThan(4);
    expectTiling(trace.filter((e) => e.what === 'sink-chunk').map((e) => e.range!), nl);
    expect(r.outputs.get('sink')).toMatchObject({ chunks: blocks.length, covered: nl, total: nl } satisfies Partial<SinkOutput>);
    // each block holds the final C_l of every pair at its multipoles
    let l0 = 0;
    for (const b of blocks) {
      const nb = b.ell.length;
      expect(b.pairNames).toEqual(cl.pairNames);
      for (let p = 0; p < np; p++)
        for (let j = 0; j < nb; j++) expect(b.C[p * nb + j]).toBe(cl.C.value[p * nl + l0 + j]);
      l0 += nb;
    }
    // the same stage computed in one block (no streaming): bit for bit the same values and tangents
    const st = plan.stages.get('cl')!;
    const whole = computeLimber(
      { tracers: [r.outputs.get('weights')], power: r.outputs.get('nonlinear'), background: r.outputs.get('background') } as never,
      st.config as unknown as LimberConfig, createGaussLegendre({}),
    );
    expect(cl.C.P).toBe(2);
    expect(Buffer.from(whole.C.value.buffer).equals(Buffer.from(cl.C.value.buffer))).toBe(true);
    expect(Buffer.from(whole.C.tangent!.buffer).equals(Buffer.from(cl.C.tangent!.buffer))).toBe(true);
  });
});

describe('the Boltzmann stage streams its k-mode blocks', () => {
  beforeEach(() => { trace.length = 0; });

  it('a consumer gets blocks of solved modes (k indices and delta_m/R) before P(k, z) is assembled', async () => {
    const pipeline = JSON.parse(fs.readFileSync(path.join(root, 'pipelines/linear-power.json'), 'utf8'));
    pipeline.plugins = [fixture];
    delete pipeline.outputs;
    Object.assign(pipeline.stages.linear.with, {
      threads: 1, k: { k_min: 1e-3, k_max: 0.3, per_decade: 10 }, transfer: { k_max: 0.3, per_decade: 6, bao: { step: 0 } },
    });
    pipeline.stages.sink = { use: 'stream-sink/record', inputs: { source: 'linear' } };
    const { plan, registry } = await loadAndPlan(pipeline, { baseDir: path.join(root, 'pipelines') });
    const { events, data } = recorder();
    const r = await executePlan(plan, registry, { events });
    expectStreamedBeforeCompletion('linear');
    const out = r.outputs.get('linear') as BoltzmannPower;
    const blocks = data.get('linear') as BoltzmannChunk[];
    expect(blocks.length).toBeGreaterThan(1);
    expectTiling(trace.filter((e) => e.what === 'chunk' && e.stage === 'linear').map((e) => e.range!), out.modes);
    // every solved mode exactly once, with finite transfer values at every output time
    const seen = blocks.flatMap((b) => Array.from(b.k_index)).sort((a, b) => a - b);
    expect(seen).toEqual(Array.from({ length: out.modes }, (_, i) => i));
    for (const b of blocks) {
      expect(b.delta_over_R.length).toBe(b.k_index.length * b.z.length);
      expect(b.delta_over_R.every(Number.isFinite)).toBe(true);
      expect(b.z[b.z.length - 1]).toBe(0);
    }
    expect(r.outputs.get('sink')).toMatchObject({ covered: out.modes, total: out.modes, sawResultOnly: false });
  });
});
