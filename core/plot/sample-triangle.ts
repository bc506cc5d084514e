/**
 * Triangle ("corner") plot of posterior samples: on the diagonal the 1-D marginal densities (histograms smoothed
 * with a Gaussian kernel, 68% equal-tailed interval shaded, titled "name = mean ± sd"), below it the 2-D marginals
 * as filled highest-density regions holding 68.27% and 95.45% of the samples (contours.ts on a smoothed 2-D
 * histogram). Optionally a Gaussian (e.g. the inverse Fisher matrix) is overlaid: dashed 1-D curves and the
 * joint 2-D 68.27% / 95.45% ellipses (triangle.ts's convention), and reference values (the fiducial) marked.
 *
 * Densities are histograms on fine bins (1/8 of the parameter's sd in 1-D, 1/5 in 2-D) convolved with a Gaussian
 * kernel (a kernel density estimate on a grid, as getdist does: Lewis 2019, arXiv:1910.13970, section 3). Its width
 * is the rule-of-thumb bandwidth for N draws, h = 1.06 N^-1/5 sd in 1-D (Silverman 1986, eq. 3.28) and
 * N^-1/6 sd in 2-D (Scott 1992), times `smooth` (default 0.8: a little under-smoothed, because smoothing widens a
 * density, by a factor sqrt(1 + (smooth h / sd)^2): 1.7% in 1-D and 2.5% in 2-D for 2000 draws, so that the
 * contours can be set against the Fisher ellipses).
 */
import { CATEGORY10, lighten } from './color.js';
import { histogram2d, massContours, type DensityGrid } from './contours.js';
import { ellipseScaleForProbability, probabilityOfSigma } from './ellipse.js';
import { Figure, type LegendEntry } from './figure.js';
import { formatMeanSigma } from './triangle.js';

export interface SampleTriangleOptions {
  /** Display labels (text.ts markup), by position. */
  labels?: string[];
  title?: string;
  /** Sample weights (default 1). */
  weights?: ArrayLike<number>;
  /** A Gaussian to overlay: centre and covariance (n x n, row-major) in the same parameters. */
  gaussian?: { center: ArrayLike<number>; cov: ArrayLike<number>; label?: string };
  /** Reference values (the fiducial, the truth of a mock) marked on every panel. */
  reference?: ArrayLike<number>;
  /** Hard bounds of each parameter (prior ranges); densities are not drawn beyond them. */
  bounds?: [number, number][];
  /** Label of the samples in the legend. */
  label?: string;
  color?: string;
  /** Bins per axis of the 2-D histograms and of the 1-D ones (default: 5 and 8 per standard deviation). */
  bins2d?: number;
  bins1d?: number;
  /** Kernel width in units of the rule-of-thumb bandwidth (default 0.8; 0: no smoothing). */
  smooth?: number;
  panelSize?: number;
  fontSize?: number;
}

const GAUSSIAN_COLOR = '#d62728';

/** A normalised-later Gaussian kernel of width sigma (in bins), or [1] when sigma is not positive. */
function kernelOf(sigma: number): { k: Float64Array; r: number } {
  if (!(sigma > 0)) return { k: Float64Array.of(1), r: 0 };
  const r = Math.ceil(3 * sigma);
  return { k: Float64Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-0.5 * ((i - r) / sigma) ** 2)), r };
}

/**
 * In-place separable Gaussian smoothing of a grid (nx x ny, row-major by y), widths in bins along x and y; the
 * kernel is renormalised over the grid at the edges.
 */
function smoothGrid(z: Float64Array, nx: number, ny: number, sigmaX: number, sigmaY: number): void {
  const kx = kernelOf(sigmaX), ky = kernelOf(sigmaY);
  const tmp = new Float64Array(z.length);
  for (let j = 0; j < ny; j++)
    for (let i = 0; i < nx; i++) {
      let s = 0, w = 0;
      for (let t = -kx.r; t <= kx.r; t++) {
        const ii = i + t;
        if (ii < 0 || ii >= nx) continue;
        s += kx.k[t + kx.r] * z[j * nx + ii];
        w += kx.k[t + kx.r];
      }
      tmp[j * nx + i] = s / w;
    }
  for (let j = 0; j < ny; j++)
    for (let i = 0; i < nx; i++) {
      let s = 0, w = 0;
      for (let t = -ky.r; t <= ky.r; t++) {
        const jj = j + t;
        if (jj < 0 || jj >= ny) continue;
        s += ky.k[t + ky.r] * tmp[jj * nx + i];
        w += ky.k[t + ky.r];
      }
      z[j * nx + i] = s / w;
    }
}

/** Weighted quantile of x (linear interpolation of the weighted CDF at the sample points). */
function wquantile(x: ArrayLike<number>, w: ArrayLike<number> | undefined, p: number): number {
  const idx = Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  let total = 0;
  for (const i of idx) total += w ? w[i] : 1;
  let cum = 0;
  for (const i of idx) {
    cum += w ? w[i] : 1;
    if (cum >= p * total) return x[i];
  }
  return x[idx[idx.length - 1]];
}

