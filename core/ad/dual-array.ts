/**
 * DualArray: a Float64Array of n values plus, optionally, P tangent blocks laid out parameter-major:
 * tangent[p*n + i] = d value[i] / d theta_p. A plain object (no hidden state), so it can be memoized,
 * written to disk and sent to a worker as is.
 *
 * The operations below loop over value and tangent once, allocate only their output (or write into
 * `out`), and skip the tangent work when every input is a constant (tangent === null).
 */
import type { Dual } from './dual.js';

export interface DualArray {
  readonly value: Float64Array;
  /** P*n entries, parameter-major; null for a constant array. */
  readonly tangent: Float64Array | null;
  /** Number of tangent blocks (0 when tangent is null). */
  readonly P: number;
}

export const constArray = (value: Float64Array): DualArray => ({ value, tangent: null, P: 0 });

export function zerosDual(n: number, P: number): DualArray {
  return { value: new Float64Array(n), tangent: P > 0 ? new Float64Array(P * n) : null, P };
}

/** Number of tangent blocks shared by a set of inputs (constants contribute nothing). */
function blocks(...xs: (DualArray | Dual | null | undefined)[]): number {
  let P = 0;
  for (const x of xs) {
    if (!x) continue;
    const q = 'value' in x ? x.P : x.d ? x.d.length : 0;
    if (q > 0) {
      if (P > 0 && q !== P) throw new Error(`DualArray: tangent sizes differ (${P} vs ${q})`);
      P = q;
    }
  }
  return P;
}

/** Block p of the tangent as a view (length n). */
export function tangentBlock(x: DualArray, p: number): Float64Array {
  const n = x.value.length;
  if (!x.tangent) return new Float64Array(n);
  return x.tangent.subarray(p * n, (p + 1) * n);
}

/**
 * Elementwise unary map given f(x) and f'(x) computed in one pass: fn(x) returns f(x) and writes
 * f'(x) into scratch[0]. Used by exp/log/pow/sqrt and by plugins with a closed-form derivative.
 */
export function mapUnary(x: DualArray, f: (v: number) => number, df: (v: number, fv: number) => number): DualArray {
  const n = x.value.length;
  const P = x.P;
  const value = new Float64Array(n);
  for (let i = 0; i < n; i++) value[i] = f(x.value[i]);
  if (!x.tangent) return { value, tangent: null, P: 0 };
  const tangent = new Float64Array(P * n);
  const xt = x.tangent;
  for (let i = 0; i < n; i++) {
    const g = df(x.value[i], value[i]);
    for (let p = 0, j = i; p < P; p++, j += n) tangent[j] = g * xt[j];
  }
  return { value, tangent, P };
}

export const expA = (x: DualArray) => mapUnary(x, Math.exp, (_v, fv) => fv);
export const logA = (x: DualArray) => mapUnary(x, Math.log, (v) => 1 / v);
export const sqrtA = (x: DualArray) => mapUnary(x, Math.sqrt, (_v, fv) => 0.5 / fv);
export const powCA = (x: DualArray, c: number) => mapUnary(x, (v) => Math.pow(v, c), (v) => c * Math.pow(v, c - 1));

/** a*x + b*y elementwise, with a, b scalar duals (either array may be null = 0). */
export function axpby(a: Dual, x: DualArray | null, b: Dual, y: DualArray | null): DualArray {
  const n = (x ?? y)!.value.length;
  const P = blocks(a, x, b, y);
  const value = new Float64Array(n);
  if (x) for (let i = 0; i < n; i++) value[i] = a.v * x.value[i];
  if (y) for (let i = 0; i < n; i++) value[i] += b.v * y.value[i];
  if (P === 0) return { value, tangent: null, P: 0 };
  const t = new Float64Array(P * n);
  for (const [s, z] of [[a, x], [b, y]] as [Dual, DualArray | null][]) {
    if (!z) continue;
    if (z.tangent) for (let j = 0; j < P * n; j++) t[j] += s.v * z.tangent[j];
    if (s.d) for (let p = 0; p < P; p++) {
      const sp = s.d[p];
      if (sp !== 0) for (let i = 0, j = p * n; i < n; i++, j++) t[j] += sp * z.value[i];
    }
  }
  return { value, tangent: t, P };
}

