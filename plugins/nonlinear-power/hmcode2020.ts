/**
 * `nonlinear-power/hmcode2020`: the non-linear matter power spectrum of HMcode 2020 (Mead, Brieden, Troester &
 * Heymans 2021, MNRAS 502, 1401, arXiv:2009.01858), dark matter only by default, with the paper's one-parameter
 * baryonic feedback (log10 T_AGN) as an option. It fills the nonlinear-power port on its linear input's grid, like
 * Halofit. The physics and its equations are in hmcode2020/model.ts (the per-row assembly), growth.ts (the growth
 * functions g, G, without radiation), variance.ts (sigma(R), sigma_v on a logarithmic lattice), dewiggle.ts (the
 * BAO wiggle) and nfw-window.ts (the halo profile); docs/power.md has the summary and the measured agreement with CLASS.
 *
 * Inputs: `linear` (total matter), `background` (its expansion parameters Omega_m, Omega_de, Omega_k, w0, wa, h:
 * the growth is solved here, see growth.ts for why the background's D(z) is not used) and, with
 * `with.cold_input: true`, `cold`: the CDM + baryon linear P(k) on the same grid (needed when f_nu > 0).
 *
 * Neutrinos: f_nu = Omega_nu/Omega_m (Mead et al. 2021 section 2.4: f_nu in delta_c, Delta_v and the (1 - f_nu)^2 of
 * the one-halo term; sigma(R) and the halo model of the cold P), Omega_nu the background's (its mass split) or the
 * cosmology's, so parameters.m_nu > 0 needs the cold input. `with.f_nu` evaluates an external linear P(k) computed
 * with massive neutrinos while parameters.m_nu = 0 (e.g. CLASS's `mnu` tables; no tangent).
 */
import { type Dual, constant, div } from '../../core/ad/dual.js';
import { PLUGIN_API_VERSION, type ParameterSpec, type StagePlugin } from '../../core/plugin/types.js';
import type { Background } from '../contracts/background.js';
import { type CosmoQuantity, cosmologyOf, cosmologyProblems, cosmologyReads, cosmologyValues, parameterRangeProblem } from '../contracts/cosmology.js';
import type { PowerGrid } from '../contracts/power.js';
import { formatPowerGridAt } from '../contracts/power-table.js';
import { describeOnLinearGrid } from '../contracts/power-describe.js';
import { type HmcodeRowInfo, hmcodeGrid } from './hmcode2020/model.js';
import { redrawPowerTables } from '../contracts/power-plot.js';

export interface Hmcode2020Config {
  feedback: boolean;
  feedback_low_k_fix: boolean;
  f_nu?: number;
  cold_input: boolean;
  output_z: number[];
}

/** What HMcode reads from the cosmology contract (the expansion comes from the background input). */
export const HMCODE_QUANTITIES = ['Omega_m', 'Omega_b', 'T_cmb', 'n_s', 'Omega_nu'] as const satisfies readonly CosmoQuantity[];

/**
 * The feedback parameter. Mead et al. (2021, section 5) fit the one-parameter model to the BAHAMAS simulations at
 * log10(T_AGN/K) = 7.6, 7.8 and 8.0 and present it over 7.3 - 8.3; outside that range the linear-in-theta fits of
 * their table 5 would be extrapolated beyond any simulated feedback strength, so such values are refused.
 */
export const LOG10_T_AGN: ParameterSpec = {
  default: 7.8, min: 7.3, max: 8.3,
  description: 'AGN heating temperature log10(T_AGN/K) of the HMcode 2020 baryonic-feedback model (Mead et al. 2021, calibrated range 7.3-8.3)',
};

export function hmcodeParameters(config: Partial<Hmcode2020Config>): Record<string, ParameterSpec> {
  return { ...cosmologyReads(HMCODE_QUANTITIES), ...(config.feedback ? { log10_T_AGN: LOG10_T_AGN } : {}) };
}

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    feedback: {
      type: 'boolean', default: false,
      description: 'baryonic feedback (Mead et al. 2021 section 5, one-parameter model): reads the parameter log10_T_AGN',
    },
    feedback_low_k_fix: {
      type: 'boolean', default: false,
      description:
        'with feedback: damp the one-halo terms of the response\'s two vanilla halo models at k << 0.056 h/Mpc (HMcode\'s 2023 ' +
        'low-k fix); false: the paper\'s (and CLASS v3.3\'s) response, which tends to a constant != 1 as k -> 0',
    },
    f_nu: {
      type: 'number', minimum: 0, maximum: 0.5,
      description:
        'massive-neutrino fraction Omega_nu/Omega_m for an external linear P(k) computed with massive neutrinos while ' +
        'parameters.m_nu = 0 (needs cold_input); default (and with m_nu > 0): the background\'s Omega_nu/Omega_m',
    },
    cold_input: {
      type: 'boolean', default: false,
      description: 'read the cold (CDM + baryon) linear P(k) from the input `cold` (same grid as `linear`); needed when f_nu > 0',
    },
    output_z: {
      type: 'array', minItems: 1, items: { type: 'number', minimum: 0 }, default: [0, 0.5, 1, 2, 3],
      description: 'redshifts of the P(k) columns written to the output file (inside the linear grid)',
    },
  },
} as const;

