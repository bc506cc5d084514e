/**
 * The discrete adjoint of tsit5 (core/numerics/ode/adjoint-rk.ts) on a small linear, time-dependent system
 * y' = A(t; p) y: against the forward sensitivities integrated by tsit5 on the same accepted steps (exact
 * Jacobian and df/dp given, so the sensitivities are exact for the discrete scheme), against central differences
 * of the discrete solution on the frozen steps, and against the analytic derivative of y' = -a y.
 */
import { describe, expect, test } from 'vitest';
import { type AdjointRhs, TSIT5_TABLEAU, rkAdjoint, rkReplay } from '../../../../core/numerics/ode/adjoint-rk.js';
import { createTsit5, type OdeProblem } from '../../../../core/numerics/ode/index.js';

const N = 3, NP = 2;
/** A(t; p), row-major. */
function matrix(t: number, p: ArrayLike<number>, A: Float64Array): void {
  A.set([
    -p[0], 1, 0,
    -1 - 0.3 * Math.sin(t), -p[1] * t, 0.5,
    0.3 * p[0] * p[1], 0, -0.2 - 0.1 * t,
  ]);
}
/** dA/dp_k, row-major. */
function dMatrix(t: number, p: ArrayLike<number>, k: number, D: Float64Array): void {
  D.fill(0);
  if (k === 0) {
    D[0] = -1;
    D[6] = 0.3 * p[1];
  } else {
    D[4] = -t;
    D[6] = 0.3 * p[0];
  }
}
const P0 = Float64Array.of(0.7, 0.4);
const y0Of = (p: ArrayLike<number>) => Float64Array.of(1, p[1], 0);
const T_END = 6;

function problem(): OdeProblem {
  const A = new Float64Array(N * N), D = new Float64Array(N * N);
  return {
    f: (t, y, dy, p) => {
      matrix(t, p, A);
      for (let i = 0; i < N; i++) dy[i] = A[i * N] * y[0] + A[i * N + 1] * y[1] + A[i * N + 2] * y[2];
    },
    jacobian: (t, _y, J, p) => matrix(t, p, J),
    dfdp: (t, y, out, p) => {
      for (let k = 0; k < NP; k++) {
        dMatrix(t, p, k, D);
        for (let i = 0; i < N; i++) out[i * NP + k] = D[i * N] * y[0] + D[i * N + 1] * y[1] + D[i * N + 2] * y[2];
      }
    },
    y0: y0Of(P0),
    dy0dp: [0, 0, 0, 1, 0, 0], // n x np
    tspan: [0, T_END],
    params: P0,
  };
}

/** The adjoint problem at parameters p: A^T lam and lam^T dA/dp y. */
function adjointRhs(p: Float64Array): AdjointRhs {
  const A = new Float64Array(N * N), D = new Float64Array(N * N);
  return {
    n: N, np: NP,
    f: (t, y, dy) => {
      matrix(t, p, A);
      for (let i = 0; i < N; i++) dy[i] = A[i * N] * y[0] + A[i * N + 1] * y[1] + A[i * N + 2] * y[2];
    },
    vjpY: (t, _y, lam, out) => {
      matrix(t, p, A);
      for (let j = 0; j < N; j++) out[j] = A[j] * lam[0] + A[N + j] * lam[1] + A[2 * N + j] * lam[2];
    },
    vjpP: (t, y, lam, pbar) => {
      for (let k = 0; k < NP; k++) {
        dMatrix(t, p, k, D);
        let s = 0;
        for (let i = 0; i < N; i++) s += lam[i] * (D[i * N] * y[0] + D[i * N + 1] * y[1] + D[i * N + 2] * y[2]);
        pbar![k] += s;
      }
    },
  };
}

// F = w_end . y(T) + sum_i w_i . y(t_i) at dense times inside steps
const T_OUT = Float64Array.of(0, 0.37, 2.5, 4.999);
const W_OUT = Float64Array.from({ length: T_OUT.length * N }, (_, i) => Math.cos(1.3 * i + 0.2));
const W_END = Float64Array.of(0.5, -1.2, 0.8);

function adjointGradient(times: Float64Array, states: Float64Array, p: Float64Array): Float64Array {
  const pbar = new Float64Array(NP);
  const ybar0 = rkAdjoint(adjointRhs(p), TSIT5_TABLEAU, times, states, W_END, { t: T_OUT, bar: W_OUT }, pbar);
  // + ybar_0 . dy0/dp: y0 = (1, p1, 0)
  pbar[1] += ybar0[1];
  return pbar;
}

function functional(endState: ArrayLike<number>, outputs: ArrayLike<number>): number {
  let F = 0;
  for (let i = 0; i < N; i++) F += W_END[i] * endState[i];
  for (let i = 0; i < W_OUT.length; i++) F += W_OUT[i] * outputs[i];
  return F;
}

