/**
 * integrator/newton-cotes: composite trapezoid, Simpson or Boole rules on uniform grids, with panels
 * doubled until successive estimates agree (core/numerics/newton-cotes.ts).
 */
import type { Integrator } from '../../core/numerics/integrator.js';
import { newtonCotesAdaptive, newtonCotesRule, type NewtonCotesName } from '../../core/numerics/newton-cotes.js';
import { PLUGIN_API_VERSION, type MethodPlugin } from '../../core/plugin/types.js';
import { checkConfig, checkRtol, makeIntegrator, MIN_RTOL } from '../../core/numerics/integrator-config.js';

export interface NewtonCotesConfig {
  rule: NewtonCotesName;
  rtol: number;
  minPanels: number;
  maxPanels: number;
}

const DEFAULTS: NewtonCotesConfig = { rule: 'simpson', rtol: 1e-8, minPanels: 2, maxPanels: 262144 };

export function createNewtonCotes(config: Partial<NewtonCotesConfig> = {}): Integrator {
  const c: NewtonCotesConfig = { ...DEFAULTS, ...config, rtol: config.rtol ?? DEFAULTS.rtol };
  const id = 'integrator/newton-cotes';
  if (!['trapezoid', 'simpson', 'boole'].includes(c.rule))
    throw new Error(`${id}: with.rule must be one of trapezoid, simpson, boole, got '${String(c.rule)}'`);
  checkConfig(id, c, { rtol: [0, 1], minPanels: [1, 2 ** 30], maxPanels: [1, 2 ** 30] }, ['minPanels', 'maxPanels']);
  checkRtol(id, c.rtol);
  if (c.maxPanels < 2 * c.minPanels)
    throw new Error(`${id}: with.maxPanels (${c.maxPanels}) must be at least twice with.minPanels (${c.minPanels}) so that two estimates can be compared`);
  const what = `${id} (${c.rule})`;
  return makeIntegrator({
    name: 'newton-cotes', id, rtol: c.rtol, rtolGiven: config.rtol !== undefined, maxLevel: 30,
    adapt(f, a, b, atol) {
      const r = newtonCotesAdaptive(f, a, b, { rule: c.rule, rtol: c.rtol, atol, minPanels: c.minPanels, maxPanels: c.maxPanels, what });
      return { value: r.value, rule: newtonCotesRule(c.rule, a, b, r.panels) };
    },
    fixed: (a, b, level) => newtonCotesRule(c.rule, a, b, c.minPanels * 2 ** level),
  });
}

export const newtonCotes: MethodPlugin<Partial<NewtonCotesConfig>, Integrator> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'integrator/newton-cotes',
  version: '1.0.0',
  kind: 'integrator',
  description: 'Composite closed Newton-Cotes rule (trapezoid, Simpson or Boole) on a uniform grid, panels doubled until converged.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      rule: {
        type: 'string',
        enum: ['trapezoid', 'simpson', 'boole'],
        default: DEFAULTS.rule,
        description: 'Panel rule: trapezoid (error O(h^2)), simpson (O(h^4)) or boole (O(h^6)).',
      },
      rtol: {
        type: 'number',
        minimum: MIN_RTOL,
        maximum: 1,
        description:
          'Relative tolerance: panels are doubled until two successive estimates agree to rtol. Default ' + DEFAULTS.rtol + '; at least ' + MIN_RTOL + '. When given, it also governs the z nodes of spectra/limber (instead of that stage\'s rtol).',
      },
      minPanels: {
        type: 'integer',
        minimum: 1,
        default: DEFAULTS.minPanels,
        description: 'Panels of the first (coarsest) estimate; fixedRule(level) uses minPanels * 2^level panels.',
      },
      maxPanels: {
        type: 'integer',
        minimum: 2,
        default: DEFAULTS.maxPanels,
        description: 'Largest number of panels tried before giving up with an error.',
      },
    },
  },
  create: (config) => createNewtonCotes(config),
};
