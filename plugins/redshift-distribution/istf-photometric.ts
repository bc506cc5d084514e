/**
 * `redshift-distribution/istf-photometric`: the Euclid IST:F photometric tomographic n_i(z)
 * (Euclid Collaboration: Blanchard et al. 2020, A&A 642, A191, section 3.2), exactly as the survey spec
 * `survey_spec_euclid_istf.json` describes it:
 *
 *   1. parent distribution      n(z) ∝ (z/z0)^2 exp[-(z/z0)^(3/2)],  z0 = 0.9/sqrt(2);
 *   2. photo-z likelihood       p(zp|z) = (1-f_out) N_b + f_out N_o, each component
 *                               N_x = exp{-[(z - c_x zp - z_x) / (sigma_x (1+z))]^2 / 2} / [sqrt(2 pi) sigma_x (1+z)];
 *   3. bin i (zp in [e_i, e_i+1]): n_i(z) = n(z) Int_{e_i}^{e_i+1} p(zp|z) dzp, done analytically:
 *                               Int N_x dzp = (1/c_x) [erf(u_lo) - erf(u_hi)] / 2,
 *                               u = (z - c_x zp - z_x) / (sqrt(2) sigma_x (1+z)),
 *      with erf differences formed through erfc in the tails (no cancellation), components below 1e-300 set to 0;
 *   4. each n_i normalised to unit integral on the z grid (rule: config `normalise`);
 *   5. photo-z shifts n_i(z) -> n_i(z - dz_i), evaluated analytically at the shifted redshifts (exact, no
 *      interpolation), with the tangent d n_i/d dz_i = -n_i'(z - dz_i) from the closed-form derivative
 *      (plus the renormalisation term, see photo-z-shift.ts).
 *
 * zbar_i is the bin-edge midpoint (the spec's definition; the default galaxy bias is sqrt(1 + zbar_i)).
 */
import type { Dual } from '../../core/ad/dual.js';
import type { RedshiftDistribution } from '../contracts/redshift.js';
import { PLUGIN_API_VERSION, type StageContext, type StagePlugin } from '../../core/plugin/types.js';
import { erfDifference, expMinusSquare } from '../../core/numerics/erfc.js';
import { formatNzTsv } from './nz-table-format.js';
import { describeIstfPhotometric } from './describe.js';
import {
  checkRetainedMass,
  edgeMidpoints,
  normaliseShifted,
  normaliseShiftedAdjoint,
  rowIntegral,
  shiftParameterNames,
  shiftParameterSpecs,
  type NormalisationRule,
} from './photo-z-shift.js';

/** Photo-z model of the spec: bias (b) and outlier (o) Gaussians in p(zp|z). */
export interface PhotoZModel {
  c_b: number;
  z_b: number;
  sigma_b: number;
  c_o: number;
  z_o: number;
  sigma_o: number;
  f_out: number;
}

export interface UniformGrid {
  min: number;
  max: number;
  step: number;
}

export interface IstfPhotometricConfig {
  /** Optional consistency assertion: must equal binEdges.length - 1. */
  bins?: number;
  /** Photometric-redshift bin edges, ascending (n_bins + 1 values). */
  binEdges: number[];
  zGrid: UniformGrid;
  z0: number;
  photoZ: PhotoZModel;
  normalise: Exclude<NormalisationRule, 'none'>;
}

// Defaults: survey_spec_euclid_istf.json (test/plugins/redshift-distribution checks they agree).
export const ISTF_BIN_EDGES = [0.001, 0.418, 0.56, 0.678, 0.789, 0.9, 1.019, 1.155, 1.324, 1.576, 2.5];
export const ISTF_Z_GRID: UniformGrid = { min: 0.001, max: 4.0, step: 0.001 };
export const ISTF_Z0 = 0.9 / Math.SQRT2;
export const ISTF_PHOTO_Z: PhotoZModel = { c_b: 1.0, z_b: 0.0, sigma_b: 0.05, c_o: 1.0, z_o: 0.1, sigma_o: 0.05, f_out: 0.1 };

