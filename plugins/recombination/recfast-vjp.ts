/**
 * The vjp of recombination/recfast: given the bar of its output (a Recombination: the tables x_e, kappa', c_b^2,
 * tau, ... and the scalars Y_He, z_star, ...; in a pipeline the Boltzmann stage's adjoint-recombination.ts
 * supplies kappa', c_b^2, tau and the early coefficients), the bars of the parameters it reads:
 *
 *   pbar_j = sum_leaves bar . d(leaf)/d(theta_j),   j over the parameters the stage reads (about ten),
 *
 * with d(leaf)/d(theta_j) the stage's own forward tangents: the history solved once with every read parameter
 * seeded as a direction (history.ts carries one direction per read parameter that moves its base quantities or the
 * reionisation input: about ten, whatever the pipeline varies). That is J^T bar exactly (the same discretisation forward AD
 * differentiates: the dot-product test of test/plugins/recombination/recfast-vjp.test.ts gives 0 difference, since
 * each direction's tangent arithmetic does not depend on the others; with the names mapped wrongly it fails by O(1)), at
 * a cost independent of how many parameters the pipeline varies, and no forward-mode boundary for the reverse
 * sweep. A true adjoint of the RECFAST ODE and the tau_reio root would save that one tangent solve (~10 directions).
 *
 * The tangent-carrying history is kept for the last few outputs pulled back (a Fisher matrix by reverse mode pulls
 * the same output back once per column), in a bounded map: it is several megabytes (tables x directions).
 */
import { contractWithTangents } from '../../core/graph/reverse.js';
import type { Bar, VjpResult } from '../../core/plugin/types.js';
import { type Cosmology, seededCosmology } from '../contracts/cosmology.js';
import type { Recombination } from '../contracts/recombination.js';

export interface RecfastVjpInput {
  /** The parameters' values at the point (at least those in `reads`). */
  values: Record<string, number>;
  /** The parameters the stage reads, in the order of the tangent directions. */
  reads: readonly string[];
  /** The stage's computation for a cosmology seeded in P directions. */
  solve: (cosmology: Cosmology, P: number) => Recombination;
}

const KEEP = 4;
const kept = new Map<object, { reads: string; tangents: Recombination }>();

/** The output with its tangents in every read parameter (computed once per output, for the last KEEP outputs). */
function tangentsOf(output: object, inp: RecfastVjpInput): Recombination {
  const key = inp.reads.join(',');
  const hit = kept.get(output);
  if (hit && hit.reads === key) return hit.tangents;
  const tangents = inp.solve(seededCosmology(inp.values, inp.reads), inp.reads.length);
  kept.delete(output);
  kept.set(output, { reads: key, tangents });
  while (kept.size > KEEP) kept.delete(kept.keys().next().value!);
  return tangents;
}

/** J^T bar over the read parameters: { params: { name: d(bar . output)/d name } }. */
export function recfastVjp(output: Recombination, bar: Bar, inp: RecfastVjpInput): VjpResult {
  const t = tangentsOf(output, inp);
  const g = new Float64Array(inp.reads.length);
  contractWithTangents(t, bar, inp.reads.map((_, j) => j), g);
  return { params: Object.fromEntries(inp.reads.map((name, j) => [name, g[j]])) };
}
