/**
 * Export of the Gaussian C_l likelihood's data vector and covariance as .npy files numpy loads directly
 * (numpy.load), for use in another code (docs/likelihood.md, "Exporting the data vector").
 *
 * NPY format version 1.0 (numpy.lib.format, NEP 1): the magic "\x93NUMPY", the version bytes 1 0, a little-endian
 * uint16 header length, then the header, a Python dict literal {'descr': '<f8', 'fortran_order': False,
 * 'shape': (...), } padded with spaces and ended by '\n' so that the data start at a multiple of 64 bytes; then
 * the values, little-endian float64, C (row-major) order.
 *
 * Ordering of the data vector: multipole bins ascending (the bins the likelihood uses, within l_min / l_max per
 * family); within a bin, the spectra of the tracers in that bin's block, each unordered tracer pair once, in the
 * order of the spectra (cl.tsv's columns: LL_i_j, GL_i_j, GG_i_j, ...). `datavector.json` lists each entry's
 * pair name, multipole and the multipole's index in cl.tsv. The Gaussian covariance is block-diagonal in the bins:
 *
 *   Cov[C_AB(l), C_CD(l)] = (Sigma_AC Sigma_BD + Sigma_AD Sigma_BC) / (f_sky (2l + 1) Delta_l),
 *
 * Sigma = C + N the signal-plus-noise matrix of the data (cl-blocks.ts: w_l = f_sky (2l+1) Delta_l / 2), the
 * covariance whose quadratic form is the likelihood's chi2 (gaussian.ts eq. (1)) and whose J^T Cov^-1 J is its
 * Fisher matrix.
 */
import os from 'node:os';
import type { ClBin } from './cl-blocks.js';
import type { Spectra } from '../contracts/spectra.js';

/** The export settings (with.export of both likelihood stages). */
export interface ExportConfig {
  format: 'npy';
  /** 'dense': covariance.npy (N, N); 'blocks': covariance_blocks.npy (nBins, M, M), zero-padded to the largest block M. */
  covariance: 'dense' | 'blocks';
}

export const exportSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['format'],
  description: 'write the data vector and its Gaussian covariance as .npy (datavector.npy, covariance.npy or covariance_blocks.npy, derivatives.npy, datavector.json with the ordering): docs/likelihood.md',
  properties: {
    format: { enum: ['npy'], description: 'NumPy .npy (v1.0, little-endian float64, C order)' },
    covariance: { enum: ['dense', 'blocks'], default: 'dense', description: "'dense': the N x N matrix; 'blocks': one block per multipole bin, (nBins, M, M) zero-padded" },
  },
};

/** Largest data vector whose dense covariance is written (6000^2 float64 = 288 MB). */
export const MAX_DENSE_EXPORT = 6000;

/** An .npy file (v1.0) of float64 values in C order with the given shape. */
export function npy(values: Float64Array, shape: readonly number[]): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== values.length) throw new Error(`npy: shape (${shape.join(', ')}) holds ${n} values, got ${values.length}`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f8', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const out = new Uint8Array(10 + header.length + 8 * n);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0); // \x93NUMPY, version 1.0
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const o = 10 + header.length;
  if (os.endianness() === 'LE') out.set(new Uint8Array(values.buffer, values.byteOffset, 8 * n), o);
  else { const dv = new DataView(out.buffer); for (let i = 0; i < n; i++) dv.setFloat64(o + 8 * i, values[i], true); }
  return out;
}

/** The data vector, its covariance and (when the spectra carry them) its derivatives, in the export order. */
export interface DataVectorExport {
  covariance: 'dense' | 'blocks';
  /** N values. */
  values: Float64Array;
  /** dense: N x N; blocks: nBins x M x M. */
  cov: Float64Array;
  blockSizes: number[];
  /** P x N derivatives d value / d theta (the model's), or null. */
  derivatives: Float64Array | null;
  parameters: string[];
  entries: { pair: string; ell: number; ell_index: number }[];
}

/**
 * The export of a spectra's data vector `valuesC` (pair-major like Spectra.C.value: the data, or the model at the
 * Fisher point) under the likelihood's bins; derivatives from `tangent` (P blocks like Spectra.C.tangent).
 */
