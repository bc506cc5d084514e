/**
 * ln Gamma(z) for complex z, by the Lanczos approximation (Lanczos 1964; g = 7 and the nine coefficients
 * tabulated by Godfrey, as in Press et al., Numerical Recipes, 3rd ed., sec. 6.1):
 *
 *   Gamma(z + 1) = sqrt(2 pi) (z + g + 1/2)^{z + 1/2} e^{-(z + g + 1/2)} A_g(z),   A_g(z) = c_0 + sum_k c_k / (z + k)
 *
 * relative accuracy ~1e-15 in Gamma for Re z >= 1/2; the reflection formula Gamma(z) Gamma(1 - z) = pi / sin(pi z)
 * covers Re z < 1/2. The imaginary part is determined modulo 2 pi (what exp() of a difference of such logs needs).
 * Returned as [re, im]; no allocation beyond the pair.
 */

const G = 7;
const C = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const HALF_LN_2PI = 0.5 * Math.log(2 * Math.PI);

/** Complex logarithm [ln|w|, arg w]. */
function clog(re: number, im: number): [number, number] {
  return [Math.log(Math.hypot(re, im)), Math.atan2(im, re)];
}

/** ln Gamma(x + i y) as [re, im]. */
export function lnGammaComplex(x: number, y: number): [number, number] {
  if (x < 0.5) {
    // ln Gamma(z) = ln pi - ln sin(pi z) - ln Gamma(1 - z)
    const [gr, gi] = lnGammaComplex(1 - x, -y);
    // sin(pi (x + i y)) = sin(pi x) cosh(pi y) + i cos(pi x) sinh(pi y)
    const sr = Math.sin(Math.PI * x) * Math.cosh(Math.PI * y), si = Math.cos(Math.PI * x) * Math.sinh(Math.PI * y);
    const [lr, li] = clog(sr, si);
    return [Math.log(Math.PI) - lr - gr, -li - gi];
  }
  // z -> z - 1: Gamma(z) = sqrt(2 pi) t^{z - 1/2} e^{-t} A(z - 1), t = z - 1 + g + 1/2
  const zr = x - 1;
  let ar = C[0], ai = 0;
  for (let k = 1; k < C.length; k++) {
    const dr = zr + k, d2 = dr * dr + y * y;
    ar += (C[k] * dr) / d2;
    ai -= (C[k] * y) / d2;
  }
  const tr = zr + G + 0.5;
  const [ltr, lti] = clog(tr, y);
  const [lar, lai] = clog(ar, ai);
  // (z - 1/2) ln t, with z - 1/2 = (zr + 1/2) + i y
  const pr = zr + 0.5;
  const re = HALF_LN_2PI + (pr * ltr - y * lti) - tr + lar;
  const im = pr * lti + y * ltr - y + lai;
  return [re, im];
}
