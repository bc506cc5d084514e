/**
 * `background/w0wa`: the homogeneous expansion of a universe with baryons + CDM, photons, massless and massive
 * neutrinos (m_nu > 0: Fermi-Dirac density and pressure, docs/background.md), curvature and CPL dark energy w(a) = w0 + wa (1 - a), tabulated on a redshift grid with
 * forward-mode tangents for the varied parameters.
 *
 * In physics order (equations in docs/background.md):
 *   1. the densities today from the cosmology contract (plugins/contracts/cosmology.ts): radiation from T_cmb
 *      and N_eff, dark energy from closure Omega_de = 1 - Omega_m - Omega_r - Omega_k, H0 from h;
 *   2. E(z) = H/H0 from the Friedmann equation (expansion.ts);
 *   3. chi(z) = (c/H0) Integral_0^z dz'/E with the injected integrator, d_M from the curvature (distances.ts);
 *   4. D(z), f(z) from the linear growth ODE with its sensitivity equations (growth.ts).
 * Every tangent is first taken with respect to the base quantities (Omega_r, Omega_m, Omega_k, Omega_de,
 * w0, wa) in closed form, then contracted with their Jacobian with respect to the varied parameters (the
 * contract's Duals carry it); h enters also through H0 = 100 h km/s/Mpc / c.
 */
import { type Dual, constant, recip } from '../../core/ad/dual.js';
import { type DualArray, scaleA } from '../../core/ad/dual-array.js';
import type { Integrator } from '../../core/numerics/integrator.js';
import { PLUGIN_API_VERSION, type ParameterSpec, type StagePlugin } from '../../core/plugin/types.js';
import type { Background } from '../contracts/background.js';
import {
  type CosmoQuantity, type Cosmology, type CosmologyRequirements, cosmologyFrom, cosmologyOf, cosmologyParameterBars, cosmologyProblems, cosmologyReads,
  cosmologyValues,
} from '../contracts/cosmology.js';
import { backgroundAt } from '../contracts/background-eval.js';
import {
  NEUTRINO_SPLIT_PROPERTIES, type NeutrinoSplit, type NeutrinoSplitName, T_NCDM_DEFAULT, neutrinoAmplitude, neutrinoMassOverT, neutrinoSplit,
} from '../contracts/neutrinos.js';
import {
  conformalTime, conformalTimeAdjoint, lineOfSightDistance, lineOfSightDistanceAdjoint, transverseDistance, transverseDistanceAdjoint,
} from './distances.js';
import {
  DQ_E2, E2, EXPANSION_SCRATCH, NB, QA, QM, baseJacobian, coefficientsOf, contractBase, e2At, expansionAt,
  nonPositiveE2Culprit, nonPositiveE2Error, nonPositiveE2Message, type ExpansionCoefficients,
} from './expansion.js';
import { earlyDarkEnergyProblem, linearGrowth, linearGrowthAdjoint } from './growth.js';
import { type GridSpacing, type OutputZ, checkOutputGrid, outputGrid, tabulationGrid } from './redshift-grid.js';

export interface W0waConfig {
  /** Top of the internal tabulation grid. */
  z_max: number;
  grid: { spacing: GridSpacing; count: number };
  growth: { a_ini: number; max_dlna: number };
  /** Redshifts written to background.tsv. */
  output_z: OutputZ;
  /** How m_nu is shared among massive species (read only when m_nu > 0). */
  neutrinos: { split: NeutrinoSplitName; T_ncdm: number };
}

/** The output: the Background contract plus conformal time (cheap here, used by nothing yet). */
export interface W0waBackground extends Background {
  /** Conformal time since the big bang, tau(z) = Integral_0^t dt/a [Mpc]. */
  readonly tau_Mpc: DualArray;
}

/**
 * The cosmology the background uses: the expansion's base quantities, H0 and h, the matter budget (Omega_m =
 * baryons + CDM + massive neutrinos, so Omega_cdm >= 0 is checked) and the massive neutrinos (Omega_g, T_cmb, m_nu
 * behind their Fermi-Dirac density; Omega_nu today).
 */
