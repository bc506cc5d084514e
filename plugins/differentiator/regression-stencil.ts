/**
 * `differentiator/regression-stencil`: Euclid's "SteM" derivative (Euclid Collaboration, Blanchard et al.
 * 2020, A&A 642, A191, sec. 4): evaluate at the fiducial and at +-s_j for the steps s_j (by default 0.625,
 * 1.25, 1.875, 2.5, 3.75, 5 and 10 % of the fiducial: 15 points), fit a straight line by least squares, and
 * while any point deviates from the fit by more than `tolerance` (see stemSlopes), drop the outermost pair;
 * at least `min_points` points remain. Done independently for every output element.
 */
import { Matrix, QrDecomposition } from 'ml-matrix';
import { PLUGIN_API_VERSION, type MethodPlugin } from '../../core/plugin/types.js';
import type { Differentiator } from '../../core/graph/differentiator.js';
import { attach, flatten, layoutOf } from './leaf-table.js';

export interface StencilConfig { steps: number[]; abs_steps?: number[]; tolerance: number; deviation?: DeviationMeasure; min_points: number }

export const EUCLID_STEPS = [0.00625, 0.0125, 0.01875, 0.025, 0.0375, 0.05, 0.1];

/**
 * Slope of the SteM fit for each element. x: offsets sorted by |x| in pairs (x[0] = 0, then -s1, +s1, ...),
 * Y[j] the flattened outputs at x[j].
 */
export type DeviationMeasure = 'variation' | 'value';

/**
 * Slope of the SteM fit for each element. x: offsets sorted by |x| in pairs (x[0] = 0, then -s1, +s1, ...),
 * Y[j] the flattened outputs at x[j]. A point "deviates" when |y - fit| exceeds `tolerance` times
 *  - 'variation' (default): the spread of the points in the fit, max_j |y_j - y_0|, so the fitted slope is
 *    good to about `tolerance` of itself; or
 *  - 'value': |fit| itself. This is loose where the output varies little over the stencil (a P(k) near a
 *    BAO wiggle changes by 0.2 % over +-10 % in Omega_b while its slope changes sign): the fit keeps all 15
 *    points and returns the secant over +-10 %.
 */
export function stemSlopes(x: number[], Y: Float64Array[], tolerance: number, minPoints: number, measure: DeviationMeasure = 'variation'): Float64Array {
  const n = Y[0].length, J = x.length;
  const out = new Float64Array(n);
  // The least-squares line through the first m points is linear in the data: (a, b) = X_m^+ y with X_m the
  // m x 2 design matrix [1, x_j]. Its pseudo-inverse comes from ml-matrix's QR (the least-squares solution for
  // each unit vector), once per m, not per element.
  const fits = new Map<number, { wa: Float64Array; wb: Float64Array }>();
  const fitOf = (m: number) => {
    let f = fits.get(m);
    if (!f) {
      const X = new Matrix(m, 2);
      for (let j = 0; j < m; j++) { X.set(j, 0, 1); X.set(j, 1, x[j]); }
      const pinv = new QrDecomposition(X).solve(Matrix.eye(m)); // 2 x m
      f = { wa: Float64Array.from(pinv.getRow(0)), wb: Float64Array.from(pinv.getRow(1)) };
      fits.set(m, f);
    }
    return f;
  };
  for (let i = 0; i < n; i++) {
    let m = J;
    const y0 = Y[0][i];
    for (;;) {
      // the fit is applied to y_j - y_0 (the weights of b sum to 0, those of a to 1): no cancellation of y_0
      const { wa, wb } = fitOf(m);
      let a = y0, b = 0;
      for (let j = 1; j < m; j++) { const d = Y[j][i] - y0; a += wa[j] * d; b += wb[j] * d; }
      out[i] = b;
      if (m - 2 < minPoints) break;
      let spread = 0, scale = 0;
      for (let j = 0; j < m; j++) { spread = Math.max(spread, Math.abs(Y[j][i] - y0)); scale = Math.max(scale, Math.abs(Y[j][i])); }
      if (spread <= 1e-14 * scale) break; // constant: the slope is 0 to rounding
      let ok = true;
      for (let j = 0; j < m && ok; j++) {
        const fit = a + b * x[j];
        const ref = measure === 'variation' ? spread : Math.abs(fit);
        if (Math.abs(Y[j][i] - fit) > tolerance * ref) ok = false;
      }
      if (ok) break;
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
      deviation: { enum: ['variation', 'value'], default: 'variation', description: "what a point's deviation from the fit is relative to: the spread of the points ('variation', so the slope is good to about `tolerance`) or the value itself ('value', looser where the output barely changes)" },
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
        derivs.push(stemSlopes(x, Y, c.tolerance ?? 0.01, c.min_points ?? 3, c.deviation ?? 'variation'));
      }
      return attach(base, layout, derivs);
    },
  }),
};
