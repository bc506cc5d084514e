/**
 * `spectra/limber`: angular power spectra of every pair of tracers in the Limber approximation
 * (k = (l+1/2)/chi), generic over tracers (plugins/contracts/tracers.ts):
 *
 *   C_AB(l) = F_A(l) F_B(l) (1+m_A)(1+m_B) Integral dz  W_A(z) W_B(z) / (H(z) chi(z)^2) P_AB((l+1/2)/chi(z), z)
 *
 * with F the tracers' l-factors, m their multiplicative biases, and P_AB the power input(s) the two tracers
 * correlate through (with.power, per family). The tracers come from every wired tracer set (the `tracers`
 * input takes several stages: 3x2pt, CMB lensing, ...). The z quadrature is the bound `integrator`: its adaptive
 * rule, refined on a probe integrand (the auto-spectra at a few multipoles), fixes nodes and weights; then every
 * pair at every l is one contraction over those nodes (limber-sum.ts). Run as a stage, the contraction goes in
 * blocks of multipoles, each leaving as a chunk (LimberChunk: l range and C values) when complete, and cl.tsv
 * grows row by row as they arrive (streamFile; docs/architecture.md, "Streams").
 */
import type { ChunkWriter, StageChunk, StagePlugin } from '../../core/plugin/types.js';
import { PLUGIN_API_VERSION } from '../../core/plugin/types.js';
import type { Integrator, QuadratureRule } from '../../core/numerics/integrator.js';
import { nonzeroBlocks, scaleA, type DualArray } from '../../core/ad/dual-array.js';
import type { Background } from '../contracts/background.js';
import type { PowerGrid } from '../contracts/power.js';
import type { Spectra } from '../contracts/spectra.js';
import { ellFactor, type Tracer, type TracerSet } from '../contracts/tracers.js';
import { backgroundAt, backgroundAtAdjoint } from '../contracts/background-eval.js';
import { bandedProducts, bandedProductsAdjoint, contractionPlan, limberWeights, limberWeightsAdjoint, type ContractionPlan } from './limber-sum.js';
import { ellEdges, ellGrid, ellGridSchema, type EllSpec } from './ell-grid.js';
import { spectraFileNames, spectraTsvHeader, spectraTsvRows, writeSpectra } from './write-spectra.js';
import { readSpectra } from './read-spectra.js';
import { plotSpectra } from './plot-spectra.js';
import { kernelSupport, kernelsAtNodes, kernelsAtNodesAdjoint, multiplicativeFactors, pairOrder, tracerList, type TracerList } from './tracer-pairs.js';
import {
  checkCoverage, extraPowerInputs, geometricMean, lnPowerBeyond, lnPowerBeyondAdjoint, powerInputOf, type BeyondPower,
} from './power-at-nodes.js';
import { describeLimber } from './limber-describe.js';
import { limberProbe } from './limber-probe.js';
import {
  nonLimberCorrection, nonLimberCorrectionVjp, nonLimberGrid, nonLimberProblems, nonLimberSchema, nonLimberSpec,
  type NonLimberGrid, type NonLimberSpec,
} from './non-limber.js';

export { pairOrder } from './tracer-pairs.js';

export interface LimberConfig {
  ell: EllSpec;
  k_min_1overMpc: number;
  k_max_1overMpc: number;
  z_nodes: 'adaptive' | { level: number };
  probe_ell: number[];
  rtol: number;
  plot: boolean;
  /** Probe family (or a tracer's power key) -> the input holding the P(k, z) it correlates through. */
  power: Record<string, string>;
  z_beyond_power: BeyondPower;
  /** false, or the non-Limber correction below a switch multipole (non-limber.ts). */
  non_limber?: boolean | Partial<NonLimberSpec>;
}

export interface LimberInputs {
  /** One or several tracer sets (the `tracers` input takes every wired weights stage). */
  tracers: TracerSet | TracerSet[];
  /** The default P(k, z) (every tracer not mapped elsewhere by with.power). */
  power: PowerGrid;
  background: Background;
  /** The linear P(k, z) of the non-Limber correction (wired when with.non_limber is on). */
  linear?: PowerGrid;
  /** Further power inputs named in with.power. */
  [input: string]: unknown;
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
    rtol: { type: 'number', exclusiveMinimum: 0, maximum: 0.1, default: 1e-6, description: 'relative accuracy of the probe integral at which adaptive z nodes stop (the integrator\'s default rtol applies if looser; an rtol given in the integrator\'s config replaces this one)' },
    plot: { type: 'boolean', default: true, description: 'write cl.png and cl.svg next to cl.tsv' },
    power: {
      type: 'object',
      default: {},
      additionalProperties: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      description:
        'which P(k, z) each probe family correlates through: {"GC": "power_cb"} makes the clustering tracers use the input power_cb ' +
        '(wire it in the stage\'s "inputs"); unmapped families use the input "power". A pair of tracers on different inputs uses the geometric mean.',
    },
    z_beyond_power: {
      enum: ['error', 'growth'],
      default: 'error',
      description: '"growth": above the top redshift of a P(k, z) grid, P(k, z) = P(k, z_top) [D(z)/D(z_top)]^2 (as CCL does beyond its splines; for CMB lensing to z ~ 1100); "error": the grid must cover the kernels',
    },
    non_limber: nonLimberSchema,
  },
};

