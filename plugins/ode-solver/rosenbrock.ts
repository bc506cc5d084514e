/**
 * ode-solver/rosenbrock: linearly implicit Rosenbrock methods, rosenbrock23 (Shampine & Reichelt 1997,
 * loose tolerances) and rodas4 (Hairer & Wanner, tight tolerances) (core/numerics/ode/rosenbrock.ts).
 */
import { createRosenbrock, ROSENBROCK_DEFAULTS, type OdeSolver, type RosenbrockConfig } from '../../core/numerics/ode/index.js';
import { PLUGIN_API_VERSION, type MethodPlugin } from '../../core/plugin/types.js';
import { checkOdeConfig, toleranceProperties } from './common-schema.js';

export const rosenbrock: MethodPlugin<Partial<RosenbrockConfig>, OdeSolver> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'ode-solver/rosenbrock',
  version: '1.0.0',
  kind: 'ode-solver',
  description:
    'Rosenbrock methods for stiff problems: rosenbrock23 (L-stable, order 2, loose tolerances) or rodas4 (order 4, tight tolerances); one Jacobian and one LU per step, dense output, sensitivities.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...toleranceProperties,
      variant: {
        type: 'string',
        enum: ['auto', 'rosenbrock23', 'rodas4'],
        default: ROSENBROCK_DEFAULTS.variant,
        description: "Formula; 'auto' takes rosenbrock23 when rtol >= looseRtol and rodas4 otherwise.",
      },
      looseRtol: {
        type: 'number',
        exclusiveMinimum: 0,
        default: ROSENBROCK_DEFAULTS.looseRtol,
        description: "With variant 'auto': rtol from which rosenbrock23 is used.",
      },
    },
  },
  create: (config) => {
    const id = 'ode-solver/rosenbrock';
    checkOdeConfig(id, config);
    if (config.variant !== undefined && !['auto', 'rosenbrock23', 'rodas4'].includes(config.variant))
      throw new Error(`${id}: with.variant must be one of auto, rosenbrock23, rodas4, got ${JSON.stringify(config.variant)}`);
    return createRosenbrock(config);
  },
};