export const BACKGROUND_QUANTITIES = [
  'h', 'H0', 'Omega_m', 'Omega_cdm', 'Omega_k', 'Omega_r', 'Omega_de', 'w0', 'wa', 'Omega_g', 'T_cmb', 'm_nu', 'Omega_nu',
] as const satisfies readonly CosmoQuantity[];

/** No requirement beyond the contract's cross-checks (massive neutrinos are modelled). */
const BACKGROUND_REQUIREMENTS: CosmologyRequirements = {};

/** The neutrino mass split of a configuration. */
export const splitOf = (cfg: Pick<W0waConfig, 'neutrinos'>): NeutrinoSplit =>
  neutrinoSplit(cfg.neutrinos?.split ?? 'one-massive', cfg.neutrinos?.T_ncdm ?? T_NCDM_DEFAULT);

/** The parameters it reads (from the cosmology contract): h, Omega_m, Omega_b, Omega_k, w0, wa, T_cmb, N_eff, m_nu. */
export const W0WA_PARAMETERS: Record<string, ParameterSpec> = cosmologyReads(BACKGROUND_QUANTITIES);

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    z_max: {
      type: 'number', default: 10, exclusiveMinimum: 0, maximum: 1e5,
      description:
        'top of the internal redshift grid (the Limber stage needs ~4; keep it small to stay cheap; ~1200 reaches the CMB\'s last scattering)',
    },
    grid: {
      type: 'object', additionalProperties: false, default: {},
      description: 'internal tabulation grid from z = 0 to z_max (cubic splines on it are good to < 1e-7)',
      properties: {
        spacing: {
          enum: ['log1p', 'linear'], default: 'log1p',
          description: "'log1p': uniform in ln(1+z) = -ln a (recommended); 'linear': uniform in z",
        },
        count: { type: 'integer', minimum: 8, maximum: 100000, default: 481, description: 'number of grid points' },
      },
    },
    growth: {
      type: 'object', additionalProperties: false, default: {},
      description: 'linear growth ODE (fixed-step RK4 in ln a with sensitivities)',
      properties: {
        a_ini: {
          type: 'number', exclusiveMinimum: 0, maximum: 1e-3, default: 1e-6,
          description: 'scale factor where the integration starts, in radiation domination (Meszaros initial conditions)',
        },
        max_dlna: { type: 'number', exclusiveMinimum: 0, maximum: 0.1, default: 0.01, description: 'largest RK4 step in ln a' },
      },
    },
    output_z: {
      description: 'redshifts written to background.tsv: {min, max, count[, spacing]} or an ascending list',
      default: { min: 0, max: 10, count: 101 },
      oneOf: [
        {
          type: 'object', additionalProperties: false, required: ['min', 'max', 'count'],
          properties: {
            min: { type: 'number', minimum: 0 },
            max: { type: 'number', minimum: 0 },
            count: { type: 'integer', minimum: 1 },
            spacing: { enum: ['linear', 'log1p'] },
          },
        },
        { type: 'array', minItems: 1, items: { type: 'number', minimum: 0 } },
      ],
    },
    neutrinos: {
      type: 'object', additionalProperties: false, default: {},
      description:
        'the mass split of parameters.m_nu (read only when m_nu > 0; N_eff counts every species while relativistic, as in CLASS)',
      properties: NEUTRINO_SPLIT_PROPERTIES,
    },
  },
} as const;

/**
 * The base quantities of the expansion (expansion.ts BASE_NAMES order) from the cosmology: the massive neutrinos
 * as A = N (7/8) (T_ncdm/T_cmb)^4 Omega_g and M0 = (m_nu/N)/(k_B T_ncdm T_cmb), both 0 when m_nu = 0 (no species).
 */
const baseOf = (c: Cosmology): Dual[] => {
  const massive = c.m_nu.v !== 0;
  return [
    c.Omega_r, c.Omega_m, c.Omega_k, c.Omega_de, c.w0, c.wa,
    massive ? neutrinoAmplitude(c.Omega_g, c.neutrinos) : constant(0),
    massive ? neutrinoMassOverT(c.m_nu, c.T_cmb, c.neutrinos) : constant(0),
  ];
};

