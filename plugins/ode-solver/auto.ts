/**
 * ode-solver/auto: tsit5 until its stiffness indicator fires, then rosenbrock or bdf from that point
 * (core/numerics/ode/auto.ts).
 */
import { AUTO_DEFAULTS, BDF_DEFAULTS, createAuto, ROSENBROCK_DEFAULTS, TSIT5_DEFAULTS, type AutoConfig, type OdeSolver } from '../../core/numerics/ode/index.js';
import { PLUGIN_API_VERSION, type MethodPlugin } from '../../core/plugin/types.js';
import { checkOdeConfig, toleranceProperties } from './common-schema.js';

export const auto: MethodPlugin<Partial<AutoConfig>, OdeSolver> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'ode-solver/auto',
  version: '1.0.0',
  kind: 'ode-solver',
  description: 'Starts with tsit5 and switches to a stiff method (rosenbrock or bdf) when stiffness is detected.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...toleranceProperties,
      stiff: {
        type: 'string',
        enum: ['rosenbrock', 'bdf'],
        default: AUTO_DEFAULTS.stiff,
        description: 'Method that takes over once stiffness is detected.',
      },
      stiffSteps: { type: 'integer', minimum: 1, default: TSIT5_DEFAULTS.stiffSteps, description: 'See ode-solver/tsit5.' },
      variant: { type: 'string', enum: ['auto', 'rosenbrock23', 'rodas4'], default: ROSENBROCK_DEFAULTS.variant, description: 'See ode-solver/rosenbrock.' },
      looseRtol: { type: 'number', exclusiveMinimum: 0, default: ROSENBROCK_DEFAULTS.looseRtol, description: 'See ode-solver/rosenbrock.' },
      formula: { type: 'string', enum: ['bdf', 'ndf'], default: BDF_DEFAULTS.formula, description: 'See ode-solver/bdf.' },
      maxOrder: { type: 'integer', minimum: 1, maximum: 5, default: BDF_DEFAULTS.maxOrder, description: 'See ode-solver/bdf.' },
      localErrorFraction: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: BDF_DEFAULTS.localErrorFraction, description: 'See ode-solver/bdf.' },
    },
  },
  create: (config) => {
    const id = 'ode-solver/auto';
    checkOdeConfig(id, config);
    if (config.stiff !== undefined && config.stiff !== 'rosenbrock' && config.stiff !== 'bdf')
      throw new Error(`${id}: with.stiff must be 'rosenbrock' or 'bdf', got ${JSON.stringify(config.stiff)}`);
    return createAuto(config);
  },
};
