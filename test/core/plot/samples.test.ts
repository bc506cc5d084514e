/**
 * Renders the sample pictures (/tmp/cl-sample.png, /tmp/ellipses-sample.png, and their SVGs) from
 * synthetic data, and checks they are PNGs of the intended size. Look at them after a layout change.
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Figure, toPng, triangleSvg } from '../../../core/plot/index.js';
import { plotSpectra } from '../../../plugins/spectra/plot-spectra.js';
import { syntheticSpectra } from './synthetic.js';

const pngWidth = (png: Uint8Array) => new DataView(png.buffer, png.byteOffset).getUint32(16);

describe('sample pictures', () => {
  it('renders a 10-bin 3x2pt C_l grid to /tmp/cl-sample.png', async () => {
    const s = syntheticSpectra(10);
    const { svg, png } = await plotSpectra(s, 'cl-sample');
    writeFileSync('/tmp/cl-sample.svg', svg);
    writeFileSync('/tmp/cl-sample.png', png);
    expect(pngWidth(png)).toBeGreaterThanOrEqual(1600);
    expect(pngWidth(png)).toBeLessThanOrEqual(2400);
    // 210 spectra: 55 LL + 100 GL + 55 GG, each once in its i-panel and the symmetric ones twice, autos again in column 0
    expect(svg).toContain('cosmic shear (LL)');
  });

  it('renders a 3-bin C_l grid (small case)', async () => {
    const { svg, png } = await plotSpectra(syntheticSpectra(3, 40), 'cl-small');
    writeFileSync('/tmp/cl-sample-3bins.png', png);
    expect(svg.startsWith('<svg')).toBe(true);
  });

  it('renders a triangle plot to /tmp/ellipses-sample.png', async () => {
    const names = ['Omega_m', 'Omega_b', 'w0', 'wa', 'h', 'n_s', 'sigma_8'];
    const labels = ['Ω_{m}', 'Ω_{b}', 'w_{0}', 'w_{a}', 'h', 'n_{s}', 'σ_{8}'];
    const fid = [0.32, 0.05, -1, 0, 0.67, 0.96, 0.816];
    const sig = [0.012, 0.0025, 0.04, 0.15, 0.008, 0.004, 0.006];
    const rho = (i: number, j: number) => (i === j ? 1 : [[0, 1, -0.85], [2, 3, -0.9], [0, 6, -0.8], [1, 4, 0.7], [0, 2, 0.4]].find(([a, b]) => (a === i && b === j) || (a === j && b === i))?.[2] ?? 0.1 * Math.cos(i + 2 * j));
    const cov = sig.map((a, i) => sig.map((b, j) => rho(i, j) * a * b));
    const cov2 = cov.map((r, i) => r.map((v, j) => v * (i === 3 || j === 3 ? 0.5 : 0.8)));
    const svg = triangleSvg(names, fid, cov, { labels, title: 'Synthetic Fisher forecast', label: 'method A', extra: [{ cov: cov2, label: 'method B' }] });
    writeFileSync('/tmp/ellipses-sample.svg', svg);
    const png = await toPng(svg, { width: 1400 });
    writeFileSync('/tmp/ellipses-sample.png', png);
    expect(pngWidth(png)).toBe(1400);
  });

  it('renders a feature demo to /tmp/plot-demo.png', async () => {
    const fig = new Figure({ rows: 2, cols: 2, panelWidth: 460, panelHeight: 300, title: 'Feature demo: linear, log, symlog axes' });
    const x = Array.from({ length: 200 }, (_, i) => 0.05 * i);
    fig.panel(0, 0).setX({ label: 'time t [s]' }).setY({ label: 'amplitude' })
      .line(x, x.map(Math.sin), { label: 'sin t' })
      .line(x, x.map((t) => 0.5 * Math.cos(2 * t)), { label: '½ cos 2t', dash: '7 4' })
      .markers([1, 3, 5, 7, 9], [0.5, -0.5, 0.8, -0.2, 0.1], { label: 'data', shape: 'diamond' })
      .text(0.5, 0.06, 'text in axes coordinates', { coords: 'axes', anchor: 'middle' })
      .legend();
    const k = Array.from({ length: 100 }, (_, i) => 1e-4 * 1e6 ** (i / 99));
    fig.panel(0, 1).setX({ scale: 'log', label: 'k [h Mpc^{-1}]' }).setY({ scale: 'log', label: 'P(k) [h^{-3} Mpc^{3}]' })
      .line(k, k.map((q) => (2e4 * q) / (1 + (q / 0.02) ** 2.6)), { label: 'P(k)' })
      .line(k, k.map((q) => 1e3 * Math.sin(30 * q) / (1 + q)), { label: 'oscillating (|y|, dashed < 0)', negative: 'dashed' })
      .legend({ loc: 'lower left' });
    fig.panel(1, 0).setX({ label: 'x' }).setY({ scale: 'symlog', linthresh: 1, label: 'sinh-like (symlog)' })
      .line(x.map((t) => t - 5), x.map((t) => Math.sinh(2 * (t - 5))), { label: 'sinh 2x' })
      .hline(0, { color: '#888', dash: '2 2' }).legend({ loc: 'upper left' });
    fig.panel(1, 1).setX({ label: 'θ_{1}' }).setY({ label: 'θ_{2}' })
      .ellipse(0, 0, [[1, 0.6], [0.6, 0.8]], { nSigma: 2, fill: '#cfe0f5', color: '#1f77b4', label: '2σ' })
      .ellipse(0, 0, [[1, 0.6], [0.6, 0.8]], { nSigma: 1, fill: '#6fa3dc', color: '#1f77b4', label: '1σ' })
      .markers([0], [0], { shape: 'plus', color: '#000', size: 10 })
      .legend({ loc: 'outside right', title: 'contours' });
    const svg = fig.toSvg();
    writeFileSync('/tmp/plot-demo.svg', svg);
    writeFileSync('/tmp/plot-demo.png', await toPng(svg));
    expect(svg).toContain('contours');
  });
});
