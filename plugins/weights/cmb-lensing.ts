/**
 * `weights/cmb-lensing`: the CMB lensing convergence kappa as a tracer (one kernel, family CMBK, name K).
 *
 * A single source plane at chi_s = chi(z_source) gives the convergence kernel (CCL paper, Chisari et al. 2019,
 * eq. 31; Lewis & Challinor 2006, eq. 4.1 in our Limber normalisation, c = 1):
 *
 *   W_K(z) = (3/2) H0^2 Omega_m (1+z) chi(z) (chi_s - chi(z)) / chi_s,      0 < z < z_source,
 *
 * with the l-factor of a convergence field, l(l+1)/(l+1/2)^2 (CCL's der_angles = 1, der_bessel = -1), and
 * no multiplicative bias. The kernel is tabulated on its own grid, uniform in ln z from z_min to z_source
 * (W ~ z at low z, and it falls linearly to 0 at z_source, where the grid ends).
 *
 * Tangents through chi(z), chi_s, H0 and Omega_m of the background; the reverse pass pulls them back the same
 * way. The background stage must reach z_source (its with.z_max >= 1100 for the CMB).
 */
import { PLUGIN_API_VERSION, type StagePlugin } from '../../core/plugin/types.js';
import { backgroundAt, backgroundAtAdjoint } from '../contracts/background-eval.js';
import type { Background } from '../contracts/background.js';
import type { Tracer, TracerSet } from '../contracts/tracers.js';
import type { DescribeContext } from '../../core/plugin/types.js';
import { inputDescription, num, pathOf, type Described } from '../contracts/describe.js';

export interface CmbLensingConfig {
  z_source: number;
  z_min: number;
  count: number;
  /** White reconstruction noise N_KK [sr] (0: noise-free). */
  noise: number;
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    z_source: { type: 'number', exclusiveMinimum: 0, maximum: 1e4, default: 1100, description: 'redshift of the source plane (the CMB last-scattering surface, ~1100)' },
    z_min: { type: 'number', exclusiveMinimum: 0, default: 1e-3, description: 'lowest redshift of the kernel grid (the integrand below it is negligible)' },
    count: { type: 'integer', minimum: 16, maximum: 100000, default: 600, description: 'kernel grid points, uniform in ln z from z_min to z_source' },
    noise: { type: 'number', minimum: 0, default: 0, description: 'white noise of the reconstructed convergence N_KK [sr] (0: noise-free)' },
  },
} as const;

const TRACER = (noise: number): Tracer => ({
  name: 'K', family: 'CMBK', code: 'K', latex: '\\kappa_{\\rm CMB}', ellFactor: 'convergence', power: 'matter', noise,
});

function grid(c: CmbLensingConfig): Float64Array {
  const a = Math.log(c.z_min), b = Math.log(c.z_source);
  const z = Float64Array.from({ length: c.count }, (_, i) => Math.exp(a + ((b - a) * i) / (c.count - 1)));
  z[c.count - 1] = c.z_source; // exact, so the kernel's zero sits on the last node
  return z;
}

function checkConfig(c: CmbLensingConfig): string[] {
  return c.z_min < c.z_source ? [] : [`with.z_min: ${c.z_min} must be below with.z_source = ${c.z_source}`];
}

function requireCoverage(bg: Background, c: CmbLensingConfig): void {
  const top = bg.z[bg.z.length - 1];
  if (top < c.z_source * (1 - 1e-12))
    throw new Error(`weights/cmb-lensing: with.z_source = ${c.z_source} lies beyond the background's tabulation (z_max = ${top}); raise the background stage's with.z_max to at least ${c.z_source}`);
}

/** Before compute: the background must reach z_source; the tracer set spans [z_min, z_source]. */
function describeCmbLensing(c: CmbLensingConfig, ctx: DescribeContext): Described {
  const bg = inputDescription(ctx, 'background');
  const top = num(bg?.z_max);
  if (top !== undefined && top < c.z_source * (1 - 1e-12))
    return {
      problems: [
        `${pathOf(bg, 'z_max', ctx, 'background')}: ${top} does not reach the CMB lensing source plane, stages.${ctx.stage}.with.z_source = ${c.z_source}; ` +
          `raise the background stage's z_max to at least ${c.z_source}`,
      ],
    };
  return {
    description: {
      tracers: [{ name: 'K', family: 'CMBK', power: 'matter' }], z_min: c.z_min, z_max: c.z_source,
      paths: { z_min: 'with.z_min', z_max: 'with.z_source' },
    },
  };
}

