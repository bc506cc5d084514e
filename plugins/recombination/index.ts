/** The built-in recombination stage plugins. */
import type { StagePlugin } from '../../core/plugin/types.js';
import { recfastRecombination } from './recfast.js';

export { recfastRecombination };
export const recombinationPlugins: StagePlugin[] = [recfastRecombination];

import type { Dual } from '../../core/ad/dual.js';
import type { Background } from '../contracts/background.js';
import type { Recombination } from '../contracts/recombination.js';
import { bbnRangeProblem, heliumDual } from './bbn.js';
import { thermalHistory } from './history.js';
import { CAMB_REIONIZATION } from './reionization.js';
import { RECFAST_DEFAULTS, recombinationBase } from './recfast.js';

/**
 * The default thermal history (recombination/recfast with its default settings: BBN helium, tau_reio input),
 * for stages that need one when the pipeline has no recombination stage (linear-power/boltzmann).
 */
export function defaultRecombination(bg: Background, p: { Omega_b: Dual; T_cmb: Dual; N_eff: Dual; tau_reio: Dual }, P: number): Recombination {
  const problem = bbnRangeProblem(p.Omega_b.v * bg.h.v * bg.h.v, p.N_eff.v);
  if (problem) throw new Error(`recombination (default, inside the Boltzmann stage): ${problem}; or add a recombination stage`);
  const Y = heliumDual(p.Omega_b, bg.h, p.N_eff);
  return thermalHistory(recombinationBase(bg, p.Omega_b, p.T_cmb, Y), P, { kind: 'tau', tau: p.tau_reio }, {
    zMax: RECFAST_DEFAULTS.z_max, dlna: RECFAST_DEFAULTS.dlna, rtol: RECFAST_DEFAULTS.rtol, reionization: CAMB_REIONIZATION,
  });
}
