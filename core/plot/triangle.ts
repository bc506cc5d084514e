/**
 * Triangle ("corner") plot of Gaussian posteriors given by covariance matrices (e.g. inverse Fisher
 * matrices): for every pair (i, j), i > j, the 2-D confidence ellipses of (theta_j, theta_i) centred on
 * the fiducial; on the diagonal the 1-D marginal Gaussians, titled "name = mu ± sigma".
 *
 * Contours: by default the joint 2-D 68.27% and 95.45% regions (k = 1.515, 2.486; Delta chi^2 = 2.30,
 * 6.18), the usual "1-sigma / 2-sigma" Fisher ellipses; contours: 'marginal' draws k = 1, 2 instead
 * (ellipses whose shadows on each axis are the 1-D 1-sigma / 2-sigma intervals).
 */
import { lighten, CATEGORY10 } from './color.js';
import { ellipseScaleForProbability, probabilityOfSigma } from './ellipse.js';
import { Figure, type LegendEntry } from './figure.js';
import { formatNumber, formatScientific } from './text.js';

export interface TriangleSet {
  cov: number[][];
  label?: string;
  color?: string;
  /** Centre of this set's ellipses (default: the main fiducial). */
  fiducial?: number[];
}

export interface TriangleOptions {
  /** Display labels (text.ts markup, e.g. 'Ω_{m}'), by position or by name; default the names. */
  labels?: string[] | Record<string, string>;
  title?: string;
  /** Plot-area size of each panel in px (default: about 1000 px / n, within [120, 260]). */
  panelSize?: number;
  /** 'joint-2d' (default): 68.27% / 95.45% 2-D regions; 'marginal': k = 1, 2. */
  contours?: 'joint-2d' | 'marginal';
  /** Colour and legend label of the main covariance. */
  color?: string;
  label?: string;
  /** Further covariances drawn on top (method or survey comparisons). */
  extra?: TriangleSet[];
  /** Axis half-range in units of the largest sigma of the sets (default 3.2). */
  range?: number;
  /** "name = mu ± sigma" above the diagonal panels (default true). */
  showValues?: boolean;
  fontSize?: number;
}

/** mu ± sigma with sigma to two significant digits. */
export function formatMeanSigma(mu: number, sigma: number): string {
  if (!(sigma > 0) || !Number.isFinite(sigma)) return `${formatNumber(mu, 3)}`;
  const e = Math.floor(Math.log10(sigma));
  if (e < -4 || e > 5 || Math.abs(mu) >= 1e6) return `${formatScientific(mu, Math.max(1, Math.floor(Math.log10(Math.abs(mu) || sigma)) - e + 1))} ± ${formatScientific(sigma, 1)}`;
  const dec = Math.max(0, 1 - e);
  const fix = (v: number) => (Math.abs(v) < 0.5 * 10 ** -dec ? 0 : v).toFixed(dec).replace('-', '\u2212');
  return `${fix(mu)} ± ${fix(sigma)}`;
}

function check(names: string[], fiducial: number[], cov: number[][], what: string): void {
  const n = names.length;
  if (fiducial.length !== n) throw new Error(`triangle plot: ${fiducial.length} fiducial values for ${n} parameters`);
  if (cov.length !== n || cov.some((r) => r.length !== n)) throw new Error(`triangle plot: ${what} is not ${n}x${n}`);
  for (let i = 0; i < n; i++) {
    if (!(cov[i][i] > 0) || !Number.isFinite(cov[i][i])) throw new Error(`triangle plot: ${what} has variance ${cov[i][i]} for ${names[i]} (must be positive and finite)`);
    for (let j = 0; j < i; j++) {
      const rho = cov[i][j] / Math.sqrt(cov[i][i] * cov[j][j]);
      if (!(Math.abs(rho) <= 1 + 1e-9)) throw new Error(`triangle plot: ${what} gives correlation ${rho} between ${names[j]} and ${names[i]}`);
    }
  }
}

