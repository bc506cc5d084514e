/**
 * Renders the sample pictures (/tmp/cl-sample.png, /tmp/ellipses-sample.png, and their SVGs) from
 * synthetic data, and checks they are PNGs of the intended size. Look at them after a layout change.
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toPng, triangleSvg } from '../../../core/plot/index.js';
import { plotSpectra } from '../../../plugins/spectra/plot-spectra.js';
import type { Spectra } from '../../../plugins/contracts/spectra.js';

/** Synthetic 3x2pt-like spectra: power laws with bin-dependent amplitudes and some sign changes. */
export function syntheticSpectra(nBins = 10, nEll = 60): Spectra {
  const ell = Float64Array.from({ length: nEll }, (_, k) => 10 * 500 ** (k / (nEll - 1)));
  const names: string[] = [];
  const pairs: [number, number][] = [];
  const rows: Float64Array[] = [];
  const L = (i: number) => i - 1, G = (i: number) => nBins + i - 1;
  const toC = (D: (l: number) => number) => ell.map((l) => (2 * Math.PI * D(l)) / (l * (l + 1)));
  for (let i = 1; i <= nBins; i++) for (let j = i; j <= nBins; j++) {
    names.push(`LL_${i}_${j}`); pairs.push([L(i), L(j)]);
    const amp = 2e-6 * (1 + 0.6 * i) * (1 + 0.3 * (j - i)) ** -0.3 * (1 + 0.5 * j);
    rows.push(toC((l) => amp * (l / 100) ** 0.9 / (1 + (l / 2000) ** 0.8)));
  }
  for (let i = 1; i <= nBins; i++) for (let j = 1; j <= nBins; j++) {
    names.push(`GL_${i}_${j}`); pairs.push([G(i), L(j)]);
    if (j > i) {
      const amp = 4e-5 * (1 + 0.4 * (j - i)) / (1 + 0.1 * i);
      rows.push(toC((l) => amp * (l / 100) ** 0.8));
    } else {
      // lens bin in front of the source bin: small, negative (IA-like); (i, i) changes sign at l ~ 300
      const amp = 3e-7 * (1 + 0.3 * i) * 0.6 ** (i - j);
      rows.push(toC((l) => (j === i ? amp * 30 * (1 - (l / 300) ** 0.7) : -amp * (l / 100) ** 0.6)));
    }
  }
  for (let i = 1; i <= nBins; i++) for (let j = i; j <= nBins; j++) {
    names.push(`GG_${i}_${j}`); pairs.push([G(i), G(j)]);
    const amp = 3e-3 * (1 + 0.1 * i) * 0.12 ** (j - i);
    rows.push(toC((l) => amp * (l / 100) ** 1.1 / (1 + (l / 1500) ** 1.5)));
  }
  const value = new Float64Array(rows.length * nEll);
  rows.forEach((r, k) => value.set(r, k * nEll));
  const tracers = [...Array.from({ length: nBins }, (_, i) => `L${i + 1}`), ...Array.from({ length: nBins }, (_, i) => `G${i + 1}`)];
  return { ell, tracers, pairNames: names, pairs, C: { value, tangent: null, P: 0 }, settings: {} };
}

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
});
