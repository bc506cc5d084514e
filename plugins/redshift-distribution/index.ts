/** Built-in `redshift-distribution` plugins. */
import type { StagePlugin } from '../../core/plugin/types.js';
import { istfPhotometricPlugin } from './istf-photometric.js';
import { tablePlugin } from './table.js';

export { istfPhotometricPlugin } from './istf-photometric.js';
export { tablePlugin } from './table.js';

export const redshiftDistributionPlugins: StagePlugin[] = [istfPhotometricPlugin, tablePlugin];
