/**
 * `weights/3x2pt`: radial weights of the photometric 3x2pt tracers (cosmic shear + NLA intrinsic
 * alignments, galaxy clustering) on the n(z) grid, so that the Limber stage computes
 *
 *   C_AB(l) = Integral dz W_A(z) W_B(z) / (H(z) chi(z)^2) P((l+1/2)/chi, z)      (H [1/Mpc], chi [Mpc]).
 *
 * In physics order (docs/weights.md; the same conventions as the CCL reference, shared/reference/ccl/README.md):
 *   1. the background at the n(z) nodes: chi(z), H(z) = H0 E(z), D(z) (D(0) = 1);
 *   2. lensing efficiency   W_gamma,i(z) = (3/2) H0^2 Omega_m (1+z) chi(z) Integral_z^zmax dz' p_i(z') [chi(z') - chi(z)]/chi(z')
 *                                         = (3/2) H0^2 Omega_m (1+z) chi [A_i(z) - chi B_i(z)],
 *      A_i = Integral_z^zmax p_i dz', B_i = Integral_z^zmax p_i/chi dz' (cumulative quadrature from the top, O(nz));
 *   3. NLA intrinsic alignments  F_IA(z) = -A_IA (1+z)^eta_IA C_IA Omega_m / D(z)  (Hirata & Seljak 2004;
 *      Bridle & King 2007), radial kernel p_i(z) H(z): W_L,i = W_gamma,i + F_IA p_i H;
 *   4. clustering           W_G,i(z) = b_i p_i(z) H(z), b_i constant in the bin;
 *   5. multiplicative shear bias (1 + m_i) per lensing tracer (applied by the spectra stage, like F_l).
 * The kernels are written once, as values, on the expression layer (3x2pt-kernels.ts, core/ad/expr.ts), which
 * gives the tangents of every varied parameter (through chi, H, D, H0, Omega_m, the n(z) and A_IA, eta_IA, b_i,
 * m_i) and the reverse VJP from the same lines. This file holds the configuration, parameters, tracers and the
 * stage descriptor.
 */
import { PLUGIN_API_VERSION, type DescribeContext, type ParameterSpec, type StageContext, type StagePlugin } from '../../core/plugin/types.js';
import { backgroundAt, backgroundAtAdjoint } from '../contracts/background-eval.js';
import type { Dual } from '../../core/ad/dual.js';
import type { DualArray } from '../../core/ad/dual-array.js';
import type { Background } from '../contracts/background.js';
import { ARCMIN2_PER_SR, type Tracer, type TracerSet } from '../contracts/tracers.js';
import { threeByTwoKernels, threeByTwoKernelsAdjoint, type KernelParameters } from './3x2pt-kernels.js';

export {
  threeByTwoKernels, threeByTwoKernelsAdjoint, topDownIntegrator, topDownIntegratorAdjoint,
  type KernelBackground, type KernelBars, type KernelParameters, type KernelValues,
} from './3x2pt-kernels.js';
import type { RedshiftDistribution } from '../contracts/redshift.js';
import { describeThreeByTwo } from './3x2pt-describe.js';

export interface ThreeByTwoConfig {
  /** Number of tomographic bins; must equal the n(z) stage's (unset in a pipeline: the n(z) stage's, see configureThreeByTwo). */
  bins: number;
  lensing: boolean;
  clustering: boolean;
  /** 'nla': shear + NLA intrinsic alignments; 'none': pure shear (no A_IA, eta_IA parameters). */
  intrinsicAlignment: 'nla' | 'none';
  /** NLA normalisation C_IA (C1 rho_crit), dimensionless. */
  C_IA: number;
  /** Spin-2 prefactor the spectra stage applies to lensing tracers. */
  shearPrefactor: 'exact' | 'none';
  /** Bin centres used for the default galaxy bias b_i = sqrt(1 + zbar_i); must match the n(z) stage's zbar. */
  zbar: number[];
  /** Total intrinsic ellipticity dispersion: shape noise N_LL = sigma_eps^2 / nbar. */
  sigma_eps: number;
  /** Galaxies per arcmin^2 in each bin (one number for all bins, or one per bin): N_GG = 1 / nbar. */
  nbar_arcmin2: number | number[];
}

