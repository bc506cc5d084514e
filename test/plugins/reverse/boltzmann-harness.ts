/**
 * The main job's likelihood (pipelines/euclid-3x2pt-likelihood.json) with our own linear P(k): the
 * `linear-power/boltzmann` stage in place of Eisenstein-Hu and a `recombination/recfast` stage feeding it (as
 * pipelines/linear-power.json has it), on a coarse request so that a gradient check fits in a test
 * (boltzmann-likelihood.test.ts) and `npm run bench:gradient` can time it. Coarse means:
 *   - modes solved to k = 1 /Mpc only (6 per decade, no extra BAO modes: 27 modes); above, the stage's
 *     Meszaros extrapolation delta ~ ln(c k) (docs/boltzmann.md) feeds Halofit and the Limber integrals to 100 /Mpc;
 *   - the output P(k, z) on 20 k per decade (1e-4..100 /Mpc) and 11 redshifts (0..4 in ln(1+z)), not 100 and 41;
 *   - the modes on one thread (the vjp runs its modes on the calling thread too).
 * The numbers are therefore not the main job's; the checks compare derivatives of one and the same discretised
 * ln L. The ODE tolerance is a parameter (atol 1e-10): the adjoint differentiates the values-only steps, forward
 * AD the sensitivities' own steps, and on ln L the two differ by much more than on P(k) (ln L is a difference of
 * nearly cancelling terms): measured reverse vs forward AD in Omega_b (a component 4% of the largest), 2.5e-2 at
 * rtol 1e-7, 1.1e-5 at 1e-8, 1.9e-6 at 1e-9, 3.1e-7 at 1e-10; the test uses 1e-10 (BOLTZMANN_LIKELIHOOD_RTOL).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { executePlan } from '../../../core/graph/execute.js';
import type { Spectra } from '../../../plugins/contracts/spectra.js';
import { writeSpectra } from '../../../plugins/spectra/write-spectra.js';
import { SHIFTED, likelihoodPipeline, noPlot, preparePipeline } from './harness.js';

export const BOLTZMANN_VARY = ['h', 'Omega_b', 'Omega_m', 'n_s', 'w0', 'wa', 'N_eff', 'sigma8'];

/** The ODE tolerance of the gradient checks (see above). */
export const BOLTZMANN_LIKELIHOOD_RTOL = 1e-10;

/** The point of the checks: the reverse harness's SHIFTED plus N_eff moved from 3.046 (so that its gradient is not negligible). */
export const BOLTZMANN_SHIFTED = [...SHIFTED, 'N_eff=3.1'];

/** --set edits turning the likelihood pipeline into the coarse Boltzmann one (parameters as the file has them, plus N_eff). */
export function boltzmannLikelihoodSets(rtol = BOLTZMANN_LIKELIHOOD_RTOL, atol = 1e-10): string[] {
  const linear = {
    use: 'linear-power/boltzmann',
    with: {
      k: { k_min: 1e-4, k_max: 100, per_decade: 20 },
      z: { z_max: 4, count: 11 },
      output_z: [0],
      transfer: { k_max: 1, per_decade: 6, bao: { step: 0 } },
      threads: 1,
      precision: { rtol, atol },
    },
  };
  return [
    `stages.linear=${JSON.stringify(linear)}`,
    'stages.recombination={"use":"recombination/recfast"}',
    'parameters.N_eff={"value":3.046,"vary":true}',
  ];
}

/** Write the spectra of the coarse Boltzmann likelihood pipeline at its fiducial (cl.tsv) into a temporary directory; returns the path. */
export async function boltzmannFiducialData(sets: string[] = boltzmannLikelihoodSets()): Promise<string> {
  const { plan, registry } = await preparePipeline(likelihoodPipeline, [], [...noPlot, ...sets]);
  const r = await executePlan(plan, registry, { targets: ['cl'] });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-boltzmann-like-'));
  const files = await writeSpectra(r.outputs.get('cl') as Spectra, 'cl.tsv', { plot: false });
  for (const [f, d] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), d);
  return path.join(dir, 'cl.tsv');
}
