/**
 * The expression layer: array arithmetic written once, as values, that yields forward tangents or a reverse
 * vector-Jacobian product — the way jax-cosmo's physics carries no derivative code.
 *
 *   const e = new Expr(P);                 // forward mode: P tangent directions
 *   const x = e.array(input), a = e.scalar(ctx.param('A'));
 *   const y = e.mul(a, e.exp(x));          // values + tangents, block by block
 *   e.toDualArray(y)                       // -> DualArray for the stage output
 *
 *   const r = new Expr(0, 'reverse');      // reverse mode: the same code records a tape
 *   ...same lines...;  r.backward([[y, ybar]]);  r.bar(x), r.bar(a)   // cotangents of the leaves
 *
 * A value is a `Vec` of n numbers (n = 1: a scalar, broadcast against vectors). In forward mode it carries one
 * tangent block per direction, `null` where that block is identically zero (a bias b_i touches one row; P(k)
 * depends on few parameters): every operation skips zero blocks, so the cost follows the directions that
 * matter, as the hand-written kernels do. In reverse mode operations append their transpose to a tape that
 * `backward` walks once. Linear operators of the caller's choosing (a cumulative integral, an interpolation,
 * a quadrature rule) enter through `linear`, with their transpose.
 *
 * Each operation allocates its output arrays (n values and one array per live block); nothing per element.
 */
import type { Dual } from './dual.js';
import type { DualArray } from './dual-array.js';

export interface Vec {
  readonly n: number;
  readonly v: Float64Array;
  /** Forward mode: tangent blocks (null = zero); reverse mode: null. */
  readonly t: readonly (Float64Array | null)[] | null;
  /** Position on the tape (reverse mode). */
  readonly id: number;
}

type Back = (bar: Float64Array) => void;

/**
 * Work arrays returned by disposed expressions, by length, for the next evaluation (a sampler calls the same
 * stage thousands of times with the same grids): no allocation and no garbage in the steady state. Bounded.
 */
const POOL = new Map<number, Float64Array[]>();
const POOL_MAX_PER_LENGTH = 1024;

export class Expr {
  readonly reverse: boolean;
  private readonly back: (Back | null)[] = [];
  private readonly bars: (Float64Array | null)[] = [];
  private readonly sizes: number[] = [];
  /** Arrays this expression took from the pool or allocated (returned by dispose()). */
  private readonly owned: Float64Array[] = [];
  /** Reverse mode: does the value depend on a leaf (constants collect no bar)? */
  private readonly live: boolean[] = [];

  constructor(readonly P: number, mode: 'forward' | 'reverse' = 'forward') {
    this.reverse = mode === 'reverse';
    if (this.reverse) this.P = 0;
  }

  /** A work array of length n (zeroed when asked: accumulators; the other callers write every element). */
  private alloc(n: number, zero = false): Float64Array {
    const free = POOL.get(n);
    const a = free && free.length ? free.pop()! : new Float64Array(n);
    if (zero && free !== undefined) a.fill(0);
    this.owned.push(a);
    return a;
  }

  /**
   * Give this expression's work arrays back to the pool. Call it once the results are copied out (toDualArray
   * and toDual copy; bar() and the Vecs' arrays do not): afterwards no Vec or bar of this expression may be read.
   */
  dispose(): void {
    for (const a of this.owned) {
      let free = POOL.get(a.length);
      if (!free) POOL.set(a.length, (free = []));
      if (free.length < POOL_MAX_PER_LENGTH) free.push(a);
    }
    this.owned.length = 0;
  }

  // -------------------------------------------------------------------------------------------------------
  // leaves

  private node(v: Float64Array, t: (Float64Array | null)[] | null, back: Back | null, live = true): Vec {
    const id = this.back.length;
    if (this.reverse) {
      this.back.push(back);
      this.bars.push(null);
      this.sizes.push(v.length);
      this.live.push(live);
    }
    return { n: v.length, v, t: this.reverse ? null : t, id };
  }

  /** Reverse mode: whether any of the inputs depends on a leaf. */
  private anyLive(...xs: Vec[]): boolean {
    if (!this.reverse) return true;
    for (const x of xs) if (this.live[x.id]) return true;
    return false;
  }

