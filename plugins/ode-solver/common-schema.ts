/**
 * Config-schema fields every ode-solver method shares: the default tolerances and step budget used when
 * a caller's solve(problem, options) leaves them out.
 */
import { BUILTIN_DEFAULTS } from '../../core/numerics/ode/index.js';

export const toleranceProperties = {
  rtol: {
    type: 'number',
    exclusiveMinimum: 0,
    maximum: 0.1,
    default: BUILTIN_DEFAULTS.rtol,
    description: 'Default relative tolerance of the local error test (a solve option overrides it).',
  },
  atol: {
    type: 'number',
    exclusiveMinimum: 0,
    default: BUILTIN_DEFAULTS.atol,
    description: 'Default absolute tolerance, all components (a solve option, scalar or per component, overrides it).',
  },
  maxSteps: {
    type: 'integer',
    minimum: 1,
    default: BUILTIN_DEFAULTS.maxSteps,
    description: 'Default maximum number of accepted steps; the solve ends with an error naming t when reached.',
  },
} as const;

/** Range checks for create() called without the schema (tests, direct use), with errors naming with.<field>. */
export function checkOdeConfig(id: string, c: Record<string, unknown>): void {
  const num = (k: string, ok: (v: number) => boolean, what: string) => {
    const v = c[k];
    if (v !== undefined && !(typeof v === 'number' && ok(v))) throw new Error(`${id}: with.${k} must be ${what}, got ${JSON.stringify(v)}`);
  };
  num('rtol', (v) => v > 0 && v <= 0.1, 'a number in (0, 0.1]');
  num('atol', (v) => v > 0 && Number.isFinite(v), 'a number > 0');
  num('maxSteps', (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1');
}
