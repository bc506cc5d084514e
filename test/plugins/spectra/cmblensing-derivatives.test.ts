/**
 * Derivatives through a second tracer set: the CMB-lensing kernel (weights/cmb-lensing) and the Limber stage
 * over two tracer sets (3x2pt + CMB lensing), forward tangents against central finite differences, and each
 * stage's vjp against its forward tangents (the dot-product test of the reverse-mode suite).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { preparePipeline } from '../../../core/cli/run-job.js';
import { executePlan } from '../../../core/graph/execute.js';
import { MemoryStore } from '../../../core/cache/store.js';
import type { Spectra } from '../../../plugins/contracts/spectra.js';
import { vjpDotTest } from '../reverse/harness.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const file = path.join(root, 'pipelines/euclid-3x2pt-cmblensing.json');
const VARY = ['Omega_m', 'h', 'sigma8', 'w0', 'A_IA'];
const sets = ['stages.cl.with.plot=false', ...VARY.map((n) => `parameters.${n}.vary=true`)];

describe('CMB lensing: derivatives through a second tracer set', async () => {
  const { plan, registry } = await preparePipeline(file, [], sets);
  const store = new MemoryStore();
  // every evaluation integrates on the same z nodes (the sticky scope of one differentiation)
  const sticky = new Map<string, unknown>();
  const run = async (params: Record<string, number>, tangents: string[]) =>
    (await executePlan(plan, registry, { params, tangents, store, sticky, targets: ['cl'] })).outputs.get('cl') as Spectra;
  const fid = Object.fromEntries(VARY.map((n) => [n, plan.parameters.get(n)!.value]));
  const ad = await run(fid, VARY);
  const nl = ad.ell.length;

  it.each(VARY)('d C / d %s: forward AD vs central differences (KK, KL_j, KG_j; 1e-4 where not negligible)', async (name) => {
    const p = VARY.indexOf(name);
    const h = 1e-3 * Math.abs(fid[name]);
    // 4th-order central difference: error ~ h^4 C^(5)
    const at = async (x: number) => (await run({ ...fid, [name]: x }, [])).C.value;
    const [m2, m1, p1, p2] = await Promise.all([at(fid[name] - 2 * h), at(fid[name] - h), at(fid[name] + h), at(fid[name] + 2 * h)]);
    let worst = 0, where = '';
    const block = (q: number) => ad.C.tangent!.subarray((p * ad.pairs.length + q) * nl, (p * ad.pairs.length + q + 1) * nl);
    // "not negligible": above 1e-4 of the pair's largest derivative, and the pair's derivatives above 1e-6 of
    // the largest over all the K pairs (KG_j does not depend on A_IA at all: its derivative must be 0 both ways)
    let global = 0;
    ad.pairNames.forEach((pair, q) => { if (pair.startsWith('K')) for (const v of block(q)) global = Math.max(global, Math.abs(v)); });
    ad.pairNames.forEach((pair, q) => {
      if (!pair.startsWith('K')) return;
      const t = block(q);
      const scale = Math.max(...Array.from(t, Math.abs));
      for (let l = 0; l < nl; l++) {
        const i = q * nl + l;
        const fd = (m2[i] - 8 * m1[i] + 8 * p1[i] - p2[i]) / (12 * h);
        if (scale < 1e-6 * global) {
          expect(Math.abs(fd), `${pair}: FD of a derivative AD finds negligible`).toBeLessThan(1e-6 * global);
          continue;
        }
        if (Math.abs(t[l]) < 1e-4 * scale) continue; // near a zero of the derivative
        const rel = Math.abs(t[l] / fd - 1);
        if (rel > worst) { worst = rel; where = `${pair} at l = ${ad.ell[l].toFixed(1)}`; }
      }
    });
    console.log(`d/d${name}: worst AD vs FD ${worst.toExponential(2)} (${where})`);
    if (name === 'A_IA') expect(ad.C.tangent!.subarray((p * ad.pairs.length + ad.pairNames.indexOf('KK')) * nl, (p * ad.pairs.length + ad.pairNames.indexOf('KK') + 1) * nl).every((v) => v === 0)).toBe(true);
    expect(worst, where).toBeLessThan(1e-4);
  });

  it('the vjps of weights/cmb-lensing and of the Limber stage over two tracer sets match forward mode', async () => {
    for (const stage of ['cmb', 'cl']) {
      const r = await vjpDotTest(plan, registry, stage, new MemoryStore());
      console.log(`${stage}: vjp dot-product test worst ${r.worst.toExponential(2)}`);
      expect(r.worst, stage).toBeLessThan(1e-9);
    }
  });
});
