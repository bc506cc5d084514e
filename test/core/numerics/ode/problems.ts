/**
 * Test problems for the ODE solvers, shared by the tests and test/bench/ode.bench.ts.
 *
 * Stiff problems and reference final states from the IVP test set (F. Mazzia and C. Magherini, Test Set
 * for Initial Value Problem Solvers, release 2.4, Univ. Bari, 2008), problem descriptions ROBER, HIRES,
 * VDPOL, OREGO. Non-stiff problems with exact solutions: a damped rotation, a forced linear system with
 * a chosen solution, and the Kepler two-body orbit.
 */
import type { OdeProblem } from '../../../../core/numerics/ode/index.js';

export interface TestProblem {
  name: string;
  problem: OdeProblem;
  /** Reference (or exact) final state. */
  yEnd: number[];
  /** Exact solution at any t, when known. */
  exact?: (t: number) => number[];
  /**
   * Absolute tolerance for a given rtol (per component) and why. The stiff references are compared
   * component by component relative to |y_ref|, so atol must sit below rtol |y_ref| for components that
   * decay to tiny values (ROBER y1, y2; HIRES y2..y5).
   */
  atol: (rtol: number) => number | number[];
}

/** Robertson's chemical kinetics (ROBER), t in [0, 1e11]; params (k1, k2, k3) = (0.04, 3e7, 1e4). */
export function rober(tEnd = 1e11): TestProblem {
  return {
    name: 'ROBER',
    problem: {
      f: (_t, y, dy, p) => {
        const [k1, k2, k3] = p;
        dy[0] = -k1 * y[0] + k3 * y[1] * y[2];
        dy[1] = k1 * y[0] - k3 * y[1] * y[2] - k2 * y[1] * y[1];
        dy[2] = k2 * y[1] * y[1];
      },
      jacobian: (_t, y, J, p) => {
        const [k1, k2, k3] = p;
        J[0] = -k1; J[1] = k3 * y[2]; J[2] = k3 * y[1];
        J[3] = k1; J[4] = -k3 * y[2] - 2 * k2 * y[1]; J[5] = -k3 * y[1];
        J[6] = 0; J[7] = 2 * k2 * y[1]; J[8] = 0;
      },
      dfdp: (_t, y, out) => {
        // rows: equations; columns: k1, k2, k3
        out[0] = -y[0]; out[1] = 0; out[2] = y[1] * y[2];
        out[3] = y[0]; out[4] = -y[1] * y[1]; out[5] = -y[1] * y[2];
        out[6] = 0; out[7] = y[1] * y[1]; out[8] = 0;
      },
      y0: [1, 0, 0],
      tspan: [0, tEnd],
      params: [0.04, 3e7, 1e4],
    },
    yEnd: [0.2083340149701255e-7, 0.8333360770334713e-13, 0.9999999791665050],
    // y1 -> 2e-8 and y2 -> 8e-14 at t = 1e11: with atol_i = 1e-4 rtol |y_i(t_end)| every component is under
    // relative control down to its final size (y3 ~ 1 would do with any small atol)
    atol: (rtol) => [1e-4 * rtol * 2e-8, 1e-4 * rtol * 8e-14, 1e-4 * rtol],
  };
}

