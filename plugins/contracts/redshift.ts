/**
 * Contract of the `redshift-distribution` port: tomographic n_i(z), each normalised to unit integral
 * over its z grid.
 */
import type { DualArray } from '../../core/ad/dual-array.js';
import { blocks, checkAscending, checkDualArray, checkFloat64, checkObject, checkString, portContract, show, type Messages } from './check.js';

export interface RedshiftDistribution {
  /** Common z grid, ascending. */
  readonly z: Float64Array;
  readonly nBins: number;
  /** p_i(z), row-major bin-by-z: n[i * nz + iz]; unit integral per bin. Tangents carry photo-z shifts dz_i. */
  readonly n: DualArray;
  /** Mean redshift of each bin (or bin-edge midpoint, see `zbarDefinition`). */
  readonly zbar: Float64Array;
  readonly zbarDefinition: string;
}

// ---------------------------------------------------------------------------------------------------------
// The port's contract, checked by the runtime on every computed output

/** z ascending, nBins a positive integer, n of nBins*nz values, zbar of nBins, a zbarDefinition. */
export function checkRedshiftDistribution(x: unknown, out: Messages): void {
  if (!checkObject(out, x, 'a RedshiftDistribution {z, nBins, n, zbar, zbarDefinition}')) return;
  const okZ = checkAscending(out, 'z', x.z);
  const nB = x.nBins;
  const okB = typeof nB === 'number' && Number.isInteger(nB) && nB >= 1;
  if (nB === undefined) out.push('nBins: missing');
  else if (!okB) out.push(`nBins: ${show(nB)} is not a positive integer`);
  const nz = okZ ? (x.z as Float64Array).length : 0;
  checkDualArray(out, 'n', x.n, okZ && okB ? nB * nz : undefined, `nBins*nz = ${String(nB)}*${nz}`, blocks());
  checkFloat64(out, 'zbar', x.zbar, okB ? nB : undefined, 'nBins');
  checkString(out, 'zbarDefinition', x.zbarDefinition);
}

export const redshiftDistributionPort = portContract(
  'redshift-distribution',
  'RedshiftDistribution: z ascending, nBins, n a DualArray of nBins*nz values (row-major bin-by-z), zbar of nBins values, zbarDefinition',
  checkRedshiftDistribution,
);
