/**
 * The vjp of recombination/recfast (plugins/recombination/recfast-vjp.ts) on pipelines/linear-power.json:
 *   - dot-product test against forward AD through the stage: for a random bar on every differentiable leaf of its
 *     output (tables and scalars), bar . (J v) by the stage's forward tangents along the varied parameters equals
 *     vjp(bar) . v; varied: a subset of what it reads (so the vjp's own directions, all of its reads, must be
 *     mapped back by name) plus n_s and sigma8, which it does not read (their bars must be absent or zero);
 *   - through the runtime: a pullback with recfast as its target visits its vjp (no forward-mode boundary) and
 *     gives the same gradient;
 *   - with massive neutrinos (m_nu = 0.06 eV, varied): the same dot-product test.
 */
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { MemoryStore } from '../../../core/cache/store.js';
import { preparePipeline } from '../../../core/cli/run-job.js';
import { executePlan } from '../../../core/graph/execute.js';
import { pullback } from '../../../core/graph/reverse.js';
import { barDotTangents, randomBar, randomStream, vjpDotTest } from '../reverse/harness.js';
import { repoRoot } from '../boltzmann/harness.js';

const PIPELINE = path.join(repoRoot, 'pipelines/linear-power.json');
// recfast reads h, Omega_b, Omega_m, Omega_k, w0, wa, T_cmb, N_eff, m_nu, tau_reio; n_s and sigma8 it does not
const VARY = ['h', 'Omega_b', 'Omega_m', 'w0', 'wa', 'N_eff', 'tau_reio', 'n_s', 'sigma8'];
const sets = (vary: string[]) => vary.map((p) => `parameters.${p}.vary=true`);

describe('recombination/recfast vjp', () => {
  test('dot-product test against forward AD through the stage (1e-10)', async () => {
    const { plan, registry } = await preparePipeline(PIPELINE, ['w0=-0.9', 'wa=0.2'], sets(VARY));
    const r = await vjpDotTest(plan, registry, 'recombination', new MemoryStore());
    console.log(`recfast vjp vs forward AD: ${r.varied.map((p, j) => `${p} ${r.rel[j].toExponential(1)}`).join(', ')}`);
    expect(r.worst).toBeLessThan(1e-10);
    // the test sees something: every parameter recfast reads moves its output; n_s and sigma8 give exactly 0
    for (const [j, p] of r.varied.entries()) {
      if (p === 'n_s' || p === 'sigma8') expect(r.rhs[j]).toBe(0);
      else expect(Math.abs(r.lhs[j])).toBeGreaterThan(0);
    }
  });

  test('with massive neutrinos: m_nu = 0.06 eV, varied', async () => {
    const { plan, registry } = await preparePipeline(PIPELINE, ['m_nu=0.06'], sets(['h', 'Omega_m', 'N_eff', 'm_nu', 'T_cmb']));
    const r = await vjpDotTest(plan, registry, 'recombination', new MemoryStore(), 11);
    console.log(`recfast vjp vs forward AD (m_nu = 0.06): ${r.varied.map((p, j) => `${p} ${r.rel[j].toExponential(1)}`).join(', ')}`);
    expect(r.worst).toBeLessThan(1e-10);
    expect(Math.abs(r.lhs[r.varied.indexOf('m_nu')])).toBeGreaterThan(0);
  });

  test('through the runtime: the pullback visits its vjp, no forward boundary, same gradient', async () => {
    const { plan, registry } = await preparePipeline(PIPELINE, ['w0=-0.9', 'wa=0.2'], sets(VARY));
    const store = new MemoryStore();
    const val = await executePlan(plan, registry, { tangents: [], targets: ['recombination'], store });
    const bar = randomBar(val.outputs.get('recombination'), randomStream(3));
    const fwd = await executePlan(plan, registry, { tangents: VARY, targets: ['recombination'], store });
    const ref = barDotTangents(fwd.outputs.get('recombination'), bar, VARY.length);
    const r = await pullback(plan, registry, 'recombination', bar, { wrt: VARY, store });
    expect(r.stats.visited).toEqual(['recombination']);
    expect(r.stats.forwardBoundary).toEqual([]);
    for (let j = 0; j < VARY.length; j++) expect(Math.abs(r.gradient[j] - ref[j])).toBeLessThanOrEqual(1e-10 * Math.abs(ref[j]));
  });
});