function wmeanSd(x: ArrayLike<number>, w?: ArrayLike<number>): [number, number] {
  let sw = 0, s = 0;
  for (let i = 0; i < x.length; i++) { const wi = w ? w[i] : 1; sw += wi; s += wi * x[i]; }
  const m = s / sw;
  let v = 0;
  for (let i = 0; i < x.length; i++) { const wi = w ? w[i] : 1; v += wi * (x[i] - m) ** 2; }
  return [m, Math.sqrt(v / sw)];
}

/**
 * The SVG of a triangle plot of samples: `columns[i]` holds the draws of parameter i (all of the same length).
 */
export function sampleTriangleSvg(names: readonly string[], columns: readonly ArrayLike<number>[], o: SampleTriangleOptions = {}): string {
  const n = names.length;
  if (n < 1) throw new Error('sample triangle plot: no parameters');
  if (columns.length !== n) throw new Error(`sample triangle plot: ${columns.length} columns for ${n} parameters`);
  const N = columns[0].length;
  if (N < 2 || columns.some((c) => c.length !== N)) throw new Error(`sample triangle plot: every parameter needs the same number (>= 2) of draws`);
  const w = o.weights;
  const color = o.color ?? CATEGORY10[0];
  const label = (i: number) => o.labels?.[i] ?? names[i];
  const g = o.gaussian;
  const gsd = (i: number) => (g ? Math.sqrt(g.cov[i * n + i]) : NaN);

  // axis ranges: the samples' 0.1% .. 99.9% range padded by 15%, widened to the Gaussian's 3.2 sigma, kept in bounds
  const stats = columns.map((c) => wmeanSd(c, w));
  const lo: number[] = [], hi: number[] = [];
  for (let i = 0; i < n; i++) {
    let a = wquantile(columns[i], w, 0.001), b = wquantile(columns[i], w, 0.999);
    const pad = 0.15 * (b - a || Math.abs(a) * 0.01 || 1);
    a -= pad; b += pad;
    if (g && Number.isFinite(gsd(i)) && gsd(i) > 0) { a = Math.min(a, g.center[i] - 3.2 * gsd(i)); b = Math.max(b, g.center[i] + 3.2 * gsd(i)); }
    if (o.bounds) { a = Math.max(a, o.bounds[i][0]); b = Math.min(b, o.bounds[i][1]); }
    if (!(b > a)) { a -= 0.5; b += 0.5; }
    lo.push(a); hi.push(b);
  }

  const size = o.panelSize ?? Math.round(Math.min(220, Math.max(110, 1000 / n)));
  const fig = new Figure({ rows: n, cols: n, panelWidth: size, panelHeight: size, title: o.title, fontSize: o.fontSize ?? (n > 10 ? 12 : 14), wspace: 0, hspace: 0 });
  // bins per axis (fine, relative to each parameter's sd) and the kernel width in bins
  const smooth = o.smooth ?? 0.8;
  const sdOf = (i: number) => (stats[i][1] > 0 ? stats[i][1] : (hi[i] - lo[i]) / 8);
  const bins1Of = (i: number) => o.bins1d ?? Math.round(Math.min(400, Math.max(20, (8 * (hi[i] - lo[i])) / sdOf(i))));
  const bins2Of = (i: number) => o.bins2d ?? Math.round(Math.min(120, Math.max(16, (5 * (hi[i] - lo[i])) / sdOf(i))));
  const kernel1 = (i: number) => (smooth * 1.06 * N ** -0.2 * sdOf(i) * bins1Of(i)) / (hi[i] - lo[i]);
  const kernel2 = (i: number) => (smooth * N ** (-1 / 6) * sdOf(i) * bins2Of(i)) / (hi[i] - lo[i]);
  const ks = [ellipseScaleForProbability(probabilityOfSigma(2)), ellipseScaleForProbability(probabilityOfSigma(1))];

  for (let i = 0; i < n; i++) {
    // 1-D marginal
    const p = fig.panel(i, i);
    p.setX({ min: lo[i], max: hi[i], tickLabels: i === n - 1, label: i === n - 1 ? label(i) : undefined, grid: false });
    p.setY({ min: 0, max: 1.12, ticks: false, grid: false });
    const bins1 = bins1Of(i);
    const h = new Float64Array(bins1);
    const dx = (hi[i] - lo[i]) / bins1;
    for (let k = 0; k < N; k++) {
      const b = Math.floor((columns[i][k] - lo[i]) / dx);
      if (b >= 0 && b < bins1) h[b] += w ? w[k] : 1;
    }
    smoothGrid(h, bins1, 1, kernel1(i), 0);
    const peak = Math.max(...h) || 1;
    const xs = Array.from({ length: bins1 }, (_, b) => lo[i] + (b + 0.5) * dx);
    const ys = Array.from(h, (v) => v / peak);
    const [q16, q84] = [wquantile(columns[i], w, 0.16), wquantile(columns[i], w, 0.84)];
    const inner = xs.map((x) => x >= q16 && x <= q84);
    p.area(xs.filter((_, b) => inner[b]), ys.filter((_, b) => inner[b]), 0, { color, opacity: 0.25 });
    p.line(xs, ys, { color, width: 1.8 });
    if (g && gsd(i) > 0) {
      const m = 241;
      const gx = Array.from({ length: m }, (_, t) => lo[i] + ((hi[i] - lo[i]) * t) / (m - 1));
      p.line(gx, gx.map((x) => Math.exp(-0.5 * ((x - g.center[i]) / gsd(i)) ** 2)), { color: GAUSSIAN_COLOR, width: 1.3, dash: '5 3' });
    }
    if (o.reference) p.vline(o.reference[i], { color: '#555555', width: 0.9, dash: '3 3' });
    p.setTitle(`${label(i)} = ${formatMeanSigma(stats[i][0], stats[i][1])}`);

    // 2-D marginals of row i
    for (let j = 0; j < i; j++) {
      const q = fig.panel(i, j);
      q.setX({ min: lo[j], max: hi[j], tickLabels: i === n - 1, label: i === n - 1 ? label(j) : undefined, grid: false });
      q.setY({ min: lo[i], max: hi[i], tickLabels: j === 0, label: j === 0 ? label(i) : undefined, grid: false });
      const [nx, ny] = [bins2Of(j), bins2Of(i)];
      const grid: DensityGrid = histogram2d(columns[j], columns[i], { bins: [nx, ny], range: [[lo[j], hi[j]], [lo[i], hi[i]]], weights: w });
      smoothGrid(grid.z as Float64Array, nx, ny, kernel2(j), kernel2(i));
      let ok = false;
      for (let t = 0; t < grid.z.length; t++) if (grid.z[t] > 0) { ok = true; break; }
      if (ok) {
        const [c68, c95] = massContours(grid, [0.6827, 0.9545]);
        q.region(c95.polygons, { color, width: 1, fill: lighten(color, 0.65), fillOpacity: 0.85 });
        q.region(c68.polygons, { color, width: 1.2, fill: lighten(color, 0.2), fillOpacity: 0.85 });
      }
      if (g && gsd(i) > 0 && gsd(j) > 0) {
        const c2 = [[g.cov[j * n + j], g.cov[j * n + i]], [g.cov[i * n + j], g.cov[i * n + i]]];
        for (const k of ks) q.ellipse(g.center[j], g.center[i], c2, { nSigma: k, color: GAUSSIAN_COLOR, width: 1.2, dash: '5 3' });
      }
      if (o.reference) q.markers([o.reference[j]], [o.reference[i]], { shape: 'plus', color: '#222222', size: 8 });
    }
  }

  if (n >= 2) {
    const entries: LegendEntry[] = [
      { label: o.label ?? 'samples: 68%, 95%', kind: 'patch', color, fill: lighten(color, 0.2), fillOpacity: 0.85 },
    ];
    if (g) entries.push({ label: g.label ?? 'Gaussian: 68%, 95%', color: GAUSSIAN_COLOR, width: 1.3, dash: '5 3' });
    if (o.reference) entries.push({ label: 'fiducial', kind: 'marker', color: '#222222', marker: 'plus' });
    fig.legend(entries, { position: 'inside-top-right' });
  }
  return fig.toSvg();
}

