/**
 * weights/3x2pt.
 *
 * Values, with an analytic Einstein-de Sitter background (chi = 2 (c/H0) [1 - (1+z)^-1/2], E = (1+z)^3/2,
 * D = 1/(1+z)) so that only the kernel algebra and quadrature are under test:
 *  - lensing efficiency vs an independent brute-force double integral: for each z, Gauss-Legendre over z' of
 *    p(z') [chi(z') - chi(z)]/chi(z') with the continuous ISTF n(z) (no grid, no cumulative sums, no A - chi B
 *    split). Measured 1.2e-10 of the kernel's peak (bin 1; the n(z) grid normalisation vs the exact integral and
 *    the 4th-order cumulative rule on the 0.001 grid); tolerance 1e-8;
 *  - a single source plane (narrow Gaussian n(z), sigma = 0.001): W = (3/2) H0^2 Om (1+z) chi (chi_s - chi)/chi_s
 *    up to O(sigma^2) corrections (measured 3.3e-6 of the peak); tolerance 1e-5;
 *  - the IA and clustering terms against their closed forms (1e-13);
 * Tangents, with the real chain istf-photometric -> background/w0wa -> weights/3x2pt, against central
 * differences (Richardson-extrapolated where the dependence is non-linear): 1e-6 of each block's max
 * (measured 2e-15 (A_IA, b_3) to 1.2e-8 (eta_IA, FD truncation); Omega_m 1.5e-10, h 2.5e-13, w0/wa 7e-9, dz_4 4e-12).
 */
import { describe, expect, test } from 'vitest';
import { constant, type Dual } from '../../../core/ad/dual.js';
import type { DualArray } from '../../../core/ad/dual-array.js';
import { gaussLegendreRule } from '../../../core/numerics/gauss-legendre.js';
import { validateWith } from '../../../core/schema/ajv.js';
import { w0waBackground } from '../../../plugins/background/w0wa.js';
import type { Background } from '../../../plugins/contracts/background.js';
import type { TracerSet as Kernels } from '../../../plugins/contracts/tracers.js';
import type { RedshiftDistribution } from '../../../plugins/contracts/redshift.js';
import { gaussLegendre } from '../../../plugins/integrator/index.js';
import {
  ISTF_DEFAULTS,
  istfBin,
  istfPhotometric,
  istfPhotometricPlugin,
} from '../../../plugins/redshift-distribution/istf-photometric.js';
import {
  THREE_BY_TWO_DEFAULTS,
  checkThreeByTwoConfig,
  resolveThreeByTwoConfig,
  threeByTwoKernels,
  threeByTwoPlugin,
  type KernelBackground,
  type KernelParameters,
  type ThreeByTwoConfig,
} from '../../../plugins/weights/3x2pt.js';
import { readFileSync } from 'node:fs';
import { maxNormRel, referencePath, richardsonFD, stageContext, tangentBlockOf } from '../redshift-distribution/stage-context.js';

const spec = JSON.parse(readFileSync(referencePath('survey', 'survey_spec_euclid_istf.json'), 'utf8'));
const C_KM_S = 299792.458;
const h = 0.67;
const H0 = (100 * h) / C_KM_S; // 1/Mpc

// ---- analytic Einstein-de Sitter background on a grid ------------------------------------------------------
const chiEdS = (z: number) => (2 / H0) * (1 - 1 / Math.sqrt(1 + z));
function edsBackground(z: Float64Array): KernelBackground {
  const c = (f: (x: number) => number): DualArray => ({ value: Float64Array.from(z, f), tangent: null, P: 0 });
  return { chi_Mpc: c(chiEdS), E: c((x) => (1 + x) ** 1.5), D: c((x) => 1 / (1 + x)), H0_1overMpc: constant(H0), Omega_m: constant(1) };
}
const constantParams = (n: number, A = 1.72, eta = -0.41): KernelParameters => ({
  A_IA: constant(A),
  eta_IA: constant(eta),
  b: Array.from({ length: n }, (_, i) => constant(1.1 + 0.1 * i)),
  m: Array.from({ length: n }, (_, i) => constant(0.01 * (i + 1))),
});
const row = (k: Kernels, a: number) => k.W.value.subarray(a * k.z.length, (a + 1) * k.z.length);