/** High irradiance response (HIRES), 8 equations, t in [0, 321.8122]; params (k6 = 280, k7 = 1.81). */
export function hires(): TestProblem {
  return {
    name: 'HIRES',
    problem: {
      f: (_t, y, dy, p) => {
        const k6 = p[0], k7 = p[1];
        dy[0] = -1.71 * y[0] + 0.43 * y[1] + 8.32 * y[2] + 0.0007;
        dy[1] = 1.71 * y[0] - 8.75 * y[1];
        dy[2] = -10.03 * y[2] + 0.43 * y[3] + 0.035 * y[4];
        dy[3] = 8.32 * y[1] + 1.71 * y[2] - 1.12 * y[3];
        dy[4] = -1.745 * y[4] + 0.43 * y[5] + 0.43 * y[6];
        dy[5] = -k6 * y[5] * y[7] + 0.69 * y[3] + 1.71 * y[4] - 0.43 * y[5] + 0.69 * y[6];
        dy[6] = k6 * y[5] * y[7] - k7 * y[6];
        dy[7] = -k6 * y[5] * y[7] + k7 * y[6];
      },
      jacobian: (_t, y, J, p) => {
        const k6 = p[0], k7 = p[1];
        const n = 8;
        J[0] = -1.71; J[1] = 0.43; J[2] = 8.32;
        J[n + 0] = 1.71; J[n + 1] = -8.75;
        J[2 * n + 2] = -10.03; J[2 * n + 3] = 0.43; J[2 * n + 4] = 0.035;
        J[3 * n + 1] = 8.32; J[3 * n + 2] = 1.71; J[3 * n + 3] = -1.12;
        J[4 * n + 4] = -1.745; J[4 * n + 5] = 0.43; J[4 * n + 6] = 0.43;
        J[5 * n + 3] = 0.69; J[5 * n + 4] = 1.71; J[5 * n + 5] = -k6 * y[7] - 0.43; J[5 * n + 6] = 0.69; J[5 * n + 7] = -k6 * y[5];
        J[6 * n + 5] = k6 * y[7]; J[6 * n + 6] = -k7; J[6 * n + 7] = k6 * y[5];
        J[7 * n + 5] = -k6 * y[7]; J[7 * n + 6] = k7; J[7 * n + 7] = -k6 * y[5];
      },
      dfdp: (_t, y, out) => {
        out.fill(0);
        out[5 * 2 + 0] = -y[5] * y[7];
        out[6 * 2 + 0] = y[5] * y[7];
        out[6 * 2 + 1] = -y[6];
        out[7 * 2 + 0] = -y[5] * y[7];
        out[7 * 2 + 1] = y[6];
      },
      y0: [1, 0, 0, 0, 0, 0, 0, 0.0057],
      tspan: [0, 321.8122],
      params: [280, 1.81],
    },
    yEnd: [
      0.7371312573325668e-3, 0.1442485726316185e-3, 0.5888729740967575e-4, 0.1175651343283149e-2, 0.2386356198831331e-2,
      0.6238968252742796e-2, 0.2849998395185769e-2, 0.2850001604814231e-2,
    ],
    // components end between 6e-5 and 6e-3 (and pass through larger values): atol = 1e-4 rtol keeps
    // the smallest under relative control
    atol: (rtol) => 1e-4 * rtol,
  };
}

/**
 * Van der Pol (VDPOL of the test set, eps = 1e-6 on [0, 2]) in the equivalent mu form with mu = 1000:
 * y1' = y2, y2' = mu (1 - y1^2) y2 - y1 on [0, 2000]; then y2(mu form) = y2(eps form) / mu.
 */
export function vdp(mu = 1000): TestProblem {
  return {
    name: 'VDP(mu=1e3)',
    problem: {
      f: (_t, y, dy, p) => {
        const m = p[0];
        dy[0] = y[1];
        dy[1] = m * (1 - y[0] * y[0]) * y[1] - y[0];
      },
      jacobian: (_t, y, J, p) => {
        const m = p[0];
        J[0] = 0; J[1] = 1;
        J[2] = -2 * m * y[0] * y[1] - 1; J[3] = m * (1 - y[0] * y[0]);
      },
      y0: [2, 0],
      tspan: [0, 2 * mu],
      params: [mu],
    },
    yEnd: [1.706167732170469, -0.8928097010248125e-3],
    // y2 is O(1e-3) at the end and O(1) during the fast jumps: atol = 1e-3 rtol keeps it relative
    atol: (rtol) => 1e-3 * rtol,
  };
}

/** Oregonator (OREGO), t in [0, 360]: s = 77.27, w = 0.161, q = 8.375e-6. */
export function orego(): TestProblem {
  const s = 77.27, w = 0.161, q = 8.375e-6;
  return {
    name: 'OREGO',
    problem: {
      f: (_t, y, dy) => {
        dy[0] = s * (y[1] - y[0] * y[1] + y[0] - q * y[0] * y[0]);
        dy[1] = (-y[1] - y[0] * y[1] + y[2]) / s;
        dy[2] = w * (y[0] - y[2]);
      },
      jacobian: (_t, y, J) => {
        J[0] = s * (-y[1] + 1 - 2 * q * y[0]); J[1] = s * (1 - y[0]); J[2] = 0;
        J[3] = -y[1] / s; J[4] = (-1 - y[0]) / s; J[5] = 1 / s;
        J[6] = w; J[7] = 0; J[8] = -w;
      },
      y0: [1, 2, 3],
      tspan: [0, 360],
    },
    yEnd: [0.1000814870318523e1, 0.1228178521549917e4, 0.1320554942846706e3],
    // components range over 1..1e5: relative control with a small floor
    atol: (rtol) => 1e-4 * rtol,
  };
}

