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
import { evalPreparedRows, interpRowsDual, prepareRows } from '../../core/ad/interp.js';
import { scaleA, type DualArray } from '../../core/ad/dual-array.js';
import type { Background } from '../contracts/background.js';
import type { Kernels } from '../contracts/kernels.js';
import type { PowerGrid } from '../contracts/power.js';
import type { Spectra } from '../contracts/spectra.js';
import { backgroundAt, backgroundAtAdjoint } from '../contracts/background-eval.js';
import {
  bandedProducts, bandedProductsAdjoint, limberWeights, limberWeightsAdjoint, lnPowerAtNodes, lnPowerAtNodesAdjoint, rowBands,
  shearPrefactor,
} from './limber-sum.js';
import { interpRowsAdjoint } from '../../core/ad/interp-adjoint.js';
import { ellGrid, ellGridSchema, type EllSpec } from './ell-grid.js';
import { writeSpectra } from './write-spectra.js';
import { readSpectra } from './read-spectra.js';
import { plotSpectra } from './plot-spectra.js';

export interface LimberConfig {
  ell: EllSpec;
  k_min_1overMpc: number;
  k_max_1overMpc: number;
  z_nodes: 'adaptive' | { level: number };
  probe_ell: number[];
  rtol: number;
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
    rtol: { type: 'number', exclusiveMinimum: 0, maximum: 0.1, default: 1e-6, description: 'relative accuracy of the probe integral at which adaptive z nodes stop (the integrator\'s own rtol applies if looser)' },
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
  if (!(k.z[0] > 0)) throw new Error(`the kernels' z grid starts at ${k.z[0]}; the Limber integral runs in ln z and needs z > 0`);
  const nz = k.z.length, nt = k.tracers.length, W = k.W.value;
  let lo = nz, hi = -1;
  for (let t = 0; t < nt; t++)
    for (let i = 0; i < nz; i++)
      if (W[t * nz + i] !== 0) { if (i < lo) lo = i; if (i > hi) hi = i; }
  if (hi < 0) throw new Error('every tracer kernel is zero: nothing to integrate');
  return [k.z[Math.max(0, lo - 1)], k.z[Math.min(nz - 1, hi + 1)]];
}

interface NodeSample { H: DualArray; chi: DualArray; W: DualArray }

/** H [1/Mpc], chi [Mpc] and every tracer kernel at the nodes, with tangents when `withTangents`. */
function sampleAtNodes(inp: LimberInputs, z: Float64Array, withTangents: boolean): NodeSample {
  const bgIn = inp.background;
  const bg = backgroundAt(withTangents ? bgIn : valuesOnly(bgIn), z);
  const H = scaleA(bg.E, withTangents ? bgIn.H0_1overMpc : { v: bgIn.H0_1overMpc.v, d: null });
  const Win = withTangents ? inp.kernels.W : { value: inp.kernels.W.value, tangent: null, P: 0 };
  return { H, chi: bg.chi_Mpc, W: interpRowsDual(inp.kernels.z, Win, inp.kernels.tracers.length, z) };
}

/** The same background without tangents (for the probe, which only picks nodes). */
const valuesOnly = (b: Background): Background => ({
  ...b,
  E: { value: b.E.value, tangent: null, P: 0 }, chi_Mpc: { value: b.chi_Mpc.value, tangent: null, P: 0 },
  dM_Mpc: { value: b.dM_Mpc.value, tangent: null, P: 0 }, D: { value: b.D.value, tangent: null, P: 0 }, f: { value: b.f.value, tangent: null, P: 0 },
});

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

/**
 * The z quadrature of the Limber integral: the integrator's rule in x = ln z over the kernels' support, adapted
 * on the probe integrand (the sum over tracers of peak-normalised auto-spectra at `probe_ell`) or fixed.
 */
