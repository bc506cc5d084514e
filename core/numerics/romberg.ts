/**
 * Romberg integration: the Richardson-extrapolated trapezoid rule (Romberg 1955; Press et al.,
 * Numerical Recipes 3rd ed., sec. 4.3). The diagonal tableau entry R(k, k) combines trapezoid sums on
 * 1, 2, ..., 2^k subintervals of each base panel; being linear in the sums it is itself a quadrature
 * rule on the 2^k + 1 uniform nodes (R(1,1) = Simpson, R(2,2) = Boole), with error O(h^(2k+2)) for
 * smooth integrands (Euler-Maclaurin expansion in even powers of h).
 */
import type { QuadratureRule, VectorIntegrand } from './integrator.js';
import { nestedTrapezoid, uniformNodes, type NestedTrapezoidResult } from './newton-cotes.js';

/**
 * Coefficients c_j, j = 0..k, with R(k, k) = sum_j c_j T_j and T_j the trapezoid sum on 2^j
 * subintervals: the tableau recursion applied to unit vectors.
 */
export function rombergCoefficients(level: number): Float64Array {
  if (!Number.isInteger(level) || level < 0) throw new Error(`romberg: level must be an integer >= 0, got ${level}`);
  const k = level;
  // R[i][*] as coefficient vectors over T_0..T_k; only the previous row is needed
  let prev: Float64Array[] = [];
  for (let i = 0; i <= k; i++) {
    const row: Float64Array[] = [];
    const t = new Float64Array(k + 1);
    t[i] = 1;
    row.push(t);
    for (let j = 1, p4 = 4; j <= i; j++, p4 *= 4) {
      const r = new Float64Array(k + 1);
      for (let m = 0; m <= k; m++) r[m] = row[j - 1][m] + (row[j - 1][m] - prev[j - 1][m]) / (p4 - 1);
      row.push(r);
    }
    prev = row;
  }
  return prev[k];
}

/**
 * The Romberg rule R(level, level) on [a, b] split into `basePanels` equal panels:
 * basePanels * 2^level + 1 uniform nodes.
 */
export function rombergRule(a: number, b: number, level: number, basePanels = 1): QuadratureRule {
  if (!Number.isFinite(a) || !Number.isFinite(b)) throw new Error(`romberg: integration limits must be finite, got [${a}, ${b}]`);
  if (!Number.isInteger(basePanels) || basePanels < 1) throw new Error(`romberg: basePanels must be an integer >= 1, got ${basePanels}`);
  if (level > 30) throw new Error(`romberg: level must be <= 30, got ${level}`);
  const c = rombergCoefficients(level);
  const M = basePanels * 2 ** level;
  const x = uniformNodes(a, b, M);
  const w = new Float64Array(M + 1);
  for (let j = 0; j <= level; j++) {
    // T_j: trapezoid with basePanels*2^j subintervals = every stride-th fine node
    const stride = 2 ** (level - j);
    const hj = ((b - a) / M) * stride;
    const cj = c[j] * hj;
    for (let m = 0; m <= M; m += stride) w[m] += m === 0 || m === M ? 0.5 * cj : cj;
  }
  return { x, w };
}

export interface RombergOptions {
  rtol: number;
  atol?: number;
  /** Largest level: 2^maxLevel + 1 nodes. */
  maxLevel: number;
  /** First level compared with its predecessor (guards against a lucky early agreement). */
  minLevel?: number;
  what?: string;
}

/** Adaptive Romberg on [a, b]: raise the level until successive diagonal estimates agree. */
export function rombergAdaptive(f: VectorIntegrand, a: number, b: number, o: RombergOptions): NestedTrapezoidResult {
  const minLevel = Math.min(o.minLevel ?? 3, o.maxLevel);
  return nestedTrapezoid(f, a, b, {
    what: o.what ?? 'romberg',
    base: 1,
    depth: 'diagonal',
    minLevel: Math.max(1, minLevel),
    maxLevel: o.maxLevel,
    rtol: o.rtol,
    atol: o.atol,
    limit: (L) => `maxLevel=${L} (${2 ** L + 1} points)`,
  });
}
