/**
 * background/w0wa against CCL v3.3.3 (reference/ccl/fid_background.tsv, README there): the fid cosmology
 * with N_eff = 3.046 massless neutrinos and radiation in H (Omega_gamma = 5.50897e-5), at 11 redshifts.
 *
 * Tolerance 1e-7: CCL ran with INTEGRATION_DISTANCE_EPSREL = ODE_GROWTH_EPSREL = 1e-8 and spline-interpolates
 * its own tables (A_SPLINE_NA = 1000), so its values carry ~1e-8 numerical error; ours ~1e-8 too (see
 * class-reference.test.ts). Measured maxima: chi 7.5e-10, E 1.1e-8 (z = 2.5), D 1.3e-9, f 1.0e-8 (z = 4).
 * CCL's D and f agree with CLASS's growth_D/growth_f at this level, i.e. both solve the same equation
 * (source Omega_m = baryons + CDM, radiation in H), which is the one we solve.
 */
import { expect, test } from 'vitest';
import { backgroundAt } from '../../../plugins/contracts/background-eval.js';
import { CLASS_FID, readTable, referencePath, runBackground } from './harness.js';

const TOL = 1e-7;
const ccl = readTable(referencePath('ccl', 'fid_background.tsv'));
const z = ccl['z'];
const r = backgroundAt(runBackground({ params: CLASS_FID }), z);

const maxRel = (ours: Float64Array, ref: Float64Array, from = 0) => {
  let m = 0;
  for (let i = from; i < ref.length; i++) m = Math.max(m, Math.abs(ours[i] / ref[i] - 1));
  return m;
};

test('CCL table: 11 redshifts from 0 to 4', () => {
  expect(z.length).toBe(11);
  expect(z[0]).toBe(0);
  expect(z[10]).toBe(4);
});

test('chi(z) [Mpc]', () => {
  expect(maxRel(r.chi_Mpc.value, ccl['chi_Mpc'], 1)).toBeLessThan(TOL);
  // README: chi(z = 1) = 3411.4038 Mpc, checked independently by the reference's authors
  expect(Math.abs(r.chi_Mpc.value[5] - 3411.4038)).toBeLessThan(1e-4);
});

test('E(z) = H/H0', () => {
  expect(maxRel(r.E.value, ccl['E_HoverH0'])).toBeLessThan(TOL);
});

test('D(z), f(z)', () => {
  expect(maxRel(r.D.value, ccl['D_growth_norm_D0_1'])).toBeLessThan(TOL);
  expect(maxRel(r.f.value, ccl['f_growth_rate'])).toBeLessThan(TOL);
});

test('dropping radiation would fail this comparison (the test can tell)', () => {
  // README: without radiation chi(z = 4) moves by -2.7e-4 and H by +7e-4; T_cmb -> tiny removes it.
  const noRad = backgroundAt(runBackground({ params: { ...CLASS_FID, T_cmb: 1e-6 } }), z);
  expect(maxRel(noRad.chi_Mpc.value, ccl['chi_Mpc'], 1)).toBeGreaterThan(1e-4);
  expect(maxRel(noRad.E.value, ccl['E_HoverH0'])).toBeGreaterThan(1e-4);
});
