/**
 * weights/3x2pt on the expression layer against the hand-written tangents and VJP it replaced
 * (test/support/weights-3x2pt-handwritten.ts, an independent implementation): values, every tangent block and
 * the vector-Jacobian product agree to rounding, on the real chain istf-photometric -> w0wa -> 3x2pt with the
 * main job's 19 parameters plus a photo-z shift and a shear bias varied.
 */
import { describe, expect, it } from 'vitest';
import { THREE_BY_TWO_DEFAULTS, threeByTwoKernels, threeByTwoKernelsAdjoint } from '../../../plugins/weights/3x2pt.js';
import { kernelInputs } from '../../support/weights-inputs.js';
import { threeByTwoKernelsAdjointHandwritten, threeByTwoKernelsHandwritten } from '../../support/weights-3x2pt-handwritten.js';

const COSMO = ['Omega_m', 'Omega_b', 'w0', 'wa', 'h', 'n_s', 'sigma8'];
const vary = [...COSMO, 'A_IA', 'eta_IA', ...Array.from({ length: 10 }, (_, i) => `b_${i + 1}`), 'dz_3', 'm_4'];
const params: Record<string, number> = { Omega_m: 0.32, Omega_b: 0.05, w0: -1, wa: 0, h: 0.67, n_s: 0.96, sigma8: 0.816, dz_3: 0, m_4: 0.01 };

describe('weights/3x2pt: expression layer = hand-written', () => {
  const { P, nz, bg, par, vals, pv } = kernelInputs(vary, params, (i) => 1.1 + 0.05 * i, (i) => (i === 3 ? 0.01 : 0));
  const a = threeByTwoKernels(nz, bg, par, THREE_BY_TWO_DEFAULTS, P);
  const b = threeByTwoKernelsHandwritten(nz, bg, par, THREE_BY_TWO_DEFAULTS, P);

  const maxRel = (x: Float64Array, y: Float64Array) => {
    let scale = 0, d = 0;
    for (let i = 0; i < y.length; i++) scale = Math.max(scale, Math.abs(y[i]));
    for (let i = 0; i < y.length; i++) d = Math.max(d, Math.abs(x[i] - y[i]));
    return scale === 0 ? d : d / scale;
  };

  it('values and all tangent blocks agree', () => {
    expect(maxRel(a.W.value, b.W.value)).toBeLessThan(1e-13);
    expect(a.W.P).toBe(P);
    const n = a.W.value.length;
    for (let q = 0; q < P; q++) {
      const ta = a.W.tangent!.subarray(q * n, (q + 1) * n), tb = b.W.tangent!.subarray(q * n, (q + 1) * n);
      expect(maxRel(ta, tb), vary[q]).toBeLessThan(1e-12);
    }
    expect(Array.from(a.multiplicative.value)).toEqual(Array.from(b.multiplicative.value));
    expect(Array.from(a.multiplicative.tangent!)).toEqual(Array.from(b.multiplicative.tangent!));
  });

  it('the VJP agrees for a random cotangent', () => {
    let r = 12345;
    const rnd = () => ((r = (r * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
    const Wbar = Float64Array.from(a.W.value, rnd), mbar = Float64Array.from(a.multiplicative.value, rnd);
    const x = threeByTwoKernelsAdjoint(nz, vals, pv, THREE_BY_TWO_DEFAULTS, Wbar, mbar);
    const y = threeByTwoKernelsAdjointHandwritten(nz, vals, pv, THREE_BY_TWO_DEFAULTS, Wbar, mbar);
    for (const k of ['n', 'chi', 'E', 'D'] as const) expect(maxRel(x[k], y[k]), k).toBeLessThan(1e-12);
    for (const k of ['H0', 'Omega_m', 'A_IA', 'eta_IA'] as const) expect(Math.abs(x[k] - y[k]) / Math.abs(y[k]), k).toBeLessThan(1e-12);
    expect(maxRel(Float64Array.from(x.b), Float64Array.from(y.b))).toBeLessThan(1e-12);
    expect(maxRel(Float64Array.from(x.m), Float64Array.from(y.m))).toBeLessThan(1e-12);
  });

  it('without the bar of n(z) (no varied parameter behind it) the other bars are the same', () => {
    const Wbar = Float64Array.from(a.W.value, (_, i) => Math.sin(i)), mbar = Float64Array.from(a.multiplicative.value, (_, i) => i);
    const all = threeByTwoKernelsAdjoint(nz, vals, pv, THREE_BY_TWO_DEFAULTS, Wbar, mbar);
    const some = threeByTwoKernelsAdjoint(nz, vals, pv, THREE_BY_TWO_DEFAULTS, Wbar, mbar, false);
    expect(some.n.length).toBe(0);
    for (const k of ['chi', 'E', 'D'] as const) expect(Array.from(some[k]), k).toEqual(Array.from(all[k]));
    for (const k of ['H0', 'Omega_m', 'A_IA', 'eta_IA'] as const) expect(some[k], k).toBe(all[k]);
    expect(some.b).toEqual(all.b);
    expect(some.m).toEqual(all.m);
  });
});
