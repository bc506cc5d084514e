/**
 * The Boltzmann stage's vjp inside the reverse-mode runtime (core/graph/reverse.ts) on pipelines/linear-power.json
 * (background/w0wa -> recombination/recfast -> linear-power/boltzmann), coarse grid, w0wa point, seven varied
 * parameters: the pulled-back gradient of F = sum w P(k, z) (the runtime sends the stage's recombination bar to
 * recfast's vjp, recombination/recfast-vjp.ts) against forward AD of the whole pipeline; and the reverse sweep
 * visits the Boltzmann stage's and recfast's vjps, with no forward-mode boundary.
 */
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import type { DualArray } from '../../../core/ad/dual-array.js';
import { MemoryStore } from '../../../core/cache/store.js';
import { preparePipeline } from '../../../core/cli/run-job.js';
import { executePlan } from '../../../core/graph/execute.js';
import { pullback } from '../../../core/graph/reverse.js';
import { repoRoot } from './harness.js';

const VARY = ['h', 'Omega_b', 'Omega_m', 'n_s', 'w0', 'wa', 'N_eff'];
const SETS = [
  'stages.linear.with.k={"k_min":0.0001,"k_max":0.5,"per_decade":5}',
  'stages.linear.with.z={"z_max":2,"count":3,"spacing":"linear"}',
  'stages.linear.with.output_z=[0,1,2]',
  'stages.linear.with.transfer={"per_decade":6,"bao":{"step":0}}',
  'stages.linear.with.threads=1',
  'stages.linear.with.precision={"rtol":1e-7,"atol":1e-12}',
  ...VARY.map((p) => `parameters.${p}.vary=true`),
];

describe('linear-power/boltzmann under differentiator/reverse-adjoint', () => {
  test('the pulled-back gradient equals forward AD of the pipeline', async () => {
    const { plan, registry } = await preparePipeline(path.join(repoRoot, 'pipelines/linear-power.json'), ['w0=-0.9', 'wa=0.2'], SETS);
    const store = new MemoryStore();
    const fwd = await executePlan(plan, registry, { tangents: VARY, targets: ['linear'], store });
    const P = (fwd.outputs.get('linear') as { P_Mpc3: DualArray }).P_Mpc3;
    const N = P.value.length;
    const w = Float64Array.from({ length: N }, (_, i) => Math.sin(2.3 * i + 0.7) + 0.3);
    const ref = Float64Array.from(VARY, (_, p) => {
      let s = 0;
      for (let i = 0; i < N; i++) s += w[i] * P.tangent![p * N + i];
      return s;
    });
    const r = await pullback(plan, registry, 'linear', { P_Mpc3: w }, { wrt: VARY, store });
    expect(r.stats.visited).toEqual(['linear', 'recombination']); // neither reads the background's arrays (the cosmology is theirs)
    expect(r.stats.forwardBoundary).toEqual([]);
    const scale = Math.max(...Array.from(ref, Math.abs));
    const rel = Array.from(ref, (v, p) => Math.abs(r.gradient[p] - v) / Math.max(Math.abs(v), 1e-3 * scale));
    console.log(`pullback vs forward AD: ${VARY.map((p, i) => `${p} ${rel[i].toExponential(2)}`).join(', ')}`);
    for (const e of rel) expect(e).toBeLessThan(1e-4);
  });
});