  private noBlocks(): (Float64Array | null)[] {
    return new Array<Float64Array | null>(this.P).fill(null);
  }

  /** A constant (no tangent, no bar). */
  constant(v: Float64Array | number): Vec {
    return this.node(typeof v === 'number' ? Float64Array.of(v) : v, this.noBlocks(), null, false);
  }

  /** A scalar leaf (a parameter): a Dual's tangent components become blocks of length 1; a number has none. */
  scalar(d: Dual | number): Vec {
    if (typeof d === 'number') d = { v: d, d: null };
    const t = this.noBlocks();
    if (d.d && !this.reverse && this.P > 0) {
      if (d.d.length !== this.P) throw new Error(`Expr: a scalar carries ${d.d.length} tangent components, expected ${this.P}`);
      for (let p = 0; p < this.P; p++) if (d.d[p] !== 0) t[p] = Float64Array.of(d.d[p]);
    }
    return this.node(Float64Array.of(d.v), t, null);
  }

  /** A whole DualArray (its tangent blocks that are identically zero become null). */
  array(a: DualArray): Vec {
    return this.row(a, 1, 0);
  }

  /** Row i of a DualArray holding `rows` rows of equal length (e.g. one tomographic bin of n(z)). */
  row(a: DualArray, rows: number, i: number): Vec {
    const n = a.value.length / rows;
    if (!Number.isInteger(n)) throw new Error(`Expr.row: ${a.value.length} values do not make ${rows} rows`);
    const v = a.value.subarray(i * n, (i + 1) * n);
    const t = this.noBlocks();
    // a values-only expression (P = 0) ignores the tangents its inputs carry
    if (a.tangent && !this.reverse && this.P > 0) {
      if (a.P !== this.P) throw new Error(`Expr: an array carries ${a.P} tangent blocks, expected ${this.P}`);
      for (let p = 0; p < this.P; p++) {
        const o = p * a.value.length + i * n;
        const b = a.tangent.subarray(o, o + n);
        for (let k = 0; k < n; k++) if (b[k] !== 0) { t[p] = b; break; }
      }
    }
    return this.node(v, t, null);
  }

  // -------------------------------------------------------------------------------------------------------
  // reverse mode

  private accumulate(x: Vec, bar: Float64Array, scaleBy?: Float64Array, sScale = 1): void {
    if (!this.reverse || !this.live[x.id]) return;
    let b = this.bars[x.id];
    if (!b) this.bars[x.id] = b = this.alloc(this.sizes[x.id], true);
    const n = bar.length;
    if (b.length === n && (!scaleBy || scaleBy.length === n)) {
      // the common case, array into array of the same length: loops without broadcast strides
      if (scaleBy) {
        if (sScale === 1) for (let i = 0; i < n; i++) b[i] += bar[i] * scaleBy[i];
        else for (let i = 0; i < n; i++) b[i] += bar[i] * scaleBy[i] * sScale;
      } else if (sScale === 1) for (let i = 0; i < n; i++) b[i] += bar[i];
      else for (let i = 0; i < n; i++) b[i] += bar[i] * sScale;
      return;
    }
    if (b.length === 1 && n > 1) {
      let s = 0;
      if (scaleBy) { const st = scaleBy.length === 1 ? 0 : 1; for (let i = 0; i < n; i++) s += bar[i] * scaleBy[i * st]; }
      else for (let i = 0; i < n; i++) s += bar[i];
      b[0] += s * sScale;
    } else if (scaleBy) {
      const st = scaleBy.length === 1 ? 0 : 1;
      if (n === 1 && b.length > 1) for (let i = 0; i < b.length; i++) b[i] += bar[0] * scaleBy[i * st] * sScale;
      else for (let i = 0; i < n; i++) b[i] += bar[i] * scaleBy[i * st] * sScale;
    } else if (n === 1 && b.length > 1) for (let i = 0; i < b.length; i++) b[i] += bar[0] * sScale;
    else for (let i = 0; i < n; i++) b[i] += bar[i] * sScale;
  }

