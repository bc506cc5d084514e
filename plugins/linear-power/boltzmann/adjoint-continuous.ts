/**
 * Reverse mode through one k-mode, scheme `continuous`: per regime, the adjoint equation
 *
 *   lambda' = -A(x)^T lambda,   integrated backwards from the regime's end with the same method (tsit5) and tolerances,
 *   dF/d(read scalars) = Integral_{x0}^{x1} lambda(x)^T df/d(read scalars)(x, y(x)) dx,
 *
 * (e.g. Cao, Li, Petzold & Serban 2003, SIAM J. Sci. Comput. 24, 1076, eqs. 2.3-2.4; CVODES' adjoint), with jumps
 * lambda += g(x_i) deltaBar_i at the output times x_i, y(x) from the forward solve's dense output (recordMode with
 * dense: true), and the integral by 3-point Gauss-Legendre on every accepted backward step (lambda from the backward
 * solve's dense output). The switches and the start are as in the discrete scheme (adjoint.ts). Its result is the
 * gradient of the exact solution up to the two solves' tolerances (not that of the discrete solution): it agrees with
 * the discrete scheme and with forward sensitivities to about the ODE tolerance.
 *
 * Memory: the dense forward output (tsit5: 8 vectors of n per step) of every regime, ~8x the discrete scheme's.
 */
import { gaussLegendre } from '../../../core/numerics/gauss-legendre.js';
import { createTsit5 } from '../../../core/numerics/ode/index.js';
import { type ModeTape, type ModeVjpResult, type Op, type RegimeBackward, RegimeAdjointRhs, modeVjp } from './adjoint.js';
import { RhsReadBars } from './adjoint-reads.js';

const GL = gaussLegendre(3);

/**
 * Where the PPF relaxation switches on or off in (x0, x1) (equations.ts: Gamma is evolved while
 * X = c_Gamma^2 k^2/(aH)^2 <= X_max): there A(x) jumps, and lambda_Gamma with it from 0 to its quasi-static value, so
 * the backward solve stops there rather than resolving the jump inside a step: it ends at `hi` (the side of larger x)
 * and resumes at `lo` (the other side), 1e-12 apart, so that no step has a stage across the jump. Scan by 0.05 in x,
 * bisect.
 */
function ppfBreaks(op: Extract<Op, { kind: 'solve' }>, x0: number, x1: number): { lo: number; hi: number }[] {
  const rhs = op.rhs, S = rhs.setup;
  if (!S.ppf) return [];
  const g = (x: number) => {
    const aH = rhs.point(x, null).aH;
    return (S.ppfCGamma2 * rhs.k2) / (aH * aH) - S.ppfXMax;
  };
  const out: { lo: number; hi: number }[] = [];
  const m = Math.max(1, Math.ceil((x1 - x0) / 0.05));
  let a = x0, ga = g(a);
  for (let i = 1; i <= m; i++) {
    const b = x0 + ((x1 - x0) * i) / m, gb = g(b);
    if ((ga > 0) !== (gb > 0)) {
      let lo = a, hi = b;
      const glo = ga;
      for (let it = 0; it < 80 && hi - lo > 1e-12; it++) {
        const mid = 0.5 * (lo + hi);
        if ((g(mid) > 0) === (glo > 0)) lo = mid;
        else hi = mid;
      }
      out.push({ lo, hi });
    }
    a = b;
    ga = gb;
  }
  return out;
}

/** Scheme `continuous` for one regime (see the file comment). */
export const continuousRegime: RegimeBackward = (op, lamEnd, dense, reads, _sBar, tape) => {
  if (!reads) throw new Error("linear-power/boltzmann: the continuous adjoint accumulates the read scalars' cotangents (how = 'tables')");
  if (!op.dense) throw new Error('linear-power/boltzmann: the continuous adjoint needs the dense forward solution (recordMode with dense: true)');
  const rhs = op.rhs, n = rhs.L.n, fwd = op.dense;
  const adj = new RegimeAdjointRhs(rhs, 0, null);
  const solver = createTsit5();
  const x0 = op.times[0], x1 = op.times[op.times.length - 1];
  let lam = lamEnd ? Float64Array.from(lamEnd) : new Float64Array(n);
  const y = new Float64Array(n), l = new Float64Array(n);
  const exact = new RhsReadBars(rhs);
  // lambda' = -A^T lambda (A^T by the transposed equations, equations-transpose.ts)
  const f = (x: number, lm: Float64Array, dl: Float64Array) => {
    adj.vjpY(x, y, lm, dl);
    for (let i = 0; i < n; i++) dl[i] = -dl[i];
  };
  const breaks = ppfBreaks(op, x0, x1);
  let o = dense.t.length - 1;
  let xa = x1;
  for (;;) {
    // jumps at outputs at xa: lambda += g deltaBar
    while (o >= 0 && dense.t[o] >= xa) {
      const bar = dense.bar.subarray(o * n, (o + 1) * n);
      for (let i = 0; i < n; i++) lam[i] += bar[i];
      o--;
    }
    if (xa <= x0) break;
    let xb = o >= 0 && dense.t[o] > x0 ? dense.t[o] : x0;
    let resume = NaN;
    for (const c of breaks) if (c.hi < xa && c.hi > xb) {
      xb = c.hi;
      resume = c.lo;
    }
    // the forward atol is for a state normalised to eta = 1; lambda carries the size of the cotangents
    let scale = 0;
    for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(lam[i]));
    const sol = solver.solve({ f, y0: lam, tspan: [xa, xb] }, { rtol: tape.rtol, atol: tape.atol * Math.max(1, scale), dense: true, maxSteps: 200000 });
    const T = sol.times;
    for (let s = 0; s + 1 < T.length; s++) {
      const ta = T[s], tb = T[s + 1], half = 0.5 * (ta - tb), mid = 0.5 * (ta + tb);
      for (let q = 0; q < GL.x.length; q++) {
        const x = mid + half * GL.x[q];
        fwd.at(x, y);
        sol.interpolant!.at(x, l);
        exact.add(x, y, l, reads, GL.w[q] * half);
      }
    }
    lam = Float64Array.from(sol.state(T.length - 1));
    xa = Number.isNaN(resume) ? xb : resume;
  }
  return lam;
};

/** modeVjp with the continuous scheme (the tape recorded with dense: true). */
export function modeVjpContinuous(tape: ModeTape, deltaBar: ArrayLike<number>, deltaCbBar: ArrayLike<number> | null = null): ModeVjpResult {
  return modeVjp(tape, deltaBar, deltaCbBar, 'tables', continuousRegime);
}