/** E^2 > 0 on the tabulation grid, or the message saying where it fails. */
function expansionProblems(c: ExpansionCoefficients, z: Float64Array): string[] {
  for (let i = 0; i < z.length; i++) {
    const e2 = e2At(c, -Math.log1p(z[i]));
    if (!(e2 > 0)) return [`${nonPositiveE2Culprit(c)}: ${nonPositiveE2Message(c, z[i], e2)}`];
  }
  return [];
}

function fmt(x: number): string {
  // C's %.10e: two-digit exponent at least.
  const s = x.toExponential(10);
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

export const w0waBackground: StagePlugin<W0waConfig, {}, Background> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'background/w0wa',
  version: '1.0.0',
  port: 'background',
  description:
    'Expansion history, distances and linear growth for baryons + CDM, radiation (T_cmb, N_eff), massive neutrinos ' +
    '(m_nu: Fermi-Dirac density and pressure; growth of CDM + baryons), curvature and CPL dark energy ' +
    'w(a) = w0 + wa (1 - a); forward-mode tangents for every varied parameter.',
  configSchema,
  inputs: {},
  reads: W0WA_PARAMETERS,
  methods: ['integrator'],
  differentiable: 'forward',
  // the mass split too: a power stage modelling neutrinos compares its own with it before compute
  describe: (config) => ({
    description: {
      z_min: 0, z_max: config.z_max, neutrino_split: config.neutrinos?.split ?? 'one-massive', T_ncdm: config.neutrinos?.T_ncdm ?? T_NCDM_DEFAULT,
      paths: { z_max: 'with.z_max', neutrino_split: 'with.neutrinos.split', T_ncdm: 'with.neutrinos.T_ncdm' },
    },
  }),

  check(config, { params }) {
    const out = cosmologyProblems(params, BACKGROUND_QUANTITIES, BACKGROUND_REQUIREMENTS, splitOf(config));
    out.push(...checkOutputGrid(config.output_z, config.z_max));
    if (!out.length) {
      const c = coefficientsOf(baseOf(cosmologyFrom(params, 'cosmology', splitOf(config))));
      out.push(...expansionProblems(c, tabulationGrid(config.z_max, config.grid.count, config.grid.spacing)));
      const early = earlyDarkEnergyProblem(c, config.growth.a_ini);
      if (early) out.push(`parameters.wa: ${early}`);
    }
    return out;
  },

  run(ctx): W0waBackground {
    const cfg = ctx.config;
    const P = ctx.tangentParams.length;
    const split = splitOf(cfg);
    const problems = [
      ...cosmologyProblems(cosmologyValues(ctx, BACKGROUND_QUANTITIES), BACKGROUND_QUANTITIES, BACKGROUND_REQUIREMENTS, split),
      ...checkOutputGrid(cfg.output_z, cfg.z_max),
    ];
    if (problems.length) throw new Error(`background/w0wa: invalid input:\n  ${problems.join('\n  ')}`);

    // 1. densities today (the cosmology contract): radiation from T_cmb, N_eff; dark energy closes the budget
    const cosmo = cosmologyOf(ctx, split);
    const q = baseOf(cosmo);
    const c = coefficientsOf(q);
    const J = baseJacobian(q, P);
    const withBase = P > 0;
    const H0 = cosmo.H0; // 1/Mpc
    const invH0 = recip(H0); // c/H0 [Mpc]

    const z = tabulationGrid(cfg.z_max, cfg.grid.count, cfg.grid.spacing);
    const n = z.length;

    // 2. E(z) = sqrt(E^2), dE/dq_k = (dE^2/dq_k) / (2E)
    const Ev = new Float64Array(n);
    const Eb = withBase ? new Float64Array(NB * n) : null;
    const s = new Float64Array(EXPANSION_SCRATCH);
    for (let i = 0; i < n; i++) {
      expansionAt(c, -Math.log1p(z[i]), s);
      if (!(s[E2] > 0)) throw nonPositiveE2Error(c, z[i], s[E2]);
      const E = Math.sqrt(s[E2]);
      Ev[i] = E;
      if (Eb) for (let k = 0; k < NB; k++) Eb[k * n + i] = s[DQ_E2 + k] / (2 * E);
    }
    const E = contractBase(Ev, Eb, J, P);

    // 3. distances: chi = U c/H0, d_M = V c/H0, tau = T c/H0
    const integrator = ctx.method<Integrator>('integrator');
    const U = lineOfSightDistance(c, z, integrator, withBase);
    const V = transverseDistance(U, c.Ok, z);
    const T = conformalTime(c, U, z, cfg.growth.a_ini, integrator);
    const chi_Mpc = scaleA(contractBase(U.value, U.base, J, P), invH0);
    const dM_Mpc = scaleA(contractBase(V.value, V.base, J, P), invH0);
    const tau_Mpc = scaleA(contractBase(T.value, T.base, J, P), invH0);

    // 4. growth
    const g = linearGrowth(c, z, { aIni: cfg.growth.a_ini, maxStep: cfg.growth.max_dlna }, withBase);
    const D = contractBase(g.D.value, g.D.base, J, P);
    const f = contractBase(g.f.value, g.f.base, J, P);

    return {
      z, E, chi_Mpc, dM_Mpc, D, f, tau_Mpc,
      H0_1overMpc: H0,
      Omega_m: cosmo.Omega_m, Omega_nu: cosmo.Omega_nu, Omega_r: cosmo.Omega_r, Omega_k: cosmo.Omega_k, Omega_de: cosmo.Omega_de, w0: cosmo.w0, wa: cosmo.wa, h: cosmo.h,
    };
  },

  vjp(ctx, outputBar) {
    const v = cosmologyValues(ctx, BACKGROUND_QUANTITIES);
    const params = w0waAdjoint(ctx.config, v, ctx.method<Integrator>('integrator'), ctx.output as W0waBackground, outputBar as W0waBar);
    return { params };
  },

  write(output, file, { config }) {
    const zq = outputGrid(config.output_z);
    const r = backgroundAt(output, zq);
    const H0 = output.H0_1overMpc.v;
    const lines = ['z\tH_1overMpc\tchi_Mpc\tdA_Mpc\tD\tf'];
    for (let i = 0; i < zq.length; i++)
      lines.push(
        [zq[i], H0 * r.E.value[i], r.chi_Mpc.value[i], r.dM_Mpc.value[i] / (1 + zq[i]), r.D.value[i], r.f.value[i]]
          .map(fmt)
          .join('\t'),
      );
    return { [file]: lines.join('\n') + '\n' };
  },
};


