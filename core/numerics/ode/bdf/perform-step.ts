/**
 * One BDF/NDF step attempt from (t_n, D) with step hs and order k (see ../bdf.ts for the formulas):
 * predict, keep the Jacobian and the LU of the iteration matrix current, solve the implicit equation for
 * y_{n+1} by a simplified Newton iteration, then the same formula for the sensitivities (staggered), and
 * estimate the local error. On acceptance the differences are updated to those of y_{n+1}.
 */
import { OdeError } from '../problem.js';
import type { Run } from '../run.js';
import { MAX_NEWTON, type BdfAlgorithm } from './algorithm.js';
import type { BdfCache, BdfState } from './cache.js';

/** How an attempt ended: y_{n+1} (and S) found, Newton did not converge, or f / the iterates were not finite. */
export type StepOutcome = 'converged' | 'diverged' | 'non-finite';

/** f and the sensitivity right-hand side at the start (row 0 of D), into F; a non-finite value ends the solve. */
export function initialDerivative(run: Run, c: BdfCache, t: number): void {
  const { n } = run;
  const { D, F, fCur } = c;
  const yCur = D.subarray(0, n);
  let bad = run.rhs(t, yCur, fCur);
  if (bad >= 0) run.failNonFinite(t, bad, fCur[bad], yCur);
  F.set(fCur);
  if (run.sens) {
    bad = run.sensRhs(t, yCur, fCur, D, n, F, n);
    if (bad >= 0) run.failNonFinite(t, bad, F[bad], yCur);
  }
}

/** J at the current accepted point (needs f there): current and valid; the LU is stale. */
export function evaluateJacobian(run: Run, c: BdfCache, s: BdfState): void {
  const { t } = s;
  const yCur = c.D.subarray(0, run.n);
  const bad = run.rhs(t, yCur, c.fCur);
  if (bad >= 0) run.failNonFinite(t, bad, c.fCur[bad], yCur);
  if (!run.jacobian(t, yCur, c.fCur, c.J)) throw new OdeError(`${run.what}: the Jacobian is not finite at t = ${t}`, 'non-finite', t);
  s.jacCurrent = true;
  s.jacValid = true;
  s.luC = NaN;
}

/** The predictor y0 = sum_{j=0}^k nabla^j y_n and the history term psi = (1/alpha_k) sum_{j=1}^k gamma_j nabla^j y_n. */
export function predict(run: Run, c: BdfCache, alg: BdfAlgorithm, k: number): void {
  const { m } = run;
  const { D, pred, psi } = c;
  const { gamma } = alg;
  const ak = alg.alpha[k];
  for (let i = 0; i < m; i++) {
    let p = D[i], q = 0;
    for (let j = 1; j <= k; j++) {
      const v = D[j * m + i];
      p += v;
      q += gamma[j] * v;
    }
    pred[i] = p;
    psi[i] = q / ak;
  }
}

/** Factor M = I - cc J unless it already is for this cc (luC = cc, or NaN when M is singular). */
export function factorIterationMatrix(run: Run, c: BdfCache, s: BdfState, cc: number): void {
  if (cc === s.luC) return;
  const { n } = run;
  const { J } = c;
  const a = c.lu.lu;
  for (let q = 0; q < n * n; q++) a[q] = -cc * J[q];
  for (let i = 0; i < n; i++) a[i * n + i] += 1;
  run.stats.factorizations++;
  s.luC = c.lu.factor() ? cc : NaN;
}

/** Simplified Newton for the state: d = y - y0, M delta = cc f(y) - psi - d (from d = 0). */
export function newtonState(run: Run, c: BdfCache, cc: number, tNew: number, newtonTol: number): StepOutcome {
  const { n, stats } = run;
  const { pred, psi, dvec, yNew, yNewV, F, FV, res, delta, lu, work } = c;
  dvec.fill(0, 0, n);
  yNew.set(pred);
  let dnOld = 0;
  for (let it = 0; it < MAX_NEWTON; it++) {
    stats.newtonIterations++;
    const bad = run.rhs(tNew, yNewV, FV);
    if (bad >= 0) return 'non-finite';
    for (let i = 0; i < n; i++) res[i] = cc * F[i] - psi[i] - dvec[i];
    lu.solve(res, 0, delta, 0, work);
    stats.linearSolves++;
    for (let i = 0; i < n; i++) {
      dvec[i] += delta[i];
      yNew[i] = pred[i] + dvec[i];
    }
    const dn = run.rms(delta, pred, yNew, 0, n);
    if (!Number.isFinite(dn)) return 'non-finite';
    if (dn === 0) return 'converged';
    if (it > 0) {
      const rate = dn / dnOld;
      if (rate >= 1) return 'diverged';
      if ((rate / (1 - rate)) * dn <= newtonTol) return 'converged';
      if ((Math.pow(rate, MAX_NEWTON - 1 - it) / (1 - rate)) * dn > newtonTol) return 'diverged';
    } else if (dn <= 1e-3 * newtonTol) {
      return 'converged';
    }
    dnOld = dn;
  }
  return 'diverged';
}