export const ISTF_DEFAULTS: IstfPhotometricConfig = {
  binEdges: ISTF_BIN_EDGES,
  zGrid: ISTF_Z_GRID,
  z0: ISTF_Z0,
  photoZ: ISTF_PHOTO_Z,
  // CCL re-normalises the tabulated n_i with a spline integral; see docs/weights.md and the README of this port.
  normalise: 'spline',
};

const INV_SQRT_PI = 0.56418958354775628694807945156077258584405062932900;
/** The spec sets bin-selection components below this to 0. */
const COMPONENT_FLOOR = 1e-300;

// ---------------------------------------------------------------------------------------------------------
// Physics as plain functions of z.

/** Parent distribution (z/z0)^2 exp[-(z/z0)^1.5] (unnormalised), 0 for z <= 0. */
export function parentNz(z: number, z0: number): number {
  if (!(z > 0)) return 0;
  const x = z / z0;
  return x * x * Math.exp(-Math.pow(x, 1.5));
}

/** d/dz of parentNz: n(z) [2 - 1.5 (z/z0)^1.5] / z. */
export function parentNzSlope(z: number, z0: number): number {
  if (!(z > 0)) return 0;
  const x = z / z0;
  const x15 = Math.pow(x, 1.5);
  return (x * x * Math.exp(-x15) * (2 - 1.5 * x15)) / z;
}

/** Probability that one Gaussian component puts zp in [lo, hi] at true z: (1/c) [erf(u_lo) - erf(u_hi)] / 2. */
export function componentFraction(z: number, lo: number, hi: number, c: number, zx: number, sigma: number): number {
  const s = Math.SQRT2 * sigma * (1 + z);
  const v = (0.5 * erfDifference((z - c * lo - zx) / s, (z - c * hi - zx) / s)) / c;
  return v < COMPONENT_FLOOR ? 0 : v;
}

/**
 * d/dz of componentFraction: with u = (z - A)/(sqrt2 sigma (1+z)), du/dz = (1 + A)/(sqrt2 sigma (1+z)^2), so
 * (1/(c sqrt(pi))) [e^{-u_lo^2} (1 + c lo + zx) - e^{-u_hi^2} (1 + c hi + zx)] / (sqrt2 sigma (1+z)^2).
 */
export function componentFractionSlope(z: number, lo: number, hi: number, c: number, zx: number, sigma: number): number {
  const s = Math.SQRT2 * sigma * (1 + z);
  const Alo = c * lo + zx, Ahi = c * hi + zx;
  const uLo = (z - Alo) / s, uHi = (z - Ahi) / s;
  return ((expMinusSquare(uLo) * (1 + Alo) - expMinusSquare(uHi) * (1 + Ahi)) * INV_SQRT_PI) / (c * s * (1 + z));
}

/** Fraction of galaxies at true z whose photo-z falls in [lo, hi] (both components). */
export function binSelection(z: number, lo: number, hi: number, m: PhotoZModel): number {
  return (
    (1 - m.f_out) * componentFraction(z, lo, hi, m.c_b, m.z_b, m.sigma_b) +
    m.f_out * componentFraction(z, lo, hi, m.c_o, m.z_o, m.sigma_o)
  );
}

export function binSelectionSlope(z: number, lo: number, hi: number, m: PhotoZModel): number {
  return (
    (1 - m.f_out) * componentFractionSlope(z, lo, hi, m.c_b, m.z_b, m.sigma_b) +
    m.f_out * componentFractionSlope(z, lo, hi, m.c_o, m.z_o, m.sigma_o)
  );
}

/** Unnormalised n_i(z) = n(z) x selection of bin [lo, hi]. */
export function istfBin(z: number, lo: number, hi: number, z0: number, m: PhotoZModel): number {
  const p = parentNz(z, z0);
  return p === 0 ? 0 : p * binSelection(z, lo, hi, m);
}

export function istfBinSlope(z: number, lo: number, hi: number, z0: number, m: PhotoZModel): number {
  if (!(z > 0)) return 0;
  return parentNzSlope(z, z0) * binSelection(z, lo, hi, m) + parentNz(z, z0) * binSelectionSlope(z, lo, hi, m);
}

