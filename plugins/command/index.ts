/** The built-in `command` stages: P(k, z) from an external program run as a black box. */
import type { StagePlugin } from '../../core/plugin/types.js';
import { linearPowerCommand, nonlinearPowerCommand } from './power-command.js';

export { linearPowerCommand, nonlinearPowerCommand };
export const commandPlugins: StagePlugin[] = [linearPowerCommand, nonlinearPowerCommand];
