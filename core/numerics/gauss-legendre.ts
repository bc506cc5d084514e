/**
 * Gauss-Legendre nodes and weights on [-1, 1]: x_k are the roots of P_n, w_k = 2 / [(1 - x_k^2) P_n'(x_k)^2]
 * (Abramowitz & Stegun 25.4.29). An n-point rule integrates polynomials of degree <= 2n-1 exactly.
 *
 * Roots by Newton's method on the three-term recurrence (k+1) P_{k+1} = (2k+1) x P_k - k P_{k-1}, with
 * P_n'(x) = n (x P_n - P_{n-1}) / (x^2 - 1), started from Tricomi's asymptotic guess
 * x_k ~ (1 - 1/(8n^2) + 1/(8n^3)) cos(pi (4k - 1) / (4n + 2)) (Tricomi 1950; A&S 22.16.6), which is close
 * enough for quadratic convergence from the first step. Only the positive half is computed; the rule is
 * mirrored, so it is exactly symmetric. Cost O(n^2) once per n; rules are cached by n.
 */
import type { QuadratureRule, VectorIntegrand } from './integrator.js';

const cache = new Map<number, { x: Float64Array; w: Float64Array }>();

/** Legendre P_n(x) and P_{n-1}(x) by the recurrence. */
function legendrePair(n: number, x: number): [number, number] {
  let p0 = 1, p1 = x;
  for (let k = 1; k < n; k++) {
    const p2 = ((2 * k + 1) * x * p1 - k * p0) / (k + 1);
    p0 = p1;
    p1 = p2;
  }
  return [p1, p0];
}

function compute(n: number): { x: Float64Array; w: Float64Array } {
  const x = new Float64Array(n);
  const w = new Float64Array(n);
  const half = Math.floor(n / 2);
  const scale = 1 - 1 / (8 * n * n) + 1 / (8 * n * n * n);
  for (let k = 1; k <= half; k++) {
    // k-th largest root
    let r = scale * Math.cos((Math.PI * (4 * k - 1)) / (4 * n + 2));
    let dp = 0;
    for (let it = 0; it < 100; it++) {
      const [pn, pm] = legendrePair(n, r);
      dp = (n * (r * pn - pm)) / (r * r - 1);
      const dx = pn / dp;
      r -= dx;
      // quadratic convergence: once |dx| < 1e-14 the updated root is exact to rounding
      if (Math.abs(dx) < 1e-14) break;
    }
    const [pn, pm] = legendrePair(n, r);
    dp = (n * (r * pn - pm)) / (r * r - 1);
    const wk = 2 / ((1 - r * r) * dp * dp);
    // ascending order: x[n-k] = +r, x[k-1] = -r
    x[n - k] = r;
    x[k - 1] = -r;
    w[n - k] = wk;
    w[k - 1] = wk;
  }
  if (n % 2 === 1) {
    // middle node x = 0: P_n'(0) = n P_{n-1}(0)
    const [, pm] = legendrePair(n, 0);
    const dp = n * pm;
    x[half] = 0;
    w[half] = 2 / (dp * dp);
  }
  return { x, w };
}

/** The n-point Gauss-Legendre rule on [-1, 1], nodes ascending (a fresh copy; the master is cached). */
export function gaussLegendre(n: number): { x: Float64Array; w: Float64Array } {
  if (!Number.isInteger(n) || n < 1) throw new Error(`gaussLegendre: number of points must be an integer >= 1, got ${n}`);
  let r = cache.get(n);
  if (!r) {
    r = compute(n);
    cache.set(n, r);
  }
  return { x: r.x.slice(), w: r.w.slice() };
}

/**
 * Composite Gauss-Legendre rule on [a, b]: `panels` equal panels with `order` nodes each
 * (order * panels nodes, ascending when a < b).
 */
