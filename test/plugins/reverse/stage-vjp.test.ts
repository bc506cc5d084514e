/**
 * Each stage's vector-Jacobian product against forward-mode AD through the same stage (the dot-product test
 * ybar . (dy/dtheta) = xbar . (dx/dtheta) + pbar, with xbar, pbar from the vjp), on the main job with 40
 * varied parameters: cosmology, IA, biases, Omega_k, shear biases and photo-z shifts.
 * The two sides are computed by independent code paths; they agree to rounding (the tolerance 1e-9 leaves
 * room for the banded contraction's 1e-14 band cut and the summation order).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../core/cache/store.js';
import type { Plan } from '../../../core/graph/plan.js';
import type { PluginRegistry } from '../../../core/plugin/registry.js';
import { SHIFTED, SHIFTED_NUISANCE, likelihoodPipeline, noPlot, preparePipeline, variedSets, vjpDotTest } from './harness.js';

describe('stage vjps against forward AD (dot-product test, 40 parameters)', () => {
  let plan: Plan, registry: PluginRegistry;
  const store = new MemoryStore();
  beforeAll(async () => {
    ({ plan, registry } = await preparePipeline(likelihoodPipeline, SHIFTED, [...noPlot, ...variedSets(40), ...SHIFTED_NUISANCE]));
  });

  for (const stage of ['cl', 'weights', 'nz', 'nonlinear', 'linear', 'background']) {
    it(`${stage}: the vjp is the transpose of the forward tangent map`, async () => {
      const r = await vjpDotTest(plan, registry, stage, store);
      const j = r.rel.indexOf(r.worst);
      console.log(`${stage}: worst ${r.worst.toExponential(2)} (${r.varied[j]}: ${r.lhs[j].toExponential(6)} vs ${r.rhs[j].toExponential(6)}); ` +
        `${r.lhs.filter((x) => x !== 0).length} of ${r.varied.length} parameters reach it`);
      expect(r.worst).toBeLessThan(1e-9);
      // the test sees something: most parameters reach the spectra
      expect(r.lhs.filter((x) => x !== 0).length).toBeGreaterThan(stage === 'nz' ? 9 : ['nonlinear', 'linear'].includes(stage) ? 7 : stage === 'background' ? 4 : 30);
    });
  }
});
