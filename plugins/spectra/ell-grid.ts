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
        max: { type: 'number', minimum: 2 },
        count: { type: 'integer', minimum: 1, description: 'number of multipoles (ignored for integer spacing)' },
        spacing: { enum: ['log', 'linear', 'integer'], default: 'log' },
      },
    },
  ],
};

export function ellGrid(spec: EllSpec): Float64Array {
  if (Array.isArray(spec)) {
    const out = Float64Array.from(spec);
    for (let i = 0; i < out.length; i++) {
      if (!(out[i] >= 2)) throw new Error(`with.ell[${i}] = ${out[i]}: multipoles must be >= 2`);
      if (i > 0 && !(out[i] > out[i - 1])) throw new Error(`with.ell[${i}] = ${out[i]}: multipoles must be strictly ascending`);
    }
    return out;
  }
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
