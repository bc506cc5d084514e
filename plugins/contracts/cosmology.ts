/**
 * One cosmology: the cosmological parameters, declared once (default, unit, description, physical range), and
 * the quantities derived from them, each computed once per stage evaluation as a scalar Dual with its tangents
 * and each declaring what it is computed from. Every stage that needs the cosmology consumes it from here:
 *
 *   const QUANTITIES = ['h', 'Omega_b', 'Omega_cdm', 'Omega_r', ...] as const;   // what the stage uses
 *   reads: cosmologyReads(QUANTITIES),            // the parameters behind them (closure of the dependency table)
 *   check: (cfg, { params }) => cosmologyProblems(params, QUANTITIES),     // ranges + cross-checks, once
 *   run(ctx) { const c = cosmologyOf(ctx); ... c.Omega_cdm ... }           // lazily computed, cached per ctx
 *   vjp(ctx, bar) { ... params: cosmologyParameterBars(values, { Omega_cdm: b1, Omega_r: b2 }) }
 *
 * Adding a parameter (say m_nu) means: declare it in COSMOLOGY_PARAMETERS, make the derived quantities that
 * depend on it (Omega_nu, hence Omega_cdm) list it in `from`; every stage that uses those quantities then reads
 * it without its file changing (docs/architecture.md, "Adding a parameter").
 *
 * Units: H0 in 1/Mpc (c = 1), T_cmb in K; densities are fractions of the critical density today. Radiation
 * (photons from T_cmb, massless neutrinos from N_eff) uses the constants CLASS v3 uses, so that Omega_g and
 * Omega_ur reproduce CLASS's derived values (reference/class/README.md) to 1e-12 — see `omegaGammaH2`.
 */
import { type Dual, add, addC, chain, constant, div, mul, scale, seed, sub } from '../../core/ad/dual.js';
import type { ParameterSpec } from '../../core/plugin/types.js';
import { parameterRangeMessage } from '../../core/plugin/parameter-range.js';
import {
  DEFAULT_NEUTRINO_SPLIT, type NeutrinoSplit, neffPerMassive, neutrinoAmplitude, neutrinoDensityToday, neutrinoMassOverT,
} from './neutrinos.js';

// ---------------------------------------------------------------------------------------------------------
// 1. Physical constants of the radiation density (CLASS v3, include/background.h)

/** Speed of light [m/s] (exact). */
export const C_M_PER_S = 2.99792458e8;
/** Speed of light [km/s]: H0 [1/Mpc] = 100 h / C_KM_PER_S. */
export const C_KM_PER_S = 2.99792458e5;
/** Megaparsec [m] (CLASS _Mpc_over_m_). */
export const MPC_M = 3.085677581282e22;
/** Newton's constant [m^3 kg^-1 s^-2] (CLASS _G_, CODATA 2006). */
export const G_SI = 6.67428e-11;
/** Boltzmann and Planck constants as CLASS v3 uses them (CODATA 2006). */
export const K_B = 1.3806504e-23;
export const H_PLANCK = 6.62606896e-34;
/** Stefan-Boltzmann constant [W m^-2 K^-4] = 2 pi^5 k_B^4 / (15 h^3 c^2). */
export const SIGMA_B = (2 * Math.PI ** 5 * K_B ** 4) / (15 * H_PLANCK ** 3 * C_M_PER_S ** 2);

/**
 * Energy density of massless neutrinos per effective species, relative to photons: (7/8)(4/11)^(4/3)
 * (Fermi-Dirac vs Bose-Einstein 7/8, instantaneous decoupling T_nu = (4/11)^(1/3) T_cmb).
 */
export const UR_PER_NEFF = (7 / 8) * Math.pow(4 / 11, 4 / 3);

