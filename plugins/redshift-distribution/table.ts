/**
 * `redshift-distribution/table`: tomographic n_i(z) read from a TSV table (format: nz-table-format.ts),
 * e.g. `nz_euclid_istf_10bins.tsv`.
 *
 *   - photo-z shifts n_i(z) -> n_i(z - dz_i) by not-a-knot cubic-spline interpolation of each column on the
 *     table's own grid (zero outside the tabulated range), tangent d n_i/d dz_i = -n_i'(z - dz_i) from the
 *     spline's derivative, plus the renormalisation term (photo-z-shift.ts);
 *   - normalisation `spline` (default: the integral of the same spline, which is what CCL does to a table;
 *     on the ISTF table it differs from the trapezoid rule by 3.9e-9 in bin 1 and < 1e-14 elsewhere),
 *     `trapezoid`, or `none` (use the columns as they are);
 *   - zbar_i: bin-edge midpoints when `binEdges` is given, else the mean redshift of each column.
 *
 * `bins` is required: the shift parameters dz_1..dz_bins are declared before the file is read (`check`
 * reads it at validation time and reports a mismatch).
 */
import { readConfigFile } from '../contracts/config-file.js';
import { resolve } from 'node:path';
import { fileFingerprint } from '../../core/cache/memo-key.js';
import type { Dual } from '../../core/ad/dual.js';
import { derivInterval, evalInterval, findInterval, solveSecondDerivs, splineFactor } from '../../core/numerics/spline.js';
import { PLUGIN_API_VERSION, type StageContext, type StagePlugin } from '../../core/plugin/types.js';
import type { RedshiftDistribution } from '../contracts/redshift.js';
import { formatNzTsv, parseNzTable, type NzTable } from './nz-table-format.js';
import { describeNzTable } from './describe.js';
import {
  NORMALISATION_RULES,
  checkRetainedMass,
  edgeMidpoints,
  meanRedshifts,
  normaliseShifted,
  rowIntegral,
  shiftParameterNames,
  shiftParameterSpecs,
  type NormalisationRule,
} from './photo-z-shift.js';

export interface TableConfig {
  /** Path of the TSV file (relative paths resolve against the pipeline file's directory). */
  file: string;
  /** Number of n_i columns in the file. */
  bins: number;
  normalise: NormalisationRule;
  /** Optional photometric bin edges (bins + 1), used only for zbar_i (midpoints). */
  binEdges?: number[];
}

export const tableSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['file', 'bins'],
  properties: {
    file: { type: 'string', minLength: 1, description: 'TSV file: header `z n1 ... nN`, then z (ascending) and n_i(z) >= 0 per row.' },
    bins: { type: 'integer', minimum: 1, description: 'Number of n_i columns in the file (declares dz_1..dz_bins).' },
    normalise: {
      enum: NORMALISATION_RULES,
      default: 'spline',
      description: "Unit-integral rule per bin: 'spline' (CCL's), 'trapezoid', or 'none' (columns used as given).",
    },
    binEdges: {
      type: 'array',
      items: { type: 'number', minimum: 0 },
      minItems: 2,
      description: 'Photometric bin edges (bins + 1, ascending); zbar_i = edge midpoints. Without them zbar_i = mean z of n_i.',
    },
  },
};

/** Read and parse the table named by the config; errors name `with.file`. */
export function readNzTable(config: Pick<TableConfig, 'file'>, baseDir = process.cwd()): NzTable {
  return parseNzTable(readConfigFile(config.file, baseDir), config.file);
}

export function checkTableConfig(c: TableConfig, baseDir = process.cwd()): string[] {
  const msgs: string[] = [];
  const normalise = c.normalise ?? 'spline';
  if (!NORMALISATION_RULES.includes(normalise))
    msgs.push(`with.normalise: '${normalise}' is not allowed; choose ${NORMALISATION_RULES.map((r) => `'${r}'`).join(', ')}`);
  if (c.binEdges) {
    const e = c.binEdges;
    if (e.length !== c.bins + 1) msgs.push(`with.binEdges: has ${e.length} edges, but with.bins = ${c.bins} needs ${c.bins + 1}`);
    for (let i = 1; i < e.length; i++)
      if (!(e[i] > e[i - 1])) msgs.push(`with.binEdges[${i}]: ${e[i]} must be greater than with.binEdges[${i - 1}] = ${e[i - 1]}`);
  }
  try {
    const t = readNzTable(c, baseDir);
    if (t.nBins !== c.bins)
      msgs.push(`with.bins: ${c.bins}, but ${c.file} has ${t.nBins} n_i columns (${t.columns.slice(1).join(', ')})`);
  } catch (e) {
    const m = (e as Error).message;
    msgs.push(m.startsWith('with.file') ? m : `with.file: ${m}`);
  }
  return msgs;
}