// ---------------------------------------------------------------------------------------------------------
// Reverse mode

/** The bar of a W0waBackground: arrays over its z grid, numbers for the scalars (any subset). */
export type W0waBar = Partial<Record<'E' | 'chi_Mpc' | 'dM_Mpc' | 'D' | 'f' | 'tau_Mpc', Float64Array>> &
  Partial<Record<'H0_1overMpc' | 'Omega_m' | 'Omega_nu' | 'Omega_r' | 'Omega_k' | 'Omega_de' | 'w0' | 'wa' | 'h', number>>;

/**
 * The vector-Jacobian product of the background: the bars of its arrays pulled back to the base quantities
 * q = (Omega_r, Omega_m, Omega_k, Omega_de, w0, wa) and to c/H0, then to the eight parameters it reads.
 *   E = sqrt(E^2(q)):              qbar += Ebar dE^2/dq / (2E)                       (expansion.ts)
 *   chi = U c/H0, d_M = V c/H0, tau = T c/H0:  Ubar, Vbar, Tbar and (c/H0)bar;
 *   V = U S(Omega_k U^2), T = T(z_max) + U(z_max) - U:  transposed (distances.ts);
 *   U = cumulative quadrature of 1/E: the transposed cumulative sum, then the nodes' d(1/E)/dq;
 *   D, f: the discrete adjoint of the growth RK4 (growth.ts: linearGrowthAdjoint);
 * and finally the bars of the cosmology's quantities (q, H0 through c/H0 = 1/H0, and the scalars' bars) are
 * pulled back to the parameters through the contract's dependency Jacobian (cosmologyParameterBars: the
 * closure Omega_de = 1 - Omega_m - Omega_r - Omega_k, Omega_r(h, T_cmb, N_eff), H0(h)), no arrays.
 */