/**
 * Omega_gamma h^2 for a CMB temperature T_cmb [K]:
 *   rho_gamma = (4 sigma_B / c) T_cmb^4 (black body),  rho_crit = 3 H0^2 / (8 pi G),  H0 = 100 h km/s/Mpc.
 * CLASS builds sigma_B from CODATA 2006 k_B and h_P (5.670400e-8 W m^-2 K^-4) and uses G = 6.67428e-11; the
 * CODATA 2018 values would give Omega_gamma 4.6e-6 lower — a difference we measured and chose not to carry,
 * since the references are CLASS and CCL (CCL quotes the same Omega_gamma = 5.50897e-5).
 */
export function omegaGammaH2(T_cmb: number): number {
  const rhoGamma = ((4 * SIGMA_B) / C_M_PER_S) * T_cmb ** 4; // J/m^3
  const H100 = 1e5 / MPC_M; // 100 km/s/Mpc in 1/s
  const rhoCrit100 = (3 * C_M_PER_S ** 2 * H100 * H100) / (8 * Math.PI * G_SI); // J/m^3 for h = 1
  return rhoGamma / rhoCrit100;
}

// ---------------------------------------------------------------------------------------------------------
// 2. The parameters

/** Names of the cosmological parameters, in the order stages list them. */
export const COSMOLOGY_PARAMETER_NAMES = [
  'h', 'Omega_m', 'Omega_b', 'Omega_k', 'w0', 'wa', 'T_cmb', 'N_eff', 'n_s', 'sigma8', 'A_s', 'tau_reio', 'z_reio', 'YHe', 'm_nu',
] as const;
export type CosmoParameter = (typeof COSMOLOGY_PARAMETER_NAMES)[number];

/** The one declaration of each cosmological parameter: default, description, unit and physical range. */
export const COSMOLOGY_PARAMETERS: Readonly<Record<CosmoParameter, ParameterSpec>> = {
  // h >= 0.1: below, the radiation of T_cmb outweighs everything (Omega_g ~ 2.5e-5/h^2; h = 1e-300 made E(z)^2 NaN)
  h: { default: 0.67, description: 'dimensionless Hubble constant, H0 = 100 h km/s/Mpc', min: 0.1, max: 2 },
  Omega_m: {
    default: 0.32, exclusiveMin: 0,
    description: 'total matter density today: baryons + CDM + massive neutrinos',
  },
  Omega_b: { default: 0.05, description: 'baryon density today (part of Omega_m)', min: 0 },
  Omega_k: { default: 0, description: 'curvature density today, Omega_k = -K c^2/H0^2 (> 0 open)', absStep: 1e-3 },
  w0: { default: -1, description: 'dark energy equation of state today, w(a) = w0 + wa (1 - a)' },
  wa: { default: 0, description: 'dark energy equation of state slope, w(a) = w0 + wa (1 - a)', absStep: 0.01 },
  T_cmb: { default: 2.7255, description: 'CMB temperature today', unit: 'K', exclusiveMin: 0 },
  N_eff: {
    default: 3.046, min: 0,
    description: 'effective number of neutrino species while relativistic, massive ones included (radiation; Y_He through BBN)',
  },
  // 0.5..1.5: far wider than any measurement (0.965 +- 0.004); n_s = 10 made the Limber integrand NaN (overflow)
  n_s: { default: 0.96, description: 'primordial scalar spectral index, P_R ~ (k/k_pivot)^(n_s - 1)', min: 0.5, max: 1.5 },
  sigma8: {
    default: 0.816, exclusiveMin: 0,
    description: 'rms linear density contrast of total matter in spheres of 8 Mpc/h at z = 0',
  },
  A_s: { default: 2.1e-9, description: 'primordial curvature power at k_pivot', exclusiveMin: 0 },
  tau_reio: {
    default: 0.0544, exclusiveMin: 0,
    description: 'Thomson optical depth to reionisation (tanh in (1+z)^1.5, CLASS reio_camb)',
  },
  z_reio: {
    default: 7.68, exclusiveMin: 0, max: 50,
    description: 'redshift of the midpoint of hydrogen reionisation (tanh in (1+z)^1.5)',
  },
  YHe: {
    default: 0.2454, min: 0.01, max: 0.5,
    description: 'primordial helium mass fraction (read only with with.helium.source = "parameter")',
  },
  m_nu: {
    default: 0, min: 0, max: 10, unit: 'eV', absStep: 0.01,
    description:
      'sum of the neutrino masses, shared by the massive species of the mass split (0: no massive species, ' +
      'all N_eff massless)',
  },
};

