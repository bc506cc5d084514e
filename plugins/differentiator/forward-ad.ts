/** `differentiator/forward-ad`: one run with every varied parameter seeded as a tangent direction. */
import { PLUGIN_API_VERSION, type MethodPlugin } from '../../core/plugin/types.js';
import type { Differentiator } from '../../core/graph/differentiator.js';

export const forwardAd: MethodPlugin<{}, Differentiator> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'differentiator/forward-ad',
  version: '1.0.0',
  kind: 'differentiator',
  description: 'Forward-mode AD: tangents for all varied parameters flow through every stage in one run',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  create: () => ({
    name: 'forward-ad',
    mode: 'forward-single',
    async differentiate(evaluate, varied, progress) {
      progress?.(0, 1);
      const out = await evaluate({}, varied.map((v) => v.name));
      progress?.(1, 1);
      return out;
    },
  }),
};