export function triangleSvg(names: string[], fiducial: number[], cov: number[][], opts: TriangleOptions = {}): string {
  const n = names.length;
  if (n < 1) throw new Error('triangle plot: no parameters');
  check(names, fiducial, cov, 'the covariance');
  const main = { cov, color: opts.color ?? CATEGORY10[0], fiducial, label: opts.label };
  const all = [main, ...(opts.extra ?? []).map((s, k) => ({ cov: s.cov, color: s.color ?? CATEGORY10[(k + 1) % CATEGORY10.length], fiducial: s.fiducial ?? fiducial, label: s.label }))];
  all.forEach((s, k) => { if (k > 0) check(names, s.fiducial, s.cov, `covariance ${k + 1}${s.label ? ` (${s.label})` : ''}`); });

  const label = (i: number): string => {
    const l = opts.labels;
    if (Array.isArray(l)) return l[i] ?? names[i];
    if (l && l[names[i]] !== undefined) return l[names[i]];
    return names[i];
  };
  const ks = opts.contours === 'marginal' ? [2, 1] : [ellipseScaleForProbability(probabilityOfSigma(2)), ellipseScaleForProbability(probabilityOfSigma(1))];
  const halfRange = opts.range ?? 3.2;
  const lo: number[] = [], hi: number[] = [];
  for (let i = 0; i < n; i++) {
    let a = Infinity, b = -Infinity;
    for (const s of all) {
      const sig = Math.sqrt(s.cov[i][i]);
      a = Math.min(a, s.fiducial[i] - halfRange * sig);
      b = Math.max(b, s.fiducial[i] + halfRange * sig);
    }
    lo.push(a); hi.push(b);
  }

  const size = opts.panelSize ?? Math.round(Math.min(260, Math.max(120, 1000 / n)));
  const fig = new Figure({ rows: n, cols: n, panelWidth: size, panelHeight: size, title: opts.title, fontSize: opts.fontSize, wspace: 0, hspace: 0 });
  const showValues = opts.showValues ?? true;

  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      const p = fig.panel(i, j);
      p.setX({ min: lo[j], max: hi[j], tickLabels: i === n - 1, label: i === n - 1 ? label(j) : undefined, grid: false });
      if (i === j) {
        p.setY({ min: 0, max: 1.12, ticks: false, grid: false });
        const m = 241;
        const xs = Array.from({ length: m }, (_, t) => lo[i] + ((hi[i] - lo[i]) * t) / (m - 1));
        for (const s of all) {
          const sig = Math.sqrt(s.cov[i][i]);
          const ys = xs.map((x) => Math.exp(-0.5 * ((x - s.fiducial[i]) / sig) ** 2));
          if (all.length === 1) {
            const inner = xs.map((x, t) => (Math.abs(x - s.fiducial[i]) <= sig ? ys[t] : NaN));
            p.area(xs.filter((_, t) => Number.isFinite(inner[t])), ys.filter((_, t) => Number.isFinite(inner[t])), 0, { color: s.color, opacity: 0.22 });
          }
          p.line(xs, ys, { color: s.color, width: 1.8 });
        }
        p.vline(fiducial[i], { color: '#777777', width: 1, dash: '4 3' });
        if (showValues) p.setTitle(`${label(i)} = ${formatMeanSigma(fiducial[i], Math.sqrt(cov[i][i]))}`);
      } else {
        p.setY({ min: lo[i], max: hi[i], tickLabels: j === 0, label: j === 0 ? label(i) : undefined, grid: false });
        // all outer (2-sigma) contours first, then all inner ones, so no set hides another's core
        for (const [level, k] of ks.entries()) {
          for (const s of all) {
            const c2 = [[s.cov[j][j], s.cov[j][i]], [s.cov[i][j], s.cov[i][i]]];
            const outer = level === 0;
            p.ellipse(s.fiducial[j], s.fiducial[i], c2, {
              nSigma: k, color: s.color, width: outer ? 1.3 : 1.7,
              fill: lighten(s.color, outer ? 0.7 : 0.3),
              fillOpacity: all.length > 1 ? (outer ? 0.3 : 0.45) : (outer ? 0.6 : 0.75),
            });
          }
        }
        p.vline(fiducial[j], { color: '#555555', width: 0.8, dash: '4 3', opacity: 0.7 });
        p.hline(fiducial[i], { color: '#555555', width: 0.8, dash: '4 3', opacity: 0.7 });
        p.markers([fiducial[j]], [fiducial[i]], { shape: 'plus', color: '#222222', size: 9 });
      }
    }
  }

  const entries: LegendEntry[] = [];
  if (all.length > 1 || opts.label) {
    for (const s of all) entries.push({ label: s.label ?? 'covariance', kind: 'patch', color: s.color, fill: lighten(s.color, 0.25), fillOpacity: 0.75 });
  }
  const note = opts.contours === 'marginal'
    ? ['ellipses: k = 1, 2', '(1-D 1σ, 2σ shadows)']
    : ['ellipses: 68.3%, 95.4%', '(joint 2-D, Δχ^{2} = 2.30, 6.18)'];
  if (n >= 2) {
    for (const s of note) entries.push({ label: s, kind: 'none' });
    fig.legend(entries, { position: 'inside-top-right' });
  }
  return fig.toSvg();
}