// ---------------------------------------------------------------------------------------------------------
// 3. The derived quantities and their dependency table

export const DERIVED_QUANTITY_NAMES = [
  'H0', 'omega_b', 'omega_m', 'Omega_nu', 'Omega_cdm', 'omega_cdm', 'Omega_g', 'Omega_ur', 'Omega_r', 'Omega_de',
] as const;
export type DerivedQuantity = (typeof DERIVED_QUANTITY_NAMES)[number];
/** What a stage may use: a parameter or a derived quantity. */
export type CosmoQuantity = CosmoParameter | DerivedQuantity;

export interface DerivedSpec {
  description: string;
  unit?: string;
  /** The formula, for messages. */
  formula: string;
  /** What it is computed from (parameters or other derived quantities): the dependency table. */
  from: readonly CosmoQuantity[];
  /** The computation, from the Duals of `from` (tangents follow by the chain rule) and the neutrino mass split. */
  compute(q: (name: CosmoQuantity) => Dual, split: NeutrinoSplit): Dual;
}

const h2 = (q: (name: CosmoQuantity) => Dual) => mul(q('h'), q('h'));

/** The derived quantities: formula, dependencies and computation, in physics order. */
export const DERIVED_QUANTITIES: Readonly<Record<DerivedQuantity, DerivedSpec>> = {
  H0: {
    description: 'Hubble constant over c', unit: '1/Mpc', formula: 'H0 = 100 h km/s/Mpc / c',
    from: ['h'],
    compute: (q) => scale(q('h'), 100 / C_KM_PER_S),
  },
  omega_b: {
    description: 'physical baryon density', formula: 'omega_b = Omega_b h^2',
    from: ['Omega_b', 'h'],
    compute: (q) => mul(q('Omega_b'), h2(q)),
  },
  omega_m: {
    description: 'physical matter density', formula: 'omega_m = Omega_m h^2',
    from: ['Omega_m', 'h'],
    compute: (q) => mul(q('Omega_m'), h2(q)),
  },
  Omega_nu: {
    // The massive species' full density today (CLASS's Omega_ncdm, rho/rho_crit: its small relativistic part
    // included), from the Fermi-Dirac integral at M0 = m_i/(k_B T_ncdm) (plugins/contracts/neutrinos.ts):
    // Omega_nu = N (7/8) (T_ncdm/T_cmb)^4 Omega_g F(M0) ~ m_nu / (93.14 eV h^2). m_nu = 0: no massive species,
    // Omega_nu = 0 exactly (a constant: derivatives at m_nu = 0 are those of the massless model).
    description: 'massive-neutrino density today (Fermi-Dirac, T_ncdm = 0.71611 T_cmb)',
    formula: 'Omega_nu = N (7/8) T_ncdm^4 Omega_g F(m_nu/(N k_B T_ncdm T_cmb)) ~ m_nu / (93.14 eV h^2)',
    from: ['m_nu', 'T_cmb', 'Omega_g'],
    compute: (q, split) => {
      const m = q('m_nu');
      if (m.v === 0) return constant(0);
      return neutrinoDensityToday(neutrinoAmplitude(q('Omega_g'), split), neutrinoMassOverT(m, q('T_cmb'), split));
    },
  },
  Omega_cdm: {
    description: 'cold dark matter density today', formula: 'Omega_cdm = Omega_m - Omega_b - Omega_nu',
    from: ['Omega_m', 'Omega_b', 'Omega_nu'],
    compute: (q) => sub(sub(q('Omega_m'), q('Omega_b')), q('Omega_nu')),
  },
  omega_cdm: {
    description: 'physical cold dark matter density', formula: 'omega_cdm = Omega_cdm h^2',
    from: ['Omega_cdm', 'h'],
    compute: (q) => mul(q('Omega_cdm'), h2(q)),
  },
  Omega_g: {
    description: 'CMB photon density today (black body at T_cmb)', formula: 'Omega_g = (Omega_g h^2)(T_cmb) / h^2',
    from: ['T_cmb', 'h'],
    compute: (q) => {
      const T = q('T_cmb');
      const og2 = omegaGammaH2(T.v);
      // d(Omega_g h^2)/dT = 4 Omega_g h^2 / T (rho_gamma ~ T^4)
      return div(chain(T, og2, (4 * og2) / T.v), h2(q));
    },
  },
  Omega_ur: {
    // N_eff counts every neutrino while relativistic; the massive species take (T_ncdm/(4/11)^(1/3))^4 = 1.0133
    // each (CLASS's convention), the rest is massless: N_ur = N_eff - N_massive 1.0133 (2.0328 for one species).
    description: 'massless neutrino density today',
    formula: 'Omega_ur = N_ur (7/8)(4/11)^(4/3) Omega_g, N_ur = N_eff (m_nu = 0) or N_eff - N_massive (T_ncdm/(4/11)^(1/3))^4',
    from: ['N_eff', 'Omega_g', 'm_nu'],
    compute: (q, split) => {
      const N = q('m_nu').v === 0 ? q('N_eff') : addC(q('N_eff'), -split.species * neffPerMassive(split));
      return mul(scale(N, UR_PER_NEFF), q('Omega_g'));
    },
  },
  Omega_r: {
    description: 'radiation density today: photons + massless neutrinos', formula: 'Omega_r = Omega_g + Omega_ur',
    from: ['Omega_g', 'Omega_ur'],
    compute: (q) => add(q('Omega_g'), q('Omega_ur')),
  },
  Omega_de: {
    // Closure of the Friedmann equation today, E(0) = 1. Omega_m counts massive neutrinos too (non-relativistic
    // today), so this closure holds unchanged with m_nu (CLASS: Omega_Lambda = 1 - Omega_b - Omega_cdm -
    // Omega_ncdm - Omega_g - Omega_ur - Omega_k).
    description: 'dark energy density today (closure)', formula: 'Omega_de = 1 - Omega_m - Omega_r - Omega_k',
    from: ['Omega_m', 'Omega_r', 'Omega_k'],
    compute: (q) => sub(sub(sub(constant(1), q('Omega_m')), q('Omega_r')), q('Omega_k')),
  },
};

