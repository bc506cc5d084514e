/** The built-in ode-solver methods (bound to the `ode-solver` token; the default is `bdf`). */
import type { OdeSolver } from '../../core/numerics/ode/index.js';
import type { MethodPlugin } from '../../core/plugin/types.js';
import { auto } from './auto.js';
import { bdf } from './bdf.js';
import { rosenbrock } from './rosenbrock.js';
import { tsit5 } from './tsit5.js';

export { auto, bdf, rosenbrock, tsit5 };
export const odeSolverPlugins: MethodPlugin<Record<string, unknown>, OdeSolver>[] = [tsit5, rosenbrock, bdf, auto];
