/**
 * FFTLog for spherical Bessel transforms (Hamilton 2000, MNRAS 312, 257; the "generalized FFTLog" of Fang,
 * Krause, Eifler & MacCrann 2020, JCAP 05, 010, arXiv:1911.11947, sec. 2):
 *
 *   F(k) = Integral_0^inf dchi f(chi) j_l(k chi) / (k chi)^p          (p = 0, or p = 2 for spin-2 / convergence)
 *
 * for f sampled on a log grid chi_m = chi_0 e^{m D}, m < N (zero-padded). Write f(chi) chi^{-nu} as a discrete
 * Fourier series in ln chi, f(chi) = (1/N) sum_m c_m chi_0^{-i eta_m} chi^{nu + i eta_m}, eta_m = 2 pi m / (N D),
 * c_m = sum_j f_j chi_j^{-nu} e^{-2 pi i m j / N}; each power law transforms analytically by the Mellin transform
 * of the Bessel function,
 *
 *   M_l(s) = Integral_0^inf dx x^{s-1} j_l(x) = sqrt(pi) 2^{s-2} Gamma((l+s)/2) / Gamma((3+l-s)/2),  -l < Re s < 2,
 *
 * (e.g. DLMF 10.22.43 with j_l(x) = sqrt(pi/(2x)) J_{l+1/2}(x)), so that on the output grid k_n = (c / chi_0) e^{n D}
 *
 *   (k_n)^{nu+1} F(k_n) = G_n = (1/N) sum_m c_m c^{-i eta_m} M_l(nu + 1 - p + i eta_m) e^{-2 pi i m n / N},
 *
 * one inverse real FFT per (l, p) once c_m is known. The map f chi^{-nu} -> G is G_n = sum_j h[(n + j) mod N] f_j
 * chi_j^{-nu}: a symmetric matrix, so its transpose (the reverse-mode pullback) is the same transform.
 *
 * This file holds the cosmology-free parts: the Mellin factors M_l (tabulated once per (N, D, nu, l, p) and
 * cached: they do not depend on f) and the transform from a spectrum c_m to G.
 */
import { lnGammaComplex } from './complex-gamma.js';
import { irfft, rfft, type RealFftPlan } from './fft.js';

const HALF_LN_PI = 0.5 * Math.log(Math.PI);

/** M_l(s) = Integral dx x^{s-1} j_l(x), s = sr + i si, as [re, im]; needs -l < sr < 2. */
export function besselMellin(l: number, sr: number, si: number): [number, number] {
  const [ar, ai] = lnGammaComplex((l + sr) / 2, si / 2);
  const [br, bi] = lnGammaComplex((3 + l - sr) / 2, -si / 2);
  const lr = HALF_LN_PI + (sr - 2) * Math.LN2 + ar - br;
  const li = si * Math.LN2 + ai - bi;
  const m = Math.exp(lr);
  return [m * Math.cos(li), m * Math.sin(li)];
}

/** The factors U_m = M_l(nu + 1 - p + i eta_m), m = 0..N/2 (the Nyquist entry real: what a real transform keeps). */
export interface BesselTable {
  readonly re: Float64Array;
  readonly im: Float64Array;
}

const TABLES = new Map<string, BesselTable>();
const TABLES_MAX = 8192;

/**
 * The table of (N, D, nu, l, p), made once and cached (a few thousand entries: every multipole of a few
 * configurations). Cosmology never enters it.
 */
export function besselTable(n: number, dln: number, nu: number, l: number, p: number): BesselTable {
  const key = `${n}|${dln}|${nu}|${l}|${p}`;
  let t = TABLES.get(key);
  if (t) return t;
  const sr = nu + 1 - p;
  if (!(sr > -l && sr < 2))
    throw new Error(`FFTLog: the bias nu = ${nu} is outside the convergence strip of j_l(x)/x^${p} at l = ${l} (need ${-l + p - 1} < nu < ${1 + p})`);
  const h = n / 2;
  const re = new Float64Array(h + 1), im = new Float64Array(h + 1);
  for (let m = 0; m <= h; m++) {
    const [a, b] = besselMellin(l, sr, (2 * Math.PI * m) / (n * dln));
    re[m] = a;
    im[m] = m === 0 || m === h ? 0 : b;
  }
  if (TABLES.size >= TABLES_MAX) TABLES.clear();
  t = { re, im };
  TABLES.set(key, t);
  return t;
}

/**
 * The spectrum of a sampled function: c_m c^{-i eta_m} = rfft(x)_m e^{-i eta_m lnC} into (re, im) (length
 * N/2 + 1), where x is already weighted (f chi^{-nu} in a forward transform, a bar in a pullback).
 */
export function fftLogSpectrum(plan: RealFftPlan, dln: number, lnC: number, x: ArrayLike<number>, re: Float64Array, im: Float64Array): void {
  rfft(plan, x, re, im);
  const n = plan.n;
  if (lnC === 0) return;
  for (let m = 1; m <= n / 2; m++) {
    const ph = (-2 * Math.PI * m * lnC) / (n * dln);
    const c = Math.cos(ph), s = Math.sin(ph);
    const a = re[m], b = im[m];
    re[m] = a * c - b * s;
    im[m] = a * s + b * c;
  }
  im[n / 2] = 0;
}

/**
 * G = (1/N) sum_m y_m e^{-2 pi i m n / N} with y = spectrum x table (the transform of one (l, p)), into `out`
 * (length N). `wr`, `wi` are work arrays of length N/2 + 1.
 */
export function fftLogApply(plan: RealFftPlan, re: Float64Array, im: Float64Array, t: BesselTable, out: Float64Array, wr: Float64Array, wi: Float64Array): void {
  const h = plan.n / 2;
  // conj(y): the forward-sign sum of a Hermitian sequence is the inverse transform of its conjugate
  for (let m = 0; m <= h; m++) {
    const a = re[m], b = im[m], u = t.re[m], v = t.im[m];
    wr[m] = a * u - b * v;
    wi[m] = -(a * v + b * u);
  }
  irfft(plan, wr, wi, out);
}
