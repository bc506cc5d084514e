/**
 * The background's reverse mode piece by piece, against the forward base-space sensitivities it transposes
 * (q = Omega_r, Omega_m, Omega_k, Omega_de, w0, wa):
 *  - the growth ODE: the discrete adjoint of the RK4 (linearGrowthAdjoint) against the forward sensitivity
 *    equations integrated alongside the state (linearGrowth with base tangents), for a w0-wa, curved model;
 *  - the distance quadrature: the transposed cumulative sum against the forward base tangents;
 *  - the same adjoint against central finite differences of the discrete solution in Omega_m (a third method).
 */
import { describe, expect, it } from 'vitest';
import { gaussLegendre } from '../../../plugins/integrator/index.js';
import { NB, type ExpansionCoefficients, coefficientsOf } from '../../../plugins/background/expansion.js';
import { constant } from '../../../core/ad/dual.js';
import { linearGrowth, linearGrowthAdjoint } from '../../../plugins/background/growth.js';
import { lineOfSightDistance, lineOfSightDistanceAdjoint } from '../../../plugins/background/distances.js';
import { tabulationGrid } from '../../../plugins/background/redshift-grid.js';
import { randomStream } from './harness.js';

const Or = 9.2e-5;
/** The coefficients of a w0-wa, curved model (with massive neutrinos of amplitude An and mass ratio Mn when An > 0). */
const coefficients = (Om: number, Ode: number, An = 0, Mn = 0): ExpansionCoefficients =>
  coefficientsOf([Or, Om, 0.01, Ode, -0.9, 0.3, An, Mn].map(constant));
const model = coefficients(0.31, 1 - 0.31 - Or - 0.01);
const z = tabulationGrid(10, 241, 'log1p');
const n = z.length;
const opts = { aIni: 1e-6, maxStep: 0.01 };

/** sum_i bar_i base[k*n + i] for each k. */
const project = (bar: Float64Array, base: Float64Array) => Float64Array.from({ length: NB }, (_, k) => {
  let t = 0;
  for (let i = 0; i < n; i++) t += bar[i] * base[k * n + i];
  return t;
});
const worstRel = (a: Float64Array, b: Float64Array) => Math.max(...Array.from(a, (x, k) => Math.abs(x - b[k]) / Math.max(Math.abs(x), Math.abs(b[k]), 1e-300)));

describe('background reverse mode', () => {
  it('growth: the discrete RK4 adjoint equals the forward sensitivities transposed (to rounding)', () => {
    const rnd = randomStream(3);
    const Dbar = Float64Array.from(z, () => rnd()), fbar = Float64Array.from(z, () => rnd());
    const fwd = linearGrowth(model, z, opts, true);
    const expected = project(Dbar, fwd.D.base!);
    const ef = project(fbar, fwd.f.base!);
    for (let k = 0; k < NB; k++) expected[k] += ef[k];
    const qbar = new Float64Array(NB);
    linearGrowthAdjoint(model, z, opts, Dbar, fbar, qbar);
    const w = worstRel(expected, qbar);
    console.log(`growth adjoint vs forward sensitivities: ${w.toExponential(2)} (qbar = ${Array.from(qbar, (x) => x.toExponential(4)).join(', ')})`);
    expect(w).toBeLessThan(1e-10);
    // and against central differences of the discrete solution in Omega_m (the closure moves Omega_de too:
    // compare d/dOmega_m - d/dOmega_de, which is what varying Omega_m at fixed Omega_k does)
    const h = 1e-5;
    const val = (dOm: number) => {
      const g = linearGrowth(coefficients(model.Om + dOm, model.Ode - dOm), z, opts, false);
      let t = 0;
      for (let i = 0; i < n; i++) t += Dbar[i] * g.D.value[i] + fbar[i] * g.f.value[i];
      return t;
    };
    const fd = (val(h) - val(-h)) / (2 * h);
    const ad = qbar[1] - qbar[3];
    console.log(`growth adjoint vs central difference in Omega_m: ${(Math.abs(ad - fd) / Math.abs(fd)).toExponential(2)}`);
    expect(Math.abs(ad - fd) / Math.abs(fd)).toBeLessThan(1e-6);
  });

  it('line-of-sight distance: the transposed cumulative quadrature equals the forward base tangents transposed', () => {
    const integrator = gaussLegendre.create({});
    const rnd = randomStream(5);
    const Ubar = Float64Array.from(z, () => rnd());
    const fwd = lineOfSightDistance(model, z, integrator, true);
    const expected = project(Ubar, fwd.base!);
    const qbar = new Float64Array(NB);
    lineOfSightDistanceAdjoint(model, z, integrator, Ubar, qbar);
    const w = worstRel(expected, qbar);
    console.log(`distance adjoint vs forward: ${w.toExponential(2)}`);
    expect(w).toBeLessThan(1e-11);
  });
});
