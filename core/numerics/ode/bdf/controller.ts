/**
 * Step size and order of the BDF/NDF leg. A new step size rescales the backward differences to the new
 * spacing (changeStep). After a failed attempt: a fresh Jacobian first, then smaller steps; after a failed
 * error test, a smaller step and possibly order k-1; after k+1 accepted steps at one step size, the orders
 * k-1, k, k+1 are compared (factors biased as in LSODE/ode15s: 1.3, 1.2, 1.4 against lowering, keeping,
 * raising the order).
 */
import type { Run } from '../run.js';
import type { BdfAlgorithm } from './algorithm.js';
import type { BdfCache, BdfState } from './cache.js';
import { evaluateJacobian, type StepOutcome } from './perform-step.js';

/** Rescale the differences D[0..k] from spacing hs to rho*hs (polynomial re-evaluated at the new grid). */
export function changeStep(run: Run, c: BdfCache, s: BdfState, rho: number): void {
  if (rho === 1) return;
  const { m } = run;
  const { D, tmpD, Tm } = c;
  const k = s.k;
  // A[r][l] = prod_{i<l} (i - r rho)/(i + 1): value at t - r*rho*h of the l-th Newton basis function;
  // new differences D'_j = sum_r (-1)^r binom(j, r) p(t - r rho h)  =>  D' = B A D
  const K1 = k + 1;
  for (let j = 0; j <= k; j++) {
    for (let l = 0; l <= k; l++) {
      let sum = 0;
      let binom = 1;
      for (let r = 0; r <= j; r++) {
        let a = 1;
        for (let i = 0; i < l; i++) a *= (i - r * rho) / (i + 1);
        sum += (r % 2 === 0 ? 1 : -1) * binom * a;
        binom = (binom * (j - r)) / (r + 1);
      }
      Tm[j * K1 + l] = sum;
    }
  }
  for (let j = 0; j <= k; j++) {
    const o = j * m;
    for (let i = 0; i < m; i++) {
      let sum = 0;
      for (let l = 0; l <= k; l++) sum += Tm[j * K1 + l] * D[l * m + i];
      tmpD[o + i] = sum;
    }
  }
  D.set(tmpD.subarray(0, (k + 1) * m), 0);
  s.hs *= rho;
  s.h = Math.abs(s.hs);
  s.nEqual = 0;
}

/**
 * The step from t: within hMax and not past t1 (the differences rescaled to it); fails on underflow.
 * Returns the new time (t1 itself when the step was clipped to it).
 */
export function nextStep(run: Run, c: BdfCache, s: BdfState): number {
  const { t } = s;
  const hc = run.clip(t, run.dir * Math.min(s.h, run.hMax));
  if (hc !== s.hs) changeStep(run, c, s, hc / s.hs);
  const hitsEnd = run.clipped;
  if (Math.abs(s.hs) < run.hMin(t)) run.failUnderflow(t, s.hs, s.nonFiniteStreak > 0);
  return hitsEnd ? run.tEnd : t + s.hs;
}

/**
 * After an attempt whose iteration failed: a non-finite f cuts the step by 4 (at most 40 times in a row);
 * otherwise the same step is retried with a fresh Jacobian, and only with a current one is h cut by 0.3.
 */
export function rejectIteration(run: Run, c: BdfCache, s: BdfState, outcome: Exclude<StepOutcome, 'converged'>): void {
  const { stats } = run;
  if (outcome === 'non-finite') {
    if (++s.nonFiniteStreak > 40) run.failUnderflow(s.t, s.hs, true);
    stats.rejections++;
    changeStep(run, c, s, 0.25);
    return;
  }
  stats.newtonFailures++;
  if (!s.jacCurrent) {
    evaluateJacobian(run, c, s); // retry the same step with a fresh Jacobian
    return;
  }
  stats.rejections++;
  s.failures++;
  changeStep(run, c, s, 0.3);
}

/** After a failed error test (errN > 1): a smaller step, at order k-1 if its estimate allows a larger one. */
export function rejectErrorTest(run: Run, c: BdfCache, alg: BdfAlgorithm, s: BdfState, errN: number): void {
  const { m } = run;
  const { D, dvec, res, yNew } = c;
  run.stats.rejections++;
  s.failures++;
  const k = s.k;
  let factor = Number.isFinite(errN) ? 0.9 * Math.pow(errN, -1 / (k + 1)) : 0.1;
  if (k > 1) {
    // would order k-1 do better? its estimate uses nabla^k y_{n+1} = nabla^k y_n + d
    for (let i = 0; i < m; i++) res[i] = D[k * m + i] + dvec[i];
    const eM = alg.errConst[k - 1] * alg.invFrac * run.errNorm(res, D, yNew);
    const fM = 0.9 * Math.pow(eM, -1 / k);
    if (fM > factor) {
      s.k = k - 1;
      factor = fM;
    }
  }
  // repeated failures: at least halve (the estimates were too optimistic)
  if (s.failures >= 2) factor = Math.min(factor, 0.5);
  changeStep(run, c, s, Math.min(0.9, Math.max(0.1, factor)));
}

/** Weighted RMS norm of the row of D starting at `off`, for the order-selection estimates. */
function rowNorm(run: Run, c: BdfCache, off: number): number {
  const { m } = run;
  const { D, res } = c;
  for (let i = 0; i < m; i++) res[i] = D[off + i];
  return run.errNorm(res, c.yNew, D);
}

/**
 * After an accepted step (errN its error estimate): once k+1 steps were taken at this step size, the order
 * among k-1, k, k+1 promising the largest step, and that step (at most 10 x, within hMax; kept unless it
 * changes by at least 1.2 x or shrinks).
 */
export function selectOrderAndStep(run: Run, c: BdfCache, alg: BdfAlgorithm, s: BdfState, errN: number): void {
  const k = s.k;
  if (s.nEqual < k + 1) return;
  const { m } = run;
  const { errConst, invFrac } = alg;
  const rK = 1 / (1.2 * Math.pow(Math.max(errN, 1e-12), 1 / (k + 1)));
  let rM = 0, rP = 0;
  if (k > 1) {
    const eM = errConst[k - 1] * invFrac * rowNorm(run, c, k * m);
    rM = 1 / (1.3 * Math.pow(Math.max(eM, 1e-12), 1 / k));
  }
  if (k < alg.maxOrder) {
    const eP = errConst[k + 1] * invFrac * rowNorm(run, c, (k + 2) * m);
    rP = 1 / (1.4 * Math.pow(Math.max(eP, 1e-12), 1 / (k + 2)));
  }
  let best = rK, newK = k;
  if (rM > best) { best = rM; newK = k - 1; }
  if (rP > best) { best = rP; newK = k + 1; }
  const factor = Math.min(10, best, run.hMax / s.h);
  if (newK !== k || factor >= 1.2 || factor < 1) {
    if (newK !== k) s.nEqual = 0;
    s.k = newK;
    changeStep(run, c, s, factor);
  }
}
