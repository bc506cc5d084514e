/**
 * Flattening a stage output's differentiable leaves into one Float64Array (and back), so that stencils and
 * finite differences operate on plain vectors.
 */
import { dualLeaves, leafValues, withTangents } from '../../core/graph/differentiator.js';

export interface LeafLayout {
  paths: string[];
  offsets: number[];
  total: number;
}

export function layoutOf(output: unknown): LeafLayout {
  const leaves = dualLeaves(output);
  const offsets: number[] = [];
  let total = 0;
  for (const l of leaves) { offsets.push(total); total += leafValues(l.leaf).length; }
  return { paths: leaves.map((l) => l.path), offsets, total };
}

/** All leaf values of an output concatenated in layout order; checks the shape matches. */
export function flatten(output: unknown, layout: LeafLayout): Float64Array {
  const leaves = dualLeaves(output);
  if (leaves.length !== layout.paths.length) throw new Error('the output changed shape between parameter values (differentiable fields differ)');
  const out = new Float64Array(layout.total);
  leaves.forEach((l, i) => {
    const v = leafValues(l.leaf);
    const n = (i + 1 < layout.offsets.length ? layout.offsets[i + 1] : layout.total) - layout.offsets[i];
    if (v.length !== n) throw new Error(`the output field ${l.path} changed length between parameter values (${n} -> ${v.length})`);
    out.set(v, layout.offsets[i]);
  });
  return out;
}

/** The base output with tangents: derivs[p] is the flattened derivative for parameter p. */
export function attach(base: unknown, layout: LeafLayout, derivs: Float64Array[]): unknown {
  const P = derivs.length;
  const index = new Map(layout.paths.map((p, i) => [p, i]));
  return withTangents(base, P, (path, n) => {
    const i = index.get(path)!;
    const o = layout.offsets[i];
    const t = new Float64Array(P * n);
    for (let p = 0; p < P; p++) t.set(derivs[p].subarray(o, o + n), p * n);
    return t;
  });
}
