/**
 * What every sampler method shares: registration as `sampler` methods with schema-checked configs, determinism
 * from the seed, and checkpoint/resume through JSON (30 steps straight = 15 steps, JSON round trip, 15 steps,
 * bit for bit, across warm-up adaptation events).
 */
import { describe, expect, it } from 'vitest';
import { methodBinding } from '../../core/plugin/bindings.js';
import { plugins } from '../../plugins/index.js';
import type { Draw, SamplerMethod, SamplingTarget } from '../../plugins/contracts/sampler.js';
import { ENSEMBLE_DEFAULTS } from '../../plugins/sampler/ensemble.js';
import { samplerPlugins } from '../../plugins/sampler/index.js';
import { METROPOLIS_DEFAULTS } from '../../plugins/sampler/metropolis.js';
import { NUTS_DEFAULTS } from '../../plugins/sampler/nuts.js';
import { correlatedGaussian, targetOf } from './targets.js';

const byId = (id: string) => samplerPlugins.find((p) => p.id === id)!;
const make = (id: string, config: Record<string, unknown> = {}) => byId(id).create(methodBinding(byId(id), config).config) as SamplerMethod;

/** Each sampler with a config under which warm-up adaptation events fall on both sides of step 15. */
const CASES: [string, Record<string, unknown>][] = [
  // metric windows end after iterations 10 and 20 of a 25-iteration warm-up
  ['sampler/nuts', { initBuffer: 5, baseWindow: 5, termBuffer: 5 }],
  ['sampler/nuts', { metric: 'diag', metricPriorDraws: 20, initBuffer: 5, baseWindow: 5, termBuffer: 5 }],
  // the proposal covariance is re-learned every 5 iterations
  ['sampler/metropolis', { learnEvery: 5, learnFrom: 0 }],
  ['sampler/ensemble', {}],
];

const key = (d: Draw) => JSON.stringify({ x: Array.from(d.x), lp: d.logDensity, w: d.walker, u: d.warmup, s: d.stats });

async function steps(method: SamplerMethod, target: SamplingTarget, state: Awaited<ReturnType<SamplerMethod['init']>>, settings: Parameters<SamplerMethod['step']>[2], n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) for (const d of await method.step(target, state, settings)) out.push(key(d));
  return out;
}

describe('sampler methods', () => {
  it('are registered as `sampler` methods whose schema defaults are the create() defaults', () => {
    expect(samplerPlugins.map((p) => p.id)).toEqual(['sampler/nuts', 'sampler/ensemble', 'sampler/metropolis']);
    for (const p of samplerPlugins) {
      expect(plugins).toContain(p);
      expect(p.kind).toBe('sampler');
      expect(p.apiVersion).toBe(1);
    }
    expect(methodBinding(byId('sampler/nuts')).config).toEqual(NUTS_DEFAULTS);
    expect(methodBinding(byId('sampler/metropolis')).config).toEqual(METROPOLIS_DEFAULTS);
    expect(methodBinding(byId('sampler/ensemble')).config).toEqual(ENSEMBLE_DEFAULTS);
    const m = make('sampler/nuts');
    expect([m.name, m.needsGradient]).toEqual(['nuts', true]);
    expect([make('sampler/ensemble').needsGradient, make('sampler/metropolis').needsGradient]).toEqual([false, false]);
  });

  it('reject bad configs, naming the setting and what is allowed (schema and create())', () => {
    expect(() => methodBinding(byId('sampler/nuts'), { maxTreeDepth: 0 })).toThrow(/sampler\/nuts: with.maxTreeDepth: 0 is out of range: must be >= 1/);
    expect(() => methodBinding(byId('sampler/nuts'), { metric: 'full' })).toThrow(/with.metric: "full" is not allowed; choose one of "dense", "diag"/);
    expect(() => methodBinding(byId('sampler/ensemble'), { stretch: 1 })).toThrow(/with.stretch: 1 is out of range: must be > 1/);
    expect(() => byId('sampler/nuts').create({ targetAccept: 1 })).toThrow(/sampler\/nuts: with.targetAccept must be a number in \(0, 1\), got 1/);
    expect(() => byId('sampler/metropolis').create({ learnEvery: 2.5 })).toThrow(/with.learnEvery must be an integer in \[1, 1000000000\], got 2.5/);
    expect(() => byId('sampler/ensemble').create({ walker: 10 })).toThrow(/with.walker is not a known setting; allowed: walkers, stretch, ballScale, initialScale/);
  });

  it.each(CASES)('%s %j: deterministic from the seed, and resumes identically after a JSON round trip of its state', async (id, config) => {
    const G = correlatedGaussian(4, 100, 9);
    const settings = { warmup: 25, seed: 123, start: Float64Array.from(G.mean, (v) => v + 0.5), covariance: id === 'sampler/nuts' && !config.metricPriorDraws ? undefined : G.cov };
    const straight = make(id, config);
    const s1 = await straight.init(G.target, settings);
    const all = await steps(straight, G.target, s1, settings, 30);
    // 15 steps, then the state through JSON into a fresh method instance (as a resumed run in a new process)
    const first = make(id, config);
    const s2 = await first.init(G.target, settings);
    const head = await steps(first, G.target, s2, settings, 15);
    // the adaptation events fall on both sides of the round trip
    const events = (st: object) => (st as { metricVersion?: number; proposalVersion?: number }).metricVersion ?? (st as { proposalVersion?: number }).proposalVersion;
    if (id === 'sampler/nuts') expect([events(s2), events(s1)]).toEqual([1, 2]);
    // (a learning step is skipped while the draws so far have a zero variance: every move rejected)
    if (id === 'sampler/metropolis') expect(events(s2)! > 0 && events(s1)! > events(s2)!).toBe(true);
    const resumed = JSON.parse(JSON.stringify(s2)) as typeof s2;
    const second = make(id, config);
    const tail = await steps(second, G.target, resumed, settings, 15);
    expect([...head, ...tail]).toEqual(all);
    expect(second.evaluations(resumed)).toBe(straight.evaluations(s1));
    expect(JSON.stringify(resumed)).toBe(JSON.stringify(s1));
    // and a different seed gives a different chain
    const other = make(id, config);
    const s3 = await other.init(G.target, { ...settings, seed: 124 });
    expect((await steps(other, G.target, s3, settings, 3))[2]).not.toBe(all[2]);
  });

  it('refuse a state made by another sampler or for another dimension', async () => {
    const t = targetOf(2, (x, g) => {
      if (g) g.fill(0);
      return -0.5 * (x[0] * x[0] + x[1] * x[1]);
    });
    const settings = { warmup: 5, seed: 1, start: new Float64Array(2) };
    const mhState = await make('sampler/metropolis').init(t, settings);
    await expect(make('sampler/nuts').step(t, mhState, settings)).rejects.toThrow(/made by sampler "metropolis", not by "nuts"/);
    const t3 = targetOf(3, () => 0);
    await expect(make('sampler/metropolis').step(t3, mhState, settings)).rejects.toThrow(/the chain state has dim = 2, the target has dim = 3/);
  });
});