/**
 * Shift and normalise the columns of a parsed table (the stage minus the file reading; tests call it).
 */
export function tabulatedDistribution(
  t: NzTable,
  dz: readonly Dual[],
  normalise: NormalisationRule,
  binEdges?: readonly number[],
): RedshiftDistribution {
  const { z, nBins, rows } = t;
  const nz = z.length;
  if (dz.length !== nBins) throw new Error(`table: got ${dz.length} shifts for ${nBins} bins`);
  const names = shiftParameterNames(nBins);
  const withTangent = dz.some((d) => d.d !== null);
  const anyShift = dz.some((d) => d.v !== 0);
  let shifted = rows;
  let slopes: Float64Array | null = null;
  if (anyShift || withTangent) {
    shifted = new Float64Array(nBins * nz);
    slopes = withTangent ? new Float64Array(nBins * nz) : null;
    const factor = splineFactor(z, 'not-a-knot');
    const m = new Float64Array(nz);
    const zLo = z[0], zHi = z[nz - 1];
    for (let i = 0; i < nBins; i++) {
      const o = i * nz, s = dz[i].v;
      if (s === 0 && !dz[i].d) {
        shifted.set(rows.subarray(o, o + nz), o);
        continue;
      }
      solveSecondDerivs(factor, rows, o, m, 0);
      let j = 0;
      for (let k = 0; k < nz; k++) {
        const y = z[k] - s;
        if (y < zLo || y > zHi) continue; // zero outside the table
        j = findInterval(z, y, j);
        shifted[o + k] = evalInterval(z, rows, o, m, 0, j, y);
        if (slopes && dz[i].d) slopes[o + k] = derivInterval(z, rows, o, m, 0, j, y);
      }
    }
    if (anyShift) {
      const Q = rowIntegral(z, 'trapezoid');
      const norms = new Float64Array(nBins);
      for (let i = 0; i < nBins; i++) norms[i] = Q(rows, i * nz);
      checkRetainedMass(z, nBins, shifted, norms, dz, names);
    }
  }
  const n = normaliseShifted(z, nBins, shifted, slopes, dz, normalise, names);
  const zbar = binEdges ? edgeMidpoints(binEdges) : meanRedshifts(z, nBins, n.value);
  return {
    z,
    nBins,
    n,
    zbar,
    zbarDefinition: binEdges ? 'bin-edge midpoint (e_i + e_{i+1})/2' : 'mean redshift Int z n_i dz / Int n_i dz',
  };
}

export const tablePlugin: StagePlugin<TableConfig, Record<string, never>, RedshiftDistribution> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'redshift-distribution/table',
  version: '1.0.0',
  port: 'redshift-distribution',
  description: 'Tomographic n_i(z) from a TSV table; unit-normalised; photo-z shifts dz_i by cubic-spline interpolation.',
  configSchema: tableSchema,
  inputs: {},
  reads: (config) => shiftParameterSpecs(config.bins),
  differentiable: 'forward',
  check: (config, ctx) => checkTableConfig(config, ctx.baseDir),
  describe: (config, ctx) => describeNzTable(config, ctx),
  fingerprint: (config, ctx) => fileFingerprint(resolve(ctx.baseDir, config.file)),
  run(ctx: StageContext<TableConfig, Record<string, never>>) {
    const c = ctx.config;
    const t = readNzTable(c, ctx.baseDir);
    if (t.nBins !== c.bins) throw new Error(`redshift-distribution/table: with.bins = ${c.bins}, but ${c.file} has ${t.nBins} n_i columns`);
    const dz = shiftParameterNames(t.nBins).map((n) => ctx.param(n));
    return tabulatedDistribution(t, dz, c.normalise ?? 'spline', c.binEdges);
  },
  write: (output, file) => ({ [file]: formatNzTsv(output) }),
};
