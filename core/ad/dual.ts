/**
 * Scalar forward-mode dual number with P tangent components: x = v + sum_p d[p] eps_p.
 *
 * One object per operation: use it for scalar parameter arithmetic (a handful of operations per
 * stage), never inside a loop over grid points; there use DualArray (core/ad/dual-array.ts).
 * A Dual with `d === null` is a constant (no tangent): operations on constants allocate no tangent.
 */
export interface Dual {
  readonly v: number;
  readonly d: Float64Array | null;
}

export const constant = (v: number): Dual => ({ v, d: null });

/** A parameter seeded with the unit tangent e_p in a space of P parameters (p < 0: constant). */
export function seed(v: number, p: number, P: number): Dual {
  if (p < 0 || P === 0) return { v, d: null };
  const d = new Float64Array(P);
  d[p] = 1;
  return { v, d };
}

/** d(out) = a*d(x) + b*d(y); null when both inputs are constants. */
function lin(x: Dual, a: number, y: Dual | null, b: number): Float64Array | null {
  const dx = x.d;
  const dy = y ? y.d : null;
  if (!dx && !dy) return null;
  const P = (dx ?? dy)!.length;
  const out = new Float64Array(P);
  if (dx) for (let p = 0; p < P; p++) out[p] = a * dx[p];
  if (dy) for (let p = 0; p < P; p++) out[p] += b * dy[p];
  return out;
}

export const add = (x: Dual, y: Dual): Dual => ({ v: x.v + y.v, d: lin(x, 1, y, 1) });
export const sub = (x: Dual, y: Dual): Dual => ({ v: x.v - y.v, d: lin(x, 1, y, -1) });
export const mul = (x: Dual, y: Dual): Dual => ({ v: x.v * y.v, d: lin(x, y.v, y, x.v) });
export const div = (x: Dual, y: Dual): Dual => ({ v: x.v / y.v, d: lin(x, 1 / y.v, y, -x.v / (y.v * y.v)) });
export const addC = (x: Dual, c: number): Dual => ({ v: x.v + c, d: x.d });
export const scale = (x: Dual, c: number): Dual => ({ v: c * x.v, d: lin(x, c, null, 0) });
export const neg = (x: Dual): Dual => scale(x, -1);
/** c / x */
export const recip = (x: Dual, c = 1): Dual => ({ v: c / x.v, d: lin(x, -c / (x.v * x.v), null, 0) });

/** Apply a smooth scalar function given its value and derivative at x.v (the chain rule). */
export const chain = (x: Dual, fv: number, dfdx: number): Dual => ({ v: fv, d: lin(x, dfdx, null, 0) });

export const exp = (x: Dual): Dual => { const e = Math.exp(x.v); return chain(x, e, e); };
export const log = (x: Dual): Dual => chain(x, Math.log(x.v), 1 / x.v);
export const sqrt = (x: Dual): Dual => { const s = Math.sqrt(x.v); return chain(x, s, 0.5 / s); };
export const powC = (x: Dual, c: number): Dual => chain(x, Math.pow(x.v, c), c * Math.pow(x.v, c - 1));
/** x^y with both dual: d = y x^(y-1) dx + x^y ln x dy */
export function pow(x: Dual, y: Dual): Dual {
  const v = Math.pow(x.v, y.v);
  return { v, d: lin(x, y.v * Math.pow(x.v, y.v - 1), y, v * Math.log(x.v)) };
}

/** Tangent component p (0 for a constant). */
export const tangentOf = (x: Dual, p: number): number => (x.d ? x.d[p] : 0);
