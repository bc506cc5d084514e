/**
 * Composite closed Newton-Cotes rules on uniform grids, and the nested-trapezoid driver they share with
 * Romberg integration.
 *
 * With h the node spacing, one panel of each rule is (Abramowitz & Stegun 25.4.1-25.4.14)
 *   trapezoid  h   (1, 1) / 2                         error O(h^2) composite
 *   simpson    h   (1, 4, 1) / 3                      error O(h^4)
 *   boole      h   (14, 64, 24, 64, 14) / 45          error O(h^6)
 * `panels` counts panels, so a rule has panels*q + 1 nodes with q = 1, 2, 4 subintervals per panel.
 *
 * Simpson and Boole are the first two Richardson extrapolations of the trapezoid rule
 * (S_N = (4 T_{2N} - T_N)/3, B_N = (16 S_{2N} - S_N)/15), so the adaptive driver below only ever sums
 * the integrand on nested grids (each refinement evaluates the new midpoints only) and reads the
 * Newton-Cotes or Romberg estimate off the Richardson tableau.
 */
import type { QuadratureRule, VectorIntegrand } from './integrator.js';

export type NewtonCotesName = 'trapezoid' | 'simpson' | 'boole';

/** Subintervals per panel and the Richardson depth that turns trapezoid sums into the rule. */
export const NEWTON_COTES: Record<NewtonCotesName, { q: number; depth: number; weights: readonly number[] }> = {
  trapezoid: { q: 1, depth: 0, weights: [1 / 2, 1 / 2] },
  simpson: { q: 2, depth: 1, weights: [1 / 3, 4 / 3, 1 / 3] },
  boole: { q: 4, depth: 2, weights: [14 / 45, 64 / 45, 24 / 45, 64 / 45, 14 / 45] },
};

function checkRuleName(rule: string): asserts rule is NewtonCotesName {
  if (!(rule in NEWTON_COTES))
    throw new Error(`newton-cotes: rule must be one of ${Object.keys(NEWTON_COTES).join(', ')}, got '${rule}'`);
}

function checkLimits(what: string, a: number, b: number): void {
  if (!Number.isFinite(a) || !Number.isFinite(b)) throw new Error(`${what}: integration limits must be finite, got [${a}, ${b}]`);
}

/** M+1 uniform nodes on [a, b] (endpoints exact). */
export function uniformNodes(a: number, b: number, M: number, out?: Float64Array): Float64Array {
  const x = out ?? new Float64Array(M + 1);
  const h = (b - a) / M;
  for (let j = 0; j < M; j++) x[j] = a + j * h;
  x[M] = b;
  return x;
}

/** Composite Newton-Cotes rule with `panels` panels on [a, b]. */
export function newtonCotesRule(rule: NewtonCotesName, a: number, b: number, panels: number): QuadratureRule {
  checkRuleName(rule);
  checkLimits(`newton-cotes (${rule})`, a, b);
  if (!Number.isInteger(panels) || panels < 1) throw new Error(`newton-cotes (${rule}): panels must be an integer >= 1, got ${panels}`);
  const { q, weights } = NEWTON_COTES[rule];
  const M = panels * q;
  const x = uniformNodes(a, b, M);
  const w = new Float64Array(M + 1);
  const h = (b - a) / M;
  for (let p = 0, j0 = 0; p < panels; p++, j0 += q) for (let k = 0; k <= q; k++) w[j0 + k] += h * weights[k];
  return { x, w };
}

/** Outcome of an adaptive nested-trapezoid run. */
export interface NestedTrapezoidResult {
  /** The accepted estimate. */
  value: number;
  /** Refinement level i: the finest trapezoid sum used has base * 2^i subintervals. */
  level: number;
  /** |last - previous| estimate. */
  error: number;
}

export interface NestedTrapezoidOptions {
  /** Name for error messages, e.g. `integrator/romberg`. */
  what: string;
  /** Subintervals of the coarsest trapezoid sum. */
  base: number;
  /** Richardson depth read at level i: a fixed depth d (Newton-Cotes) or 'diagonal' (Romberg, d = i). */
  depth: number | 'diagonal';
  /** First level at which two estimates are compared (must be >= 1, and >= depth + 1 for fixed depth). */
  minLevel: number;
  maxLevel: number;
  rtol: number;
  atol?: number;
  /** Describes the size limit in the error message. */
  limit: (level: number) => string;
}