/** x + y */
export function addA(x: DualArray, y: DualArray): DualArray {
  const n = x.value.length;
  const P = blocks(x, y);
  const value = new Float64Array(n);
  for (let i = 0; i < n; i++) value[i] = x.value[i] + y.value[i];
  if (P === 0) return { value, tangent: null, P: 0 };
  const t = new Float64Array(P * n);
  if (x.tangent) t.set(x.tangent);
  if (y.tangent) for (let j = 0; j < P * n; j++) t[j] += y.tangent[j];
  return { value, tangent: t, P };
}

/** x * y elementwise */
export function mulA(x: DualArray, y: DualArray): DualArray {
  const n = x.value.length;
  const P = blocks(x, y);
  const value = new Float64Array(n);
  for (let i = 0; i < n; i++) value[i] = x.value[i] * y.value[i];
  if (P === 0) return { value, tangent: null, P: 0 };
  const t = new Float64Array(P * n);
  for (let p = 0; p < P; p++) {
    const o = p * n;
    if (x.tangent) for (let i = 0; i < n; i++) t[o + i] = x.tangent[o + i] * y.value[i];
    if (y.tangent) for (let i = 0; i < n; i++) t[o + i] += x.value[i] * y.tangent[o + i];
  }
  return { value, tangent: t, P };
}

/** x / y elementwise */
export function divA(x: DualArray, y: DualArray): DualArray {
  const n = x.value.length;
  const P = blocks(x, y);
  const value = new Float64Array(n);
  for (let i = 0; i < n; i++) value[i] = x.value[i] / y.value[i];
  if (P === 0) return { value, tangent: null, P: 0 };
  const t = new Float64Array(P * n);
  for (let p = 0; p < P; p++) {
    const o = p * n;
    if (x.tangent) for (let i = 0; i < n; i++) t[o + i] = x.tangent[o + i] / y.value[i];
    if (y.tangent) for (let i = 0; i < n; i++) t[o + i] -= (value[i] * y.tangent[o + i]) / y.value[i];
  }
  return { value, tangent: t, P };
}

/** s * x with s a scalar dual */
export function scaleA(x: DualArray, s: Dual): DualArray {
  return axpby(s, x, { v: 0, d: null }, null);
}

/** Multiply by a constant (no-tangent) weight array elementwise. */
export function mulConst(x: DualArray, w: Float64Array): DualArray {
  return mulA(x, constArray(w));
}

/** sum_i w_i x_i as a scalar dual (a definite integral given quadrature weights w). */
export function weightedSum(x: DualArray, w: Float64Array): Dual {
  const n = x.value.length;
  let v = 0;
  for (let i = 0; i < n; i++) v += w[i] * x.value[i];
  if (!x.tangent) return { v, d: null };
  const d = new Float64Array(x.P);
  for (let p = 0; p < x.P; p++) {
    let s = 0;
    const o = p * n;
    for (let i = 0; i < n; i++) s += w[i] * x.tangent[o + i];
    d[p] = s;
  }
  return { v, d };
}

/** Element i as a scalar dual. */
export function at(x: DualArray, i: number): Dual {
  if (!x.tangent) return { v: x.value[i], d: null };
  const n = x.value.length;
  const d = new Float64Array(x.P);
  for (let p = 0; p < x.P; p++) d[p] = x.tangent[p * n + i];
  return { v: x.value[i], d };
}

/** Build a DualArray from a value array and a function filling tangent block p. */
export function fromBlocks(value: Float64Array, P: number, fill: (p: number, block: Float64Array) => void): DualArray {
  if (P === 0) return { value, tangent: null, P: 0 };
  const n = value.length;
  const tangent = new Float64Array(P * n);
  for (let p = 0; p < P; p++) fill(p, tangent.subarray(p * n, (p + 1) * n));
  return { value, tangent, P };
}

/** Indices of the tangent blocks that are not identically zero (sparsity: most parameters touch few stages). */
export function nonzeroBlocks(x: DualArray): number[] {
  if (!x.tangent) return [];
  const n = x.value.length;
  const out: number[] = [];
  for (let p = 0; p < x.P; p++) {
    const t = x.tangent;
    for (let i = p * n, e = i + n; i < e; i++) if (t[i] !== 0) { out.push(p); break; }
  }
  return out;
}
