/**
 * Forward-mode derivatives of P_lin(k, z) (ODE sensitivities through recombination and the perturbation
 * equations, then the transfer interpolation and the sigma8 normalisation) against central differences of the
 * whole stage (background, recombination and Boltzmann recomputed at theta +- step), for h, Omega_b, Omega_m,
 * n_s and w0 (w0 at -1 switches the PPF dark-energy perturbations on, as their derivative is not zero).
 *
 * The approximations switch at times that move with the parameters, which differences see and the
 * sensitivities (taken with the switching times fixed) do not: a kink of the size of the approximation error.
 * With the default triggers that is up to 5e-3 of dP/dtheta near k = 0.1 /Mpc (radiation streaming from
 * k tau = 45) and k = 0.02 /Mpc (end of tight coupling at aH tau_c = 0.005). This test uses the tighter
 * triggers of docs/boltzmann.md's "derivatives" settings (aH tau_c = 0.002, k tau = 100), for which the
 * approximations are good to 3e-5 in P (against a run without them) and AD and differences agree to ~2e-4.
 */
import { describe, expect, test } from 'vitest';
import { FID } from './harness.js';
import { runBoltzmann } from './stage.js';

const VARY = ['h', 'Omega_b', 'Omega_m', 'n_s', 'w0'] as const;
const STEP: Record<(typeof VARY)[number], number> = { h: 1e-3, Omega_b: 5e-4, Omega_m: 1e-3, n_s: 1e-3, w0: 1e-3 };
const W = {
  k: { k_min: 1e-4, k_max: 0.5, per_decade: 5 },
  z: { z_max: 2, count: 3, spacing: 'linear' },
  output_z: [0, 1, 2],
  transfer: { per_decade: 6, bao: { step: 0 } },
  // tight ODE tolerances so that the differences (step 1e-3) are not limited by the solver's noise, and the
  // "derivatives" approximation triggers (see above)
  precision: { rtol: 1e-7, atol: 1e-12, tca_tau_c_over_tau_h: 0.002, rsa_k_tau: 100 },
};

describe('dP/dtheta: forward AD vs central differences', () => {
  const ad = runBoltzmann(FID, { vary: [...VARY], with: W });

  test.each(VARY)('d/d%s', async (p) => {
    const a = await ad;
    const i = VARY.indexOf(p);
    const up = await runBoltzmann({ ...FID, [p]: FID[p] + STEP[p] }, { with: W });
    const dn = await runBoltzmann({ ...FID, [p]: FID[p] - STEP[p] }, { with: W });
    const N = a.P_Mpc3.value.length, nk = a.k_1overMpc.length;
    for (let iz = 0; iz < a.z.length; iz++) {
      const fd = Array.from({ length: nk }, (_, q) => (up.P_Mpc3.value[iz * nk + q] - dn.P_Mpc3.value[iz * nk + q]) / (2 * STEP[p]));
      const scale = Math.max(...fd.map(Math.abs));
      for (let q = 0; q < nk; q++) {
        const adv = a.P_Mpc3.tangent![i * N + iz * nk + q];
        // issue 6: 1e-3 relative; where dP/dtheta crosses zero (|fd| < 5% of its largest value over k) relative to
        // that largest value. Measured: 1.6e-4 (h, Omega_b, Omega_m), 1.6e-6 (n_s), 1.5e-5 (w0) of the scale.
        const ref = Math.abs(fd[q]) > 0.05 * scale ? Math.abs(fd[q]) : scale;
        expect(Math.abs(adv - fd[q])).toBeLessThan(1e-3 * ref);
      }
    }
  });

  test('the tangent of sigma8 is zero when sigma8 normalises (and A_s carries the derivatives)', async () => {
    const a = await ad;
    expect(a.sigma8.d === null || a.sigma8.d.every((v) => v === 0)).toBe(true);
    expect(a.A_s.d).not.toBeNull();
  });
});