export function limberNodes(inp: LimberInputs, config: LimberConfig, integrator: Integrator): { lnRule: QuadratureRule; zLo: number; zHi: number } {
  const { kernels, power } = inp;
  const nt = kernels.tracers.length;
  const [zLo, zHi] = kernelSupport(kernels);
  // 1. quadrature nodes: adapt on the probe integrand (sum over tracers of normalised auto-spectra)
  const probeEll = Float64Array.from(config.probe_ell);
  // each tracer's kernel normalised by its peak on the kernel grid (fixed, so the probe is one function)
  const kernelMax = Float64Array.from(kernels.tracers, (_, t) => {
    let m = 0;
    for (let i = 0, nzk = kernels.z.length; i < nzk; i++) m = Math.max(m, Math.abs(kernels.W.value[t * nzk + i]));
    return m;
  });
  const valuePower: PowerGrid = { ...power, P_Mpc3: { value: power.P_Mpc3.value, tangent: null, P: 0 } };
  // splines of the kernels and of ln P in z are prepared once for all probe evaluations
  const kernelRows = prepareRows(kernels.z, kernels.W.value, nt);
  // the probe only steers the node choice: it reads P on every 4th k of the grid (ends kept), 4x cheaper
  const nkAll = power.k_1overMpc.length, nzP = power.z.length;
  const probeK: number[] = [];
  for (let ik = 0; ik < nkAll; ik += 4) probeK.push(ik);
  if (probeK[probeK.length - 1] !== nkAll - 1) probeK.push(nkAll - 1);
  const nkP = probeK.length;
  const kProbe = Float64Array.from(probeK, (ik) => power.k_1overMpc[ik]);
  const lnPT = new Float64Array(nkP * nzP);
  for (let iz = 0; iz < nzP; iz++) probeK.forEach((ik, j) => { lnPT[j * nzP + iz] = Math.log(power.P_Mpc3.value[iz * nkAll + ik]); });
  const powerRows = nzP >= 4 && nkP >= 4 ? prepareRows(power.z, lnPT, nkP) : null;
  const probe = (z: Float64Array, out: Float64Array) => {
    const n = z.length;
    const bg = backgroundAt(valuesOnly(inp.background), z);
    const H = Float64Array.from(bg.E.value, (e) => e * inp.background.H0_1overMpc.v);
    const W = evalPreparedRows(kernelRows, z);
    let lnPq: DualArray;
    if (powerRows) {
      const kMajor = evalPreparedRows(powerRows, z);
      const v = new Float64Array(n * nkP);
      for (let ik = 0; ik < nkP; ik++) for (let q = 0; q < n; q++) v[q * nkP + ik] = kMajor[ik * n + q];
      lnPq = { value: v, tangent: null, P: 0 };
    } else lnPq = lnPowerAtNodes(valuePower, z);
    const K = limberWeights(probeEll, powerRows ? kProbe : power.k_1overMpc, lnPq, new Float64Array(n).fill(1), { value: H, tangent: null, P: 0 }, bg.chi_Mpc, config.k_min_1overMpc, config.k_max_1overMpc).value;
    out.fill(0);
    for (let t = 0; t < nt; t++) {
      const norm = kernelMax[t];
      if (norm === 0) continue;
      for (let l = 0; l < probeEll.length; l++)
        for (let q = 0; q < n; q++) { const w = W[t * n + q] / norm; out[q] += w * w * K[l * n + q]; }
    }
  };
  // The integral runs in x = ln z: near z -> 0 the lensing integrand falls like a non-integer power of z
  // (W ~ chi, P((l+1/2)/chi) ~ chi^1.x), which no polynomial rule in z resolves, while in ln z it is
  // smooth (CCL integrates in ln k for the same reason). dz = z dx.
  const probeLn = (x: Float64Array, out: Float64Array) => {
    const z = Float64Array.from(x, Math.exp);
    probe(z, out);
    for (let q = 0; q < z.length; q++) out[q] *= z[q];
  };
  // Adaptivity stops at the looser of the integrator's rtol and this stage's rtol: the kernels are cubic
  // splines of tables (C2 at their knots), so polynomial rules converge only algebraically below ~1e-9.
  const xLo = Math.log(zLo), xHi = Math.log(zHi);
  let lnRule: QuadratureRule;
  if (config.z_nodes === 'adaptive') {
    const coarse = integrator.fixedRule(xLo, xHi, 4);
    const vals = new Float64Array(coarse.x.length);
    probeLn(coarse.x, vals);
    let est = 0;
    for (let q = 0; q < vals.length; q++) est += coarse.w[q] * vals[q];
    lnRule = integrator.adaptRule(probeLn, xLo, xHi, config.rtol * Math.abs(est));
  } else lnRule = integrator.fixedRule(xLo, xHi, config.z_nodes.level);
  return { lnRule, zLo, zHi };
}

