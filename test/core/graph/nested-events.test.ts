/**
 * The runs a stage makes inside a run (a differentiator's evaluations, the stencil around a black box, reverse
 * mode's forward runs) report their events to the parent's subject, tagged with depth and `within`.
 */
import { Subject } from 'rxjs';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../core/cache/store.js';
import { executePlan, type RunEvent } from '../../../core/graph/execute.js';
import { planPipeline } from '../../../core/graph/plan.js';
import type { StagePlugin } from '../../../core/plugin/types.js';
import { toyRegistry, toyRuns, vecSource } from '../../fixtures/graph-toys.js';

// w = (a + 4b, a^2 + 4b^2) at a = 2, b = 3: the consumer's g = (1 + 2a, 4 + 8b)
const EXACT = [5, 28];

const toyPipeline = (differentiator: unknown, source = 'toy-vec/param') => ({
  name: 'nested',
  parameters: { a: { value: 2, vary: true }, b: { value: 3, vary: true } },
  methods: { differentiator },
  stages: {
    a1: { use: source, with: { param: 'a' } },
    b1: { use: 'toy-vec/param', with: { param: 'b', scale: 2 } },
    sum: { use: 'toy-collect/sum' },
    cons: { use: 'toy-consumer/grad' },
  },
});

async function runWithEvents(p: object, extra?: StagePlugin) {
  const registry = toyRegistry();
  if (extra) registry.register(extra, 'test');
  const plan = planPipeline(p, registry);
  const events = new Subject<RunEvent>();
  const log: RunEvent[] = [];
  events.subscribe((e) => log.push(e));
  const r = await executePlan(plan, registry, { store: new MemoryStore(), events });
  return { r, log, cons: r.outputs.get('cons') as { grad: number[]; via: string } };
}

const kind = (log: RunEvent[], type: RunEvent['type'], depth = 0) => log.filter((e) => e.type === type && (e.depth ?? 0) === depth);

describe('nested runs report their events', () => {
  beforeEach(() => toyRuns.clear());

  it('finite differences: the evaluations at shifted parameters show up as nested stage events', async () => {
    const { log, cons } = await runWithEvents(toyPipeline({ use: 'finite-difference', with: { points: 3, step: 0.01 } }));
    cons.grad.forEach((g, j) => expect(g).toBeCloseTo(EXACT[j], 9)); // central differences are exact for quadratics
    // top level: every stage once, untagged
    expect(kind(log, 'stage-computed').map((e) => e.stage)).toEqual(['a1', 'b1', 'sum', 'cons']);
    expect(log.filter((e) => e.depth === undefined).every((e) => e.within === undefined)).toBe(true);
    // nested: 1 + 2 x 2 evaluations, each a run with its own run-start, within the consumer
    const nested = log.filter((e) => e.depth === 1);
    expect(nested.every((e) => e.within === 'cons')).toBe(true);
    expect(kind(log, 'run-start', 1)).toHaveLength(5);
    // the base point computes every stage (its keys carry the shared sticky scope), a shifted `a` recomputes a1
    // and sum (b1 comes from the store), and the other way round
    const computed = kind(log, 'stage-computed', 1).map((e) => e.stage);
    expect(computed.filter((s) => s === 'a1')).toHaveLength(3);
    expect(computed.filter((s) => s === 'b1')).toHaveLength(3);
    expect(computed.filter((s) => s === 'sum')).toHaveLength(5);
    expect(kind(log, 'stage-cached', 1).length).toBeGreaterThan(0);
  });

  it('the stencil around a black box reports its runs within the black box stage', async () => {
    const blackBox: typeof vecSource = {
      ...vecSource, id: 'toy-vec/blackbox', differentiable: 'none',
      run(ctx) {
        const plain = { ...ctx, tangentParams: [], param: (n: string) => ({ v: ctx.param(n).v, d: null }) };
        return vecSource.run(plain);
      },
    };
    const { log, cons } = await runWithEvents(toyPipeline('forward-ad', 'toy-vec/blackbox'), blackBox);
    cons.grad.forEach((g, j) => expect(g).toBeCloseTo(EXACT[j], 6)); // the symmetric regression slope of a quadratic is exact
    const within = new Set(log.filter((e) => e.depth === 1).map((e) => e.within));
    expect(within).toEqual(new Set(['a1', 'cons']));
    // the 15-point stencil: 14 shifted runs and the base, each computing the black box
    expect(kind(log, 'stage-computed', 1).filter((e) => e.within === 'a1' && e.stage === 'a1')).toHaveLength(15);
  });

  it("reverse mode: the consumer's evaluation and its pullback's forward run are nested runs", async () => {
    const { log, cons } = await runWithEvents(toyPipeline('reverse-adjoint'));
    expect(cons.via).toBe('reverse');
    cons.grad.forEach((g, j) => expect(g).toBeCloseTo(EXACT[j], 12));
    // one evaluation by the differentiator, one forward run by the pullback
    expect(kind(log, 'run-start', 1).map((e) => e.within)).toEqual(['cons', 'cons']);
    expect(kind(log, 'run-done', 1)).toHaveLength(2);
  });
});
