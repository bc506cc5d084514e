/**
 * The normalised Fourier transform of a truncated NFW profile (Navarro, Frenk & White 1997; the halo profile
 * of HMcode, Mead et al. 2015 eq. 11 / Mead et al. 2021 eq. 13), with its partial derivatives:
 *
 *   W(x, c) = N(x, c)/m(c),   m(c) = ln(1 + c) - c/(1 + c),   x = k r_s (r_s = r_v/c), b = 1 + c,
 *   N = cos x [Ci(b x) - Ci(x)] + sin x [Si(b x) - Si(x)] - sin(c x)/(b x)  ( = Int_0^c u/(1+u)^2 sin(u x)/(u x) du )
 *
 *   dN/dc = sin(c x)/(b^2 x),
 *   x dN/dx = -x sin x dCi + x cos x dSi + cos(c x) - 1 - (c/b) cos(c x) + sin(c x)/(b x)      (dCi, dSi: the brackets)
 *
 * For x b < 1 the closed form of x dN/dx cancels (terms ~ c/b against a result ~ x^2), so there N and x dN/dx come
 * from the series of the integral, N = sum_n (-1)^n x^2n J_{2n+1}(c)/(2n+1)!, with J_n(c) = Int_0^c u^n/(1+u)^2 du
 * (J_0 = c/b, J_1 = m(c), J_n = c^(n-1)/(n-1) - 2 J_{n-1} - J_{n-2}; stable for c >= 1, where the
 * concentrations of HMcode lie).
 *
 * Si and Ci (sici): the power series for t <= 4 and, above, the continued fraction of E1(i t) = -Ci(t) + i (Si(t) -
 * pi/2) evaluated by the modified Lentz method (Numerical Recipes' approach); relative accuracy ~1e-15.
 */

const EULER_GAMMA = 0.5772156649015329;
const HALF_PI = Math.PI / 2;

/**
 * Si(t), Ci(t) from the continued fraction of E1(i t) (modified Lentz), t > 2 (slow: used to fit the tables).
 */
function siciContinuedFraction(t: number, out: Float64Array): void {
  const s = Math.sin(t), c = Math.cos(t);
  // E1(i t) = e^{-i t} / (1 + i t - 1^2/(3 + i t - 2^2/(5 + i t - ...)))
  const FPMIN = 1e-300;
  let br = 1;
  const bi = t;
  let cr = 1 / FPMIN, ci = 0;
  let den = br * br + bi * bi;
  let dr = br / den, di = -bi / den;
  let hr = dr, hi = di;
  for (let i = 2; i < 1000; i++) {
    const a = -(i - 1) * (i - 1);
    br += 2;
    let xr = a * dr + br, xi = a * di + bi;
    den = xr * xr + xi * xi;
    dr = xr / den;
    di = -xi / den;
    den = cr * cr + ci * ci;
    xr = br + (a * cr) / den;
    xi = bi - (a * ci) / den;
    cr = xr;
    ci = xi;
    const delr = cr * dr - ci * di, deli = cr * di + ci * dr;
    const nr = hr * delr - hi * deli;
    hi = hr * deli + hi * delr;
    hr = nr;
    if (Math.abs(delr - 1) + Math.abs(deli) < 1e-16) break;
  }
  const er = hr * c + hi * s, ei = hi * c - hr * s;
  out[0] = HALF_PI + ei;
  out[1] = -er;
}

/**
 * The auxiliary functions f, g of Si = pi/2 - f cos t - g sin t, Ci = f sin t - g cos t (Abramowitz & Stegun 5.2.6-7),
 * smooth for t > 0 (analytic but for the branch point at 0): on each octave [4 2^m, 4 2^(m+1)], m = 0..3, a
 * Chebyshev series of degree CHEB - 1 in t fitted once at load from the continued fraction (its error < 1e-15,
 * the octave being 2x its distance from the singularity); above T_ASYM the asymptotic series to 1/t^16.
 */