  /** The bar array of a live value (created on first use), or null for a constant. */
  private barFor(x: Vec): Float64Array | null {
    if (!this.reverse || !this.live[x.id]) return null;
    let b = this.bars[x.id];
    if (!b) this.bars[x.id] = b = this.alloc(this.sizes[x.id], true);
    return b;
  }

  /** Seed the bars of outputs and walk the tape backwards once. */
  backward(seeds: readonly (readonly [Vec, Float64Array])[]): void {
    if (!this.reverse) throw new Error('Expr.backward: this expression was built in forward mode');
    for (const [x, b] of seeds) {
      if (b.length !== x.n) throw new Error(`Expr.backward: a bar of ${b.length} values for an output of ${x.n}`);
      this.accumulate(x, b);
    }
    for (let id = this.back.length - 1; id >= 0; id--) {
      const bar = this.bars[id], back = this.back[id];
      if (bar && back) back(bar);
    }
  }

  /** The cotangent of a value after `backward` (zeros if nothing reached it). */
  bar(x: Vec): Float64Array {
    return this.bars[x.id] ?? new Float64Array(x.n);
  }

  /** The cotangent of a scalar. */
  barScalar(x: Vec): number {
    return this.bars[x.id]?.[0] ?? 0;
  }

  // -------------------------------------------------------------------------------------------------------
  // elementwise operations (n = 1 broadcasts)

  private size(a: Vec, b: Vec): number {
    if (a.n !== b.n && a.n !== 1 && b.n !== 1) throw new Error(`Expr: cannot combine ${a.n} and ${b.n} values`);
    return Math.max(a.n, b.n);
  }

  /**
   * Forward tangent blocks of a result whose derivative is fa da + fb db (fa, fb: arrays of n values, or of one
   * value broadcast): one pass per block where either input's block is live; null in reverse mode.
   */
  private pairBlocks(a: Vec, fa: Float64Array, b: Vec, fb: Float64Array, n: number): (Float64Array | null)[] | null {
    if (this.reverse) return null;
    const sa = a.n === 1 ? 0 : 1, sb = b.n === 1 ? 0 : 1, sfa = fa.length === 1 ? 0 : 1, sfb = fb.length === 1 ? 0 : 1;
    const t = this.noBlocks();
    for (let p = 0; p < this.P; p++) {
      const ta = a.t![p], tb = b.t![p];
      if (!ta && !tb) continue;
      const o = this.alloc(n, true);
      if (ta) for (let i = 0; i < n; i++) o[i] = ta[i * sa] * fa[i * sfa];
      if (tb) for (let i = 0; i < n; i++) o[i] += tb[i * sb] * fb[i * sfb];
      t[p] = o;
    }
    return t;
  }

  /** c_a a + c_b b */
  private lin2(a: Vec, ca: number, b: Vec, cb: number): Vec {
    const n = this.size(a, b), sa = a.n === 1 ? 0 : 1, sb = b.n === 1 ? 0 : 1;
    const v = this.alloc(n);
    if (sa && sb) for (let i = 0; i < n; i++) v[i] = ca * a.v[i] + cb * b.v[i];
    else for (let i = 0; i < n; i++) v[i] = ca * a.v[i * sa] + cb * b.v[i * sb];
    const t = this.pairBlocks(a, Float64Array.of(ca), b, Float64Array.of(cb), n);
    return this.node(v, t, (bar) => { this.accumulate(a, bar, undefined, ca); this.accumulate(b, bar, undefined, cb); }, this.anyLive(a, b));
  }

  add(a: Vec, b: Vec): Vec { return this.lin2(a, 1, b, 1); }
  sub(a: Vec, b: Vec): Vec { return this.lin2(a, 1, b, -1); }
  neg(a: Vec): Vec { return this.scale(a, -1); }
  /** c a for a plain number c. */
  scale(a: Vec, c: number): Vec { return this.map(a, (x) => c * x, () => c); }