const isParameter = (name: string): name is CosmoParameter => Object.prototype.hasOwnProperty.call(COSMOLOGY_PARAMETERS, name);
const isDerived = (name: string): name is DerivedQuantity => Object.prototype.hasOwnProperty.call(DERIVED_QUANTITIES, name);
export const isCosmoQuantity = (name: string): name is CosmoQuantity => isParameter(name) || isDerived(name);

/** The parameters a list of quantities depends on (transitive closure of `from`), in COSMOLOGY_PARAMETER_NAMES order. */
export function parametersOf(quantities: readonly CosmoQuantity[]): CosmoParameter[] {
  const seen = new Set<CosmoQuantity>();
  const visit = (q: CosmoQuantity) => {
    if (seen.has(q)) return;
    if (!isCosmoQuantity(q)) throw new Error(`cosmology: unknown quantity "${q}"; known: ${[...COSMOLOGY_PARAMETER_NAMES, ...DERIVED_QUANTITY_NAMES].join(', ')}`);
    seen.add(q);
    if (isDerived(q)) for (const d of DERIVED_QUANTITIES[q].from) visit(d);
  };
  quantities.forEach(visit);
  return COSMOLOGY_PARAMETER_NAMES.filter((p) => seen.has(p));
}

/** The quantities a list depends on, itself included (derived quantities and parameters). */
function closureOf(quantities: readonly CosmoQuantity[]): Set<CosmoQuantity> {
  const seen = new Set<CosmoQuantity>();
  const visit = (q: CosmoQuantity) => {
    if (seen.has(q)) return;
    seen.add(q);
    if (isDerived(q)) for (const d of DERIVED_QUANTITIES[q].from) visit(d);
  };
  quantities.forEach(visit);
  return seen;
}

