/** The built-in sampler methods (kind `sampler`; the contract: plugins/contracts/sampler.ts). */
import type { MethodPlugin } from '../../core/plugin/types.js';
import { ensemble } from './ensemble.js';
import { metropolis } from './metropolis.js';
import { nuts } from './nuts.js';

export { ensemble, metropolis, nuts };
export const samplerPlugins: MethodPlugin[] = [nuts, ensemble, metropolis];
