/**
 * `differentiator/regression-stencil`: Euclid's "SteM" derivative (Euclid Collaboration, Blanchard et al.
 * 2020, A&A 642, A191, sec. 4): evaluate at the fiducial and at +-s_j for the steps s_j (by default 0.625,
 * 1.25, 1.875, 2.5, 3.75, 5 and 10 % of the fiducial: 15 points), fit a straight line by least squares, and
 * while any point deviates from the fit by more than `tolerance` (relative), drop the outermost pair;
 * at least `min_points` points remain. Done independently for every output element.
 */
import { PLUGIN_API_VERSION, type MethodPlugin } from '../../core/plugin/types.js';
import type { Differentiator } from '../../core/graph/differentiator.js';
import { attach, flatten, layoutOf } from './leaf-table.js';

export interface StencilConfig { steps: number[]; abs_steps?: number[]; tolerance: number; min_points: number }

export const EUCLID_STEPS = [0.00625, 0.0125, 0.01875, 0.025, 0.0375, 0.05, 0.1];

/**
 * Slope of the SteM fit for each element. x: offsets sorted by |x| in pairs (x[0] = 0, then -s1, +s1, ...),
 * Y[j] the flattened outputs at x[j].
 */
export function stemSlopes(x: number[], Y: Float64Array[], tolerance: number, minPoints: number): Float64Array {
  const n = Y[0].length, J = x.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let m = J;
    for (;;) {
      // least-squares line through the first m points
      let sx = 0, sy = 0, sxx = 0, sxy = 0;
      for (let j = 0; j < m; j++) { const xj = x[j], yj = Y[j][i]; sx += xj; sy += yj; sxx += xj * xj; sxy += xj * yj; }
      const den = m * sxx - sx * sx;
      const b = (m * sxy - sx * sy) / den;
      const a = (sy - b * sx) / m;
      out[i] = b;
      if (m - 2 < minPoints) break;
      let worst = 0, scale = 0;
      for (let j = 0; j < m; j++) scale = Math.max(scale, Math.abs(Y[j][i]));
      for (let j = 0; j < m; j++) {
        const fit = a + b * x[j];
        const dev = Math.abs(Y[j][i] - fit) / Math.max(Math.abs(fit), 1e-300);
        if (dev > worst && Math.abs(Y[j][i] - fit) > 1e-14 * scale) worst = dev;
      }
      if (worst <= tolerance) break;
      m -= 2;
    }
  }
  return out;
}

export const regressionStencil: MethodPlugin<StencilConfig, Differentiator> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'differentiator/regression-stencil',
  version: '1.0.0',
  kind: 'differentiator',
  description: "Euclid's 15-point regression stencil (SteM): linear fit over +-0.625..10 % steps, outer pairs dropped until the fit is good",
  configSchema: {
    type: 'object', additionalProperties: false,
    properties: {
      steps: { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 1, default: EUCLID_STEPS, description: 'relative steps (fractions of the fiducial), ascending' },
      abs_steps: { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 1, description: 'absolute steps where the fiducial is 0 (default: the relative steps as absolute values)' },
      tolerance: { type: 'number', exclusiveMinimum: 0, default: 0.01, description: 'largest relative deviation of a point from the fit before the outermost pair is dropped' },
      min_points: { type: 'integer', minimum: 3, default: 3, description: 'fewest points a fit may use' },
    },
  },
  create: (c) => ({
    name: 'regression-stencil',
    async differentiate(evaluate, varied, progress) {
      const steps = [...(c.steps ?? EUCLID_STEPS)].sort((a, b) => a - b);
      const base = await evaluate({}, []);
      const layout = layoutOf(base);
      const f0 = flatten(base, layout);
      const total = varied.length * 2 * steps.length;
      let done = 0;
      const derivs: Float64Array[] = [];
      for (const p of varied) {
        const abs = p.value === 0;
        if (abs && c.abs_steps && c.abs_steps.length !== steps.length) throw new Error('regression-stencil: with.abs_steps must have as many entries as with.steps');
        // at a zero fiducial the steps are absolute: the configured abs_steps, else the same numbers (IST:F)
        const s = abs ? [...(c.abs_steps ?? steps)].sort((a, b) => a - b) : steps.map((f) => f * Math.abs(p.value));
        const x: number[] = [0];
        const Y: Float64Array[] = [f0];
        for (const h of s)
          for (const sign of [-1, 1]) {
            x.push(sign * h);
            Y.push(flatten(await evaluate({ [p.name]: p.value + sign * h }, []), layout));
            progress?.(++done, total);
          }
        derivs.push(stemSlopes(x, Y, c.tolerance ?? 0.01, c.min_points ?? 3));
      }
      return attach(base, layout, derivs);
    },
  }),
};
