/**
 * The built-in plugins, exported as the package `cosmodag/plugins`: the runtime loads this module through
 * the same loader (and checks) as any third-party plugin package.
 */
import type { AnyPlugin } from '../core/plugin/types.js';
import { integratorPlugins } from './integrator/index.js';
import { w0waBackground } from './background/w0wa.js';

export const plugins: AnyPlugin[] = [
  ...integratorPlugins,
  w0waBackground,
];
