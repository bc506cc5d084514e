/**
 * The tracers of a spectra stage: several tracer sets (each on its own z grid) seen as one list, the pairs
 * in output order, and the kernels sampled at the quadrature nodes (with tangents, and the transpose).
 * Nothing here looks at a tracer's name: pairs are built by family, names by the tracers' codes and indices.
 */
import type { DualArray } from '../../core/ad/dual-array.js';
import { queryGeometry, type QueryGeometry } from '../../core/ad/interp.js';
import { secondDerivsAdjointMany } from '../../core/ad/interp-adjoint.js';
import { solveSecondDerivs, solveSecondDerivsMany, splineFactor, type SplineFactor } from '../../core/numerics/spline.js';
import { pairName, type Tracer, type TracerSet } from '../contracts/tracers.js';

export interface TracerList {
  readonly sets: readonly TracerSet[];
  /** Every tracer, the sets' lists concatenated. */
  readonly tracers: readonly Tracer[];
  /** Global index of each set's first tracer. */
  readonly offset: readonly number[];
}

export function tracerList(input: TracerSet | readonly TracerSet[]): TracerList {
  const sets = Array.isArray(input) ? (input as readonly TracerSet[]) : [input as TracerSet];
  if (!sets.length) throw new Error('no tracer set is wired to the spectra stage');
  const tracers: Tracer[] = [];
  const offset: number[] = [];
  const seen = new Map<string, number>();
  sets.forEach((s, i) => {
    offset.push(tracers.length);
    for (const t of s.tracers) {
      const prior = seen.get(t.name);
      if (prior !== undefined) throw new Error(`tracer name "${t.name}" appears in tracer sets ${prior + 1} and ${i + 1}; tracer names must be unique`);
      seen.set(t.name, i);
      tracers.push(t);
    }
  });
  return { sets, tracers, offset };
}

/**
 * Pairs in output order: families in order of first appearance f_1, f_2, ...; for each family f_b, the blocks
 * (f_b, f_a) for a <= b: within a family every i <= j, across families every (i in f_b, j in f_a), named with
 * the later family's code first. For the 3x2pt tracers (L then G) that is LL_i_j (i <= j), GL_i_j = G_i x L_j,
 * GG_i_j (i <= j); a CMB-lensing tracer K after them adds KL_j, KG_j, KK.
 */
export function pairOrder(tracers: readonly Tracer[]): { names: string[]; pairs: [number, number][] } {
  const families: string[] = [];
  const members = new Map<string, number[]>();
  tracers.forEach((t, i) => {
    if (!members.has(t.family)) { members.set(t.family, []); families.push(t.family); }
    members.get(t.family)!.push(i);
  });
  const names: string[] = [];
  const pairs: [number, number][] = [];
  const seenNames = new Set<string>();
  const add = (a: number, b: number) => {
    const n = pairName(tracers[a], tracers[b]);
    if (seenNames.has(n)) throw new Error(`two tracer pairs would both be named ${n}: give the tracers distinct codes or indices`);
    seenNames.add(n);
    names.push(n);
    pairs.push([a, b]);
  };
  families.forEach((fb, b) => {
    const B = members.get(fb)!;
    for (let a = 0; a <= b; a++) {
      const A = members.get(families[a])!;
      if (a === b) for (let i = 0; i < B.length; i++) for (let j = i; j < B.length; j++) add(B[i], B[j]);
      else for (const i of B) for (const j of A) add(i, j);
    }
  });
  return { names, pairs };
}

/** Nodes zq[lo..hi) that lie inside a set's z grid (outside it the set's kernels are zero). */
function insideRange(set: TracerSet, zq: Float64Array): [number, number] {
  const z0 = set.z[0], z1 = set.z[set.z.length - 1];
  let lo = 0;
  while (lo < zq.length && zq[lo] < z0) lo++;
  let hi = lo;
  while (hi < zq.length && zq[hi] <= z1 * (1 + 1e-14)) hi++;
  return [lo, hi];
}

/**
 * The cubic splines of a set's kernel rows in z, prepared once per TracerSet object: the spline factor of its
 * grid, the second derivatives of every value row and (on first use with tangents) of every tangent row that is
 * not identically zero. A tracer set is immutable data (a stage output), so every evaluation at new nodes — the
 * probe's rounds, the spectra, the reverse pass, the next sampler step when only P(k) changed — costs
 * O(tracers x nodes) instead of re-solving 4000-point spline systems.
 */
interface PreparedSet {
  factor: SplineFactor;
  /** Second derivatives of the value rows (n * nz). */
  mVal: Float64Array;
  /** Per tangent row (block-major p * n + t): its second derivatives, or null for an all-zero row. */
  mTan?: (Float64Array | null)[];
}
const PREPARED_SETS = new WeakMap<TracerSet, PreparedSet>();

