import { describe, expect, it } from 'vitest';
import { brent } from '../../../core/numerics/root.js';

describe('brent', () => {
  it('finds roots of smooth functions to rounding, in few evaluations', () => {
    const cases: [string, (x: number) => number, number, number, number | null][] = [
      ['cbrt 2', (x) => x ** 3 - 2, 0, 3, Math.cbrt(2)],
      ['ln 1e10', (x) => Math.exp(x) - 1e10, 0, 50, Math.log(1e10)],
      ['root at 0', Math.sin, -1, 2, 0],
      ['cos x = x', (x) => Math.cos(x) - x, 0, 1, null],
    ];
    for (const [name, f, a, b, exact] of cases) {
      let evals = 0;
      const r = brent((x) => (evals++, f(x)), a, b, { name });
      if (exact !== null) expect(Math.abs(r - exact), name).toBeLessThan(1e-14 * Math.max(1, Math.abs(exact)));
      // independent check: f changes sign within a few ulps of r
      const d = 8 * Number.EPSILON * Math.max(1, Math.abs(r));
      expect(Math.sign(f(r - d)) * Math.sign(f(r + d)), name).toBeLessThanOrEqual(0);
      expect(evals, name).toBeLessThan(60);
    }
  });

  it('honours a loose tolerance and handles a jump (bisection fallback)', () => {
    const r = brent((x) => x * x - 2, 0, 2, { xtol: 1e-4 });
    expect(Math.abs(r - Math.SQRT2)).toBeLessThan(1e-4);
    const j = brent((x) => (x < 0.3 ? -1 : 1), 0, 1, { xtol: 1e-12 });
    expect(Math.abs(j - 0.3)).toBeLessThan(2e-12);
  });

  it('returns an endpoint that is a root, and works with a > b', () => {
    expect(brent((x) => x - 1, 1, 5)).toBe(1);
    expect(brent((x) => x * x - 4, 5, 0)).toBeCloseTo(2, 14);
  });

  it('errors clearly: not bracketed (naming f(a), f(b)), NaN, too few iterations', () => {
    expect(() => brent((x) => x * x + 1, -1, 1, { name: 'z_star' })).toThrow(
      /brent \(z_star\): root not bracketed: f\(-1\) = 2 and f\(1\) = 2 have the same sign/,
    );
    expect(() => brent(() => NaN, 0, 1, { name: 'q' })).toThrow(/brent \(q\): f is NaN/);
    expect(() => brent((x) => (x > 0.5 ? NaN : -1), 0, 1)).toThrow(/NaN/);
    expect(() => brent((x) => Math.exp(x) - 2, 0, 10, { maxIter: 3, name: 'w' })).toThrow(/brent \(w\): no convergence in 3 iterations; bracket is now/);
  });
});
