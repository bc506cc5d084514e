/**
 * Multipole grids: an explicit list of multipoles, min/max/count with log, linear or integer spacing, or bins
 * given by their edges.
 *
 * Bins by edges, `{"bins": {"min": 10, "max": 1500, "count": 100, "spacing": "log"}}` (or `{"bins": {"edges":
 * [...]}}`): count + 1 edges e_0 = min < ... < e_count = max (log: numpy.logspace(log10 min, log10 max, count + 1);
 * linear: numpy.linspace), and C_l is computed at each bin's geometric-mean centre l_i = sqrt(e_i e_{i+1}). The
 * edges travel with the spectra (Spectra.ellEdges), so the likelihood uses Delta l_i = e_{i+1} - e_i and selects
 * bins by their edges (plugins/likelihood/cl-blocks.ts). A list or min/max/count gives multipoles only: the
 * likelihood then treats them as centres of log bins with edges at the geometric midpoints (logBinWidths).
 */
export interface EllBinsSpec { min?: number; max?: number; count?: number; spacing?: 'log' | 'linear'; edges?: number[] }
export type EllSpec =
  | number[]
  | { min: number; max: number; count?: number; spacing?: 'log' | 'linear' | 'integer' }
  | { bins: EllBinsSpec };

export const ellGridSchema = {
  description: 'a list of multipoles (each >= 2), {"min", "max", "count", "spacing": "log"|"linear"|"integer"}, or bins by their edges: {"bins": {"min", "max", "count", "spacing": "log"|"linear"}} or {"bins": {"edges": [...]}} (C_l at the geometric-mean bin centres)',
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
    {
      type: 'object',
      required: ['bins'],
      additionalProperties: false,
      properties: {
        bins: {
          anyOf: [
            {
              type: 'object',
              required: ['min', 'max', 'count'],
              additionalProperties: false,
              properties: {
                min: { type: 'number', minimum: 2, description: 'lower edge of the first bin (>= 2)' },
                max: { type: 'number', minimum: 2, description: 'upper edge of the last bin (at most 100000)' },
                count: { type: 'integer', minimum: 1, description: 'number of bins (count + 1 edges); at most 20000' },
                spacing: { enum: ['log', 'linear'], default: 'log', description: 'spacing of the edges' },
              },
            },
            {
              type: 'object',
              required: ['edges'],
              additionalProperties: false,
              properties: { edges: { type: 'array', minItems: 2, items: { type: 'number', minimum: 2 }, description: 'the bin edges, strictly ascending' } },
            },
          ],
        },
      },
    },
  ],
};

/** Most multipoles a grid may have, and the largest multipole (a Limber C_l at l = 1e5 probes k ~ 1e5/chi). */
export const MAX_ELL_COUNT = 20000;
export const MAX_ELL = 100000;

const isBins = (spec: EllSpec): spec is { bins: EllBinsSpec } => !Array.isArray(spec) && 'bins' in spec;

/** Problems of an explicit list of ascending values in [2, MAX_ELL] (multipoles or edges). */
function listProblems(list: number[], at: string, what: string, count: number): string[] {
  const out: string[] = [];
  if (count > MAX_ELL_COUNT) out.push(`${at}: ${count} ${what === 'edges' ? 'bins' : what}; at most ${MAX_ELL_COUNT}`);
  for (let i = 0; i < list.length && out.length < 3; i++) {
    if (!(list[i] >= 2 && list[i] <= MAX_ELL)) out.push(`${at}[${i}]: ${list[i]} is outside [2, ${MAX_ELL}], the multipoles allowed`);
    else if (i > 0 && !(list[i] > list[i - 1])) out.push(`${at}[${i}]: ${list[i]} follows ${list[i - 1]}; ${what} must be strictly ascending`);
  }
  return out;
}

/**
 * What validate says about an ell grid before compute (the same conditions ellGrid throws on): range, order,
 * and the size limits. `at` is the JSON path of the setting.
 */