const CHEB = 26, OCTAVES = 4, T_SERIES = 4, T_ASYM = 64;
const CHEB_F = new Float64Array(OCTAVES * CHEB), CHEB_G = new Float64Array(OCTAVES * CHEB);
(() => {
  const o = new Float64Array(4), fv = new Float64Array(CHEB), gv = new Float64Array(CHEB);
  for (let m = 0; m < OCTAVES; m++) {
    const a = T_SERIES * 2 ** m, b = 2 * a, mid = (a + b) / 2, half = (b - a) / 2;
    for (let i = 0; i < CHEB; i++) {
      const t = mid + half * Math.cos((Math.PI * (i + 0.5)) / CHEB);
      siciContinuedFraction(t, o);
      const s = Math.sin(t), c = Math.cos(t), sm = o[0] - HALF_PI;
      fv[i] = -sm * c + o[1] * s;
      gv[i] = -sm * s - o[1] * c;
    }
    for (let k = 0; k < CHEB; k++) {
      let sf = 0, sg = 0;
      for (let i = 0; i < CHEB; i++) {
        const w = Math.cos((Math.PI * k * (i + 0.5)) / CHEB);
        sf += fv[i] * w;
        sg += gv[i] * w;
      }
      CHEB_F[m * CHEB + k] = ((k === 0 ? 1 : 2) * sf) / CHEB;
      CHEB_G[m * CHEB + k] = ((k === 0 ? 1 : 2) * sg) / CHEB;
    }
  }
})();

/** 1/((2n-1)(2n)) and 1/((2n)(2n+1)) for the power series. */
const INV_C = Float64Array.from({ length: 40 }, (_, n) => (n === 0 ? 0 : 1 / ((2 * n - 1) * (2 * n))));
const INV_S = Float64Array.from({ length: 40 }, (_, n) => (n === 0 ? 0 : 1 / ((2 * n) * (2 * n + 1))));

/** Si(t), Ci(t) for t > 0 into out[0], out[1]; sin t, cos t into out[2], out[3]. Relative accuracy ~1e-15. */
export function sici(t: number, out: Float64Array): void {
  const s = Math.sin(t), c = Math.cos(t);
  out[2] = s;
  out[3] = c;
  if (t <= T_SERIES) {
    // Si = sum (-1)^n t^(2n+1)/((2n+1)(2n+1)!), Ci = gamma + ln t + sum_{n>=1} (-1)^n t^2n/(2n (2n)!)
    const t2 = t * t;
    let termS = t, si = t, termC = 1, ci = 0;
    for (let n = 1; n < 40; n++) {
      termC *= -t2 * INV_C[n];
      termS *= -t2 * INV_S[n];
      const dc = termC / (2 * n), ds = termS / (2 * n + 1);
      ci += dc;
      si += ds;
      if (Math.abs(dc) < 1e-17 * Math.abs(ci) + 1e-300 && Math.abs(ds) < 1e-17 * Math.abs(si)) break;
    }
    out[0] = si;
    out[1] = EULER_GAMMA + Math.log(t) + ci;
    return;
  }
  let f: number, g: number;
  if (t < T_ASYM) {
    const m = Math.min(OCTAVES - 1, Math.floor(Math.log2(t / T_SERIES)));
    const a = T_SERIES * 2 ** m;
    const u = (2 * (t - a)) / a - 1; // [a, 2a] -> [-1, 1]
    // Clenshaw
    let bf1 = 0, bf2 = 0, bg1 = 0, bg2 = 0;
    const o = m * CHEB;
    for (let k = CHEB - 1; k >= 1; k--) {
      const nf = 2 * u * bf1 - bf2 + CHEB_F[o + k];
      bf2 = bf1;
      bf1 = nf;
      const ng = 2 * u * bg1 - bg2 + CHEB_G[o + k];
      bg2 = bg1;
      bg1 = ng;
    }
    f = u * bf1 - bf2 + CHEB_F[o];
    g = u * bg1 - bg2 + CHEB_G[o];
  } else {
    // f ~ (1/t) sum (-1)^n (2n)!/t^2n, g ~ (1/t^2) sum (-1)^n (2n+1)!/t^2n
    const v = 1 / (t * t);
    f = (1 + v * (-2 + v * (24 + v * (-720 + v * (40320 + v * (-3628800 + v * (479001600 + v * -87178291200))))))) / t;
    g = (1 + v * (-6 + v * (120 + v * (-5040 + v * (362880 + v * (-39916800 + v * (6227020800 + v * -1307674368000))))))) * v;
  }
  out[0] = HALF_PI - f * c - g * s;
  out[1] = f * s - g * c;
}

