/**
 * `recombination/recfast`: the ionisation history x_e(z), the baryon temperature and sound speed, the Thomson
 * opacity, visibility function and the epochs z_star, z_drag with the sound horizon there, from the RECFAST
 * model (recfast.ts; SSS 1999/2000, WMS08, RECFAST 1.5) plus CAMB/CLASS-style tanh reionisation, with forward
 * tangents for every varied parameter. Equations and measured accuracy against CLASS/HyRec: docs/boltzmann.md.
 *
 * Helium: Y_He from standard BBN as a function of omega_b and N_eff (bbn.ts), or the parameter YHe.
 * Reionisation: the input is tau_reio (z_reio found by root finding, as CLASS does) or z_reio.
 */
import type { Dual } from '../../core/ad/dual.js';
import { PLUGIN_API_VERSION, type ParameterSpec, type StagePlugin } from '../../core/plugin/types.js';
import type { Background } from '../contracts/background.js';
import type { Recombination } from '../contracts/recombination.js';
import { bbnRangeProblem, heliumDual } from './bbn.js';
import { thermalHistory } from './history.js';
import { CAMB_REIONIZATION } from './reionization.js';

export interface RecfastConfig {
  z_max: number;
  dlna: number;
  rtol: number;
  helium: { source: 'bbn' | 'parameter' };
  reionization: { input: 'tau_reio' | 'z_reio'; exponent: number; width: number; helium_redshift: number; helium_width: number };
}

/** Default table top, grid step in ln a and ODE tolerance. */
export const RECFAST_DEFAULTS = { z_max: 1e4, dlna: 2e-3, rtol: 1e-6 } as const;

export const RECOMBINATION_PARAMETERS: Record<string, ParameterSpec> = {
  Omega_b: { default: 0.05, description: 'baryon density today (part of Omega_m)', exclusiveMin: 0 },
  T_cmb: { default: 2.7255, description: 'CMB temperature today', unit: 'K', exclusiveMin: 0 },
  N_eff: { default: 3.046, description: 'effective number of massless neutrino species (enters Y_He through BBN)', min: 0 },
  tau_reio: { default: 0.0544, description: 'Thomson optical depth to reionisation (tanh in (1+z)^1.5, CLASS reio_camb)', exclusiveMin: 0 },
  z_reio: { default: 7.68, description: 'redshift of the midpoint of hydrogen reionisation (tanh in (1+z)^1.5)', exclusiveMin: 0, max: 50 },
  YHe: { default: 0.2454, description: 'primordial helium mass fraction (read only with with.helium.source = "parameter")', min: 0.01, max: 0.5 },
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
  const r: Record<string, ParameterSpec> = {
    Omega_b: RECOMBINATION_PARAMETERS.Omega_b,
    T_cmb: RECOMBINATION_PARAMETERS.T_cmb,
    N_eff: RECOMBINATION_PARAMETERS.N_eff,
  };
  const input = c.reionization?.input ?? 'tau_reio';
  r[input] = RECOMBINATION_PARAMETERS[input];
  if (c.helium?.source === 'parameter') r.YHe = RECOMBINATION_PARAMETERS.YHe;
  return r;
}

/** The base quantities of the recombination model (cosmology.ts order) as duals. */
export function recombinationBase(bg: Background, Omega_b: Dual, T_cmb: Dual, Y: Dual): Dual[] {
  return [bg.h, Omega_b, bg.Omega_r, bg.Omega_m, bg.Omega_k, bg.Omega_de, bg.w0, bg.wa, T_cmb, Y];
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
    const out: string[] = [];
    const v = (k: string) => params[k] ?? RECOMBINATION_PARAMETERS[k].default;
    if (config.helium.source === 'bbn') {
      const h = params.h ?? 0.67;
      const p = bbnRangeProblem(v('Omega_b') * h * h, v('N_eff'));
      if (p) out.push(`parameters.Omega_b: ${p}`);
    }
    return out;
  },

  run(ctx): Recombination {
    const cfg = ctx.config;
    const bg = ctx.inputs.background;
    const P = ctx.tangentParams.length;
    const Omega_b = ctx.param('Omega_b');
    const T_cmb = ctx.param('T_cmb');
    if (!(Omega_b.v > 0 && Omega_b.v < bg.Omega_m.v))
      throw new Error(`recombination/recfast: parameters.Omega_b = ${Omega_b.v} must be in (0, Omega_m = ${bg.Omega_m.v})`);
    let Y: Dual;
    if (cfg.helium.source === 'parameter') Y = ctx.param('YHe');
    else {
      const N_eff = ctx.param('N_eff');
      const p = bbnRangeProblem(Omega_b.v * bg.h.v * bg.h.v, N_eff.v);
      if (p) throw new Error(`recombination/recfast: ${p}`);
      Y = heliumDual(Omega_b, bg.h, N_eff);
    }
    const q = recombinationBase(bg, Omega_b, T_cmb, Y);
    const r = cfg.reionization;
    const reio = r.input === 'z_reio' ? { kind: 'z' as const, z: ctx.param('z_reio') } : { kind: 'tau' as const, tau: ctx.param('tau_reio') };
    return thermalHistory(q, P, reio, {
      zMax: cfg.z_max,
      dlna: cfg.dlna,
      rtol: cfg.rtol,
      reionization: { exponent: r.exponent, width: r.width, heliumRedshift: r.helium_redshift, heliumWidth: r.helium_width },
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
