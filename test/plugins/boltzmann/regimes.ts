/**
 * A mode setup with massive neutrinos (5 momentum bins, l_max 10) and PPF dark energy, and the right-hand side's
 * regimes (approximation flags): what the transposed equations and the read-scalar cotangents are tested in
 * (equations-transpose.test.ts, adjoint-reads.test.ts).
 */
import { cosmologyFrom } from '../../../plugins/contracts/cosmology.js';
import type { Recombination } from '../../../plugins/contracts/recombination.js';
import type { Flags } from '../../../plugins/linear-power/boltzmann/equations.js';
import { DEFAULT_APPROXIMATIONS, buildModeSetup } from '../../../plugins/linear-power/boltzmann/setup.js';
import { recfastRecombination } from '../../../plugins/recombination/recfast.js';
import { fakeContext, runBackground } from './harness.js';

export function setupOf(params: Record<string, number>) {
  const bg = runBackground(params);
  const rec = recfastRecombination.run(fakeContext(recfastRecombination, { params, inputs: { background: bg } })) as Recombination;
  return buildModeSetup({
    cosmology: cosmologyFrom(params), recombination: rec, P: 0,
    approx: { ...DEFAULT_APPROXIMATIONS, ncdmQBins: 5, lmaxNcdm: 10 }, darkEnergy: 'ppf', ppfCGammaOverCs: 0.4,
  }).setup;
}

export const REGIMES: [string, Flags][] = [
  ['tight coupling', { tca: true, ufa: false, rsa: false }],
  ['full hierarchies', { tca: false, ufa: false, rsa: false }],
  ['neutrino fluid', { tca: false, ufa: true, rsa: false }],
  ['radiation streaming', { tca: false, ufa: true, rsa: true }],
  ['radiation streaming, ncdm fluid', { tca: false, ufa: true, rsa: true, ncdmFluid: true }],
  ['full, ncdm fluid', { tca: false, ufa: false, rsa: false, ncdmFluid: true }],
];
