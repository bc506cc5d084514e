/**
 * The Limber stage against independent computations: the blocked contraction against a plain triple loop,
 * the whole integral against a brute-force trapezoid sum on 200 000 points for a constant P(k), and a
 * clear error when the P(k) grid does not cover what the integral needs.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { pairProducts, shearPrefactor } from '../../../plugins/spectra/limber-sum.js';
import { computeLimber, type LimberConfig } from '../../../plugins/spectra/limber.js';
import { backgroundAt } from '../../../plugins/contracts/background-eval.js';
import { createGaussLegendre } from '../../../plugins/integrator/gauss-legendre.js';
import { runJob } from '../../../core/cli/run-job.js';
import type { Background } from '../../../plugins/contracts/background.js';
import type { Tracer, TracerSet } from '../../../plugins/contracts/tracers.js';
import type { PowerGrid } from '../../../plugins/contracts/power.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

describe('pairProducts', () => {
  it('equals the plain triple loop for awkward sizes', () => {
    for (const [np, nl, nq] of [[1, 1, 1], [7, 3, 5], [13, 9, 33], [4, 2, 8]]) {
      const M = Float64Array.from({ length: np * nq }, (_, i) => Math.sin(i * 1.3) + 0.1);
      const K = Float64Array.from({ length: nl * nq }, (_, i) => Math.cos(i * 0.7) - 0.2);
      const C = pairProducts(M, np, K, nl, nq);
      for (let p = 0; p < np; p++)
        for (let l = 0; l < nl; l++) {
          let s = 0;
          for (let q = 0; q < nq; q++) s += M[p * nq + q] * K[l * nq + q];
          expect(Math.abs(C[p * nl + l] - s)).toBeLessThan(1e-13 * (1 + Math.abs(s)));
        }
    }
  });
  it('the spin-2 prefactor tends to 1 - 1.25/(l+1/2)^2', () => {
    for (const l of [50, 200, 1000]) expect(Math.abs(shearPrefactor(l) - (1 - 1.25 / (l + 0.5) ** 2))).toBeLessThan(2 / (l + 0.5) ** 4);
    expect(shearPrefactor(2)).toBeCloseTo(Math.sqrt(24) / 6.25, 14);
  });
});

describe('computeLimber', async () => {
  const r = await runJob({ file: path.join(root, 'pipelines/background.json'), out: '/tmp/cosmodag-limber-test-bg', quiet: true, force: true });
  const bg = r.outputs.get('background') as Background;
  // two Gaussian clustering-like kernels on a fine grid and a constant P(k)
  const nz = 4000;
  const z = Float64Array.from({ length: nz }, (_, i) => 0.001 + (i * 3.999) / (nz - 1));
  const H0 = bg.H0_1overMpc.v;
  const E = backgroundAt(bg, z).E.value;
  const gauss = (zc: number, s: number) => Float64Array.from(z, (zz, i) => (Math.exp(-0.5 * ((zz - zc) / s) ** 2) / (s * Math.sqrt(2 * Math.PI))) * H0 * E[i]);
  const W = new Float64Array(2 * nz);
  W.set(gauss(0.6, 0.08), 0);
  W.set(gauss(0.9, 0.1), nz);
  const G = (i: number): Tracer => ({ name: `G${i}`, family: 'GC', code: 'G', index: i, ellFactor: 'none', power: 'matter', noise: 0 });
  const kernels: TracerSet = { z, tracers: [G(1), G(2)], W: { value: W, tangent: null, P: 0 }, multiplicative: { value: Float64Array.of(1, 1), tangent: null, P: 0 }, z_max: z[nz - 1] };
  const P0 = 2500;
  const k = Float64Array.from({ length: 200 }, (_, i) => 1e-5 * 10 ** (i * 8 / 199));
  const zp = Float64Array.from({ length: 41 }, (_, i) => i * 0.1);
  const power: PowerGrid = { k_1overMpc: k, z: zp, P_Mpc3: { value: new Float64Array(41 * 200).fill(P0), tangent: null, P: 0 }, source: 'constant' };
  const config: LimberConfig = { ell: [10, 100, 1000], k_min_1overMpc: 5e-5, k_max_1overMpc: 1000, z_nodes: 'adaptive', probe_ell: [10, 100], rtol: 1e-9, plot: false, power: {}, z_beyond_power: 'error' };

  it('matches a brute-force trapezoid sum for constant P', () => {
    const s = computeLimber({ tracers: kernels, power, background: bg }, config, createGaussLegendre({}));
    // independent: trapezoid on 200 001 points, W by linear interpolation of the analytic Gaussians
    const N = 200001, a = 0.001, b = 4.0, h = (b - a) / (N - 1);
    const zz = Float64Array.from({ length: N }, (_, i) => a + i * h);
    const bz = backgroundAt(bg, zz);
    const g = (zc: number, sg: number, i: number) => (Math.exp(-0.5 * ((zz[i] - zc) / sg) ** 2) / (sg * Math.sqrt(2 * Math.PI))) * H0 * bz.E.value[i];
    const sums = [0, 0, 0];
    for (let i = 0; i < N; i++) {
      const w = (i === 0 || i === N - 1 ? 0.5 : 1) * h;
      const pre = P0 / (H0 * bz.E.value[i] * bz.chi_Mpc.value[i] ** 2);
      const w1 = g(0.6, 0.08, i), w2 = g(0.9, 0.1, i);
      sums[0] += w * pre * w1 * w1; sums[1] += w * pre * w1 * w2; sums[2] += w * pre * w2 * w2;
    }
    // pairs: GG_1_1, GG_1_2, GG_2_2; with constant P the result does not depend on l
    expect(s.pairNames).toEqual(['GG_1_1', 'GG_1_2', 'GG_2_2']);
    for (let p = 0; p < 3; p++) for (let l = 0; l < 3; l++) expect(Math.abs(s.C.value[p * 3 + l] / sums[p] - 1)).toBeLessThan(1e-6);
  });

  it('refuses a P(k) grid that does not cover the k the integral needs', () => {
    const short: PowerGrid = { ...power, k_1overMpc: Float64Array.from(k, (x) => x * 1e-3) };
    expect(() => computeLimber({ tracers: kernels, power: short, background: bg }, config, createGaussLegendre({}))).toThrow(/does not cover the integral: it covers k in .* but the Limber integral needs/);
  });
  it('refuses a P(k) grid that does not cover the kernels in z', () => {
    const shallow: PowerGrid = { ...power, z: Float64Array.from(zp, (x) => x / 2) };
    expect(() => computeLimber({ tracers: kernels, power: shallow, background: bg }, config, createGaussLegendre({}))).toThrow(/it covers z in \[0, 2\] but the kernels extend over/);
  });
});