export function gaussLegendreRule(a: number, b: number, order: number, panels = 1): QuadratureRule {
  if (!Number.isInteger(panels) || panels < 1) throw new Error(`gaussLegendreRule: panels must be an integer >= 1, got ${panels}`);
  if (!Number.isFinite(a) || !Number.isFinite(b)) throw new Error(`gaussLegendreRule: limits must be finite, got [${a}, ${b}]`);
  if (!cache.has(order)) gaussLegendre(order);
  const g = cache.get(order)!;
  const n = order * panels;
  const x = new Float64Array(n);
  const w = new Float64Array(n);
  const hp = (b - a) / panels;
  const half = 0.5 * hp;
  for (let p = 0; p < panels; p++) {
    const mid = a + (p + 0.5) * hp;
    for (let k = 0, j = p * order; k < order; k++, j++) {
      x[j] = mid + half * g.x[k];
      w[j] = half * g.w[k];
    }
  }
  return { x, w };
}

export interface GaussLegendreAdaptiveOptions {
  rtol: number;
  atol?: number;
  /** Nodes per panel. */
  order: number;
  maxPanels: number;
  what?: string;
}

/**
 * Composite Gauss-Legendre with panels 1, 2, 4, ... until two successive estimates agree to
 * max(atol, rtol |I|, 100 eps int|f|); returns the coarser of the two (see below) and its estimate.
 */
export function gaussLegendreAdaptive(
  f: VectorIntegrand,
  a: number,
  b: number,
  o: GaussLegendreAdaptiveOptions,
): { value: number; panels: number; error: number; rule: QuadratureRule } {
  const what = o.what ?? 'gauss-legendre';
  if (!Number.isFinite(a) || !Number.isFinite(b)) throw new Error(`${what}: integration limits must be finite, got [${a}, ${b}]`);
  let last = NaN, diff = Infinity, est = NaN;
  let panels = 1;
  let previous: QuadratureRule | null = null;
  for (; panels <= o.maxPanels; panels *= 2) {
    const rule = gaussLegendreRule(a, b, o.order, panels);
    const fx = new Float64Array(rule.x.length);
    f(rule.x, fx);
    let s = 0, sAbs = 0;
    for (let j = 0; j < fx.length; j++) {
      if (!Number.isFinite(fx[j])) throw new Error(`${what}: the integrand is ${fx[j]} at x = ${rule.x[j]}`);
      s += rule.w[j] * fx[j];
      sAbs += Math.abs(rule.w[j] * fx[j]);
    }
    last = est;
    est = s;
    if (a === b) return { value: 0, panels, error: 0, rule };
    if (Number.isNaN(last)) { previous = rule; continue; }
    diff = Math.abs(est - last);
    // Gauss-Legendre converges faster than geometrically once the panels resolve f, so when two levels
    // agree the difference bounds the coarser estimate's error: return the coarser rule (half the nodes)
    if (diff <= Math.max(o.atol ?? 0, o.rtol * Math.abs(est), 100 * Number.EPSILON * sAbs))
      return { value: last, panels: panels / 2, error: diff, rule: previous! };
    previous = rule;
  }
  throw new Error(
    `${what}: no convergence to rtol=${o.rtol}${o.atol ? ` (atol=${o.atol})` : ''} on [${a}, ${b}] within maxPanels=${o.maxPanels} ` +
      `(${o.order} nodes per panel): last two estimates ${est} and ${last} differ by ${diff.toExponential(3)} ` +
      `(relative ${(diff / Math.abs(est)).toExponential(3)})`,
  );
}

export interface GaussLegendreLocalOptions extends GaussLegendreAdaptiveOptions {
  /** Uniform panels to start from. */
  initialPanels?: number;
}

/**
 * Locally adaptive composite Gauss-Legendre: every panel carries the error estimate |I_2 - I_1| of its
 * rule (I_1) against the rule on its two halves (I_2); each round splits, in one vectorised evaluation,
 * every panel whose error exceeds its share tol/n_panels of the tolerance, until the summed errors are
 * within max(atol, rtol |I|, 100 eps int|f|). Nodes end up where the integrand needs them (narrow kernels)
 * instead of everywhere. As in gaussLegendreAdaptive, the accepted panels' own rules (the coarser of each
 * pair, whose error the difference bounds) make the returned rule.
 */
