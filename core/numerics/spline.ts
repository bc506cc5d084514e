/**
 * Interpolating cubic splines in the second-derivative ("moment") form.
 *
 * On [x_i, x_{i+1}] with h_i = x_{i+1} - x_i, A = (x_{i+1} - x)/h_i, B = 1 - A (Press et al.,
 * Numerical Recipes, 3rd ed., eq. 3.3.3):
 *
 *   S(x) = A y_i + B y_{i+1} + [(A^3 - A) m_i + (B^3 - B) m_{i+1}] h_i^2 / 6,
 *
 * with m = S'' at the knots. Continuity of S' gives, for the interior knots i = 1..n-2 (ibid. eq. 3.3.7),
 *
 *   h_{i-1} m_{i-1} + 2 (h_{i-1} + h_i) m_i + h_i m_{i+1} = 6 [(y_{i+1}-y_i)/h_i - (y_i-y_{i-1})/h_{i-1}],
 *
 * closed by the end conditions
 *   natural:     m_0 = m_{n-1} = 0;
 *   not-a-knot:  S''' continuous at x_1 and x_{n-2} (de Boor, A Practical Guide to Splines, ch. IV), i.e.
 *                m_0 = [(h_0 + h_1) m_1 - h_0 m_2] / h_1 and the mirror at the far end.
 * Eliminating m_0 and m_{n-1} leaves a diagonally dominant tridiagonal system for m_1..m_{n-2}, solved
 * by the Thomas algorithm. The elimination factors depend on x only: `splineFactor` computes them once,
 * and `solveSecondDerivs` then costs O(n) per row with no allocation (many rows on one grid: background
 * tables, P(k, z) grids, tangent blocks of a DualArray).
 *
 * Queries outside [x_0, x_{n-1}] extrapolate with the end interval's cubic.
 */

export type SplineBC = 'natural' | 'not-a-knot';

export interface CubicSpline {
  readonly x: Float64Array;
  readonly y: Float64Array;
  /** Second derivatives S'' at the knots. */
  readonly m: Float64Array;
}

/** The x-only part of the spline system, reusable for any number of y rows on the same grid. */
export interface SplineFactor {
  readonly x: Float64Array;
  readonly bc: SplineBC;
  /** Interval widths h_i = x_{i+1} - x_i (n-1). */
  readonly h: Float64Array;
  /** Thomas-algorithm factors for unknown j = i-1 (interior knot i): sub-diagonal, modified super-diagonal, 1/pivot. */
  readonly lower: Float64Array;
  readonly upper: Float64Array;
  readonly invPivot: Float64Array;
}

const BCS: readonly SplineBC[] = ['natural', 'not-a-knot'];

/** Throws unless x is finite and strictly ascending with at least `minN` points. */
export function checkGrid(x: Float64Array, minN: number, what: string): void {
  const n = x.length;
  if (n < minN) throw new Error(`${what}: need at least ${minN} grid points, got ${n}`);
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(x[i])) throw new Error(`${what}: x[${i}] = ${x[i]} is not finite`);
    if (i > 0 && !(x[i] > x[i - 1]))
      throw new Error(`${what}: x must be strictly ascending, but x[${i}] = ${x[i]} <= x[${i - 1}] = ${x[i - 1]}`);
  }
}