export function computeLimber(inp: LimberInputs, config: LimberConfig, integrator: Integrator, sticky?: <T>(what: string, compute: () => T) => T): Spectra {
  const ell = ellGrid(config.ell);
  const { kernels, power } = inp;
  const nt = kernels.tracers.length;
  const { names, pairs } = pairOrder(kernels);

  // 1. quadrature nodes (limberNodes)
  // within one differentiation (stencil or finite-difference points) the nodes chosen at the first
  // evaluation are reused, so that every point integrates on the same rule, as forward AD does
  const choose = () => limberNodes(inp, config, integrator);
  const { lnRule, zLo, zHi } = sticky ? sticky('limber-z-rule', choose) : choose();
  const zq = Float64Array.from(lnRule.x, Math.exp);
  const rule: QuadratureRule = { x: zq, w: Float64Array.from(lnRule.w, (w, q) => w * zq[q]) };
  const nq = zq.length, nl = ell.length, np = pairs.length;

  // 2. the comoving distance, H and the kernels at the nodes
  const s = sampleAtNodes(inp, zq, true);
  let chiMin = Infinity, chiMax = 0;
  for (const c of s.chi.value) { chiMin = Math.min(chiMin, c); chiMax = Math.max(chiMax, c); }
  const kNeedLo = Math.max(config.k_min_1overMpc, (ell[0] + 0.5) / chiMax);
  const kNeedHi = Math.min(config.k_max_1overMpc, (ell[nl - 1] + 0.5) / chiMin);
  checkCoverage(power, zLo, zHi, kNeedLo, kNeedHi);

  // 3. the power spectrum on the Limber grid, K[l, q] = w_q P((l+1/2)/chi_q, z_q) / (H_q chi_q^2)
  const lnPq = lnPowerAtNodes(power, zq);
  const K = limberWeights(ell, power.k_1overMpc, lnPq, rule.w, s.H, s.chi, config.k_min_1overMpc, config.k_max_1overMpc);

  // 4. kernel products per pair, with the shear biases: M = (1+m_A)(1+m_B) W_A W_B
  const mult = kernels.multiplicative;
  const W = s.W;
  const NP = Math.max(K.P, W.tangent ? W.P : 0, mult.tangent ? mult.P : 0);
  const M = new Float64Array(np * nq);
  const dM = NP ? new Float64Array(NP * np * nq) : null;
  const nT = mult.value.length;
  pairs.forEach(([a, b], p) => {
    const f = mult.value[a] * mult.value[b];
    for (let q = 0; q < nq; q++) M[p * nq + q] = f * W.value[a * nq + q] * W.value[b * nq + q];
    if (!dM) return;
    for (let c = 0; c < NP; c++) {
      const df = mult.tangent ? mult.tangent[c * nT + a] * mult.value[b] + mult.value[a] * mult.tangent[c * nT + b] : 0;
      const o = (c * np + p) * nq, wa = (c * nt + a) * nq, wb = (c * nt + b) * nq;
      for (let q = 0; q < nq; q++) {
        const Wa = W.value[a * nq + q], Wb = W.value[b * nq + q];
        const dW = W.tangent ? W.tangent[wa + q] * Wb + Wa * W.tangent[wb + q] : 0;
        dM[o + q] = f * dW + df * Wa * Wb;
      }
    }
  });

  // 5. the contraction over z (and its tangent: dM K + M dK), then the spin-2 prefactor per lensing leg
  const C = bandedProducts(M, np, K.value, nl, nq);
  let dC: Float64Array | null = null;
  if (NP) {
    // tangent blocks are sparse (a bias b_i touches only the pairs with G_i; nuisance parameters leave
    // P(k) alone): bandedProducts skips all-zero rows of dM, and all-zero blocks of dK are skipped here
    dC = new Float64Array(NP * np * nl);
    const tmp = new Float64Array(np * nl);
    for (let c = 0; c < NP; c++) {
      const blk = dC.subarray(c * np * nl, (c + 1) * np * nl);
      bandedProducts(dM!.subarray(c * np * nq, (c + 1) * np * nq), np, K.value, nl, nq, blk);
      const dKc = K.tangent ? K.tangent.subarray(c * nl * nq, (c + 1) * nl * nq) : null;
      if (dKc && dKc.some((v) => v !== 0)) {
        bandedProducts(M, np, dKc, nl, nq, tmp);
        for (let i = 0; i < blk.length; i++) blk[i] += tmp[i];
      }
    }
  }
  if (kernels.shearPrefactor === 'exact') {
    const F = Float64Array.from(ell, shearPrefactor);
    pairs.forEach(([a, b], p) => {
      const legs = (kernels.kinds[a] === 'lensing' ? 1 : 0) + (kernels.kinds[b] === 'lensing' ? 1 : 0);
      if (legs === 0) return;
      for (let l = 0; l < nl; l++) {
        const f = legs === 2 ? F[l] * F[l] : F[l];
        C[p * nl + l] *= f;
        if (dC) for (let c = 0; c < NP; c++) dC[(c * np + p) * nl + l] *= f;
      }
    });
  }
  const out: Spectra = {
    ell, tracers: kernels.tracers, pairNames: names, pairs, C: { value: C, tangent: dC, P: NP },
    settings: { z_nodes: nq, z_range: [zLo, zHi], integrator: integrator.name, rtol: integrator.rtol, k_range_1overMpc: [config.k_min_1overMpc, config.k_max_1overMpc], shear_prefactor: kernels.shearPrefactor },
  };
  KEPT_NODES.set(out, lnRule); // for the reverse pass (a reference, no copy)
  return out;
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
    return computeLimber(ctx.inputs, ctx.config, ctx.method<Integrator>('integrator'), ctx.sticky?.bind(ctx));
  },
  vjp(ctx, outputBar) {
    const Cbar = (outputBar as { C?: Float64Array }).C;
    if (!Cbar) return {};
    return limberVjp(ctx.inputs, ctx.config, ctx.method<Integrator>('integrator'), ctx.output, Cbar);
  },
  write: (out, file, ctx) => writeSpectra(out, file, ctx.config),
  async redraw(dir) {
    const s = readSpectra(dir);
    if (!s) return null;
    const { svg, png } = await plotSpectra(s, 'cl');
    return { 'cl.svg': svg, 'cl.png': png };
  },
};

