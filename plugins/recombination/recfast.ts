/**
 * `recombination/recfast`: the ionisation history x_e(z), the baryon temperature and sound speed, the Thomson
 * opacity, visibility function and the epochs z_star, z_drag with the sound horizon there, from the RECFAST
 * model (recfast.ts; SSS 1999/2000, WMS08, RECFAST 1.5) plus CAMB/CLASS-style tanh reionisation, with forward
 * tangents for every varied parameter, and a vjp (recfast-vjp.ts). Equations and measured accuracy against CLASS/HyRec: docs/boltzmann.md.
 *
 * Helium: Y_He from standard BBN as a function of omega_b and N_eff (bbn.ts), or the parameter YHe.
 * Reionisation: the input is tau_reio (z_reio found by root finding, as CLASS does) or z_reio.
 * The cosmology (h, Omega_b, omega_b, Omega_r, Omega_m, Omega_de, ...) comes from the cosmology contract
 * (plugins/contracts/cosmology.ts), which declares and checks the parameters once.
 */
import { type Dual, constant } from '../../core/ad/dual.js';
import { PLUGIN_API_VERSION, type ParameterSpec, type StagePlugin } from '../../core/plugin/types.js';
import type { Background } from '../contracts/background.js';
import {
  type CosmoQuantity, type Cosmology, type CosmologyRequirements, cosmologyFrom, cosmologyOf, cosmologyProblems, cosmologyReads,
  cosmologyValues, parametersOf,
} from '../contracts/cosmology.js';
import { neutrinoAmplitude, neutrinoMassOverT } from '../contracts/neutrinos.js';
import type { Recombination } from '../contracts/recombination.js';
import { bbnRangeProblem, heliumDual } from './bbn.js';
import { thermalHistory } from './history.js';
import { CAMB_REIONIZATION } from './reionization.js';
import { recfastVjp } from './recfast-vjp.js';

export interface RecfastConfig {
  z_max: number;
  dlna: number;
  rtol: number;
  helium: { source: 'bbn' | 'parameter' };
  reionization: { input: 'tau_reio' | 'z_reio'; exponent: number; width: number; helium_redshift: number; helium_width: number };
}

/** Default table top, grid step in ln a and ODE tolerance. */
export const RECFAST_DEFAULTS = { z_max: 1e4, dlna: 2e-3, rtol: 1e-6 } as const;

/**
 * The cosmology the thermal history uses: the base quantities of the recombination model (cosmology.ts here:
 * h, Omega_b, Omega_r, Omega_m, Omega_k, Omega_de, w0, wa, T_cmb), omega_b and N_eff for the BBN helium, and
 * the matter budget (Omega_cdm >= 0).
 */
export const RECOMBINATION_QUANTITIES = [
  'h', 'Omega_b', 'omega_b', 'Omega_r', 'Omega_m', 'Omega_cdm', 'Omega_k', 'Omega_de', 'w0', 'wa', 'T_cmb', 'N_eff',
  'Omega_g', 'm_nu',
] as const satisfies readonly CosmoQuantity[];

/** The quantities of a configuration: the above, the reionisation input, YHe when it is a parameter. */
export function recombinationQuantities(c: { helium?: { source?: string }; reionization?: { input?: string } }): CosmoQuantity[] {
  const q: CosmoQuantity[] = [...RECOMBINATION_QUANTITIES, c.reionization?.input === 'z_reio' ? 'z_reio' : 'tau_reio'];
  if (c.helium?.source === 'parameter') q.push('YHe');
  return q;
}

/**
 * Recombination needs baryons (its free electrons); its expansion rate (cosmology.ts here) includes the massive
 * neutrinos (Fermi-Dirac, one massive species: the cosmology contract's default split); beyond that the
 * contract's checks (m_nu >= 0, N_eff at least the massive species' share).
 */