/** The stage's inputs for a config: the tracer sets, the default power, the background and the mapped power inputs. */
export function limberInputs(config: Partial<LimberConfig>) {
  const extra = Object.fromEntries(extraPowerInputs(config?.power ?? {}).map((n) => [n, { port: ['nonlinear-power', 'linear-power'] }]));
  return {
    tracers: { port: 'weights', many: true as const },
    power: 'nonlinear-power',
    background: 'background',
    ...extra,
    // the non-Limber correction integrates over the linear spectrum (with growth)
    ...(nonLimberSpec(config?.non_limber) ? { linear: 'linear-power' } : {}),
  };
}

/** The power grid of an input, with a clear error when it is missing. */
function powerGrid(inp: LimberInputs, name: string): PowerGrid {
  const p = inp[name] as PowerGrid | undefined;
  if (!p || !(p.k_1overMpc instanceof Float64Array)) throw new Error(`with.power names the input "${name}", which is not wired to a power stage`);
  return p;
}

const noTangent = (a: DualArray): DualArray => ({ value: a.value, tangent: null, P: 0 });

/** D at a P grid's top redshift (a 1-node sample, tangents included), when some node lies above it; else D = 1. */
function topGrowth(bg: Background, power: PowerGrid, zq: Float64Array): DualArray {
  const zTop = power.z[power.z.length - 1];
  if (!(zq[zq.length - 1] > zTop)) return { value: Float64Array.of(1), tangent: null, P: 0 };
  return backgroundAt(bg, Float64Array.of(zTop)).D;
}

/** The same background without tangents (for the probe, which only picks nodes, and the reverse pass). */
const valuesOnlyBackground = (b: Background): Background => ({
  ...b, E: noTangent(b.E), chi_Mpc: noTangent(b.chi_Mpc), dM_Mpc: noTangent(b.dM_Mpc), D: noTangent(b.D), f: noTangent(b.f),
});

/**
 * The z quadrature of the Limber integral: the integrator's rule in x = ln z over the kernels' support, adapted
 * on the probe integrand (the sum over tracers of peak-normalised auto-spectra at `probe_ell`, through the
 * default power input) or fixed.
 */
export function limberNodes(inp: LimberInputs, config: LimberConfig, integrator: Integrator): { lnRule: QuadratureRule; zLo: number; zHi: number } {
  const list = tracerList(inp.tracers);
  const [zLo, zHi] = kernelSupport(list);
  // The integral runs in x = ln z: near z -> 0 the lensing integrand falls like a non-integer power of z
  // (W ~ chi, P((l+1/2)/chi) ~ chi^1.x), which no polynomial rule in z resolves, while in ln z it is
  // smooth (CCL integrates in ln k for the same reason). dz = z dx.
  // Adaptivity stops at the looser of the integrator's rtol and this stage's rtol (the kernels are cubic splines
  // of tables, C2 at their knots, so polynomial rules converge only algebraically below ~1e-9), unless the
  // integrator's config names an rtol: then that rtol governs (zNodesRtol), never silently overridden.
  const xLo = Math.log(zLo), xHi = Math.log(zHi);
  let lnRule: QuadratureRule;
  if (config.z_nodes === 'adaptive') {
    // the probe integrand in ln z (limber-probe.ts)
    const beyond = config.z_beyond_power === 'growth';
    const Dtop = beyond ? topGrowth(valuesOnlyBackground(inp.background), inp.power, Float64Array.of(zHi)).value[0] : 1;
    const probeLn = limberProbe(list, inp.power, inp.background, config.probe_ell, config.k_min_1overMpc, config.k_max_1overMpc, beyond, Dtop);
    const coarse = integrator.fixedRule(xLo, xHi, 4);
    const vals = new Float64Array(coarse.x.length);
    probeLn(coarse.x, vals);
    let est = 0;
    for (let q = 0; q < vals.length; q++) est += coarse.w[q] * vals[q];
    lnRule = integrator.adaptRule(probeLn, xLo, xHi, integrator.rtolGiven ? 0 : config.rtol * Math.abs(est));
  } else lnRule = integrator.fixedRule(xLo, xHi, config.z_nodes.level);
  return { lnRule, zLo, zHi };
}

/**
 * The relative accuracy the adaptive z nodes are converged to: the integrator's rtol when its config names one
 * (Integrator.rtolGiven), else the looser of the stage's `rtol` and the integrator's default. (Fixed nodes: the
 * integrator's rtol, unused.)
 */
export function zNodesRtol(config: Pick<LimberConfig, 'rtol' | 'z_nodes'>, integrator: Integrator): number {
  if (config.z_nodes !== 'adaptive' || integrator.rtolGiven) return integrator.rtol;
  return Math.max(config.rtol, integrator.rtol);
}

/** The pairs grouped by the power inputs they integrate over ('a|b', sorted names). */
interface PairGroup { key: string; inputs: [string, string]; pairs: number[] }

function pairGroups(list: TracerList, pairs: readonly (readonly [number, number])[], map: Readonly<Record<string, string>>): PairGroup[] {
  const input = list.tracers.map((t) => powerInputOf(t, map));
  const groups = new Map<string, PairGroup>();
  pairs.forEach(([a, b], p) => {
    const ins = [input[a], input[b]].sort() as [string, string];
    const key = ins.join('|');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { key, inputs: ins, pairs: [] }));
    g.pairs.push(p);
  });
  return [...groups.values()];
}

/** The power inputs used by some pair, in first-use order. */
const usedInputs = (groups: PairGroup[]) => [...new Set(groups.flatMap((g) => g.inputs))];

/**
 * The data of a chunk of the Limber stage (StageChunk.data): the spectra of every pair at a block of multipoles
 * (the chunk's range: multipole indices [a, b) of `ell`, total = the number of multipoles). Values only.
 */
