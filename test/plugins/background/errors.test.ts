/**
 * Physically impossible or unsupported inputs give errors that name the parameter (or config path) and
 * what is allowed, from run() (when called directly) and from check() (what the planner reports).
 */
import { describe, expect, test } from 'vitest';
import { backgroundAt } from '../../../plugins/contracts/background-eval.js';
import { W0WA_PARAMETERS, w0waBackground } from '../../../plugins/background/w0wa.js';
import { validateWith } from '../../../core/schema/ajv.js';
import { CLASS_FID, configWith, runBackground } from './harness.js';

const defaults = Object.fromEntries(Object.entries(W0WA_PARAMETERS).map(([k, s]) => [k, s.default]));
const check = (params: Record<string, number>, withBlock: Record<string, unknown> = {}) =>
  w0waBackground.check!(configWith(withBlock), { params: { ...defaults, ...params } });

describe('parameter ranges', () => {
  test.each([
    [{ h: 0 }, /parameters\.h: 0 is not allowed: h \(dimensionless Hubble constant.*must be >= 0\.1 \(allowed: 0\.1 <= h <= 2\)/],
    [{ h: 2.5 }, /parameters\.h: 2\.5 .*must be <= 2/],
    [{ Omega_m: -0.1 }, /parameters\.Omega_m: -0\.1 .*must be > 0/],
    [{ Omega_b: -0.01 }, /parameters\.Omega_b: -0\.01 .*must be >= 0/],
    [{ T_cmb: 0 }, /parameters\.T_cmb: 0 .*K\) must be > 0/],
    [{ N_eff: -1 }, /parameters\.N_eff: -1 .*must be >= 0/],
    [{ w0: Number.NaN }, /parameters\.w0: NaN is not a finite number/],
  ])('%j', (params, message) => {
    expect(() => runBackground({ params })).toThrow(message);
    expect(check(params).join('\n')).toMatch(message);
  });

  test('Omega_b > Omega_m: named in run() and in check() as parameters.Omega_b', () => {
    const msg = /parameters\.Omega_b: 0\.4 exceeds parameters\.Omega_m = 0\.32.*Omega_b <= Omega_m is required/;
    expect(() => runBackground({ params: { Omega_b: 0.4 } })).toThrow(msg);
    const issues = check({ Omega_b: 0.4 });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatch(/^parameters\.Omega_b: /);
  });

  test('the CLASS fiducial passes check()', () => {
    expect(check(CLASS_FID)).toEqual([]);
  });
});

describe('unsupported cosmologies', () => {
  test('E^2 <= 0 on the grid (recollapse): error naming the parameters, also from check()', () => {
    const params = { Omega_k: -3 };
    expect(() => runBackground({ params })).toThrow(/E\(z\)\^2 = H\^2\/H0\^2 = .* <= 0 at z = .*recollapsing or bouncing universe is not supported.*parameters\.Omega_k/);
    expect(check(params)[0]).toMatch(/^parameters\.Omega_k: E\(z\)\^2/);
  });
  test('early dark energy (w0 + wa > 0) breaks the growth initial conditions: error naming w0, wa', () => {
    expect(() => runBackground({ params: { w0: 0.3, wa: 0.5 } })).toThrow(/Early dark energy is not supported: choose parameters\.w0 \+ parameters\.wa/);
    expect(check({ w0: 0.3, wa: 0.5 })[0]).toMatch(/^parameters\.wa: dark energy is 1\.00 of the density at a = 0\.000001/);
  });
});

describe('config', () => {
  test('output_z with 1e7 redshifts: refused with the limit (the fuzzer found the string overflow it caused)', () => {
    expect(check({}, { output_z: { min: 0, max: 10, count: 1e7 } })).toEqual([expect.stringMatching(/^with\.output_z\.count: 10000000 redshifts; at most 100000/)]);
  });

  test('output_z beyond z_max: named with its with. path', () => {
    expect(check({}, { z_max: 5 })).toEqual([expect.stringMatching(/^with\.output_z\.max: 10 exceeds the tabulated range: with\.z_max = 5/)]);
    expect(() => runBackground({ with: { z_max: 5 } })).toThrow(/with\.output_z\.max/);
    expect(check({}, { output_z: [0, 2, 1] })[0]).toMatch(/^with\.output_z\[2\]: 1 must be larger than the previous value 2/);
  });
  test('schema: too few grid points, unknown field', () => {
    const issues = validateWith(w0waBackground.configSchema, { grid: { count: 3 }, zmax: 4 }, 'with');
    const text = issues.map((i) => `${i.path}: ${i.message}`).join('\n');
    expect(text).toMatch(/with\.grid\.count: 3 is out of range: must be >= 8/);
    expect(text).toMatch(/with\.zmax: is not a known field/);
  });
  test('backgroundAt outside the tabulated range', () => {
    const bg = runBackground({ with: { z_max: 4, output_z: { min: 0, max: 4, count: 5 } } });
    expect(() => backgroundAt(bg, Float64Array.of(1, 4.5))).toThrow(/z = 4\.5 is outside the tabulated range \[0, 4\].*z_max/);
    expect(() => backgroundAt(bg, Float64Array.of(-0.1))).toThrow(/outside the tabulated range/);
  });
});