export const RECOMBINATION_REQUIREMENTS: CosmologyRequirements = {
  Omega_b_positive: 'for recombination (the free electrons are the baryons\')',
};

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    z_max: {
      type: 'number', default: RECFAST_DEFAULTS.z_max, minimum: 8000, maximum: 1e5,
      description: 'top of the table; above it hydrogen and helium are fully ionised (He III recombines near z = 6000, so at least 8000)',
    },
    dlna: {
      type: 'number', default: RECFAST_DEFAULTS.dlna, exclusiveMinimum: 0, maximum: 0.01,
      description: 'grid step in ln a of the output tables (2e-3: Delta z ~ 2 at recombination; cubic interpolation of x_e good to < 1e-6)',
    },
    rtol: { type: 'number', default: RECFAST_DEFAULTS.rtol, minimum: 1e-11, maximum: 1e-4, description: 'relative tolerance of the recombination ODE (Rosenbrock rodas4)' },
    helium: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        source: {
          enum: ['bbn', 'parameter'], default: 'bbn',
          description: "'bbn': Y_He(omega_b, N_eff) from the PArthENoPE BBN fit (bbn.ts); 'parameter': the parameter YHe",
        },
      },
    },
    reionization: {
      type: 'object', additionalProperties: false, default: {},
      description: 'tanh reionisation in y = (1+z)^exponent (CAMB, CLASS reio_camb) plus helium II -> III at helium_redshift',
      properties: {
        input: { enum: ['tau_reio', 'z_reio'], default: 'tau_reio', description: 'which parameter fixes reionisation (the other is derived)' },
        exponent: { type: 'number', default: CAMB_REIONIZATION.exponent, exclusiveMinimum: 0 },
        width: { type: 'number', default: CAMB_REIONIZATION.width, exclusiveMinimum: 0, description: 'width in z of the hydrogen step at z_reio' },
        helium_redshift: { type: 'number', default: CAMB_REIONIZATION.heliumRedshift, minimum: 0 },
        helium_width: { type: 'number', default: CAMB_REIONIZATION.heliumWidth, exclusiveMinimum: 0 },
      },
    },
  },
} as const;

function readsOf(c: RecfastConfig): Record<string, ParameterSpec> {
  return cosmologyReads(recombinationQuantities(c));
}

/** The base quantities of the recombination model (cosmology.ts order) as duals, from the cosmology. */
export function recombinationBase(c: Cosmology, Y: Dual): Dual[] {
  // massive neutrinos (m_nu > 0): A = N (7/8) (T_ncdm/T_cmb)^4 Omega_g and M0 = m/(k_B T_ncdm) of the cosmology's split
  const massive = c.m_nu.v > 0;
  return [
    c.h, c.Omega_b, c.Omega_r, c.Omega_m, c.Omega_k, c.Omega_de, c.w0, c.wa, c.T_cmb, Y,
    massive ? neutrinoAmplitude(c.Omega_g, c.neutrinos) : constant(0),
    massive ? neutrinoMassOverT(c.m_nu, c.T_cmb, c.neutrinos) : constant(0),
  ];
}

/** Y_He from BBN (omega_b, N_eff of the cosmology), or null with the reason it is outside the fit. */
export function bbnHelium(c: Cosmology): { Y: Dual; problem: null } | { Y: null; problem: string } {
  const problem = bbnRangeProblem(c.omega_b.v, c.N_eff.v);
  return problem ? { Y: null, problem } : { Y: heliumDual(c.omega_b, c.N_eff), problem: null };
}

/** The thermal history of a configuration for a cosmology whose Duals carry P tangent directions (the stage's computation). */
export function recfastHistory(cfg: RecfastConfig, c: Cosmology, P: number): Recombination {
  let Y: Dual;
  if (cfg.helium.source === 'parameter') Y = c.YHe;
  else {
    const bbn = bbnHelium(c);
    if (bbn.problem !== null) throw new Error(`recombination/recfast: ${bbn.problem}`);
    Y = bbn.Y;
  }
  const q = recombinationBase(c, Y);
  const r = cfg.reionization;
  const reio = r.input === 'z_reio' ? { kind: 'z' as const, z: c.z_reio } : { kind: 'tau' as const, tau: c.tau_reio };
  return thermalHistory(q, P, reio, {
    zMax: cfg.z_max,
    dlna: cfg.dlna,
    rtol: cfg.rtol,
    reionization: { exponent: r.exponent, width: r.width, heliumRedshift: r.helium_redshift, heliumWidth: r.helium_width },
  });
}

