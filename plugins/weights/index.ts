/** Built-in `weights` plugins: each produces a set of tracers (plugins/contracts/tracers.ts). */
import type { StagePlugin } from '../../core/plugin/types.js';
import { threeByTwoPlugin } from './3x2pt.js';
import { cmbLensingPlugin } from './cmb-lensing.js';
import { kernelTablePlugin } from './table.js';

export { threeByTwoPlugin } from './3x2pt.js';
export { cmbLensingPlugin } from './cmb-lensing.js';
export { kernelTablePlugin } from './table.js';

export const weightsPlugins: StagePlugin[] = [threeByTwoPlugin, cmbLensingPlugin, kernelTablePlugin];
