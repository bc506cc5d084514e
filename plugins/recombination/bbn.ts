/**
 * Primordial helium mass fraction from standard BBN, Y_He(omega_b, Delta N_eff).
 *
 * A polynomial fitted by us (least squares, this file's coefficients) to the PArthENoPE v1.2 predictions for
 * a neutron lifetime of 880.2 s (Pisanti et al. 2008, Comput. Phys. Commun. 178, 956; the assumptions of the
 * Planck 2018 papers), as tabulated on a grid of omega_b = Omega_b h^2 and Delta N = N_eff - 3.046 in the
 * file sBBN_2017.dat that CLASS interpolates. With u = 100 (omega_b - 0.0224):
 *
 *   Y_He = c0 + c1 u + c2 u^2 + c3 u^3 + N (c4 + c5 u + c6 u^2) + N^2 (c7 + c8 u) + c9 N^3
 *
 * Fit range 0.015 <= omega_b <= 0.030, -2 <= Delta N <= 3 (the table's nodes there): largest residual
 * 6.3e-5, rms 3.2e-5 (the table is rounded to 1e-5). Outside that range the stage refuses (use a fixed YHe).
 *
 * For the CLASS `fid` case (omega_b = 0.022445, N_eff = 3.046) this gives 0.245456, while CLASS reports
 * 0.245336 (derived.tsv, from x_e(0)): CLASS's own interpolation evaluates its table at Delta N ~ -0.006
 * (it infers N_eff at BBN from Omega_r at T = 0.1 MeV), which accounts for the 1.2e-4 difference
 * (dY/dN = 0.0134). We keep the BBN relation at Delta N = N_eff - 3.046 exactly; the effect on x_e is
 * ~1.6e-4 (n_H scales as 1 - Y), measured in test/plugins/recombination.
 */
import type { Dual } from '../../core/ad/dual.js';

const C = [
  2.45437314e-1, 4.25864655e-3, -1.18822405e-3, 4.46309035e-4, 1.34248918e-2, 8.03529554e-6, -1.84108503e-5,
  -1.00847222e-3, -4.78738934e-6, 7.92129630e-5,
] as const;

export const BBN_OMEGA_B_RANGE = [0.015, 0.03] as const;
export const BBN_DELTA_N_RANGE = [-2, 3] as const;

/** Y_He and its partial derivatives with respect to omega_b and N_eff. */
export function heliumFromBBN(omega_b: number, N_eff: number): { Y: number; dY_domega_b: number; dY_dNeff: number } {
  const u = 100 * (omega_b - 0.0224);
  const N = N_eff - 3.046;
  const Y = C[0] + u * (C[1] + u * (C[2] + u * C[3])) + N * (C[4] + u * (C[5] + u * C[6])) + N * N * (C[7] + u * C[8]) + C[9] * N * N * N;
  const dYdu = C[1] + u * (2 * C[2] + 3 * u * C[3]) + N * (C[5] + 2 * u * C[6]) + N * N * C[8];
  const dYdN = C[4] + u * (C[5] + u * C[6]) + 2 * N * (C[7] + u * C[8]) + 3 * C[9] * N * N;
  return { Y, dY_domega_b: 100 * dYdu, dY_dNeff: dYdN };
}

/** Why (omega_b, N_eff) is outside the fit, or null. */
export function bbnRangeProblem(omega_b: number, N_eff: number): string | null {
  const N = N_eff - 3.046;
  if (omega_b < BBN_OMEGA_B_RANGE[0] || omega_b > BBN_OMEGA_B_RANGE[1])
    return (
      `omega_b = Omega_b h^2 = ${omega_b.toPrecision(5)} is outside the range of the BBN helium fit ` +
      `[${BBN_OMEGA_B_RANGE[0]}, ${BBN_OMEGA_B_RANGE[1]}]; set with.helium to {"source": "parameter"} and give YHe`
    );
  if (N < BBN_DELTA_N_RANGE[0] || N > BBN_DELTA_N_RANGE[1])
    return (
      `N_eff = ${N_eff} (Delta N = ${N.toPrecision(4)}) is outside the range of the BBN helium fit ` +
      `[3.046${BBN_DELTA_N_RANGE[0]}, 3.046+${BBN_DELTA_N_RANGE[1]}]; set with.helium to {"source": "parameter"} and give YHe`
    );
  return null;
}

/** Y_He as a dual, from the duals omega_b = Omega_b h^2 (the cosmology contract's) and N_eff. */
export function heliumDual(omega_b: Dual, N_eff: Dual): Dual {
  const r = heliumFromBBN(omega_b.v, N_eff.v);
  const P = omega_b.d?.length ?? N_eff.d?.length ?? 0;
  if (P === 0) return { v: r.Y, d: null };
  const d = new Float64Array(P);
  for (let p = 0; p < P; p++) d[p] = r.dY_domega_b * (omega_b.d ? omega_b.d[p] : 0) + r.dY_dNeff * (N_eff.d ? N_eff.d[p] : 0);
  return { v: r.Y, d };
}