/**
 * Nodes of a uniform grid min, min+step, ..., max. When 1/step and min/step are integers (0.001 steps) the
 * nodes are formed as integer/M, i.e. correctly rounded decimals, identical to a table written as 0.001, 0.002, ...
 */
export function uniformGrid(g: UniformGrid): Float64Array {
  const steps = Math.round((g.max - g.min) / g.step);
  const z = new Float64Array(steps + 1);
  const M = Math.round(1 / g.step);
  const i0 = Math.round(g.min * M);
  const decimal = Math.abs(M * g.step - 1) < 1e-12 && Math.abs(g.min * M - i0) < 1e-9 && M > 0;
  for (let k = 0; k <= steps; k++) z[k] = decimal ? (i0 + k) / M : g.min + k * g.step;
  return z;
}

// ---------------------------------------------------------------------------------------------------------
// Configuration.

/** Fill unset fields with the spec's defaults (ajv does the same from the schema; this keeps direct calls safe). */
export function resolveIstfConfig(c: Partial<IstfPhotometricConfig> | undefined): IstfPhotometricConfig {
  const cfg = c ?? {};
  return {
    ...(cfg.bins !== undefined ? { bins: cfg.bins } : {}),
    binEdges: cfg.binEdges ?? ISTF_DEFAULTS.binEdges,
    zGrid: { ...ISTF_Z_GRID, ...(cfg.zGrid ?? {}) },
    z0: cfg.z0 ?? ISTF_Z0,
    photoZ: { ...ISTF_PHOTO_Z, ...(cfg.photoZ ?? {}) },
    normalise: cfg.normalise ?? ISTF_DEFAULTS.normalise,
  };
}

const num = (def: number, description: string, extra: Record<string, unknown> = {}) => ({ type: 'number', default: def, description, ...extra });

export const istfPhotometricSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    bins: { type: 'integer', minimum: 1, description: 'Number of tomographic bins (optional check: must equal binEdges.length - 1).' },
    binEdges: {
      type: 'array',
      items: { type: 'number', minimum: 0 },
      minItems: 2,
      default: ISTF_BIN_EDGES,
      description: 'Photometric-redshift bin edges, strictly ascending.',
    },
    zGrid: {
      type: 'object',
      additionalProperties: false,
      default: ISTF_Z_GRID,
      properties: {
        min: num(ISTF_Z_GRID.min, 'First node of the true-redshift grid.', { minimum: 0 }),
        max: num(ISTF_Z_GRID.max, 'Last node of the true-redshift grid.', { exclusiveMinimum: 0 }),
        step: num(ISTF_Z_GRID.step, 'Grid step; must divide max - min.', { exclusiveMinimum: 0 }),
      },
    },
    z0: num(ISTF_Z0, 'Parent n(z) scale: n ∝ (z/z0)^2 exp[-(z/z0)^1.5]; default 0.9/sqrt(2).', { exclusiveMinimum: 0 }),
    photoZ: {
      type: 'object',
      additionalProperties: false,
      default: ISTF_PHOTO_Z,
      properties: {
        c_b: num(ISTF_PHOTO_Z.c_b, 'Multiplicative photo-z bias of the main component.', { exclusiveMinimum: 0 }),
        z_b: num(ISTF_PHOTO_Z.z_b, 'Additive photo-z bias of the main component.'),
        sigma_b: num(ISTF_PHOTO_Z.sigma_b, 'Scatter of the main component (times 1+z).', { exclusiveMinimum: 0 }),
        c_o: num(ISTF_PHOTO_Z.c_o, 'Multiplicative bias of the outlier component.', { exclusiveMinimum: 0 }),
        z_o: num(ISTF_PHOTO_Z.z_o, 'Additive offset of the outlier component.'),
        sigma_o: num(ISTF_PHOTO_Z.sigma_o, 'Scatter of the outlier component (times 1+z).', { exclusiveMinimum: 0 }),
        f_out: num(ISTF_PHOTO_Z.f_out, 'Outlier fraction.', { minimum: 0, maximum: 1 }),
      },
    },
    normalise: {
      enum: ['trapezoid', 'spline'],
      default: ISTF_DEFAULTS.normalise,
      description: "Unit-integral rule for each n_i on the grid: 'trapezoid' (the spec's) or 'spline' (CCL's re-normalisation).",
    },
  },
};

