/**
 * ctx.sticky: inside one differentiation every evaluation sees the discretisation chosen at the first, so
 * adaptive quadrature cannot change between finite-difference points; outside it simply computes.
 */
import { describe, expect, it } from 'vitest';
import { preparePipeline } from '../../../core/cli/run-job.js';
import { executePlan } from '../../../core/graph/execute.js';
import { MemoryStore } from '../../../core/cache/store.js';
import path from 'node:path';
import type { Spectra } from '../../../plugins/contracts/spectra.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

describe('sticky discretisation', () => {
  it('the Limber nodes chosen at the fiducial are reused at a shifted parameter within one sticky scope', async () => {
    const { plan, registry } = await preparePipeline(path.join(root, 'pipelines/euclid-3x2pt.json'), [], ['stages.cl.with.plot=false']);
    const store = new MemoryStore();
    const run = async (params: Record<string, number>, sticky?: Map<string, unknown>) =>
      (await executePlan(plan, registry, { params, store, targets: ['cl'], sticky })).outputs.get('cl') as Spectra;
    const sticky = new Map<string, unknown>();
    const fid = await run({}, sticky);
    // a large shift changes the adaptive node count when free, but not inside the scope
    const freeShifted = await run({ Omega_m: 0.45 });
    const stickyShifted = await run({ Omega_m: 0.45 }, sticky);
    expect(stickyShifted.settings.z_nodes).toBe(fid.settings.z_nodes);
    expect(sticky.size).toBe(1);
    // at a 40% shift the fiducial nodes still integrate the auto-spectra to ~1e-4 (the free rule adapts)
    const nl = fid.ell.length;
    let worst = 0;
    fid.pairs.forEach(([a, b], p) => {
      if (a !== b) return; // auto-spectra: cross-spectra cross zero
      for (let l = 0; l < nl; l++) worst = Math.max(worst, Math.abs(stickyShifted.C.value[p * nl + l] / freeShifted.C.value[p * nl + l] - 1));
    });
    expect(worst).toBeLessThan(1e-3);
  });
});
