/**
 * Inputs that take several providers (`many: true`, a list of ports) and inputs that depend on the config:
 * wiring in pipeline order or as the pipeline lists them, errors with JSON paths, memo keys over every source,
 * and reverse mode through a many-input (one bar per source) against forward mode.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { DualArray } from '../../../core/ad/dual-array.js';
import { MemoryStore } from '../../../core/cache/store.js';
import { executePlan } from '../../../core/graph/execute.js';
import { planPipeline, sourceStages } from '../../../core/graph/plan.js';
import { pullback } from '../../../core/graph/reverse.js';
import { InputError } from '../../../core/schema/input-error.js';
import type { StagePlugin } from '../../../core/plugin/types.js';
import { collect, toyRegistry, toyRuns } from '../../fixtures/graph-toys.js';

const registry = toyRegistry();

type Stages = Record<string, { use: string; with?: object; inputs?: Record<string, string | string[]> }>;
const VALUES: Record<string, number> = { a: 2, b: 3 };
/** A pipeline varying the parameters its toy-vec stages read (a = 2, b = 3, in that order). */
function pipeline(stages: Stages) {
  const read = new Set(Object.values(stages).map((s) => (s.with as { param?: string } | undefined)?.param).filter((p) => p !== undefined));
  const parameters = Object.fromEntries(Object.keys(VALUES).filter((p) => read.has(p)).map((p) => [p, { value: VALUES[p], vary: true }]));
  return { name: 'many', parameters, stages };
}
const vec = (param: string, scale = 1) => ({ use: 'toy-vec/param', with: { param, scale } });

async function run(stages: Stages, store = new MemoryStore()) {
  const plan = planPipeline(pipeline(stages), registry);
  const r = await executePlan(plan, registry, { store });
  return { plan, r, sum: r.outputs.get('sum') as { order: string[]; alt?: string; w: DualArray } };
}

