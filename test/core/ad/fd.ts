/** Central finite differences for checking forward-mode tangents (test helper). */

/** d f / d theta_p for every output component by central differences with relative step rel. */
export function centralFD(f: (theta: number[]) => Float64Array, theta: number[], rel = 1e-6): Float64Array[] {
  return theta.map((t, p) => {
    const h = rel * Math.max(1, Math.abs(t));
    const up = theta.slice(), dn = theta.slice();
    up[p] = t + h;
    dn[p] = t - h;
    const a = f(up), b = f(dn);
    return a.map((v, i) => (v - b[i]) / (2 * h));
  });
}

/** max_i |a_i - b_i| / max(scale, max|b|) */
export function relDiff(a: ArrayLike<number>, b: ArrayLike<number>, scale = 1e-300): number {
  let d = 0, m = scale;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}
