/** Multipole grids: an explicit list, or min/max/count with log, linear or integer spacing. */
export type EllSpec = number[] | { min: number; max: number; count?: number; spacing?: 'log' | 'linear' | 'integer' };

export const ellGridSchema = {
  description: 'a list of multipoles (each >= 2), or {"min", "max", "count", "spacing": "log"|"linear"|"integer"}',
  default: { min: 10, max: 5000, count: 100, spacing: 'log' },
  anyOf: [
    { type: 'array', minItems: 1, items: { type: 'number', minimum: 2 } },
    {
      type: 'object',
      required: ['min', 'max'],
      additionalProperties: false,
      properties: {
        min: { type: 'number', minimum: 2, description: 'smallest multipole (the spin-2 prefactor needs l >= 2)' },
        max: { type: 'number', minimum: 2, description: 'largest multipole (at most 100000)' },
        count: { type: 'integer', minimum: 1, description: 'number of multipoles (ignored for integer spacing); at most 20000' },
        spacing: { enum: ['log', 'linear', 'integer'], default: 'log' },
      },
    },
  ],
};

/** Most multipoles a grid may have, and the largest multipole (a Limber C_l at l = 1e5 probes k ~ 1e5/chi). */
export const MAX_ELL_COUNT = 20000;
export const MAX_ELL = 100000;

/**
 * What validate says about an ell grid before compute (the same conditions ellGrid throws on): range, order,
 * and the size limits. `at` is the JSON path of the setting.
 */
export function ellGridProblems(spec: EllSpec | undefined, at: string): string[] {
  if (spec === undefined) return [];
  const out: string[] = [];
  if (Array.isArray(spec)) {
    if (spec.length > MAX_ELL_COUNT) out.push(`${at}: ${spec.length} multipoles; at most ${MAX_ELL_COUNT}`);
    for (let i = 0; i < spec.length && out.length < 3; i++) {
      if (!(spec[i] >= 2 && spec[i] <= MAX_ELL)) out.push(`${at}[${i}]: ${spec[i]} is outside [2, ${MAX_ELL}], the multipoles allowed`);
      else if (i > 0 && !(spec[i] > spec[i - 1])) out.push(`${at}[${i}]: ${spec[i]} follows ${spec[i - 1]}; multipoles must be strictly ascending`);
    }
    return out;
  }
  const { min, max } = spec;
  if (!(max >= min)) out.push(`${at}.max: ${max} is below ${at}.min = ${min}`);
  if (max > MAX_ELL) out.push(`${at}.max: ${max} is above ${MAX_ELL}, the largest multipole allowed`);
  const n = (spec.spacing ?? 'log') === 'integer' ? Math.floor(max) - Math.ceil(min) + 1 : (spec.count ?? 100);
  if (n > MAX_ELL_COUNT) out.push(`${at}: ${n} multipoles${spec.spacing === 'integer' ? ` (every integer from ${min} to ${max})` : ''}; at most ${MAX_ELL_COUNT}`);
  return out;
}

export function ellGrid(spec: EllSpec): Float64Array {
  if (Array.isArray(spec)) {
    const out = Float64Array.from(spec);
    for (let i = 0; i < out.length; i++) {
      if (!(out[i] >= 2)) throw new Error(`with.ell[${i}] = ${out[i]}: multipoles must be >= 2`);
      if (i > 0 && !(out[i] > out[i - 1])) throw new Error(`with.ell[${i}] = ${out[i]}: multipoles must be strictly ascending`);
    }
    return out;
  }
  const too = ellGridProblems(spec, 'with.ell');
  if (too.length) throw new Error(too[0]);
  const { min, max } = spec;
  if (!(min >= 2)) throw new Error(`with.ell.min = ${min}: multipoles must be >= 2`);
  if (!(max >= min)) throw new Error(`with.ell.max = ${max} is below with.ell.min = ${min}`);
  const spacing = spec.spacing ?? 'log';
  if (spacing === 'integer') {
    const a = Math.ceil(min), b = Math.floor(max);
    return Float64Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  const n = spec.count ?? 100;
  if (n === 1) return Float64Array.of(min);
  if (spacing === 'linear') return Float64Array.from({ length: n }, (_, i) => min + ((max - min) * i) / (n - 1));
  // log spacing as numpy.logspace(log10(min), log10(max), n)
  const a = Math.log10(min), b = Math.log10(max);
  return Float64Array.from({ length: n }, (_, i) => Math.pow(10, a + ((b - a) * i) / (n - 1)));
}
