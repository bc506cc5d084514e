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
import { fisherFileNames, sigmasTable, sweepColumnsOf, writeFisher } from './write-fisher.js';
import { plotFisher } from './plot-fisher.js';
import { type DataVectorExport, type ExportConfig, dataVectorExport, exportFileNames, exportFiles, exportSchema } from './export-npy.js';
import { type ClCovarianceConfig, clBlocks, clCovarianceProblems, describeClLikelihood, clCovarianceProperties, noiseByTracer } from './cl-blocks.js';

// the noise, binning and l_max blocks are shared with likelihood/gaussian (cl-blocks.ts)
export { ARCMIN2_PER_SR, logBinWidths, type Probe } from './cl-blocks.js';

export interface FisherConfig extends ClCovarianceConfig {
  fixed: string[];
  plot: boolean;
  /** Parameters shown in fisher.png (default: the cosmological ones varied). */
  plot_params?: string[];
  /** Write the data vector (the fiducial model), its covariance and derivatives as .npy (export-npy.ts). */
  export?: ExportConfig;
}

export interface FisherResult {
  names: string[];
  latex: string[];
  fiducial: Float64Array;
  /** Fisher matrix (P x P, row-major), priors included: the matrix inverted for the errors. */
  F: Float64Array;
  /** The data Fisher matrix alone (F without the priors): what fisher.tsv holds. */
  Fdata?: Float64Array;
  /** Gaussian prior widths sigma by parameter (prior_sigma, or a gaussian prior's sigma): F = Fdata + diag(1/sigma^2). */
  priors?: Record<string, number>;
  /** Why fom is NaN (w0 or wa not varied, or fixed). */
  fomNote?: string;
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
  /** The data vector, covariance and derivatives to export (with.export). */
  export?: DataVectorExport;
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...clCovarianceProperties,
    fixed: { type: 'array', items: { type: 'string' }, default: [], description: 'varied parameters to hold fixed (rows/columns removed before inversion)' },
    plot: { type: 'boolean', default: true, description: 'write the triangle plot fisher.png / fisher.svg' },
    plot_params: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, uniqueItems: true, description: "parameters shown in the triangle plot fisher.png (default: the cosmological parameters varied; `cosmodag plot DIR --params` overrides)" },
    export: exportSchema,
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
  let exported = c.export ? dataVectorExport(s, s.C.value, bins, noise, c.export, s.C.tangent, varied.map((v) => v.name)) : undefined;
  if (exported?.derivatives && c.fixed.length) {
    // the derivatives of the parameters the forecast keeps (fisher.tsv's), rows of the P x N matrix
    const N = exported.values.length, keep = varied.map((v, i) => i).filter((i) => !c.fixed.includes(varied[i].name));
    const d = new Float64Array(keep.length * N);
    keep.forEach((i, r) => d.set(exported!.derivatives!.subarray(i * N, (i + 1) * N), r * N));
    exported = { ...exported, derivatives: d, parameters: keep.map((i) => varied[i].name) };
  }
  const r = fisherResult(F, varied, c.fixed, { probes: c.probes, fsky: c.fsky, noise: noiseByTracer(s), l_min: c.l_min, l_max: c.l_max, bins_used: binsUsed, fixed: c.fixed, ...(c.plot_params ? { plot_params: c.plot_params } : {}), ...(s.ellEdges ? { binning: 'bins by edges (Delta_l = e_{i+1} - e_i)' } : {}) });
  return exported ? { ...r, export: exported } : r;
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
  check: (config, { params }) => [
    ...clCovarianceProblems(config),
    ...(config.plot_params ?? []).filter((n) => !(n in params)).map((n) => `with.plot_params: "${n}" is not a parameter of the pipeline (parameters read: ${Object.keys(params).join(', ')})`),
  ],
  describe: (config, ctx) => describeClLikelihood(config, ctx),
  run(ctx) {
    return computeFisher(ctx.inputs.spectra, ctx.config, [...(ctx.varied ?? [])]);
  },
  summarize: (out) => sigmasTable(out),
  sweepColumns: (out) => sweepColumnsOf(out),
  async redraw(dir, opts) {
    const file = path.join(dir, 'fisher.json');
    if (!fs.existsSync(file)) return null;
    const j = JSON.parse(fs.readFileSync(file, 'utf8'));
    const F = Float64Array.from(j.fisher.flat() as number[]);
    // fisher.json's matrix is the data's; its priors are added here, as when the run computed the errors
    const K = j.parameters.length;
    (j.parameters as string[]).forEach((n, i) => { const ps = j.priors?.[n]; if (typeof ps === 'number' && ps > 0) F[i * K + i] += 1 / (ps * ps); });
    const { cov } = invertFisher(F, j.parameters, { what: `${file}: the Fisher matrix` });
    const r = { names: j.parameters, latex: j.latex ?? j.parameters, fiducial: Float64Array.from(j.fiducial), cov, settings: j.settings ?? {} } as unknown as FisherResult;
    const { svg, png } = await plotFisher(r, opts?.params);
    return { 'fisher.svg': svg, 'fisher.png': png };
  },
  write: async (out, file, ctx) => ({ ...(await writeFisher(out, file, ctx.config)), ...(out.export ? exportFiles(out.export, 'likelihood/gaussian-fisher (the fiducial model)') : {}) }),
  outputFiles: (file, { config }) => [...fisherFileNames(file, config), ...(config.export ? exportFileNames(config.export) : [])],
};
