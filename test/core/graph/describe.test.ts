/**
 * The static description pass of planning (StagePlugin.describe): descriptions flow in topological order,
 * relative `paths` become absolute, problems become plan issues with JSON paths, a throwing describe is one
 * problem of its stage, and a stage with problems passes no description on (no cascade downstream).
 */
import { describe, expect, it } from 'vitest';
import { planPipeline } from '../../../core/graph/plan.js';
import { PluginRegistry } from '../../../core/plugin/registry.js';
import { PLUGIN_API_VERSION, type StagePlugin, type StaticDescription } from '../../../core/plugin/types.js';
import { InputError } from '../../../core/schema/input-error.js';

const base = { apiVersion: PLUGIN_API_VERSION, version: '1.0.0', description: 'toy', reads: {}, differentiable: 'forward' as const, run: () => ({}) };
const schema = (props: Record<string, unknown>) => ({ type: 'object', additionalProperties: false, properties: props });

/** A source of `n` bins. */
const source: StagePlugin<{ n: number }> = {
  ...base, id: 'toy-bins/source', port: 'toy-bins', configSchema: schema({ n: { type: 'integer', default: 5 } }), inputs: {},
  describe: (c) => ({ description: { nBins: c.n, paths: { nBins: 'with.n' } } }),
};
/** A consumer expecting `bins` bins; its own description is what it saw. */
const seen: (StaticDescription | undefined)[] = [];
const consumer: StagePlugin<{ bins: number }> = {
  ...base, id: 'toy-use/bins', port: 'toy-use', configSchema: schema({ bins: { type: 'integer', default: 5 } }), inputs: { src: 'toy-bins' },
  describe(c, ctx) {
    const d = ctx.inputs.src as StaticDescription | undefined;
    seen.push(d);
    if (d && d.nBins !== c.bins) return { problems: [`with.bins: ${c.bins}, but stage "${String(ctx.providers.src)}" provides ${String(d.nBins)} bins (set by ${String(d.paths?.nBins)})`] };
    return { description: { bins: c.bins } };
  },
};
const thrower: StagePlugin = {
  ...base, id: 'toy-bins/thrower', port: 'toy-bins', configSchema: schema({}), inputs: {},
  describe: () => { throw new Error('boom'); },
};
const downstream: StagePlugin = {
  ...base, id: 'toy-end/end', port: 'toy-end', configSchema: schema({}), inputs: { use: 'toy-use' },
  describe: (_c, ctx) => ({ problems: ctx.inputs.use ? [] : ['the input has no description'] }),
};

function registry(): PluginRegistry {
  const r = new PluginRegistry();
  for (const p of [source, consumer, thrower, downstream]) r.register(p, 'test');
  return r;
}

const issues = (f: () => unknown): { path: string; message: string }[] => {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return e.issues;
    throw e;
  }
  return [];
};

describe('static descriptions at planning', () => {
  it('flow downstream with absolute paths; a consistent pipeline plans', () => {
    seen.length = 0;
    const plan = planPipeline({ name: 't', stages: { a: { use: 'toy-bins/source', with: { n: 5 } }, b: { use: 'toy-use/bins' } } }, registry());
    expect(seen).toEqual([{ nBins: 5, paths: { nBins: 'stages.a.with.n' } }]);
    expect(plan.descriptions?.get('b')).toEqual({ bins: 5 });
  });

  it('a mismatch is a plan problem at the consumer\'s with. path, naming where the upstream value is set', () => {
    const got = issues(() => planPipeline({ name: 't', stages: { a: { use: 'toy-bins/source', with: { n: 5 } }, b: { use: 'toy-use/bins', with: { bins: 10 } } } }, registry()));
    expect(got).toEqual([{ path: 'stages.b.with.bins', message: '10, but stage "a" provides 5 bins (set by stages.a.with.n)' }]);
  });

  it('a throwing describe is reported once as a problem of its stage, and its consumers see undefined', () => {
    seen.length = 0;
    const got = issues(() => planPipeline({ name: 't', stages: { a: { use: 'toy-bins/thrower' }, b: { use: 'toy-use/bins' } } }, registry()));
    expect(got).toEqual([{ path: 'stages.a', message: 'describe(config) of toy-bins/thrower failed: boom' }]);
    expect(seen).toEqual([undefined]);
  });

  it('a stage with problems passes no description on (one mistake, one message)', () => {
    const got = issues(() => planPipeline({
      name: 't', stages: { a: { use: 'toy-bins/source', with: { n: 5 } }, b: { use: 'toy-use/bins', with: { bins: 10 } }, c: { use: 'toy-end/end' } },
    }, registry()));
    expect(got.map((i) => i.path)).toEqual(['stages.b.with.bins', 'stages.c']);
    expect(got[1].message).toBe('the input has no description');
  });
});