/** The parameter specs a stage lists in `reads` for the quantities it uses. */
export function cosmologyReads(quantities: readonly CosmoQuantity[]): Record<string, ParameterSpec> {
  return Object.fromEntries(parametersOf(quantities).map((p) => [p, COSMOLOGY_PARAMETERS[p]]));
}

// ---------------------------------------------------------------------------------------------------------
// 4. The cosmology of one evaluation: lazily computed Duals

/** Every parameter and derived quantity as a scalar Dual (computed on first use, then cached). */
export type Cosmology = { readonly [K in CosmoQuantity]: Dual } & {
  /** The same as the property access. */
  get(name: CosmoQuantity): Dual;
  /** The neutrino mass split its Omega_nu and Omega_ur assume (a stage's configuration; default one massive species). */
  readonly neutrinos: NeutrinoSplit;
};

/** A parameter the stage cannot read (not in its reads): re-thrown naming the quantity the stage asked for. */
class MissingParameter extends Error {
  constructor(readonly parameter: string, readonly reason: string) {
    super(reason);
  }
}

class LazyCosmology {
  private readonly cache = new Map<CosmoQuantity, Dual>();
  /** Nesting of get() calls: only the outermost (the quantity the stage asked for) words the error. */
  private depth = 0;
  constructor(
    private readonly param: (name: CosmoParameter) => Dual, private readonly where: string,
    readonly neutrinos: NeutrinoSplit = DEFAULT_NEUTRINO_SPLIT,
  ) {}

  get(name: CosmoQuantity): Dual {
    const have = this.cache.get(name);
    if (have) return have;
    if (!isCosmoQuantity(name)) throw new Error(`${this.where}: unknown cosmology quantity "${name}"`);
    this.depth++;
    try {
      let v: Dual;
      if (isParameter(name)) {
        try {
          v = this.param(name);
        } catch (e) {
          throw new MissingParameter(name, (e as Error).message);
        }
      } else v = DERIVED_QUANTITIES[name].compute((q) => this.get(q), this.neutrinos);
      this.cache.set(name, v);
      return v;
    } catch (e) {
      if (!(e instanceof MissingParameter) || this.depth > 1) throw e;
      const via = isDerived(name) ? `the cosmology quantity ${name} (${DERIVED_QUANTITIES[name].formula}) needs the parameters ${parametersOf([name]).join(', ')}; ` : '';
      throw new Error(`${this.where}: ${via}${e.parameter}: ${e.reason}; list ${name} in the stage's cosmologyReads([...])`);
    } finally {
      this.depth--;
    }
  }
}
for (const name of [...COSMOLOGY_PARAMETER_NAMES, ...DERIVED_QUANTITY_NAMES])
  Object.defineProperty(LazyCosmology.prototype, name, {
    get(this: LazyCosmology) {
      return this.get(name);
    },
    enumerable: true,
  });

/**
 * A cosmology from parameter values: numbers (constants) or Duals (with their tangents); a parameter not
 * given takes its declared default. For functions called outside a stage (tests, benchmarks, adjoints).
 */
export function cosmologyFrom(
  values: Partial<Record<string, number | Dual>> = {}, where = 'cosmology', neutrinos: NeutrinoSplit = DEFAULT_NEUTRINO_SPLIT,
): Cosmology {
  return new LazyCosmology((name) => {
    const x = values[name];
    if (x === undefined) return constant(COSMOLOGY_PARAMETERS[name].default);
    return typeof x === 'number' ? constant(x) : x;
  }, where, neutrinos) as unknown as Cosmology;
}

/**
 * A cosmology whose parameters `seeded` carry unit tangents (in that order, P = seeded.length), the others
 * constants: the local Jacobian of every derived quantity, for a stage's vjp.
 */