export function gaussLegendreLocal(
  f: VectorIntegrand,
  a: number,
  b: number,
  o: GaussLegendreLocalOptions,
): { value: number; panels: number; error: number; rule: QuadratureRule } {
  const what = o.what ?? 'gauss-legendre';
  if (!Number.isFinite(a) || !Number.isFinite(b)) throw new Error(`${what}: integration limits must be finite, got [${a}, ${b}]`);
  if (a === b) return { value: 0, panels: 1, error: 0, rule: { x: new Float64Array(0), w: new Float64Array(0) } };
  const n = o.order;
  const base = gaussLegendre(n);
  // panels as [lo, hi, I_1 (own rule), I_2 (halves), sum |w f| of the halves]
  let panels: { lo: number; hi: number; i1: number; i2: number; abs: number }[] = [];
  const n0 = Math.max(1, o.initialPanels ?? 4);

  /** For each interval: its own rule's estimate and the halves' estimate, in one call of f. */
  const estimate = (iv: [number, number][]): { i1: number; i2: number; abs: number }[] => {
    const m = iv.length;
    const x = new Float64Array(3 * n * m), w = new Float64Array(3 * n * m);
    iv.forEach(([lo, hi], k) => {
      const parts: [number, number][] = [[lo, hi], [lo, 0.5 * (lo + hi)], [0.5 * (lo + hi), hi]];
      parts.forEach(([p, q], s) => {
        const c = 0.5 * (p + q), h = 0.5 * (q - p);
        for (let j = 0; j < n; j++) { x[(3 * k + s) * n + j] = c + h * base.x[j]; w[(3 * k + s) * n + j] = h * base.w[j]; }
      });
    });
    const fx = new Float64Array(x.length);
    f(x, fx);
    return iv.map((_, k) => {
      const sums = [0, 0, 0];
      let abs = 0;
      for (let s = 0; s < 3; s++)
        for (let j = 0; j < n; j++) {
          const idx = (3 * k + s) * n + j;
          if (!Number.isFinite(fx[idx])) throw new Error(`${what}: the integrand is ${fx[idx]} at x = ${x[idx]}`);
          sums[s] += w[idx] * fx[idx];
          if (s > 0) abs += Math.abs(w[idx] * fx[idx]);
        }
      return { i1: sums[0], i2: sums[1] + sums[2], abs };
    });
  };

  const init: [number, number][] = Array.from({ length: n0 }, (_, k) => [a + ((b - a) * k) / n0, k === n0 - 1 ? b : a + ((b - a) * (k + 1)) / n0]);
  panels = estimate(init).map((e, k) => ({ lo: init[k][0], hi: init[k][1], ...e }));
  for (;;) {
    let total = 0, err = 0, abs = 0;
    for (const p of panels) { total += p.i2; err += Math.abs(p.i2 - p.i1); abs += p.abs; }
    const tol = Math.max(o.atol ?? 0, o.rtol * Math.abs(total), 100 * Number.EPSILON * abs);
    if (err <= tol) {
      panels.sort((p, q) => p.lo - q.lo);
      const x = new Float64Array(panels.length * n), w = new Float64Array(panels.length * n);
      let value = 0;
      panels.forEach((p, k) => {
        const c = 0.5 * (p.lo + p.hi), h = 0.5 * (p.hi - p.lo);
        for (let j = 0; j < n; j++) { x[k * n + j] = c + h * base.x[j]; w[k * n + j] = h * base.w[j]; }
        value += p.i1;
      });
      return { value, panels: panels.length, error: err, rule: { x, w } };
    }
    const share = tol / panels.length;
    const keep: typeof panels = [];
    const split: [number, number][] = [];
    for (const p of panels) {
      if (Math.abs(p.i2 - p.i1) > share) { const m = 0.5 * (p.lo + p.hi); split.push([p.lo, m], [m, p.hi]); }
      else keep.push(p);
    }
    if (keep.length + split.length > o.maxPanels)
      throw new Error(
        `${what}: no convergence to rtol=${o.rtol}${o.atol ? ` (atol=${o.atol})` : ''} on [${a}, ${b}] within maxPanels=${o.maxPanels} ` +
          `(${n} nodes per panel, locally refined): estimated error ${err.toExponential(3)} (relative ${(err / Math.abs(total)).toExponential(3)})`,
      );
    panels = keep.concat(estimate(split).map((e, k) => ({ lo: split[k][0], hi: split[k][1], ...e })));
  }
}