/** y' = A y, A = [[-1, 2], [-2, -1]] (a damped rotation): y = e^-t (cos 2t, -sin 2t), t in [0, 5]. */
export function rotation(): TestProblem {
  const exact = (t: number) => [Math.exp(-t) * Math.cos(2 * t), -Math.exp(-t) * Math.sin(2 * t)];
  return {
    name: 'linear rotation',
    problem: {
      f: (_t, y, dy) => {
        dy[0] = -y[0] + 2 * y[1];
        dy[1] = -2 * y[0] - y[1];
      },
      y0: [1, 0],
      tspan: [0, 5],
    },
    yEnd: exact(5),
    exact,
    atol: (rtol) => 1e-3 * rtol,
  };
}

/**
 * A forced (non-autonomous) linear system with a chosen solution u(t) = (sin t, cos 2t, e^{-t/2}):
 * y' = A (y - u(t)) + u'(t), A with eigenvalues -1, -2, -3 and coupling; y(0) = u(0), so y = u.
 */
export function forcedLinear(): TestProblem {
  const u = (t: number) => [Math.sin(t), Math.cos(2 * t), Math.exp(-t / 2)];
  const A = [-1, 0.5, 0, 0, -2, 0.5, 0.25, 0, -3];
  return {
    name: 'forced linear',
    problem: {
      f: (t, y, dy) => {
        const u0 = Math.sin(t), u1 = Math.cos(2 * t), u2 = Math.exp(-t / 2);
        const e0 = y[0] - u0, e1 = y[1] - u1, e2 = y[2] - u2;
        dy[0] = A[0] * e0 + A[1] * e1 + A[2] * e2 + Math.cos(t);
        dy[1] = A[3] * e0 + A[4] * e1 + A[5] * e2 - 2 * Math.sin(2 * t);
        dy[2] = A[6] * e0 + A[7] * e1 + A[8] * e2 - 0.5 * u2;
      },
      y0: u(0),
      tspan: [0, 10],
    },
    yEnd: u(10),
    exact: u,
    atol: (rtol) => 1e-3 * rtol,
  };
}

/** Kepler orbit (a = 1, GM = 1), eccentricity e, over `periods` periods of 2 pi: q'' = -q/|q|^3. */
export function kepler(e = 0.5, periods = 1): TestProblem {
  const exact = (t: number) => {
    // Kepler's equation E - e sin E = t by Newton
    let E = t;
    for (let i = 0; i < 50; i++) {
      const dE = (E - e * Math.sin(E) - t) / (1 - e * Math.cos(E));
      E -= dE;
      if (Math.abs(dE) < 1e-16) break;
    }
    const b = Math.sqrt(1 - e * e), r = 1 - e * Math.cos(E);
    return [Math.cos(E) - e, b * Math.sin(E), -Math.sin(E) / r, (b * Math.cos(E)) / r];
  };
  return {
    name: `Kepler(e=${e})`,
    problem: {
      f: (_t, y, dy) => {
        const r2 = y[0] * y[0] + y[1] * y[1];
        const r3 = r2 * Math.sqrt(r2);
        dy[0] = y[2];
        dy[1] = y[3];
        dy[2] = -y[0] / r3;
        dy[3] = -y[1] / r3;
      },
      y0: exact(0),
      tspan: [0, 2 * Math.PI * periods],
    },
    yEnd: exact(2 * Math.PI * periods),
    exact,
    atol: (rtol) => rtol,
  };
}

/** Largest relative error over components (relative to |ref|, with a floor for components passing 0). */
export function maxRelError(y: ArrayLike<number>, ref: ArrayLike<number>, floor = 0): number {
  let e = 0;
  for (let i = 0; i < ref.length; i++) e = Math.max(e, Math.abs(y[i] - ref[i]) / Math.max(Math.abs(ref[i]), floor));
  return e;
}

/** Largest absolute error over components. */
export function maxAbsError(y: ArrayLike<number>, ref: ArrayLike<number>): number {
  let e = 0;
  for (let i = 0; i < ref.length; i++) e = Math.max(e, Math.abs(y[i] - ref[i]));
  return e;
}
