/**
 * The (k, z) sampling of a power-spectrum stage's output grid, its config schema fragments and checks.
 *
 * k: log-spaced from k_min to k_max (both exact), `per_decade` points per decade.
 * z: from 0 to z_max (both exact), uniform in z ('linear') or in ln(1+z) ('log1p').
 *
 * Defaults, and why (measured numbers in docs/power.md):
 *   k_min = 1e-5 /Mpc: below every scale a Limber or sigma(R) integral reaches (P ~ k^n_s there).
 *   k_max = 200 /Mpc: Limber at l = 5000 needs k = (l + 1/2)/chi(z) up to 113 /Mpc at z = 0.01 (chi = 44 Mpc)
 *     and 200 /Mpc at chi = 25 Mpc (z = 0.0056); below that the lensing and clustering kernels of a survey
 *     starting at z ~ 0.001 carry a negligible weight. (CCL tabulates to 1000 /Mpc by default, but at
 *     such k Halofit's one-halo term is far outside the range it was fitted on, k <~ 30 h/Mpc.)
 *   per_decade = 100: a cubic spline in ln k of ln P then reproduces EH P(k) with BAO wiggles to 6.4e-6
 *     (50 per decade: 1.6e-4, at the BAO peaks near k = 0.25 /Mpc).
 *   z_max = 4 (the top of the Euclid n(z) table), count = 81, uniform in ln(1+z): a cubic spline in z of P
 *     (not ln P) at the midpoints is then good to 5e-7 for EH and 3e-6 for Halofit on every k up to 200 /Mpc.
 *     Uniform in z with 81 points: 1.1e-6 and 3.7e-5 (the largest errors at z < 0.05 and k ~ 200 /Mpc,
 *     where P_nl changes fastest); 41 points in ln(1+z): 8e-6 and 5e-5. (test/plugins/linear-power.)
 */
export type ZSpacing = 'linear' | 'log1p';

export interface KGridConfig {
  k_min: number;
  k_max: number;
  per_decade: number;
}

export interface ZGridConfig {
  z_max: number;
  count: number;
  spacing: ZSpacing;
}

export const K_GRID_DEFAULTS: KGridConfig = { k_min: 1e-5, k_max: 200, per_decade: 100 };
export const Z_GRID_DEFAULTS: ZGridConfig = { z_max: 4, count: 81, spacing: 'log1p' };
/** Redshifts written to pk.tsv by default. */
export const OUTPUT_Z_DEFAULT = [0, 0.5, 1, 2, 3];

export const kGridSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: 'wavenumber grid of the output, log-spaced [1/Mpc]',
  properties: {
    k_min: { type: 'number', exclusiveMinimum: 0, default: K_GRID_DEFAULTS.k_min, description: 'smallest k [1/Mpc]' },
    k_max: {
      type: 'number', exclusiveMinimum: 0, default: K_GRID_DEFAULTS.k_max,
      description: 'largest k [1/Mpc]; Limber at l = 5000 down to z ~ 0.01 (chi ~ 44 Mpc) needs ~113 /Mpc',
    },
    per_decade: {
      type: 'integer', minimum: 5, maximum: 10000, default: K_GRID_DEFAULTS.per_decade,
      description: 'points per decade in k (100: cubic interpolation in ln k good to < 1e-4 with BAO wiggles)',
    },
  },
} as const;

export const zGridSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: 'redshift grid of the output, from 0 to z_max',
  properties: {
    z_max: {
      type: 'number', exclusiveMinimum: 0, default: Z_GRID_DEFAULTS.z_max,
      description: 'largest redshift; must reach the top of every n(z) (4 for the Euclid table)',
    },
    count: {
      type: 'integer', minimum: 2, maximum: 100000, default: Z_GRID_DEFAULTS.count,
      description: 'number of redshifts (81 over [0, 4] in ln(1+z): cubic interpolation in z good to 3e-6)',
    },
    spacing: { enum: ['linear', 'log1p'], default: Z_GRID_DEFAULTS.spacing, description: "'log1p': uniform in ln(1+z) (denser at low z, where P_nl changes fastest); 'linear': uniform in z" },
  },
} as const;

export const outputZSchema = {
  type: 'array',
  minItems: 1,
  items: { type: 'number', minimum: 0 },
  default: OUTPUT_Z_DEFAULT,
  description: 'redshifts of the P(k) columns written to pk.tsv (inside the z grid)',
} as const;

/** `with.matter` of a linear P(k) stage: which matter its P is (docs/power.md, "Which spectrum each probe uses"). */
export const linearMatterSchema = {
  enum: ['total', 'cb'],
  default: 'total',
  description:
    "'total': P(k) of all matter (CDM + baryons + massive neutrinos); 'cb': of CDM + baryons (galaxy clustering, Halofit or " +
    "HMcode on the cold matter; without massive neutrinos the two are the same). sigma8 always normalises total matter",
} as const;

