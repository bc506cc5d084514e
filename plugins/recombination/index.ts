/** The built-in recombination stage plugins. */
import type { StagePlugin } from '../../core/plugin/types.js';
import { recfastRecombination } from './recfast.js';

export { recfastRecombination };
export const recombinationPlugins: StagePlugin[] = [recfastRecombination];

import type { Cosmology } from '../contracts/cosmology.js';
import type { Recombination } from '../contracts/recombination.js';
import { thermalHistory } from './history.js';
import { CAMB_REIONIZATION } from './reionization.js';
import { RECFAST_DEFAULTS, bbnHelium, recombinationBase, recombinationQuantities } from './recfast.js';

/** The cosmology the default thermal history uses (recombination/recfast's defaults: BBN helium, tau_reio input). */
export const DEFAULT_RECOMBINATION_QUANTITIES = recombinationQuantities({});

/**
 * The default thermal history (recombination/recfast with its default settings: BBN helium, tau_reio input),
 * for stages that need one when the pipeline has no recombination stage (linear-power/boltzmann).
 */
export function defaultRecombination(c: Cosmology, P: number): Recombination {
  const bbn = bbnHelium(c);
  if (bbn.problem !== null) throw new Error(`recombination (default, inside the Boltzmann stage): ${bbn.problem}; or add a recombination stage`);
  return thermalHistory(recombinationBase(c, bbn.Y), P, { kind: 'tau', tau: c.tau_reio }, {
    zMax: RECFAST_DEFAULTS.z_max, dlna: RECFAST_DEFAULTS.dlna, rtol: RECFAST_DEFAULTS.rtol, reionization: CAMB_REIONIZATION,
  });
}