// ---------------------------------------------------------------------------------------------------------
// Reverse mode

/** The z rule of each computed output (kept by reference: the reverse pass reuses the forward's nodes). */
const KEPT_NODES = new WeakMap<Spectra, QuadratureRule>();

/** Forward values the backward pass needs, recomputed once per output (repeated sweeps reuse them). */
interface LimberForward {
  zq: Float64Array;
  w: Float64Array;
  H: Float64Array;
  chi: Float64Array;
  E: Float64Array;
  W: Float64Array;
  lnPq: Float64Array;
  K: Float64Array;
  M: Float64Array;
  bands: { lo: Int32Array; hi: Int32Array };
}
const PREPARED = new WeakMap<Spectra, LimberForward>();

function limberForward(inp: LimberInputs, config: LimberConfig, integrator: Integrator, output: Spectra): LimberForward {
  const hit = PREPARED.get(output);
  if (hit) return hit;
  // the same nodes as the forward run (kept, or re-adapted on the same values: the rule is a function of them)
  const lnRule = KEPT_NODES.get(output) ?? limberNodes(inp, config, integrator).lnRule;
  const zq = Float64Array.from(lnRule.x, Math.exp);
  const w = Float64Array.from(lnRule.w, (wq, q) => wq * zq[q]);
  const nq = zq.length, np = output.pairs.length;
  const s = sampleAtNodes(inp, zq, false);
  const valuePower: PowerGrid = { ...inp.power, P_Mpc3: { value: inp.power.P_Mpc3.value, tangent: null, P: 0 } };
  const lnPq = lnPowerAtNodes(valuePower, zq).value;
  const K = limberWeights(output.ell, inp.power.k_1overMpc, { value: lnPq, tangent: null, P: 0 }, w, s.H, s.chi, config.k_min_1overMpc, config.k_max_1overMpc).value;
  const mult = inp.kernels.multiplicative.value;
  const M = new Float64Array(np * nq);
  output.pairs.forEach(([a, b], p) => {
    const f = mult[a] * mult[b];
    for (let q = 0; q < nq; q++) M[p * nq + q] = f * s.W.value[a * nq + q] * s.W.value[b * nq + q];
  });
  const E = Float64Array.from(s.H.value, (h) => h / inp.background.H0_1overMpc.v);
  const f: LimberForward = { zq, w, H: s.H.value, chi: s.chi.value, E, W: s.W.value, lnPq, K, M, bands: rowBands(M, np, nq) };
  PREPARED.set(output, f);
  return f;
}

