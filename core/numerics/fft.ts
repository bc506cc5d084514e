/**
 * Real discrete Fourier transforms of power-of-two length n, on Float64Arrays (no complex objects):
 *
 *   rfft:   X_m = sum_{j<n} x_j e^{-2 pi i m j / n},              m = 0..n/2   (the other half is conj X_{n-m})
 *   irfft:  x_j = (1/n) sum_{m<n} X_m e^{+2 pi i m j / n},        from X_0..X_{n/2} (Im X_0, Im X_{n/2} ignored)
 *
 * so irfft(rfft(x)) = x. Both go through one complex FFT of length n/2 (iterative radix-2, decimation in time)
 * on z_j = x_{2j} + i x_{2j+1}, split or merged with the twiddles e^{-2 pi i m / n} (the standard "two real
 * transforms in one complex" packing, e.g. Press et al., Numerical Recipes, 3rd ed., sec. 12.3). A plan holds
 * the twiddle tables, the bit-reversal permutation and the work arrays; plans are cached by length, so a caller
 * allocates nothing per transform.
 */

export interface RealFftPlan {
  readonly n: number;
  /** n/2: the length of the packed complex transform. */
  readonly h: number;
  /** cos, sin of 2 pi t / h, t < h/2 (complex FFT twiddles). */
  readonly cosH: Float64Array;
  readonly sinH: Float64Array;
  /** cos, sin of 2 pi m / n, m <= h (split / merge twiddles). */
  readonly cosN: Float64Array;
  readonly sinN: Float64Array;
  readonly rev: Uint32Array;
  /** Work arrays of the packed transform (length h). */
  readonly re: Float64Array;
  readonly im: Float64Array;
}

const PLANS = new Map<number, RealFftPlan>();

/** The plan of length n (a power of two, >= 4), made once per length. */
export function realFftPlan(n: number): RealFftPlan {
  let p = PLANS.get(n);
  if (p) return p;
  if (!(Number.isInteger(n) && n >= 4 && (n & (n - 1)) === 0)) throw new Error(`realFftPlan: the length must be a power of two >= 4, got ${n}`);
  const h = n / 2;
  const cosH = new Float64Array(Math.max(1, h / 2)), sinH = new Float64Array(Math.max(1, h / 2));
  for (let t = 0; t < h / 2; t++) { cosH[t] = Math.cos((2 * Math.PI * t) / h); sinH[t] = Math.sin((2 * Math.PI * t) / h); }
  const cosN = new Float64Array(h + 1), sinN = new Float64Array(h + 1);
  for (let m = 0; m <= h; m++) { cosN[m] = Math.cos((2 * Math.PI * m) / n); sinN[m] = Math.sin((2 * Math.PI * m) / n); }
  const bits = Math.log2(h);
  const rev = new Uint32Array(h);
  for (let i = 0; i < h; i++) {
    let r = 0;
    for (let b = 0, x = i; b < bits; b++, x >>= 1) r = (r << 1) | (x & 1);
    rev[i] = r;
  }
  p = { n, h, cosH, sinH, cosN, sinN, rev, re: new Float64Array(h), im: new Float64Array(h) };
  PLANS.set(n, p);
  return p;
}

/** In-place complex FFT of the plan's work arrays (length h), sign -1 (forward) or +1 (unnormalised inverse). */
function complexFft(p: RealFftPlan, sign: 1 | -1): void {
  const { h, rev, re, im, cosH, sinH } = p;
  for (let i = 0; i < h; i++) {
    const j = rev[i];
    if (j > i) {
      let t = re[i]; re[i] = re[j]; re[j] = t;
      t = im[i]; im[i] = im[j]; im[j] = t;
    }
  }
  // size 2: twiddle 1
  for (let a = 0; a < h; a += 2) {
    const tr = re[a + 1], ti = im[a + 1];
    re[a + 1] = re[a] - tr; im[a + 1] = im[a] - ti;
    re[a] += tr; im[a] += ti;
  }
  for (let size = 4; size <= h; size <<= 1) {
    const half = size >> 1, step = h / size;
    // one twiddle per j, applied to every block (loaded once)
    for (let j = 0, t = 0; j < half; j++, t += step) {
      const wr = cosH[t], wi = sign * sinH[t];
      for (let a = j; a < h; a += size) {
        const b = a + half;
        const tr = wr * re[b] - wi * im[b];
        const ti = wr * im[b] + wi * re[b];
        re[b] = re[a] - tr; im[b] = im[a] - ti;
        re[a] += tr; im[a] += ti;
      }
    }
  }
}

/**
 * X = rfft(x): re[m], im[m] for m = 0..n/2 (arrays of length >= n/2 + 1). `x` has n entries from `xo`.
 */
export function rfft(p: RealFftPlan, x: ArrayLike<number>, re: Float64Array, im: Float64Array, xo = 0): void {
  const { h, cosN, sinN } = p;
  const zr = p.re, zi = p.im;
  for (let j = 0; j < h; j++) { zr[j] = x[xo + 2 * j]; zi[j] = x[xo + 2 * j + 1]; }
  complexFft(p, -1);
  re[0] = zr[0] + zi[0]; im[0] = 0;
  re[h] = zr[0] - zi[0]; im[h] = 0;
  for (let m = 1; m < h; m++) {
    const ar = zr[m], ai = zi[m], br = zr[h - m], bi = -zi[h - m]; // Z_m, conj Z_{h-m}
    const er = 0.5 * (ar + br), ei = 0.5 * (ai + bi);
    // O_m = (Z_m - conj Z_{h-m}) / (2i)
    const or_ = 0.5 * (ai - bi), oi = -0.5 * (ar - br);
    const c = cosN[m], s = sinN[m]; // e^{-i theta} = c - i s
    re[m] = er + c * or_ + s * oi;
    im[m] = ei + c * oi - s * or_;
  }
}

/**
 * x = irfft(X) (n entries into `out` from `oo`), X given by re[m], im[m], m = 0..n/2 (the imaginary parts of
 * X_0 and X_{n/2} are ignored: the transform of a real sequence has them zero).
 */
export function irfft(p: RealFftPlan, re: ArrayLike<number>, im: ArrayLike<number>, out: Float64Array, oo = 0): void {
  const { h, cosN, sinN } = p;
  const zr = p.re, zi = p.im;
  // Z_m = E_m + i O_m, E_m = (X_m + conj X_{h-m}) / 2, O_m = (X_m - conj X_{h-m}) e^{+i theta} / 2
  for (let m = 0; m < h; m++) {
    const ar = re[m], ai = m === 0 ? 0 : im[m];
    const br = re[h - m], bi = h - m === h || h - m === 0 ? 0 : -im[h - m];
    const er = 0.5 * (ar + br), ei = 0.5 * (ai + bi);
    const dr = 0.5 * (ar - br), di = 0.5 * (ai - bi);
    const c = cosN[m], s = sinN[m]; // e^{+i theta} = c + i s
    const or_ = dr * c - di * s, oi = dr * s + di * c;
    zr[m] = er - oi; zi[m] = ei + or_;
  }
  complexFft(p, 1);
  const inv = 1 / h;
  for (let j = 0; j < h; j++) { out[oo + 2 * j] = zr[j] * inv; out[oo + 2 * j + 1] = zi[j] * inv; }
}
