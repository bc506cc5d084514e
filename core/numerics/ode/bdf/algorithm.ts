/**
 * The BDF/NDF algorithm: its settings and the coefficients of the family up to order 5 (Shampine &
 * Reichelt 1997, section 2; see ../bdf.ts). With gamma_k = sum_{j<=k} 1/j and kappa_k the NDF
 * coefficients (0 for the BDFs), order k solves
 *   (1 - kappa_k) gamma_k d + sum_{m=1}^k gamma_m nabla^m y_n = h f(t_{n+1}, y0 + d)
 * and estimates its local error as (kappa_k gamma_k + 1/(k+1)) |d|.
 */
import { OdeError } from '../problem.js';
import { EPS, type Run } from '../run.js';

export interface BdfSettings {
  /** 'bdf' (kappa = 0) or 'ndf' (Klopfenstein-Shampine kappa, as ode15s). */
  formula: 'bdf' | 'ndf';
  /** Highest order used (1..5). */
  maxOrder: number;
  /**
   * The local error test is made against this fraction of the requested tolerances. An error-per-step
   * multistep code ends with global errors of order tol / (h |lambda|), often 10-100 x tol (no local
   * extrapolation, unlike rodas4 and tsit5); 0.02 brings the IVP test set within a few x rtol (docs/ode.md).
   * 1 gives the raw ode15s-like behaviour.
   */
  localErrorFraction: number;
}

export const BDF_DEFAULTS: BdfSettings = { formula: 'bdf', maxOrder: 5, localErrorFraction: 0.02 };

/** NDF kappa_k, k = 0..5 (S&R 1997 Table 1; index 0 unused). */
export const NDF_KAPPA = [0, -0.185, -1 / 9, -0.0823, -0.0415, 0];

/** Newton iterations per attempt for the state (the sensitivities get two more). */
export const MAX_NEWTON = 4;

/** The coefficients of one BDF/NDF leg, and the tolerances derived from its settings. */
export interface BdfAlgorithm {
  maxOrder: number;
  /** gamma_k = sum_{j<=k} 1/j, k = 0..6. */
  gamma: number[];
  /** (1 - kappa_k) gamma_k: the iteration matrix is M = I - (h / alpha_k) J. */
  alpha: number[];
  /** kappa_k gamma_k + 1/(k+1): the local error constant of order k. */
  errConst: number[];
  /** 1 / localErrorFraction: the error test is errConst |d| / frac <= 1. */
  invFrac: number;
  /** Newton stops when its estimated remaining error is below this (in the norm of the local error test). */
  newtonTol: number;
}

/** Check the settings and compute the coefficients (errors name the solver and tStart). */
export function bdfAlgorithm(run: Run, settings: BdfSettings, tStart: number): BdfAlgorithm {
  const maxOrder = settings.maxOrder;
  if (!Number.isInteger(maxOrder) || maxOrder < 1 || maxOrder > 5)
    throw new OdeError(`${run.what}: maxOrder must be an integer in [1, 5], got ${maxOrder}`, 'input', tStart);
  const kappa = settings.formula === 'ndf' ? NDF_KAPPA : [0, 0, 0, 0, 0, 0];
  const gamma = [0, 1, 0, 0, 0, 0, 0];
  for (let k = 2; k <= 6; k++) gamma[k] = gamma[k - 1] + 1 / k;
  const alpha = gamma.map((g, k) => (1 - (kappa[k] ?? 0)) * g);
  const errConst = gamma.map((g, k) => (kappa[k] ?? 0) * g + 1 / (k + 1));
  const frac = settings.localErrorFraction;
  if (!(frac > 0 && frac <= 1))
    throw new OdeError(`${run.what}: localErrorFraction must be in (0, 1], got ${frac}`, 'input', tStart);
  // Newton stops at a small fraction (0.03, Hairer & Wanner II, IV.8) of the local error tolerance
  const newtonTol = Math.max(100 * EPS / (run.rtol * frac), 0.03) * frac;
  return { maxOrder, gamma, alpha, errConst, invFrac: 1 / frac, newtonTol };
}
