/**
 * ode-solver/tsit5: Tsitouras 5(4) explicit Runge-Kutta with PI control, free dense output and a
 * stiffness indicator (core/numerics/ode/tsit5.ts). For non-stiff problems.
 */
import { createTsit5, TSIT5_DEFAULTS, type OdeSolver, type Tsit5Config } from '../../core/numerics/ode/index.js';
import { PLUGIN_API_VERSION, type MethodPlugin } from '../../core/plugin/types.js';
import { checkOdeConfig, toleranceProperties } from './common-schema.js';

export const tsit5: MethodPlugin<Partial<Tsit5Config>, OdeSolver> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'ode-solver/tsit5',
  version: '1.0.0',
  kind: 'ode-solver',
  description: 'Tsitouras 5(4) explicit Runge-Kutta (FSAL, PI step control, order-4 dense output, stiffness indicator); non-stiff problems.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...toleranceProperties,
      stiffnessCheck: {
        type: 'boolean',
        default: TSIT5_DEFAULTS.stiffnessCheck,
        description: 'Run the stiffness indicator; stats.stiffnessDetected reports it (the solve still finishes with tsit5).',
      },
      stiffSteps: {
        type: 'integer',
        minimum: 1,
        default: TSIT5_DEFAULTS.stiffSteps,
        description: 'Stability-limited steps (h|lambda| near the stability boundary) that declare the problem stiff.',
      },
    },
  },
  create: (config) => {
    checkOdeConfig('ode-solver/tsit5', config);
    return createTsit5(config);
  },
};
