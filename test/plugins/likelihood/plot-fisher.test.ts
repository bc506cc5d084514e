/**
 * fisher.png: the triangle shows the cosmological parameters by default (hand-listed here), the ones asked for with
 * --params / with.plot_params, and labels them with the pipeline's LaTeX; a hidden parameter is marginalized (the
 * shown block of F^-1, so the 1-sigma printed over a diagonal panel is sqrt(cov_ii) of the full inverse).
 */
import { describe, expect, it } from 'vitest';
import { fisherResult } from '../../../plugins/likelihood/fisher-result.js';
import { plotFisher, triangleParameters } from '../../../plugins/likelihood/plot-fisher.js';

const names = ['Omega_m', 'sigma8', 'A_IA', 'b_1', 'w0', 'wa'];

describe('Fisher triangle plot', () => {
  it('default: the cosmological parameters; --params picks, in the matrix order; unknown names refused', () => {
    expect(triangleParameters(names)).toEqual(['Omega_m', 'sigma8', 'w0', 'wa']);
    expect(triangleParameters(names, ['wa', 'b_1'])).toEqual(['b_1', 'wa']);
    expect(triangleParameters(['A_IA', 'b_1'])).toEqual(['A_IA', 'b_1']); // nothing cosmological: all
    expect(() => triangleParameters(names, ['Omega_m', 'S8'])).toThrow(/--params: S8 is not in the Fisher matrix/);
  });

  it('LaTeX labels and the marginal errors of the full inverse', async () => {
    // F diagonal but for an Omega_m - A_IA correlation: sigma(Omega_m) after marginalizing over A_IA = sqrt((F^-1)_11)
    const F = new Float64Array(36);
    const d = [1e4, 4e4, 100, 400, 400, 25];
    d.forEach((v, i) => { F[i * 6 + i] = v; });
    F[0 * 6 + 2] = F[2 * 6 + 0] = 800; // det of the (Omega_m, A_IA) block: 1e6 - 6.4e5 = 3.6e5
    const latex = ['\\Omega_{\\rm m}', '\\sigma_8', 'A_{\\rm IA}', 'b_1', 'w_0', 'w_a'];
    const r = fisherResult(F, names.map((n, i) => ({ name: n, value: [0.32, 0.816, 1.72, 1.1, -1, 0][i], latex: latex[i] })), [], { probes: '3x2pt' });
    const { svg, png } = await plotFisher(r);
    expect(svg).toContain('Ω');
    expect(svg).toContain('σ');
    expect(svg).not.toContain('A_IA');
    expect(svg).toMatch(/marginalized over 2 other parameters/);
    // sigma(Omega_m) = sqrt(F_AA / det) = sqrt(100 / 3.6e5) = 0.016667
    expect(Math.sqrt(100 / 3.6e5)).toBeCloseTo(r.sigmaMarginalized[0], 12);
    expect(svg).toMatch(/ = 0\.320 ± 0\.017</);
    expect(Buffer.from(png.subarray(1, 4)).toString()).toBe('PNG');
  });
});