/** Factor the spline system on grid x (n >= 4 for not-a-knot, n >= 2 for natural). */
export function splineFactor(x: Float64Array, bc: SplineBC = 'not-a-knot'): SplineFactor {
  if (!BCS.includes(bc)) throw new Error(`cubicSpline: bc must be one of ${BCS.join(', ')}, got '${String(bc)}'`);
  checkGrid(x, bc === 'not-a-knot' ? 4 : 2, `cubicSpline (bc '${bc}')`);
  const n = x.length;
  const h = new Float64Array(n - 1);
  for (let i = 0; i < n - 1; i++) h[i] = x[i + 1] - x[i];
  const k = Math.max(n - 2, 0); // unknowns m_1..m_{n-2}
  const lower = new Float64Array(k);
  const upper = new Float64Array(k);
  const invPivot = new Float64Array(k);
  // Tridiagonal rows for j = 0..k-1 (knot i = j+1): lower_j m_{i-1} + diag_j m_i + upper_j m_{i+1}.
  const diag = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    const i = j + 1;
    lower[j] = h[i - 1];
    diag[j] = 2 * (h[i - 1] + h[i]);
    upper[j] = h[i];
  }
  if (bc === 'not-a-knot') {
    // First row with m_0 eliminated: m_1 (h0+h1)(h0+2h1)/h1 + m_2 (h1^2-h0^2)/h1.
    const h0 = h[0], h1 = h[1];
    diag[0] = ((h0 + h1) * (h0 + 2 * h1)) / h1;
    upper[0] = (h1 * h1 - h0 * h0) / h1;
    // Last row with m_{n-1} eliminated (a = h_{n-3}, b = h_{n-2}):
    // m_{n-3} (a^2-b^2)/a + m_{n-2} (a+b)(2a+b)/a. For n = 4 both rows are modified.
    const a = h[n - 3], b = h[n - 2];
    lower[k - 1] = (a * a - b * b) / a;
    diag[k - 1] = ((a + b) * (2 * a + b)) / a;
  }
  // Forward elimination (Thomas): pivot_j = diag_j - lower_j * upper'_{j-1}, upper'_j = upper_j / pivot_j.
  for (let j = 0; j < k; j++) {
    const piv = diag[j] - (j > 0 ? lower[j] * upper[j - 1] : 0);
    invPivot[j] = 1 / piv;
    upper[j] *= invPivot[j];
  }
  return { x, bc, h, lower, upper, invPivot };
}

/**
 * Second derivatives for the row y[yOffset .. yOffset+n) into out[outOffset .. outOffset+n).
 * O(n), no allocation. `out` must not overlap the y row.
 */
export function solveSecondDerivs(f: SplineFactor, y: ArrayLike<number>, yOffset: number, out: Float64Array, outOffset: number): void {
  const n = f.x.length;
  const h = f.h, lower = f.lower, upper = f.upper, invPivot = f.invPivot;
  const k = n - 2;
  const o = outOffset, yo = yOffset;
  if (k <= 0) {
    out[o] = 0;
    out[o + n - 1] = 0;
    return;
  }
  // Right-hand side 6 * (difference of slopes), forward sweep in place at out[o+1 .. o+n-2].
  let slopePrev = (y[yo + 1] - y[yo]) / h[0];
  for (let j = 0; j < k; j++) {
    const i = j + 1;
    const slope = (y[yo + i + 1] - y[yo + i]) / h[i];
    const r = 6 * (slope - slopePrev);
    slopePrev = slope;
    out[o + i] = (r - (j > 0 ? lower[j] * out[o + i - 1] : 0)) * invPivot[j];
  }
  // Back substitution.
  for (let j = k - 2; j >= 0; j--) out[o + j + 1] -= upper[j] * out[o + j + 2];
  if (f.bc === 'natural') {
    out[o] = 0;
    out[o + n - 1] = 0;
  } else {
    const h0 = h[0], h1 = h[1], a = h[n - 3], b = h[n - 2];
    out[o] = ((h0 + h1) * out[o + 1] - h0 * out[o + 2]) / h1;
    out[o + n - 1] = ((a + b) * out[o + n - 2] - b * out[o + n - 3]) / a;
  }
}

/**
 * The same solve for `count` rows at once: knot i of row r at y[yOffset + i * knotStride + r * rowStride], and
 * the second derivatives into out at the same layout (offset outOffset) — interleaved columns of a knot-major
 * table (knotStride = count, rowStride = 1: a z-major P(k, z) table, one spline in z per k) or rows of a
 * row-major one (knotStride = 1, rowStride = n: a tracer-by-z kernel table). The elimination runs over the knots
 * with the rows innermost, so the rows' recurrences (chains of dependent multiply-adds, which alone run at the
 * latency of the chain) proceed side by side, with no transposes; each row gets exactly the arithmetic of
 * solveSecondDerivs. O(n * count), no allocation; `out` must not overlap y.
 */