// Euclid IST:F defaults (survey_spec_euclid_istf.json: bin_centres_zbar, intrinsic_alignment).
export const ISTF_ZBAR = [0.2095, 0.489, 0.619, 0.7335, 0.8445, 0.9595, 1.087, 1.2395, 1.4500000000000002, 2.0380000000000003];
export const C_IA_DEFAULT = 0.0134;

export const THREE_BY_TWO_DEFAULTS: ThreeByTwoConfig = {
  bins: 10,
  lensing: true,
  clustering: true,
  intrinsicAlignment: 'nla',
  C_IA: C_IA_DEFAULT,
  shearPrefactor: 'exact',
  zbar: ISTF_ZBAR,
  sigma_eps: 0.3,
  nbar_arcmin2: 3,
};

export const threeByTwoSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    bins: {
      type: 'integer',
      minimum: 1,
      description: "Number of tomographic bins: by default the n(z) stage's (its description, before compute); 10 without one. If given, it must equal the n(z) stage's.",
    },
    lensing: { type: 'boolean', default: true, description: 'Emit lensing tracers L1..Ln.' },
    clustering: { type: 'boolean', default: true, description: 'Emit clustering tracers G1..Gn.' },
    intrinsicAlignment: {
      enum: ['nla', 'none'],
      default: 'nla',
      description: "'nla': NLA intrinsic alignments in the lensing kernels (parameters A_IA, eta_IA); 'none': pure shear.",
    },
    C_IA: {
      type: 'number',
      exclusiveMinimum: 0,
      default: C_IA_DEFAULT,
      description: 'NLA normalisation C_IA = C1 rho_crit (0.0134, as in the ISTF spec and the CCL reference; CCL\'s own constant would be 0.0138768).',
    },
    shearPrefactor: {
      enum: ['exact', 'none'],
      default: 'exact',
      description: "Spin-2 prefactor applied by the spectra stage: 'exact' sqrt((l+2)!/(l-2)!)/(l+1/2)^2, or 'none'.",
    },
    zbar: {
      type: 'array',
      items: { type: 'number', minimum: 0 },
      minItems: 1,
      description:
        "Bin centres for the default bias b_i = sqrt(1 + zbar_i): by default the n(z) stage's, when it fixes them before compute " +
        '(istf-photometric; a table with binEdges), else the IST:F centres. If given, they must equal the n(z) stage\'s zbar.',
    },
    sigma_eps: { type: 'number', minimum: 0, default: 0.3, description: 'total intrinsic ellipticity dispersion: shape noise of the lensing tracers N_LL = sigma_eps^2 / nbar' },
    nbar_arcmin2: {
      description: 'galaxies per arcmin^2 in each tomographic bin (one number for all bins, or one per bin): shot noise of the clustering tracers N_GG = 1 / nbar',
      default: 3,
      anyOf: [{ type: 'number', exclusiveMinimum: 0 }, { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 1 }],
    },
  },
};

export function resolveThreeByTwoConfig(c: Partial<ThreeByTwoConfig> | undefined): ThreeByTwoConfig {
  return { ...THREE_BY_TWO_DEFAULTS, ...(c ?? {}) };
}

