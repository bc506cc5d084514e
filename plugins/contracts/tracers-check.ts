/**
 * The contract of the `weights` port (a TracerSet, tracers.ts), checked by the runtime on every computed
 * output: the z grid ascending, each tracer's fields present and of the allowed kind, names unique, W of
 * nTracers*nz values and one multiplicative factor per tracer. Shapes only: W itself is not scanned.
 */
import { blocks, checkAscending, checkDualArray, checkFinite, checkObject, checkString, isRecord, portContract, show, type Messages } from './check.js';
import type { EllFactor } from './tracers.js';

const ELL_FACTORS: readonly EllFactor[] = ['spin2', 'convergence', 'none'];

/** One tracer's fields (see Tracer). */
function checkTracer(out: Messages, path: string, t: unknown): string | undefined {
  if (!isRecord(t)) {
    out.push(`${path}: is ${t === null ? 'null' : typeof t}, expected a Tracer {name, family, code, ellFactor, power, noise}`);
    return undefined;
  }
  const named = checkString(out, `${path}.name`, t.name);
  checkString(out, `${path}.family`, t.family);
  checkString(out, `${path}.code`, t.code);
  if (t.index !== undefined && !(typeof t.index === 'number' && Number.isInteger(t.index) && t.index >= 1))
    out.push(`${path}.index: ${show(t.index)} is not a positive integer (1-based bin number)`);
  if (t.latex !== undefined && typeof t.latex !== 'string') out.push(`${path}.latex: is ${typeof t.latex}, expected a string`);
  if (t.ellFactor === undefined) out.push(`${path}.ellFactor: missing`);
  else if (!ELL_FACTORS.includes(t.ellFactor as EllFactor))
    out.push(`${path}.ellFactor: ${JSON.stringify(t.ellFactor)} is not one of ${ELL_FACTORS.map((f) => `'${f}'`).join(', ')}`);
  checkString(out, `${path}.power`, t.power);
  if (checkFinite(out, `${path}.noise`, t.noise) && t.noise < 0) out.push(`${path}.noise: ${t.noise} must be >= 0`);
  return named ? (t.name as string) : undefined;
}

export function checkTracerSet(x: unknown, out: Messages): void {
  if (!checkObject(out, x, 'a TracerSet {z, tracers, W, multiplicative, z_max}')) return;
  const okZ = checkAscending(out, 'z', x.z);
  const tracers = x.tracers;
  let nT: number | undefined;
  if (tracers === undefined) out.push('tracers: missing');
  else if (!Array.isArray(tracers)) out.push(`tracers: is ${typeof tracers}, expected an array of Tracer`);
  else if (tracers.length === 0) out.push('tracers: is empty; a tracer set needs at least one tracer');
  else {
    nT = tracers.length;
    const seen = new Set<string>();
    for (let i = 0; i < nT; i++) {
      const name = checkTracer(out, `tracers[${i}]`, tracers[i]);
      if (name === undefined) continue;
      if (seen.has(name)) out.push(`tracers[${i}].name: "${name}" is used by an earlier tracer; names must be unique`);
      seen.add(name);
    }
  }
  const nz = okZ ? (x.z as Float64Array).length : undefined;
  const b = blocks();
  checkDualArray(out, 'W', x.W, nT !== undefined && nz !== undefined ? nT * nz : undefined, `nTracers*nz = ${nT}*${nz}`, b);
  checkDualArray(out, 'multiplicative', x.multiplicative, nT, 'nTracers', b);
  if (checkFinite(out, 'z_max', x.z_max) && !(x.z_max > 0)) out.push(`z_max: ${x.z_max} must be > 0`);
}

export const weightsPort = portContract(
  'weights',
  'TracerSet: z ascending; tracers [{name (unique), family, code, index?, ellFactor, power, noise >= 0}]; W a DualArray of ' +
    'nTracers*nz values (row-major tracer-by-z); multiplicative a DualArray of nTracers values; z_max',
  checkTracerSet,
);
