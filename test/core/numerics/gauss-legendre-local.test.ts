/** Locally refined Gauss-Legendre against analytic integrals, and against uniform refinement in node count. */
import { describe, expect, it } from 'vitest';
import { gaussLegendreAdaptive, gaussLegendreLocal, gaussLegendreRule } from '../../../core/numerics/gauss-legendre.js';

const narrow = (x: Float64Array, out: Float64Array) => {
  // a narrow Gaussian (sigma 1e-3) on a broad background: Int_0^1 = 1/2 + sqrt(2 pi) 1e-3 * erf-free (the peak sits inside)
  for (let i = 0; i < x.length; i++) out[i] = 0.5 + Math.exp(-0.5 * ((x[i] - 0.3) / 1e-3) ** 2);
};
const exact = 0.5 + Math.sqrt(2 * Math.PI) * 1e-3;

describe('gaussLegendreLocal', () => {
  it('integrates a narrow peak to 1e-12 with far fewer nodes than uniform doubling', () => {
    const local = gaussLegendreLocal(narrow, 0, 1, { rtol: 1e-12, order: 16, maxPanels: 4096 });
    // the fewest uniform panels (powers of 2) that reach the same accuracy
    let u = gaussLegendreRule(0, 1, 16, 1);
    for (let panels = 1; panels <= 4096; panels *= 2) {
      u = gaussLegendreRule(0, 1, 16, panels);
      const fu = new Float64Array(u.x.length);
      narrow(u.x, fu);
      let su = 0;
      for (let i = 0; i < fu.length; i++) su += u.w[i] * fu[i];
      if (Math.abs(su / exact - 1) < 1e-12) break;
    }
    expect(Math.abs(local.value / exact - 1)).toBeLessThan(1e-12);
    let s = 0;
    const fx = new Float64Array(local.rule.x.length);
    narrow(local.rule.x, fx);
    for (let i = 0; i < fx.length; i++) s += local.rule.w[i] * fx[i];
    expect(Math.abs(s / exact - 1)).toBeLessThan(1e-12); // the returned rule reproduces the value
    expect(local.rule.x.length).toBeLessThan(u.x.length / 2);
  });
  it('does not stop on two coarse rules that both miss a narrow peak (uniform doubling from 1 panel does)', () => {
    const uniform = gaussLegendreAdaptive(narrow, 0, 1, { rtol: 1e-12, order: 16, maxPanels: 4096 });
    expect(Math.abs(uniform.value / exact - 1)).toBeGreaterThan(1e-3); // the known failure mode
    const local = gaussLegendreLocal(narrow, 0, 1, { rtol: 1e-12, order: 16, maxPanels: 4096 });
    expect(Math.abs(local.value / exact - 1)).toBeLessThan(1e-12);
  });
  it('is exact for polynomials of degree 2n-1 on the first round', () => {
    const r = gaussLegendreLocal((x, o) => { for (let i = 0; i < x.length; i++) o[i] = x[i] ** 7 - 3 * x[i] ** 2; }, -1, 2, { rtol: 1e-14, order: 4, maxPanels: 64 });
    expect(r.value).toBeCloseTo((2 ** 8 - 1) / 8 - (8 + 1), 12);
    expect(r.panels).toBe(4);
  });
  it('gives up with a clear error instead of refining forever', () => {
    const cusp = (x: Float64Array, o: Float64Array) => { for (let i = 0; i < x.length; i++) o[i] = Math.sqrt(Math.abs(x[i] - Math.SQRT1_2)); };
    expect(() => gaussLegendreLocal(cusp, 0, 1, { rtol: 1e-15, order: 8, maxPanels: 16 })).toThrow(/no convergence to rtol=1e-15 .* maxPanels=16/);
  });
});