describe('lensing efficiency (EdS background)', () => {
  const nz = istfPhotometric({}, Array.from({ length: 10 }, () => constant(0)));
  const bg = edsBackground(nz.z);
  const K = threeByTwoKernels(nz, bg, constantParams(10), { intrinsicAlignment: 'none' }, 0);

  test('vs a brute-force double integral with the continuous n(z)', () => {
    const { binEdges: e, z0, photoZ } = ISTF_DEFAULTS;
    const zmin = nz.z[0], zmax = nz.z[nz.z.length - 1];
    for (const i of [0, 4, 9]) {
      const p = (x: number) => istfBin(x, e[i], e[i + 1], z0, photoZ);
      const norm = integrate(p, zmin, zmax);
      const ours = row(K, i);
      let peak = 0;
      for (const v of ours) peak = Math.max(peak, Math.abs(v));
      let worst = 0;
      for (let k = 0; k < nz.z.length; k += 97) {
        const z = nz.z[k], chi = chiEdS(z);
        const inner = integrate((x) => (p(x) * (chiEdS(x) - chi)) / chiEdS(x), z, zmax) / norm;
        const ref = 1.5 * H0 * H0 * (1 + z) * chi * inner;
        worst = Math.max(worst, Math.abs(ours[k] - ref) / peak);
      }
      expect(worst, `bin ${i + 1}`).toBeLessThan(1e-8);
    }
  });

  test('single source plane: (3/2) H0^2 Om (1+z) chi (chi_s - chi)/chi_s', () => {
    const zs = 1, sigma = 0.001, step = 0.0002;
    const z = Float64Array.from({ length: 10000 }, (_, k) => (k + 1) * step);
    const g = Float64Array.from(z, (x) => Math.exp(-0.5 * ((x - zs) / sigma) ** 2) / (Math.sqrt(2 * Math.PI) * sigma));
    const narrow: RedshiftDistribution = { z, nBins: 1, n: { value: g, tangent: null, P: 0 }, zbar: Float64Array.of(zs), zbarDefinition: 'test' };
    const k1 = threeByTwoKernels(narrow, edsBackground(z), constantParams(1), { bins: 1, zbar: [zs], intrinsicAlignment: 'none' }, 0);
    const W = row(k1, 0);
    const chiS = chiEdS(zs);
    let peak = 0, worst = 0;
    for (let k = 0; k < z.length; k++) peak = Math.max(peak, W[k]);
    for (let k = 0; z[k] < zs - 8 * sigma; k++) {
      const chi = chiEdS(z[k]);
      worst = Math.max(worst, Math.abs(W[k] - 1.5 * H0 * H0 * (1 + z[k]) * chi * (chiS - chi) / chiS) / peak);
    }
    expect(worst).toBeLessThan(1e-5);
    // beyond the source plane nothing is lensed
    expect(Math.abs(W[z.length - 1])).toBe(0);
  });

  test('a grid starting at z = 0 (n(0) = 0) gives the same kernel as one starting at the first step', () => {
    const step = 0.001;
    const mk = (from: number) => {
      const z = Float64Array.from({ length: 3000 - from }, (_, k) => (k + from) * step);
      const n = Float64Array.from(z, (x) => x * x * Math.exp(-x / 0.3));
      return threeByTwoKernels(
        { z, nBins: 1, n: { value: n, tangent: null, P: 0 }, zbar: Float64Array.of(0.9), zbarDefinition: 'test' },
        edsBackground(z),
        constantParams(1),
        { bins: 1, zbar: [0.9], intrinsicAlignment: 'none', clustering: false },
        0,
      );
    };
    const a = row(mk(0), 0).subarray(1), b = row(mk(1), 0);
    // the two grids' cumulative rules differ only in the first interval: relative 1e-8 of the peak
    expect(maxNormRel(a, b)).toBeLessThan(1e-8);
    // n(0) > 0 at z = 0 is an error (Int n/chi diverges)
    const z = Float64Array.from({ length: 10 }, (_, k) => k * step);
    const bad = { z, nBins: 1, n: { value: new Float64Array(10).fill(1), tangent: null, P: 0 }, zbar: Float64Array.of(0), zbarDefinition: '' };
    expect(() => threeByTwoKernels(bad, edsBackground(z), constantParams(1), { bins: 1, zbar: [0] }, 0)).toThrow(/n_1\(z = 0\) = 1 > 0/);
  });
});

