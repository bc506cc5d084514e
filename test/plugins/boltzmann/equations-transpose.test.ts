/**
 * The transposed perturbation equations (boltzmann/equations-transpose.ts) against the transpose of the Jacobian
 * (f applied to unit vectors, equations.ts) in every regime: tight coupling, full hierarchies, neutrino fluid,
 * radiation streaming; with PPF dark energy (w0wa), and with massive neutrinos (hierarchy and fluid), at times
 * on both sides of the PPF cut, before and after the thermal table's start.
 */
import { describe, expect, test } from 'vitest';
import { PerturbationRhs } from '../../../plugins/linear-power/boltzmann/equations.js';
import { transposeRhs } from '../../../plugins/linear-power/boltzmann/equations-transpose.js';
import { W0WA } from './harness.js';
import { REGIMES, setupOf } from './regimes.js';

describe.each([['w0wa', W0WA], ['w0wa with m_nu = 0.06', { ...W0WA, m_nu: 0.06 }]] as const)('A^T lam without A (%s)', (_name, params) => {
  const setup = setupOf(params);
  test.each(REGIMES)('%s', (_label, flags) => {
    let worst = 0;
    for (const k of [0.003, 0.05, 0.4]) {
      const rhs = new PerturbationRhs(setup, k, flags);
      const n = rhs.L.n;
      const J = new Float64Array(n * n), lam = new Float64Array(n), out = new Float64Array(n), ref = new Float64Array(n);
      const eps = new Float64Array(Math.max(rhs.L.nq, 1));
      for (const x of [-12, -8, -6.5, -5.9, -3.2, -1, -0.1]) {
        for (let i = 0; i < n; i++) lam[i] = Math.sin(1.7 * i + 3 * x + k);
        J.fill(0);
        rhs.jacobian(x, lam, J, new Float64Array(0));
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let i = 0; i < n; i++) s += J[i * n + j] * lam[i];
          ref[j] = s;
        }
        transposeRhs(rhs, x, lam, out, eps);
        let scale = 0;
        for (let j = 0; j < n; j++) scale = Math.max(scale, Math.abs(ref[j]));
        for (let j = 0; j < n; j++) worst = Math.max(worst, Math.abs(out[j] - ref[j]) / scale);
      }
    }
    console.log(`${_name}, ${_label}: worst ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-12);
  });
});