export function dataVectorExport(
  s: Spectra, valuesC: Float64Array, bins: readonly ClBin[], noise: Float64Array, config: ExportConfig,
  tangent: Float64Array | null, parameters: string[],
): DataVectorExport {
  const nl = s.ell.length, np = s.pairs.length;
  // each bin's entries: the distinct pairs of its block, in the spectra's pair order
  const perBin = bins.map((b) => {
    const n = b.active.length;
    const seen = new Map<number, [number, number]>(); // pair index -> (i, j) within the block
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) if (!seen.has(b.pair[i * n + j])) seen.set(b.pair[i * n + j], [i, j]);
    return [...seen.entries()].sort((a, c) => a[0] - c[0]);
  });
  const N = perBin.reduce((a, e) => a + e.length, 0);
  const dense = config.covariance === 'dense';
  if (dense && N > MAX_DENSE_EXPORT)
    throw new Error(`with.export: the data vector has ${N} entries, and its dense covariance (${N} x ${N}) would take ${((8 * N * N) / 1e9).toFixed(1)} GB; set with.export.covariance = "blocks" (one block per multipole bin), or use fewer bins or a lower l_max (dense is written up to ${MAX_DENSE_EXPORT} entries)`);
  const M = Math.max(0, ...perBin.map((e) => e.length));
  const values = new Float64Array(N);
  const cov = new Float64Array(dense ? N * N : bins.length * M * M);
  const P = tangent ? tangent.length / (np * nl) : 0;
  const derivatives = tangent ? new Float64Array(P * N) : null;
  const entries: DataVectorExport['entries'] = [];
  let off = 0;
  bins.forEach((b, k) => {
    const { l, active, pair } = b;
    const n = active.length;
    // Sigma = C + N over the block (the values given: the data's)
    const Sig = (i: number, j: number) => valuesC[pair[i * n + j] * nl + l] + (i === j ? noise[active[i]] : 0);
    const e = perBin[k], m = e.length;
    e.forEach(([p], a) => {
      values[off + a] = valuesC[p * nl + l];
      entries.push({ pair: s.pairNames[p], ell: s.ell[l], ell_index: l });
      if (derivatives) for (let q = 0; q < P; q++) derivatives[q * N + off + a] = tangent![(q * np + p) * nl + l];
    });
    const twoW = 2 * b.weight; // f_sky (2l+1) Delta_l
    for (let a = 0; a < m; a++) {
      const [A, B] = e[a][1];
      for (let c = 0; c < m; c++) {
        const [C, D] = e[c][1];
        const v = (Sig(A, C) * Sig(B, D) + Sig(A, D) * Sig(B, C)) / twoW;
        if (dense) cov[(off + a) * N + off + c] = v;
        else cov[(k * M + a) * M + c] = v;
      }
    }
    off += m;
  });
  return { covariance: config.covariance, values, cov, blockSizes: perBin.map((e) => e.length), derivatives, parameters, entries };
}

/** The files an export may write, from its config (derivatives.npy only when the model has tangents). */
export function exportFileNames(c: { covariance?: 'dense' | 'blocks' }): string[] {
  return ['datavector.npy', c.covariance === 'blocks' ? 'covariance_blocks.npy' : 'covariance.npy', 'derivatives.npy', 'datavector.json'];
}

/** The files of an export: datavector.npy, covariance.npy or covariance_blocks.npy, derivatives.npy, datavector.json. */
export function exportFiles(x: DataVectorExport, what: string): Record<string, string | Uint8Array> {
  const N = x.values.length, K = x.blockSizes.length, M = Math.max(0, ...x.blockSizes);
  const files: Record<string, string | Uint8Array> = { 'datavector.npy': npy(x.values, [N]) };
  if (x.covariance === 'dense') files['covariance.npy'] = npy(x.cov, [N, N]);
  else files['covariance_blocks.npy'] = npy(x.cov, [K, M, M]);
  if (x.derivatives) files['derivatives.npy'] = npy(x.derivatives, [x.parameters.length, N]);
  files['datavector.json'] = JSON.stringify({
    quantity: `${what}: C_l data vector and its Gaussian covariance (docs/likelihood.md, "Exporting the data vector")`,
    format: 'NPY v1.0, little-endian float64 (<f8), C order: numpy.load(file)',
    ordering: 'multipole bins ascending; within a bin the distinct tracer pairs of its block in the order of cl.tsv\'s columns',
    covariance_formula: 'Cov[C_AB(l), C_CD(l)] = (S_AC S_BD + S_AD S_BC) / (f_sky (2l+1) Delta_l), S = C + N; zero between bins',
    length: N,
    files: {
      'datavector.npy': [N],
      ...(x.covariance === 'dense' ? { 'covariance.npy': [N, N] } : { 'covariance_blocks.npy': [K, M, M] }),
      ...(x.derivatives ? { 'derivatives.npy': [x.parameters.length, N] } : {}),
    },
    ...(x.covariance === 'blocks' ? { block_sizes: x.blockSizes, blocks: 'block k is covariance_blocks[k, :n_k, :n_k] (zero-padded), for the entries of bin k in order' } : {}),
    ...(x.derivatives ? { parameters: x.parameters } : {}),
    entries: x.entries,
  }) + '\n';
  return files;
}
