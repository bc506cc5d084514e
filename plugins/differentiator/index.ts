/** The built-in differentiators. */
import type { MethodPlugin } from '../../core/plugin/types.js';
import { forwardAd } from './forward-ad.js';
import { finiteDifference } from './finite-difference.js';
import { regressionStencil } from './regression-stencil.js';

export const differentiatorPlugins: MethodPlugin[] = [forwardAd, regressionStencil, finiteDifference];
