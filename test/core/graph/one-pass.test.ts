/**
 * Forward AD in one pass: under a 'forward-single' differentiator the ancestors of the stage consuming
 * tangents run once, with tangents, and the consumer's evaluation finds them in the memo store. On toys and on
 * the main job (7 stages: 7 computations, not 13), with the numbers unchanged.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Subject } from 'rxjs';
import { beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../core/cache/store.js';
import { preparePipeline } from '../../../core/cli/run-job.js';
import { executePlan, type RunEvent } from '../../../core/graph/execute.js';
import type { Differentiator } from '../../../core/graph/differentiator.js';
import { planPipeline } from '../../../core/graph/plan.js';
import { forwardAd } from '../../../plugins/differentiator/forward-ad.js';
import { toyRegistry, toyRuns } from '../../fixtures/graph-toys.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

/** forward AD without the one-pass flag: the runtime then takes the general path (values, then an evaluation). */
const twoPass = (): Differentiator => ({ ...forwardAd.create({}), mode: undefined });

function recorder() {
  const events = new Subject<RunEvent>();
  const log: RunEvent[] = [];
  events.subscribe((e) => log.push(e));
  return { events, log };
}

/** stage -> number of stage-computed events, at every depth. */
function computedPerStage(log: RunEvent[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of log) if (e.type === 'stage-computed') out[e.stage!] = (out[e.stage!] ?? 0) + 1;
  return out;
}

describe('forward AD in one pass (toys)', () => {
  beforeEach(() => toyRuns.clear());
  const registry = toyRegistry();
  const plan = planPipeline({
    name: 'one-pass',
    parameters: { a: { value: 2, vary: true }, b: { value: 3, vary: true } },
    methods: { differentiator: 'forward-ad' },
    stages: {
      a1: { use: 'toy-vec/param', with: { param: 'a' } },
      b1: { use: 'toy-vec/param', with: { param: 'b', scale: 2 } },
      sum: { use: 'toy-collect/sum' },
      cons: { use: 'toy-consumer/grad' },
      // reads a1 but is not an ancestor of the consumer: it gets values, as before
      probe: { use: 'toy-probe/tangents', inputs: { y: 'a1' } },
    },
  }, registry);

  it('every stage runs once; the consumer finds its inputs in the store; other readers get values', async () => {
    const { events, log } = recorder();
    const r = await executePlan(plan, registry, { store: new MemoryStore(), events });
    expect(Object.fromEntries(toyRuns)).toEqual({ a1: 1, b1: 1, sum: 1, cons: 1, probe: 1 });
    expect(computedPerStage(log)).toEqual({ a1: 1, b1: 1, sum: 1, cons: 1, probe: 1 });
    expect(log.filter((e) => e.type === 'stage-cached' && e.depth === 1).map((e) => e.stage)).toEqual(['a1', 'b1', 'sum']);
    expect((r.outputs.get('cons') as { grad: number[] }).grad).toEqual([5, 28]);
    expect(r.outputs.get('probe')).toEqual({ ownP: 0, inputP: 0 });
    // the top-level output of an ancestor carries the tangents
    expect((r.outputs.get('sum') as { w: { P: number } }).w.P).toBe(2);
  });

  it('the general path (a differentiator without the flag) computes the ancestors twice, with the same result', async () => {
    const r = await executePlan(plan, registry, { store: new MemoryStore(), differentiator: twoPass() });
    expect(Object.fromEntries(toyRuns)).toEqual({ a1: 2, b1: 2, sum: 2, cons: 1, probe: 1 });
    expect((r.outputs.get('cons') as { grad: number[] }).grad).toEqual([5, 28]);
    expect((r.outputs.get('sum') as { w: { P: number } }).w.P).toBe(0);
  });
});

describe('forward AD in one pass (the main job)', () => {
  it('computes each of the 7 stages exactly once, with the Fisher matrix and cl.tsv of the general path', async () => {
    const file = path.join(root, 'pipelines/euclid-3x2pt-fisher.json');
    const { plan, registry } = await preparePipeline(file, [], ['stages.cl.with.plot=false', 'stages.fisher.with.plot=false']);
    expect(plan.order).toHaveLength(7);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).methods.differentiator).toBe('forward-ad');

    const { events, log } = recorder();
    const one = await executePlan(plan, registry, { store: new MemoryStore(), events });
    expect(computedPerStage(log)).toEqual(Object.fromEntries(plan.order.map((n) => [n, 1])));
    // the consumer's evaluation is a nested run that finds everything in the store
    expect(log.filter((e) => e.depth === 1 && e.type === 'stage-cached').length).toBeGreaterThan(0);
    expect(log.every((e) => !e.depth || e.within === 'fisher')).toBe(true);

    // the general path (values, then a run with tangents: 13 computations) and a fresh one-pass run
    const { events: ev2, log: log2 } = recorder();
    const general = await executePlan(plan, registry, { store: new MemoryStore(), events: ev2, differentiator: twoPass() });
    expect(Object.values(computedPerStage(log2)).reduce((a, b) => a + b, 0)).toBe(13);
    const again = await executePlan(plan, registry, { store: new MemoryStore() });
    const F = (r: typeof one) => Array.from((r.outputs.get('fisher') as { F: Float64Array }).F);
    expect(F(one)).toEqual(F(general));
    expect(F(again)).toEqual(F(one));

    // files are written from the values, which are those of a values-only run
    const cl = plan.stages.get('cl')!;
    const write = async (r: typeof one) => cl.plugin.write!(r.outputs.get('cl'), 'cl.tsv', { config: cl.config, params: r.params });
    const [a, b] = [await write(one), await write(general)];
    expect(Object.keys(a)).toEqual(Object.keys(b));
    for (const k of Object.keys(a)) expect(a[k]).toEqual(b[k]);
  });
});
