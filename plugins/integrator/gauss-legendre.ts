/**
 * integrator/gauss-legendre: composite Gauss-Legendre rule (`order` nodes per panel), panels doubled
 * until successive estimates agree (core/numerics/gauss-legendre.ts).
 */
import type { Integrator } from '../../core/numerics/integrator.js';
import { gaussLegendreAdaptive, gaussLegendreLocal, gaussLegendreRule } from '../../core/numerics/gauss-legendre.js';
import { PLUGIN_API_VERSION, type MethodPlugin } from '../../core/plugin/types.js';
import { checkConfig, checkRtol, makeIntegrator, MIN_RTOL } from '../../core/numerics/integrator-config.js';

export interface GaussLegendreConfig {
  rtol: number;
  order: number;
  maxPanels: number;
  refinement: 'local' | 'uniform';
}

const DEFAULTS: GaussLegendreConfig = { rtol: 1e-10, order: 16, maxPanels: 1024, refinement: 'local' };

export function createGaussLegendre(config: Partial<GaussLegendreConfig> = {}): Integrator {
  const c: GaussLegendreConfig = { ...DEFAULTS, ...config, rtol: config.rtol ?? DEFAULTS.rtol };
  const id = 'integrator/gauss-legendre';
  checkConfig(id, c, { rtol: [0, 1], order: [1, 1000], maxPanels: [2, 2 ** 24] }, ['order', 'maxPanels']);
  checkRtol(id, c.rtol);
  if (c.refinement !== 'local' && c.refinement !== 'uniform') throw new Error(`${id}: with.refinement must be 'local' or 'uniform', got ${JSON.stringify(c.refinement)}`);
  const adaptive = c.refinement === 'local' ? gaussLegendreLocal : gaussLegendreAdaptive;
  return makeIntegrator({
    name: 'gauss-legendre', id, rtol: c.rtol, rtolGiven: config.rtol !== undefined, maxLevel: 24,
    adapt: (f, a, b, atol) => adaptive(f, a, b, { rtol: c.rtol, atol, order: c.order, maxPanels: c.maxPanels, what: id }),
    fixed: (a, b, level) => gaussLegendreRule(a, b, c.order, 2 ** level),
  });
}

export const gaussLegendre: MethodPlugin<Partial<GaussLegendreConfig>, Integrator> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'integrator/gauss-legendre',
  version: '1.0.0',
  kind: 'integrator',
  description: 'Composite Gauss-Legendre quadrature (order nodes per panel), panels refined (locally, by default) until converged.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      rtol: {
        type: 'number',
        minimum: MIN_RTOL,
        maximum: 1,
        description:
          'Relative tolerance: panels are doubled until two successive estimates agree to rtol. Default ' + DEFAULTS.rtol + '; at least ' + MIN_RTOL + '. When given, it also governs the z nodes of spectra/limber (instead of that stage\'s rtol).',
      },
      refinement: {
        enum: ['local', 'uniform'],
        default: DEFAULTS.refinement,
        description: "'local': split only the panels whose error estimate exceeds their share of the tolerance; 'uniform': double every panel",
      },
      order: {
        type: 'integer',
        minimum: 1,
        maximum: 1000,
        default: DEFAULTS.order,
        description: 'Gauss-Legendre nodes per panel (exact for polynomials of degree 2*order-1); fixedRule(level) uses 2^level panels.',
      },
      maxPanels: {
        type: 'integer',
        minimum: 2,
        default: DEFAULTS.maxPanels,
        description: 'Largest number of panels tried before giving up with an error.',
      },
    },
  },
  create: (config) => createGaussLegendre(config),
};
