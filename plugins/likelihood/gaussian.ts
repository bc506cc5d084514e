/**
 * `likelihood/gaussian`: the Gaussian log-likelihood of a data vector of tomographic C_l, with the Gaussian
 * covariance of likelihood/gaussian-fisher (the same noise, f_sky, multipole bins and l_max per probe:
 * cl-blocks.ts), its gradient with respect to the varied parameters and, optionally, its Fisher matrix.
 *
 * At each multipole bin l, with X_l = C_l(theta) - D_l the tracer-by-tracer matrix of model minus data (the
 * noise cancels) and Sigma_l = D_l + N_l the signal-plus-noise matrix of the data, the Gaussian covariance of
 * the distinct entries of C_l is Cov[C_AB, C_CD] = (Sigma_AC Sigma_BD + Sigma_AD Sigma_BC) / (2 w_l) with
 * w_l = f_sky (2l+1) Delta_l / 2, whose quadratic form is (e.g. Hamimeche & Lewis 2008, eq. 10; Carron 2013):
 *
 *   -2 ln L = sum_l  w_l Tr[ Sigma_l^-1 X_l Sigma_l^-1 X_l ]                                        (1)
 *
 * The covariance is fixed (it does not move with theta), so L is a Gaussian in C_l with a constant covariance.
 *   gradient:  d ln L / dX_l = -w_l G_l,   G_l = Sigma_l^-1 X_l Sigma_l^-1                          (2)
 *              (summed over (A,B) and (B,A): an off-diagonal pair gets -2 w_l G_AB);
 *   Fisher:    F_ab = -d^2 ln L / dtheta_a dtheta_b at X = 0 = sum_l w_l Tr[Sigma^-1 C_a Sigma^-1 C_b]   (3)
 *              (= the Fisher matrix of likelihood/gaussian-fisher when the data are the fiducial model).
 * Everything goes through the Cholesky factor Sigma = L L^T: Y = L^-1 X L^-T gives (1) as w |Y|^2 and
 * G = L^-T Y L^-1.
 *
 * Derivatives come from the pipeline's `methods.differentiator`:
 *   forward-ad / finite-difference / regression-stencil: the spectra carry dC/dtheta; gradient (2) and
 *     Fisher (3) are contractions with it;
 *   reverse-adjoint: the spectra come with a handle (core/graph/reverse.ts) that pulls Cbar = dlnL/dC back
 *     through every stage's vector-Jacobian product: one backward sweep for the gradient, whatever the number
 *     of parameters. The Fisher matrix is then the Hessian of -ln L by forward-over-reverse: column b is the
 *     backward sweep of the seed's tangent w Sigma^-1 (dC/dtheta_b) Sigma^-1; at X = 0 the second-order
 *     terms of the sweep (second derivatives of C times the bar, which is proportional to X) vanish, so
 *     this is (3) exactly; at X != 0 it is the Gauss-Newton (expected) Hessian, i.e. still (3).
 *
 * Data: `model` (the spectra at the evaluated parameters: ln L = 0 and gradient 0 there, the point where the
 * Fisher matrix is the Hessian) or a `cl.tsv` written by `cosmodag run` (with its `cl.json`).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Dual } from '../../core/ad/dual.js';
import { fileFingerprint } from '../../core/cache/memo-key.js';
import { reverseHandleOf } from '../../core/graph/reverse.js';
import { cholesky } from '../../core/numerics/cholesky.js';
import { PLUGIN_API_VERSION, type Bar, type StagePlugin } from '../../core/plugin/types.js';
import type { Spectra } from '../contracts/spectra.js';
import { readSpectra } from '../spectra/read-spectra.js';
import { type ClBin, type ClCovarianceConfig, clBlocks, clCovarianceProblems, describeClLikelihood, clCovarianceProperties, noiseByTracer } from './cl-blocks.js';
import { whiten } from './fisher-matrix.js';
import { fisherResult } from './fisher-result.js';
import type { FisherResult } from './gaussian-fisher.js';
import { fisherJson, fisherTsv, sigmasTable, sigmasTsv } from './write-fisher.js';
import { type DataVectorExport, type ExportConfig, dataVectorExport, exportFileNames, exportFiles, exportSchema } from './export-npy.js';

export interface GaussianConfig extends ClCovarianceConfig {
  /** 'model', or a cl.tsv file (relative to the pipeline file). */
  data: string;
  /** Also compute the Fisher matrix (3). */
  fisher: boolean;
  /** Write the data vector, its covariance (and the model's derivatives) as .npy (export-npy.ts). */
  export?: ExportConfig;
}

