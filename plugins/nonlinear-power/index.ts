/** The built-in nonlinear-power stage plugins. */
import type { StagePlugin } from '../../core/plugin/types.js';
import { nonlinearPowerGrid } from './grid.js';
import { halofit } from './halofit.js';
import { hmcode2020 } from './hmcode2020.js';
import { nonlinearLinear } from './linear.js';

export { halofit, hmcode2020, nonlinearLinear, nonlinearPowerGrid };
export const nonlinearPowerPlugins: StagePlugin[] = [halofit, hmcode2020, nonlinearLinear, nonlinearPowerGrid];
