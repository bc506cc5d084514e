/**
 * Contract of the `spectra` port: angular power spectra C_AB(l) of tracer pairs (dimensionless, per sr).
 */
import type { DualArray } from '../../core/ad/dual-array.js';
import type { Tracer } from './tracers.js';
import { blocks, checkArray, checkAscending, checkDualArray, checkObject, isRecord, portContract, type Messages } from './check.js';

export interface Spectra {
  /** Multipoles (may be non-integer, as Limber allows). */
  readonly ell: Float64Array;
  /**
   * Bin edges (nEll + 1, ascending, e_i <= ell_i <= e_{i+1}) when the multipoles are bins given by their edges
   * (spectra stage's `ell.bins`): the likelihood then uses Delta l_i = e_{i+1} - e_i and selects bins by edges.
   * Absent: the multipoles are centres of log bins with edges at the geometric midpoints (cl-blocks.ts).
   */
  readonly ellEdges?: Float64Array;
  /** The tracers, in the order of the wired tracer sets (each with its name, family, l-factor and noise). */
  readonly tracers: readonly Tracer[];
  /** Pair names in output order, e.g. LL_1_1, ..., GL_1_1 (= G1 x L1), ..., GG_10_10. */
  readonly pairNames: readonly string[];
  /** Tracer indices [A, B] of each pair. */
  readonly pairs: readonly (readonly [number, number])[];
  /** C[pair * nEll + iEll], tangents parameter-major. */
  readonly C: DualArray;
  /** Settings used (quadrature nodes, k range, prefactor), for metadata. */
  readonly settings: Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------------------------
// The port's contract, checked by the runtime on every computed output

/** ell ascending, pairs within the tracer list, one name per pair, C of nPairs*nEll values. */
export function checkSpectra(x: unknown, out: Messages): void {
  if (!checkObject(out, x, 'Spectra {ell, tracers, pairNames, pairs, C, settings}')) return;
  const okEll = checkAscending(out, 'ell', x.ell, 1);
  const tracers = x.tracers;
  const nT = checkArray(out, 'tracers', tracers) ? tracers.length : undefined;
  if (nT !== undefined)
    for (let i = 0; i < nT; i++) {
      const t = (tracers as unknown[])[i];
      if (typeof t !== 'string' && !(isRecord(t) && typeof t.name === 'string')) { out.push(`tracers[${i}]: is neither a name nor a tracer with a name`); break; }
    }
  const pairs = x.pairs;
  const nP = checkArray(out, 'pairs', pairs) ? pairs.length : undefined;
  if (nP !== undefined)
    for (let p = 0; p < nP; p++) {
      const q = (pairs as unknown[])[p];
      if (!Array.isArray(q) || q.length !== 2 || !Number.isInteger(q[0]) || !Number.isInteger(q[1])) { out.push(`pairs[${p}]: is not a pair [A, B] of tracer indices`); break; }
      if (nT !== undefined && !(q[0] >= 0 && q[0] < nT && q[1] >= 0 && q[1] < nT)) { out.push(`pairs[${p}]: [${q[0]}, ${q[1]}] is outside the ${nT} tracers`); break; }
    }
  if (checkArray(out, 'pairNames', x.pairNames, nP, 'nPairs'))
    for (let p = 0; p < x.pairNames.length; p++)
      if (typeof x.pairNames[p] !== 'string') { out.push(`pairNames[${p}]: is not a string`); break; }
  const nEll = okEll ? (x.ell as Float64Array).length : undefined;
  if (x.ellEdges !== undefined && nEll !== undefined) {
    const e = x.ellEdges, l = x.ell as Float64Array;
    if (!(e instanceof Float64Array) || e.length !== nEll + 1) out.push(`ellEdges: expected a Float64Array of nEll + 1 = ${nEll + 1} bin edges`);
    else
      for (let i = 0; i < nEll; i++)
        if (!(e[i] < e[i + 1] && e[i] <= l[i] && l[i] <= e[i + 1])) { out.push(`ellEdges: bin ${i} [${e[i]}, ${e[i + 1]}] does not contain its multipole ell[${i}] = ${l[i]} (or the edges do not ascend)`); break; }
  }
  checkDualArray(out, 'C', x.C, nP !== undefined && nEll !== undefined ? nP * nEll : undefined, `nPairs*nEll = ${nP}*${nEll}`, blocks());
  if (x.settings !== undefined && !isRecord(x.settings)) out.push('settings: is not an object');
}

export const spectraPort = portContract(
  'spectra',
  'Spectra: ell ascending; tracers; pairs [A, B] of tracer indices; pairNames (one per pair); C a DualArray of nPairs*nEll values (row-major pair-by-ell)',
  checkSpectra,
);