/** Diagnostics of the last evaluation of an output (delta_c, sigma_8(z), R_nl, ... per row): tests and docs. */
const DIAGNOSTICS = new WeakMap<PowerGrid, HmcodeRowInfo[]>();
export const hmcodeDiagnostics = (out: PowerGrid): HmcodeRowInfo[] | undefined => DIAGNOSTICS.get(out);

type Inputs = { linear: PowerGrid; background: Background; cold?: PowerGrid };

export const hmcode2020: StagePlugin<Hmcode2020Config, Inputs, PowerGrid> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'nonlinear-power/hmcode2020',
  version: '1.0.0',
  port: 'nonlinear-power',
  description:
    'Non-linear matter P(k, z) from HMcode 2020 (Mead et al. 2021) on the linear grid: halo model with BAO damping, ' +
    'two- and one-halo damping, optional one-parameter baryonic feedback (log10_T_AGN); forward-mode tangents ' +
    '(implicit-function rule for the non-linear radius and the halo formation times).',
  configSchema,
  inputs: (config) => ({
    linear: 'linear-power',
    background: 'background',
    ...(config.cold_input ? { cold: 'linear-power' } : {}),
  }),
  reads: (config) => hmcodeParameters(config),
  differentiable: 'forward',
  describe: (_config, ctx) => describeOnLinearGrid(ctx, { background: false }),

  check(config, { params }) {
    const out = cosmologyProblems(params, HMCODE_QUANTITIES);
    if (config.feedback) {
      const m = parameterRangeProblem('log10_T_AGN', params.log10_T_AGN ?? LOG10_T_AGN.default, LOG10_T_AGN);
      if (m) out.push(m);
    }
    return out;
  },

  run(ctx): PowerGrid {
    const cfg = ctx.config;
    const where = 'nonlinear-power/hmcode2020';
    const problems = cosmologyProblems(cosmologyValues(ctx, HMCODE_QUANTITIES), HMCODE_QUANTITIES);
    let tAgn: Dual | null = null;
    if (cfg.feedback) {
      tAgn = ctx.param('log10_T_AGN');
      const m = parameterRangeProblem('log10_T_AGN', tAgn.v, LOG10_T_AGN);
      if (m) problems.push(m);
    }
    if (problems.length) throw new Error(`${where}: ${problems.join('; ')}`);
    const c = cosmologyOf(ctx);
    const bg = ctx.inputs.background;
    // f_nu = Omega_nu/Omega_m: Omega_nu of the background's mass split (else the cosmology's), or the config's constant
    let fnu: Dual = div(bg.Omega_nu ?? c.Omega_nu, c.Omega_m);
    if (cfg.f_nu !== undefined) {
      if (c.Omega_nu.v !== 0)
        throw new Error(`${where}: with.f_nu is set, but the cosmology has Omega_nu = ${c.Omega_nu.v}; remove with.f_nu (it is only for external grids)`);
      fnu = constant(cfg.f_nu);
    }
    // the cold (CDM + baryon) linear P: the `cold` input. Hook: when the linear-power port carries P_cb itself (with
    // m_nu), take it from there instead; with f_nu = 0 the total P is the cold one exactly.
    const cold = cfg.cold_input ? ctx.inputs.cold : undefined;
    if (cfg.cold_input && !cold) throw new Error(`${where}: with.cold_input is true but no stage is wired to inputs.cold`);
    if (fnu.v > 0 && !cold)
      throw new Error(
        `${where}: f_nu = ${fnu.v} > 0 needs the cold (CDM + baryon) linear P(k): set with.cold_input = true and wire ` +
          'inputs.cold to a linear-power stage giving it (linear-power/eisenstein-hu with with.transfer: "eh99" and ' +
          'with.matter: "cb", or linear-power/grid on a P_cb table such as CLASS\'s pk_cb_lin.tsv)',
      );
    const { P, rows } = hmcodeGrid(ctx.inputs.linear, cold ?? null, {
      h: bg.h, Omega_m: bg.Omega_m, Omega_de: bg.Omega_de, Omega_k: bg.Omega_k, w0: bg.w0, wa: bg.wa,
      Omega_b: c.Omega_b, T_cmb: c.T_cmb, n_s: c.n_s, f_nu: fnu, log10_T_AGN: tAgn,
    }, { feedback: cfg.feedback, feedbackLowKFix: cfg.feedback_low_k_fix });
    const lin = ctx.inputs.linear;
    const out: PowerGrid = { k_1overMpc: lin.k_1overMpc, z: lin.z, P_Mpc3: P, source: cfg.feedback ? 'hmcode2020 (feedback)' : 'hmcode2020' };
    DIAGNOSTICS.set(out, rows);
    return out;
  },

  redraw: redrawPowerTables,
  write(output, file, { config }) {
    return { [file]: formatPowerGridAt(output, Float64Array.from(config.output_z)) };
  },
};
