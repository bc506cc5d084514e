/**
 * ode-solver/bdf: variable-order (1-5), variable-step BDF or NDF (Klopfenstein-Shampine, as ode15s)
 * with Jacobian and LU reuse (core/numerics/ode/bdf.ts). For stiff problems, long spans, larger systems.
 */
import { BDF_DEFAULTS, createBdf, type BdfConfig, type OdeSolver } from '../../core/numerics/ode/index.js';
import { PLUGIN_API_VERSION, type MethodPlugin } from '../../core/plugin/types.js';
import { checkOdeConfig, toleranceProperties } from './common-schema.js';

export const bdf: MethodPlugin<Partial<BdfConfig>, OdeSolver> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'ode-solver/bdf',
  version: '1.0.0',
  kind: 'ode-solver',
  description:
    'Variable-order (1-5) variable-step BDF/NDF (Shampine & Reichelt 1997) with modified Newton, Jacobian and LU reuse, dense output and staggered sensitivities; stiff problems.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...toleranceProperties,
      formula: {
        type: 'string',
        enum: ['bdf', 'ndf'],
        default: BDF_DEFAULTS.formula,
        description: "'bdf': backward differentiation formulas; 'ndf': Klopfenstein-Shampine numerical differentiation formulas (ode15s).",
      },
      maxOrder: {
        type: 'integer',
        minimum: 1,
        maximum: 5,
        default: BDF_DEFAULTS.maxOrder,
        description: 'Highest order used.',
      },
      localErrorFraction: {
        type: 'number',
        exclusiveMinimum: 0,
        maximum: 1,
        default: BDF_DEFAULTS.localErrorFraction,
        description:
          'The local error test is made against this fraction of (rtol, atol) so that the accumulated global error lands near the requested tolerance (1: raw error-per-step control).',
      },
    },
  },
  create: (config) => {
    const id = 'ode-solver/bdf';
    checkOdeConfig(id, config);
    if (config.formula !== undefined && config.formula !== 'bdf' && config.formula !== 'ndf')
      throw new Error(`${id}: with.formula must be 'bdf' or 'ndf', got ${JSON.stringify(config.formula)}`);
    if (config.maxOrder !== undefined && !(Number.isInteger(config.maxOrder) && config.maxOrder >= 1 && config.maxOrder <= 5))
      throw new Error(`${id}: with.maxOrder must be an integer in [1, 5], got ${JSON.stringify(config.maxOrder)}`);
    return createBdf(config);
  },
};