/** Cross-field checks; messages name the `with.` path. */
export function checkIstfConfig(raw: Partial<IstfPhotometricConfig>): string[] {
  const c = resolveIstfConfig(raw);
  const msgs: string[] = [];
  const e = c.binEdges;
  if (e.length < 2) msgs.push(`with.binEdges: need at least 2 edges (1 bin), got ${e.length}`);
  for (let i = 1; i < e.length; i++)
    if (!(e[i] > e[i - 1])) msgs.push(`with.binEdges[${i}]: ${e[i]} must be greater than with.binEdges[${i - 1}] = ${e[i - 1]} (edges strictly ascending)`);
  if (c.bins !== undefined && c.bins !== e.length - 1)
    msgs.push(`with.bins: ${c.bins}, but with.binEdges has ${e.length} edges (${e.length - 1} bins); give bins + 1 edges or drop with.bins`);
  const g = c.zGrid;
  if (!(g.max > g.min)) msgs.push(`with.zGrid.max: ${g.max} must exceed with.zGrid.min = ${g.min}`);
  else if (!(g.step > 0)) msgs.push(`with.zGrid.step: ${g.step} must be > 0`);
  else {
    const r = (g.max - g.min) / g.step;
    if (Math.abs(r - Math.round(r)) > 1e-6 * Math.max(1, r))
      msgs.push(`with.zGrid.step: ${g.step} does not divide with.zGrid.max - with.zGrid.min = ${g.max - g.min} (ratio ${r})`);
    else if (Math.round(r) < 3) msgs.push(`with.zGrid: need at least 4 grid nodes, got ${Math.round(r) + 1}`);
  }
  if (g.min < 0) msgs.push(`with.zGrid.min: ${g.min} is negative; redshifts start at 0`);
  if (!(c.z0 > 0)) msgs.push(`with.z0: ${c.z0} must be > 0`);
  const m = c.photoZ;
  for (const k of ['c_b', 'sigma_b', 'c_o', 'sigma_o'] as const)
    if (!(m[k] > 0)) msgs.push(`with.photoZ.${k}: ${m[k]} must be > 0`);
  if (!(m.f_out >= 0 && m.f_out <= 1)) msgs.push(`with.photoZ.f_out: ${m.f_out} must lie in [0, 1]`);
  if (!['trapezoid', 'spline'].includes(c.normalise)) msgs.push(`with.normalise: '${c.normalise}' is not allowed; choose 'trapezoid' or 'spline'`);
  return msgs;
}

const nBinsOf = (c: Partial<IstfPhotometricConfig>) => resolveIstfConfig(c).binEdges.length - 1;

// ---------------------------------------------------------------------------------------------------------
// The stage.

/** Compute the distributions for given shifts (duals); also the entry point for tests. */
export function istfPhotometric(config: Partial<IstfPhotometricConfig>, dz: readonly Dual[]): RedshiftDistribution {
  const errors = checkIstfConfig(config);
  if (errors.length) throw new Error(`redshift-distribution/istf-photometric: ${errors.join('; ')}`);
  const c = resolveIstfConfig(config);
  const z = uniformGrid(c.zGrid);
  const nz = z.length;
  const edges = c.binEdges;
  const nBins = edges.length - 1;
  if (dz.length !== nBins) throw new Error(`istf-photometric: got ${dz.length} shifts for ${nBins} bins`);
  const names = shiftParameterNames(nBins);
  const withTangent = dz.some((d) => d.d !== null);
  const shifted = new Float64Array(nBins * nz);
  const slopes = withTangent ? new Float64Array(nBins * nz) : null;
  for (let i = 0; i < nBins; i++) {
    const lo = edges[i], hi = edges[i + 1], s = dz[i].v, o = i * nz;
    for (let k = 0; k < nz; k++) shifted[o + k] = istfBin(z[k] - s, lo, hi, c.z0, c.photoZ);
    if (slopes && dz[i].d) for (let k = 0; k < nz; k++) slopes[o + k] = istfBinSlope(z[k] - s, lo, hi, c.z0, c.photoZ);
  }
  if (dz.some((d) => d.v !== 0)) {
    // unshifted integrals, for the retained-mass check
    const Q = rowIntegral(z, 'trapezoid');
    const row = new Float64Array(nz);
    const norms = new Float64Array(nBins);
    for (let i = 0; i < nBins; i++) {
      if (dz[i].v === 0) continue;
      for (let k = 0; k < nz; k++) row[k] = istfBin(z[k], edges[i], edges[i + 1], c.z0, c.photoZ);
      norms[i] = Q(row, 0);
    }
    checkRetainedMass(z, nBins, shifted, norms, dz, names);
  }
  const n = normaliseShifted(z, nBins, shifted, slopes, dz, c.normalise, names);
  return { z, nBins, n, zbar: edgeMidpoints(edges), zbarDefinition: 'bin-edge midpoint (e_i + e_{i+1})/2' };
}

