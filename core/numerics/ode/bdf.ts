/**
 * bdf: variable-order (1-5), variable-step backward differentiation formulas in the quasi-constant-step
 * backward-difference form of Shampine & Reichelt, "The MATLAB ODE Suite", SIAM J. Sci. Comput. 18
 * (1997), section 2 (ode15s), optionally with their numerical differentiation formulas (NDF): with
 * gamma_k = sum_{j<=k} 1/j and the predictor y0 = sum_{j=0}^k nabla^j y_n,
 *
 *   sum_{m=1}^k (1/m) nabla^m y_{n+1} - kappa_k gamma_k (y_{n+1} - y0) = h f(t_{n+1}, y_{n+1}),      (S&R 2.2)
 *
 * kappa = (-0.1850, -1/9, -0.0823, -0.0415, 0) for k = 1..5 (Klopfenstein; S&R Table 1), kappa = 0 for
 * the BDFs. Writing d = y_{n+1} - y0 = nabla^{k+1} y_{n+1} this is
 *   (1 - kappa_k) gamma_k d + sum_{m=1}^k gamma_m nabla^m y_n = h f(t_{n+1}, y0 + d),
 * solved by a simplified Newton iteration with M = I - h/((1-kappa)gamma_k) J. The Jacobian is kept
 * across steps until the iteration fails to converge (then it is re-evaluated; if it was current, h is
 * cut), and M is refactored only when h, the order or J changes. Local error estimate
 * (kappa_k gamma_k + 1/(k+1)) |d| (S&R 2.3). After k+1 steps at one step size, the orders k-1, k, k+1
 * are compared and the step size changed; a step-size change interpolates the backward differences to
 * the new spacing. The dense output is the Newton backward-difference polynomial of each step.
 *
 * Sensitivities (staggered direct method, as in CVODES): once y_{n+1} has converged, the same formula is
 * applied to the linear equation S' = J S + df/dp at (t_{n+1}, y_{n+1}) and solved by iterating with the
 * LU of M (a few solves, no new factorization), with the sensitivity differences kept beside the state's.
 */
import { DenseLU } from './dense-lu.js';
import { SegmentKind } from './dense-output.js';
import { OdeError, type OdeOptions, type OdeProblem, type OdeSolution, type OdeSolver } from './problem.js';
import { BUILTIN_DEFAULTS, EPS, Run, buildSolution, type OdeDefaults } from './run.js';
import type { LegResult } from './tsit5.js';

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

const MAX_NEWTON = 4;

