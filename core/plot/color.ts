/**
 * Colours: a qualitative palette, viridis, and `orderedColors(n)`: n OKLCH hues ordered from blue through
 * green and orange to purple, readable on white. Use it for ordered categories such as tomographic bins.
 */

/** Matplotlib's tab10 (Tableau 10). */
export const CATEGORY10 = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

const hex2 = (v: number) => Math.round(Math.min(255, Math.max(0, v * 255))).toString(16).padStart(2, '0');
export const rgbHex = (r: number, g: number, b: number): string => `#${hex2(r)}${hex2(g)}${hex2(b)}`;

/** sRGB (0..1, gamma encoded) of an OKLCH colour; null when outside the sRGB gamut. */
export function oklchToRgb(L: number, C: number, hDeg: number): [number, number, number] | null {
  const h = (hDeg * Math.PI) / 180;
  const a = C * Math.cos(h), b = C * Math.sin(h);
  const l_ = L + 0.3963377774 * a + 0.2158037573 * b;
  const m_ = L - 0.1055613458 * a - 0.0638541728 * b;
  const s_ = L - 0.0894841775 * a - 1.291485548 * b;
  const l = l_ ** 3, m = m_ ** 3, s = s_ ** 3;
  const lin = [
    4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
    -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
    -0.0041960863 * l - 0.7034186147 * m + 1.707614701 * s,
  ];
  if (lin.some((v) => v < -1e-4 || v > 1 + 1e-4)) return null;
  const enc = (v: number) => { v = Math.min(1, Math.max(0, v)); return v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055; };
  return [enc(lin[0]), enc(lin[1]), enc(lin[2])];
}

/** OKLCH to hex, reducing chroma until the colour is in gamut. */
export function oklch(L: number, C: number, hDeg: number): string {
  for (let c = C; c >= 0; c -= 0.005) {
    const rgb = oklchToRgb(L, c, hDeg);
    if (rgb) return rgbHex(...rgb);
  }
  const g = oklchToRgb(L, 0, 0)!;
  return rgbHex(...g);
}

/**
 * n ordered colours: hue from blue (270°) round through cyan, green, olive, orange and red to purple
 * (-30°), lightness alternating between 0.64 and 0.5 so that neighbours differ in two ways; all are
 * dark enough to read as thin lines on white.
 */
export function orderedColors(n: number): string[] {
  if (n <= 0) return [];
  if (n === 1) return [oklch(0.55, 0.16, 255)];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = i / (n - 1);
    const h = (((270 - t * 300) % 360) + 360) % 360;
    out.push(oklch(i % 2 ? 0.5 : 0.64, 0.2, h));
  }
  return out;
}

const VIRIDIS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'];

/** Viridis at t in [0, 1] (linear interpolation between 10 anchors). */
export function viridis(t: number): string {
  t = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(t));
  const f = t - i;
  const c = (s: string, k: number) => parseInt(s.slice(1 + 2 * k, 3 + 2 * k), 16) / 255;
  const mix = (k: number) => c(VIRIDIS[i], k) * (1 - f) + c(VIRIDIS[i + 1], k) * f;
  return rgbHex(mix(0), mix(1), mix(2));
}

/** A lighter version of a hex colour (mixed with white; f = 0 unchanged, 1 white). */
export function lighten(hex: string, f: number): string {
  const m = /^#([0-9a-f]{6})$/i.exec(hex);
  if (!m) return hex;
  const v = (k: number) => parseInt(m[1].slice(2 * k, 2 * k + 2), 16) / 255;
  return rgbHex(v(0) + (1 - v(0)) * f, v(1) + (1 - v(1)) * f, v(2) + (1 - v(2)) * f);
}
