/**
 * Autocovariance of a series by FFT (Wiener-Khinchin): pad the centred series with zeros to a power of two
 * n >= 2N (so that the circular correlation equals the linear one), take |X_k|^2 and transform back. O(N log N),
 * which matters for the long chains ESS is computed on (Vehtari et al. 2021, section 3.2; Geyer 1992).
 */

/** Twiddle factors e^{-2 pi i k / n}, k < n/2, computed directly (no accumulated recurrence error), cached by n (powers of two: a few sizes). */
const twiddleCache = new Map<number, { cr: Float64Array; ci: Float64Array }>();
function twiddles(n: number): { cr: Float64Array; ci: Float64Array } {
  let t = twiddleCache.get(n);
  if (!t) {
    const half = n >> 1;
    t = { cr: new Float64Array(half), ci: new Float64Array(half) };
    for (let k = 0; k < half; k++) {
      t.cr[k] = Math.cos((2 * Math.PI * k) / n);
      t.ci[k] = -Math.sin((2 * Math.PI * k) / n);
    }
    twiddleCache.set(n, t);
  }
  return t;
}

/** In-place radix-2 decimation-in-time FFT of (re, im), length a power of two: X_k = sum_j x_j e^{-2 pi i jk/n}. */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (im.length !== n || (n & (n - 1)) !== 0) throw new Error(`fft: lengths must be equal powers of two, got ${n} and ${im.length}`);
  // bit-reversal permutation
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i]; re[i] = re[j]; re[j] = t;
      t = im[i]; im[i] = im[j]; im[j] = t;
    }
  }
  const { cr, ci } = twiddles(n);
  for (let len = 2; len <= n; len <<= 1) {
    const h = len >> 1;
    const stride = n / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < h; k++) {
        const wr = cr[k * stride], wi = ci[k * stride];
        const a = i + k, b = a + h;
        const xr = re[b] * wr - im[b] * wi;
        const xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr; im[b] = im[a] - xi;
        re[a] += xr; im[a] += xi;
      }
    }
  }
}

/**
 * The biased autocovariance estimates gamma_t = (1/N) sum_{i<N-t} (x_i - xbar)(x_{i+t} - xbar), t = 0..N-1
 * (the estimator of Geyer 1992 and Vehtari et al. 2021; its division by N keeps the sequence positive definite).
 */
export function autocovariance(x: Float64Array): Float64Array {
  const N = x.length;
  const out = new Float64Array(N);
  if (N === 0) return out;
  let mean = 0;
  for (let i = 0; i < N; i++) mean += x[i];
  mean /= N;
  let n = 1;
  while (n < 2 * N) n <<= 1;
  const re = new Float64Array(n), im = new Float64Array(n);
  for (let i = 0; i < N; i++) re[i] = x[i] - mean;
  fft(re, im);
  for (let k = 0; k < n; k++) {
    re[k] = re[k] * re[k] + im[k] * im[k];
    im[k] = 0;
  }
  // |X|^2 is real and even, so its forward transform is n times its inverse transform
  fft(re, im);
  for (let t = 0; t < N; t++) out[t] = re[t] / (n * N);
  return out;
}
