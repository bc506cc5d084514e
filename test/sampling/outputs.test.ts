/**
 * The files of a sampling run (core/sampling/outputs.ts) from hand-made draws: getdist rows (weight, -ln posterior
 * in the physical space, the parameters), the summary against numbers computed here, an ensemble's walkers as
 * separate series; the triangle plot's labels (LaTeX to the plotting markup) and its filled 68% region, which must
 * hold ~68% of Gaussian draws.
 */
import { describe, expect, it } from 'vitest';
import { latexToMarkup, sampleTriangleSvg } from '../../core/plot/sample-triangle.js';
import { Rng, rngState } from '../../core/sampling/rng.js';
import { physicalSeries, sampleFiles } from '../../core/sampling/outputs.js';
import { sampledParameters } from '../../core/sampling/priors.js';
import { ParameterMap } from '../../core/sampling/transforms.js';
import type { StoredDraw } from '../../core/sampling/checkpoint.js';

describe('sampling outputs', () => {
  it('LaTeX labels become the plotting markup', () => {
    expect(latexToMarkup('\\Omega_{\\rm m}')).toBe('Ω_{m}');
    expect(latexToMarkup('\\sigma_8')).toBe('σ_{8}');
    expect(latexToMarkup('n_{\\rm s}')).toBe('n_{s}');
    expect(latexToMarkup('A_{\\rm IA}')).toBe('A_{IA}');
    expect(latexToMarkup('\\eta_{\\rm IA}')).toBe('η_{IA}');
    expect(latexToMarkup('w_0')).toBe('w_{0}');
    expect(latexToMarkup('b_{10}')).toBe('b_{10}');
    expect(latexToMarkup('$\\mathrm{log}_{10} A$')).toBe('log_{10} A');
  });

  it('getdist rows, ranges and the summary from stored draws; an ensemble chain gives one series per walker', async () => {
    const { parameters } = sampledParameters(['a', 'b'], (n) => (n === 'a'
      ? { value: 0.5, spec: { default: 0, description: 'a' }, prior: { uniform: [0, 1] as [number, number] } }
      : { value: 2, spec: { default: 0, description: 'b' } }));
    const map = new ParameterMap(parameters);
    const rng = new Rng(rngState(3));
    const draws: StoredDraw[] = [];
    for (let i = 0; i < 400; i++)
      for (let w = 0; w < 2; w++) {
        const theta = [0.5 + 0.1 * rng.normal(), 2 + rng.normal()];
        const x = map.toUnconstrained(theta);
        const lnPost = -0.5 * ((theta[0] - 0.5) / 0.1) ** 2; // any number: the row must give -(log p - log J)
        draws.push({ iteration: i, walker: w, warmup: false, logDensity: lnPost + map.logJacobian(x), x, stats: {} });
      }
    const series = physicalSeries([{ chain: 1, draws }], map);
    expect(series.map((s) => s.key)).toEqual(['1.0', '1.1']);
    expect(series[0].columns[0]).toHaveLength(400);
    const { files, summary } = await sampleFiles({ parameters, map, chains: [{ chain: 1, draws }], fisher: null, title: 't' });
    const rows = (files['chain_1.txt'] as string).trim().split('\n');
    expect(rows).toHaveLength(800);
    const [w, mlp, a] = rows[3].split(' ').map(Number);
    expect(w).toBe(1);
    expect(mlp).toBeCloseTo(0.5 * ((a - 0.5) / 0.1) ** 2, 9);
    expect(files['chain.ranges']).toBe('a\t0\t1\nb\tN\tN\n');
    const all = draws.map((d) => map.toPhysical(d.x)[1]);
    const m = all.reduce((s, v) => s + v, 0) / all.length;
    expect(summary[1].mean).toBeCloseTo(m, 12);
    expect(summary[1].sd).toBeCloseTo(Math.sqrt(all.reduce((s, v) => s + (v - m) ** 2, 0) / (all.length - 1)), 12);
    expect(files['summary.tsv']).toMatch(/^parameter\tmean\tsd\tlo68\thi68\tlo95\thi95\trhat\tess_bulk\tess_tail\na\t/);
    expect((files['posterior.png'] as Uint8Array).length).toBeGreaterThan(1000);
  });

  it('a pair panel has the 95% and 68% regions of the draws and the Gaussian\'s two ellipses', () => {
    const rng = new Rng(rngState(9));
    const N = 5000, rho = 0.6;
    const x = new Float64Array(N), y = new Float64Array(N);
    for (let k = 0; k < N; k++) {
      const u = rng.normal(), v = rng.normal();
      x[k] = u;
      y[k] = rho * u + Math.sqrt(1 - rho * rho) * v;
    }
    const svg = sampleTriangleSvg(['x', 'y'], [x, y], { gaussian: { center: [0, 0], cov: [1, rho, rho, 1] }, labels: ['x', 'y'] });
    expect([...svg.matchAll(/<path d="[^"]+" fill-rule="evenodd"/g)]).toHaveLength(2);
    expect([...svg.matchAll(/class="ellipse"/g)]).toHaveLength(2);
  });
});