function issues(stages: Stages): { path: string; message: string }[] {
  try {
    planPipeline(pipeline(stages), registry);
  } catch (e) {
    if (e instanceof InputError) return e.issues;
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('inputs with several providers', () => {
  beforeEach(() => toyRuns.clear());

  it('a many-input receives every provider of the port, in pipeline order', async () => {
    const { plan, sum } = await run({ b1: vec('b', 2), a1: vec('a'), sum: { use: 'toy-collect/sum' } });
    expect(plan.stages.get('sum')!.inputs).toEqual({ parts: ['b1', 'a1'] });
    expect(sourceStages(plan.stages.get('sum')!)).toEqual(['b1', 'a1']);
    expect(sum.order).toEqual(['b1', 'a1']);
    // w = 1 * (2b, 2b^2) + 2 * (a, a^2) at a = 2, b = 3
    expect(Array.from(sum.w.value)).toEqual([2 * 3 + 2 * 2, 2 * 9 + 2 * 4]);
  });

  it('the pipeline may list the providers (its order wins), and a string is a one-element list', async () => {
    const listed = await run({ a1: vec('a'), b1: vec('b', 2), sum: { use: 'toy-collect/sum', inputs: { parts: ['b1', 'a1'] } } });
    expect(listed.sum.order).toEqual(['b1', 'a1']);
    const one = await run({ a1: vec('a'), b1: vec('b', 2), sum: { use: 'toy-collect/sum', inputs: { parts: 'b1' } } });
    expect(one.plan.stages.get('sum')!.inputs).toEqual({ parts: ['b1'] });
    expect(one.sum.order).toEqual(['b1']);
    expect(one.r.outputs.has('a1')).toBe(true); // not an input, but part of the pipeline
  });

  it('the memo key holds every source key in order', async () => {
    const store = new MemoryStore();
    await run({ a1: vec('a'), b1: vec('b', 2), sum: { use: 'toy-collect/sum', inputs: { parts: ['a1', 'b1'] } } }, store);
    const again = await run({ a1: vec('a'), b1: vec('b', 2), sum: { use: 'toy-collect/sum', inputs: { parts: ['a1', 'b1'] } } }, store);
    expect(again.r.computed).toEqual([]);
    const swapped = await run({ a1: vec('a'), b1: vec('b', 2), sum: { use: 'toy-collect/sum', inputs: { parts: ['b1', 'a1'] } } }, store);
    expect(swapped.r.computed).toEqual(['sum']);
    expect(swapped.sum.order).toEqual(['b1', 'a1']);
    // a change in the second source recomputes it and the collector only
    const changed = await run({ a1: vec('a'), b1: vec('b', 3), sum: { use: 'toy-collect/sum', inputs: { parts: ['b1', 'a1'] } } }, store);
    expect(changed.r.computed).toEqual(['b1', 'sum']);
  });

  it('errors name the list entry: unknown stage, wrong port, listed twice; none found for a required input', () => {
    const base = { a1: vec('a'), k: { use: 'toy-alt/const' } };
    expect(issues({ ...base, sum: { use: 'toy-collect/sum', inputs: { parts: ['a1', 'nope'] } } })).toEqual([
      { path: 'stages.sum.inputs.parts[1]', message: expect.stringMatching(/^unknown stage "nope"; stages: a1, k, sum/) },
    ]);
    expect(issues({ ...base, sum: { use: 'toy-collect/sum', inputs: { parts: ['k', 'a1', 'a1'] } } })).toEqual([
      { path: 'stages.sum.inputs.parts[0]', message: 'stage "k" provides port "toy-alt", but input "parts" needs port "toy-vec"' },
      { path: 'stages.sum.inputs.parts[2]', message: 'stage "a1" is listed twice' },
    ]);
    expect(issues({ ...base, sum: { use: 'toy-collect/sum', inputs: { parts: 'nope' } } }).map((i) => i.path)).toEqual(['stages.sum.inputs.parts']);
    expect(issues({ k: { use: 'toy-alt/const' }, sum: { use: 'toy-collect/sum' } })).toEqual([
      { path: 'stages.sum', message: expect.stringMatching(/needs an input "parts" of port "toy-vec", and no stage provides it; add a stage using one of: toy-vec\/param/) },
    ]);
    expect(issues({ ...base, sum: { use: 'toy-collect/sum', inputs: { parts: [] } } })).toEqual([
      { path: 'stages.sum.inputs.parts', message: 'input "parts" needs at least one stage providing port "toy-vec"' },
    ]);
    // the schema: a list of strings or a string
    expect(issues({ ...base, sum: { use: 'toy-collect/sum', inputs: { parts: [1] as unknown as string[] } } })[0].path).toMatch(/^stages\.sum\.inputs\.parts/);
  });

  it('a single input takes one stage: a list of several is an error', () => {
    expect(issues({ a1: vec('a'), p: { use: 'toy-probe/tangents', inputs: { y: ['a1', 'a1'] } } })).toEqual([
      { path: 'stages.p.inputs.y', message: 'input "y" takes one stage, not a list of 2' },
    ]);
  });

  it('a list of ports accepts a provider of any of them', async () => {
    const { sum } = await run({ a1: vec('a'), k: { use: 'toy-alt/const' }, sum: { use: 'toy-collect/sum', with: { any: true } } });
    expect(sum.order).toEqual(['a1', 'k']);
  });

  it('inputs may depend on the config', async () => {
    const stages: Stages = { a1: vec('a'), k: { use: 'toy-alt/const' }, sum: { use: 'toy-collect/sum', with: { alt: true } } };
    const { plan, sum } = await run(stages);
    expect(plan.stages.get('sum')!.inputs).toEqual({ parts: ['a1'], alt: 'k' });
    expect(sum.alt).toBe('k');
    expect(Array.from(sum.w.value)).toEqual([2 + 1, 4 + 1]);
    // without the config switch the input does not exist, so naming it is an error
    expect(issues({ a1: vec('a'), k: { use: 'toy-alt/const' }, sum: { use: 'toy-collect/sum', inputs: { alt: 'k' } } })).toEqual([
      { path: 'stages.sum.inputs.alt', message: 'toy-collect/sum has no input "alt"; its inputs: parts' },
    ]);
    // with it, the extra input needs a provider
    expect(issues({ a1: vec('a'), sum: { use: 'toy-collect/sum', with: { alt: true } } }).map((i) => i.path)).toEqual(['stages.sum']);
  });

  it('reverse mode through a many-input: one bar per source, added to each source (equals forward mode)', async () => {
    // a1 and a2 both read `a`: the bars of both list entries reach its gradient
    const stages: Stages = { a1: vec('a'), b1: vec('b', 2), a2: vec('a', 3), sum: { use: 'toy-collect/sum', inputs: { parts: ['b1', 'a1', 'a2'] } } };
    const plan = planPipeline(pipeline(stages), registry);
    const store = new MemoryStore();
    const omega = Float64Array.of(0.7, -1.3);
    const rev = await pullback(plan, registry, 'sum', { w: omega }, { store });
    expect(rev.wrt).toEqual(['a', 'b']);
    expect(rev.stats.visited).toEqual(['sum', 'a2', 'b1', 'a1']);
    const fwd = (await executePlan(plan, registry, { tangents: ['a', 'b'], store, targets: ['sum'] })).outputs.get('sum') as { w: DualArray };
    // closed form: w = 1 (2b, 2b^2) + 2 (a, a^2) + 3 (3a, 3a^2)
    const a = 2, b = 3;
    const exact = [omega[0] * (2 + 9) + omega[1] * (4 * a + 18 * a), omega[0] * 2 + omega[1] * 4 * b];
    for (let j = 0; j < 2; j++) {
      const t = omega[0] * fwd.w.tangent![2 * j] + omega[1] * fwd.w.tangent![2 * j + 1];
      expect(t).toBeCloseTo(exact[j], 12);
      expect(rev.gradient[j]).toBeCloseTo(exact[j], 12);
    }
  });

  it('reverse mode: a vjp whose bar for a many-input is not one bar per source is an error naming the stage', async () => {
    const bad: StagePlugin = { ...collect, id: 'toy-collect/bad', vjp: (_ctx, bar) => ({ inputs: { parts: [bar] } }) };
    const reg = toyRegistry();
    reg.register(bad, 'test');
    const plan = planPipeline(pipeline({ a1: vec('a'), b1: vec('b'), sum: { use: 'toy-collect/bad' } }), reg);
    await expect(pullback(plan, reg, 'sum', { w: Float64Array.of(1, 1) })).rejects.toThrow(
      /stage "sum" \(toy-collect\/bad\): the bar of its input "parts" \(from 2 stages: a1, b1\) must be an array of 2 bars/,
    );
  });
});
