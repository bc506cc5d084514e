/**
 * Building blocks of the port contracts' checkers (background.ts, power.ts, redshift.ts, tracers-check.ts,
 * spectra.ts, recombination.ts): each appends messages "field: what is wrong" to `out` and allocates nothing
 * per element. They check shapes and lengths, ascending grids and finite scalars; they never scan a large
 * array for NaN (a grid is scanned once, for being ascending, which also catches a NaN in it).
 */
import type { PortContract } from '../../core/plugin/types.js';

export type Messages = string[];

/** Record a message and answer false. */
const no = (out: Messages, message: string): false => {
  out.push(message);
  return false;
};

export const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The output must be an object; when it is not, the one message says what it is. */
export function checkObject(out: Messages, x: unknown, what: string): x is Record<string, unknown> {
  if (isRecord(x)) return true;
  out.push(`(output): is ${x === null ? 'null' : Array.isArray(x) ? 'an array' : typeof x}, expected ${what}`);
  return false;
}

const kindOf = (x: unknown) => (x === null ? 'null' : Array.isArray(x) ? 'an array' : x instanceof Object && x.constructor !== Object ? `a ${x.constructor.name}` : typeof x);

/** A value for a message: a primitive as itself, anything else by its kind ("an array", "a Float64Array", "object"). */
export function show(x: unknown): string {
  switch (typeof x) {
    case 'string': return x;
    case 'number': case 'boolean': case 'bigint': case 'undefined': return String(x);
    case 'symbol': return x.toString();
    default: return kindOf(x);
  }
}

/** `x` is a Float64Array (of `len` entries when given; `lenWhat` names that length, e.g. "nz*nk"). */
export function checkFloat64(out: Messages, path: string, x: unknown, len?: number, lenWhat?: string): x is Float64Array {
  if (x === undefined) return no(out, `${path}: missing`);
  if (!(x instanceof Float64Array)) return no(out, `${path}: is ${kindOf(x)}, expected a Float64Array`);
  if (len !== undefined && x.length !== len) return no(out, `${path}: has ${x.length} entries, expected ${lenWhat ? `${lenWhat} = ` : ''}${len}`);
  return true;
}

/** A grid: a Float64Array of at least `minLength` finite, strictly ascending values. */
export function checkAscending(out: Messages, path: string, x: unknown, minLength = 2): x is Float64Array {
  if (!checkFloat64(out, path, x)) return false;
  if (x.length < minLength) return no(out, `${path}: has ${x.length} entries, expected at least ${minLength}`);
  if (!Number.isFinite(x[0])) return no(out, `${path}[0]: ${x[0]} is not a finite number`);
  for (let i = 1; i < x.length; i++)
    if (!(x[i] > x[i - 1])) {
      out.push(Number.isFinite(x[i]) ? `${path}: not ascending at index ${i} (${x[i]} after ${x[i - 1]})` : `${path}[${i}]: ${x[i]} is not a finite number`);
      return false;
    }
  return true;
}

/**
 * Tangent blocks seen so far in one output: every DualArray and Dual with a tangent must carry the same number
 * of blocks (the runtime's tangent directions), so a stage mixing P = 3 and P = 5 fails here.
 */
export interface Blocks {
  P: number;
  at: string;
}
export const blocks = (): Blocks => ({ P: -1, at: '' });

function sameBlocks(out: Messages, path: string, P: number, b?: Blocks): void {
  if (!b || P === 0) return;
  if (b.P < 0) { b.P = P; b.at = path; return; }
  if (b.P !== P) out.push(`${path}: carries ${P} tangent blocks, but ${b.at} carries ${b.P}`);
}

/**
 * A DualArray {value: Float64Array(n), tangent: Float64Array(P*n) | null, P}: `len`, when given, is the
 * expected n (lenWhat names it: "nBins*nz"). A null tangent is a constant, whatever P says.
 */
export function checkDualArray(out: Messages, path: string, x: unknown, len?: number, lenWhat?: string, b?: Blocks): boolean {
  if (x === undefined) return no(out, `${path}: missing`);
  if (!isRecord(x)) return no(out, `${path}: is ${kindOf(x)}, expected a DualArray {value, tangent, P}`);
  if (!checkFloat64(out, `${path}.value`, x.value, len, lenWhat)) return false;
  const n = x.value.length;
  const t = x.tangent;
  if (t === null) return true;
  if (t === undefined) return no(out, `${path}.tangent: missing (null for a constant)`);
  if (!(t instanceof Float64Array)) return no(out, `${path}.tangent: is ${kindOf(t)}, expected a Float64Array or null`);
  const P = x.P;
  if (typeof P !== 'number' || !Number.isInteger(P) || P < 0) return no(out, `${path}.P: ${show(P)} is not a non-negative integer`);
  if (t.length !== P * n) return no(out, `${path}.tangent: has ${t.length} entries, expected P*n = ${P}*${n} = ${P * n}`);
  sameBlocks(out, `${path}.tangent`, P, b);
  return true;
}

/** A scalar Dual {v: finite number, d: Float64Array | null}. */
export function checkDual(out: Messages, path: string, x: unknown, b?: Blocks): boolean {
  if (x === undefined) return no(out, `${path}: missing`);
  if (!isRecord(x)) return no(out, `${path}: is ${kindOf(x)}, expected a Dual {v, d}`);
  if (typeof x.v !== 'number' || !Number.isFinite(x.v)) return no(out, `${path}.v: ${show(x.v)} is not a finite number`);
  const d = x.d;
  if (d === null) return true;
  if (!(d instanceof Float64Array)) return no(out, `${path}.d: is ${kindOf(d)}, expected a Float64Array or null`);
  sameBlocks(out, `${path}.d`, d.length, b);
  return true;
}

export function checkString(out: Messages, path: string, x: unknown, nonEmpty = true): x is string {
  if (x === undefined) return no(out, `${path}: missing`);
  if (typeof x !== 'string') return no(out, `${path}: is ${kindOf(x)}, expected a string`);
  if (nonEmpty && x === '') return no(out, `${path}: is empty`);
  return true;
}

export function checkFinite(out: Messages, path: string, x: unknown): x is number {
  if (x === undefined) return no(out, `${path}: missing`);
  if (typeof x !== 'number' || !Number.isFinite(x)) return no(out, `${path}: ${typeof x === 'number' ? x : kindOf(x)} is not a finite number`);
  return true;
}

export function checkArray(out: Messages, path: string, x: unknown, len?: number, lenWhat?: string): x is unknown[] {
  if (x === undefined) return no(out, `${path}: missing`);
  if (!Array.isArray(x)) return no(out, `${path}: is ${kindOf(x)}, expected an array`);
  if (len !== undefined && x.length !== len) return no(out, `${path}: has ${x.length} entries, expected ${lenWhat ? `${lenWhat} = ` : ''}${len}`);
  return true;
}

/** A PortContract from a port name, a description and a checker that appends messages. */
export function portContract(port: string, description: string, check: (x: unknown, out: Messages) => void): PortContract {
  return {
    port,
    description,
    check(x: unknown): string[] {
      const out: Messages = [];
      check(x, out);
      return out;
    },
  };
}