export function solveSecondDerivsMany(
  f: SplineFactor, y: ArrayLike<number>, yOffset: number, count: number, knotStride: number, rowStride: number, out: Float64Array, outOffset: number,
): void {
  const n = f.x.length;
  const h = f.h, lower = f.lower, upper = f.upper, invPivot = f.invPivot;
  const k = n - 2;
  const ks = knotStride, rs = rowStride, R = count;
  const at = (base: number, i: number) => base + i * ks;
  if (k <= 0) {
    for (let r = 0, o = outOffset; r < R; r++, o += rs) { out[o] = 0; out[at(o, n - 1)] = 0; }
    return;
  }
  for (let j = 0; j < k; j++) {
    const i = j + 1;
    const hi = h[i], hp = h[i - 1], lo = j > 0 ? lower[j] : 0, ip = invPivot[j];
    for (let r = 0, yr = at(yOffset, i), or = at(outOffset, i); r < R; r++, yr += rs, or += rs) {
      const slope = (y[yr + ks] - y[yr]) / hi, slopePrev = (y[yr] - y[yr - ks]) / hp;
      const rr = 6 * (slope - slopePrev);
      out[or] = (rr - (j > 0 ? lo * out[or - ks] : 0)) * ip;
    }
  }
  for (let j = k - 2; j >= 0; j--) {
    const u = upper[j];
    for (let r = 0, a = at(outOffset, j + 1); r < R; r++, a += rs) out[a] -= u * out[a + ks];
  }
  if (f.bc === 'natural') {
    for (let r = 0, o = outOffset; r < R; r++, o += rs) { out[o] = 0; out[at(o, n - 1)] = 0; }
  } else {
    const h0 = h[0], h1 = h[1], a = h[n - 3], b = h[n - 2];
    for (let r = 0, o = outOffset; r < R; r++, o += rs) {
      out[o] = ((h0 + h1) * out[o + ks] - h0 * out[o + 2 * ks]) / h1;
      out[at(o, n - 1)] = ((a + b) * out[at(o, n - 2)] - b * out[at(o, n - 3)]) / a;
    }
  }
}

/** solveSecondDerivsMany for `nCols` interleaved columns of a knot-major table (knot i, column c at i * nCols + c). */
export function solveSecondDerivsColumns(f: SplineFactor, y: ArrayLike<number>, yOffset: number, nCols: number, out: Float64Array, outOffset: number): void {
  solveSecondDerivsMany(f, y, yOffset, nCols, nCols, 1, out, outOffset);
}

/**
 * Second derivatives at the knots. Pass a SplineFactor instead of x to reuse the factorisation for many
 * rows on one grid (then `bc` is ignored: the factor's own is used).
 */
export function splineSecondDerivs(
  x: Float64Array | SplineFactor,
  y: Float64Array,
  bc: SplineBC = 'not-a-knot',
  out?: Float64Array,
): Float64Array {
  const f = x instanceof Float64Array ? splineFactor(x, bc) : x;
  const n = f.x.length;
  if (y.length !== n) throw new Error(`cubicSpline: y has ${y.length} values but x has ${n}`);
  const m = out ?? new Float64Array(n);
  if (m.length < n) throw new Error(`cubicSpline: out has length ${m.length} < ${n}`);
  solveSecondDerivs(f, y, 0, m, 0);
  return m;
}

/** Interpolating cubic spline through (x, y); default end condition not-a-knot. */
export function cubicSpline(x: Float64Array, y: Float64Array, bc: SplineBC = 'not-a-knot'): CubicSpline {
  const m = splineSecondDerivs(x, y, bc);
  for (let i = 0; i < y.length; i++)
    if (!Number.isFinite(y[i])) throw new Error(`cubicSpline: y[${i}] = ${y[i]} (at x = ${x[i]}) is not finite`);
  return { x, y, m };
}

/**
 * Index i with x[i] <= xq < x[i+1], clamped to [0, n-2] (queries below x[0] give 0, at or above
 * x[n-2] give n-2). With a hint (the previous answer) monotone query sequences cost O(1) amortised:
 * a short forward walk, then bisection.
 */