  mul(a: Vec, b: Vec): Vec {
    const n = this.size(a, b), sa = a.n === 1 ? 0 : 1, sb = b.n === 1 ? 0 : 1;
    const v = this.alloc(n);
    const av = a.v, bv = b.v;
    if (sa && sb) for (let i = 0; i < n; i++) v[i] = av[i] * bv[i];
    else if (sb) { const c = av[0]; for (let i = 0; i < n; i++) v[i] = c * bv[i]; }
    else if (sa) { const c = bv[0]; for (let i = 0; i < n; i++) v[i] = av[i] * c; }
    else v[0] = av[0] * bv[0];
    const t = this.pairBlocks(a, bv, b, av, n);
    return this.node(v, t, (bar) => { this.accumulate(a, bar, bv); this.accumulate(b, bar, av); }, this.anyLive(a, b));
  }

  /** a + s b c for a plain sign or factor s (one pass instead of two: a hot pattern, e.g. A - chi B). */
  addmul(a: Vec, b: Vec, c: Vec, s = 1): Vec {
    const n = Math.max(this.size(a, b), this.size(b, c), this.size(a, c));
    const sa = a.n === 1 ? 0 : 1, sb = b.n === 1 ? 0 : 1, sc = c.n === 1 ? 0 : 1;
    const av = a.v, bv = b.v, cv = c.v;
    const v = this.alloc(n);
    if (sa && sb && sc) for (let i = 0; i < n; i++) v[i] = av[i] + s * bv[i] * cv[i];
    else for (let i = 0; i < n; i++) v[i] = av[i * sa] + s * bv[i * sb] * cv[i * sc];
    let t: (Float64Array | null)[] | null = null;
    if (!this.reverse) {
      t = this.noBlocks();
      for (let p = 0; p < this.P; p++) {
        const ta = a.t![p], tb = b.t![p], tc = c.t![p];
        if (!ta && !tb && !tc) continue;
        const o = this.alloc(n);
        for (let i = 0; i < n; i++)
          o[i] = (ta ? ta[i * sa] : 0) + s * ((tb ? tb[i * sb] * cv[i * sc] : 0) + (tc ? bv[i * sb] * tc[i * sc] : 0));
        t[p] = o;
      }
    }
    return this.node(v, t, (bar) => {
      this.accumulate(a, bar);
      this.accumulate(b, bar, cv, s);
      this.accumulate(c, bar, bv, s);
    }, this.anyLive(a, b, c));
  }

  div(a: Vec, b: Vec): Vec {
    const n = this.size(a, b), sa = a.n === 1 ? 0 : 1, sb = b.n === 1 ? 0 : 1;
    const v = this.alloc(n);
    const av = a.v, bv = b.v;
    if (sa && sb) for (let i = 0; i < n; i++) v[i] = av[i] / bv[i];
    else for (let i = 0; i < n; i++) v[i] = av[i * sa] / bv[i * sb];
    let t: (Float64Array | null)[] | null = null;
    if (!this.reverse) {
      t = this.noBlocks();
      for (let p = 0; p < this.P; p++) {
        const ta = a.t![p], tb = b.t![p];
        if (!ta && !tb) continue;
        const o = this.alloc(n);
        // d(a/b) = (da - (a/b) db) / b
        for (let i = 0; i < n; i++) o[i] = ((ta ? ta[i * sa] : 0) - (tb ? v[i] * tb[i * sb] : 0)) / bv[i * sb];
        t[p] = o;
      }
    }
    return this.node(v, t, (bar) => {
      // abar += bar / b,  bbar -= bar a / b^2 = bar (a/b) / b
      const ab = this.barFor(a), bb = this.barFor(b);
      for (let i = 0; i < n; i++) {
        const g = bar[i] / bv[i * sb];
        if (ab) ab[i * sa] += g;
        if (bb) bb[i * sb] -= g * v[i];
      }
    }, this.anyLive(a, b));
  }

  /** f(a) elementwise, given f and f' (f' may use the value fa = f(a)). */
  map(a: Vec, f: (x: number) => number, df: (x: number, fx: number) => number): Vec {
    const n = a.n;
    const v = this.alloc(n), g = this.alloc(n);
    for (let i = 0; i < n; i++) { v[i] = f(a.v[i]); g[i] = df(a.v[i], v[i]); }
    let t: (Float64Array | null)[] | null = null;
    if (!this.reverse) {
      t = this.noBlocks();
      for (let p = 0; p < this.P; p++) {
        const ta = a.t![p];
        if (!ta) continue;
        const o = this.alloc(n);
        for (let i = 0; i < n; i++) o[i] = g[i] * ta[i];
        t[p] = o;
      }
    }
    return this.node(v, t, (bar) => this.accumulate(a, bar, g), this.anyLive(a));
  }

