/**
 * `spectra/limber`: tomographic angular power spectra in the Limber approximation (k = (l+1/2)/chi),
 *
 *   C_AB(l) = Integral dz  W_A(z) W_B(z) / (H(z) chi(z)^2) P_nl((l+1/2)/chi(z), z)        (H in 1/Mpc)
 *
 * with the spin-2 prefactor F_l on each lensing tracer and (1+m_A)(1+m_B) for shear biases.
 * The z quadrature is the bound `integrator`: its adaptive rule, refined on a probe integrand (the
 * auto-spectra at a few multipoles), fixes nodes and weights; then every pair at every l is one
 * contraction over those nodes (limber-sum.ts).
 */
import type { StagePlugin } from '../../core/plugin/types.js';
import { PLUGIN_API_VERSION } from '../../core/plugin/types.js';
import type { Integrator, QuadratureRule } from '../../core/numerics/integrator.js';
import { interpRowsDual } from '../../core/ad/interp.js';
import type { Background } from '../contracts/background.js';
import type { Kernels } from '../contracts/kernels.js';
import type { PowerGrid } from '../contracts/power.js';
import type { Spectra } from '../contracts/spectra.js';
import { backgroundAt } from '../background/evaluate.js';
import { limberWeights, lnPowerAtNodes, pairProducts, shearPrefactor } from './limber-sum.js';
import { ellGrid, ellGridSchema, type EllSpec } from './ell-grid.js';
import { writeSpectra } from './write-spectra.js';

export interface LimberConfig {
  ell: EllSpec;
  k_min_1overMpc: number;
  k_max_1overMpc: number;
  z_nodes: 'adaptive' | { level: number };
  probe_ell: number[];
  plot: boolean;
}

export interface LimberInputs {
  kernels: Kernels;
  power: PowerGrid;
  background: Background;
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ell: ellGridSchema,
    k_min_1overMpc: { type: 'number', exclusiveMinimum: 0, default: 5e-5, description: 'below this k [1/Mpc] the integrand is set to zero (CCL: K_MIN = 5e-5)' },
    k_max_1overMpc: { type: 'number', exclusiveMinimum: 0, default: 1000, description: 'above this k [1/Mpc] the integrand is set to zero (CCL: K_MAX = 1000)' },
    z_nodes: {
      description: '"adaptive" (the integrator refines until the probe spectra converge to its rtol) or {"level": n} (its fixed rule of that level)',
      default: 'adaptive',
      anyOf: [
        { const: 'adaptive' },
        { type: 'object', required: ['level'], additionalProperties: false, properties: { level: { type: 'integer', minimum: 0, maximum: 30 } } },
      ],
    },
    probe_ell: { type: 'array', items: { type: 'number', minimum: 2 }, minItems: 1, default: [10, 100, 1000, 5000], description: 'multipoles of the probe integrand used to adapt the z nodes' },
    plot: { type: 'boolean', default: true, description: 'write cl.png and cl.svg next to cl.tsv' },
  },
};

/** Pair list in the reference order: LL (i<=j), GL (G_i x L_j, all i, j), GG (i<=j). */
export function pairOrder(kernels: Kernels): { names: string[]; pairs: [number, number][] } {
  const L = kernels.tracers.map((_, i) => i).filter((i) => kernels.kinds[i] === 'lensing');
  const G = kernels.tracers.map((_, i) => i).filter((i) => kernels.kinds[i] === 'clustering');
  const names: string[] = [];
  const pairs: [number, number][] = [];
  for (let a = 0; a < L.length; a++) for (let b = a; b < L.length; b++) { names.push(`LL_${a + 1}_${b + 1}`); pairs.push([L[a], L[b]]); }
  for (let a = 0; a < G.length; a++) for (let b = 0; b < L.length; b++) { names.push(`GL_${a + 1}_${b + 1}`); pairs.push([G[a], L[b]]); }
  for (let a = 0; a < G.length; a++) for (let b = a; b < G.length; b++) { names.push(`GG_${a + 1}_${b + 1}`); pairs.push([G[a], G[b]]); }
  return { names, pairs };
}

/** The smallest z interval outside which every kernel vanishes. */
function kernelSupport(k: Kernels): [number, number] {
  const nz = k.z.length, nt = k.tracers.length, W = k.W.value;
  let lo = nz, hi = -1;
  for (let t = 0; t < nt; t++)
    for (let i = 0; i < nz; i++)
      if (W[t * nz + i] !== 0) { if (i < lo) lo = i; if (i > hi) hi = i; }
  if (hi < 0) throw new Error('every tracer kernel is zero: nothing to integrate');
  return [k.z[Math.max(0, lo - 1)], k.z[Math.min(nz - 1, hi + 1)]];
}

interface NodeSample { H: Float64Array; chi: Float64Array; Wq: Float64Array }

function sampleAtNodes(inp: LimberInputs, z: Float64Array): NodeSample {
  const bg = backgroundAt(inp.background, z);
  const H0 = inp.background.H0_1overMpc.v;
  const H = new Float64Array(z.length);
  for (let q = 0; q < z.length; q++) H[q] = H0 * bg.E.value[q];
  const Wq = interpRowsDual(inp.kernels.z, { value: inp.kernels.W.value, tangent: null, P: 0 }, inp.kernels.tracers.length, z).value;
  return { H, chi: bg.chi_Mpc.value, Wq };
}