function fmt(x: number): string {
  return x.toExponential(9);
}

export const recfastRecombination: StagePlugin<RecfastConfig, { background: Background }, Recombination> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'recombination/recfast',
  version: '1.0.0',
  port: 'recombination',
  description:
    'Ionisation and thermal history from RECFAST 1.5 (effective three-level hydrogen with fudge and Gaussian K correction, ' +
    'He I singlet + triplet with H continuum opacity, He III Saha, Compton-coupled T_b) plus tanh reionisation; ' +
    'x_e, kappa\', visibility, c_b^2, z_star, z_drag, r_s(z_drag) with forward tangents.',
  configSchema,
  inputs: { background: 'background' },
  reads: readsOf,
  differentiable: 'forward',

  check(config, { params }) {
    const out = cosmologyProblems(params, recombinationQuantities(config), RECOMBINATION_REQUIREMENTS);
    if (!out.length && config.helium.source === 'bbn') {
      const { problem } = bbnHelium(cosmologyFrom(params));
      if (problem) out.push(`parameters.Omega_b: ${problem}`);
    }
    return out;
  },

  run(ctx): Recombination {
    const cfg = ctx.config;
    const quantities = recombinationQuantities(cfg);
    const problems = cosmologyProblems(cosmologyValues(ctx, quantities), quantities, RECOMBINATION_REQUIREMENTS);
    if (problems.length) throw new Error(`recombination/recfast: ${problems.join('; ')}`);
    return recfastHistory(cfg, cosmologyOf(ctx), ctx.tangentParams.length);
  },

  // reverse mode: the Jacobian in the parameters it reads (one forward tangent each), transposed (recfast-vjp.ts)
  vjp(ctx, outputBar) {
    const cfg = ctx.config;
    const quantities = recombinationQuantities(cfg);
    return recfastVjp(ctx.output, outputBar, {
      values: cosmologyValues(ctx, quantities), reads: parametersOf(quantities),
      solve: (c, P) => recfastHistory(cfg, c, P),
    });
  },

  summarize(o) {
    const f = (d: Dual, p = 6) => d.v.toPrecision(p);
    return (
      `Y_He = ${f(o.Y_He)}, z_reio = ${f(o.z_reio)}, tau_reio = ${f(o.tau_reio, 4)}; z_star = ${f(o.z_star, 7)}, ` +
      `z_rec = ${f(o.z_rec, 7)}, z_drag = ${f(o.z_drag, 7)}, r_s(z_drag) = ${f(o.r_s_drag_Mpc, 7)} Mpc`
    );
  },

  write(o, file) {
    const lines = [
      `# recombination/recfast (RECFAST 1.5 + tanh reionisation); derived:`,
      `# Y_He = ${o.Y_He.v}`, `# z_reio = ${o.z_reio.v}`, `# tau_reio = ${o.tau_reio.v}`,
      `# z_star = ${o.z_star.v}`, `# z_rec = ${o.z_rec.v}`, `# z_drag = ${o.z_drag.v}`,
      `# r_s_star_Mpc = ${o.r_s_star_Mpc.v}`, `# r_s_drag_Mpc = ${o.r_s_drag_Mpc.v}`,
      ['z', 'x_e', 'kappa_prime_1overMpc', 'exp_minus_kappa', 'g_1overMpc', 'T_b_K', 'c_b2', 'tau_Mpc', 'r_s_Mpc'].join('\t'),
    ];
    const cols = [o.x_e, o.kappa_prime_1overMpc, o.exp_minus_kappa, o.g_1overMpc, o.T_b_K, o.c_b2, o.tau_Mpc, o.r_s_Mpc];
    for (let i = 0; i < o.z.length; i++) lines.push([fmt(o.z[i]), ...cols.map((c) => fmt(c.value[i]))].join('\t'));
    return { [file]: lines.join('\n') + '\n' };
  },
};
