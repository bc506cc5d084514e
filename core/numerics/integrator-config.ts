/** Helpers shared by the integrator methods: scalar integrands and config range checks. */
import type { VectorIntegrand } from './integrator.js';

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