/**
 * Staggered sensitivities: the same formula for S' = J S + df/dp at (t_new, y_new), iterated with M's LU
 * (no new factorization).
 */
export function newtonSensitivities(run: Run, c: BdfCache, cc: number, tNew: number, newtonTol: number): StepOutcome {
  const { n, m, np, stats } = run;
  const { pred, psi, dvec, yNew, yNewV, F, FV, res, delta, lu, work } = c;
  const bad = run.rhs(tNew, yNewV, FV);
  if (bad >= 0) return 'non-finite';
  for (let i = n; i < m; i++) { dvec[i] = 0; yNew[i] = pred[i]; }
  let dnOld = 0;
  for (let it = 0; it < MAX_NEWTON + 2; it++) {
    const b = run.sensRhs(tNew, yNewV, FV, yNew, n, F, n);
    if (b >= 0) return 'non-finite';
    for (let p = 0; p < np; p++) {
      const o = n + p * n;
      for (let i = o; i < o + n; i++) res[i] = cc * F[i] - psi[i] - dvec[i];
      lu.solve(res, o, delta, o, work);
      stats.linearSolves++;
    }
    for (let i = n; i < m; i++) {
      dvec[i] += delta[i];
      yNew[i] = pred[i] + dvec[i];
    }
    const dn = run.rms(delta, pred, yNew, n, m);
    if (!Number.isFinite(dn)) return 'non-finite';
    if (dn <= 1e-3 * newtonTol) return 'converged';
    if (it > 0) {
      const rate = dn / dnOld;
      if (rate >= 1) return 'diverged';
      if ((rate / (1 - rate)) * dn <= newtonTol) return 'converged';
    }
    dnOld = dn;
  }
  return 'diverged';
}

/**
 * One attempt at tNew = t + hs with order k: predictor, Jacobian (if invalidated) and LU (if h, k or J
 * changed), Newton for y_{n+1}, then for the sensitivities.
 */
export function performStep(run: Run, c: BdfCache, alg: BdfAlgorithm, s: BdfState, tNew: number): StepOutcome {
  predict(run, c, alg, s.k);
  const cc = s.hs / alg.alpha[s.k];
  if (!s.jacValid) evaluateJacobian(run, c, s);
  factorIterationMatrix(run, c, s, cc);
  if (s.luC !== cc) return 'diverged'; // M singular: treated as a failed iteration
  const outcome = newtonState(run, c, cc, tNew, alg.newtonTol);
  if (outcome !== 'converged' || !run.sens) return outcome;
  return newtonSensitivities(run, c, cc, tNew, alg.newtonTol);
}

/** The local error estimate (kappa_k gamma_k + 1/(k+1)) |nabla^{k+1} y_{n+1}|, against frac x the tolerances. */
export function localError(run: Run, c: BdfCache, alg: BdfAlgorithm, k: number): number {
  return alg.errConst[k] * alg.invFrac * run.errNorm(c.dvec, c.D, c.yNew);
}

/**
 * On acceptance, the differences of y_{n+1} (S&R 1997): D[k+2] = d - D[k+1], D[k+1] = d, D[j] += D[j+1]
 * (j = k..0).
 */
export function updateDifferences(run: Run, c: BdfCache, k: number): void {
  const { m } = run;
  const { D, dvec } = c;
  for (let i = 0; i < m; i++) {
    const di = dvec[i];
    D[(k + 2) * m + i] = di - D[(k + 1) * m + i];
    D[(k + 1) * m + i] = di;
  }
  for (let j = k; j >= 0; j--) {
    const o = j * m, o1 = (j + 1) * m;
    for (let i = 0; i < m; i++) D[o + i] += D[o1 + i];
  }
}
