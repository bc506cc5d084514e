/**
 * A plugin's config schema is checked against the JSON Schema meta-schema when the plugin is registered (a clear
 * error naming the plugin), and compiled only when a pipeline first uses it (core/plugin/registry.ts): a schema
 * that is valid JSON Schema but cannot be compiled (an unresolvable $ref) is an error when a pipeline plans it.
 */
import { describe, expect, it } from 'vitest';
import { planPipeline } from '../../../core/graph/plan.js';
import { registryFor } from '../../../core/graph/runtime.js';
import { PLUGIN_API_VERSION, type StagePlugin } from '../../../core/plugin/types.js';

const stage = (id: string, configSchema: Record<string, unknown>): StagePlugin => ({
  apiVersion: PLUGIN_API_VERSION, id, version: '1.0.0', port: 'probe', description: 'a test stage',
  configSchema, inputs: {}, reads: {}, differentiable: 'none', run: () => ({ x: 1 }),
});

describe('plugin config schemas', () => {
  it('a schema that is not JSON Schema is refused at registration, naming the plugin and the problem', async () => {
    const registry = await registryFor({});
    expect(() => registry.register(stage('probe/bad-type', { type: 'nonsense' }), 'test'))
      .toThrow(/plugin "probe\/bad-type" from test: configSchema is not a valid JSON Schema: .*type/);
    expect(registry.has('probe/bad-type')).toBe(false);
  });

  it('a valid schema that cannot compile fails when a pipeline uses the plugin, saying so', async () => {
    const registry = await registryFor({});
    registry.register(stage('probe/bad-ref', { type: 'object', properties: { a: { $ref: '#/definitions/missing' } } }), 'test');
    registry.register(stage('probe/good', { type: 'object', properties: { a: { type: 'number', default: 1 } } }), 'test');
    const plan = planPipeline({ name: 't', parameters: {}, stages: { s: { use: 'probe/good' } } }, registry);
    expect(plan.stages.get('s')!.config).toEqual({ a: 1 });
    expect(() => planPipeline({ name: 't', parameters: {}, stages: { s: { use: 'probe/bad-ref' } } }, registry))
      .toThrow(/does not compile: .*missing/);
  });
});