const GREEK: Record<string, string> = {
  alpha: 'α', beta: 'β', gamma: 'γ', delta: 'δ', epsilon: 'ε', varepsilon: 'ε', zeta: 'ζ', eta: 'η', theta: 'θ', iota: 'ι',
  kappa: 'κ', lambda: 'λ', mu: 'μ', nu: 'ν', xi: 'ξ', pi: 'π', rho: 'ρ', sigma: 'σ', tau: 'τ', upsilon: 'υ', phi: 'φ',
  varphi: 'φ', chi: 'χ', psi: 'ψ', omega: 'ω', Gamma: 'Γ', Delta: 'Δ', Theta: 'Θ', Lambda: 'Λ', Xi: 'Ξ', Pi: 'Π',
  Sigma: 'Σ', Phi: 'Φ', Psi: 'Ψ', Omega: 'Ω', ell: 'ℓ',
};

/**
 * A LaTeX label ("\\Omega_{\\rm m}", "\\sigma_8", "n_{\\rm s}") as the plotting markup ("Ω_{m}", "σ_{8}", "n_{s}"):
 * Greek letters to Unicode, \rm / \mathrm dropped, one-character scripts braced. Enough for parameter labels.
 */
export function latexToMarkup(latex: string): string {
  let s = latex.replace(/\$/g, '');
  s = s.replace(/\\(?:mathrm|rm|mathit|it|textrm|text)\s*\{([^{}]*)\}/g, '$1').replace(/\\(?:rm|mathrm|it)\b\s*/g, '');
  s = s.replace(/\\([A-Za-z]+)/g, (m, name: string) => GREEK[name] ?? name);
  s = s.replace(/([_^])([^{])/g, '$1{$2}');
  // braces that do not open a script
  s = s.replace(/(^|[^_^])\{([^{}]*)\}/g, '$1$2');
  return s.replace(/\s+/g, ' ').trim();
}
