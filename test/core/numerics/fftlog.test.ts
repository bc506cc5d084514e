/**
 * The FFTLog pieces (core/numerics/fft.ts, complex-gamma.ts, fftlog.ts) against independent results: the real FFT
 * against a direct DFT, ln Gamma against closed forms, and the spherical Bessel transform against the analytic
 *   Integral_0^inf dr r^{l+2} e^{-r^2/2} j_l(k r) = sqrt(pi/2) k^l e^{-k^2/2}
 * (the 3D Fourier transform of r^l Y_lm e^{-r^2/2}), and its j_l/x^2 form against the recurrence
 * j_l/x^2 = [(j_{l-2} + j_l)/(2l-1) + (j_l + j_{l+2})/(2l+3)]/(2l+1) applied to plain transforms.
 */
import { describe, expect, it } from 'vitest';
import { irfft, realFftPlan, rfft } from '../../../core/numerics/fft.js';
import { lnGammaComplex } from '../../../core/numerics/complex-gamma.js';
import { besselMellin, besselTable, fftLogApply, fftLogSpectrum } from '../../../core/numerics/fftlog.js';

describe('real FFT', () => {
  it.each([8, 64, 1024])('n = %i: matches a direct DFT and inverts', (n) => {
    const x = Float64Array.from({ length: n }, (_, j) => Math.sin(0.37 * j * j + 1) + 0.1 * j);
    const p = realFftPlan(n);
    const re = new Float64Array(n / 2 + 1), im = new Float64Array(n / 2 + 1);
    rfft(p, x, re, im);
    let worst = 0;
    for (let m = 0; m <= n / 2; m++) {
      let a = 0, b = 0;
      for (let j = 0; j < n; j++) { a += x[j] * Math.cos((2 * Math.PI * m * j) / n); b -= x[j] * Math.sin((2 * Math.PI * m * j) / n); }
      worst = Math.max(worst, Math.abs(a - re[m]), Math.abs(b - im[m]));
    }
    expect(worst).toBeLessThan(1e-10 * n);
    const back = new Float64Array(n);
    irfft(p, re, im, back);
    for (let j = 0; j < n; j++) expect(back[j]).toBeCloseTo(x[j], 12);
  });
});

describe('complex ln Gamma', () => {
  it('closed forms', () => {
    expect(lnGammaComplex(0.5, 0)[0]).toBeCloseTo(0.5 * Math.log(Math.PI), 14);
    expect(lnGammaComplex(11, 0)[0]).toBeCloseTo(Math.log(3628800), 12);
    // ln Gamma(1 + i) = -0.6509231993018563 - 0.3016403204675331 i (DLMF 5.4 / tabulated)
    const [r, i] = lnGammaComplex(1, 1);
    expect(r).toBeCloseTo(-0.6509231993018563, 13);
    expect(i).toBeCloseTo(-0.3016403204675331, 13);
    // |Gamma(1/2 + i y)|^2 = pi / cosh(pi y)
    for (const y of [0.3, 5, 40]) expect(2 * lnGammaComplex(0.5, y)[0]).toBeCloseTo(Math.log(Math.PI / Math.cosh(Math.PI * y)), 10);
    // reflection branch: Gamma(-0.5) = -2 sqrt(pi)
    expect(Math.exp(lnGammaComplex(-0.5, 0)[0])).toBeCloseTo(2 * Math.sqrt(Math.PI), 12);
    // large argument: ln Gamma(1000.5) - ln Gamma(999.5) = ln(999.5)
    expect(lnGammaComplex(1000.5, 3)[0] - lnGammaComplex(999.5, 3)[0]).toBeCloseTo(0.5 * Math.log(999.5 ** 2 + 9), 9);
  });
  it('the Mellin transform of j_0 at s = 1: Integral sin(x)/x dx = pi/2', () => {
    expect(besselMellin(0, 1, 0)[0]).toBeCloseTo(Math.PI / 2, 13);
  });
});

/** F(k_n) of f sampled on chi_m = chi0 e^{m D} by FFTLog (bias nu), for j_l / x^p. */
function transform(f: (chi: number) => number, chi0: number, nIn: number, N: number, dln: number, lnC: number, l: number, p: number, nu = 0.5) {
  const plan = realFftPlan(N);
  const x = new Float64Array(N);
  for (let m = 0; m < nIn; m++) { const c = chi0 * Math.exp(m * dln); x[m] = f(c) * Math.pow(c, -nu); }
  const re = new Float64Array(N / 2 + 1), im = new Float64Array(N / 2 + 1);
  fftLogSpectrum(plan, dln, lnC, x, re, im);
  const G = new Float64Array(N);
  fftLogApply(plan, re, im, besselTable(N, dln, nu, l, p), G, new Float64Array(N / 2 + 1), new Float64Array(N / 2 + 1));
  const k = Float64Array.from(G, (_, n) => Math.exp(lnC + n * dln) / chi0);
  return { k, F: Float64Array.from(G, (g, n) => g * Math.pow(k[n], -nu - 1)) };
}