/** Problems with a k grid config, as `with.<path>...: text` messages. */
export function kGridProblems(c: KGridConfig, path = 'with.k'): string[] {
  const out: string[] = [];
  if (!(c.k_min > 0)) out.push(`${path}.k_min: ${c.k_min} must be > 0`);
  if (!(c.k_max > c.k_min)) out.push(`${path}.k_max: ${c.k_max} must be larger than ${path}.k_min = ${c.k_min}`);
  if (!(Number.isInteger(c.per_decade) && c.per_decade >= 5)) out.push(`${path}.per_decade: ${c.per_decade} must be an integer >= 5`);
  return out;
}

export function zGridProblems(c: ZGridConfig, path = 'with.z'): string[] {
  const out: string[] = [];
  if (!(c.z_max > 0)) out.push(`${path}.z_max: ${c.z_max} must be > 0`);
  if (!(Number.isInteger(c.count) && c.count >= 2)) out.push(`${path}.count: ${c.count} must be an integer >= 2`);
  if (c.spacing !== 'linear' && c.spacing !== 'log1p') out.push(`${path}.spacing: '${c.spacing}' must be 'linear' or 'log1p'`);
  return out;
}

export function outputZProblems(zs: readonly number[], zMax: number, path = 'with.output_z'): string[] {
  const out: string[] = [];
  zs.forEach((z, i) => {
    if (!(z >= 0 && z <= zMax)) out.push(`${path}[${i}]: ${z} is outside the grid's redshifts [0, ${zMax}]`);
  });
  return out;
}

/**
 * Most numbers one P(k, z) grid may hold, k count x z count: 1e7 (80 MB of values, times 1 + the number of varied
 * parameters with tangents; the shipped grids hold 2e4 to 7e4). Per axis the schemas allow 10 000 per decade and
 * 100 000 redshifts, whose product (1e9 and more) exhausted memory at compute; raise it here if a real use needs more.
 */
export const MAX_POWER_GRID_POINTS = 10_000_000;

/** The number of k of logKGrid(c). */
export const kCount = (c: KGridConfig): number => Math.max(2, Math.round((Math.log10(c.k_max) - Math.log10(c.k_min)) * c.per_decade) + 1);

/**
 * The size limit of a P(k, z) grid of nk x nz numbers, as a `path: text` problem (or none). `paths` name the
 * settings that set the two counts (null: fixed, e.g. a table's own k), for the message; the problem is reported at
 * the setting of the larger count (or the settable one).
 */
export function gridSizeProblems(nk: number, nz: number, paths: { k: string | null; z: string | null; fixed?: string }): string[] {
  if (!(nk * nz > MAX_POWER_GRID_POINTS)) return [];
  const settable = [paths.k, paths.z].filter((p): p is string => p !== null);
  const at = (nz > nk ? paths.z ?? paths.k : paths.k ?? paths.z) ?? paths.fixed ?? 'with';
  return [
    `${at}: the P(k, z) grid would hold ${nk} k x ${nz} z = ${(nk * nz).toExponential(2)} numbers; at most ` +
      `${MAX_POWER_GRID_POINTS.toExponential(0)} (plugins/contracts/power-grid-spec.ts)${settable.length ? `; lower ${settable.join(' or ')}` : ''}`,
  ];
}

/** gridSizeProblems of a configured grid (power-grid-spec's k and z blocks). */
export const configuredGridSizeProblems = (k: KGridConfig, z: ZGridConfig, path = 'with'): string[] =>
  gridSizeProblems(kCount(k), z.count, { k: `${path}.k.per_decade`, z: `${path}.z.count` });

/** Log-spaced k from k_min to k_max (endpoints exact), ~per_decade points per decade. */
export function logKGrid(c: KGridConfig): Float64Array {
  const decades = Math.log10(c.k_max / c.k_min);
  const n = Math.max(2, Math.round(decades * c.per_decade) + 1);
  const a = Math.log(c.k_min), b = Math.log(c.k_max);
  const k = new Float64Array(n);
  for (let i = 0; i < n; i++) k[i] = Math.exp(a + ((b - a) * i) / (n - 1));
  k[0] = c.k_min;
  k[n - 1] = c.k_max;
  return k;
}

/** count redshifts from 0 to z_max (endpoints exact). */
export function zGrid(c: ZGridConfig): Float64Array {
  const z = new Float64Array(c.count);
  const smax = Math.log1p(c.z_max);
  for (let i = 0; i < c.count; i++) {
    const u = i / (c.count - 1);
    z[i] = c.spacing === 'log1p' ? Math.expm1(smax * u) : c.z_max * u;
  }
  z[0] = 0;
  z[c.count - 1] = c.z_max;
  return z;
}
