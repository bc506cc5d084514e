/**
 * The backward sweep's bookkeeping (core/graph/reverse.ts): a bar goes only into stages through which it can
 * reach a differentiated parameter (others' vjps never run, and a vjp learns which of its inputs are needed);
 * bars pass from one vjp to the next without copies, and a stage read by several others sums their bars into
 * an array of its own (never into an array a vjp returned).
 */
import { describe, expect, it } from 'vitest';
import type { DualArray } from '../../../core/ad/dual-array.js';
import { MemoryStore } from '../../../core/cache/store.js';
import { executePlan } from '../../../core/graph/execute.js';
import { planPipeline } from '../../../core/graph/plan.js';
import { pullback } from '../../../core/graph/reverse.js';
import { PLUGIN_API_VERSION, type StagePlugin } from '../../../core/plugin/types.js';
import { toyRegistry } from '../../fixtures/graph-toys.js';

type Vec = { tag: string; y: DualArray };
/** What the toy's vjps saw and returned, per stage. */
const seen = new Map<string, { needs: boolean | undefined; returned: Float64Array; copy: number[] }>();

/** y = 2 x.y (port toy-vec, so that toy-collect/sum reads it). */
const double: StagePlugin<{}, { x: Vec }, Vec> = {
  apiVersion: PLUGIN_API_VERSION, version: '1.0.0', description: 'toy', differentiable: 'forward',
  id: 'toy-vec/double', port: 'toy-vec', configSchema: { type: 'object', properties: {} }, inputs: { x: 'toy-vec' }, reads: {},
  run(ctx) {
    const { value, tangent, P } = ctx.inputs.x.y;
    return { tag: ctx.stage, y: { value: value.map((v) => 2 * v), tangent: tangent ? tangent.map((v) => 2 * v) : null, P } };
  },
  vjp(ctx, bar) {
    const returned = (bar as { y: Float64Array }).y.map((b) => 2 * b);
    seen.set(ctx.stage, { needs: ctx.needs?.('x'), returned, copy: Array.from(returned) });
    return { inputs: { x: { y: returned } } };
  },
};

const registry = toyRegistry();
registry.register(double, 'test');

function plan(vary: { a: boolean; d: boolean }) {
  return planPipeline({
    name: 'sweep',
    parameters: { a: { value: 2, vary: vary.a }, d: { value: 5, vary: vary.d } },
    stages: {
      a1: { use: 'toy-vec/param', with: { param: 'a' } },
      d1: { use: 'toy-vec/param', with: { param: 'd' } },
      m1: { use: 'toy-vec/double', inputs: { x: 'a1' } },
      m2: { use: 'toy-vec/double', inputs: { x: 'a1' } },
      m3: { use: 'toy-vec/double', inputs: { x: 'd1' } },
      sum: { use: 'toy-collect/sum', inputs: { parts: ['m1', 'm2', 'm3'] } },
    },
  }, registry);
}

describe('the backward sweep', () => {
  const omega = Float64Array.of(0.7, -1.3);

  it('visits only stages whose bar can reach a differentiated parameter; sums go into its own arrays', async () => {
    seen.clear();
    const p = plan({ a: true, d: false });
    const store = new MemoryStore();
    const rev = await pullback(p, registry, 'sum', { w: omega }, { store });
    expect(rev.wrt).toEqual(['a']);
    // d1 reads only d (not varied): neither it nor m3 runs a vjp
    expect(new Set(rev.stats.visited)).toEqual(new Set(['sum', 'm1', 'm2', 'a1']));
    expect(seen.has('m3')).toBe(false);
    expect(seen.get('m1')!.needs).toBe(true);
    // a1 is read by m1 and m2: its bar is the sum of theirs, formed without writing into what they returned
    for (const m of ['m1', 'm2']) expect(Array.from(seen.get(m)!.returned)).toEqual(seen.get(m)!.copy);
    // w = 1 m1 + 2 m2 + 3 m3 = 6 (a, a^2) + 6 (d, d^2): d(omega . w)/da = 6 (omega_0 + 2 a omega_1)
    expect(rev.gradient[0]).toBeCloseTo(6 * (omega[0] + 2 * 2 * omega[1]), 12);
    const fwd = (await executePlan(p, registry, { tangents: ['a'], store, targets: ['sum'] })).outputs.get('sum') as { w: DualArray };
    expect(rev.gradient[0]).toBeCloseTo(omega[0] * fwd.w.tangent![0] + omega[1] * fwd.w.tangent![1], 12);
  });

  it('with d varied too, the d branch is visited and its gradient is right', async () => {
    seen.clear();
    const rev = await pullback(plan({ a: true, d: true }), registry, 'sum', { w: omega }, { store: new MemoryStore() });
    expect(rev.wrt).toEqual(['a', 'd']);
    expect(new Set(rev.stats.visited)).toEqual(new Set(['sum', 'm1', 'm2', 'm3', 'a1', 'd1']));
    expect(rev.gradient[1]).toBeCloseTo(6 * (omega[0] + 2 * 5 * omega[1]), 12);
  });

  it('a sweep with respect to nothing the target depends on visits nothing', async () => {
    const rev = await pullback(plan({ a: true, d: true }), registry, 'm3', { y: omega }, { store: new MemoryStore(), wrt: ['a'] });
    expect(rev.stats.visited).toEqual([]);
    expect(Array.from(rev.gradient)).toEqual([0]);
  });
});