/**
 * The vector-Jacobian product of the Limber spectra: Cbar (pair-major, like C) pulled back, in reverse order
 * of computeLimber, to the kernels (W, 1+m), the P(k, z) grid and the background (E, chi, H0):
 *   5'. prefactor:      Cbar <- Cbar F_l^(lensing legs);
 *   5'. contraction:    Kbar = Cbar^T M, Mbar = Cbar K  (transposed banded product);
 *   4'. kernel products M = (1+m_A)(1+m_B) W_A W_B:  Wbar_A += Mbar f W_B, Wbar_B += Mbar f W_A, mbar from f;
 *   3'. Limber weights: Kbar -> ln P at the nodes (transposed spline in ln k), H and chi at the nodes;
 *       ln P at the nodes -> P(k, z) grid (transposed spline in z, d ln P = dP/P);
 *   2'. nodes -> grids: kernels (transposed spline in z), background (transposed spline in ln(1+z)), H = H0 E.
 * The z nodes are those of the forward run (a function of the values, as in forward mode).
 */
export function limberVjp(inp: LimberInputs, config: LimberConfig, integrator: Integrator, output: Spectra, Cbar: Float64Array) {
  const { kernels, power, background } = inp;
  const f = limberForward(inp, config, integrator, output);
  const ell = output.ell;
  const nl = ell.length, np = output.pairs.length, nq = f.zq.length, nt = kernels.tracers.length;
  if (Cbar.length !== np * nl) throw new Error(`spectra/limber vjp: the bar of C has ${Cbar.length} entries, expected ${np} x ${nl}`);
  // 5'. spin-2 prefactor per lensing leg
  let Cb = Cbar;
  if (kernels.shearPrefactor === 'exact') {
    Cb = Float64Array.from(Cbar);
    const F = Float64Array.from(ell, shearPrefactor);
    output.pairs.forEach(([a, b], p) => {
      const legs = (kernels.kinds[a] === 'lensing' ? 1 : 0) + (kernels.kinds[b] === 'lensing' ? 1 : 0);
      if (legs === 0) return;
      for (let l = 0; l < nl; l++) Cb[p * nl + l] *= legs === 2 ? F[l] * F[l] : F[l];
    });
  }
  // 5'. the contraction over the nodes
  const Kbar = new Float64Array(nl * nq), Mbar = new Float64Array(np * nq);
  bandedProductsAdjoint(f.M, np, f.K, nl, nq, f.bands, Cb, Mbar, Kbar);
  // 4'. kernel products and shear biases
  const mult = kernels.multiplicative.value;
  const WbarNodes = new Float64Array(nt * nq), multBar = new Float64Array(mult.length);
  output.pairs.forEach(([a, b], p) => {
    const fp = mult[a] * mult[b];
    let fbar = 0;
    for (let q = f.bands.lo[p]; q < f.bands.hi[p]; q++) {
      const mb = Mbar[p * nq + q];
      if (mb === 0) continue;
      const Wa = f.W[a * nq + q], Wb = f.W[b * nq + q];
      WbarNodes[a * nq + q] += mb * fp * Wb;
      WbarNodes[b * nq + q] += mb * fp * Wa;
      fbar += mb * Wa * Wb;
    }
    multBar[a] += fbar * mult[b];
    multBar[b] += fbar * mult[a];
  });
  // 3'. Limber weights, then ln P at the nodes back onto the P(k, z) grid
  const kw = limberWeightsAdjoint(ell, power.k_1overMpc, f.lnPq, f.w, f.H, f.chi, config.k_min_1overMpc, config.k_max_1overMpc, Kbar);
  const Pbar = lnPowerAtNodesAdjoint(power, f.zq, kw.lnPqBar);
  // 2'. nodes back onto the kernel and background grids; H = H0 E
  const Wbar = new Float64Array(nt * kernels.z.length);
  interpRowsAdjoint(kernels.z, nt, f.zq, WbarNodes, Wbar);
  const Ebar = new Float64Array(nq);
  let H0bar = 0;
  const H0 = background.H0_1overMpc.v;
  for (let q = 0; q < nq; q++) {
    Ebar[q] = kw.Hbar[q] * H0;
    H0bar += kw.Hbar[q] * f.E[q];
  }
  const bgBar = backgroundAtAdjoint(background, f.zq, { E: Ebar, chi_Mpc: kw.chiBar });
  return {
    inputs: {
      kernels: { W: Wbar, multiplicative: multBar },
      power: { P_Mpc3: Pbar },
      background: { ...bgBar, H0_1overMpc: H0bar },
    },
  };
}
