/**
 * The bar of a Recombination input of the Boltzmann stage, from the modes' cotangents on the spline tables the
 * setup built from it (adjoint-reads.ts ReadBars; setup.ts buildModeSetup transposed).
 */
import type { Recombination } from '../../contracts/recombination.js';
import type { ReadBars } from './adjoint-reads.js';
import type { ModeSetup } from './setup.js';

/**
 * y-cotangent of natural cubic-spline second derivatives on a uniform grid (setup.ts uniformSplineM): m = T^-1 r,
 * r_i = (6/h^2)(y_i+1 - 2 y_i + y_i-1) on the interior, T = tridiag(1, 4, 1) (symmetric), m_0 = m_n-1 = 0; so
 * ybar += (6/h^2) D^T T^-1 mbar (Thomas algorithm on the interior).
 */
export function splineMTranspose(mBar: Float64Array, h: number, yBar: Float64Array): void {
  const n = mBar.length, m = n - 2;
  if (m <= 0) return;
  const c = new Float64Array(m), d = new Float64Array(m), z = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const den = 4 - (i > 0 ? c[i - 1] : 0);
    c[i] = 1 / den;
    d[i] = (mBar[i + 1] - (i > 0 ? d[i - 1] : 0)) / den;
  }
  for (let i = m - 1; i >= 0; i--) z[i] = d[i] - c[i] * (i < m - 1 ? z[i + 1] : 0);
  const f = 6 / (h * h);
  for (let i = 0; i < m; i++) {
    const zi = f * z[i];
    yBar[i] += zi;
    yBar[i + 1] -= 2 * zi;
    yBar[i + 2] += zi;
  }
}

/** The bar of a Recombination input (its fields the setup reads; recombination.ts contract). */
export interface RecombinationBar {
  kappa_prime_1overMpc: Float64Array;
  c_b2: Float64Array;
  tau_Mpc: Float64Array;
  kappa_coefficient_1overMpc: number;
  x_e_early: number;
  Y_He: number;
}

/**
 * From the cotangents on the setup's spline nodes and early coefficients to the bar of the Recombination the setup
 * was built from (setup.ts buildModeSetup, reversed: the tables ascend in x, the contract in z):
 *   ln kappa' nodes: y = ln kappa'(z), m = M y  ->  kappa'bar = (ybar + M^T mbar) / kappa';  c_b^2, tau likewise (identity);
 *   ln kappa'_early = ln(kappa_c x_e,early);  ln c_b^2,early = ln((T_cmb / m_H) (1/mu) 4/3), 1/mu = 1 - Y + Y/not4 + x_e (1 - Y)
 * (the T_cmb part of the latter is a parameter of the cosmology and goes with the directions, not here).
 */
export function recombinationBar(reads: ReadBars, setup: ModeSetup, rec: Recombination): RecombinationBar {
  const n = setup.n, h = setup.dx;
  const column = (c: { y: Float64Array; m: Float64Array }) => {
    const yb = Float64Array.from(c.y);
    splineMTranspose(c.m, h, yb);
    return yb;
  };
  const lk = column(reads.lnKappa), cb = column(reads.cb2), tau = column(reads.tau);
  const kp = rec.kappa_prime_1overMpc.value;
  const out: RecombinationBar = {
    kappa_prime_1overMpc: new Float64Array(n), c_b2: new Float64Array(n), tau_Mpc: new Float64Array(n),
    kappa_coefficient_1overMpc: 0, x_e_early: 0, Y_He: 0,
  };
  for (let i = 0; i < n; i++) {
    const j = n - 1 - i;
    out.kappa_prime_1overMpc[j] = lk[i] / kp[j];
    out.c_b2[j] = cb[i];
    out.tau_Mpc[j] = tau[i];
  }
  const kc = rec.kappa_coefficient_1overMpc.v, xe = rec.x_e_early.v, Y = rec.Y_He.v;
  const NOT4 = 3.9715;
  const invMu = 1 - Y + Y / NOT4 + xe * (1 - Y);
  out.kappa_coefficient_1overMpc = reads.lnKappaEarly / kc;
  out.x_e_early = reads.lnKappaEarly / xe + (reads.lnCb2Early * (1 - Y)) / invMu;
  out.Y_He = (reads.lnCb2Early * (-1 + 1 / NOT4 - xe)) / invMu;
  return out;
}
