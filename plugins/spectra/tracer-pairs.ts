/**
 * The tracers of a spectra stage: several tracer sets (each on its own z grid) seen as one list, the pairs
 * in output order, and the kernels sampled at the quadrature nodes (with tangents, and the transpose).
 * Nothing here looks at a tracer's name: pairs are built by family, names by the tracers' codes and indices.
 */
import type { DualArray } from '../../core/ad/dual-array.js';
import { interpRowsDual } from '../../core/ad/interp.js';
import { interpRowsAdjoint } from '../../core/ad/interp-adjoint.js';
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

/** Every tracer's kernel at the nodes zq (ascending): tracer-by-node, tangents when asked for and present. */
export function kernelsAtNodes(list: TracerList, zq: Float64Array, withTangents: boolean): DualArray {
  const nt = list.tracers.length, nq = zq.length;
  let P = 0;
  if (withTangents) for (const s of list.sets) if (s.W.tangent) P = Math.max(P, s.W.P);
  const value = new Float64Array(nt * nq);
  const tangent = P ? new Float64Array(P * nt * nq) : null;
  list.sets.forEach((s, si) => {
    const n = s.tracers.length, o = list.offset[si];
    const [lo, hi] = insideRange(s, zq);
    if (hi <= lo) return;
    const m = hi - lo;
    const Win: DualArray = withTangents && s.W.tangent ? s.W : { value: s.W.value, tangent: null, P: 0 };
    if (Win.tangent && Win.P !== P) throw new Error(`tracer set ${si + 1} carries ${Win.P} tangent blocks, another ${P}`);
    const r = interpRowsDual(s.z, Win, n, zq.subarray(lo, hi));
    for (let t = 0; t < n; t++) value.set(r.value.subarray(t * m, (t + 1) * m), (o + t) * nq + lo);
    if (tangent && r.tangent)
      for (let p = 0; p < P; p++)
        for (let t = 0; t < n; t++) tangent.set(r.tangent.subarray((p * n + t) * m, (p * n + t + 1) * m), (p * nt + o + t) * nq + lo);
  });
  return { value, tangent, P: tangent ? P : 0 };
}

/** Transpose of kernelsAtNodes: bars at the nodes (tracer-by-node) to one W bar per set, on the set's grid. */
export function kernelsAtNodesAdjoint(list: TracerList, zq: Float64Array, WbarNodes: Float64Array): Float64Array[] {
  const nq = zq.length;
  return list.sets.map((s, si) => {
    const n = s.tracers.length, o = list.offset[si];
    const out = new Float64Array(n * s.z.length);
    const [lo, hi] = insideRange(s, zq);
    if (hi <= lo) return out;
    const m = hi - lo;
    const sub = new Float64Array(n * m);
    for (let t = 0; t < n; t++) sub.set(WbarNodes.subarray((o + t) * nq + lo, (o + t) * nq + hi), t * m);
    interpRowsAdjoint(s.z, n, zq.subarray(lo, hi), sub, out);
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

/** The smallest z interval outside which every kernel of every set vanishes (one grid step of margin). */
export function kernelSupport(list: TracerList): [number, number] {
  let zLo = Infinity, zHi = -Infinity;
  list.sets.forEach((k, si) => {
    const nz = k.z.length, nt = k.tracers.length, W = k.W.value;
    let lo = nz, hi = -1;
    for (let t = 0; t < nt; t++)
      for (let i = 0; i < nz; i++)
        if (W[t * nz + i] !== 0) { if (i < lo) lo = i; if (i > hi) hi = i; }
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
