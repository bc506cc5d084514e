/**
 * The exact cotangents of the 15 read scalars of the right-hand side (adjoint-reads.ts RhsReadBars: the reverse sweep
 * of equations-transpose.ts and point-transpose.ts) against their central differences (nudgeBars, the oracle), per
 * scalar, in every regime (tight coupling, full hierarchies, neutrino fluid, radiation streaming; massive neutrinos
 * m_nu = 0.06 as a hierarchy and as a fluid), PPF on (w0wa), on both sides of the PPF cut and of the thermal table's
 * start; and the A^T lam the same sweep returns against transposeRhs without a state, and the sweep from an evaluation
 * kept at an RK stage (RhsReadBars.save) against the one that re-evaluates.
 */
import { describe, expect, test } from 'vitest';
import { RhsReadBars, ReadBars, nudgeBars, nudgeSize } from '../../../plugins/linear-power/boltzmann/adjoint-reads.js';
import { NUDGE_CB2, NUDGE_COUNT, NUDGE_DCB2, NUDGE_DLK, PerturbationRhs } from '../../../plugins/linear-power/boltzmann/equations.js';
import { transposeRhs } from '../../../plugins/linear-power/boltzmann/equations-transpose.js';
import { W0WA } from './harness.js';
import { REGIMES, setupOf } from './regimes.js';
const NAMES = ['H0', 'Omega_b', 'Omega_c', 'Omega_g', 'Omega_ur', 'Omega_de', 'w0', 'wa', 'A_ncdm', 'M0_ncdm', 'ln kappa\'', 'dln kappa\'/dx', 'c_b^2', 'dc_b^2/dx', 'tau'];

/**
 * Three oracles per scalar j, errors relative to |b_j| size_j (size_j: nudgeSize, the scale nudgeBars steps by)
 * floored at a fraction of M = sum |lam_i f_i| (the differences' rounding is ~eps M / step):
 *   - second-order differences, steps 1e-6 of size_j (the adjoint's per-stage scheme before the exact sweep), all
 *     scalars; floor 1e-2 M (rounding ~1e-8 of it);
 *   - nudgeBars' default, fourth order with steps 1e-4 of size_j (truncation ~1e-10), all scalars; floor 1e-4 M;
 *   - c_b^2, its derivative and d ln kappa'/dx inside the table, whose terms in lam . f are small (c_b^2 << 1) and
 *     in which f is affine (equations.ts: they enter Q, Q', theta_b' and the RSA theta_g linearly), so that central
 *     differences with steps of their own size are exact up to rounding: floor 1e-8 M.
 */
const AFFINE = new Set([NUDGE_CB2, NUDGE_DCB2, NUDGE_DLK]);
const ORACLES: { name: string; rel: ((j: number) => number) | null; order: 2 | 4; floor: number; inTable: boolean; use: Uint8Array | null }[] = [
  { name: '2nd order, steps 1e-6', rel: () => 1e-6, order: 2, floor: 1e-2, inTable: false, use: null },
  { name: '4th order, steps 1e-4', rel: null, order: 4, floor: 1e-4, inTable: false, use: null },
  {
    name: 'affine, steps 1', rel: () => 1, order: 2, floor: 1e-8, inTable: true,
    use: Uint8Array.from({ length: NUDGE_COUNT }, (_, j) => (AFFINE.has(j) ? 1 : 0)),
  },
];

describe.each([['w0wa', W0WA], ['w0wa with m_nu = 0.06', { ...W0WA, m_nu: 0.06 }]] as const)('exact read cotangents (%s)', (name, params) => {
  const setup = setupOf(params);
  test.each(REGIMES)('%s: equal the central differences per scalar', (label, flags) => {
    for (const oracle of ORACLES) {
      const worst = new Float64Array(NUDGE_COUNT), significant = new Float64Array(NUDGE_COUNT);
      for (const k of [0.003, 0.05, 0.4]) {
        const rhs = new PerturbationRhs(setup, k, flags);
        const n = rhs.L.n;
        const exact = new RhsReadBars(rhs);
        const y = new Float64Array(n), lam = new Float64Array(n), f = new Float64Array(n), fd = new Float64Array(NUDGE_COUNT);
        const out = new Float64Array(n), ref = new Float64Array(n), eps = new Float64Array(Math.max(rhs.L.nq, 1));
        for (const x of [-12, -8, -6.5, -5.9, -3.2, -1, -0.1]) {
          if (oracle.inTable && x < setup.xMin) continue;
          for (let i = 0; i < n; i++) {
            lam[i] = Math.sin(1.7 * i + 3 * x + k);
            y[i] = Math.cos(0.9 * i - x + 2 * k);
          }
          const g = () => {
            rhs.f(x, y, f, new Float64Array(0));
            let s = 0;
            for (let i = 0; i < n; i++) s += lam[i] * f[i];
            return s;
          };
          rhs.nudge = new Float64Array(NUDGE_COUNT);
          nudgeBars(rhs, x, g, new ReadBars(setup), fd, 1, oracle.use, oracle.rel, oracle.order);
          rhs.nudge = null;
          exact.add(x, y, lam, null, 1, out);
          g();
          let M = 0;
          for (let i = 0; i < n; i++) M += Math.abs(lam[i] * f[i]);
          const p = rhs.point(x, null);
          for (let j = 0; j < NUDGE_COUNT; j++) {
            if (oracle.use && !oracle.use[j]) continue;
            const s = nudgeSize(setup, x, p, j);
            const e = (Math.abs(exact.b[j] - fd[j]) * s) / Math.max(Math.abs(fd[j]) * s, oracle.floor * M);
            if (Math.abs(fd[j]) * s > oracle.floor * M) significant[j]++;
            worst[j] = Math.max(worst[j], e);
          }
          // the sweep's A^T lam is transposeRhs's; with the evaluation kept from f (an RK stage's), the same cotangents
          transposeRhs(rhs, x, lam, ref, eps);
          for (let j = 0; j < n; j++) expect(out[j]).toBe(ref[j]);
          const b0 = Float64Array.from(exact.b);
          rhs.f(x, y, f, new Float64Array(0));
          exact.save(2, x, f);
          exact.add(x, y, lam, null, 1, out, 2);
          expect(Array.from(exact.b)).toEqual(Array.from(b0));
        }
      }
      const report = NAMES.map((s, j) => `${s} ${worst[j].toExponential(1)} (${significant[j]})`).join(', ');
      console.log(`${name}, ${label}, ${oracle.name}: worst per scalar (points where it is above the floor): ${report}`);
      for (let j = 0; j < NUDGE_COUNT; j++) expect(worst[j], `${NAMES[j]}, ${oracle.name}`).toBeLessThan(1e-7);
    }
  });
});