export const istfPhotometricPlugin: StagePlugin<IstfPhotometricConfig, Record<string, never>, RedshiftDistribution> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'redshift-distribution/istf-photometric',
  version: '1.0.0',
  port: 'redshift-distribution',
  description:
    'Euclid IST:F photometric n_i(z): Smail-type parent, two-Gaussian photo-z, analytic (erf) binning, unit-normalised; photo-z shifts dz_i.',
  configSchema: istfPhotometricSchema,
  inputs: {},
  reads: (config) => shiftParameterSpecs(nBinsOf(config)),
  differentiable: 'forward',
  check: (config) => checkIstfConfig(config),
  describe: (config) => describeIstfPhotometric(config),
  run(ctx: StageContext<IstfPhotometricConfig, Record<string, never>>) {
    const nBins = nBinsOf(ctx.config);
    return istfPhotometric(ctx.config, shiftParameterNames(nBins).map((n) => ctx.param(n)));
  },
  vjp(ctx, outputBar) {
    const nbar = (outputBar as { n?: Float64Array }).n;
    if (!nbar) return {};
    const names = shiftParameterNames(nBinsOf(ctx.config));
    const dzbar = istfPhotometricAdjoint(ctx.config, names.map((n) => ctx.param(n).v), ctx.output, nbar);
    return { params: Object.fromEntries(names.map((n, i) => [n, dzbar[i]])) };
  },
  write: (output, file) => ({ [file]: formatNzTsv(output) }),
};

/**
 * Reverse mode: the bars of the shifts dz_i from the bar of the normalised n_i(z) (normaliseShiftedAdjoint),
 * with the closed-form slopes n_i'(z - dz_i) as in the forward tangent; N_i = s_i(z_k)/p_i(z_k) at the peak.
 */
export function istfPhotometricAdjoint(config: Partial<IstfPhotometricConfig>, dz: readonly number[], output: RedshiftDistribution, nbar: Float64Array): Float64Array {
  const c = resolveIstfConfig(config);
  const z = output.z, nz = z.length, nBins = output.nBins, edges = c.binEdges;
  const p = output.n.value;
  if (nbar.length !== nBins * nz) throw new Error(`istf-photometric vjp: the bar of n has ${nbar.length} entries, expected ${nBins} x ${nz}`);
  const slopes = new Float64Array(nBins * nz);
  const norms = new Float64Array(nBins);
  for (let i = 0; i < nBins; i++) {
    const o = i * nz, lo = edges[i], hi = edges[i + 1];
    let any = false;
    for (let k = 0; k < nz; k++) if (nbar[o + k] !== 0) { any = true; break; }
    if (!any) { norms[i] = 1; continue; }
    for (let k = 0; k < nz; k++) slopes[o + k] = istfBinSlope(z[k] - dz[i], lo, hi, c.z0, c.photoZ);
    let kMax = 0;
    for (let k = 1; k < nz; k++) if (p[o + k] > p[o + kMax]) kMax = k;
    norms[i] = istfBin(z[kMax] - dz[i], lo, hi, c.z0, c.photoZ) / p[o + kMax];
  }
  return normaliseShiftedAdjoint(z, nBins, p, slopes, norms, c.normalise, nbar);
}