/** Cross-field checks; messages name the `with.` path. */
export function checkThreeByTwoConfig(raw: Partial<ThreeByTwoConfig>): string[] {
  const c = resolveThreeByTwoConfig(raw);
  const msgs: string[] = [];
  if (!Number.isInteger(c.bins) || c.bins < 1) msgs.push(`with.bins: ${c.bins} must be a positive integer`);
  if (!c.lensing && !c.clustering) msgs.push('with.clustering: false together with with.lensing = false leaves no tracer; enable at least one');
  if (c.clustering && c.zbar.length !== c.bins)
    msgs.push(
      `with.zbar: has ${c.zbar.length} entries, but with.bins = ${c.bins}; give one bin centre per bin ` +
        '(they set the default galaxy bias b_i = sqrt(1 + zbar_i))',
    );
  if (Array.isArray(c.nbar_arcmin2) && c.nbar_arcmin2.length !== c.bins)
    msgs.push(`with.nbar_arcmin2: has ${c.nbar_arcmin2.length} entries, but with.bins = ${c.bins}; give one number per bin, or one number for all`);
  if (!(c.C_IA > 0)) msgs.push(`with.C_IA: ${c.C_IA} must be > 0`);
  if (!['nla', 'none'].includes(c.intrinsicAlignment)) msgs.push(`with.intrinsicAlignment: '${c.intrinsicAlignment}' is not allowed; choose 'nla' or 'none'`);
  if (!['exact', 'none'].includes(c.shearPrefactor)) msgs.push(`with.shearPrefactor: '${c.shearPrefactor}' is not allowed; choose 'exact' or 'none'`);
  return msgs;
}

/** Parameters read, as a function of the config (one bias and one shear bias per bin). */
export function threeByTwoParameters(raw: Partial<ThreeByTwoConfig>): Record<string, ParameterSpec> {
  const c = resolveThreeByTwoConfig(raw);
  const specs: Record<string, ParameterSpec> = {};
  if (c.lensing && c.intrinsicAlignment === 'nla') {
    specs.A_IA = { default: 1.72, description: 'NLA intrinsic-alignment amplitude' };
    specs.eta_IA = { default: -0.41, description: 'NLA redshift slope: amplitude A_IA (1+z)^eta_IA' };
  }
  if (c.clustering && c.zbar.length !== c.bins)
    throw new Error(`with.zbar: has ${c.zbar.length} entries, but with.bins = ${c.bins}; give one bin centre per bin (they set the default galaxy bias b_i = sqrt(1 + zbar_i))`);
  if (c.clustering)
    for (let i = 0; i < c.bins; i++) {
      const zb = c.zbar[i];
      specs[`b_${i + 1}`] = {
        default: Math.sqrt(1 + zb),
        description: `linear galaxy bias of bin ${i + 1}, constant in z (default sqrt(1 + zbar_${i + 1}), zbar_${i + 1} = ${zb})`,
        exclusiveMin: 0,
      };
    }
  if (c.lensing)
    for (let i = 0; i < c.bins; i++)
      specs[`m_${i + 1}`] = {
        default: 0,
        description: `multiplicative shear bias of bin ${i + 1}: lensing tracer scaled by (1 + m_${i + 1})`,
        exclusiveMin: -1,
        absStep: 1e-3,
      };
  return specs;
}

/**
 * The tracers L1..Ln (family WL: shear + NLA, spin-2, shape noise) then G1..Gn (family GC: linear bias, shot
 * noise), in the order of the kernel rows. Noise per steradian from nbar per arcmin^2.
 */
export function threeByTwoTracers(config: Partial<ThreeByTwoConfig>): Tracer[] {
  const cfg = resolveThreeByTwoConfig(config);
  const nbarSr = (i: number) => (Array.isArray(cfg.nbar_arcmin2) ? cfg.nbar_arcmin2[i] : cfg.nbar_arcmin2) * ARCMIN2_PER_SR;
  const out: Tracer[] = [];
  if (cfg.lensing)
    for (let i = 0; i < cfg.bins; i++)
      out.push({
        name: `L${i + 1}`, family: 'WL', code: 'L', index: i + 1, latex: `\\gamma_{${i + 1}}`,
        ellFactor: cfg.shearPrefactor === 'exact' ? 'spin2' : 'none', power: 'matter',
        noise: (cfg.sigma_eps * cfg.sigma_eps) / nbarSr(i),
      });
  if (cfg.clustering)
    for (let i = 0; i < cfg.bins; i++)
      out.push({ name: `G${i + 1}`, family: 'GC', code: 'G', index: i + 1, latex: `\\delta_{g,${i + 1}}`, ellFactor: 'none', power: 'matter', noise: 1 / nbarSr(i) });
  return out;
}

