/** Helpers shared by the integrator methods: scalar integrands and config range checks. */
import type { Integrator, QuadratureRule, VectorIntegrand } from './integrator.js';

/** Wrap a scalar function as a vectorised integrand. */
export function scalarIntegrand(f: (x: number) => number): VectorIntegrand {
  return (x, out) => {
    for (let i = 0; i < x.length; i++) out[i] = f(x[i]);
  };
}

/**
 * Range checks for numeric config fields (value in (lo, hi] for non-integers, [lo, hi] for the listed
 * integer fields), with an error naming `with.<field>`. Used when create() is called without the schema.
 */
export function checkConfig(id: string, c: object, ranges: Record<string, [number, number]>, integers: string[] = []): void {
  const rec = c as Record<string, unknown>;
  for (const [k, [lo, hi]] of Object.entries(ranges)) {
    const v = rec[k];
    const isInt = integers.includes(k);
    const ok = typeof v === 'number' && Number.isFinite(v) && (isInt ? Number.isInteger(v) && v >= lo : v > lo) && v <= hi;
    if (!ok)
      throw new Error(`${id}: with.${k} must be ${isInt ? `an integer in [${lo}, ${hi}]` : `a number in (${lo}, ${hi}]`}, got ${JSON.stringify(v)}`);
  }
}


/** Smallest rtol an integrator accepts: below it the error estimate is rounding (its floor is 100 eps of the integral). */
export const MIN_RTOL = 1e-14;

/**
 * Refuse an rtol that cannot be honoured: below MIN_RTOL the adaptive loops' tolerance floor, 100 eps sum|w f|
 * (~2.2e-14 of the integral), would take over silently. The message names `with.rtol`.
 */
export function checkRtol(id: string, rtol: number): void {
  if (typeof rtol === 'number' && rtol > 0 && rtol < MIN_RTOL)
    throw new Error(
      `${id}: with.rtol = ${rtol} cannot be honoured: in double precision the error estimate stops at about 100 eps ` +
        `(2.2e-14) of the integral; use rtol >= ${MIN_RTOL}`,
    );
}

/**
 * The Integrator object every method plugin returns, from its two primitives: an adaptive run (estimate and
 * the rule it settled on) and its fixed rule of a given level. Keeps the contract's plumbing in one place.
 */
export function makeIntegrator(o: {
  name: string;
  id: string;
  rtol: number;
  /** The config named rtol (Integrator.rtolGiven). */
  rtolGiven?: boolean;
  maxLevel: number;
  adapt: (f: VectorIntegrand, a: number, b: number, atol?: number) => { value: number; rule: QuadratureRule };
  fixed: (a: number, b: number, level: number) => QuadratureRule;
}): Integrator {
  return {
    name: o.name,
    rtol: o.rtol,
    rtolGiven: o.rtolGiven ?? false,
    adaptRule: (f, a, b, atol) => o.adapt(f, a, b, atol).rule,
    integrate: (f, a, b) => o.adapt(scalarIntegrand(f), a, b).value,
    fixedRule(a, b, level) {
      if (!Number.isInteger(level) || level < 0 || level > o.maxLevel)
        throw new Error(`${o.id}: fixedRule level must be an integer in [0, ${o.maxLevel}], got ${level}`);
      return o.fixed(a, b, level);
    },
  };
}
