/**
 * A seeded Latin hypercube in [0, 1)^d: each of the d coordinates takes exactly one value in each of the n strata
 * [k/n, (k+1)/n), at a uniformly random place inside it, the strata of the coordinates paired by independent random
 * permutations (McKay, Beckman & Conover 1979). The same (n, d, seed) always gives the same points. Random numbers:
 * the project's seedable generator (core/sampling/rng.ts, xoshiro128**).
 */
import { Rng, rngState } from '../sampling/rng.js';

/** n points in d dimensions, point-major (point i, coordinate j at i*d + j). */
export function latinHypercube(n: number, d: number, seed: number): Float64Array {
  const rng = new Rng(rngState(seed));
  const out = new Float64Array(n * d);
  const perm = new Int32Array(n);
  for (let j = 0; j < d; j++) {
    for (let i = 0; i < n; i++) perm[i] = i;
    // Fisher-Yates shuffle of the strata
    for (let i = n - 1; i > 0; i--) {
      const k = rng.integer(i + 1);
      const t = perm[i];
      perm[i] = perm[k];
      perm[k] = t;
    }
    for (let i = 0; i < n; i++) out[i * d + j] = (perm[i] + rng.uniform()) / n;
  }
  return out;
}