/**
 * StagePlugin.configure: the bins and bin centres the pipeline leaves unset follow the n(z) stage's description
 * (nBins, zbar), so that changing the n(z) binning is one edit: the biases b_i and shear biases m_i read, and the
 * default bias sqrt(1 + zbar_i), follow. Fields the pipeline sets are kept (and checked against the n(z) by describe).
 */
export function configureThreeByTwo(config: Partial<ThreeByTwoConfig>, ctx: DescribeContext): Partial<ThreeByTwoConfig> {
  const nz = ctx.inputs.nz;
  if (!nz || Array.isArray(nz)) return config;
  const out = { ...config };
  if (out.bins === undefined && Number.isInteger(nz.nBins) && (nz.nBins as number) >= 1) out.bins = nz.nBins as number;
  const bins = out.bins ?? THREE_BY_TWO_DEFAULTS.bins;
  if (out.zbar === undefined && Array.isArray(nz.zbar) && nz.zbar.length === bins && nz.zbar.every((x) => typeof x === 'number' && x >= 0))
    out.zbar = nz.zbar as number[];
  return out;
}

/** Maximum |a - b| over the bins, for the zbar consistency check. */
function zbarMismatch(a: readonly number[], b: Float64Array): number {
  let d = 0;
  for (let i = 0; i < b.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

export interface ThreeByTwoInputs {
  nz: RedshiftDistribution;
  background: Background;
}

/**
 * The background on the n(z) grid (chi, E, D), kept for the last few (background, grid) pairs when the background
 * carries no tangents: a step that moves only nuisance parameters finds the background output in the memo store
 * (the same object), and a step's reverse pass needs the values its forward run sampled. By object identity
 * (stage outputs are immutable; a different or reloaded background is another object: a miss), bounded.
 */
type Sample = { chi_Mpc: DualArray; E: DualArray; D: DualArray };
const SAMPLES: { background: Background; grid: Float64Array; s: Sample }[] = [];
function sampleOn(background: Background, grid: Float64Array): Sample {
  const plain = !background.chi_Mpc.tangent && !background.E.tangent && !background.D.tangent;
  if (plain) {
    const hit = SAMPLES.find((e) => e.background === background && e.grid === grid);
    if (hit) return hit.s;
  }
  const { chi_Mpc, E, D } = backgroundAt(background, grid);
  const s = { chi_Mpc, E, D };
  if (plain) {
    SAMPLES.unshift({ background, grid, s });
    if (SAMPLES.length > 4) SAMPLES.pop();
  }
  return s;
}

export const threeByTwoPlugin: StagePlugin<ThreeByTwoConfig, ThreeByTwoInputs, TracerSet> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'weights/3x2pt',
  version: '1.0.0',
  port: 'weights',
  description:
    '3x2pt radial weights: lensing efficiency + NLA intrinsic alignments (L1..Ln), linear-bias clustering (G1..Gn), shear biases (1+m_i).',
  configSchema: threeByTwoSchema,
  inputs: { nz: 'redshift-distribution', background: 'background' },
  reads: (config) => threeByTwoParameters(config),
  differentiable: 'forward',
  check: (config) => checkThreeByTwoConfig(config),
  describe: describeThreeByTwo,
  configure: (config, ctx) => configureThreeByTwo(config, ctx) as ThreeByTwoConfig,
  run(ctx: StageContext<ThreeByTwoConfig, ThreeByTwoInputs>): TracerSet {
    const cfg = resolveThreeByTwoConfig(ctx.config);
    const errors = checkThreeByTwoConfig(cfg);
    if (errors.length) throw new Error(`weights/3x2pt: ${errors.join('; ')}`);
    const { nz, background } = ctx.inputs;
    if (nz.nBins !== cfg.bins)
      throw new Error(`weights/3x2pt: with.bins = ${cfg.bins} but the n(z) stage provides ${nz.nBins} bins; set with.bins = ${nz.nBins}`);
    if (cfg.clustering && zbarMismatch(cfg.zbar, nz.zbar) > 1e-9)
      throw new Error(
        `weights/3x2pt: with.zbar = [${cfg.zbar.join(', ')}] (default galaxy bias sqrt(1 + zbar_i)) differs from the n(z) ` +
          `stage's zbar = [${Array.from(nz.zbar).join(', ')}] (${nz.zbarDefinition}); set with.zbar to the latter`,
      );
    const P = ctx.tangentParams.length;
    // 1. background at the n(z) nodes
    const s = sampleOn(background, nz.z);
    const withIA = cfg.lensing && cfg.intrinsicAlignment === 'nla';
    const zero: Dual = { v: 0, d: null };
    const par: KernelParameters = {
      A_IA: withIA ? ctx.param('A_IA') : zero,
      eta_IA: withIA ? ctx.param('eta_IA') : zero,
      b: cfg.clustering ? Array.from({ length: cfg.bins }, (_, i) => ctx.param(`b_${i + 1}`)) : [],
      m: cfg.lensing ? Array.from({ length: cfg.bins }, (_, i) => ctx.param(`m_${i + 1}`)) : [],
    };
    return threeByTwoKernels(
      nz,
      { chi_Mpc: s.chi_Mpc, E: s.E, D: s.D, H0_1overMpc: background.H0_1overMpc, Omega_m: background.Omega_m },
      par,
      cfg,
      P,
    );
  },
  vjp(ctx, outputBar) {
    const bar = outputBar as { W?: Float64Array; multiplicative?: Float64Array };
    if (!bar.W && !bar.multiplicative) return {};
    const cfg = resolveThreeByTwoConfig(ctx.config);
    const { nz, background } = ctx.inputs;
    const s = sampleOn(background, nz.z); // the forward run's sample, when it is at hand
    const withIA = cfg.lensing && cfg.intrinsicAlignment === 'nla';
    const v = (n: string) => ctx.param(n).v;
    const par = {
      A_IA: withIA ? v('A_IA') : 0,
      eta_IA: withIA ? v('eta_IA') : 0,
      b: cfg.clustering ? Array.from({ length: cfg.bins }, (_, i) => v(`b_${i + 1}`)) : [],
    };
    const r = threeByTwoKernelsAdjoint(
      nz, { chi: s.chi_Mpc.value, E: s.E.value, D: s.D.value, H0: background.H0_1overMpc.v, Omega_m: background.Omega_m.v },
      par, cfg, bar.W ?? null, bar.multiplicative ?? null, ctx.needs?.('nz') ?? true,
    );
    const params: Record<string, number> = {};
    if (withIA) { params.A_IA = r.A_IA; params.eta_IA = r.eta_IA; }
    r.b.forEach((x, i) => { params[`b_${i + 1}`] = x; });
    r.m.forEach((x, i) => { params[`m_${i + 1}`] = x; });
    const bg = backgroundAtAdjoint(background, nz.z, { chi_Mpc: r.chi, E: r.E, D: r.D });
    return {
      inputs: { ...(ctx.needs?.('nz') ?? true ? { nz: { n: r.n } } : {}), background: { ...bg, H0_1overMpc: r.H0, Omega_m: r.Omega_m } },
      params,
    };
  },
  write(output, file) {
    const n = output.z.length;
    const lines = [['z', ...output.tracers.map((t) => `W_${t.name}_1overMpc`)].join('\t')];
    for (let k = 0; k < n; k++) {
      const row = [String(output.z[k])];
      for (let a = 0; a < output.tracers.length; a++) row.push(output.W.value[a * n + k].toExponential(10));
      lines.push(row.join('\t'));
    }
    return { [file]: lines.join('\n') + '\n' };
  },
};

