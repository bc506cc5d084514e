/**
 * `nonlinear-power/baryon-damping`: a one-parameter suppression of the non-linear matter power spectrum by
 * baryonic feedback (gas expelled from haloes by AGN lowers the power on small scales),
 *
 *   P_out(k, z) = P_in(k, z) S(k),   S(k) = 1 - A_bary x^2 / (1 + x^2),   x = k / k_b,
 *
 * so S -> 1 on large scales (k << k_b) and S -> 1 - A_bary on small ones (k >> k_b). A_bary is a parameter
 * (it can be varied and marginalized over); k_b is a setting of the stage.
 *
 * This is an *example* of a third-party plugin for cosmodag (docs/plugins.md): a smooth, made-up template,
 * not a calibrated feedback model — replace S(k) by the fit you trust (e.g. one calibrated on hydrodynamical
 * simulations) and keep the rest.
 */
import { Expr, type DualArray, type StagePlugin } from 'cosmodag';

/**
 * The `nonlinear-power` contract (cosmodag's plugins/contracts/power.ts), restated: a plugin may declare the
 * fields it uses itself, since stage outputs are plain data. k in 1/Mpc ascending, P in Mpc^3, row-major
 * z-by-k (P[iz * nk + ik]), tangents parameter-major.
 */
export interface PowerGrid {
  readonly k_1overMpc: Float64Array;
  readonly z: Float64Array;
  readonly P_Mpc3: DualArray;
  readonly source: string;
}

export interface BaryonDampingConfig {
  /** Scale where the suppression reaches half its small-scale value [1/Mpc]. */
  k_b_1overMpc: number;
}

/** The suppression S(k) on an array of k, and dS/dA_bary = -x^2/(1+x^2). */
export function suppression(k: Float64Array, A: number, kb: number): { S: Float64Array; dS_dA: Float64Array } {
  const S = new Float64Array(k.length), dS_dA = new Float64Array(k.length);
  for (let i = 0; i < k.length; i++) {
    const x2 = (k[i] / kb) ** 2;
    dS_dA[i] = -x2 / (1 + x2);
    S[i] = 1 + A * dS_dA[i];
  }
  return { S, dS_dA };
}

export const baryonDamping: StagePlugin<BaryonDampingConfig, { nonlinear: PowerGrid }, PowerGrid> = {
  // the plugin contract this file was written against: written as a number, so that a cosmodag speaking
  // another version refuses it instead of running it
  apiVersion: 1,
  id: 'nonlinear-power/baryon-damping',
  version: '1.0.0',
  port: 'nonlinear-power',
  description: 'Non-linear P(k, z) times a baryonic-feedback suppression S(k) = 1 - A_bary (k/k_b)^2 / (1 + (k/k_b)^2) (an example plugin).',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      k_b_1overMpc: {
        type: 'number', exclusiveMinimum: 0, default: 3,
        description: 'wavenumber where the suppression is half its small-scale value [1/Mpc]',
      },
    },
  },
  inputs: { nonlinear: 'nonlinear-power' },
  reads: {
    A_bary: {
      default: 0.1, min: 0, exclusiveMax: 1, absStep: 0.01,
      description: 'small-scale suppression of the matter power by baryonic feedback, S(k >> k_b) = 1 - A_bary',
    },
  },
  differentiable: 'forward',

  run(ctx): PowerGrid {
    // written once, as values, on cosmodag's expression layer: the tangents of every varied parameter (through
    // P_in and A_bary) follow from the same lines
    const pin = ctx.inputs.nonlinear;
    const e = new Expr(ctx.tangentParams.length);
    const nk = pin.k_1overMpc.length, N = pin.P_Mpc3.value.length;
    // 1. the shape -x^2/(1+x^2) = dS/dA_bary at every (z, k) of the grid (row-major z-by-k, like P)
    const shape = suppression(pin.k_1overMpc, 0, ctx.config.k_b_1overMpc).dS_dA;
    const shapeZK = e.constant(Float64Array.from({ length: N }, (_, i) => shape[i % nk]));
    // 2. the suppression S = 1 + A_bary shape
    const S = e.add(e.constant(1), e.mul(e.scalar(ctx.param('A_bary')), shapeZK));
    // 3. P_out = P_in S
    const P = e.mul(e.array(pin.P_Mpc3), S);
    const out = { k_1overMpc: pin.k_1overMpc, z: pin.z, P_Mpc3: e.toDualArray([P]), source: `${pin.source} x baryon damping` };
    e.dispose(); // work arrays back to the pool (toDualArray copied the result)
    return out;
  },

  // 4. a file for a pipeline `outputs` entry: the suppression factor
  write(output, file, { config, params }) {
    const { S } = suppression(output.k_1overMpc, params.A_bary, config.k_b_1overMpc);
    const rows = Array.from(output.k_1overMpc, (k, i) => `${k.toExponential(8)}\t${S[i].toPrecision(10)}`);
    return { [file]: ['k_1overMpc\tS', ...rows].join('\n') + '\n' };
  },
};