export interface LimberChunk {
  ell: Float64Array;
  pairNames: string[];
  /** C_l of the block, pair-major [p * (b - a) + (l - a)] (the layout of Spectra.C over the block). */
  C: Float64Array;
}

/** Multipole blocks of about an eighth of the grid (a multiple of 4: the contraction's unrolling). */
function ellBlocks(nl: number, streaming: boolean): [number, number][] {
  if (!streaming) return [[0, nl]];
  const size = Math.max(4, 4 * Math.ceil(nl / 32));
  const out: [number, number][] = [];
  for (let a = 0; a < nl; a += size) out.push([a, Math.min(nl, a + size)]);
  return out;
}

/**
 * The Limber spectra. With `onChunk`, the contraction (the dominant cost) runs in blocks of multipoles and each
 * block's C_l leaves as a chunk (LimberChunk) as soon as it is complete; the numbers are identical either way
 * (every C[pair, l] is the same sum over the same nodes, in the same order).
 */
export function computeLimber(
  inp: LimberInputs, config: LimberConfig, integrator: Integrator, sticky?: <T>(what: string, compute: () => T) => T,
  onChunk?: (chunk: StageChunk) => void,
): Spectra {
  const ell = ellGrid(config.ell);
  const list = tracerList(inp.tracers);
  const { names, pairs } = pairOrder(list.tracers);
  const map = config.power ?? {};
  const beyond: BeyondPower = config.z_beyond_power ?? 'error';

  // 1. quadrature nodes (limberNodes); within one differentiation (stencil or finite-difference points) the
  // nodes chosen at the first evaluation are reused, so that every point integrates on the same rule
  const choose = () => limberNodes(inp, config, integrator);
  const { lnRule, zLo, zHi } = sticky ? sticky('limber-z-rule', choose) : choose();
  const zq = Float64Array.from(lnRule.x, Math.exp);
  const w = Float64Array.from(lnRule.w, (wq, q) => wq * zq[q]);
  const nq = zq.length, nl = ell.length, np = pairs.length;

  // 2. the comoving distance, H and the kernels at the nodes
  const bgIn = inp.background;
  const bg = backgroundAt(bgIn, zq);
  const H = scaleA(bg.E, bgIn.H0_1overMpc);
  const W = kernelsAtNodes(list, zq, true);
  let chiMin = Infinity, chiMax = 0;
  for (const c of bg.chi_Mpc.value) { chiMin = Math.min(chiMin, c); chiMax = Math.max(chiMax, c); }
  const kNeedLo = Math.max(config.k_min_1overMpc, (ell[0] + 0.5) / chiMax);
  const kNeedHi = Math.min(config.k_max_1overMpc, (ell[nl - 1] + 0.5) / chiMin);

  // 3. each power spectrum on the Limber grid, K[l, q] = w_q P((l+1/2)/chi_q, z_q) / (H_q chi_q^2)
  const groups = pairGroups(list, pairs, map);
  const Kof = new Map<string, DualArray>();
  const onNodes = new Map<string, PowerOnNodes>();
  const sample: NodeSample = { zq, w, H, chi: bg.chi_Mpc, D: bg.D };
  for (const name of usedInputs(groups)) {
    const power = powerGrid(inp, name);
    checkCoverage(name, power, zLo, zHi, kNeedLo, kNeedHi, beyond);
    const r = powerOnNodes(power, bgIn, sample, ell, config, false);
    onNodes.set(name, r);
    Kof.set(name, r.K);
  }
  const mult = multiplicativeFactors(list, true);
  let NP = Math.max(W.tangent ? W.P : 0, mult.tangent ? mult.P : 0);
  for (const K of Kof.values()) NP = Math.max(NP, K.tangent ? K.P : 0);

  // 3b. the non-Limber correction below the switch multipole (non-limber.ts), on a grid fixed within a differentiation
  const spec = nonLimberSpec(config.non_limber);
  let corr: { grid: NonLimberGrid; dC: DualArray; settings: Record<string, unknown> } | null = null;
  if (spec) {
    const linear = linearInput(inp);
    if (linear.P_Mpc3.tangent) NP = Math.max(NP, linear.P_Mpc3.P);
    const makeGrid = () => nonLimberGrid(list, bgIn, ell, spec);
    const grid = sticky ? sticky('nonlimber-grid', makeGrid) : makeGrid();
    const r = nonLimberCorrection(list, pairs, ell, bgIn, linear, grid, NP);
    corr = { grid, dC: r.dC, settings: r.settings };
  }

  const C = new Float64Array(np * nl);
  const dC = NP ? new Float64Array(NP * np * nl) : null;
  const prepared = groups.map((g) => {
    const kp = kernelProducts(g.pairs, pairs, W, mult, nq, NP);
    return {
      rows: g.pairs,
      K: g.inputs[0] === g.inputs[1] ? Kof.get(g.inputs[0])! : geometricMean(Kof.get(g.inputs[0])!, Kof.get(g.inputs[1])!),
      ...kp,
      plan: contractionPlan(kp.M, g.pairs.length, nq),
    };
  });
  const F = ellFactors(list.tracers, ell);
  for (const [l0, l1] of ellBlocks(nl, !!onChunk)) {
    // 4. the contraction over z of each group, for the multipoles of this block
    for (const g of prepared) contractBlock(g.rows, g.M, g.plan, g.dM, g.K, nq, nl, np, NP, C, dC, l0, l1);

    // 5. the l-factors of both tracers
    scaleByEllFactors(C, 1, F, pairs, nl, l0, l1);
    if (dC) scaleByEllFactors(dC, NP, F, pairs, nl, l0, l1);
    // 6. plus the non-Limber correction below the switch
    if (corr) addCorrection(corr.dC, C, dC, np, nl, NP, l0, Math.min(l1, corr.grid.nsw));
    if (onChunk) {
      const nb = l1 - l0;
      const block = new Float64Array(np * nb);
      for (let p = 0; p < np; p++) block.set(C.subarray(p * nl + l0, p * nl + l1), p * nb);
      const data: LimberChunk = { ell: ell.slice(l0, l1), pairNames: names, C: block };
      onChunk({ range: [l0, l1], total: nl, label: 'multipoles', data });
    }
  }
  const edges = ellEdges(config.ell); // bins by edges: C_l at their centres, the edges carried for the likelihood
  const out: Spectra = {
    ell, ...(edges ? { ellEdges: edges } : {}), tracers: list.tracers, pairNames: names, pairs, C: { value: C, tangent: dC, P: NP },
    settings: {
      z_nodes: nq, z_range: [zLo, zHi], integrator: integrator.name, rtol: zNodesRtol(config, integrator), k_range_1overMpc: [config.k_min_1overMpc, config.k_max_1overMpc],
      ell_factors: Object.fromEntries(list.tracers.map((t) => [t.name, t.ellFactor])),
      power_inputs: Object.fromEntries(list.tracers.map((t) => [t.name, powerInputOf(t, map)])), z_beyond_power: beyond,
      non_limber: corr ? { l_switch: spec!.l_switch, ...corr.settings } : false,
    },
  };
  KEPT_NODES.set(out, lnRule); // for the reverse pass (a reference, no copy)
  if (corr) KEPT_GRID.set(out, corr.grid);
  // a values-only run keeps what its reverse pass needs (a sampler's gradient step pulls back this very output)
  if (!NP)
    keepForward(out, inp, {
      zq, w, H: H.value, chi: bg.chi_Mpc.value, E: bg.E.value, D: bg.D.value, W: W.value, list, groups,
      power: new Map([...onNodes].map(([n, r]) => [n, { lnPq: r.lnPq.value, K: r.K.value, Dtop: r.Dtop.value[0] }])),
      group: prepared.map((g) => ({ K: g.K.value, M: g.M, plan: g.plan })),
    });
  return out;
}