  exp(a: Vec): Vec { return this.map(a, Math.exp, (_x, fx) => fx); }
  log(a: Vec): Vec { return this.map(a, Math.log, (x) => 1 / x); }
  sqrt(a: Vec): Vec { return this.map(a, Math.sqrt, (_x, fx) => 0.5 / fx); }
  /** a^c for a plain number c. */
  powc(a: Vec, c: number): Vec { return this.map(a, (x) => Math.pow(x, c), (x) => c * Math.pow(x, c - 1)); }
  /** a^b with a > 0 and b a value (e.g. a parameter): exp(b ln a). */
  pow(a: Vec, b: Vec): Vec { return this.exp(this.mul(b, this.log(a))); }

  /**
   * A linear operator y = L x of the caller's choosing (a cumulative integral, an interpolation, a quadrature
   * rule, an extrapolation of the first node): `apply(x, y)` writes L x into y (length m); `applyT(ybar, xbar)`
   * adds L^T ybar to xbar (length x.n).
   */
  linear(x: Vec, m: number, apply: (x: Float64Array, y: Float64Array) => void, applyT: (ybar: Float64Array, xbar: Float64Array) => void): Vec {
    const v = this.alloc(m);
    apply(x.v, v);
    let t: (Float64Array | null)[] | null = null;
    if (!this.reverse) {
      t = this.noBlocks();
      for (let p = 0; p < this.P; p++) {
        const tx = x.t![p];
        if (!tx) continue;
        const o = this.alloc(m, true);
        apply(tx, o);
        t[p] = o;
      }
    }
    return this.node(v, t, (bar) => {
      const xb = this.barFor(x);
      if (xb) applyT(bar, xb); // adds L^T bar into x's bar
    }, this.anyLive(x));
  }

  /** sum_i w_i a_i (a quadrature with weights w). */
  dot(a: Vec, w: Float64Array): Vec {
    if (w.length !== a.n) throw new Error(`Expr.dot: ${w.length} weights for ${a.n} values`);
    return this.linear(a, 1, (x, y) => { let s = 0; for (let i = 0; i < x.length; i++) s += w[i] * x[i]; y[0] = s; }, (yb, xb) => { for (let i = 0; i < xb.length; i++) xb[i] += w[i] * yb[0]; });
  }

  // -------------------------------------------------------------------------------------------------------
  // results

  /** Rows (each of length n, or n = 1 broadcast to `width`) stacked into one DualArray, row-major. */
  toDualArray(rows: readonly Vec[], width?: number): DualArray {
    const n = width ?? Math.max(...rows.map((r) => r.n));
    const N = rows.length * n;
    const value = new Float64Array(N);
    rows.forEach((r, k) => { if (r.n === n) value.set(r.v, k * n); else value.fill(r.v[0], k * n, (k + 1) * n); });
    if (this.reverse || this.P === 0) return { value, tangent: null, P: 0 };
    const tangent = new Float64Array(this.P * N);
    rows.forEach((r, k) => {
      for (let p = 0; p < this.P; p++) {
        const b = r.t![p];
        if (!b) continue;
        if (r.n === n) tangent.set(b, p * N + k * n);
        else tangent.fill(b[0], p * N + k * n, p * N + (k + 1) * n);
      }
    });
    return { value, tangent, P: this.P };
  }

  /** A scalar as a Dual. */
  toDual(x: Vec): Dual {
    if (x.n !== 1) throw new Error(`Expr.toDual: ${x.n} values are not a scalar`);
    if (this.reverse || this.P === 0) return { v: x.v[0], d: null };
    const d = new Float64Array(this.P);
    for (let p = 0; p < this.P; p++) d[p] = x.t![p]?.[0] ?? 0;
    return { v: x.v[0], d };
  }
}