function preparedSet(s: TracerSet, withTangents: boolean): PreparedSet {
  let p = PREPARED_SETS.get(s);
  const nz = s.z.length, n = s.tracers.length;
  if (!p) {
    const factor = splineFactor(s.z, 'not-a-knot');
    // the rows' systems solved side by side (solveSecondDerivsMany: the rows' recurrences interleaved)
    const mVal = new Float64Array(n * nz);
    solveSecondDerivsMany(factor, s.W.value, 0, n, 1, nz, mVal, 0);
    PREPARED_SETS.set(s, (p = { factor, mVal }));
  }
  if (withTangents && s.W.tangent && !p.mTan) {
    const T = s.W.tangent;
    p.mTan = new Array<Float64Array | null>(s.W.P * n).fill(null);
    for (let b = 0; b < s.W.P; b++) {
      // a bias b_i moves one row, a cosmological parameter every row: the live rows of a block are solved side by
      // side when there are several (solveSecondDerivsMany), alone otherwise
      const live: number[] = [];
      for (let t = 0; t < n; t++) {
        const r = b * n + t;
        for (let i = r * nz, e = i + nz; i < e; i++) if (T[i] !== 0) { live.push(t); break; }
      }
      if (!live.length) continue;
      if (live.length >= 4) {
        const m = new Float64Array(n * nz);
        solveSecondDerivsMany(p.factor, T, b * n * nz, n, 1, nz, m, 0);
        for (const t of live) p.mTan[b * n + t] = m.subarray(t * nz, (t + 1) * nz);
      } else
        for (const t of live) {
          const m = new Float64Array(nz);
          solveSecondDerivs(p.factor, T, (b * n + t) * nz, m, 0);
          p.mTan[b * n + t] = m;
        }
    }
  }
  return p;
}

/** out[oo + j] = S(xq_j) for the row of y at yo with second derivatives m at mo, the queries' geometry g. */
function evalRow(g: QueryGeometry, y: Float64Array, yo: number, m: Float64Array, mo: number, out: Float64Array, oo: number): void {
  const { idx, A, B, C, D } = g;
  for (let j = 0; j < idx.length; j++) {
    const i = idx[j];
    out[oo + j] = A[j] * y[yo + i] + B[j] * y[yo + i + 1] + C[j] * m[mo + i] + D[j] * m[mo + i + 1];
  }
}

/** Every tracer's kernel at the nodes zq (ascending): tracer-by-node, tangents when asked for and present. */
export function kernelsAtNodes(list: TracerList, zq: Float64Array, withTangents: boolean): DualArray {
  const nt = list.tracers.length, nq = zq.length;
  let P = 0;
  if (withTangents) for (const s of list.sets) if (s.W.tangent) P = Math.max(P, s.W.P);
  const value = new Float64Array(nt * nq);
  const tangent = P ? new Float64Array(P * nt * nq) : null;
  list.sets.forEach((s, si) => {
    const n = s.tracers.length, o = list.offset[si], nz = s.z.length;
    const [lo, hi] = insideRange(s, zq);
    if (hi <= lo) return;
    const useT = withTangents && !!s.W.tangent;
    if (useT && s.W.P !== P) throw new Error(`tracer set ${si + 1} carries ${s.W.P} tangent blocks, another ${P}`);
    const prep = preparedSet(s, useT);
    const g = queryGeometry(s.z, zq.subarray(lo, hi));
    for (let t = 0; t < n; t++) evalRow(g, s.W.value, t * nz, prep.mVal, t * nz, value, (o + t) * nq + lo);
    if (tangent && useT)
      for (let p = 0; p < P; p++)
        for (let t = 0; t < n; t++) {
          const m = prep.mTan![p * n + t];
          if (m) evalRow(g, s.W.tangent, (p * n + t) * nz, m, 0, tangent, (p * nt + o + t) * nq + lo);
        }
  });
  return { value, tangent, P: tangent ? P : 0 };
}

/**
 * dW/dz of every tracer's kernel at the nodes zq (ascending), tracer-by-node (zero outside a set's grid): the
 * derivative of the same cubic splines kernelsAtNodes evaluates (the chain rule through a moving node).
 */