describe('discrete adjoint of tsit5 (linear time-dependent system)', () => {
  const sol = createTsit5().solve(problem(), { rtol: 1e-6, atol: 1e-10, sensitivities: true });
  const times = sol.times;
  const last = times.length - 1;

  test('the replay on the recorded steps reproduces the solver (states and dense outputs)', () => {
    const rep = rkReplay(adjointRhs(P0), TSIT5_TABLEAU, times, y0Of(P0), T_OUT);
    let e = 0;
    for (let i = 0; i < sol.states.length; i++) e = Math.max(e, Math.abs(rep.states[i] - sol.states[i]));
    expect(e).toBeLessThan(1e-14);
    const yOut = new Float64Array(N);
    T_OUT.forEach((t, o) => {
      sol.interpolant!.at(t, yOut);
      for (let i = 0; i < N; i++) expect(Math.abs(rep.outputs[o * N + i] - yOut[i])).toBeLessThan(1e-14);
    });
  });

  test('agrees with the forward sensitivities on the same steps to rounding', () => {
    const g = adjointGradient(times, sol.states, P0);
    // forward: dF/dp = w_end . S(T) + sum_i w_i . S(t_i)
    const fwd = new Float64Array(NP);
    const S = sol.sensitivity(last);
    const Si = new Float64Array(NP * N);
    for (let k = 0; k < NP; k++) for (let i = 0; i < N; i++) fwd[k] += W_END[i] * S[k * N + i];
    T_OUT.forEach((t, o) => {
      sol.interpolant!.sensitivityAt(t, Si);
      for (let k = 0; k < NP; k++) for (let i = 0; i < N; i++) fwd[k] += W_OUT[o * N + i] * Si[k * N + i];
    });
    const err = Array.from(g, (v, k) => Math.abs(v - fwd[k]) / Math.abs(fwd[k]));
    console.log(`adjoint vs forward sensitivities (${times.length - 1} steps): ${err.map((e) => e.toExponential(1)).join(', ')}`);
    for (const e of err) expect(e).toBeLessThan(1e-12);
  });

  test('agrees with central differences of the discrete solution on the frozen steps', () => {
    const g = adjointGradient(times, sol.states, P0);
    for (let k = 0; k < NP; k++) {
      const d = 1e-5;
      const at = (sgn: number) => {
        const p = Float64Array.from(P0);
        p[k] += sgn * d;
        const rep = rkReplay(adjointRhs(p), TSIT5_TABLEAU, times, y0Of(p), T_OUT);
        return functional(rep.states.subarray(last * N), rep.outputs);
      };
      const fd = (at(1) - at(-1)) / (2 * d);
      console.log(`adjoint vs differences of the discrete solution, p${k}: ${(Math.abs(g[k] - fd) / Math.abs(fd)).toExponential(1)}`);
      expect(Math.abs(g[k] - fd) / Math.abs(fd)).toBeLessThan(1e-8);
    }
  });
});

describe('discrete adjoint of tsit5 against an analytic derivative', () => {
  test("y' = -a y, y(0) = b: dy(T)/da = -T b e^(-aT), dy(T)/db = e^(-aT) to the ODE tolerance", () => {
    const a = 0.8, b = 1.7, T = 3;
    const pr: OdeProblem = { f: (_t, y, dy, p) => void (dy[0] = -p[0] * y[0]), y0: [b], tspan: [0, T], params: [a] };
    const sol = createTsit5().solve(pr, { rtol: 1e-10, atol: 1e-14, dense: false });
    const rhs: AdjointRhs = {
      n: 1, np: 1,
      f: (_t, y, dy) => void (dy[0] = -a * y[0]),
      vjpY: (_t, _y, lam, out) => void (out[0] = -a * lam[0]),
      vjpP: (_t, y, lam, pbar) => void (pbar![0] += -lam[0] * y[0]),
    };
    const pbar = new Float64Array(1);
    const ybar0 = rkAdjoint(rhs, TSIT5_TABLEAU, sol.times, sol.states, Float64Array.of(1), null, pbar);
    console.log(`analytic: ${Math.abs(pbar[0] / (-T * b * Math.exp(-a * T)) - 1).toExponential(1)}, ${Math.abs(ybar0[0] / Math.exp(-a * T) - 1).toExponential(1)}`);
    expect(Math.abs(pbar[0] / (-T * b * Math.exp(-a * T)) - 1)).toBeLessThan(1e-8);
    expect(Math.abs(ybar0[0] / Math.exp(-a * T) - 1)).toBeLessThan(1e-8);
  });
});