/** The linear P(k, z) input of the non-Limber correction, with a clear error when it is not wired. */
function linearInput(inp: LimberInputs): PowerGrid {
  const p = inp.linear;
  if (!p || !(p.k_1overMpc instanceof Float64Array))
    throw new Error('with.non_limber needs the linear P(k, z): wire a linear-power stage to the input "linear" of the spectra stage');
  return p;
}

/** C[p, l] += dC[p, l] (and tangents) for l in [l0, l1). */
function addCorrection(d: DualArray, C: Float64Array, dC: Float64Array | null, np: number, nl: number, NP: number, l0: number, l1: number): void {
  for (let p = 0; p < np; p++) for (let l = l0; l < l1; l++) C[p * nl + l] += d.value[p * nl + l];
  if (!dC || !d.tangent) return;
  for (let c = 0; c < NP; c++)
    for (let p = 0; p < np; p++) {
      const o = (c * np + p) * nl;
      for (let l = l0; l < l1; l++) dC[o + l] += d.tangent[o + l];
    }
}

// ---------------------------------------------------------------------------------------------------------
// The power part, kept across calls

/** What the Limber weights of a power input depend on besides P: the nodes, weights, H, chi and D at them. */
interface NodeSample { zq: Float64Array; w: Float64Array; H: DualArray; chi: DualArray; D: DualArray }

/** ln P at the nodes (node-major, nq*nk), the Limber weights K (nl*nq) and D at the grid's top (a 1-node sample). */
interface PowerOnNodes { lnPq: DualArray; K: DualArray; Dtop: DualArray }

/**
 * The kept power parts (values only): ln P at the nodes and K are functions of the P(k, z) grid, the
 * background, the nodes and weights, the multipoles and the k window, nothing else (not the kernels). A sampler
 * step that moves only nuisance parameters (b_i, A_IA, eta_IA, m_i, dz_i) finds the P(k, z) and background
 * outputs in the memo store — the same objects — and, the probe landing on the same nodes, skips the power part
 * entirely. Keyed by the identity of the P(k, z) and background objects (stage outputs are immutable, and the memo
 * store hands out the one object stored under a key, so identity stands for the memo key; an entry read back from
 * a disk cache is a new object: a miss, never a stale hit) and by the nodes, weights and multipoles compared by
 * value. The last few only (most recent first).
 */
interface KeptPower extends PowerOnNodes {
  power: PowerGrid; background: Background; zq: Float64Array; w: Float64Array; ell: Float64Array;
  kMin: number; kMax: number; beyond: BeyondPower;
}
const KEPT_POWER: KeptPower[] = [];
const KEPT_POWER_MAX = 4;

