/**
 * The inputs of weights/3x2pt on the main job's chain (IST:F n(z) on its 4000-point grid, the w0wa background
 * sampled on it, parameter duals), shared by the expression-vs-hand-written test and `npm run bench:ad`.
 */
import { seed } from '../../core/ad/dual.js';
import { backgroundAt } from '../../plugins/contracts/background-eval.js';
import type { Background } from '../../plugins/contracts/background.js';
import type { RedshiftDistribution } from '../../plugins/contracts/redshift.js';
import { istfPhotometricPlugin, ISTF_DEFAULTS } from '../../plugins/redshift-distribution/istf-photometric.js';
import { w0waBackground } from '../../plugins/background/w0wa.js';
import type { KernelBackground, KernelParameters, KernelValues } from '../../plugins/weights/3x2pt.js';
import { createGaussLegendre } from '../../plugins/integrator/gauss-legendre.js';
import { fakeContext } from './harness.js';

export interface KernelInputs {
  P: number;
  nz: RedshiftDistribution;
  bg: KernelBackground;
  par: KernelParameters;
  /** The same inputs as plain values, as the reverse pass reads them. */
  vals: KernelValues;
  pv: { A_IA: number; eta_IA: number; b: number[] };
}

/** Tangents for `vary`; bias b_i and shear bias m_i fiducials given per bin; A_IA = 1.72, eta_IA = -0.41. */
export function kernelInputs(vary: readonly string[], params: Record<string, number>, bias: (i: number) => number, shear: (i: number) => number): KernelInputs {
  const P = vary.length;
  const v = [...vary];
  const nz = istfPhotometricPlugin.run(fakeContext(istfPhotometricPlugin, { with: { ...ISTF_DEFAULTS }, params, vary: v })) as RedshiftDistribution;
  const full = w0waBackground.run(fakeContext(w0waBackground, { with: { z_max: 5, output_z: { min: 0, max: 5, count: 6 } }, params, vary: v, methods: { integrator: createGaussLegendre({}) } })) as Background;
  const s = backgroundAt(full, nz.z);
  const p = (name: string, x: number) => seed(x, vary.indexOf(name), P);
  const par: KernelParameters = {
    A_IA: p('A_IA', 1.72), eta_IA: p('eta_IA', -0.41),
    b: Array.from({ length: 10 }, (_, i) => p(`b_${i + 1}`, bias(i))),
    m: Array.from({ length: 10 }, (_, i) => p(`m_${i + 1}`, shear(i))),
  };
  return {
    P, nz, par,
    bg: { chi_Mpc: s.chi_Mpc, E: s.E, D: s.D, H0_1overMpc: full.H0_1overMpc, Omega_m: full.Omega_m },
    vals: { chi: s.chi_Mpc.value, E: s.E.value, D: s.D.value, H0: full.H0_1overMpc.v, Omega_m: full.Omega_m.v },
    pv: { A_IA: 1.72, eta_IA: -0.41, b: par.b.map((x) => x.v) },
  };
}
