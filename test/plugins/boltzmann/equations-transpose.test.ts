/**
 * The transposed perturbation equations (boltzmann/equations-transpose.ts) against the transpose of the Jacobian
 * (f applied to unit vectors, equations.ts) in every regime: tight coupling, full hierarchies, neutrino fluid,
 * radiation streaming; with PPF dark energy (w0wa), and with massive neutrinos (hierarchy and fluid), at times
 * on both sides of the PPF cut, before and after the thermal table's start.
 */
import { describe, expect, test } from 'vitest';
import { cosmologyFrom } from '../../../plugins/contracts/cosmology.js';
import type { Recombination } from '../../../plugins/contracts/recombination.js';
import { type Flags, PerturbationRhs } from '../../../plugins/linear-power/boltzmann/equations.js';
import { transposeRhs } from '../../../plugins/linear-power/boltzmann/equations-transpose.js';
import { DEFAULT_APPROXIMATIONS, buildModeSetup } from '../../../plugins/linear-power/boltzmann/setup.js';
import { recfastRecombination } from '../../../plugins/recombination/recfast.js';
import { W0WA, fakeContext, runBackground } from './harness.js';

function setupOf(params: Record<string, number>) {
  const bg = runBackground(params);
  const rec = recfastRecombination.run(fakeContext(recfastRecombination, { params, inputs: { background: bg } })) as Recombination;
  return buildModeSetup({
    cosmology: cosmologyFrom(params), recombination: rec, P: 0,
    approx: { ...DEFAULT_APPROXIMATIONS, ncdmQBins: 5, lmaxNcdm: 10 }, darkEnergy: 'ppf', ppfCGammaOverCs: 0.4,
  }).setup;
}

const REGIMES: [string, Flags][] = [
  ['tight coupling', { tca: true, ufa: false, rsa: false }],
  ['full hierarchies', { tca: false, ufa: false, rsa: false }],
  ['neutrino fluid', { tca: false, ufa: true, rsa: false }],
  ['radiation streaming', { tca: false, ufa: true, rsa: true }],
  ['radiation streaming, ncdm fluid', { tca: false, ufa: true, rsa: true, ncdmFluid: true }],
  ['full, ncdm fluid', { tca: false, ufa: false, rsa: false, ncdmFluid: true }],
];

describe.each([['w0wa', W0WA], ['w0wa with m_nu = 0.06', { ...W0WA, m_nu: 0.06 }]] as const)('A^T lam without A (%s)', (_name, params) => {
  const setup = setupOf(params);
  test.each(REGIMES)('%s', (_label, flags) => {
    let worst = 0;
    for (const k of [0.003, 0.05, 0.4]) {
      const rhs = new PerturbationRhs(setup, k, flags);
      const n = rhs.L.n;
      const J = new Float64Array(n * n), lam = new Float64Array(n), out = new Float64Array(n), ref = new Float64Array(n);
      const eps = new Float64Array(Math.max(rhs.L.nq, 1));
      for (const x of [-12, -8, -6.5, -5.9, -3.2, -1, -0.1]) {
        for (let i = 0; i < n; i++) lam[i] = Math.sin(1.7 * i + 3 * x + k);
        J.fill(0);
        rhs.jacobian(x, lam, J, new Float64Array(0));
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let i = 0; i < n; i++) s += J[i * n + j] * lam[i];
          ref[j] = s;
        }
        transposeRhs(rhs, x, lam, out, eps);
        let scale = 0;
        for (let j = 0; j < n; j++) scale = Math.max(scale, Math.abs(ref[j]));
        for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(out[j] - ref[j]) / scale);
      }
    }
    console.log(`${_name}, ${_label}: worst ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-12);
  });
});
