/**
 * The vjps of the stages massive neutrinos pass through (issue 17), against forward AD through the same stage
 * (dot-product test), on the likelihood pipeline with m_nu = 0.06 varied and the linear stage on EH99
 * (with.transfer: "eh99"): the EH99 path's vjp, Halofit's bar of f_nu sent to the background's Omega_nu, and the
 * background's own m_nu dependence.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../core/cache/store.js';
import type { Plan } from '../../../core/graph/plan.js';
import type { PluginRegistry } from '../../../core/plugin/registry.js';
import { SHIFTED, likelihoodPipeline, noPlot, preparePipeline, variedSets, vjpDotTest } from './harness.js';

describe('stage vjps with m_nu varied (EH99 + Halofit with the Bird terms)', () => {
  let plan: Plan, registry: PluginRegistry;
  const store = new MemoryStore();
  beforeAll(async () => {
    ({ plan, registry } = await preparePipeline(likelihoodPipeline, SHIFTED, [
      ...noPlot, ...variedSets(7),
      'parameters.m_nu={"value":0.06,"vary":true}', 'stages.linear.with.transfer="eh99"', 'stages.linear.with.wiggles=false',
    ]));
  });

  for (const stage of ['nonlinear', 'linear', 'background']) {
    it(`${stage}: the vjp is the transpose of the forward tangent map, m_nu included`, async () => {
      const r = await vjpDotTest(plan, registry, stage, store);
      const j = r.varied.indexOf('m_nu');
      console.log(`${stage}: worst ${r.worst.toExponential(2)}; m_nu: ${r.lhs[j].toExponential(6)} vs ${r.rhs[j].toExponential(6)}`);
      expect(r.lhs[j]).not.toBe(0);
      expect(r.worst).toBeLessThan(1e-9);
    });
  }
});
