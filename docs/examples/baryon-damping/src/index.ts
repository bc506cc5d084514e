/** The package's plugins: cosmodag loads the `plugins` array of the module named in a pipeline's `plugins` list. */
import type { AnyPlugin } from 'cosmodag';
import { baryonDamping } from './baryon-damping.js';

export { baryonDamping, suppression } from './baryon-damping.js';
export const plugins: AnyPlugin[] = [baryonDamping];
