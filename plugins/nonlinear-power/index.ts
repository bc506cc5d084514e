/** The built-in nonlinear-power stage plugins. */
import type { StagePlugin } from '../../core/plugin/types.js';
import { nonlinearPowerGrid } from './grid.js';
import { halofit } from './halofit.js';
import { nonlinearLinear } from './linear.js';

export { halofit, nonlinearLinear, nonlinearPowerGrid };
export const nonlinearPowerPlugins: StagePlugin[] = [halofit, nonlinearLinear, nonlinearPowerGrid];