export function w0waAdjoint(cfg: W0waConfig, values: Record<string, number>, integrator: Integrator, output: W0waBackground, bar: W0waBar): Record<string, number> {
  const split = splitOf(cfg);
  const cosmo = cosmologyFrom(values, 'cosmology', split);
  const c = coefficientsOf(baseOf(cosmo));
  const invH0 = recip(cosmo.H0);
  const z = output.z;
  const n = z.length;

  const qbar = new Float64Array(NB);
  let invH0bar = 0;
  // E
  if (bar.E) {
    const sc = new Float64Array(EXPANSION_SCRATCH);
    for (let i = 0; i < n; i++) {
      if (bar.E[i] === 0) continue;
      expansionAt(c, -Math.log1p(z[i]), sc);
      const g = bar.E[i] / (2 * Math.sqrt(sc[E2]));
      for (let k = 0; k < NB; k++) qbar[k] += g * sc[DQ_E2 + k];
    }
  }
  // distances: chi = U c/H0, d_M = V c/H0, tau = T c/H0 (their values divided by c/H0)
  const L = invH0.v;
  const dotOver = (b: Float64Array, x: Float64Array) => { let t = 0; for (let i = 0; i < n; i++) t += b[i] * x[i]; return t / L; }; // b . (x/L)
  const scaled = (x: Float64Array, f: number) => { const y = new Float64Array(n); for (let i = 0; i < n; i++) y[i] = x[i] * f; return y; };
  const Ubar = new Float64Array(n);
  const U = scaled(output.chi_Mpc.value, 1 / L);
  if (bar.chi_Mpc) {
    invH0bar += dotOver(bar.chi_Mpc, output.chi_Mpc.value);
    for (let i = 0; i < n; i++) Ubar[i] += bar.chi_Mpc[i] * L;
  }
  if (bar.dM_Mpc) {
    invH0bar += dotOver(bar.dM_Mpc, output.dM_Mpc.value);
    transverseDistanceAdjoint(U, c.Ok, scaled(bar.dM_Mpc, L), Ubar, qbar);
  }
  if (bar.tau_Mpc) {
    invH0bar += dotOver(bar.tau_Mpc, output.tau_Mpc.value);
    conformalTimeAdjoint(c, U, z, cfg.growth.a_ini, integrator, scaled(bar.tau_Mpc, L), Ubar, qbar);
  }
  if (bar.chi_Mpc || bar.dM_Mpc || bar.tau_Mpc) lineOfSightDistanceAdjoint(c, z, integrator, Ubar, qbar);
  // growth
  if (bar.D || bar.f) linearGrowthAdjoint(c, z, { aIni: cfg.growth.a_ini, maxStep: cfg.growth.max_dlna }, bar.D ?? null, bar.f ?? null, qbar);

  // to the cosmology's quantities (q in BASE_NAMES order; c/H0 = 1/H0: d(c/H0)/dH0 = -(c/H0)^2), then to the parameters
  const H0v = cosmo.H0.v;
  // the massive neutrinos' A = R Omega_g and M0 = m_nu/(N k_B T_ncdm T_cmb) (zero bars when m_nu = 0: no species)
  const nu: Partial<Record<CosmoQuantity, number>> = {};
  if (c.An !== 0) {
    nu.Omega_g = (qbar[QA] * c.An) / cosmo.Omega_g.v;
    nu.m_nu = (qbar[QM] * c.Mn) / cosmo.m_nu.v;
    nu.T_cmb = (-qbar[QM] * c.Mn) / cosmo.T_cmb.v;
  }
  if (bar.Omega_nu) nu.Omega_nu = bar.Omega_nu;
  return cosmologyParameterBars(values, {
    ...nu,
    Omega_r: qbar[0] + (bar.Omega_r ?? 0),
    Omega_m: qbar[1] + (bar.Omega_m ?? 0),
    Omega_k: qbar[2] + (bar.Omega_k ?? 0),
    Omega_de: qbar[3] + (bar.Omega_de ?? 0),
    w0: qbar[4] + (bar.w0 ?? 0),
    wa: qbar[5] + (bar.wa ?? 0),
    H0: (bar.H0_1overMpc ?? 0) - invH0bar / (H0v * H0v),
    h: bar.h ?? 0,
  }, split);
}