/** Composite 16-point Gauss-Legendre on 256 panels (exact to rounding for these smooth integrands). */
function integrate(f: (x: number) => number, a: number, b: number): number {
  const r = gaussLegendreRule(a, b, 16, 256);
  let s = 0;
  for (let i = 0; i < r.x.length; i++) s += r.w[i] * f(r.x[i]);
  return s;
}

describe('IA, clustering and multiplicative terms (closed forms)', () => {
  const nz = istfPhotometric({}, Array.from({ length: 10 }, () => constant(0)));
  const bg = edsBackground(nz.z);
  const par = constantParams(10);
  const withIA = threeByTwoKernels(nz, bg, par, {}, 0);
  const noIA = threeByTwoKernels(nz, bg, par, { intrinsicAlignment: 'none' }, 0);
  const n = nz.z.length;

  test('tracers L1..L10 (WL, spin-2, shape noise) then G1..G10 (GC, shot noise)', () => {
    expect(withIA.tracers.map((t) => t.name)).toEqual([...Array.from({ length: 10 }, (_, i) => `L${i + 1}`), ...Array.from({ length: 10 }, (_, i) => `G${i + 1}`)]);
    expect(withIA.tracers.slice(0, 10).every((t) => t.family === 'WL' && t.ellFactor === 'spin2' && t.code === 'L')).toBe(true);
    expect(withIA.tracers.slice(10).every((t) => t.family === 'GC' && t.ellFactor === 'none' && t.code === 'G')).toBe(true);
    // noise per steradian from the IST:F defaults: sigma_eps = 0.3, 3 galaxies per arcmin^2 per bin
    const nbarSr = 3 * (180 * 60 / Math.PI) ** 2;
    expect(withIA.tracers[0].noise).toBeCloseTo(0.09 / nbarSr, 20);
    expect(withIA.tracers[10].noise).toBeCloseTo(1 / nbarSr, 20);
    expect(threeByTwoKernels(nz, bg, par, { shearPrefactor: 'none' }, 0).tracers[0].ellFactor).toBe('none');
  });

  test('W_L - W_gamma = -A_IA (1+z)^eta C_IA Omega_m / D p H', () => {
    for (const i of [0, 6]) {
      const diff = row(withIA, i).map((v, k) => v - row(noIA, i)[k]);
      const ref = Float64Array.from(nz.z, (z, k) => -1.72 * (1 + z) ** -0.41 * 0.0134 * 1 * (1 + z) * nz.n.value[i * n + k] * H0 * (1 + z) ** 1.5);
      expect(maxNormRel(diff, ref)).toBeLessThan(1e-13);
    }
  });

  test('W_G = b p H; multiplicative = 1 + m (lensing), 1 (clustering)', () => {
    for (const i of [2, 9]) {
      const ref = Float64Array.from(nz.z, (z, k) => (1.1 + 0.1 * i) * nz.n.value[i * n + k] * H0 * (1 + z) ** 1.5);
      expect(maxNormRel(row(withIA, 10 + i), ref)).toBeLessThan(1e-14);
    }
    expect(Array.from(withIA.multiplicative.value)).toEqual([...Array.from({ length: 10 }, (_, i) => 1 + 0.01 * (i + 1)), ...new Array(10).fill(1)]);
  });

  test('lensing-only and clustering-only configurations', () => {
    const L = threeByTwoKernels(nz, bg, par, { clustering: false }, 0);
    const G = threeByTwoKernels(nz, bg, par, { lensing: false }, 0);
    expect(L.tracers.length).toBe(10);
    expect(G.tracers.map((t) => t.name)).toEqual(Array.from({ length: 10 }, (_, i) => `G${i + 1}`));
    expect(Array.from(G.W.value)).toEqual(Array.from(withIA.W.value.subarray(10 * n)));
    expect(Array.from(L.W.value)).toEqual(Array.from(withIA.W.value.subarray(0, 10 * n)));
  });
});