/** Check the P grid covers every (k, z) the integral needs; a clear error otherwise. */
function checkCoverage(power: PowerGrid, zLo: number, zHi: number, kNeedLo: number, kNeedHi: number): void {
  const k = power.k_1overMpc, z = power.z;
  const problems: string[] = [];
  if (z[0] > zLo + 1e-12 || z[z.length - 1] < zHi - 1e-12)
    problems.push(`it covers z in [${z[0]}, ${z[z.length - 1]}] but the kernels extend over [${zLo}, ${zHi}]`);
  if (k[0] > kNeedLo * (1 + 1e-12) || k[k.length - 1] < kNeedHi * (1 - 1e-12))
    problems.push(`it covers k in [${k[0].toExponential(3)}, ${k[k.length - 1].toExponential(3)}] 1/Mpc but the Limber integral needs [${kNeedLo.toExponential(3)}, ${kNeedHi.toExponential(3)}] 1/Mpc`);
  if (problems.length)
    throw new Error(`the P(k, z) grid (${power.source}) does not cover the integral: ${problems.join('; ')}. Extend the power stage's k/z grid, or narrow with.k_min_1overMpc / with.k_max_1overMpc / with.ell`);
}

export function computeLimber(inp: LimberInputs, config: LimberConfig, integrator: Integrator): Spectra {
  const ell = ellGrid(config.ell);
  const { kernels, power } = inp;
  const nt = kernels.tracers.length;
  const [zLo, zHi] = kernelSupport(kernels);
  const { names, pairs } = pairOrder(kernels);

  // 1. quadrature nodes: adapt on the probe integrand (sum over tracers of normalised auto-spectra)
  const probeEll = Float64Array.from(config.probe_ell);
  const probe = (z: Float64Array, out: Float64Array) => {
    const s = sampleAtNodes(inp, z);
    const lnPq = lnPowerAtNodes(power.k_1overMpc, power.z, power.P_Mpc3.value, z, power.source);
    const ones = new Float64Array(z.length).fill(1);
    const K = limberWeights(probeEll, power.k_1overMpc, lnPq, ones, s.H, s.chi, config.k_min_1overMpc, config.k_max_1overMpc);
    out.fill(0);
    for (let t = 0; t < nt; t++) {
      let norm = 0;
      for (let q = 0; q < z.length; q++) norm = Math.max(norm, Math.abs(s.Wq[t * z.length + q]));
      if (norm === 0) continue;
      for (let l = 0; l < probeEll.length; l++)
        for (let q = 0; q < z.length; q++) { const w = s.Wq[t * z.length + q] / norm; out[q] += w * w * K[l * z.length + q]; }
    }
  };
  const rule: QuadratureRule = config.z_nodes === 'adaptive'
    ? integrator.adaptRule(probe, zLo, zHi)
    : integrator.fixedRule(zLo, zHi, config.z_nodes.level);
  const zq = rule.x, nq = zq.length;

  // 2. the comoving distance, H and kernels at the nodes
  const s = sampleAtNodes(inp, zq);
  const chiMin = Math.min(...s.chi), chiMax = Math.max(...s.chi);
  const kNeedLo = Math.max(config.k_min_1overMpc, (ell[0] + 0.5) / chiMax);
  const kNeedHi = Math.min(config.k_max_1overMpc, (ell[ell.length - 1] + 0.5) / chiMin);
  checkCoverage(power, zLo, zHi, kNeedLo, kNeedHi);

  // 3. the power spectrum on the Limber grid, and K[l, q] = w_q P / (H chi^2)
  const lnPq = lnPowerAtNodes(power.k_1overMpc, power.z, power.P_Mpc3.value, zq, power.source);
  const K = limberWeights(ell, power.k_1overMpc, lnPq, rule.w, s.H, s.chi, config.k_min_1overMpc, config.k_max_1overMpc);

  // 4. kernel products per pair, with the shear biases
  const mult = kernels.multiplicative.value;
  const M = new Float64Array(pairs.length * nq);
  pairs.forEach(([a, b], p) => {
    const f = mult[a] * mult[b];
    for (let q = 0; q < nq; q++) M[p * nq + q] = f * s.Wq[a * nq + q] * s.Wq[b * nq + q];
  });

  // 5. the contraction over z, then the spin-2 prefactor per lensing leg
  const C = pairProducts(M, pairs.length, K, ell.length, nq);
  if (kernels.shearPrefactor === 'exact') {
    const F = Float64Array.from(ell, shearPrefactor);
    pairs.forEach(([a, b], p) => {
      const legs = (kernels.kinds[a] === 'lensing' ? 1 : 0) + (kernels.kinds[b] === 'lensing' ? 1 : 0);
      if (legs === 0) return;
      for (let l = 0; l < ell.length; l++) C[p * ell.length + l] *= legs === 2 ? F[l] * F[l] : F[l];
    });
  }
  return {
    ell, tracers: kernels.tracers, pairNames: names, pairs, C: { value: C, tangent: null, P: 0 },
    settings: { z_nodes: nq, z_range: [zLo, zHi], integrator: integrator.name, rtol: integrator.rtol, k_range_1overMpc: [config.k_min_1overMpc, config.k_max_1overMpc], shear_prefactor: kernels.shearPrefactor },
  };
}

export const limber: StagePlugin<LimberConfig, LimberInputs, Spectra> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'spectra/limber',
  version: '1.0.0',
  port: 'spectra',
  description: 'Tomographic C_l of every tracer pair in the Limber approximation, z quadrature by the bound integrator',
  configSchema,
  inputs: { kernels: 'weights', power: 'nonlinear-power', background: 'background' },
  reads: {},
  methods: ['integrator'],
  differentiable: 'forward',
  run(ctx) {
    return computeLimber(ctx.inputs, ctx.config, ctx.method<Integrator>('integrator'));
  },
  write: (out, file, ctx) => writeSpectra(out, file, ctx.config),
};