/**
 * Refine trapezoid sums on nested uniform grids, building the Richardson tableau
 * R(i, j) = R(i, j-1) + [R(i, j-1) - R(i-1, j-1)] / (4^j - 1) (Romberg 1955; Press et al. 4.3),
 * until successive estimates agree to max(atol, rtol |I|, 100 eps int|f|).
 */
export function nestedTrapezoid(f: VectorIntegrand, a: number, b: number, o: NestedTrapezoidOptions): NestedTrapezoidResult {
  checkLimits(o.what, a, b);
  if (a === b) return { value: 0, level: 0, error: 0 };
  const L = o.maxLevel;
  let prev = new Float64Array(L + 1);
  let row = new Float64Array(L + 1);
  let M = o.base;
  // level 0: full trapezoid on base subintervals
  let x = uniformNodes(a, b, M);
  let fx = new Float64Array(M + 1);
  evaluate(f, x, fx, o.what);
  let h = (b - a) / M;
  let sum = 0.5 * (fx[0] + fx[M]);
  let sumAbs = 0.5 * (Math.abs(fx[0]) + Math.abs(fx[M]));
  for (let j = 1; j < M; j++) {
    sum += fx[j];
    sumAbs += Math.abs(fx[j]);
  }
  row[0] = h * sum;
  let est = NaN, last = NaN, diff = Infinity;
  for (let i = 1; i <= L; i++) {
    [prev, row] = [row, prev];
    // midpoints of the current grid
    x = new Float64Array(M);
    for (let j = 0; j < M; j++) x[j] = a + (j + 0.5) * h;
    fx = new Float64Array(M);
    evaluate(f, x, fx, o.what);
    for (let j = 0; j < M; j++) {
      sum += fx[j];
      sumAbs += Math.abs(fx[j]);
    }
    M *= 2;
    h *= 0.5;
    row[0] = h * sum;
    for (let j = 1, p4 = 4; j <= i; j++, p4 *= 4) row[j] = row[j - 1] + (row[j - 1] - prev[j - 1]) / (p4 - 1);
    const d = o.depth === 'diagonal' ? i : o.depth;
    if (i < d) continue;
    last = est;
    est = row[d];
    if (!Number.isFinite(est)) throw new Error(`${o.what}: the integral estimate on [${a}, ${b}] is ${est}`);
    if (i < o.minLevel || Number.isNaN(last)) continue;
    diff = Math.abs(est - last);
    const tol = Math.max(o.atol ?? 0, o.rtol * Math.abs(est), 100 * Number.EPSILON * Math.abs(h * sumAbs));
    if (diff <= tol) return { value: est, level: i, error: diff };
  }
  throw new Error(
    `${o.what}: no convergence to rtol=${o.rtol}${o.atol ? ` (atol=${o.atol})` : ''} on [${a}, ${b}] within ${o.limit(L)}: ` +
      `last two estimates ${est} and ${last} differ by ${diff.toExponential(3)} (relative ${(diff / Math.abs(est)).toExponential(3)})`,
  );
}

/** f on the nodes, with a clear error for a non-finite value. */
export function evaluate(f: VectorIntegrand, x: Float64Array, out: Float64Array, what: string): void {
  f(x, out);
  for (let j = 0; j < x.length; j++)
    if (!Number.isFinite(out[j])) throw new Error(`${what}: the integrand is ${out[j]} at x = ${x[j]}`);
}

export interface NewtonCotesAdaptiveOptions {
  rule: NewtonCotesName;
  rtol: number;
  atol?: number;
  minPanels: number;
  maxPanels: number;
  what?: string;
}

/** Adaptive composite Newton-Cotes: double the panels until successive estimates agree; returns the panel count used. */
export function newtonCotesAdaptive(
  f: VectorIntegrand,
  a: number,
  b: number,
  o: NewtonCotesAdaptiveOptions,
): NestedTrapezoidResult & { panels: number } {
  checkRuleName(o.rule);
  const d = NEWTON_COTES[o.rule].depth;
  const base = o.minPanels;
  // panels at level i (i >= d) = base * 2^(i-d); the largest level keeps panels <= maxPanels
  const maxLevel = d + Math.max(1, Math.floor(Math.log2(o.maxPanels / base) + 1e-12));
  const what = o.what ?? `newton-cotes (${o.rule})`;
  const r = nestedTrapezoid(f, a, b, {
    what,
    base,
    depth: d,
    minLevel: d + 1,
    maxLevel,
    rtol: o.rtol,
    atol: o.atol,
    limit: (L) => `maxPanels=${o.maxPanels} (${base * 2 ** (L - d)} panels tried)`,
  });
  return { ...r, panels: base * 2 ** Math.max(0, r.level - d) };
}
