/** Built-in `weights` plugins. */
import type { StagePlugin } from '../../core/plugin/types.js';
import { threeByTwoPlugin } from './3x2pt.js';

export { threeByTwoPlugin } from './3x2pt.js';

export const weightsPlugins: StagePlugin[] = [threeByTwoPlugin];