export function findInterval(x: Float64Array, xq: number, hint = 0): number {
  const n = x.length;
  const last = n - 2;
  if (last <= 0) return 0;
  if (xq >= x[last]) return last;
  if (!(xq >= x[1])) return 0; // also NaN
  let lo = 0, hi = last; // invariant: x[lo] <= xq < x[hi+1] region, bisection on [lo, hi]
  if (hint > 0 && hint < last) {
    if (xq >= x[hint]) {
      // walk forward a few steps (monotone queries), else bisect above the hint
      for (let s = 0; s < 4; s++, hint++) if (xq < x[hint + 1]) return hint;
      lo = hint;
    } else {
      hi = hint - 1;
    }
  }
  // x[lo] <= xq < x[hi+1]
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (xq >= x[mid]) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Value of the cubic of interval i at xq, for rows stored at offsets (y at yo, m at mo). */
export function evalInterval(x: Float64Array, y: ArrayLike<number>, yo: number, m: ArrayLike<number>, mo: number, i: number, xq: number): number {
  const h = x[i + 1] - x[i];
  const A = (x[i + 1] - xq) / h;
  const B = 1 - A;
  return A * y[yo + i] + B * y[yo + i + 1] + ((A * A * A - A) * m[mo + i] + (B * B * B - B) * m[mo + i + 1]) * (h * h) / 6;
}

/** dS/dx of the cubic of interval i at xq. */
export function derivInterval(x: Float64Array, y: ArrayLike<number>, yo: number, m: ArrayLike<number>, mo: number, i: number, xq: number): number {
  const h = x[i + 1] - x[i];
  const A = (x[i + 1] - xq) / h;
  const B = 1 - A;
  return (y[yo + i + 1] - y[yo + i]) / h + (((3 * B * B - 1) * m[mo + i + 1] - (3 * A * A - 1) * m[mo + i]) * h) / 6;
}

/** Integral of the cubic of interval i from x_i to xq (xq may lie outside the interval). */
function partialIntegral(s: CubicSpline, i: number, xq: number): number {
  const { x, y, m } = s;
  const h = x[i + 1] - x[i];
  const B = (xq - x[i]) / h;
  const A = 1 - B;
  const A2 = A * A, B2 = B * B;
  return (
    h * (y[i] * (B - 0.5 * B2) + y[i + 1] * 0.5 * B2) +
    ((h * h * h) / 6) * (m[i] * (0.5 * A2 - 0.25 * A2 * A2 - 0.25) + m[i + 1] * (0.25 * B2 * B2 - 0.5 * B2))
  );
}

/** Integral over the whole interval i: h (y_i + y_{i+1})/2 - h^3 (m_i + m_{i+1})/24. */
function fullIntegral(s: CubicSpline, i: number): number {
  const h = s.x[i + 1] - s.x[i];
  return 0.5 * h * (s.y[i] + s.y[i + 1]) - (h * h * h * (s.m[i] + s.m[i + 1])) / 24;
}

export function splineEval(s: CubicSpline, xq: number): number {
  return evalInterval(s.x, s.y, 0, s.m, 0, findInterval(s.x, xq), xq);
}

/** Evaluate at many points; monotone queries walk the grid once (O(n + m)). */
export function splineEvalMany(s: CubicSpline, xq: Float64Array, out?: Float64Array): Float64Array {
  const r = out ?? new Float64Array(xq.length);
  let i = 0;
  for (let j = 0; j < xq.length; j++) {
    i = findInterval(s.x, xq[j], i);
    r[j] = evalInterval(s.x, s.y, 0, s.m, 0, i, xq[j]);
  }
  return r;
}

export function splineDeriv(s: CubicSpline, xq: number): number {
  return derivInterval(s.x, s.y, 0, s.m, 0, findInterval(s.x, xq), xq);
}

/** Integral of the spline over [a, b] (a > b gives the negative; beyond the grid the end cubics extend). */
export function splineIntegral(s: CubicSpline, a: number, b: number): number {
  if (a > b) return -splineIntegral(s, b, a);
  const ia = findInterval(s.x, a);
  const ib = findInterval(s.x, b, ia);
  if (ia === ib) return partialIntegral(s, ib, b) - partialIntegral(s, ia, a);
  let sum = fullIntegral(s, ia) - partialIntegral(s, ia, a);
  for (let i = ia + 1; i < ib; i++) sum += fullIntegral(s, i);
  return sum + partialIntegral(s, ib, b);
}
