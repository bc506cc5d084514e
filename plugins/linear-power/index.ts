/** The built-in linear-power stage plugins. */
import type { StagePlugin } from '../../core/plugin/types.js';
import { eisensteinHu } from './eisenstein-hu.js';
import { linearPowerGrid } from './grid.js';

export { eisensteinHu, linearPowerGrid };
export const linearPowerPlugins: StagePlugin[] = [eisensteinHu, linearPowerGrid];
