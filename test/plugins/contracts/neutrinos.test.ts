/**
 * The Fermi-Dirac integrals of massive neutrinos (plugins/contracts/neutrinos.ts) against their analytic limits,
 * the table against direct quadrature, and the interpolant's derivative against central differences.
 */
import { describe, expect, test } from 'vitest';
import {
  DEFAULT_NEUTRINO_SPLIT, I2, I3, K_B_EV, fermiDirac, fermiDiracQuadrature, neffPerMassive, relativisticOverPhotons,
} from '../../../plugins/contracts/neutrinos.js';
import { UR_PER_NEFF, omegaGammaH2 } from '../../../plugins/contracts/cosmology.js';

const o = new Float64Array(4), q = new Float64Array(4);

describe('Fermi-Dirac integrals', () => {
  test('relativistic limit: rho = 7/8 (T_ncdm/T_cmb)^4 rho_gamma per species, p = rho/3', () => {
    // F -> 1, G -> 1/3 as M -> 0 (quadrature at M = 1e-6: corrections 5 M^2/(7 pi^2) ~ 7e-14)
    fermiDiracQuadrature(1e-6, q);
    expect(Math.abs(q[0] - 1)).toBeLessThan(1e-13);
    expect(Math.abs(q[2] - 1 / 3)).toBeLessThan(1e-13);
    // with T_ncdm = (4/11)^(1/3) the species is exactly one massless neutrino: 7/8 (4/11)^(4/3) of the photons
    expect(relativisticOverPhotons({ species: 1, T_ncdm: Math.cbrt(4 / 11) })).toBeCloseTo(UR_PER_NEFF, 15);
    // CLASS's T_ncdm = 0.71611 counts 1.01329 species of N_eff (N_ur = 3.046 - 1.0133 = 2.0328, README)
    expect(3.046 - neffPerMassive(DEFAULT_NEUTRINO_SPLIT)).toBeCloseTo(2.0328, 4);
  });

  test('non-relativistic limit: rho = m n, n = 3 zeta(3)/(2 pi^2) T^3', () => {
    // F -> M I_2/I_3 (i.e. rho/rho_rel = m n / rho_rel), next term I_4/(2 M I_3): relative 3.5/M^2
    for (const M of [1e3, 1e5]) {
      fermiDiracQuadrature(M, q);
      const rel = q[0] / ((M * I2) / I3) - 1;
      expect(Math.abs(rel - (22.5 * 1.0369277551433699) / (2 * M * M * I2))).toBeLessThan(1e-9);
      expect(q[2] / q[0]).toBeLessThan(5 / M ** 2); // p/rho ~ <q^2>/(3 M^2)
    }
  });

  test('the table reproduces the quadrature: values to 1e-10, derivatives to 1e-8 (absolute: the Hermite slope errs by O(h^3))', () => {
    let worstValue = 0, worstSlope = 0;
    for (let u = Math.log(2e-5); u < Math.log(5e4); u += 0.0137) {
      const M = Math.exp(u);
      fermiDirac(M, o);
      fermiDiracQuadrature(M, q);
      worstValue = Math.max(worstValue, Math.abs(o[0] - q[0]) / q[0], Math.abs(o[2] - q[2]) / q[2]);
      worstSlope = Math.max(worstSlope, Math.abs(o[1] - q[1]), Math.abs(o[3] - q[3]));
    }
    expect(worstValue).toBeLessThan(1e-10);
    expect(worstSlope).toBeLessThan(1e-8);
  });

  test('the derivative is that of the interpolant (central differences, 1e-7)', () => {
    const a = new Float64Array(4), b = new Float64Array(4);
    for (const M of [0.03, 0.3, 5.5, 119, 356.7, 2e4]) {
      const h = M * 1e-4;
      fermiDirac(M + h, a); fermiDirac(M - h, b); fermiDirac(M, o);
      expect(Math.abs((a[0] - b[0]) / (2 * h) / o[1] - 1)).toBeLessThan(1e-7);
      expect(Math.abs((a[2] - b[2]) / (2 * h) / o[3] - 1)).toBeLessThan(1e-7);
    }
  });

  test('Omega_nu h^2 = m_nu / 93.14 eV for CLASS\'s T_ncdm (the standard relation)', () => {
    const T = 2.7255, m = 0.06;
    const M0 = m / (K_B_EV * DEFAULT_NEUTRINO_SPLIT.T_ncdm * T);
    fermiDirac(M0, o);
    const onh2 = relativisticOverPhotons(DEFAULT_NEUTRINO_SPLIT) * omegaGammaH2(T) * o[0];
    const eV = m / onh2;
    console.log(`Omega_nu h^2 = ${onh2.toExponential(8)}; m_nu / Omega_nu h^2 = ${eV.toFixed(4)} eV; CLASS Omega_ncdm h^2 = ${(0.00143506612516 * 0.67 ** 2).toExponential(8)}`);
    expect(Math.abs(eV / 93.14 - 1)).toBeLessThan(2e-4);
  });
});
