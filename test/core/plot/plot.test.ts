import { describe, expect, it } from 'vitest';
import { Resvg } from '@resvg/resvg-js';
import {
  Figure, Scale, autoDomain, covarianceEllipse, ellipsePoints, ellipseScaleForProbability, erf, escapeXml, fontFiles,
  formatMeanSigma, linearTicks, logTicks, measureText, orderedColors, parseRich, plainText, probabilityOfSigma,
  symlogTicks, toPng, triangleSvg,
} from '../../../core/plot/index.js';
import { plotSpectra } from '../../../plugins/spectra/plot-spectra.js';
import { syntheticSpectra } from './synthetic.js';

/** Minimal well-formedness check: tags balance, attributes quoted, no raw '<' or '&' in text. */
function checkXml(svg: string): void {
  const stack: string[] = [];
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<!--[\s\S]*?-->/g;
  let last = 0;
  for (let m = re.exec(svg); m; m = re.exec(svg)) {
    const between = svg.slice(last, m.index);
    expect(between, `text before ${m[0].slice(0, 40)}`).not.toMatch(/[<>]|&(?!(amp|lt|gt|quot|#39|#\d+);)/);
    last = re.lastIndex;
    if (m[0].startsWith('<!--')) continue;
    if (m[1]) expect(stack.pop(), `closing ${m[2]}`).toBe(m[2]);
    else if (!m[4]) stack.push(m[2]);
  }
  expect(svg.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
  // and resvg parses it
  expect(() => new Resvg(svg, { font: { fontFiles: fontFiles(), loadSystemFonts: false } })).not.toThrow();
}

const count = (s: string, sub: string | RegExp) => (typeof sub === 'string' ? s.split(sub).length - 1 : (s.match(sub) ?? []).length);
const fontSizes = (svg: string) => [...svg.matchAll(/font-size="([\d.]+)"/g)].map((m) => Number(m[1]));
const pngWidth = (png: Uint8Array) => new DataView(png.buffer, png.byteOffset).getUint32(16);
const pngHeight = (png: Uint8Array) => new DataView(png.buffer, png.byteOffset).getUint32(20);

describe('text', () => {
  it('escapes XML specials', () => {
    expect(escapeXml(`a<b & "c" 'd'>`)).toBe('a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;');
  });

  it('parses super/subscript markup and leaves plain underscores alone', () => {
    expect(parseRich('LL_1_1')).toEqual([{ text: 'LL_1_1', shift: 0 }]);
    expect(parseRich('10^{-9}')).toEqual([{ text: '10', shift: 0 }, { text: '-9', shift: 1 }]);
    expect(parseRich('C_{ℓ} x')).toEqual([{ text: 'C', shift: 0 }, { text: 'ℓ', shift: -1 }, { text: ' x', shift: 0 }]);
    expect(plainText('a\\^{b}')).toBe('a^{b}');
  });

  it('measures with the DejaVu Sans advance widths', () => {
    expect(measureText('0', 100)).toBeCloseTo((100 * 1303) / 2048, 6);
    expect(measureText('0123456789', 14)).toBeCloseTo(10 * 14 * 1303 / 2048, 6);
    expect(measureText('iiii', 14)).toBeLessThan(measureText('mmmm', 14));
  });
});

describe('ticks', () => {
  it('labels the decades of a log axis and puts minor ticks at 2..9 x 10^n', () => {
    const t = logTicks(10, 5000, 6);
    expect(t.major.map((m) => m.value)).toEqual([10, 100, 1000]);
    expect(t.major.map((m) => m.label)).toEqual(['10^{1}', '10^{2}', '10^{3}']);
    expect(t.minor).toEqual([20, 30, 40, 50, 60, 70, 80, 90, 200, 300, 400, 500, 600, 700, 800, 900, 2000, 3000, 4000, 5000]);
    const s = new Scale('log', 10, 1000);
    expect(s.frac(100)).toBeCloseTo(0.5, 14);
    expect(s.frac(10)).toBe(0);
    expect(s.frac(1000)).toBe(1);
    expect(Number.isNaN(s.frac(-1))).toBe(true);
  });

  it('labels every k-th decade on a long log axis (d3-scale\'s stride), negative exponents with a minus sign', () => {
    const t = logTicks(1e-9, 1e-1, 4);
    expect(t.major.map((m) => Math.round(Math.log10(m.value)))).toEqual([-8, -6, -4, -2]); // d3: every 2nd decade
    expect(t.major[0].label).toBe('10^{\u22128}');
    expect(t.minor.map((v) => Math.round(Math.log10(v)))).toEqual([-9, -7, -5, -3, -1]); // the unlabelled decades
    expect(logTicks(1e-9, 1e-1, 4, 'e').major[0].label).toBe('1e-8');
    // never more than maxMajor + 1 labels: d3's count is lowered until they fit
    for (const m of [2, 3, 5, 8]) expect(logTicks(1e-30, 1, m).major.length).toBeLessThanOrEqual(m + 1);
  });

  it('uses 1-2-5 ticks on short log ranges', () => {
    const t = logTicks(0.15, 3, 6);
    expect(t.major.map((m) => m.value)).toEqual([0.2, 0.5, 1, 2]);
    expect(t.major.map((m) => m.label)).toEqual(['0.2', '0.5', '1', '2']);
  });

  it('gives nice linear ticks (d3-scale: steps 1, 2, 5 x 10^k, at most maxMajor + 1) and minor ticks', () => {
    // count 5: step 2 (4 minor intervals); count 4 would give 6 ticks with step 2, so d3 is asked for 3: step 5
    expect(linearTicks(0, 10, 5).major.map((m) => m.value)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(linearTicks(0, 10, 5).minor).toEqual([0.5, 1, 1.5, 2.5, 3, 3.5, 4.5, 5, 5.5, 6.5, 7, 7.5, 8.5, 9, 9.5]);
    expect(linearTicks(0, 10, 4).major.map((m) => m.value)).toEqual([0, 5, 10]);
    expect(linearTicks(0, 10, 4).minor).toEqual([1, 2, 3, 4, 6, 7, 8, 9]);
    for (const [a, b] of [[0, 1], [-3.7, 12.1], [0.013, 0.97], [1e5, 1.7e5]]) {
      for (const m of [2, 3, 4, 6, 8]) expect(linearTicks(a, b, m).major.length).toBeLessThanOrEqual(m + 1);
    }
    expect(autoDomain('linear', 0.013, 0.97, { nice: true })).toEqual([0, 1]);
  });

  it('gives nice linear ticks and labels', () => {
    const t = linearTicks(0, 1, 5);
    expect(t.major.map((m) => m.value)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(t.major.map((m) => m.label)).toEqual(['0', '0.2', '0.4', '0.6', '0.8', '1.0']);
    expect(linearTicks(-1.1, -0.9, 4).major.map((m) => m.label)).toEqual(['\u22121.10', '\u22121.05', '\u22121.00', '\u22120.95', '\u22120.90']);
    expect(linearTicks(0, 3e-5, 3).major.map((m) => m.label)).toEqual(['0', '10^{\u22125}', '2×10^{\u22125}', '3×10^{\u22125}']);
  });

  it('symlog ticks are symmetric about 0', () => {
    const t = symlogTicks(-100, 100, 1, 9);
    expect(t.major.map((m) => m.value)).toEqual([-100, -10, -1, 0, 1, 10, 100]);
    const s = new Scale('symlog', -100, 100, 1);
    expect(s.frac(0)).toBeCloseTo(0.5, 14);
    expect(s.frac(-10)).toBeCloseTo(1 - s.frac(10), 14);
  });

  it('rounds log domains to 1-2-5 and caps their depth', () => {
    expect(autoDomain('log', 13, 4200)).toEqual([10, 5000]);
    expect(autoDomain('log', 1e-20, 1, { maxDecades: 6 })).toEqual([1e-6, 1]);
  });
});

describe('ellipses', () => {
  it('1-sigma ellipse of a diagonal covariance has semi-axes sigma_x, sigma_y', () => {
    const g = covarianceEllipse([[4, 0], [0, 1]]);
    expect(g.a).toBeCloseTo(2, 14);
    expect(g.b).toBeCloseTo(1, 14);
    expect(g.angle).toBeCloseTo(0, 14);
    const h = covarianceEllipse([[0.01, 0], [0, 0.09]], 2);
    expect(h.a).toBeCloseTo(0.6, 14);
    expect(h.b).toBeCloseTo(0.2, 14);
    expect(Math.abs(h.angle)).toBeCloseTo(Math.PI / 2, 14);
  });

  it('a correlated covariance gives the right orientation and shape', () => {
    const g = covarianceEllipse([[1, 0.8], [0.8, 1]]);
    expect(g.angle).toBeCloseTo(Math.PI / 4, 12);
    expect(g.a).toBeCloseTo(Math.sqrt(1.8), 12);
    expect(g.b).toBeCloseTo(Math.sqrt(0.2), 12);
    expect(g.rho).toBeCloseTo(0.8, 14);
    expect(covarianceEllipse([[1, -0.8], [-0.8, 1]]).angle).toBeCloseTo(-Math.PI / 4, 12);
    // unequal variances: major axis tilted less than 45 degrees towards the larger variance
    const u = covarianceEllipse([[4, 1], [1, 1]]);
    expect(u.angle).toBeCloseTo(0.5 * Math.atan2(2, 3), 12);
  });

  it('points lie on (x-mu)^T C^-1 (x-mu) = k^2 and span mu ± k sigma', () => {
    const C = [[0.04, -0.018], [-0.018, 0.0225]];
    const k = 1.5;
    const g = covarianceEllipse(C, k);
    const { x, y } = ellipsePoints(1, -2, g, 721);
    const det = C[0][0] * C[1][1] - C[0][1] ** 2;
    for (let i = 0; i < x.length; i++) {
      const dx = x[i] - 1, dy = y[i] + 2;
      const q = (C[1][1] * dx * dx - 2 * C[0][1] * dx * dy + C[0][0] * dy * dy) / det;
      expect(q).toBeCloseTo(k * k, 10);
    }
    expect(Math.max(...x) - 1).toBeCloseTo(k * 0.2, 5);
    expect(Math.max(...y) + 2).toBeCloseTo(k * 0.15, 5);
    expect(g.halfWidth).toBeCloseTo(k * 0.2, 14);
  });

  it('2-D confidence scales', () => {
    expect(erf(1 / Math.SQRT2)).toBeCloseTo(0.682689492137, 10);
    expect(erf(3)).toBeCloseTo(0.999977909503, 11);
    expect(ellipseScaleForProbability(probabilityOfSigma(1))).toBeCloseTo(1.5152, 4);
    expect(ellipseScaleForProbability(probabilityOfSigma(2))).toBeCloseTo(2.4860, 4);
    expect(() => covarianceEllipse([[1, 2], [2, 1]])).toThrow(/positive semi-definite/);
  });

  it('draws the ellipse where the axes put it', () => {
    const fig = new Figure({ panelWidth: 300, panelHeight: 300 });
    fig.panel().setX({ min: -3, max: 3 }).setY({ min: -3, max: 3 }).ellipse(0, 0, [[1, 0], [0, 4]], { color: '#123456' });
    const svg = fig.toSvg();
    const d = /<path d="([^"]+)"[^>]*class="ellipse"/.exec(svg)![1];
    const nums = d.match(/-?[\d.]+/g)!.map(Number);
    const xs = nums.filter((_, i) => i % 2 === 0), ys = nums.filter((_, i) => i % 2 === 1);
    const rect = /<clipPath id="clip-0-0"><rect x="([\d.]+)" y="([\d.]+)"/.exec(svg)!;
    const x0 = Number(rect[1]), y0 = Number(rect[2]);
    expect(Math.min(...xs) - x0).toBeCloseTo(100, 0); // 150 - 1 sigma x (50 px)
    expect(Math.max(...xs) - x0).toBeCloseTo(200, 0);
    expect(Math.min(...ys) - y0).toBeCloseTo(50, 0); // 150 - 2 sigma y (100 px)
    expect(Math.max(...ys) - y0).toBeCloseTo(250, 0);
  });
});

describe('Figure', () => {
  it('produces well-formed SVG with one path per series, legend labels, escaped text and legible sizes', () => {
    const fig = new Figure({ rows: 1, cols: 2, sharey: 'row', title: 'A <test> & "quotes"', xLabel: 'x' });
    const x = [1, 2, 3, 4];
    fig.panel(0, 0).setY({ label: 'y_{1} [Mpc^{-1}]' })
      .line(x, [1, 2, 3, 4], { color: '#aa0000', label: 'first <one>' })
      .line(x, [2, 3, 4, 5], { color: '#00aa00', label: 'second & two', dash: '4 2' })
      .markers(x, [1.5, 2.5, 3.5, 4.5], { color: '#0000aa', label: 'points' })
      .legend();
    fig.panel(0, 1).line(x, [4, 3, 2, 1], { color: '#aa00aa' }).text(2, 2, 'note <b>', { color: '#101010' });
    const svg = fig.toSvg();
    checkXml(svg);
    expect(svg).toContain('A &lt;test&gt; &amp; &quot;quotes&quot;');
    expect(svg).toContain('first &lt;one&gt;');
    expect(svg).toContain('second &amp; two');
    expect(svg).toContain('note &lt;b&gt;');
    expect(svg).not.toContain('<b>');
    // one data path per line (legend swatches are separate: 2 paths of each legend colour)
    expect(count(svg, 'stroke="#aa0000"')).toBe(2);
    expect(count(svg, 'stroke="#00aa00"')).toBe(2);
    expect(count(svg, 'stroke="#aa00aa"')).toBe(1);
    expect(count(svg, /<circle[^>]*stroke="#0000aa"/g)).toBe(4 + 1);
    // y label rendered with a subscript and a superscript
    expect(svg).toMatch(/<tspan[^>]*font-size="[\d.]+">1<\/tspan>/);
    expect(Math.min(...fontSizes(svg))).toBeGreaterThanOrEqual(11);
    // shared y: only the left panel has y tick labels
    expect(count(svg, 'class="panel"')).toBe(2);
  });

  it('shows sign changes as dashed |y| on a log axis', () => {
    const fig = new Figure();
    const x = [1, 2, 3, 4, 5, 6];
    fig.panel().setX({ scale: 'log' }).setY({ scale: 'log' }).line(x, [1, 0.5, -0.2, -0.4, 0.3, 1], { color: '#ff0000', negative: 'dashed' });
    const svg = fig.toSvg();
    const neg = /<path d="([^"]+)"[^>]*stroke="#ff0000"[^>]*class="negative"/.exec(svg);
    expect(neg).not.toBeNull();
    // segments 2-3, 3-4, 4-5 dashed: merged into one polyline of 4 points; 1-2 and 5-6 solid
    expect(count(neg![1], 'M')).toBe(1);
    expect(count(neg![1], 'L')).toBe(3);
    const solid = [...svg.matchAll(/<path d="([^"]+)"[^>]*stroke="#ff0000"(?![^>]*negative)[^>]*\/>/g)];
    expect(solid.length).toBe(1);
    expect(count(solid[0][1], 'M')).toBe(2);
    // the y range covers |y|
    checkXml(svg);
  });

  it('log axes label decades with superscripts', () => {
    const fig = new Figure({ panelWidth: 500 });
    fig.panel().setX({ scale: 'log', min: 10, max: 5000, label: 'multipole ℓ' }).setY({ scale: 'log' }).line([10, 5000], [1e-9, 1e-5]);
    const svg = fig.toSvg();
    for (const e of ['1', '2', '3']) expect(svg).toContain(`>10<tspan dy="-5.88" font-size="11.2">${e}</tspan>`);
    expect(svg).toContain('\u22129</tspan>');
  });

  it('sizes to a requested total width', () => {
    const fig = new Figure({ rows: 2, cols: 3, width: 1000, sharex: 'col', sharey: 'row' });
    for (let r = 0; r < 2; r++) for (let c = 0; c < 3; c++) fig.panel(r, c).line([0, 1], [r, c]);
    const svg = fig.toSvg();
    expect(svg).toMatch(/^<svg [^>]*width="1000"/);
    checkXml(svg);
  });

  it('ordered colours are distinct hex colours', () => {
    const c = orderedColors(10);
    expect(new Set(c).size).toBe(10);
    for (const h of c) expect(h).toMatch(/^#[0-9a-f]{6}$/);
  });
});

describe('triangleSvg', () => {
  const names = ['a', 'b', 'c'];
  const fid = [1, 0, -1];
  const cov = [[0.04, 0.01, 0], [0.01, 0.09, -0.02], [0, -0.02, 0.01]];

  it('draws 1- and 2-sigma ellipses for each pair and a Gaussian per parameter', () => {
    const svg = triangleSvg(names, fid, cov, { labels: { a: 'Ω_{m}', b: 'σ_{8}', c: 'w<0>' } });
    checkXml(svg);
    expect(count(svg, 'class="ellipse"')).toBe(3 * 2);
    expect(count(svg, 'class="panel"')).toBe(6);
    expect(svg).toContain('w&lt;0&gt;');
    expect(svg).toContain('Ω<tspan');
    expect(svg).toContain('± 0.20'); // sigma_a on the diagonal
    expect(Math.min(...fontSizes(svg))).toBeGreaterThanOrEqual(11);
    const two = triangleSvg(names, fid, cov, { extra: [{ cov: cov.map((r) => r.map((v) => v / 2)), label: 'half' }], label: 'full' });
    expect(count(two, 'class="ellipse"')).toBe(3 * 2 * 2);
    expect(two).toContain('>half<');
  });

  it('rejects malformed input', () => {
    expect(() => triangleSvg(names, [1, 2], cov)).toThrow(/fiducial/);
    expect(() => triangleSvg(names, fid, [[1, 0, 0], [0, -1, 0], [0, 0, 1]])).toThrow(/variance/);
    expect(() => triangleSvg(names, fid, [[1, 2, 0], [2, 1, 0], [0, 0, 1]])).toThrow(/correlation/);
  });

  it('formats mean ± sigma to two significant digits of sigma', () => {
    expect(formatMeanSigma(0.3201, 0.0123)).toBe('0.320 ± 0.012');
    expect(formatMeanSigma(0, 0.15)).toBe('0.00 ± 0.15');
    expect(formatMeanSigma(-1, 0.04)).toBe('\u22121.000 ± 0.040');
    expect(formatMeanSigma(67.4, 1.2)).toBe('67.4 ± 1.2');
  });
});

describe('toPng', () => {
  it('returns a PNG of the requested width', async () => {
    const fig = new Figure({ panelWidth: 300, panelHeight: 200, title: 'png' });
    fig.panel().line([0, 1], [0, 1]);
    const svg = fig.toSvg();
    const png = await toPng(svg, { width: 640 });
    expect(Array.from(png.slice(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(pngWidth(png)).toBe(640);
    const w = Number(/width="(\d+)"/.exec(svg)![1]), h = Number(/height="(\d+)"/.exec(svg)![1]);
    expect(pngHeight(png)).toBe(Math.round((640 * h) / w));
    expect(pngWidth(await toPng(svg))).toBe(w);
  });
});

describe('plotSpectra', () => {
  it('draws one row per probe, autos column plus one panel per bin, every pair present', async () => {
    const s = syntheticSpectra(4, 20);
    const { svg, png } = await plotSpectra(s, 'cl <test>');
    checkXml(svg);
    expect(svg).toContain('cl &lt;test&gt;');
    expect(count(svg, 'class="panel"')).toBe(3 * (1 + 4));
    for (const r of ['cosmic shear (LL)', 'galaxy-galaxy lensing (GL)', 'galaxy clustering (GG)']) expect(svg).toContain(r);
    // lines: autos 4 per row; LL, GG: 4 panels x 4 lines; GL: 4 x 4
    const dataPaths = count(svg, /<path d="M[^"]*" stroke="#[0-9a-f]{6}" stroke-width="(?:2|2\.6|1\.4)" fill="none" stroke-linejoin/g);
    expect(dataPaths).toBeGreaterThanOrEqual(3 * (4 + 16));
    expect(svg).toContain('class="negative"'); // the sign-changing GL spectra
    expect(Math.min(...fontSizes(svg))).toBeGreaterThanOrEqual(11);
    expect(pngWidth(png)).toBeGreaterThanOrEqual(1600);
    expect(pngWidth(png)).toBeLessThanOrEqual(2400);
  });

  it('rejects inconsistent sizes', async () => {
    const s = syntheticSpectra(2, 10);
    await expect(plotSpectra({ ...s, C: { value: new Float64Array(5), tangent: null, P: 0 } }, 'x')).rejects.toThrow(/expected/);
  });
});