/** Si, Ci by the continued fraction (tests: the reference for the tables). */
export const siciReference = (t: number, out: Float64Array) => (t <= T_SERIES ? sici(t, out) : siciContinuedFraction(t, out));

const MAX_TERMS = 12;

/** J_1, J_3, ..., J_{2 MAX_TERMS - 1} of c into j (odd moments only, j[n] = J_{2n+1}). */
function oddMoments(c: number, j: Float64Array): void {
  const b = 1 + c;
  let jm2 = c / b; // J_0
  let jm1 = Math.log(b) - c / b; // J_1
  j[0] = jm1;
  let cp = 1; // c^(n-1)
  for (let n = 2; n < 2 * MAX_TERMS; n++) {
    cp *= c;
    const jn = cp / (n - 1) - 2 * jm1 - jm2;
    jm2 = jm1;
    jm1 = jn;
    if (n % 2 === 1) j[(n - 1) / 2] = jn;
  }
}

const SC1 = new Float64Array(4), SC2 = new Float64Array(4);
const INV_ODD_FACT = Float64Array.from({ length: MAX_TERMS }, (_, n) => {
  let f = 1;
  for (let i = 2; i <= 2 * n + 1; i++) f *= i;
  return 1 / f;
});

/** What the window needs of a concentration, computed once per halo: [c, 1 + c, m(c), m'(c), J_1/1!, -J_3/3!, J_5/5!, ...]. */
export const NFW_PREP = 4 + MAX_TERMS;
const JM = new Float64Array(MAX_TERMS);

export function nfwPrepare(c: number, out: Float64Array, o: number): void {
  const b = 1 + c;
  out[o] = c;
  out[o + 1] = b;
  out[o + 2] = Math.log(b) - c / b;
  out[o + 3] = c / (b * b);
  oddMoments(c, JM);
  for (let n = 0; n < MAX_TERMS; n++) out[o + 4 + n] = (n % 2 ? -1 : 1) * JM[n] * INV_ODD_FACT[n];
}

/**
 * W(x, c) and its partials into out: [W, x dW/dx, dW/dc], for x = k r_s > 0 and a concentration c >= 1 prepared
 * by nfwPrepare into prep[o..].
 */
export function nfwWindowPrepared(x: number, prep: Float64Array, o: number, out: Float64Array): void {
  const c = prep[o], b = prep[o + 1], m = prep[o + 2], dm = prep[o + 3];
  let N: number, xNx: number, Nc: number;
  if (x * b < 1) {
    const x2 = x * x;
    let p = 1;
    N = 0;
    xNx = 0;
    for (let n = 0; n < MAX_TERMS; n++) {
      const term = p * prep[o + 4 + n];
      N += term;
      xNx += 2 * n * term;
      p *= x2;
      if (Math.abs(term) < 1e-18 * Math.abs(N)) break;
    }
    Nc = Math.sin(c * x) / (x * b * b);
  } else {
    sici(x, SC1);
    sici(b * x, SC2);
    const sx = SC1[2], cxs = SC1[3];
    // sin(c x), cos(c x) from b x = c x + x
    const sb = SC2[2], cb = SC2[3];
    const scx = sb * cxs - cb * sx, ccx = cb * cxs + sb * sx;
    const dSi = SC2[0] - SC1[0], dCi = SC2[1] - SC1[1];
    N = cxs * dCi + sx * dSi - scx / (b * x);
    xNx = -x * sx * dCi + x * cxs * dSi + ccx - 1 - (c / b) * ccx + scx / (b * x);
    Nc = scx / (b * b * x);
  }
  out[0] = N / m;
  out[1] = xNx / m;
  out[2] = Nc / m - (N * dm) / (m * m);
}

const PREP1 = new Float64Array(NFW_PREP);

/** W(x, c) and its partials into out: [W, x dW/dx, dW/dc] (x = k r_s > 0, c >= 1). */
export function nfwWindow(x: number, c: number, out: Float64Array): void {
  nfwPrepare(c, PREP1, 0);
  nfwWindowPrepared(x, PREP1, 0, out);
}
