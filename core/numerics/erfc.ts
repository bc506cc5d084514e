/**
 * The complementary error function, accurate to about 1e-15 relative over the whole double range
 * (erfc(x) turns subnormal beyond x ~ 26.5, is returned as 0 beyond x = 27.3, and rounds to 2 below x ~ -6).
 *
 * For x >= 0, erfc(x) = Gamma(1/2, x^2) / sqrt(pi), and we evaluate the incomplete gamma function the
 * classical way (Numerical Recipes, 3rd ed., section 6.2), with X = x^2 and a = 1/2:
 *
 *   X < 1/2   the series  gamma(a, X) = e^-X X^a sum_{n>=0} X^n / [a (a+1) ... (a+n)]     (NR eq. 6.2.5)
 *             i.e. erf(x) = (2/sqrt(pi)) e^-x^2 sum_n 2^n x^(2n+1) / (1*3*...*(2n+1))   (A&S 7.1.6),
 *             every term positive (no cancellation), and erfc = 1 - erf (erfc > 0.317 here, so the
 *             subtraction costs at most a factor 3 in relative accuracy).
 *   X >= 1/2  Legendre's continued fraction
 *             Gamma(a, X) = e^-X X^a / (X+1-a - 1(1-a)/(X+3-a - 2(2-a)/(X+5-a - ...)))      (NR eq. 6.2.7)
 *             evaluated backward from a fixed depth (see gammaFraction). NR switches at X = a + 1 = 1.5;
 *             we switch lower because 1 - erf loses up to a factor 12 in relative accuracy at X = 1.5.
 *
 * e^-x^2 is formed as e^-(xh^2) e^-((x-xh)(x+xh)) with xh = x truncated to a multiple of 1/16: xh^2 is exact
 * in double precision and (x-xh)(x+xh) is small, so the rounding of x^2 (relative 1e-16, i.e. absolute
 * x^2 1e-16 in the exponent) does not cost accuracy at large x (the splitting of W. J. Cody, Math. Comp. 23,
 * 631 (1969)). Negative arguments use erfc(-x) = 2 - erfc(x).
 *
 * At most 250 terms per call (at X = 1/2; 12 at x = 10); no allocation.
 */

const INV_SQRT_PI = 0.56418958354775628694807945156077258584405062932900;
const EPS = 1e-17;
const MAX_TERMS = 200;
/** Below this x^2 the series (then 1 - erf), above it the continued fraction. */
const SERIES_MAX = 0.5;

/** e^{-x^2} without the x^2 rounding error at large |x| (Cody's splitting). */
export function expMinusSquare(x: number): number {
  const ax = Math.abs(x);
  const xh = Math.trunc(ax * 16) / 16;
  return Math.exp(-xh * xh) * Math.exp(-(ax - xh) * (ax + xh));
}

/** Series part: sum_n X^n / [a (a+1) ... (a+n)] with a = 1/2, X = x^2 (so erf(x) = x e^-X sum / sqrt(pi)). */
function gammaSeriesSum(X: number): number {
  let ap = 0.5;
  let term = 2; // 1/a
  let sum = term;
  for (let n = 1; n < MAX_TERMS; n++) {
    ap += 1;
    term *= X / ap;
    sum += term;
    if (term < sum * EPS) return sum;
  }
  throw new Error(`erfc: series did not converge for x^2 = ${X}`);
}

/**
 * Continued-fraction part h with Gamma(1/2, X) = e^-X X^{1/2} h, i.e. h = 1/(b_0 + a_1/(b_1 + a_2/(b_2 + ...)))
 * with b_i = X + 2i + 1/2, a_i = -i (i - 1/2). Evaluated backward (bottom-up) from a fixed depth: the
 * forward Lentz product accumulates rounding (4.7e-15 at x ~ 1.25), the backward sweep stays within 1 ulp
 * or so. The depth N = 10 + ceil(120/X) exceeds the number of terms the forward algorithm needs to
 * converge to 1e-17 (164 at X = 0.5, 93 at X = 1, 60 at X = 1.5, 28 at X = 4, 5 at X = 100) by a
 * factor 1.3 or more. Measured against 40-digit mpmath values at 3000 points in [-6, 27]: max relative
 * error 6.7e-16 for erfc (4.4e-16 for erf).
 */
function gammaFraction(X: number): number {
  const N = 10 + Math.ceil(120 / X);
  let t = X + 2 * N + 0.5;
  for (let i = N; i >= 1; i--) t = X + 2 * i - 1.5 - (i * (i - 0.5)) / t;
  return 1 / t;
}

/** erfc(x) for x >= 0. */
function erfcNonNegative(x: number): number {
  const X = x * x;
  if (X < SERIES_MAX) return 1 - x * expMinusSquare(x) * INV_SQRT_PI * gammaSeriesSum(X);
  if (x > 27.3) return 0; // erfc(27.3) ~ 2e-326: below the smallest subnormal
  return x * expMinusSquare(x) * INV_SQRT_PI * gammaFraction(X);
}

/** Complementary error function erfc(x) = (2/sqrt(pi)) Integral_x^inf e^{-t^2} dt. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  return x >= 0 ? erfcNonNegative(x) : 2 - erfcNonNegative(-x);
}

/** Error function erf(x), with full relative accuracy near 0 (series) and in the tails (1 - erfc). */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  const X = ax * ax;
  const r = X < SERIES_MAX ? ax * expMinusSquare(ax) * INV_SQRT_PI * gammaSeriesSum(X) : 1 - erfcNonNegative(ax);
  return x < 0 ? -r : r;
}

/**
 * erf(a) - erf(b) without cancellation: through erfc when both arguments lie in the same tail
 * (erf(a) - erf(b) = erfc(b) - erfc(a) = erfc(-a) - erfc(-b)).
 */
export function erfDifference(a: number, b: number): number {
  if (a >= 0 && b >= 0) return erfc(b) - erfc(a);
  if (a <= 0 && b <= 0) return erfc(-a) - erfc(-b);
  return erf(a) - erf(b);
}
