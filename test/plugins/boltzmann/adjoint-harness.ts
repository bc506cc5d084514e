/**
 * The request the Boltzmann adjoint is tested and timed on (adjoint-power.test.ts, adjoint-stage.test.ts,
 * test/bench/boltzmann-gradient.bench.ts): a coarse k grid to 0.5 /Mpc, z = 0, 1, 2, one thread, tsit5; the
 * functional's weights and the per-parameter comparison.
 */
import { createTsit5 } from '../../../core/numerics/ode/index.js';
import { cosmologyFrom, seededCosmology } from '../../../plugins/contracts/cosmology.js';
import type { Recombination } from '../../../plugins/contracts/recombination.js';
import { recfastRecombination } from '../../../plugins/recombination/recfast.js';
import { fakeContext, runBackground } from './harness.js';

export const ADJOINT_VARY = ['h', 'Omega_b', 'Omega_m', 'n_s', 'w0', 'wa', 'N_eff'];

export const ADJOINT_GRID = {
  k: { k_min: 1e-4, k_max: 0.5, per_decade: 5 },
  z: { z_max: 2, count: 3, spacing: 'linear' },
  output_z: [0, 1, 2],
  transfer: { per_decade: 6, bao: { step: 0 } },
  threads: 1,
};

const tsit5 = createTsit5();

/** The inputs of boltzmannPower at params, with tangents along `vary` (none: values only). */
export function requestInputs(params: Record<string, number>, vary: string[] = []) {
  const bg = runBackground(params, vary);
  const recombination = recfastRecombination.run(fakeContext(recfastRecombination, { params, vary, inputs: { background: bg } })) as Recombination;
  const cosmology = vary.length ? seededCosmology(params, vary) : cosmologyFrom(params);
  return { cosmology, recombination, P: vary.length, solver: tsit5 };
}

/** Fixed pseudo-random weights w of F = sum w P. */
export const adjointWeights = (N: number) => Float64Array.from({ length: N }, (_, i) => Math.sin(2.3 * i + 0.7) + 0.3);

/** Largest relative difference per parameter (relative to max(|ref_p|, 1e-3 max |ref|)), and a printable list. */
export function worstRelative(g: ArrayLike<number>, ref: ArrayLike<number>, names = ADJOINT_VARY): { worst: number; each: string } {
  const scale = Math.max(...Array.from(ref, Math.abs));
  let worst = 0;
  const each: string[] = [];
  for (let p = 0; p < ref.length; p++) {
    const e = Math.abs(g[p] - ref[p]) / Math.max(Math.abs(ref[p]), 1e-3 * scale);
    each.push(`${names[p]} ${e.toExponential(2)}`);
    worst = Math.max(worst, e);
  }
  return { worst, each: each.join(', ') };
}
