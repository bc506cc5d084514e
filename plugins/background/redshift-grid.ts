/**
 * Redshift grids of the background stage: the internal tabulation grid (z = 0 .. z_max) and the output
 * grid written to background.tsv.
 */

export type GridSpacing = 'log1p' | 'linear';

/** Either a range {min, max, count} (spacing linear in z unless said) or an explicit ascending list. */
export type OutputZ = { min: number; max: number; count: number; spacing?: GridSpacing } | number[];

/**
 * count points from z = 0 to z_max: uniform in ln(1+z) ('log1p', i.e. uniform in ln a, which resolves the
 * low-z end where chi ~ z) or uniform in z ('linear'). Endpoints are exact.
 */
export function tabulationGrid(zMax: number, count: number, spacing: GridSpacing): Float64Array {
  const z = new Float64Array(count);
  if (spacing === 'log1p') {
    const smax = Math.log1p(zMax);
    for (let i = 0; i < count; i++) z[i] = Math.expm1((smax * i) / (count - 1));
  } else {
    for (let i = 0; i < count; i++) z[i] = (zMax * i) / (count - 1);
  }
  z[0] = 0;
  z[count - 1] = zMax;
  return z;
}

/** The redshifts of an output_z spec. */
export function outputGrid(spec: OutputZ): Float64Array {
  if (Array.isArray(spec)) return Float64Array.from(spec);
  const { min, max, count } = spec;
  if (count === 1) return Float64Array.of(min);
  const z = new Float64Array(count);
  if (spec.spacing === 'log1p') {
    const a = Math.log1p(min), b = Math.log1p(max);
    for (let i = 0; i < count; i++) z[i] = Math.expm1(a + ((b - a) * i) / (count - 1));
  } else {
    for (let i = 0; i < count; i++) z[i] = min + ((max - min) * i) / (count - 1);
  }
  z[0] = min;
  z[count - 1] = max;
  return z;
}

/** Problems with an output_z spec against the tabulated range, as `with.output_z...: text` messages. */
/** Most redshifts a written table may have (a background.tsv of 1e5 rows is ~20 MB). */
export const MAX_OUTPUT_Z = 100000;

export function checkOutputGrid(spec: OutputZ, zMax: number): string[] {
  const out: string[] = [];
  const n = Array.isArray(spec) ? spec.length : spec.count;
  if (n > MAX_OUTPUT_Z) return [`with.output_z${Array.isArray(spec) ? '' : '.count'}: ${n} redshifts; at most ${MAX_OUTPUT_Z}`];
  if (Array.isArray(spec)) {
    for (let i = 0; i < spec.length; i++) {
      if (spec[i] < 0 || spec[i] > zMax)
        out.push(`with.output_z[${i}]: ${spec[i]} is outside the tabulated range [0, with.z_max = ${zMax}]`);
      if (i > 0 && !(spec[i] > spec[i - 1]))
        out.push(`with.output_z[${i}]: ${spec[i]} must be larger than the previous value ${spec[i - 1]} (ascending list)`);
    }
  } else {
    if (spec.min < 0) out.push(`with.output_z.min: ${spec.min} must be >= 0`);
    if (spec.max > zMax) out.push(`with.output_z.max: ${spec.max} exceeds the tabulated range: with.z_max = ${zMax}`);
    if (spec.count > 1 && !(spec.max > spec.min))
      out.push(`with.output_z.max: ${spec.max} must be larger than with.output_z.min = ${spec.min}`);
  }
  return out;
}
