/**
 * `likelihood/gaussian-fisher`: the Fisher matrix of tomographic C_l with a Gaussian covariance.
 *
 * Noise: shape noise N^LL_ij = delta_ij sigma_eps^2 / nbar_i and shot noise N^GG_ij = delta_ij / nbar_i
 * (nbar per steradian), none on GL. Multipole bins: the spectra stage's multipoles are the bin centres of
 * log-spaced bins (edges at the geometric midpoints), Delta_l = bin width. A bin enters the lensing block if
 * its centre <= l_max.WL, the clustering block if <= l_max.GC; both probes at a bin use the cross-spectra,
 * which needs l_max.XC = min(l_max.WL, l_max.GC).
 */
import { PLUGIN_API_VERSION, type StagePlugin } from '../../core/plugin/types.js';
import type { Spectra } from '../contracts/spectra.js';
import { addBinFisher } from './fisher-matrix.js';
import { spdInverse } from '../../core/numerics/cholesky.js';
import fs from 'node:fs';
import path from 'node:path';
import { sigmasTable, writeFisher } from './write-fisher.js';
import { plotFisher } from './plot-fisher.js';

/** (180 * 60 / pi)^2: square arcminutes per steradian. */
export const ARCMIN2_PER_SR = (180 * 60 / Math.PI) ** 2;

export type Probe = '3x2pt' | 'WL' | 'GC';

export interface FisherConfig {
  probes: Probe;
  fsky: number;
  sigma_eps: number;
  nbar_arcmin2: number | number[];
  l_max: { WL: number; GC: number; XC: number };
  l_min: number;
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
  settings: Record<string, unknown>;
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    probes: { enum: ['3x2pt', 'WL', 'GC'], default: '3x2pt', description: 'WL: lensing only; GC: clustering only; 3x2pt: both with their cross-correlation' },
    fsky: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.3636, description: 'observed sky fraction, in (0, 1]' },
    sigma_eps: { type: 'number', minimum: 0, default: 0.3, description: 'total intrinsic ellipticity dispersion (N^LL = sigma_eps^2 / nbar)' },
    nbar_arcmin2: {
      description: 'galaxies per arcmin^2 in each tomographic bin (one number for all bins, or one per bin)',
      default: 3,
      anyOf: [{ type: 'number', exclusiveMinimum: 0 }, { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 1 }],
    },
    l_max: {
      type: 'object', additionalProperties: false, default: {},
      description: 'largest multipole (bin centre) per probe: IST:F pessimistic WL 1500, GC and XC 750; optimistic 5000 / 3000',
      properties: {
        WL: { type: 'number', minimum: 2, default: 1500 },
        GC: { type: 'number', minimum: 2, default: 750 },
        XC: { type: 'number', minimum: 2, default: 750 },
      },
    },
    l_min: { type: 'number', minimum: 2, default: 10, description: 'smallest multipole (bin centre) used' },
    fixed: { type: 'array', items: { type: 'string' }, default: [], description: 'varied parameters to hold fixed (rows/columns removed before inversion)' },
    plot: { type: 'boolean', default: true, description: 'write the triangle plot fisher.png / fisher.svg' },
  },
};

/** Log-bin widths for bin centres: edges at geometric midpoints, the outer edges half a log-step out. */
export function logBinWidths(ell: Float64Array): Float64Array {
  const n = ell.length;
  const w = new Float64Array(n);
  if (n === 1) { w[0] = 1; return w; }
  const edge = (i: number) => {
    if (i === 0) return ell[0] / Math.sqrt(ell[1] / ell[0]);
    if (i === n) return ell[n - 1] * Math.sqrt(ell[n - 1] / ell[n - 2]);
    return Math.sqrt(ell[i - 1] * ell[i]);
  };
  for (let i = 0; i < n; i++) w[i] = edge(i + 1) - edge(i);
  return w;
}