export function kernelSlopesAtNodes(list: TracerList, zq: Float64Array): Float64Array {
  const nt = list.tracers.length, nq = zq.length;
  const out = new Float64Array(nt * nq);
  list.sets.forEach((s, si) => {
    const n = s.tracers.length, o = list.offset[si], nz = s.z.length;
    const [lo, hi] = insideRange(s, zq);
    if (hi <= lo) return;
    const { mVal } = preparedSet(s, false);
    const { idx, A, B } = queryGeometry(s.z, zq.subarray(lo, hi));
    const y = s.W.value, x = s.z;
    for (let t = 0; t < n; t++)
      for (let j = 0; j < hi - lo; j++) {
        const i = idx[j], k = t * nz + i, h = x[i + 1] - x[i], a = A[j], b = B[j];
        out[(o + t) * nq + lo + j] = (y[k + 1] - y[k]) / h + (((3 * b * b - 1) * mVal[k + 1] - (3 * a * a - 1) * mVal[k]) * h) / 6;
      }
  });
  return out;
}

/**
 * Transpose of kernelsAtNodes: bars at the nodes (tracer-by-node) to one W bar per set, on the set's grid; the
 * transposed splines of a set's rows run side by side (secondDerivsAdjointMany, on the set's prepared factor).
 */
export function kernelsAtNodesAdjoint(list: TracerList, zq: Float64Array, WbarNodes: Float64Array): Float64Array[] {
  const nq = zq.length;
  return list.sets.map((s, si) => {
    const n = s.tracers.length, o = list.offset[si], nz = s.z.length;
    const out = new Float64Array(n * nz);
    const [lo, hi] = insideRange(s, zq);
    if (hi <= lo) return out;
    const { idx, A, B, C, D } = queryGeometry(s.z, zq.subarray(lo, hi));
    const mbar = new Float64Array(n * nz); // tracer-by-z, like out
    for (let t = 0; t < n; t++)
      for (let j = 0, b = (o + t) * nq + lo; j < hi - lo; j++) {
        const v = WbarNodes[b + j];
        if (v === 0) continue;
        const k = t * nz + idx[j];
        out[k] += A[j] * v;
        out[k + 1] += B[j] * v;
        mbar[k] += C[j] * v;
        mbar[k + 1] += D[j] * v;
      }
    secondDerivsAdjointMany(preparedSet(s, false).factor, mbar, 0, n, 1, nz, out, 0);
    return out;
  });
}

/** The sets' multiplicative factors (1 + m) as one array over all tracers, tangents when present. */
export function multiplicativeFactors(list: TracerList, withTangents: boolean): DualArray {
  const nt = list.tracers.length;
  let P = 0;
  if (withTangents) for (const s of list.sets) if (s.multiplicative.tangent) P = Math.max(P, s.multiplicative.P);
  const value = new Float64Array(nt);
  const tangent = P ? new Float64Array(P * nt) : null;
  list.sets.forEach((s, si) => {
    const n = s.tracers.length, o = list.offset[si];
    value.set(s.multiplicative.value, o);
    if (tangent && s.multiplicative.tangent)
      for (let p = 0; p < P; p++) tangent.set(s.multiplicative.tangent.subarray(p * n, (p + 1) * n), p * nt + o);
  });
  return { value, tangent, P: tangent ? P : 0 };
}

/** Grid indices [lo, hi] of the first and last non-zero kernel value of a set (hi = -1: all zero), once per set. */
const NONZERO = new WeakMap<TracerSet, [number, number]>();
function nonzeroRange(k: TracerSet): [number, number] {
  let r = NONZERO.get(k);
  if (r) return r;
  const nz = k.z.length, nt = k.tracers.length, W = k.W.value;
  let lo = nz, hi = -1;
  for (let t = 0; t < nt; t++) {
    const o = t * nz;
    let i = 0;
    while (i < nz && W[o + i] === 0) i++;
    if (i === nz) continue;
    let j = nz - 1;
    while (W[o + j] === 0) j--;
    if (i < lo) lo = i;
    if (j > hi) hi = j;
  }
  NONZERO.set(k, (r = [lo, hi]));
  return r;
}

/** The smallest z interval outside which every kernel of every set vanishes (one grid step of margin). */
export function kernelSupport(list: TracerList): [number, number] {
  let zLo = Infinity, zHi = -Infinity;
  list.sets.forEach((k, si) => {
    const nz = k.z.length;
    const [lo, hi] = nonzeroRange(k);
    if (hi < 0) return;
    const a = k.z[Math.max(0, lo - 1)];
    if (!(a > 0) && !(k.z[lo] > 0))
      throw new Error(`tracer set ${si + 1}: its kernels are non-zero at z = ${k.z[lo]}; the Limber integral runs in ln z and needs z > 0`);
    zLo = Math.min(zLo, a > 0 ? a : k.z[lo]);
    zHi = Math.max(zHi, k.z[Math.min(nz - 1, hi + 1)]);
  });
  if (!(zHi > 0)) throw new Error('every tracer kernel is zero: nothing to integrate');
  return [zLo, zHi];
}