export function seededCosmology(
  values: Partial<Record<string, number>>, seeded: readonly string[], neutrinos: NeutrinoSplit = DEFAULT_NEUTRINO_SPLIT,
): Cosmology {
  const P = seeded.length;
  return new LazyCosmology(
    (name) => seed(values[name] ?? COSMOLOGY_PARAMETERS[name].default, seeded.indexOf(name), P), 'cosmology', neutrinos,
  ) as unknown as Cosmology;
}

const perContext = new WeakMap<object, Cosmology>();
const sameSplit = (a: NeutrinoSplit, b: NeutrinoSplit) => a.species === b.species && a.T_ncdm === b.T_ncdm;

/**
 * The cosmology of a stage evaluation, from ctx.param (seeded Duals under forward-mode differentiation),
 * computed once per context. The stage must list the quantities it uses in cosmologyReads.
 */
export function cosmologyOf(
  ctx: { readonly stage: string; param(name: string): Dual }, neutrinos: NeutrinoSplit = DEFAULT_NEUTRINO_SPLIT,
): Cosmology {
  let c = perContext.get(ctx);
  if (!c || !sameSplit(c.neutrinos, neutrinos)) {
    c = new LazyCosmology((name) => ctx.param(name), `stage "${ctx.stage}"`, neutrinos) as unknown as Cosmology;
    perContext.set(ctx, c);
  }
  return c;
}

/** The values (numbers) of the parameters behind `quantities`, from ctx.param. */
export function cosmologyValues(ctx: { param(name: string): Dual }, quantities: readonly CosmoQuantity[]): Record<string, number> {
  return Object.fromEntries(parametersOf(quantities).map((p) => [p, ctx.param(p).v]));
}

// ---------------------------------------------------------------------------------------------------------
// 5. Reverse mode: bars of quantities -> bars of parameters

/**
 * Bars of derived quantities (and parameters) pulled back to the parameters through the Jacobian of the
 * dependency table at `values`: thetabar_j = sum_q qbar_q dq/dtheta_j. Returns a bar for every parameter
 * behind the quantities given (zeros included), so for a stage exactly (a subset of) its cosmology reads.
 */
export function cosmologyParameterBars(
  values: Partial<Record<string, number>>, bars: Partial<Record<CosmoQuantity, number>>, neutrinos: NeutrinoSplit = DEFAULT_NEUTRINO_SPLIT,
): Record<string, number> {
  const names = Object.keys(bars).filter((k) => bars[k as CosmoQuantity] !== undefined) as CosmoQuantity[];
  const params = parametersOf(names);
  const c = seededCosmology(values, params, neutrinos);
  const out = new Float64Array(params.length);
  for (const q of names) {
    const b = bars[q]!;
    const d = c.get(q).d;
    if (b && d) for (let j = 0; j < params.length; j++) out[j] += b * d[j];
  }
  return Object.fromEntries(params.map((p, j) => [p, out[j]]));
}

// ---------------------------------------------------------------------------------------------------------
// 6. Range checks and cross-field checks, declared once

/** The range message of one parameter value, or null (the planner's wording, with the parameter's meaning). */
export function parameterRangeProblem(name: string, x: number, s: ParameterSpec): string | null {
  const m = parameterRangeMessage(name, x, s);
  return m === null ? null : `parameters.${name}: ${m}`;
}

/** Requirements a stage may add for its own physics: quantity -> why (appended to the message). */
export interface CosmologyRequirements {
  /** Omega_b > 0 (recombination needs free electrons; EH98 with wiggles needs baryons). */
  Omega_b_positive?: string;
  /** Omega_cdm > 0, i.e. Omega_b + Omega_nu < Omega_m (a fit or hierarchy with a CDM component). */
  Omega_cdm_positive?: string;
  /** Omega_de > 0. */
  Omega_de_positive?: string;
  /** Omega_nu = 0: a model without massive neutrinos refuses them rather than ignore them. */
  no_massive_neutrinos?: string;
}

const f6 = (v: number) => Number(v.toPrecision(6));

