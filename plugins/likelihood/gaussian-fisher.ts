/**
 * `likelihood/gaussian-fisher`: the Fisher matrix of tomographic C_l with a Gaussian covariance.
 *
 * Noise: each tracer's own white noise on the diagonal (shape noise sigma_eps^2 / nbar_i, shot noise 1 / nbar_i,
 * set by the tracer stage), none on cross-spectra. Multipole bins: the spectra stage's multipoles are the bin centres of
 * log-spaced bins (edges at the geometric midpoints), Delta_l = bin width. A bin enters the lensing block if
 * its centre <= l_max.WL, the clustering block if <= l_max.GC; both probes at a bin use the cross-spectra,
 * which needs l_max.XC = min(l_max.WL, l_max.GC).
 */
import { PLUGIN_API_VERSION, type StagePlugin } from '../../core/plugin/types.js';
import type { Spectra } from '../contracts/spectra.js';
import { addBinFisher } from './fisher-matrix.js';
import { invertFisher } from '../../core/numerics/fisher-inverse.js';
import { fisherResult } from './fisher-result.js';
import fs from 'node:fs';
import path from 'node:path';
import { sigmasTable, writeFisher } from './write-fisher.js';
import { plotFisher } from './plot-fisher.js';
import { type ClCovarianceConfig, clBlocks, clCovarianceProblems, describeClLikelihood, clCovarianceProperties, noiseByTracer } from './cl-blocks.js';

// the noise, binning and l_max blocks are shared with likelihood/gaussian (cl-blocks.ts)
export { ARCMIN2_PER_SR, logBinWidths, type Probe } from './cl-blocks.js';

export interface FisherConfig extends ClCovarianceConfig {
  fixed: string[];
  plot: boolean;
}

export interface FisherResult {
  names: string[];
  latex: string[];
  fiducial: Float64Array;
  /** Fisher matrix (P x P, row-major), priors included. */
  F: Float64Array;
  /** Parameter covariance F^-1. */
  cov: Float64Array;
  sigmaMarginalized: Float64Array;
  sigmaConditional: Float64Array;
  /** Dark-energy figure of merit 1/sqrt(det Cov(w0, wa)), or NaN when w0 or wa is not varied. */
  fom: number;
  /**
   * Condition number of F scaled to unit diagonal (D^-1/2 F D^-1/2, D = diag F): largest over smallest
   * eigenvalue, independent of the parameters' units (core/numerics/fisher-inverse.ts).
   */
  condition: number;
  settings: Record<string, unknown>;
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...clCovarianceProperties,
    fixed: { type: 'array', items: { type: 'string' }, default: [], description: 'varied parameters to hold fixed (rows/columns removed before inversion)' },
    plot: { type: 'boolean', default: true, description: 'write the triangle plot fisher.png / fisher.svg' },
  },
};

export function computeFisher(s: Spectra, c: FisherConfig, varied: { name: string; value: number; prior_sigma?: number; latex?: string }[]): FisherResult {
  const nl = s.ell.length;
  const P = s.C.P;
  if (!varied.length) throw new Error('no parameter is varied: mark at least one parameter with "vary": true');
  if (!s.C.tangent || P !== varied.length) throw new Error(`the spectra carry ${s.C.tangent ? P : 0} derivative blocks, but ${varied.length} parameters are varied`);
  const { noise, bins } = clBlocks(s, c);
  const np = s.pairs.length;
  const F = new Float64Array(P * P);
  for (const bin of bins) {
    const { l, active, pair } = bin;
    const n = active.length;
    const C = new Float64Array(n * n), dC = new Float64Array(P * n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const p = pair[i * n + j];
        C[i * n + j] = s.C.value[p * nl + l] + (i === j ? noise[active[i]] : 0);
        for (let a = 0; a < P; a++) dC[a * n * n + i * n + j] = s.C.tangent[(a * np + p) * nl + l];
      }
    addBinFisher(C, dC, n, P, bin.weight, F, () => `l = ${bin.ell.toFixed(2)}`);
  }
  const binsUsed = bins.length;
  return fisherResult(F, varied, c.fixed, { probes: c.probes, fsky: c.fsky, noise: noiseByTracer(s), l_min: c.l_min, l_max: c.l_max, bins_used: binsUsed, fixed: c.fixed });
}

export const gaussianFisher: StagePlugin<FisherConfig, { spectra: Spectra }, FisherResult> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'likelihood/gaussian-fisher',
  version: '1.0.0',
  port: 'likelihood',
  description: 'Gaussian Fisher matrix of tomographic C_l (shape and shot noise, f_sky, l_max per probe), marginalized errors and the w0-wa figure of merit',
  configSchema,
  inputs: { spectra: 'spectra' },
  reads: {},
  differentiable: 'none',
  consumesTangents: true,
  check: (config) => clCovarianceProblems(config),
  describe: (config, ctx) => describeClLikelihood(config, ctx),
  run(ctx) {
    return computeFisher(ctx.inputs.spectra, ctx.config, [...(ctx.varied ?? [])]);
  },
  summarize: (out) => sigmasTable(out),
  async redraw(dir) {
    const file = path.join(dir, 'fisher.json');
    if (!fs.existsSync(file)) return null;
    const j = JSON.parse(fs.readFileSync(file, 'utf8'));
    const F = Float64Array.from(j.fisher.flat() as number[]);
    const { cov } = invertFisher(F, j.parameters, { what: `${file}: the Fisher matrix` });
    const r = { names: j.parameters, fiducial: Float64Array.from(j.fiducial), cov, settings: j.settings ?? {} } as unknown as FisherResult;
    const { svg, png } = await plotFisher(r);
    return { 'fisher.svg': svg, 'fisher.png': png };
  },
  write: (out, file, ctx) => writeFisher(out, file, ctx.config),
};
