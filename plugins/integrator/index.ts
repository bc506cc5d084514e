/** The built-in integrator methods. */
import type { MethodPlugin } from '../../core/plugin/types.js';
import { gaussLegendre } from './gauss-legendre.js';
import { newtonCotes } from './newton-cotes.js';
import { romberg } from './romberg.js';

export { gaussLegendre, newtonCotes, romberg };
export const integratorPlugins: MethodPlugin[] = [newtonCotes, romberg, gaussLegendre];