export function ellGridProblems(spec: EllSpec | undefined, at: string): string[] {
  if (spec === undefined) return [];
  if (Array.isArray(spec)) {
    return listProblems(spec, at, 'multipoles', spec.length);
  }
  if (isBins(spec)) {
    const b = spec.bins;
    if (Array.isArray(b.edges)) {
      const out = listProblems(b.edges, `${at}.bins.edges`, 'edges', b.edges.length - 1);
      if (b.edges.length < 2) out.push(`${at}.bins.edges: give at least two edges (one bin)`);
      return out;
    }
    const out: string[] = [];
    const min = b.min ?? NaN, max = b.max ?? NaN, n = b.count ?? NaN;
    if (!(min >= 2)) out.push(`${at}.bins.min: ${b.min} must be a multipole >= 2`);
    if (!(max > min)) out.push(`${at}.bins.max: ${b.max} must be above ${at}.bins.min = ${b.min}`);
    if (max > MAX_ELL) out.push(`${at}.bins.max: ${max} is above ${MAX_ELL}, the largest multipole allowed`);
    if (!(Number.isInteger(n) && n >= 1)) out.push(`${at}.bins.count: ${b.count} must be a whole number of bins >= 1`);
    else if (n > MAX_ELL_COUNT) out.push(`${at}.bins.count: ${n} bins; at most ${MAX_ELL_COUNT}`);
    return out;
  }
  const out: string[] = [];
  const { min, max } = spec;
  if (!(max >= min)) out.push(`${at}.max: ${max} is below ${at}.min = ${min}`);
  if (max > MAX_ELL) out.push(`${at}.max: ${max} is above ${MAX_ELL}, the largest multipole allowed`);
  const n = (spec.spacing ?? 'log') === 'integer' ? Math.floor(max) - Math.ceil(min) + 1 : (spec.count ?? 100);
  if (n > MAX_ELL_COUNT) out.push(`${at}: ${n} multipoles${spec.spacing === 'integer' ? ` (every integer from ${min} to ${max})` : ''}; at most ${MAX_ELL_COUNT}`);
  return out;
}

/** `n` points from a to b inclusive, as numpy.logspace(log10 a, log10 b, n) or numpy.linspace(a, b, n). */
function spaced(a: number, b: number, n: number, spacing: 'log' | 'linear'): Float64Array {
  if (n === 1) return Float64Array.of(a);
  if (spacing === 'linear') return Float64Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));
  const la = Math.log10(a), lb = Math.log10(b);
  return Float64Array.from({ length: n }, (_, i) => Math.pow(10, la + ((lb - la) * i) / (n - 1)));
}

/**
 * The bin edges of a binned spec (count + 1 values; the outer ones exactly min and max), or null for a spec that
 * gives multipoles only.
 */
export function ellEdges(spec: EllSpec): Float64Array | null {
  if (!isBins(spec)) return null;
  const too = ellGridProblems(spec, 'with.ell');
  if (too.length) throw new Error(too[0]);
  const b = spec.bins;
  if (Array.isArray(b.edges)) return Float64Array.from(b.edges);
  const e = spaced(b.min!, b.max!, b.count! + 1, b.spacing ?? 'log');
  e[0] = b.min!; e[b.count!] = b.max!; // exact outer edges (10^log10(1500) need not be 1500)
  return e;
}

/** The multipoles at which C_l is computed: the list, the spaced grid, or the bins' geometric-mean centres. */
export function ellGrid(spec: EllSpec): Float64Array {
  const edges = ellEdges(spec);
  if (edges) return Float64Array.from({ length: edges.length - 1 }, (_, i) => Math.sqrt(edges[i] * edges[i + 1]));
  if (Array.isArray(spec)) {
    const out = Float64Array.from(spec);
    for (let i = 0; i < out.length; i++) {
      if (!(out[i] >= 2)) throw new Error(`with.ell[${i}] = ${out[i]}: multipoles must be >= 2`);
      if (i > 0 && !(out[i] > out[i - 1])) throw new Error(`with.ell[${i}] = ${out[i]}: multipoles must be strictly ascending`);
    }
    return out;
  }
  const s = spec as { min: number; max: number; count?: number; spacing?: 'log' | 'linear' | 'integer' };
  const too = ellGridProblems(s, 'with.ell');
  if (too.length) throw new Error(too[0]);
  const { min, max } = s;
  if (!(min >= 2)) throw new Error(`with.ell.min = ${min}: multipoles must be >= 2`);
  if (!(max >= min)) throw new Error(`with.ell.max = ${max} is below with.ell.min = ${min}`);
  const spacing = s.spacing ?? 'log';
  if (spacing === 'integer') {
    const a = Math.ceil(min), b = Math.floor(max);
    return Float64Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  // log spacing as numpy.logspace(log10(min), log10(max), n)
  return spaced(min, max, s.count ?? 100, spacing);
}
