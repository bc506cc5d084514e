/**
 * `differentiator/finite-difference`: central differences, 3-point  (f(+h) - f(-h)) / 2h  or 5-point
 * (-f(+2h) + 8 f(+h) - 8 f(-h) + f(-2h)) / 12h  (truncation O(h^2) and O(h^4)).
 */
import { PLUGIN_API_VERSION, type MethodPlugin } from '../../core/plugin/types.js';
import { stepFor, type Differentiator } from '../../core/graph/differentiator.js';
import { attach, flatten, layoutOf } from './leaf-table.js';

export interface FiniteDifferenceConfig { points: 3 | 5; step: number; abs_step: number }

export const finiteDifference: MethodPlugin<FiniteDifferenceConfig, Differentiator> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'differentiator/finite-difference',
  version: '1.0.0',
  kind: 'differentiator',
  description: 'Central finite differences (3- or 5-point) with a relative step',
  configSchema: {
    type: 'object', additionalProperties: false,
    properties: {
      points: { enum: [3, 5], default: 5, description: 'stencil points' },
      step: { type: 'number', exclusiveMinimum: 0, maximum: 0.5, default: 0.01, description: 'step relative to the fiducial (a parameter\'s own "step" overrides it)' },
      abs_step: { type: 'number', exclusiveMinimum: 0, default: 0.01, description: 'absolute step where the fiducial is 0 (unless the parameter or its plugin sets one)' },
    },
  },
  create: (c) => ({
    name: `finite-difference(${c.points ?? 5}-point)`,
    async differentiate(evaluate, varied, progress) {
      const points = c.points ?? 5;
      const base = await evaluate({}, []);
      const layout = layoutOf(base);
      const derivs: Float64Array[] = [];
      const total = varied.length * (points - 1);
      let done = 0;
      for (const p of varied) {
        const h = stepFor(p, c.step ?? 0.01, c.abs_step ?? 0.01);
        const at = async (s: number) => { const r = flatten(await evaluate({ [p.name]: p.value + s * h }, []), layout); progress?.(++done, total); return r; };
        const d = new Float64Array(layout.total);
        if (points === 3) {
          const fp = await at(1), fm = await at(-1);
          for (let i = 0; i < d.length; i++) d[i] = (fp[i] - fm[i]) / (2 * h);
        } else {
          const f2 = await at(2), f1 = await at(1), m1 = await at(-1), m2 = await at(-2);
          for (let i = 0; i < d.length; i++) d[i] = (-f2[i] + 8 * f1[i] - 8 * m1[i] + m2[i]) / (12 * h);
        }
        derivs.push(d);
      }
      return attach(base, layout, derivs);
    },
  }),
};