/**
 * Problems of a set of parameter values for a stage using `quantities` (values not given take their
 * defaults): the ranges of the parameters behind them, then, if those hold, the cross-field checks of the
 * quantities used, plus the stage's own requirements. Messages start with `parameters.<name>: `.
 *
 * Cross-checks (always, for a stage whose quantities involve them):
 *   Omega_cdm >= 0: Omega_m counts baryons + CDM (+ massive neutrinos), so Omega_b (+ Omega_nu) <= Omega_m.
 */
export function cosmologyProblems(
  values: Partial<Record<string, number>>, quantities: readonly CosmoQuantity[], require: CosmologyRequirements = {},
  neutrinos: NeutrinoSplit = DEFAULT_NEUTRINO_SPLIT,
): string[] {
  const out: string[] = [];
  const params = parametersOf(quantities);
  const v = (p: CosmoParameter) => values[p] ?? COSMOLOGY_PARAMETERS[p].default;
  for (const p of params) {
    const m = parameterRangeProblem(p, v(p), COSMOLOGY_PARAMETERS[p]);
    if (m) out.push(m);
  }
  if (out.length) return out;
  const c = cosmologyFrom(values, 'cosmology', neutrinos);
  const uses = closureOf(quantities);
  if (uses.has('Omega_ur') && v('m_nu') > 0) {
    // the massive species take part of N_eff: N_ur = N_eff - N_massive (T_ncdm/(4/11)^(1/3))^4 >= 0
    const share = neutrinos.species * neffPerMassive(neutrinos);
    if (v('N_eff') < share)
      out.push(
        `parameters.N_eff: ${v('N_eff')} is below the ${f6(share)} that the ${neutrinos.species} massive neutrino species ` +
          `(m_nu = ${v('m_nu')} eV, T_ncdm = ${neutrinos.T_ncdm} T_cmb) count while relativistic; N_eff includes them, ` +
          `so N_eff >= ${f6(share)} is required (or m_nu = 0, or fewer massive species in the mass split)`,
      );
  }
  if (uses.has('Omega_cdm')) {
    const Ob = v('Omega_b'), Om = v('Omega_m'), Onu = c.Omega_nu.v;
    const nu = Onu !== 0 ? ` + Omega_nu = ${f6(Onu)}` : '';
    if (require.Omega_cdm_positive !== undefined && !(c.Omega_cdm.v > 0))
      out.push(
        `parameters.Omega_b: ${Ob}${nu} must be smaller than parameters.Omega_m = ${Om} ` +
          `(Omega_cdm = Omega_m - Omega_b - Omega_nu = ${f6(c.Omega_cdm.v)} must be > 0${why(require.Omega_cdm_positive)})`,
      );
    else if (c.Omega_cdm.v < 0)
      out.push(
        `parameters.Omega_b: ${Ob}${nu} exceeds parameters.Omega_m = ${Om}; ` +
          'Omega_m counts baryons + CDM (+ massive neutrinos), so Omega_b <= Omega_m is required',
      );
  }
  if (require.Omega_b_positive !== undefined && !(v('Omega_b') > 0))
    out.push(`parameters.Omega_b: ${v('Omega_b')} must be > 0${why(require.Omega_b_positive)}`);
  if (require.Omega_de_positive !== undefined && !(c.Omega_de.v > 0))
    out.push(
      `parameters.Omega_m: Omega_de = 1 - Omega_m - Omega_r - Omega_k = ${f6(c.Omega_de.v)} must be > 0` +
        `${why(require.Omega_de_positive)} (Omega_m = ${v('Omega_m')}, Omega_k = ${v('Omega_k')})`,
    );
  if (require.no_massive_neutrinos !== undefined && c.Omega_nu.v !== 0)
    out.push(
      `parameters.m_nu: ${v('m_nu')} eV (Omega_nu = ${f6(c.Omega_nu.v)}): massive neutrinos are not modelled here` +
        `${why(require.no_massive_neutrinos)}; m_nu = 0 is required`,
    );
  return out;
}

const why = (s: string | undefined) => (s ? ` ${s}` : '');