describe('FFTLog spherical Bessel transform', () => {
  it.each([2, 10, 100])('l = %i: the Gaussian-weighted transform against its closed form', (l) => {
    // f = (r/r*)^{l+2} e^{-(r^2 - r*^2)/2}, r* = sqrt(l+2): F(k) = sqrt(pi/2) k^l e^{-k^2/2} e^{r*^2/2} / r*^{l+2}
    const rs = Math.sqrt(l + 2);
    const f = (r: number) => Math.exp((l + 2) * Math.log(r / rs) - (r * r - rs * rs) / 2);
    const dln = 0.01, chi0 = rs * Math.exp(-6), nIn = Math.ceil(8 / dln), N = 4096;
    const lnC = Math.log(0.05 * chi0 / rs);
    const { k, F } = transform(f, chi0, nIn, N, dln, lnC, l, 0);
    let worst = 0;
    for (let n = 0; n < N; n++) {
      const lnExact = 0.5 * Math.log(Math.PI / 2) + l * Math.log(k[n]) - (k[n] * k[n]) / 2 + (rs * rs) / 2 - (l + 2) * Math.log(rs);
      const exact = Math.exp(lnExact);
      // where the transform is not negligible (within e^-20 of its peak, k^l e^{-k^2/2} at k = sqrt(l))
      const peak = Math.exp(0.5 * Math.log(Math.PI / 2) + (l / 2) * Math.log(l) - l / 2 + (rs * rs) / 2 - (l + 2) * Math.log(rs));
      if (exact < 1e-8 * peak) continue;
      worst = Math.max(worst, Math.abs(F[n] - exact) / peak);
    }
    // (the input is cut at r = r* e^-6, where f ~ e^-24: the residual at l = 2 is 3e-10)
    expect(worst).toBeLessThan(1e-9);
  });

  it.each([2, 20, 300])('l = %i: j_l/x^2 equals the recurrence over plain transforms at l-2, l, l+2', (l) => {
    const f = (r: number) => Math.exp(-0.5 * ((r - 1500) / 120) ** 2);
    const dln = 0.01, chi0 = 500, nIn = Math.ceil(Math.log(8) / dln), N = 4096;
    const lnC = Math.log(((l + 0.5) * 0.02 * chi0) / 4000);
    const p2 = transform(f, chi0, nIn, N, dln, lnC, l, 2);
    const t = (L: number) => transform(f, chi0, nIn, N, dln, lnC, L, 0).F;
    const a = t(l), b = t(l + 2);
    const c = l >= 2 ? t(l - 2) : new Float64Array(N);
    let worst = 0, peak = 0;
    for (let n = 0; n < N; n++) peak = Math.max(peak, Math.abs(p2.F[n]));
    for (let n = 0; n < N; n++) {
      const x2 = ((c[n] + a[n]) / (2 * l - 1) + (a[n] + b[n]) / (2 * l + 3)) / (2 * l + 1);
      worst = Math.max(worst, Math.abs(p2.F[n] - x2) / peak);
    }
    expect(worst).toBeLessThan(1e-9);
  });

  it.each([[10, 0], [10, 2], [300, 0]])('l = %i, p = %i: the map is symmetric (its transpose, the pullback, is the same transform)', (l, p) => {
    const N = 1024, dln = 0.02, lnC = -7.3;
    let seed = 1;
    const rnd = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647 - 0.5; };
    const a = Float64Array.from({ length: N }, rnd), b = Float64Array.from({ length: N }, rnd);
    const T = (x: Float64Array) => {
      const plan = realFftPlan(N), re = new Float64Array(N / 2 + 1), im = new Float64Array(N / 2 + 1), out = new Float64Array(N);
      fftLogSpectrum(plan, dln, lnC, x, re, im);
      fftLogApply(plan, re, im, besselTable(N, dln, 0.5, l, p), out, new Float64Array(N / 2 + 1), new Float64Array(N / 2 + 1));
      return out;
    };
    const Ta = T(a), Tb = T(b);
    let x = 0, y = 0, scale = 0;
    for (let i = 0; i < N; i++) { x += a[i] * Tb[i]; y += Ta[i] * b[i]; scale += Math.abs(a[i] * Tb[i]); }
    expect(Math.abs(x - y) / scale).toBeLessThan(1e-15);
  });

  it('refuses a bias outside the convergence strip', () => {
    expect(() => besselTable(64, 0.1, 1.5, 10, 0)).toThrow(/convergence strip/);
  });
});
