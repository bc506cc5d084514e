/**
 * The regression stencil's least-squares line (stemSlopes: ml-matrix's QR once per number of points, applied to
 * y_j - y_0) against the hand-written normal equations it replaced, and against a centred reference where those
 * lose digits to y_0.
 */
import { describe, expect, it } from 'vitest';
import { EUCLID_STEPS, stemSlopes } from '../../../plugins/differentiator/regression-stencil.js';

/** The SteM x: 0, then -s, +s for each step (as the differentiator builds it). */
const stencilX = (scale: number) => [0, ...EUCLID_STEPS.flatMap((f) => [-f * scale, f * scale])];

/** The previous implementation: normal equations from raw sums (kept here as the reference). */
function normalEquationSlopes(x: number[], Y: Float64Array[], tolerance: number, minPoints: number, measure: 'variation' | 'value' = 'variation'): Float64Array {
  const n = Y[0].length, J = x.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let m = J;
    for (;;) {
      let sx = 0, sy = 0, sxx = 0, sxy = 0;
      for (let j = 0; j < m; j++) { const xj = x[j], yj = Y[j][i]; sx += xj; sy += yj; sxx += xj * xj; sxy += xj * yj; }
      const b = (m * sxy - sx * sy) / (m * sxx - sx * sx);
      const a = (sy - b * sx) / m;
      out[i] = b;
      if (m - 2 < minPoints) break;
      let spread = 0, scale = 0;
      for (let j = 0; j < m; j++) { spread = Math.max(spread, Math.abs(Y[j][i] - Y[0][i])); scale = Math.max(scale, Math.abs(Y[j][i])); }
      if (spread <= 1e-14 * scale) break;
      let ok = true;
      for (let j = 0; j < m && ok; j++) {
        const fit = a + b * x[j];
        if (Math.abs(Y[j][i] - fit) > tolerance * (measure === 'variation' ? spread : Math.abs(fit))) ok = false;
      }
      if (ok) break;
      m -= 2;
    }
  }
  return out;
}

// deterministic pseudo-random numbers in [0, 1)
let seed = 7;
const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;

/** Elements y_i(x) = c_i + b_i x + q_i x^2 + k_i x^3 (curvature makes the fit drop outer pairs for some). */
function sample(x: number[], n: number, relativeSlope: number) {
  const c = Float64Array.from({ length: n }, () => 1 + rnd());
  const b = Float64Array.from({ length: n }, () => (rnd() < 0.5 ? -1 : 1) * (0.5 + rnd()) * relativeSlope); // away from 0
  const q = Float64Array.from({ length: n }, () => (rnd() - 0.5) * relativeSlope * 40 * (rnd() < 0.5 ? 1 : 0));
  const k = Float64Array.from({ length: n }, () => (rnd() - 0.5) * relativeSlope * 400 * (rnd() < 0.3 ? 1 : 0));
  const Y = x.map((xj) => Float64Array.from({ length: n }, (_, i) => c[i] + b[i] * xj + q[i] * xj * xj + k[i] * xj ** 3));
  return { Y, b };
}

describe('stemSlopes (least squares through ml-matrix QR)', () => {
  it('a straight line gives its slope (all 15 points kept)', () => {
    const x = stencilX(0.32);
    const Y = x.map((xj) => Float64Array.of(2 + 3 * xj, -1 - 0.5 * xj, 7));
    const s = stemSlopes(x, Y, 0.01, 3);
    expect(s[0] / 3 - 1).toBeLessThan(1e-13);
    expect(Math.abs(s[1] / -0.5 - 1)).toBeLessThan(1e-13);
    expect(s[2]).toBe(0);
  });

  it('equals the normal equations it replaced to 1e-12 where they are accurate (slope x step >~ 5 % of the value), both deviation measures', () => {
    const x = stencilX(1);
    const { Y } = sample(x, 4000, 1);
    // the curvature makes many elements drop outer pairs (so the fits for m < 15 are exercised)
    const all15 = normalEquationSlopes(x, Y, 1e9, 3);
    const dropped = stemSlopes(x, Y, 0.01, 3).filter((v, i) => Math.abs(v / all15[i] - 1) > 1e-9).length;
    console.log(`${dropped} of 4000 elements dropped outer pairs`);
    expect(dropped).toBeGreaterThan(500);
    for (const measure of ['variation', 'value'] as const) {
      const a = stemSlopes(x, Y, 0.01, 3, measure), b = normalEquationSlopes(x, Y, 0.01, 3, measure);
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] / b[i] - 1));
      console.log(`stemSlopes vs normal equations (${measure}): worst relative difference ${worst.toExponential(2)}`);
      expect(worst).toBeLessThan(1e-12);
    }
  });

  it('small slopes on a large value: exact to 1e-12 against a centred reference (the raw normal equations lose digits)', () => {
    // straight lines y = c + b x with |b x| ~ 1e-9 c: every point is kept, the least-squares slope over all 15 is
    // sum_j x_j (y_j - y_0) / sum_j x_j^2 (sum_j x_j = 0 exactly; y_j - y_0 is exact)
    const x = stencilX(0.05);
    const n = 2000;
    const c = Float64Array.from({ length: n }, () => 1 + rnd()), b = Float64Array.from({ length: n }, () => (rnd() - 0.5) * 1e-7);
    const Y = x.map((xj) => Float64Array.from({ length: n }, (_, i) => c[i] + b[i] * xj));
    const a = stemSlopes(x, Y, 0.01, 3), raw = normalEquationSlopes(x, Y, 0.01, 3);
    let worst = 0, worstRaw = 0;
    for (let i = 0; i < n; i++) {
      let sxd = 0, sxx = 0;
      for (let j = 1; j < x.length; j++) { sxd += x[j] * (Y[j][i] - Y[0][i]); sxx += x[j] * x[j]; }
      const ref = sxd / sxx;
      worst = Math.max(worst, Math.abs(a[i] / ref - 1));
      worstRaw = Math.max(worstRaw, Math.abs(raw[i] / ref - 1));
    }
    console.log(`slopes ~1e-7 of the value: stemSlopes vs centred reference ${worst.toExponential(2)}; the raw normal equations ${worstRaw.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-12);
  });
});