const sameArray = (a: Float64Array, b: Float64Array) => {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/**
 * ln P and K of one power input at the nodes. `valuesOnly`: ignore every tangent (the reverse pass). Without
 * tangents in play the result comes from, or goes to, the kept entries (KEPT_POWER).
 */
function powerOnNodes(power: PowerGrid, background: Background, s: NodeSample, ell: Float64Array, config: LimberConfig, valuesOnly: boolean): PowerOnNodes {
  const beyond: BeyondPower = config.z_beyond_power ?? 'error';
  const kMin = config.k_min_1overMpc, kMax = config.k_max_1overMpc;
  const plain = valuesOnly || !(power.P_Mpc3.tangent || s.H.tangent || s.chi.tangent || s.D.tangent);
  if (plain) {
    const i = KEPT_POWER.findIndex((e) => e.power === power && e.background === background && e.kMin === kMin && e.kMax === kMax && e.beyond === beyond
      && sameArray(e.zq, s.zq) && sameArray(e.w, s.w) && sameArray(e.ell, ell));
    if (i >= 0) {
      const e = KEPT_POWER[i];
      if (i > 0) { KEPT_POWER.splice(i, 1); KEPT_POWER.unshift(e); }
      return e;
    }
  }
  const grid = valuesOnly ? { ...power, P_Mpc3: noTangent(power.P_Mpc3) } : power;
  const bgIn = valuesOnly ? valuesOnlyBackground(background) : background;
  const H = valuesOnly ? noTangent(s.H) : s.H, chi = valuesOnly ? noTangent(s.chi) : s.chi, D = valuesOnly ? noTangent(s.D) : s.D;
  const Dtop = topGrowth(bgIn, power, s.zq);
  // the tangent blocks ln P at the nodes may carry: P's own, and D's where nodes lie above the grid (so that no
  // mostly-zero tangent of ~90 000 numbers per direction is scanned to find them again)
  const liveP = nonzeroBlocks(grid.P_Mpc3);
  const live = new Set(liveP);
  if (s.zq[s.zq.length - 1] > power.z[power.z.length - 1]) for (const b of [...nonzeroBlocks(D), ...nonzeroBlocks(Dtop)]) live.add(b);
  const lnPq = lnPowerBeyond(grid, s.zq, D, Dtop, liveP);
  const K = limberWeights(ell, power.k_1overMpc, lnPq, s.w, H, chi, kMin, kMax, [...live].sort((a, b) => a - b));
  const r: PowerOnNodes = { lnPq, K, Dtop };
  if (plain) {
    KEPT_POWER.unshift({ ...r, power, background, zq: s.zq, w: s.w, ell, kMin, kMax, beyond });
    if (KEPT_POWER.length > KEPT_POWER_MAX) KEPT_POWER.pop();
  }
  return r;
}

/** Each tracer's l-factor F_A(l) at the multipoles (null for 'none'), one array per kind, shared by its tracers. */
function ellFactors(tracers: readonly Tracer[], ell: Float64Array): (Float64Array | null)[] {
  const byKind = new Map<string, Float64Array>();
  return tracers.map((t) => {
    if (t.ellFactor === 'none') return null;
    let a = byKind.get(t.ellFactor);
    if (!a) {
      a = new Float64Array(ell.length);
      for (let l = 0; l < ell.length; l++) a[l] = ellFactor(t.ellFactor, ell[l]);
      byKind.set(t.ellFactor, a);
    }
    return a;
  });
}

/**
 * 5. x[c, p, l] *= F_A(l) F_B(l) over the multipoles [l0, l1), for `blocks` blocks of pair rows (the values: 1;
 * tangents: one block per direction), pair p = (A, B).
 */
function scaleByEllFactors(
  x: Float64Array, blocks: number, F: readonly (Float64Array | null)[], pairs: readonly (readonly [number, number])[], nl: number, l0: number, l1: number,
): void {
  const np = pairs.length;
  for (let p = 0; p < np; p++) {
    const Fa = F[pairs[p][0]], Fb = F[pairs[p][1]];
    if (!Fa && !Fb) continue;
    for (let c = 0; c < blocks; c++) {
      const o = (c * np + p) * nl;
      if (Fa && Fb) for (let l = l0; l < l1; l++) x[o + l] *= Fa[l] * Fb[l];
      else {
        const G = (Fa ?? Fb)!;
        for (let l = l0; l < l1; l++) x[o + l] *= G[l];
      }
    }
  }
}

/** 4a. kernel products M = (1+m_A)(1+m_B) W_A W_B of a group's pairs (rows), with their tangents. */
function kernelProducts(
  rows: readonly number[], pairs: readonly (readonly [number, number])[], W: DualArray, mult: DualArray, nq: number, NP: number,
): { M: Float64Array; dM: Float64Array | null } {
  const ng = rows.length, nt = mult.value.length;
  const M = new Float64Array(ng * nq);
  const dM = NP ? new Float64Array(NP * ng * nq) : null;
  rows.forEach((p, r) => {
    const [a, b] = pairs[p];
    const f = mult.value[a] * mult.value[b];
    for (let q = 0; q < nq; q++) M[r * nq + q] = f * W.value[a * nq + q] * W.value[b * nq + q];
    if (!dM) return;
    for (let c = 0; c < NP; c++) {
      const df = mult.tangent ? mult.tangent[c * nt + a] * mult.value[b] + mult.value[a] * mult.tangent[c * nt + b] : 0;
      const o = (c * ng + r) * nq, wa = (c * nt + a) * nq, wb = (c * nt + b) * nq;
      for (let q = 0; q < nq; q++) {
        const Wa = W.value[a * nq + q], Wb = W.value[b * nq + q];
        const dW = W.tangent ? W.tangent[wa + q] * Wb + Wa * W.tangent[wb + q] : 0;
        dM[o + q] = f * dW + df * Wa * Wb;
      }
    }
  });
  return { M, dM };
}

/**
 * 4b. the contraction over z of a group's kernel products with its Limber weights K, C = M K^T, with its
 * tangent dM K + M dK, for the multipoles [l0, l1) (written into the rows of C and dC of the group's pairs).
 */
function contractBlock(
  rows: readonly number[], M: Float64Array, plan: ContractionPlan, dM: Float64Array | null, K: DualArray,
  nq: number, nl: number, np: number, NP: number, C: Float64Array, dC: Float64Array | null, l0: number, l1: number,
): void {
  const ng = rows.length, nb = l1 - l0;
  const Kb = K.value.subarray(l0 * nq, l1 * nq);
  // all pairs in order over every multipole (one power spectrum, no streaming: the common case): write in place
  const inPlace = ng === np && nb === nl;
  const Cg = bandedProducts(M, ng, Kb, nb, nq, inPlace ? C : undefined, plan);
  if (!inPlace) rows.forEach((p, r) => C.set(Cg.subarray(r * nb, (r + 1) * nb), p * nl + l0));
  if (!dC) return;
  // tangent blocks are sparse (a bias b_i touches only the pairs with G_i; nuisance parameters leave P(k)
  // alone): bandedProducts skips all-zero rows of dM, and all-zero blocks of dK are skipped here
  const blk = new Float64Array(ng * nb), tmp = new Float64Array(ng * nb);
  for (let c = 0; c < NP; c++) {
    bandedProducts(dM!.subarray(c * ng * nq, (c + 1) * ng * nq), ng, Kb, nb, nq, blk);
    const dKc = K.tangent ? K.tangent.subarray(c * nl * nq + l0 * nq, c * nl * nq + l1 * nq) : null;
    if (dKc && dKc.some((v) => v !== 0)) {
      bandedProducts(M, ng, dKc, nb, nq, tmp, plan);
      for (let i = 0; i < blk.length; i++) blk[i] += tmp[i];
    }
    rows.forEach((p, r) => dC.set(blk.subarray(r * nb, (r + 1) * nb), (c * np + p) * nl + l0));
  }
}

export const limber: StagePlugin<LimberConfig, LimberInputs, Spectra> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'spectra/limber',
  version: '2.1.0',
  port: 'spectra',
  description: 'C_l of every pair of tracers (all wired tracer sets) in the Limber approximation, z quadrature by the bound integrator',
  configSchema,
  inputs: (config: LimberConfig) => limberInputs(config),
  reads: {},
  methods: ['integrator'],
  differentiable: 'forward',
  check: (config) => nonLimberProblems(config.non_limber),
  describe: describeLimber,
  run(ctx) {
    // multipole blocks leave as chunks (LimberChunk) while the contraction runs
    return computeLimber(ctx.inputs, ctx.config, ctx.method<Integrator>('integrator'), ctx.sticky?.bind(ctx), ctx.chunk ? (c) => ctx.chunk!(c) : undefined);
  },
  vjp(ctx, outputBar) {
    const Cbar = (outputBar as { C?: Float64Array }).C;
    if (!Cbar) return {};
    const r = limberVjp(ctx.inputs, ctx.config, ctx.method<Integrator>('integrator'), ctx.output, Cbar);
    const spec = nonLimberSpec(ctx.config.non_limber);
    if (spec) addCorrectionVjp(ctx.inputs, ctx.output, spec, r, Cbar);
    return r;
  },
  write: (out, file, ctx) => writeSpectra(out, file, ctx.config),
  outputFiles: (file, { config }) => spectraFileNames(file, config),
  // cl.tsv grows row by row as the multipole blocks arrive: the header with the first chunk, then its rows
  streamFile(file): ChunkWriter | undefined {
    if (!file.endsWith('.tsv')) return undefined;
    let first = true;
    return {
      chunk(c) {
        const d = c.data as LimberChunk;
        const head = first ? spectraTsvHeader(d.pairNames) : '';
        first = false;
        return head + spectraTsvRows(d.ell, d.C, d.pairNames.length);
      },
    };
  },
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
/** The non-Limber grid of each computed output (the reverse pass uses the forward's discretisation). */
const KEPT_GRID = new WeakMap<Spectra, NonLimberGrid>();

/** The non-Limber correction's bars, added to those of the Limber part (limberVjp's result). */
function addCorrectionVjp(inp: LimberInputs, output: Spectra, spec: NonLimberSpec, r: ReturnType<typeof limberVjp>, Cbar: Float64Array): void {
  const list = tracerList(inp.tracers);
  const linear = linearInput(inp);
  const grid = KEPT_GRID.get(output) ?? nonLimberGrid(list, inp.background, output.ell, spec);
  const b = nonLimberCorrectionVjp(list, output.pairs, output.ell, inp.background, linear, grid, Cbar);
  const sets = (Array.isArray(r.inputs.tracers) ? r.inputs.tracers : [r.inputs.tracers]) as { W: Float64Array; multiplicative: Float64Array }[];
  sets.forEach((s, i) => {
    for (let j = 0; j < s.W.length; j++) s.W[j] += b.W[i][j];
    const o = list.offset[i];
    for (let j = 0; j < s.multiplicative.length; j++) s.multiplicative[j] += b.multiplicative[o + j];
  });
  const bg = r.inputs.background;
  for (const [field, bar] of [['chi_Mpc', b.chi_Mpc], ['D', b.D]] as const) {
    const acc = bg[field];
    if (!(acc instanceof Float64Array)) bg[field] = bar;
    else for (let i = 0; i < acc.length; i++) acc[i] += bar[i];
  }
  const prior = (r.inputs as Record<string, unknown>).linear as { P_Mpc3: Float64Array } | undefined;
  if (prior) for (let i = 0; i < prior.P_Mpc3.length; i++) prior.P_Mpc3[i] += b.linear[i];
  else (r.inputs as Record<string, unknown>).linear = { P_Mpc3: b.linear };
}

/** Forward values the backward pass needs: kept by the values-only forward run, else recomputed once per output. */
interface LimberForward {
  zq: Float64Array;
  w: Float64Array;
  H: Float64Array;
  chi: Float64Array;
  E: Float64Array;
  D: Float64Array;
  W: Float64Array;
  list: TracerList;
  groups: PairGroup[];
  /** Per power input: ln P at the nodes, K, D at the grid's top. */
  power: Map<string, { lnPq: Float64Array; K: Float64Array; Dtop: number }>;
  /** Per group: its K, kernel products and (once a reverse pass has needed it) their contraction plan. */
  group: { K: Float64Array; M: Float64Array; plan?: ContractionPlan }[];
}
/**
 * The forward values of the last few outputs (the reverse pass of a sampler step pulls back the output just
 * computed; a Fisher matrix by reverse mode sweeps one output P times). Bounded, unlike the outputs themselves,
 * which a memo store may keep by the thousand: each entry holds ln P at the nodes (~0.7 MB).
 */
const FORWARD_KEPT = new Map<Spectra, { f: LimberForward; from: unknown[] }>();
const FORWARD_KEPT_MAX = 4;

/** The input objects an output was computed from (tracer sets, then every other input by name): an entry serves only the same ones. */
const inputObjects = (inp: LimberInputs): unknown[] => [
  ...(Array.isArray(inp.tracers) ? inp.tracers : [inp.tracers]), ...Object.keys(inp).filter((k) => k !== 'tracers').sort().map((k) => inp[k]),
];

function keepForward(output: Spectra, inp: LimberInputs, f: LimberForward): void {
  FORWARD_KEPT.set(output, { f, from: inputObjects(inp) });
  if (FORWARD_KEPT.size > FORWARD_KEPT_MAX) FORWARD_KEPT.delete(FORWARD_KEPT.keys().next().value!);
}

function limberForward(inp: LimberInputs, config: LimberConfig, integrator: Integrator, output: Spectra): LimberForward {
  const kept = FORWARD_KEPT.get(output);
  if (kept) {
    const now = inputObjects(inp);
    if (now.length === kept.from.length && now.every((x, i) => x === kept.from[i])) return kept.f;
  }
  // the same nodes as the forward run (kept, or re-adapted on the same values: the rule is a function of them)
  const lnRule = KEPT_NODES.get(output) ?? limberNodes(inp, config, integrator).lnRule;
  const zq = Float64Array.from(lnRule.x, Math.exp);
  const w = Float64Array.from(lnRule.w, (wq, q) => wq * zq[q]);
  const nq = zq.length;
  const list = tracerList(inp.tracers);
  const bg = backgroundAt(valuesOnlyBackground(inp.background), zq);
  const H0 = inp.background.H0_1overMpc.v;
  const H = Float64Array.from(bg.E.value, (e) => e * H0);
  const W = kernelsAtNodes(list, zq, false).value;
  const groups = pairGroups(list, output.pairs, config.power ?? {});
  const power = new Map<string, { lnPq: Float64Array; K: Float64Array; Dtop: number }>();
  const sample: NodeSample = { zq, w, H: { value: H, tangent: null, P: 0 }, chi: bg.chi_Mpc, D: bg.D };
  for (const name of usedInputs(groups)) {
    const r = powerOnNodes(powerGrid(inp, name), inp.background, sample, output.ell, config, true);
    power.set(name, { lnPq: r.lnPq.value, K: r.K.value, Dtop: r.Dtop.value[0] });
  }
  const mult = multiplicativeFactors(list, false).value;
  const group = groups.map((g) => {
    const K = g.inputs[0] === g.inputs[1] ? power.get(g.inputs[0])!.K
      : geometricMean({ value: power.get(g.inputs[0])!.K, tangent: null, P: 0 }, { value: power.get(g.inputs[1])!.K, tangent: null, P: 0 }).value;
    const M = new Float64Array(g.pairs.length * nq);
    g.pairs.forEach((p, r) => {
      const [a, b] = output.pairs[p];
      const f = mult[a] * mult[b];
      for (let q = 0; q < nq; q++) M[r * nq + q] = f * W[a * nq + q] * W[b * nq + q];
    });
    return { K, M };
  });
  const f: LimberForward = { zq, w, H, chi: bg.chi_Mpc.value, E: bg.E.value, D: bg.D.value, W, list, groups, power, group };
  keepForward(output, inp, f);
  return f;
}

/**
 * The vector-Jacobian product of the Limber spectra: Cbar (pair-major, like C) pulled back, in reverse order
 * of computeLimber, to the tracer sets (W, 1+m), the P(k, z) grids and the background (E, chi, D, H0):
 *   5'. l-factors:      Cbar <- Cbar F_A F_B;
 *   4'. per group, the contraction:  Kbar = Cbar^T M, Mbar = Cbar K  (transposed banded product); a group on two
 *       power inputs splits Kbar between them (K = sqrt(K_a K_b));
 *       kernel products M = (1+m_A)(1+m_B) W_A W_B:  Wbar_A += Mbar f W_B, Wbar_B += Mbar f W_A, mbar from f;
 *   3'. Limber weights per input: Kbar -> ln P at the nodes, H and chi; ln P -> P(k, z) grid (and D beyond it);
 *   2'. nodes -> grids: kernels (transposed spline in z per set), background (transposed spline in ln(1+z)).
 * The z nodes are those of the forward run (a function of the values, as in forward mode).
 */
export function limberVjp(inp: LimberInputs, config: LimberConfig, integrator: Integrator, output: Spectra, Cbar: Float64Array) {
  const { background } = inp;
  const f = limberForward(inp, config, integrator, output);
  const ell = output.ell;
  const nl = ell.length, np = output.pairs.length, nq = f.zq.length, nt = f.list.tracers.length;
  if (Cbar.length !== np * nl) throw new Error(`spectra/limber vjp: the bar of C has ${Cbar.length} entries, expected ${np} x ${nl}`);
  // 5'. l-factors
  const Cb = Cbar.slice();
  scaleByEllFactors(Cb, 1, ellFactors(f.list.tracers, ell), output.pairs, nl, 0, nl);
  // 4'. per group: the contraction, the kernel products and the multiplicative factors
  const mult = multiplicativeFactors(f.list, false).value;
  const WbarNodes = new Float64Array(nt * nq), multBar = new Float64Array(nt);
  const KbarOf = new Map<string, Float64Array>();
  const kbar = (name: string) => { let b = KbarOf.get(name); if (!b) KbarOf.set(name, (b = new Float64Array(nl * nq))); return b; };
  f.groups.forEach((g, gi) => {
    const fg = f.group[gi];
    const { K, M } = fg;
    const plan = (fg.plan ??= contractionPlan(M, g.pairs.length, nq));
    const ng = g.pairs.length;
    const Cg = new Float64Array(ng * nl);
    g.pairs.forEach((p, r) => Cg.set(Cb.subarray(p * nl, (p + 1) * nl), r * nl));
    const Kbar = new Float64Array(nl * nq), Mbar = new Float64Array(ng * nq);
    bandedProductsAdjoint(M, ng, K, nl, nq, plan, Cg, Mbar, Kbar);
    if (g.inputs[0] === g.inputs[1]) {
      const t = kbar(g.inputs[0]);
      for (let i = 0; i < t.length; i++) t[i] += Kbar[i];
    } else {
      // K = sqrt(Ka Kb): dK = K/2 (dKa/Ka + dKb/Kb)
      for (const name of g.inputs) {
        const Ka = f.power.get(name)!.K, t = kbar(name);
        for (let i = 0; i < t.length; i++) if (Ka[i] !== 0) t[i] += (Kbar[i] * K[i]) / (2 * Ka[i]);
      }
    }
    g.pairs.forEach((p, r) => {
      const [a, b] = output.pairs[p];
      const fp = mult[a] * mult[b];
      let fbar = 0;
      for (let q = plan.bandLo[r]; q < plan.bandHi[r]; q++) {
        const mb = Mbar[r * nq + q];
        if (mb === 0) continue;
        const Wa = f.W[a * nq + q], Wb = f.W[b * nq + q];
        WbarNodes[a * nq + q] += mb * fp * Wb;
        WbarNodes[b * nq + q] += mb * fp * Wa;
        fbar += mb * Wa * Wb;
      }
      multBar[a] += fbar * mult[b];
      multBar[b] += fbar * mult[a];
    });
  });
  // 3'. Limber weights per power input, then ln P at the nodes back onto its P(k, z) grid (and D beyond it)
  const Hbar = new Float64Array(nq), chiBar = new Float64Array(nq), Dbar = new Float64Array(nq);
  const powerBars: Record<string, { P_Mpc3: Float64Array }> = {};
  const DtopBars: { z: number; bar: number }[] = [];
  for (const [name, Kbar] of KbarOf) {
    const grid = powerGrid(inp, name), pw = f.power.get(name)!;
    const kw = limberWeightsAdjoint(ell, grid.k_1overMpc, pw.lnPq, f.w, f.H, f.chi, config.k_min_1overMpc, config.k_max_1overMpc, Kbar);
    for (let q = 0; q < nq; q++) { Hbar[q] += kw.Hbar[q]; chiBar[q] += kw.chiBar[q]; }
    const r = lnPowerBeyondAdjoint(grid, f.zq, kw.lnPqBar, f.D, pw.Dtop);
    powerBars[name] = { P_Mpc3: r.Pbar };
    for (let q = 0; q < nq; q++) Dbar[q] += r.Dbar[q];
    if (r.DtopBar !== 0) DtopBars.push({ z: grid.z[grid.z.length - 1], bar: r.DtopBar });
  }
  // 2'. nodes back onto the tracer sets' and the background's grids; H = H0 E
  const Wbars = kernelsAtNodesAdjoint(f.list, f.zq, WbarNodes);
  const Ebar = new Float64Array(nq);
  let H0bar = 0;
  const H0 = background.H0_1overMpc.v;
  for (let q = 0; q < nq; q++) {
    Ebar[q] = Hbar[q] * H0;
    H0bar += Hbar[q] * f.E[q];
  }
  const hasD = Dbar.some((v) => v !== 0);
  const bgBar: Record<string, Float64Array | number> = { ...backgroundAtAdjoint(background, f.zq, hasD ? { E: Ebar, chi_Mpc: chiBar, D: Dbar } : { E: Ebar, chi_Mpc: chiBar }) };
  for (const { z, bar } of DtopBars) {
    const b = backgroundAtAdjoint(background, Float64Array.of(z), { D: Float64Array.of(bar) }).D!;
    const acc = (bgBar.D as Float64Array | undefined) ?? new Float64Array(b.length);
    for (let i = 0; i < b.length; i++) acc[i] += b[i];
    bgBar.D = acc;
  }
  bgBar.H0_1overMpc = H0bar;
  const setBars = f.list.sets.map((s, si) => ({ W: Wbars[si], multiplicative: multBar.slice(f.list.offset[si], f.list.offset[si] + s.tracers.length) }));
  return {
    inputs: {
      tracers: Array.isArray(inp.tracers) ? setBars : setBars[0],
      ...powerBars,
      background: bgBar,
    },
  };
}