describe('parameters and config checks', () => {
  const reads = threeByTwoPlugin.reads as (c: ThreeByTwoConfig) => Record<string, { default: number }>;

  test('defaults: A_IA 1.72, eta_IA -0.41, b_i = sqrt(1 + zbar_i) (the spec values), m_i = 0', () => {
    const r = reads({ ...THREE_BY_TWO_DEFAULTS });
    expect(r.A_IA.default).toBe(spec.intrinsic_alignment.A_IA);
    expect(r.eta_IA.default).toBe(spec.intrinsic_alignment.eta_IA);
    expect(THREE_BY_TWO_DEFAULTS.C_IA).toBe(spec.intrinsic_alignment.C_IA);
    for (let i = 0; i < 10; i++) {
      expect(Math.abs(r[`b_${i + 1}`].default / spec.galaxy_bias.values[i] - 1)).toBeLessThan(1e-15);
      expect(r[`m_${i + 1}`].default).toBe(0);
    }
    expect(THREE_BY_TWO_DEFAULTS.zbar).toEqual(spec.bin_centres_zbar);
    expect(Object.keys(reads({ ...THREE_BY_TWO_DEFAULTS, intrinsicAlignment: 'none', clustering: false }))).toEqual(
      Array.from({ length: 10 }, (_, i) => `m_${i + 1}`),
    );
  });

  test('schema defaults and check() messages', () => {
    const cfg: Record<string, unknown> = {};
    expect(validateWith(threeByTwoPlugin.configSchema, cfg, 'with')).toEqual([]);
    // bins and zbar have no schema default: the planner fills them from the n(z) stage's description
    // (configureThreeByTwo; test/plugins/weights/survey-bins.test.ts), resolveThreeByTwoConfig from the IST:F ones
    const { bins: _bins, zbar: _zbar, ...rest } = THREE_BY_TWO_DEFAULTS;
    expect(cfg).toEqual(rest);
    expect(resolveThreeByTwoConfig(cfg)).toEqual(THREE_BY_TWO_DEFAULTS);
    expect(checkThreeByTwoConfig({ bins: 5 })).toEqual([
      'with.zbar: has 10 entries, but with.bins = 5; give one bin centre per bin (they set the default galaxy bias b_i = sqrt(1 + zbar_i))',
    ]);
    expect(checkThreeByTwoConfig({ lensing: false, clustering: false })[0]).toMatch(/^with\.clustering: /);
  });

  test('run-time: bin count and zbar must match the n(z) stage', () => {
    const nz = istfPhotometric({ binEdges: [0.001, 0.5, 1, 2.5] }, [constant(0), constant(0), constant(0)]);
    const bg = fiducialBackground([]);
    const run = (c: Partial<ThreeByTwoConfig>) =>
      threeByTwoPlugin.run(stageContext(threeByTwoPlugin, { ...THREE_BY_TWO_DEFAULTS, ...c }, { inputs: { nz, background: bg } }));
    expect(() => run({})).toThrow(/with\.bins = 10 but the n\(z\) stage provides 3 bins/);
    expect(() => run({ bins: 3, zbar: [0.25, 0.75, 1.7] })).toThrow(/with\.zbar = \[0\.25, 0\.75, 1\.7\].*differs from the n\(z\) stage's zbar = \[0\.2505, 0\.75, 1\.75\]/);
    expect((run({ bins: 3, zbar: [0.2505, 0.75, 1.75] }) as Kernels).tracers.length).toBe(6);
  });
});

// ---- the real chain, for tangents -----------------------------------------------------------------------------
const bgConfig = (() => {
  const c: Record<string, unknown> = {};
  validateWith(w0waBackground.configSchema, c, 'with');
  return c;
})();
const integrator = gaussLegendre.create({});

function fiducialBackground(vary: string[], params: Record<string, number> = {}): Background {
  return w0waBackground.run(stageContext(w0waBackground, bgConfig as never, { vary, params, methods: { integrator } })) as Background;
}

function chain(params: Record<string, number>, vary: string[]): Kernels {
  const nzCfg = { ...ISTF_DEFAULTS };
  const nz = istfPhotometricPlugin.run(stageContext(istfPhotometricPlugin, nzCfg, { params, vary })) as RedshiftDistribution;
  const background = fiducialBackground(vary, params);
  return threeByTwoPlugin.run(stageContext(threeByTwoPlugin, { ...THREE_BY_TWO_DEFAULTS }, { params, vary, inputs: { nz, background } })) as Kernels;
}

describe('tangents vs central differences (istf-photometric -> w0wa -> 3x2pt)', () => {
  const fid: Record<string, number> = { A_IA: 1.72, eta_IA: -0.41, b_3: Math.sqrt(1 + 0.619), m_2: 0, dz_4: 0, Omega_m: 0.32, h: 0.67, w0: -1, wa: 0 };
  const vary = Object.keys(fid);
  const K = chain(fid, vary);

  // linear parameters: a plain central difference is exact up to rounding; the rest: Richardson over h, h/2
  const cases: [string, number, boolean][] = [
    ['A_IA', 0.1, false],
    ['eta_IA', 0.05, true],
    ['b_3', 0.1, false],
    ['dz_4', 2e-4, true],
    ['Omega_m', 4e-3, true],
    ['h', 4e-3, true],
    ['w0', 2e-2, true],
    ['wa', 5e-2, true],
  ];
  test.each(cases)('%s', (name, step, nonlinear) => {
    const p = vary.indexOf(name);
    const W = (t: number) => chain({ ...fid, [name]: t }, []).W.value;
    const fd = nonlinear
      ? richardsonFD(W, fid[name], step)
      : (() => {
          const a = W(fid[name] + step), b = W(fid[name] - step);
          return a.map((v, i) => (v - b[i]) / (2 * step));
        })();
    const ad = tangentBlockOf(K.W, p);
    expect(Math.max(...fd.map(Math.abs))).toBeGreaterThan(0);
    expect(maxNormRel(ad, fd), name).toBeLessThan(1e-6);
  });

  test('m_2: the multiplicative factors vs central differences; d(1 + m_2)/d m_2 = 1, nothing else', () => {
    const t = tangentBlockOf(K.multiplicative, vary.indexOf('m_2'));
    const M = (x: number) => chain({ ...fid, m_2: x }, []).multiplicative.value;
    const a = M(0.01), b = M(-0.01);
    expect(maxNormRel(t, a.map((v, i) => (v - b[i]) / 0.02))).toBeLessThan(1e-12);
    expect(Array.from(t)).toEqual(Array.from({ length: 20 }, (_, i) => (i === 1 ? 1 : 0)));
    expect(Math.max(...tangentBlockOf(K.multiplicative, vary.indexOf('Omega_m')).map(Math.abs))).toBe(0);
  });

  test('b_3 moves only G3, m_2 only the multiplicative factor', () => {
    const n = K.z.length;
    const tb = tangentBlockOf(K.W, vary.indexOf('b_3'));
    for (let a = 0; a < 20; a++) {
      const m = Math.max(...tb.subarray(a * n, (a + 1) * n).map(Math.abs));
      if (a === 12) expect(m).toBeGreaterThan(0);
      else expect(m).toBe(0);
    }
    expect(Math.max(...tangentBlockOf(K.W, vary.indexOf('m_2')).map(Math.abs))).toBe(0);
  });
});

export type { Dual };