export function bdfLeg(run: Run, settings: BdfSettings, tStart = run.t0, yStart = run.y0, hHint = 0): LegResult {
  const { n, m, np, dir, stats, sens } = run;
  const maxOrder = settings.maxOrder;
  if (!Number.isInteger(maxOrder) || maxOrder < 1 || maxOrder > 5)
    throw new OdeError(`${run.what}: maxOrder must be an integer in [1, 5], got ${maxOrder}`, 'input', tStart);
  const kappa = settings.formula === 'ndf' ? NDF_KAPPA : [0, 0, 0, 0, 0, 0];
  const gamma = [0, 1, 0, 0, 0, 0, 0];
  for (let k = 2; k <= 6; k++) gamma[k] = gamma[k - 1] + 1 / k;
  const alpha = gamma.map((g, k) => (1 - (kappa[k] ?? 0)) * g);
  const errConst = gamma.map((g, k) => (kappa[k] ?? 0) * g + 1 / (k + 1));

  // D: rows j = 0..maxOrder+2 hold nabla^j of the stored vector (state, then sensitivities)
  const rows = maxOrder + 3;
  const D = new Float64Array(rows * m);
  const tmpD = new Float64Array((maxOrder + 1) * m);
  const Tm = new Float64Array((maxOrder + 1) * (maxOrder + 1));
  const pred = new Float64Array(m);
  const psi = new Float64Array(m);
  const dvec = new Float64Array(m);
  const yNew = new Float64Array(m), yNewV = yNew.subarray(0, n);
  const F = new Float64Array(m), FV = F.subarray(0, n);
  const fCur = new Float64Array(n);
  const res = new Float64Array(m);
  const delta = new Float64Array(m);
  const J = new Float64Array(n * n);
  const lu = new DenseLU(n);
  const work = new Float64Array(n);
  const scratchY = new Float64Array(n), scratchF = new Float64Array(n);
  const frac = settings.localErrorFraction;
  if (!(frac > 0 && frac <= 1))
    throw new OdeError(`${run.what}: localErrorFraction must be in (0, 1], got ${frac}`, 'input', tStart);
  const invFrac = 1 / frac;
  // Newton stops at a small fraction (0.03, Hairer & Wanner II, IV.8) of the local error tolerance
  const newtonTol = Math.max(100 * EPS / (run.rtol * frac), 0.03) * frac;

  let t = tStart;
  D.set(yStart.subarray(0, m), 0);
  const yCur = D.subarray(0, n);
  {
    let bad = run.rhs(t, yCur, fCur);
    if (bad >= 0) run.failNonFinite(t, bad, fCur[bad], yCur);
    F.set(fCur);
    if (sens) {
      bad = run.sensRhs(t, yCur, fCur, D, n, F, n);
      if (bad >= 0) run.failNonFinite(t, bad, F[bad], yCur);
    }
  }
  let h = hHint > 0 ? Math.min(hHint, run.hMax) : run.initialStep(1, t, yCur, fCur, scratchY, scratchF);
  h = Math.min(h, Math.abs(run.tEnd - t));
  let hs = dir * h;
  for (let i = 0; i < m; i++) D[m + i] = hs * F[i];
  let k = 1;
  let nEqual = 0;
  let jacCurrent = false;
  let jacValid = false;
  let luC = NaN; // the h/alpha the factorization was made for
  let nonFiniteStreak = 0;
  let failures = 0; // consecutive failed attempts of the current step

  const evalJacobian = (): void => {
    // J at the current accepted point; needs f there
    const bad = run.rhs(t, yCur, fCur);
    if (bad >= 0) run.failNonFinite(t, bad, fCur[bad], yCur);
    if (!run.jacobian(t, yCur, fCur, J)) throw new OdeError(`${run.what}: the Jacobian is not finite at t = ${t}`, 'non-finite', t);
    jacCurrent = true;
    jacValid = true;
    luC = NaN;
  };

  /** Rescale the differences D[0..k] from spacing hs to rho*hs (polynomial re-evaluated at the new grid). */
  const changeStep = (rho: number): void => {
    if (rho === 1) return;
    // A[r][l] = prod_{i<l} (i - r rho)/(i + 1): value at t - r*rho*h of the l-th Newton basis function;
    // new differences D'_j = sum_r (-1)^r binom(j, r) p(t - r rho h)  =>  D' = B A D
    const K1 = k + 1;
    for (let j = 0; j <= k; j++) {
      for (let l = 0; l <= k; l++) {
        let s = 0;
        let binom = 1;
        for (let r = 0; r <= j; r++) {
          let a = 1;
          for (let i = 0; i < l; i++) a *= (i - r * rho) / (i + 1);
          s += (r % 2 === 0 ? 1 : -1) * binom * a;
          binom = (binom * (j - r)) / (r + 1);
        }
        Tm[j * K1 + l] = s;
      }
    }
    for (let j = 0; j <= k; j++) {
      const o = j * m;
      for (let i = 0; i < m; i++) {
        let s = 0;
        for (let l = 0; l <= k; l++) s += Tm[j * K1 + l] * D[l * m + i];
        tmpD[o + i] = s;
      }
    }
    D.set(tmpD.subarray(0, (k + 1) * m), 0);
    hs *= rho;
    h = Math.abs(hs);
    nEqual = 0;
  };

  /** Weighted RMS norm of row `row` of D (or of a vector) for the error estimates. */
  const normOf = (v: Float64Array, off: number): number => {
    for (let i = 0; i < m; i++) res[i] = v[off + i];
    return run.errNorm(res, yNew, D);
  };

  evalJacobian();

  while (t !== run.tEnd) {
    if (stats.steps >= run.maxSteps) run.failMaxSteps(t);
    // keep within hMax and do not pass t1
    {
      const hc = run.clip(t, dir * Math.min(h, run.hMax));
      if (hc !== hs) changeStep(hc / hs);
    }
    const hitsEnd = run.clipped;
    if (Math.abs(hs) < run.hMin(t)) run.failUnderflow(t, hs, nonFiniteStreak > 0);
    const tNew = hitsEnd ? run.tEnd : t + hs;

    // predictor and the history term psi = (1/alpha_k) sum_{j=1}^k gamma_j nabla^j y_n
    for (let i = 0; i < m; i++) {
      let p = D[i], q = 0;
      for (let j = 1; j <= k; j++) {
        const v = D[j * m + i];
        p += v;
        q += gamma[j] * v;
      }
      pred[i] = p;
      psi[i] = q / alpha[k];
    }
    const c = hs / alpha[k];
    if (!jacValid) evalJacobian();
    if (c !== luC) {
      const a = lu.lu;
      for (let q = 0; q < n * n; q++) a[q] = -c * J[q];
      for (let i = 0; i < n; i++) a[i * n + i] += 1;
      stats.factorizations++;
      luC = lu.factor() ? c : NaN;
    }

    // simplified Newton for the state: d = y - pred, M delta = c f(y) - psi - d
    let converged = false;
    let nonFinite = false;
    if (luC === c) {
      dvec.fill(0, 0, n);
      yNew.set(pred);
      let dnOld = 0;
      for (let it = 0; it < MAX_NEWTON; it++) {
        stats.newtonIterations++;
        const bad = run.rhs(tNew, yNewV, FV);
        if (bad >= 0) { nonFinite = true; break; }
        for (let i = 0; i < n; i++) res[i] = c * F[i] - psi[i] - dvec[i];
        lu.solve(res, 0, delta, 0, work);
        stats.linearSolves++;
        for (let i = 0; i < n; i++) {
          dvec[i] += delta[i];
          yNew[i] = pred[i] + dvec[i];
        }
        const dn = run.rms(delta, pred, yNew, 0, n);
        if (!Number.isFinite(dn)) { nonFinite = true; break; }
        if (dn === 0) { converged = true; break; }
        if (it > 0) {
          const rate = dn / dnOld;
          if (rate >= 1) break;
          if ((rate / (1 - rate)) * dn <= newtonTol) { converged = true; break; }
          if ((Math.pow(rate, MAX_NEWTON - 1 - it) / (1 - rate)) * dn > newtonTol) break;
        } else if (dn <= 1e-3 * newtonTol) {
          converged = true;
          break;
        }
        dnOld = dn;
      }
    }

    // staggered sensitivities: same formula for S' = J S + df/dp at (t_new, y_new), iterated with M's LU
    if (converged && sens) {
      converged = false;
      const bad = run.rhs(tNew, yNewV, FV);
      if (bad >= 0) nonFinite = true;
      else {
        for (let i = n; i < m; i++) { dvec[i] = 0; yNew[i] = pred[i]; }
        let dnOld = 0;
        for (let it = 0; it < MAX_NEWTON + 2; it++) {
          const b = run.sensRhs(tNew, yNewV, FV, yNew, n, F, n);
          if (b >= 0) { nonFinite = true; break; }
          for (let p = 0; p < np; p++) {
            const o = n + p * n;
            for (let i = o; i < o + n; i++) res[i] = c * F[i] - psi[i] - dvec[i];
            lu.solve(res, o, delta, o, work);
            stats.linearSolves++;
          }
          for (let i = n; i < m; i++) {
            dvec[i] += delta[i];
            yNew[i] = pred[i] + dvec[i];
          }
          const dn = run.rms(delta, pred, yNew, n, m);
          if (!Number.isFinite(dn)) { nonFinite = true; break; }
          if (dn <= 1e-3 * newtonTol) { converged = true; break; }
          if (it > 0) {
            const rate = dn / dnOld;
            if (rate >= 1) break;
            if ((rate / (1 - rate)) * dn <= newtonTol) { converged = true; break; }
          }
          dnOld = dn;
        }
      }
    }

    if (!converged) {
      if (nonFinite) {
        if (++nonFiniteStreak > 40) run.failUnderflow(t, hs, true);
        stats.rejections++;
        changeStep(0.25);
        continue;
      }
      stats.newtonFailures++;
      if (!jacCurrent) {
        evalJacobian(); // retry the same step with a fresh Jacobian
        continue;
      }
      stats.rejections++;
      failures++;
      changeStep(0.3);
      continue;
    }
    nonFiniteStreak = 0;

    // local error estimate (kappa_k gamma_k + 1/(k+1)) |nabla^{k+1} y_{n+1}|
    const errN = errConst[k] * invFrac * run.errNorm(dvec, D, yNew);
    if (!(errN <= 1)) {
      stats.rejections++;
      failures++;
      let factor = Number.isFinite(errN) ? 0.9 * Math.pow(errN, -1 / (k + 1)) : 0.1;
      if (k > 1) {
        // would order k-1 do better? its estimate uses nabla^k y_{n+1} = nabla^k y_n + d
        for (let i = 0; i < m; i++) res[i] = D[k * m + i] + dvec[i];
        const eM = errConst[k - 1] * invFrac * run.errNorm(res, D, yNew);
        const fM = 0.9 * Math.pow(eM, -1 / k);
        if (fM > factor) {
          k -= 1;
          factor = fM;
        }
      }
      // repeated failures: at least halve (the estimates were too optimistic)
      if (failures >= 2) factor = Math.min(factor, 0.5);
      changeStep(Math.min(0.9, Math.max(0.1, factor)));
      continue;
    }

    // accept: update the differences (S&R 1997): D[k+2] = d - D[k+1], D[k+1] = d, D[j] += D[j+1] (j = k..0)
    failures = 0;
    stats.steps++;
    for (let i = 0; i < m; i++) {
      const di = dvec[i];
      D[(k + 2) * m + i] = di - D[(k + 1) * m + i];
      D[(k + 1) * m + i] = di;
    }
    for (let j = k; j >= 0; j--) {
      const o = j * m, o1 = (j + 1) * m;
      for (let i = 0; i < m; i++) D[o + i] += D[o1 + i];
    }
    const off = run.rec.beginSegment(SegmentKind.Bdf, t, tNew, k);
    run.rec.buf.set(D.subarray(0, (k + 1) * m), off);
    run.rec.commit(D);
    t = tNew;
    jacCurrent = false;
    nEqual++;
    if (t === run.tEnd) break;

    // order and step-size selection after k+1 steps at this step size (factors biased as in
    // LSODE/ode15s: 1.3, 1.2, 1.4 against lowering, keeping, raising the order)
    if (nEqual >= k + 1) {
      const rK = 1 / (1.2 * Math.pow(Math.max(errN, 1e-12), 1 / (k + 1)));
      let rM = 0, rP = 0;
      if (k > 1) {
        const eM = errConst[k - 1] * invFrac * normOf(D, k * m);
        rM = 1 / (1.3 * Math.pow(Math.max(eM, 1e-12), 1 / k));
      }
      if (k < maxOrder) {
        const eP = errConst[k + 1] * invFrac * normOf(D, (k + 2) * m);
        rP = 1 / (1.4 * Math.pow(Math.max(eP, 1e-12), 1 / (k + 2)));
      }
      let best = rK, newK = k;
      if (rM > best) { best = rM; newK = k - 1; }
      if (rP > best) { best = rP; newK = k + 1; }
      const factor = Math.min(10, best, run.hMax / h);
      if (newK !== k || factor >= 1.2 || factor < 1) {
        if (newK !== k) nEqual = 0;
        k = newK;
        changeStep(factor);
      }
    }
  }
  return { t, y: Float64Array.from(D.subarray(0, m)), h, stiff: true };
}

export interface BdfConfig extends BdfSettings, OdeDefaults {}

export function createBdf(config: Partial<BdfConfig> = {}): OdeSolver {
  const c = { ...BUILTIN_DEFAULTS, ...BDF_DEFAULTS, ...config };
  const label = c.formula === 'ndf' ? 'ndf' : 'bdf';
  return {
    name: 'bdf',
    solve(problem: OdeProblem, options?: OdeOptions): OdeSolution {
      const run = new Run('ode-solver/bdf', problem, options, c);
      bdfLeg(run, c);
      run.rec.method = label;
      return buildSolution(run);
    },
  };
}