export interface CmbLensingInputs {
  background: Background;
}

export const cmbLensingPlugin: StagePlugin<CmbLensingConfig, CmbLensingInputs, TracerSet> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'weights/cmb-lensing',
  version: '1.0.0',
  port: 'weights',
  description: 'CMB lensing convergence kappa (tracer K, family CMBK): single source plane at z_source, convergence l-factor',
  configSchema,
  inputs: { background: 'background' },
  reads: {},
  differentiable: 'forward',
  check: (config) => checkConfig(config),
  describe: describeCmbLensing,
  run(ctx) {
    const c = ctx.config;
    const problems = checkConfig(c);
    if (problems.length) throw new Error(`weights/cmb-lensing: ${problems.join('; ')}`);
    const bg = ctx.inputs.background;
    requireCoverage(bg, c);
    const z = grid(c), n = z.length;
    const s = backgroundAt(bg, z).chi_Mpc;
    const chi = s.value, chiS = chi[n - 1];
    const H0 = bg.H0_1overMpc, Om = bg.Omega_m;
    // W = K (1+z) chi (1 - chi/chi_s), K = (3/2) H0^2 Omega_m
    const K = 1.5 * H0.v * H0.v * Om.v;
    const W = new Float64Array(n);
    for (let i = 0; i < n; i++) W[i] = K * (1 + z[i]) * chi[i] * (1 - chi[i] / chiS);
    W[n - 1] = 0;
    const P = ctx.tangentParams.length;
    let T: Float64Array | null = null;
    if (P > 0) {
      T = new Float64Array(P * n);
      for (let p = 0; p < P; p++) {
        const dK = 1.5 * (2 * H0.v * (H0.d ? H0.d[p] : 0) * Om.v + H0.v * H0.v * (Om.d ? Om.d[p] : 0));
        const dc = s.tangent ? s.tangent.subarray(p * n, (p + 1) * n) : null;
        const dcS = dc ? dc[n - 1] : 0;
        for (let i = 0; i < n - 1; i++) {
          const x = chi[i], dx = dc ? dc[i] : 0;
          // d[(1+z) x (1 - x/xs)] = (1+z) [dx (1 - 2x/xs) + x^2 dxs / xs^2]
          const df = (1 + z[i]) * (dx * (1 - (2 * x) / chiS) + (x * x * dcS) / (chiS * chiS));
          T[p * n + i] = dK * (1 + z[i]) * x * (1 - x / chiS) + K * df;
        }
      }
    }
    return {
      z,
      tracers: [TRACER(c.noise)],
      W: { value: W, tangent: T, P: T ? P : 0 },
      multiplicative: { value: Float64Array.of(1), tangent: P ? new Float64Array(P) : null, P: P ? P : 0 },
      z_max: c.z_source,
    };
  },
  vjp(ctx, outputBar) {
    const Wbar = (outputBar as { W?: Float64Array }).W;
    if (!Wbar) return {};
    const c = ctx.config, bg = ctx.inputs.background;
    const z = ctx.output.z, n = z.length;
    const chi = backgroundAt(bg, z).chi_Mpc.value, chiS = chi[n - 1];
    const H0 = bg.H0_1overMpc.v, Om = bg.Omega_m.v;
    const K = 1.5 * H0 * H0 * Om;
    let Kbar = 0;
    const chiBar = new Float64Array(n);
    for (let i = 0; i < n - 1; i++) {
      const wb = Wbar[i];
      if (wb === 0) continue;
      const x = chi[i];
      Kbar += wb * (1 + z[i]) * x * (1 - x / chiS);
      chiBar[i] += wb * K * (1 + z[i]) * (1 - (2 * x) / chiS);
      chiBar[n - 1] += (wb * K * (1 + z[i]) * x * x) / (chiS * chiS);
    }
    void c;
    const b = backgroundAtAdjoint(bg, z, { chi_Mpc: chiBar });
    return { inputs: { background: { ...b, H0_1overMpc: Kbar * 3 * H0 * Om, Omega_m: Kbar * 1.5 * H0 * H0 } } };
  },
  write(output, file) {
    const lines = ['z\tW_K_1overMpc'];
    for (let i = 0; i < output.z.length; i++) lines.push(`${output.z[i]}\t${output.W.value[i].toExponential(10)}`);
    return { [file]: lines.join('\n') + '\n' };
  },
};
