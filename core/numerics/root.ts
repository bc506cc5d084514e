/**
 * Brent's root finder (R. P. Brent, Algorithms for Minimization without Derivatives, 1973, ch. 4):
 * inverse quadratic interpolation or secant steps, falling back to bisection whenever the
 * interpolated step does not shrink the bracket fast enough. The bracket always contains a sign
 * change, so it converges for any continuous f; at most maxIter evaluations are made.
 */

export interface BrentOptions {
  /** Absolute x tolerance (default 4 eps max(|a|, |b|)). */
  xtol?: number;
  /** Relative x tolerance (default 4 eps). */
  rtol?: number;
  /** Maximum number of iterations (default 200). */
  maxIter?: number;
  /** What is being solved for, in error messages. */
  name?: string;
}

export function brent(f: (x: number) => number, a: number, b: number, opts: BrentOptions = {}): number {
  const name = opts.name ?? 'root';
  const rtol = opts.rtol ?? 4 * Number.EPSILON;
  const xtol = opts.xtol ?? 4 * Number.EPSILON * Math.max(Math.abs(a), Math.abs(b));
  const maxIter = opts.maxIter ?? 200;
  if (!Number.isFinite(a) || !Number.isFinite(b)) throw new Error(`brent (${name}): bracket [${a}, ${b}] must be finite`);
  if (!(xtol >= 0) || !(rtol >= 0)) throw new Error(`brent (${name}): xtol and rtol must be >= 0, got ${xtol}, ${rtol}`);
  let fa = f(a);
  let fb = f(b);
  if (Number.isNaN(fa) || Number.isNaN(fb)) throw new Error(`brent (${name}): f is NaN at the bracket ends: f(${a}) = ${fa}, f(${b}) = ${fb}`);
  if (fa === 0) return a;
  if (fb === 0) return b;
  if (fa > 0 === fb > 0)
    throw new Error(`brent (${name}): root not bracketed: f(${a}) = ${fa} and f(${b}) = ${fb} have the same sign`);
  // b: best estimate; a: previous b; c: the other end of the bracket [b, c].
  let c = a, fc = fa;
  let d = b - a, e = d;
  for (let it = 0; it < maxIter; it++) {
    if (fb > 0 === fc > 0) {
      c = a;
      fc = fa;
      d = e = b - a;
    }
    if (Math.abs(fc) < Math.abs(fb)) {
      a = b; b = c; c = a;
      fa = fb; fb = fc; fc = fa;
    }
    const tol = 2 * Number.EPSILON * Math.abs(b) + 0.5 * (xtol + rtol * Math.abs(b));
    const m = 0.5 * (c - b);
    if (Math.abs(m) <= tol || fb === 0) return b;
    if (Math.abs(e) >= tol && Math.abs(fa) > Math.abs(fb)) {
      // interpolation step p/q
      const s = fb / fa;
      let p: number, q: number;
      if (a === c) {
        p = 2 * m * s; // secant
        q = 1 - s;
      } else {
        const qq = fa / fc, r = fb / fc; // inverse quadratic through a, b, c
        p = s * (2 * m * qq * (qq - r) - (b - a) * (r - 1));
        q = (qq - 1) * (r - 1) * (s - 1);
      }
      if (p > 0) q = -q;
      else p = -p;
      // accept only if it stays inside the bracket and shrinks faster than the step before last
      if (2 * p < Math.min(3 * m * q - Math.abs(tol * q), Math.abs(e * q))) {
        e = d;
        d = p / q;
      } else {
        d = m;
        e = m;
      }
    } else {
      d = m;
      e = m;
    }
    a = b;
    fa = fb;
    b += Math.abs(d) > tol ? d : m > 0 ? tol : -tol;
    fb = f(b);
    if (Number.isNaN(fb)) throw new Error(`brent (${name}): f(${b}) is NaN inside the bracket`);
  }
  throw new Error(`brent (${name}): no convergence in ${maxIter} iterations; bracket is now [${Math.min(b, c)}, ${Math.max(b, c)}]`);
}