export interface GaussianLikelihoodResult {
  /** ln L (up to its theta-independent normalisation), its derivatives d ln L/d theta in `lnL.d` (order of `names`). */
  lnL: Dual;
  /** -2 ln L. */
  chi2: number;
  names: string[];
  values: Float64Array;
  /** The differentiator that produced the gradient (and Fisher matrix). */
  differentiator: string;
  /** The Fisher matrix (3) and what follows from it, when with.fisher. */
  fisher: FisherResult | null;
  settings: Record<string, unknown>;
  /** The data vector and covariance to export (with.export). */
  export?: DataVectorExport;
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    data: {
      type: 'string', default: 'model', minLength: 1,
      description: "'model' (the data are the model at the evaluated parameters: ln L = 0, the Fisher point) or a cl.tsv written by cosmodag run (its cl.json beside it), relative to the pipeline file",
    },
    fisher: { type: 'boolean', default: false, description: 'also the Fisher matrix F_ab = -d^2 ln L/dtheta_a dtheta_b at data = model (fisher.tsv, sigmas.tsv)' },
    ...clCovarianceProperties,
    export: exportSchema,
  },
};

// ---------------------------------------------------------------------------------------------------------
// 1. The data vector

const dataFile = (c: GaussianConfig, baseDir: string) => path.resolve(baseDir, c.data);

export function readData(file: string): Spectra {
  if (!file.endsWith('.tsv')) throw new Error(`with.data: ${file} must be a cl.tsv written by cosmodag run (with its .json beside it)`);
  const s = readSpectra(path.dirname(file), path.basename(file, '.tsv'));
  if (!s) throw new Error(`with.data: cannot read ${file} and ${file.replace(/\.tsv$/, '.json')} (write them with cosmodag run, outputs.cl)`);
  return s;
}