export function computeFisher(s: Spectra, c: FisherConfig, varied: { name: string; value: number; prior_sigma?: number; latex?: string }[]): FisherResult {
  const nl = s.ell.length;
  const P = s.C.P;
  if (!varied.length) throw new Error('no parameter is varied: mark at least one parameter with "vary": true');
  if (!s.C.tangent || P !== varied.length) throw new Error(`the spectra carry ${s.C.tangent ? P : 0} derivative blocks, but ${varied.length} parameters are varied`);
  const lensing = s.tracers.map((t, i) => (t.startsWith('L') ? i : -1)).filter((i) => i >= 0);
  const clustering = s.tracers.map((t, i) => (t.startsWith('G') ? i : -1)).filter((i) => i >= 0);
  const useL = c.probes !== 'GC', useG = c.probes !== 'WL';
  if (useL && !lensing.length) throw new Error(`with.probes = ${c.probes} needs lensing tracers, and the spectra have none`);
  if (useG && !clustering.length) throw new Error(`with.probes = ${c.probes} needs clustering tracers, and the spectra have none`);
  if (c.probes === '3x2pt' && c.l_max.XC !== Math.min(c.l_max.WL, c.l_max.GC))
    throw new Error(`with.l_max.XC = ${c.l_max.XC}: the combined likelihood needs the cross-spectra wherever both probes are used, so XC must equal min(WL, GC) = ${Math.min(c.l_max.WL, c.l_max.GC)}`);
  const lmaxUsed = Math.max(useL ? c.l_max.WL : 0, useG ? c.l_max.GC : 0);
  if (lmaxUsed > s.ell[nl - 1] * (1 + 1e-9)) throw new Error(`with.l_max = ${lmaxUsed} is beyond the computed multipoles (the spectra stop at l = ${s.ell[nl - 1]}); extend the spectra stage's ell grid or lower l_max`);
  if (c.l_min < s.ell[0] * (1 - 1e-9)) throw new Error(`with.l_min = ${c.l_min} is below the computed multipoles (the spectra start at l = ${s.ell[0]})`);

  // per-tracer noise [sr]
  const nb = Array.isArray(c.nbar_arcmin2) ? c.nbar_arcmin2 : null;
  const nBinsMax = Math.max(lensing.length, clustering.length);
  if (nb && nb.length !== nBinsMax) throw new Error(`with.nbar_arcmin2 has ${nb.length} entries but there are ${nBinsMax} tomographic bins`);
  const noise = s.tracers.map((t) => {
    const bin = Number(t.slice(1)) - 1;
    const nbarSr = (nb ? nb[bin] : (c.nbar_arcmin2 as number)) * ARCMIN2_PER_SR;
    return t.startsWith('L') ? (c.sigma_eps * c.sigma_eps) / nbarSr : 1 / nbarSr;
  });
  // index of each (A, B) tracer pair in the spectra (either order)
  const T = s.tracers.length;
  const pairIndex = new Int32Array(T * T).fill(-1);
  s.pairs.forEach(([a, b], p) => { pairIndex[a * T + b] = p; pairIndex[b * T + a] = p; });

  const F = new Float64Array(P * P);
  const widths = logBinWidths(s.ell);
  let binsUsed = 0;
  for (let l = 0; l < nl; l++) {
    const ell = s.ell[l];
    if (ell < c.l_min * (1 - 1e-9)) continue;
    const active = [...(useL && ell <= c.l_max.WL * (1 + 1e-9) ? lensing : []), ...(useG && ell <= c.l_max.GC * (1 + 1e-9) ? clustering : [])];
    const n = active.length;
    if (!n) continue;
    binsUsed++;
    const C = new Float64Array(n * n), dC = new Float64Array(P * n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const p = pairIndex[active[i] * T + active[j]];
        if (p < 0) throw new Error(`the spectra lack the pair ${s.tracers[active[i]]} x ${s.tracers[active[j]]}`);
        C[i * n + j] = s.C.value[p * nl + l] + (i === j ? noise[active[i]] : 0);
        for (let a = 0; a < P; a++) dC[a * n * n + i * n + j] = s.C.tangent![(a * s.pairs.length + p) * nl + l];
      }
    addBinFisher(C, dC, n, P, (c.fsky * (2 * ell + 1) * widths[l]) / 2, F, () => `l = ${ell.toFixed(2)}`);
  }
  if (!binsUsed) throw new Error('no multipole bin lies within [l_min, l_max]');

  // fixed parameters out, priors in
  for (const f of c.fixed) if (!varied.some((v) => v.name === f)) throw new Error(`with.fixed names "${f}", which is not a varied parameter (${varied.map((v) => v.name).join(', ')})`);
  const keep = varied.map((v, i) => i).filter((i) => !c.fixed.includes(varied[i].name));
  const K = keep.length;
  const Fk = new Float64Array(K * K);
  keep.forEach((i, a) => keep.forEach((j, b) => { Fk[a * K + b] = F[i * P + j]; }));
  keep.forEach((i, a) => { const ps = varied[i].prior_sigma; if (ps) Fk[a * K + a] += 1 / (ps * ps); });

  // a parameter nothing depends on makes F singular: name it
  const scale = Math.max(...Array.from({ length: K }, (_, a) => Math.abs(Fk[a * K + a])));
  const dead = keep.filter((_, a) => !(Math.abs(Fk[a * K + a]) > 1e-14 * scale)).map((i) => varied[i].name);
  if (dead.length) throw new Error(`the Fisher matrix is singular: nothing in the data depends on ${dead.join(', ')} (zero derivatives); fix ${dead.length > 1 ? 'them' : 'it'} (with.fixed) or give a prior`);
  const cov = spdInverse(Fk, K);
  if (!cov) throw new Error(`the Fisher matrix is not positive definite (degenerate parameters among ${keep.map((i) => varied[i].name).join(', ')}); add priors or fix parameters`);

  const names = keep.map((i) => varied[i].name);
  const sigmaMarginalized = Float64Array.from({ length: K }, (_, a) => Math.sqrt(cov[a * K + a]));
  const sigmaConditional = Float64Array.from({ length: K }, (_, a) => 1 / Math.sqrt(Fk[a * K + a]));
  const iw0 = names.indexOf('w0'), iwa = names.indexOf('wa');
  const fom = iw0 >= 0 && iwa >= 0
    ? 1 / Math.sqrt(cov[iw0 * K + iw0] * cov[iwa * K + iwa] - cov[iw0 * K + iwa] ** 2)
    : NaN;
  return {
    names, latex: keep.map((i) => varied[i].latex ?? varied[i].name),
    fiducial: Float64Array.from(keep, (i) => varied[i].value),
    F: Fk, cov, sigmaMarginalized, sigmaConditional, fom,
    settings: { probes: c.probes, fsky: c.fsky, sigma_eps: c.sigma_eps, nbar_arcmin2: c.nbar_arcmin2, l_min: c.l_min, l_max: c.l_max, bins_used: binsUsed, fixed: c.fixed },
  };
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
  run(ctx) {
    return computeFisher(ctx.inputs.spectra, ctx.config, [...(ctx.varied ?? [])]);
  },
  summarize: (out) => sigmasTable(out),
  async redraw(dir) {
    const file = path.join(dir, 'fisher.json');
    if (!fs.existsSync(file)) return null;
    const j = JSON.parse(fs.readFileSync(file, 'utf8'));
    const K = j.parameters.length;
    const F = Float64Array.from(j.fisher.flat() as number[]);
    const cov = spdInverse(F, K);
    if (!cov) throw new Error(`${file}: the Fisher matrix is not positive definite`);
    const r = { names: j.parameters, fiducial: Float64Array.from(j.fiducial), cov, settings: j.settings ?? {} } as unknown as FisherResult;
    const { svg, png } = await plotFisher(r);
    return { 'fisher.svg': svg, 'fisher.png': png };
  },
  write: (out, file, ctx) => writeFisher(out, file, ctx.config),
};
