/**
 * integrator/romberg: Richardson-extrapolated trapezoid rule on 2^k + 1 uniform points, level k raised
 * until successive diagonal estimates agree (core/numerics/romberg.ts).
 */
import type { Integrator } from '../../core/numerics/integrator.js';
import { rombergAdaptive, rombergRule } from '../../core/numerics/romberg.js';
import { PLUGIN_API_VERSION, type MethodPlugin } from '../../core/plugin/types.js';
import { checkConfig, checkRtol, makeIntegrator, MIN_RTOL } from '../../core/numerics/integrator-config.js';

export interface RombergConfig {
  rtol: number;
  maxLevel: number;
}

const DEFAULTS: RombergConfig = { rtol: 1e-8, maxLevel: 20 };
/** Levels below this are never accepted (9 points), so a lucky early agreement cannot stop the refinement. */
const MIN_LEVEL = 3;

export function createRomberg(config: Partial<RombergConfig> = {}): Integrator {
  const c: RombergConfig = { ...DEFAULTS, ...config, rtol: config.rtol ?? DEFAULTS.rtol };
  const id = 'integrator/romberg';
  checkConfig(id, c, { rtol: [0, 1], maxLevel: [MIN_LEVEL, 30] }, ['maxLevel']);
  checkRtol(id, c.rtol);
  return makeIntegrator({
    name: 'romberg', id, rtol: c.rtol, rtolGiven: config.rtol !== undefined, maxLevel: 30,
    adapt(f, a, b, atol) {
      const r = rombergAdaptive(f, a, b, { rtol: c.rtol, atol, maxLevel: c.maxLevel, minLevel: MIN_LEVEL, what: id });
      return { value: r.value, rule: rombergRule(a, b, r.level) };
    },
    fixed: (a, b, level) => rombergRule(a, b, level),
  });
}

export const romberg: MethodPlugin<Partial<RombergConfig>, Integrator> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'integrator/romberg',
  version: '1.0.0',
  kind: 'integrator',
  description: 'Romberg integration: Richardson-extrapolated trapezoid rule on 2^k+1 uniform points, level raised until converged.',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      rtol: {
        type: 'number',
        minimum: MIN_RTOL,
        maximum: 1,
        description:
          'Relative tolerance: the level is raised until two successive diagonal estimates agree to rtol. Default ' + DEFAULTS.rtol + '; at least ' + MIN_RTOL + '. When given, it also governs the z nodes of spectra/limber (instead of that stage\'s rtol).',
      },
      maxLevel: {
        type: 'integer',
        minimum: MIN_LEVEL,
        maximum: 30,
        default: DEFAULTS.maxLevel,
        description: 'Largest Romberg level k (2^k + 1 points) tried before giving up with an error.',
      },
    },
  },
  create: (config) => createRomberg(config),
};