/** The data values laid out like the model's spectra (pair-major, the model's pair order), checked to match. */
export function alignData(model: Spectra, data: Spectra): Float64Array {
  const nl = model.ell.length;
  if (data.ell.length !== nl) throw new Error(`with.data: the data have ${data.ell.length} multipoles, the model ${nl}`);
  for (let l = 0; l < nl; l++)
    if (Math.abs(data.ell[l] / model.ell[l] - 1) > 1e-8)
      throw new Error(`with.data: multipole ${l} of the data is ${data.ell[l]}, of the model ${model.ell[l]}; compute both on the same ell grid`);
  const me = model.ellEdges, de = data.ellEdges;
  if (me && de && (me.length !== de.length || me.some((e, i) => Math.abs(de[i] / e - 1) > 1e-8)))
    throw new Error('with.data: the data were binned with other multipole bin edges (cl.json ell.edges) than the model; compute both with the same ell.bins');
  const index = new Map(data.pairNames.map((n, p) => [n, p]));
  const out = new Float64Array(model.pairNames.length * nl);
  model.pairNames.forEach((n, p) => {
    const q = index.get(n);
    if (q === undefined) throw new Error(`with.data: the data lack the pair ${n}`);
    out.set(data.C.value.subarray(q * nl, (q + 1) * nl), p * nl);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// 2. ln L and d ln L / dC, eqs. (1)-(2)

/** B <- L^-T B for lower-triangular L (n x n) and B (n x m), row-major (back substitution). */
function transposeSolve(L: Float64Array, n: number, B: Float64Array, m: number): void {
  for (let i = n - 1; i >= 0; i--) {
    const inv = 1 / L[i * n + i];
    for (let c = 0; c < m; c++) {
      let s = B[i * m + c];
      for (let k = i + 1; k < n; k++) s -= L[k * n + i] * B[k * m + c];
      B[i * m + c] = s * inv;
    }
  }
}

/** S <- L^-T S L^-1 for symmetric S (n x n), in place (work: n*n scratch). */
function unwhiten(L: Float64Array, n: number, S: Float64Array, work: Float64Array): void {
  transposeSolve(L, n, S, n); // L^-T S
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) work[j * n + i] = S[i * n + j]; // S L^-1 = (L^-T S^T)^T
  transposeSolve(L, n, work, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) S[i * n + j] = work[j * n + i];
}

export interface LikelihoodTerms {
  lnL: number;
  /** d ln L / dC, laid out like the spectra: Cbar[pair * nl + l] (empty when asked for ln L alone). */
  Cbar: Float64Array;
  bins: ClBin[];
  /** Cholesky factor of Sigma_l per bin (row-major lower triangle). */
  chol: Float64Array[];
}

/** The blocks of the likelihood and the Cholesky factor of Sigma_l = D_l + N_l per bin (they depend on the data only). */
export interface DataCovariance {
  bins: ClBin[];
  chol: Float64Array[];
}

export function dataCovariance(model: Spectra, dataC: Float64Array, c: ClCovarianceConfig): DataCovariance {
  const nl = model.ell.length;
  const { noise, bins } = clBlocks(model, c);
  const chol = bins.map((bin) => {
    const { l, active, pair } = bin;
    const n = active.length;
    const L = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) L[i * n + j] = dataC[pair[i * n + j] * nl + l] + (i === j ? noise[active[i]] : 0); // Sigma = D + N
    if (!cholesky(L, n)) throw new Error(`the data covariance D_l + N_l is not positive definite at l = ${bin.ell.toFixed(2)}; check the data and the noise`);
    return L;
  });
  return { bins, chol };
}

/**
 * ln L (1) and its gradient with respect to every C_l entry (2), from the model and data values; the data
 * covariance may be given (a sampler's data never change: see preparedData), else it is computed. With
 * `withGradient` false (a plain ln L: no parameter varied), (2) is skipped and Cbar is empty: the un-whitening is
 * half of this function's work.
 */
export function gaussianTerms(model: Spectra, dataC: Float64Array, c: ClCovarianceConfig, cov?: DataCovariance, withGradient = true): LikelihoodTerms {
  const nl = model.ell.length;
  const C = model.C.value;
  const { bins, chol } = cov ?? dataCovariance(model, dataC, c);
  const Cbar = new Float64Array(withGradient ? C.length : 0);
  let lnL = 0;
  const maxN = Math.max(1, ...bins.map((b) => b.active.length));
  const Y = new Float64Array(maxN * maxN), work = new Float64Array(maxN * maxN);
  bins.forEach((bin, k) => {
    const { l, active, pair, weight: w } = bin;
    const n = active.length, L = chol[k];
    const Yv = Y.subarray(0, n * n), Wv = work.subarray(0, n * n);
    for (let i = 0; i < n * n; i++) { const o = pair[i] * nl + l; Yv[i] = C[o] - dataC[o]; } // X = C - D
    whiten(L, n, Yv, Wv); // Y = L^-1 X L^-T
    let q = 0;
    for (let i = 0; i < n * n; i++) q += Yv[i] * Yv[i];
    lnL -= 0.5 * w * q; // (1)
    if (!withGradient) return;
    unwhiten(L, n, Yv, Wv); // G = Sigma^-1 X Sigma^-1
    for (let i = 0; i < n * n; i++) Cbar[pair[i] * nl + l] -= w * Yv[i]; // (2), (A,B) and (B,A) both land on the pair
  });
  return { lnL, Cbar, bins, chol };
}

/**
 * The data vector aligned to the model's layout and its covariance factors, which stay fixed while a sampler or a
 * gradient sweep evaluates the likelihood thousands of times: cached by the file's content hash, the model's
 * layout (multipoles, pair names), the tracers' noise and the covariance settings, so that nothing is read, parsed
 * or factorised twice (a changed file, layout or setting is a different key). Bounded to the last few keys.
 */
const PREPARED = new Map<string, { dataC: Float64Array; cov: DataCovariance }>();

export function preparedData(model: Spectra, c: GaussianConfig, baseDir: string): { dataC: Float64Array; cov: DataCovariance | undefined } {
  if (c.data === 'model') return { dataC: model.C.value, cov: undefined }; // the Fisher point: data = model, nothing fixed
  const file = dataFile(c, baseDir);
  const key = [
    fileFingerprint(file), fileFingerprint(file.replace(/\.tsv$/, '.json')), Array.from(model.ell).join(','), model.pairNames.join(','),
    model.tracers.map((t) => `${t.name}:${t.family}:${t.noise}`).join(','), JSON.stringify([c.probes, c.fsky, c.l_max, c.l_min]),
  ].join('|');
  let hit = PREPARED.get(key);
  if (!hit) {
    const dataC = alignData(model, readData(file));
    hit = { dataC, cov: dataCovariance(model, dataC, c) };
    if (PREPARED.size >= 8) PREPARED.delete(PREPARED.keys().next().value!);
    PREPARED.set(key, hit);
  }
  return hit;
}

// ---------------------------------------------------------------------------------------------------------
// 3. Gradient and Fisher matrix from forward tangents, or by reverse mode

/** g_a = sum_{pair, l} Cbar dC/dtheta_a. */
function contractGradient(s: Spectra, Cbar: Float64Array, P: number): Float64Array {
  const N = Cbar.length;
  const t = s.C.tangent!;
  return Float64Array.from({ length: P }, (_, a) => {
    let g = 0;
    for (let i = 0, o = a * N; i < N; i++) g += Cbar[i] * t[o + i];
    return g;
  });
}

/** (3) from forward tangents: sum_l w_l Tr[Sigma^-1 C_a Sigma^-1 C_b], through the same Cholesky factors. */
function fisherFromTangents(s: Spectra, terms: LikelihoodTerms, P: number): Float64Array {
  const nl = s.ell.length, N = s.C.value.length;
  const F = new Float64Array(P * P);
  terms.bins.forEach((bin, k) => {
    const n = bin.active.length;
    const dC = new Float64Array(P * n * n);
    for (let a = 0; a < P; a++)
      for (let i = 0; i < n * n; i++) dC[a * n * n + i] = s.C.tangent![a * N + bin.pair[i] * nl + bin.l];
    // A_a = L^-1 C_a L^-T, Tr[Sigma^-1 C_a Sigma^-1 C_b] = sum_ij A_a,ij A_b,ij (fisher-matrix.ts)
    const work = new Float64Array(n * n);
    for (let a = 0; a < P; a++) whiten(terms.chol[k], n, dC.subarray(a * n * n, (a + 1) * n * n), work);
    for (let a = 0; a < P; a++)
      for (let b = a; b < P; b++) {
        let t = 0;
        for (let i = 0, oa = a * n * n, ob = b * n * n; i < n * n; i++) t += dC[oa + i] * dC[ob + i];
        F[a * P + b] += bin.weight * t;
        if (b !== a) F[b * P + a] += bin.weight * t;
      }
  });
  return F;
}

/**
 * (3) by forward-over-reverse: column b of the Hessian of -ln L is the backward sweep of the tangent of the
 * seed -Cbar in direction b, w Sigma^-1 (dC/dtheta_b) Sigma^-1 (the sweep's second-order terms carry the
 * bar itself, which vanishes at data = model). Returns F and its largest relative asymmetry before symmetrising.
 */
async function fisherByReverse(
  J: Spectra, terms: LikelihoodTerms, P: number, sweep: (bar: Bar) => Promise<Float64Array>,
): Promise<{ F: Float64Array; asymmetry: number }> {
  const nl = J.ell.length, N = J.C.value.length;
  const F = new Float64Array(P * P);
  const maxN = Math.max(...terms.bins.map((b) => b.active.length));
  const S = new Float64Array(maxN * maxN), work = new Float64Array(maxN * maxN);
  for (let b = 0; b < P; b++) {
    const seed = new Float64Array(N);
    terms.bins.forEach((bin, k) => {
      const n = bin.active.length, L = terms.chol[k];
      const Sv = S.subarray(0, n * n), Wv = work.subarray(0, n * n);
      for (let i = 0; i < n * n; i++) Sv[i] = J.C.tangent![b * N + bin.pair[i] * nl + bin.l];
      whiten(L, n, Sv, Wv);
      unwhiten(L, n, Sv, Wv); // Sigma^-1 C_b Sigma^-1
      for (let i = 0; i < n * n; i++) seed[bin.pair[i] * nl + bin.l] += bin.weight * Sv[i];
    });
    const col = await sweep({ C: seed });
    for (let a = 0; a < P; a++) F[a * P + b] = col[a];
  }
  let asymmetry = 0;
  for (let a = 0; a < P; a++)
    for (let b = a + 1; b < P; b++) {
      const d = Math.abs(F[a * P + b] - F[b * P + a]) / Math.sqrt(Math.abs(F[a * P + a] * F[b * P + b]));
      asymmetry = Math.max(asymmetry, d);
      F[a * P + b] = F[b * P + a] = 0.5 * (F[a * P + b] + F[b * P + a]);
    }
  return { F, asymmetry };
}

// ---------------------------------------------------------------------------------------------------------
// 4. The stage

function fmt(x: number): string {
  return x.toExponential(12);
}

export const gaussianLikelihood: StagePlugin<GaussianConfig, { spectra: Spectra }, GaussianLikelihoodResult> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'likelihood/gaussian',
  version: '1.0.0',
  port: 'likelihood',
  description:
    'Gaussian log-likelihood of tomographic C_l (covariance of likelihood/gaussian-fisher, fixed at the data), its gradient by any differentiator (reverse-adjoint: one backward sweep) and optionally its Fisher matrix',
  configSchema,
  inputs: { spectra: 'spectra' },
  reads: {},
  differentiable: 'forward',
  consumesTangents: true,
  // `logLikelihood` tells `cosmodag sample` (core/sampling/target.ts) where ln L and its gradient are (the Dual
  // output.lnL, gradient in the order of output.names) and which option adds the Fisher matrix (output.fisher.F)
  describe: (config, ctx) => {
    const d = describeClLikelihood(config, ctx);
    return d.problems?.length ? d : { ...d, description: { ...d.description, logLikelihood: { field: 'lnL', fisherOption: 'fisher', ...(config.data === 'model' ? { dataFollowsModel: 'with.data' } : {}) } } };
  },

  check(config, { baseDir }) {
    const problems = clCovarianceProblems(config);
    if (problems.length || config.data === 'model') return problems;
    const file = dataFile(config, baseDir ?? process.cwd());
    if (!fs.existsSync(file)) return [`with.data: ${file} does not exist (write it with cosmodag run ... outputs.cl, or use "model")`];
    if (!file.endsWith('.tsv')) return [`with.data: ${file} must be a cl.tsv written by cosmodag run (with its .json beside it)`];
    // read it now, so that a malformed file (a NaN, a missing column, no cl.json) is an input error before compute
    try {
      readData(file);
    } catch (e) {
      return [`with.data: ${(e as Error).message.replace(/^with\.data: /, '')}`];
    }
    return [];
  },

  fingerprint(config, { baseDir }) {
    if (config.data === 'model') return 'model';
    const file = dataFile(config, baseDir);
    return `${fileFingerprint(file)}:${fileFingerprint(file.replace(/\.tsv$/, '.json'))}`;
  },

  async run(ctx) {
    const cfg = ctx.config;
    const model = ctx.inputs.spectra;
    const { dataC, cov } = preparedData(model, cfg, ctx.baseDir ?? process.cwd());
    const varied = [...(ctx.varied ?? [])];
    const P = varied.length;
    const terms = gaussianTerms(model, dataC, cfg, cov, P > 0);
    const handle = reverseHandleOf(model);
    let gradient: Float64Array = new Float64Array(P);
    let F: Float64Array | null = null;
    let method = handle ? 'reverse-adjoint' : 'tangents';
    const extra: Record<string, unknown> = {};
    if (P > 0 && handle) {
      const sweep = async (bar: Bar) => (await handle.gradient(bar)).gradient;
      const first = await handle.gradient({ C: terms.Cbar });
      gradient = first.gradient;
      const st = first.stats;
      extra.reverse = {
        stages: st.visited, forward_boundary: st.forwardBoundary,
        forward_seconds: Number(st.forwardSeconds.toFixed(4)), backward_seconds: Number(st.backwardSeconds.toFixed(4)),
      };
      if (cfg.fisher) {
        const J = (await handle.tangents()) as Spectra;
        if (!J.C.tangent || J.C.P !== P) throw new Error(`the spectra's forward tangents have ${J.C.tangent ? J.C.P : 0} blocks, expected ${P}`);
        const r = await fisherByReverse(J, terms, P, sweep);
        F = r.F;
        extra.fisher_asymmetry = r.asymmetry;
        method = 'reverse-adjoint (Fisher: forward-over-reverse)';
      }
    } else if (P > 0) {
      if (!model.C.tangent || model.C.P !== P)
        throw new Error(`the spectra carry ${model.C.tangent ? model.C.P : 0} derivative blocks, but ${P} parameters are varied`);
      gradient = contractGradient(model, terms.Cbar, P);
      if (cfg.fisher) F = fisherFromTangents(model, terms, P);
    } else if (cfg.fisher) throw new Error('with.fisher: no parameter is varied: mark at least one parameter with "vary": true');
    // the data vector (the data, and their covariance Sigma = D + N) in the export order; derivatives: the model's
    const exported = cfg.export
      ? dataVectorExport(model, dataC, terms.bins, Float64Array.from(model.tracers, (t) => t.noise), cfg.export, model.C.tangent && model.C.P === P ? model.C.tangent : null, varied.map((v) => v.name))
      : undefined;
    const settings = {
      data: cfg.data, probes: cfg.probes, fsky: cfg.fsky, noise: noiseByTracer(model),
      l_min: cfg.l_min, l_max: cfg.l_max, bins_used: terms.bins.length, ...extra,
    };
    return {
      lnL: { v: terms.lnL, d: gradient },
      chi2: -2 * terms.lnL,
      names: varied.map((v) => v.name),
      values: Float64Array.from(varied, (v) => v.value),
      differentiator: method,
      fisher: F ? fisherResult(F, varied, [], settings) : null,
      settings,
      ...(exported ? { export: exported } : {}),
    };
  },

  // The likelihood's own vector-Jacobian product: lnL bar -> Cbar (2). It also marks the stage as one that
  // pulls gradients back itself under reverse mode (differentiator/reverse-adjoint then skips dC/dtheta).
  vjp(ctx, outputBar) {
    const lnLbar = (outputBar as { lnL?: number }).lnL ?? 0;
    const cfg = ctx.config;
    const model = ctx.inputs.spectra;
    const { dataC, cov } = preparedData(model, cfg, ctx.baseDir ?? process.cwd());
    const { Cbar } = gaussianTerms(model, dataC, cfg, cov);
    for (let i = 0; i < Cbar.length; i++) Cbar[i] *= lnLbar;
    return { inputs: { spectra: { C: Cbar } } };
  },

  sweepColumns: (out) => ({ lnL: out.lnL.v, chi2: out.chi2 }),

  summarize(out) {
    const lines = [`ln L = ${out.lnL.v.toPrecision(8)} (chi2 = ${out.chi2.toPrecision(8)}); gradient by ${out.differentiator}`];
    const g = out.lnL.d;
    if (g && out.names.length) {
      const w = Math.max(9, ...out.names.map((n) => n.length));
      lines.push(`${'parameter'.padEnd(w)}  ${'value'.padStart(12)}  ${'d lnL / d theta'.padStart(16)}`);
      out.names.forEach((n, i) => lines.push(`${n.padEnd(w)}  ${String(Number(out.values[i].toPrecision(6))).padStart(12)}  ${g[i].toExponential(6).padStart(16)}`));
    }
    if (out.fisher) lines.push('', sigmasTable(out.fisher));
    return lines.join('\n');
  },

  write(out, file) {
    const g = out.lnL.d ?? new Float64Array(0);
    const rows = ['parameter\tvalue\tdlnL_dparameter', ...out.names.map((n, i) => `${n}\t${out.values[i]}\t${fmt(g[i])}`)];
    const files: Record<string, string> = {
      [file]: rows.join('\n') + '\n',
      [path.join(path.dirname(file), 'likelihood.json')]: JSON.stringify({
        quantity: 'Gaussian log-likelihood of the C_l data vector (up to a constant) and its gradient',
        lnL: out.lnL.v, chi2: out.chi2, differentiator: out.differentiator,
        gradient: Object.fromEntries(out.names.map((n, i) => [n, g[i]])),
        parameters: Object.fromEntries(out.names.map((n, i) => [n, out.values[i]])),
        settings: out.settings,
      }, null, 1) + '\n',
    };
    if (out.fisher) {
      files['fisher.tsv'] = fisherTsv(out.fisher);
      files['sigmas.tsv'] = sigmasTsv(out.fisher);
      files['fisher.json'] = fisherJson(out.fisher);
    }
    return out.export ? { ...files, ...exportFiles(out.export, `likelihood/gaussian (data: ${String(out.settings.data)})`) } : files;
  },
  outputFiles: (file, { config }) => [
    file, path.join(path.dirname(file), 'likelihood.json'), ...(config.fisher ? ['fisher.tsv', 'sigmas.tsv', 'fisher.json'] : []),
    ...(config.export ? exportFileNames(config.export) : []),
  ],
};
