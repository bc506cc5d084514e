/**
 * linear-power/boltzmann against CLASS v3.3.4 (reference/class/{fid,w0wa}/pk_lin.tsv, pk_ref precision,
 * HyRec; sigma8 = 0.816 input with A_s by shooting), with the default settings of the stage and tsit5.
 *
 * Measured (docs/boltzmann.md): largest |P/P_CLASS - 1| over the CLASS k in [1e-4, 1] h/Mpc at z = 0, 0.5, 1, 2:
 * fid 5.4e-4 (a uniform 1.2e-4 from the normalisation, transfer interpolation, and a +-3e-4 ripple in phase
 * with the BAO from the default approximation triggers: without approximations the difference is <= 2e-4),
 * 1.3e-4 below 0.01 h/Mpc; w0wa likewise; A_s from sigma8 1.2e-4 above CLASS's shooting.
 */
import { describe, expect, test } from 'vitest';
import { topHatWindow } from '../../../plugins/linear-power/sigma8.js';
import { type BoltzmannConfig, boltzmann } from '../../../plugins/linear-power/boltzmann.js';
import { FID, W0WA, classPath, configOf, readDerived } from './harness.js';
import { compareToClass, runBoltzmann } from './stage.js';

describe.each([['fid', FID], ['w0wa', W0WA]] as const)('P_lin(k, z) vs CLASS (%s)', (name, params) => {
  const out = runBoltzmann(params);
  const d = readDerived(classPath(name, 'derived.tsv'));

  test('within 0.5% for 1e-4 <= k <= 1 h/Mpc at z = 0, 0.5, 1, 2 (measured < 5e-4)', async () => {
    const o = await out;
    const all = compareToClass(o, name, 1e-4, 1);
    expect(all.max).toBeLessThan(5e-3); // issue 6 criterion
    expect(all.max).toBeLessThan(1e-3); // regression bound: 2x the measured 5.4e-4
    // below the BAO range the only differences are recombination and the normalisation: measured 1.3e-4
    expect(compareToClass(o, name, 1e-4, 0.01).max).toBeLessThan(3e-4);
  });

  test('A_s found from sigma8 = 0.816 agrees with CLASS\'s shooting (measured 1.3e-4)', async () => {
    const o = await out;
    expect(Math.abs(o.A_s.v / d.A_s - 1)).toBeLessThan(2.5e-4);
  });

  test('sigma8 recomputed from the output P(k, z = 0) is the parameter', async () => {
    const o = await out;
    // independent quadrature: trapezoid in ln k over the output grid (1e-4..1 h/Mpc misses < 2e-3 of sigma8^2,
    // the tail above 1 h/Mpc); so compare with 3e-3
    const nk = o.k_1overMpc.length;
    const R = 8 / 0.67;
    let s2 = 0;
    for (let i = 0; i < nk - 1; i++) {
      const f = (j: number) => {
        const k = o.k_1overMpc[j];
        const W = topHatWindow(k * R);
        return (k ** 3 * o.P_Mpc3.value[j] * W * W) / (2 * Math.PI ** 2);
      };
      s2 += 0.5 * (f(i) + f(i + 1)) * Math.log(o.k_1overMpc[i + 1] / o.k_1overMpc[i]);
    }
    expect(Math.abs(Math.sqrt(s2) / 0.816 - 1)).toBeLessThan(3e-3);
  });
});

describe('stage wiring', () => {
  test('without a recombination input the default recombination gives the same P (to the ODE noise)', async () => {
    const a = await runBoltzmann(FID, { with: { k: { k_min: 1e-3, k_max: 0.3, per_decade: 10 } } });
    const b = await runBoltzmann(FID, { with: { k: { k_min: 1e-3, k_max: 0.3, per_decade: 10 } }, recombination: false });
    for (let i = 0; i < a.P_Mpc3.value.length; i++) expect(Math.abs(b.P_Mpc3.value[i] / a.P_Mpc3.value[i] - 1)).toBeLessThan(1e-6);
  });

  test('A_s normalisation reproduces the sigma8 run', async () => {
    const a = await runBoltzmann(FID, { with: { k: { k_min: 1e-3, k_max: 0.3, per_decade: 10 } } });
    const b = await runBoltzmann({ ...FID, A_s: a.A_s.v }, { with: { k: { k_min: 1e-3, k_max: 0.3, per_decade: 10 }, normalization: 'A_s' } });
    expect(Math.abs(b.sigma8.v / 0.816 - 1)).toBeLessThan(1e-12);
    for (let i = 0; i < a.P_Mpc3.value.length; i++) expect(Math.abs(b.P_Mpc3.value[i] / a.P_Mpc3.value[i] - 1)).toBeLessThan(1e-12);
  });

  test('unsupported cosmologies fail with the parameter named', async () => {
    expect(boltzmann.check!(configOf<BoltzmannConfig>(boltzmann, {}), { params: { Omega_k: 0.01 } })).toEqual([
      'parameters.Omega_k: 0.01: linear-power/boltzmann solves flat cosmologies only (Omega_k = 0)',
    ]);
    await expect(runBoltzmann({ ...FID, Omega_k: 0.01 })).rejects.toThrow(/parameters.Omega_k = 0.01: only flat cosmologies/);
    await expect(runBoltzmann(W0WA, { with: { dark_energy: { perturbations: 'none' } } })).rejects.toThrow(/needs dark-energy perturbations/);
  });
});
