/**
 * `linear-power/boltzmann`: the linear matter power spectrum from first principles. For each Fourier mode the
 * scalar adiabatic perturbations of CDM, baryons, photons (temperature and polarisation), massless neutrinos,
 * massive neutrinos (m_nu > 0: Fermi-Dirac momentum bins, then a fluid) and (for w != -1) PPF dark energy are integrated in the synchronous gauge from deep in the radiation era to
 * today (boltzmann/equations.ts, boltzmann/mode.ts), with the injected `ode-solver`; the modes run on worker
 * threads. Then, in physics order:
 *
 *   1. thermal history: the `recombination` input, or recombination/recfast's default when the pipeline has none;
 *   2. delta_m(k, z) / R for every solved k (comoving-gauge total matter, CLASS's definition);
 *   3. the transfer function between and beyond the solved k (boltzmann/transfer.ts);
 *   4. P(k, z) = A_s (k / k_pivot)^(n_s - 1) (2 pi^2 / k^3) [delta_m(k, z) / R]^2,
 *      A_s either the parameter or fixed by sigma8 (top hat of 8 Mpc/h, total matter, z = 0: sigma8.ts);
 *      with massive neutrinos also P_cb from delta_cb (CDM + baryons) with the same A_s.
 *
 * The cosmology (H0, Omega_b, Omega_cdm, Omega_g, Omega_ur, Omega_de, w0, wa, n_s, sigma8 or A_s) comes from
 * the cosmology contract (plugins/contracts/cosmology.ts); the stage computes no density itself.
 * Forward-mode tangents: the ODE sensitivities along the varied parameters that the cosmology and the
 * thermal history depend on, then the chain rule through the transfer interpolation, A_s (or sigma8) and n_s.
 * Streaming: as the modes finish, blocks of them leave as chunks (ctx.chunk: BoltzmannChunk, the k indices and
 * delta_m(k, z)/R), so the progress display, a streamed file or a stage consuming this one as a stream input
 * can use them before P(k, z) is assembled (docs/architecture.md, "Streams").
 * Equations, approximations, accuracy against CLASS and timings: docs/boltzmann.md.
 */
import { type Dual, div, mul, recip } from '../../core/ad/dual.js';
import type { DualArray } from '../../core/ad/dual-array.js';
import type { OdeSolver } from '../../core/numerics/ode/index.js';
import { PLUGIN_API_VERSION, type ParameterSpec, type StageChunk, type StagePlugin } from '../../core/plugin/types.js';
import type { Background } from '../contracts/background.js';
import {
  type CosmoQuantity, type Cosmology, type CosmologyRequirements, cosmologyOf, cosmologyProblems, cosmologyReads, cosmologyValues, parametersOf,
} from '../contracts/cosmology.js';
import { type NeutrinoSplit, type NeutrinoSplitName, NEUTRINO_SPLIT_PROPERTIES, T_NCDM_DEFAULT, neutrinoSplit } from '../contracts/neutrinos.js';
import type { PowerGrid } from '../contracts/power.js';
import type { Recombination } from '../contracts/recombination.js';
import { DEFAULT_RECOMBINATION_QUANTITIES, defaultRecombination } from '../recombination/index.js';
import { solveModes } from './boltzmann/parallel.js';
import { type PowerBar, boltzmannStageVjp } from './boltzmann/adjoint-power.js';
import type { ModeResult } from './boltzmann/mode.js';
import { type ApproximationSettings, DEFAULT_APPROXIMATIONS, type ModeSetup, buildModeSetup } from './boltzmann/setup.js';
import { type TransferSplines, type TransferTable, transferAt, transferKGrid, transferSplines } from './boltzmann/transfer.js';
import {
  type KGridConfig, type ZGridConfig, kGridProblems, kGridSchema, logKGrid, outputZProblems, outputZSchema, zGrid,
  zGridProblems, zGridSchema, linearMatterSchema,
} from '../contracts/power-grid-spec.js';
import { formatPowerGridAt } from '../contracts/power-table.js';
import { describeConfiguredGrid } from '../contracts/power-describe.js';
import { sigmaRule, topHatVariance } from './sigma8.js';
import { redrawPowerTables } from '../contracts/power-plot.js';

export interface BoltzmannConfig {
  k: KGridConfig;
  z: ZGridConfig;
  output_z: number[];
  normalization: 'sigma8' | 'A_s';
  /** The spectrum in P_Mpc3: total matter, or CDM + baryons (docs/power.md, "Which spectrum each probe uses"). */
  matter: 'total' | 'cb';
  k_pivot: number;
  /** k_max absent: the output grid's largest k, at most TRANSFER_K_MAX_H h/Mpc (transferKMax). */
  transfer: { k_max?: number; per_decade: number; bao: { k_min: number; k_max: number; step: number } };
  precision: {
    rtol: number;
    atol: number;
    l_max_photons: number;
    l_max_polarization: number;
    l_max_neutrinos: number;
    tca_tau_c_over_tau_k: number;
    tca_tau_c_over_tau_h: number;
    ufa_k_tau: number;
    rsa_k_tau: number;
    rsa_tau_c_over_tau: number;
  };
  dark_energy: { perturbations: 'ppf' | 'none'; c_gamma_over_c_s: number };
  neutrinos: { split: NeutrinoSplitName; T_ncdm: number; q_bins: number; l_max: number; fluid_k_tau: number };
  threads: number;
  /** How the stage's vjp differentiates the modes (reverse mode only; docs/reverse-mode.md, "The Boltzmann stage"). */
  adjoint: BoltzmannAdjointConfig;
}

/** with.adjoint: the scheme of the Boltzmann adjoint and whether the switching times move (boltzmann/adjoint-power.ts). */
export interface BoltzmannAdjointConfig {
  scheme: 'discrete' | 'continuous';
  switchTimes: boolean;
}

/** The output: the PowerGrid contract plus the normalisation actually used. */
export interface BoltzmannPower extends PowerGrid {
  readonly A_s: Dual;
  readonly sigma8: Dual;
  readonly modes: number;
  readonly threads: number;
  /** With massive neutrinos (m_nu > 0): P of CDM + baryons on the same grid [Mpc^3] (same A_s); else absent. */
  readonly P_cb_Mpc3?: DualArray;
}

/**
 * The cosmology the hierarchy uses: the base quantities of the mode equations (boltzmann/setup.ts: H0,
 * Omega_b, Omega_cdm, Omega_g, Omega_ur, Omega_de, w0, wa), T_cmb (baryon sound speed), Omega_k (flat only),
 * h (R = 8/h Mpc), n_s; plus what the default thermal history uses, and sigma8 or A_s.
 */
export const BOLTZMANN_QUANTITIES = [
  'h', 'H0', 'Omega_b', 'Omega_cdm', 'Omega_g', 'Omega_ur', 'Omega_de', 'Omega_k', 'w0', 'wa', 'T_cmb', 'n_s', 'm_nu', 'Omega_nu',
] as const satisfies readonly CosmoQuantity[];

/** The quantities of a configuration (the normalisation parameter is sigma8 or A_s). */
export function boltzmannQuantities(c: { normalization?: 'sigma8' | 'A_s' }): CosmoQuantity[] {
  return [...BOLTZMANN_QUANTITIES, ...DEFAULT_RECOMBINATION_QUANTITIES, (c.normalization ?? 'sigma8') === 'sigma8' ? 'sigma8' : 'A_s'];
}

/** What the hierarchy requires beyond the contract's ranges and cross-checks. */
export const BOLTZMANN_REQUIREMENTS: CosmologyRequirements = {
  Omega_b_positive: 'for the photon-baryon fluid of the hierarchy',
  Omega_cdm_positive: 'for the hierarchy (its CDM is the synchronous gauge\'s rest frame)',
};

/** The neutrino mass split of a configuration (the same key as background/w0wa's `neutrinos`). */
export const splitOf = (cfg: { neutrinos?: { split?: NeutrinoSplitName; T_ncdm?: number } }): NeutrinoSplit =>
  neutrinoSplit(cfg.neutrinos?.split ?? 'one-massive', cfg.neutrinos?.T_ncdm ?? T_NCDM_DEFAULT);

const num = (d: number, desc: string, extra: Record<string, unknown> = {}) => ({ type: 'number', default: d, description: desc, ...extra });

const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    k: kGridSchema,
    z: zGridSchema,
    output_z: outputZSchema,
    normalization: { enum: ['sigma8', 'A_s'], default: 'sigma8', description: 'fix the amplitude by the parameter sigma8 (A_s derived) or by A_s' },
    k_pivot: num(0.05, 'pivot scale of the primordial spectrum [1/Mpc]', { exclusiveMinimum: 0 }),
    transfer: {
      type: 'object', additionalProperties: false, default: {},
      description: 'k-modes actually solved; the output grid is interpolated (and extrapolated beyond k_max) from them',
      properties: {
        k_max: {
          type: 'number', exclusiveMinimum: 0,
          description:
            'largest solved k [1/Mpc] (never above the output grid\'s k_max); default: the output grid\'s k_max, at most 50 h/Mpc. ' +
            'Beyond it delta_m = A ln(c k) (Meszaros), see docs/boltzmann.md',
        },
        per_decade: { type: 'integer', minimum: 5, maximum: 1000, default: 16, description: 'log-spaced modes per decade (plus the uniform BAO modes)' },
        bao: {
          type: 'object', additionalProperties: false, default: {},
          description: 'extra modes uniform in k over the baryon acoustic range (period 2 pi / r_s ~ 0.043 /Mpc)',
          properties: {
            k_min: num(0.02, '[1/Mpc]', { exclusiveMinimum: 0 }),
            k_max: num(0.4, '[1/Mpc]', { exclusiveMinimum: 0 }),
            step: num(0.006, 'step [1/Mpc]; 0 = none', { minimum: 0 }),
          },
        },
      },
    },
    precision: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        rtol: num(1e-5, 'relative tolerance of the perturbation ODEs', { exclusiveMinimum: 0, maximum: 0.01 }),
        atol: num(1e-10, 'absolute tolerance (the state is normalised to eta = R = 1 initially)', { exclusiveMinimum: 0 }),
        l_max_photons: { type: 'integer', minimum: 4, maximum: 200, default: DEFAULT_APPROXIMATIONS.lmaxPhotons },
        l_max_polarization: { type: 'integer', minimum: 4, maximum: 200, default: DEFAULT_APPROXIMATIONS.lmaxPolarization },
        l_max_neutrinos: { type: 'integer', minimum: 4, maximum: 500, default: DEFAULT_APPROXIMATIONS.lmaxNeutrinos },
        tca_tau_c_over_tau_k: num(DEFAULT_APPROXIMATIONS.tcaTauCOverTauK, 'tight coupling ends when k/kappa\' exceeds this', { exclusiveMinimum: 0 }),
        tca_tau_c_over_tau_h: num(DEFAULT_APPROXIMATIONS.tcaTauCOverTauH, 'tight coupling ends when aH/kappa\' exceeds this', { exclusiveMinimum: 0 }),
        ufa_k_tau: num(DEFAULT_APPROXIMATIONS.ufaKTau, 'neutrino fluid approximation from k tau > this (0: never)', { minimum: 0 }),
        rsa_k_tau: num(DEFAULT_APPROXIMATIONS.rsaKTau, 'radiation streaming from k tau > this ... (0: never)', { minimum: 0 }),
        rsa_tau_c_over_tau: num(DEFAULT_APPROXIMATIONS.rsaTauCOverTau, '... and tau_c/tau > this', { exclusiveMinimum: 0 }),
      },
    },
    dark_energy: {
      type: 'object', additionalProperties: false, default: {},
      properties: {
        perturbations: { enum: ['ppf', 'none'], default: 'ppf', description: "'ppf': Fang, Hu & Lewis 2008 (regular across w = -1); 'none': smooth dark energy" },
        c_gamma_over_c_s: num(0.4, 'PPF transition scale c_Gamma / c_s (c_s = 1)', { exclusiveMinimum: 0 }),
      },
    },
    neutrinos: {
      type: 'object', additionalProperties: false, default: {},
      description: 'massive neutrinos (read only when parameters.m_nu > 0): mass split and the phase-space hierarchy',
      properties: {
        ...NEUTRINO_SPLIT_PROPERTIES,
        q_bins: { type: 'integer', minimum: 2, maximum: 64, default: DEFAULT_APPROXIMATIONS.ncdmQBins, description: 'Gauss-Laguerre momentum bins' },
        l_max: { type: 'integer', minimum: 4, maximum: 200, default: DEFAULT_APPROXIMATIONS.lmaxNcdm, description: 'highest multipole of each bin' },
        fluid_k_tau: num(DEFAULT_APPROXIMATIONS.ncdmFluidKTau, 'fluid approximation from k tau > this (CLASS ncdm_fluid_trigger_tau_over_tau_k; 0: never)', { minimum: 0 }),
      },
    },
    threads: { type: 'integer', minimum: 0, maximum: 256, default: 0, description: 'worker threads for the k-modes (0: one per core, 1: none)' },
    matter: linearMatterSchema,
    adjoint: {
      type: 'object', additionalProperties: false, default: {},
      description: 'reverse mode (the stage\'s vjp) only: how the k-modes are differentiated; docs/reverse-mode.md, "The Boltzmann stage"',
      properties: {
        scheme: {
          enum: ['discrete', 'continuous'], default: 'discrete',
          description:
            "'discrete': the adjoint of the forward solve's accepted tsit5 steps (equals forward AD to rounding on the same steps); " +
            "'continuous': lambda' = -A^T lambda solved backwards against the dense forward solution (agrees to the ODE tolerance)",
        },
        switchTimes: {
          type: 'boolean', default: false,
          description:
            'add the motion of the approximation switches (tight coupling, fluid, radiation streaming) with the parameters: ' +
            'the gradient of P as computed (what central differences and a sampler see); false: the switches held at the ' +
            'fiducial schedule, as forward AD and the Fisher matrices differentiate',
        },
      },
    },
  },
} as const;

function readsOf(c: BoltzmannConfig): Record<string, ParameterSpec> {
  return cosmologyReads(boltzmannQuantities(c));
}

function configProblems(c: BoltzmannConfig): string[] {
  const out = [...kGridProblems(c.k), ...zGridProblems(c.z), ...outputZProblems(c.output_z, c.z.z_max)];
  const b = c.transfer.bao;
  if (b.step > 0 && !(b.k_max > b.k_min)) out.push(`with.transfer.bao.k_max: ${b.k_max} must exceed with.transfer.bao.k_min = ${b.k_min}`);
  return out;
}

export function approximations(c: BoltzmannConfig): ApproximationSettings {
  const p = c.precision;
  return {
    ...DEFAULT_APPROXIMATIONS,
    lmaxPhotons: p.l_max_photons,
    lmaxPolarization: p.l_max_polarization,
    lmaxNeutrinos: p.l_max_neutrinos,
    tcaTauCOverTauK: p.tca_tau_c_over_tau_k,
    tcaTauCOverTauH: p.tca_tau_c_over_tau_h,
    ufaKTau: p.ufa_k_tau,
    rsaKTau: p.rsa_k_tau,
    rsaTauCOverTau: p.rsa_tau_c_over_tau,
    ...(c.neutrinos ? { ncdmQBins: c.neutrinos.q_bins, lmaxNcdm: c.neutrinos.l_max, ncdmFluidKTau: c.neutrinos.fluid_k_tau } : {}),
  };
}

/**
 * The data of a chunk of the Boltzmann stage (StageChunk.data): a block of solved k-modes, in the order they
 * finished (the chunk's range counts modes along that order; total = the number of solved modes). Values only.
 */
export interface BoltzmannChunk {
  /** Indices of the modes into the solved k grid, in the order they finished. */
  k_index: Int32Array;
  k_1overMpc: Float64Array;
  /** Redshifts of the transfer values: the ODE's output times, descending (z = 0 last). */
  z: Float64Array;
  /** delta_m(k, z) / R (comoving-gauge total matter over the primordial curvature), mode-major [m * nz + iz]. */
  delta_over_R: Float64Array;
}

/** Groups finished modes into blocks of `size` and hands each block on as a chunk (the last one when flushed). */
function modeBlocks(ks: Float64Array, z: Float64Array, size: number, emit: (c: StageChunk) => void) {
  const nz = z.length, total = ks.length;
  let pending: { i: number; r: ModeResult }[] = [];
  let sent = 0;
  const flush = () => {
    if (!pending.length) return;
    const data: BoltzmannChunk = {
      k_index: Int32Array.from(pending, (p) => p.i),
      k_1overMpc: Float64Array.from(pending, (p) => ks[p.i]),
      z,
      delta_over_R: new Float64Array(pending.length * nz),
    };
    pending.forEach((p, m) => data.delta_over_R.set(p.r.delta.subarray(0, nz), m * nz));
    emit({ range: [sent, sent + pending.length], total, label: 'k-modes', data });
    sent += pending.length;
    pending = [];
  };
  return {
    add(i: number, r: ModeResult) {
      pending.push({ i, r });
      if (pending.length >= size) flush();
    },
    flush,
  };
}

/** Default top of the solved modes, in h/Mpc: the output is solved, not extrapolated, up to here (issue 17). */
export const TRANSFER_K_MAX_H = 50;

/**
 * Largest solved k [1/Mpc]: with.transfer.k_max when given, else TRANSFER_K_MAX_H h/Mpc (h at its value: the
 * mode grid is not differentiated); never above the output's largest k.
 */
export function transferKMax(cfg: { transfer: { k_max?: number } }, h: number, kOutMax: number): number {
  return Math.min(cfg.transfer.k_max ?? TRANSFER_K_MAX_H * h, kOutMax);
}

/**
 * Solve the modes and assemble P(k, z): the computation of the stage, callable without a StageContext
 * (benchmarks, tests).
 */
export async function boltzmannPower(
  cfg: BoltzmannConfig,
  inp: {
    /** The cosmology (Duals with tangents over P parameters); sigma8 or A_s is read as cfg.normalization says. */
    cosmology: Cosmology; recombination: Recombination; P: number; solver: OdeSolver;
    onProgress?: (done: number, total: number) => void;
    /** The solved k-modes in blocks as they finish (BoltzmannChunk; about 16 blocks), before P(k, z) is assembled. */
    onChunk?: (chunk: StageChunk) => void;
    /** Output grids overriding cfg.k / cfg.z (benchmarks): ascending k [1/Mpc], ascending z. */
    kOut?: Float64Array;
    zOut?: Float64Array;
    /** Test hook (parallel.ts ParallelOptions.scheduleFrom): the modes' switching times from this setup. */
    scheduleFrom?: ModeSetup;
  },
): Promise<BoltzmannPower> {
  const problems = configProblems(cfg);
  if (problems.length) throw new Error(`linear-power/boltzmann: invalid config:\n  ${problems.join('\n  ')}`);
  const { cosmology: c, P } = inp;
  const kOut = inp.kOut ?? logKGrid(cfg.k);
  const zOut = inp.zOut ?? zGrid(cfg.z);

  // 1. modes: setup, solved k, output times (ascending x = ln a, z = 0 included for sigma8)
  const { setup, active } = buildModeSetup({
    cosmology: c, recombination: inp.recombination, P,
    approx: approximations(cfg), darkEnergy: cfg.dark_energy.perturbations, ppfCGammaOverCs: cfg.dark_energy.c_gamma_over_c_s,
  });
  if (cfg.dark_energy.perturbations === 'none' && !(c.w0.v === -1 && c.wa.v === 0))
    throw new Error(
      `linear-power/boltzmann: w0 = ${c.w0.v}, wa = ${c.wa.v} needs dark-energy perturbations; ` +
        "set with.dark_energy.perturbations to 'ppf'",
    );
  const kSolveMax = transferKMax(cfg, c.h.v, kOut[kOut.length - 1]);
  const kSolveMin = Math.min(kOut[0], kSolveMax / 10);
  const ks = transferKGrid({
    kMin: kSolveMin, kMax: kSolveMax, perDecade: cfg.transfer.per_decade,
    baoMin: cfg.transfer.bao.k_min, baoMax: cfg.transfer.bao.k_max, baoStep: cfg.transfer.bao.step,
  });
  const zs = Array.from(new Set([0, ...Array.from(zOut)])).sort((a, b) => b - a);
  const xOut = Float64Array.from(zs, (z) => -Math.log1p(z));
  const nx = xOut.length;
  const Pa = P > 0 ? setup.Pa : 0;

  // 2. delta_m(k, z) / R (streamed in blocks of modes as they finish)
  const blocks = inp.onChunk ? modeBlocks(ks, Float64Array.from(zs), Math.max(1, Math.ceil(ks.length / 16)), inp.onChunk) : undefined;
  const run = await solveModes(setup, ks, xOut, inp.solver,
    { rtol: cfg.precision.rtol, atol: cfg.precision.atol, sensitivities: Pa > 0 },
    { threads: cfg.threads, onProgress: inp.onProgress, onMode: blocks ? (i, r) => blocks.add(i, r) : undefined, scheduleFrom: inp.scheduleFrom });
  blocks?.flush();
  const nk = ks.length;
  const table = (pick: (r: ModeResult) => [Float64Array, Float64Array | null]): TransferTable => {
    const T: TransferTable = { k: ks, nz: nx, delta: new Float64Array(nx * nk), Pa, dDelta: Pa > 0 ? new Float64Array(Pa * nx * nk) : null };
    run.results.forEach((r, ik) => {
      const [dl, ddl] = pick(r);
      for (let ix = 0; ix < nx; ix++) {
        T.delta[ix * nk + ik] = dl[ix];
        for (let a = 0; a < Pa; a++) T.dDelta![(a * nx + ix) * nk + ik] = ddl![a * nx + ix];
      }
    });
    return T;
  };
  // total matter (with the massive neutrinos), and CDM + baryons when there are massive neutrinos
  const T = table((r) => [r.delta, r.dDelta]);
  const sp = transferSplines(T);
  const Tcb = setup.ncdm ? table((r) => [r.deltaCb!, r.dDeltaCb]) : null;
  const spCb = Tcb ? transferSplines(Tcb) : null;

  // 3. normalisation: sigma8 of the unit-amplitude spectrum, A_s = sigma8^2 / sigma^2_unit (or the parameter)
  const kp = cfg.k_pivot;
  const ns = c.n_s;
  const rowOf = (z: number) => zs.indexOf(z);
  const iz0 = rowOf(0);
  const rule = sigmaRule();
  const nr = rule.k.length;
  const dr = new Float64Array(nr), ddr = Pa > 0 ? new Float64Array(Pa * nr) : null;
  transferAt(T, sp, iz0, rule.k, dr, ddr, nr);
  // Delta^2_unit(k) = (k/k_p)^(n_s - 1) delta^2: tangents from delta (active directions) and n_s
  const D2v = new Float64Array(nr);
  const D2t = P > 0 ? new Float64Array(P * nr) : null;
  for (let i = 0; i < nr; i++) {
    const lk = Math.log(rule.k[i] / kp);
    const v = Math.exp((ns.v - 1) * lk) * dr[i] * dr[i];
    D2v[i] = v;
    if (D2t) {
      if (ns.d) for (let p = 0; p < P; p++) D2t[p * nr + i] = v * lk * ns.d[p];
      for (let a = 0; a < Pa; a++) D2t[active[a] * nr + i] += (2 * v * ddr![a * nr + i]) / dr[i];
    }
  }
  const R8 = recip(c.h, 8); // 8 Mpc/h
  const sigma2Unit = topHatVariance(rule, { value: D2v, tangent: D2t, P }, R8);
  let A_s: Dual, sigma8: Dual;
  if (cfg.normalization === 'sigma8') {
    sigma8 = c.sigma8;
    A_s = div(mul(sigma8, sigma8), sigma2Unit);
  } else {
    A_s = c.A_s;
    const s2 = mul(A_s, sigma2Unit);
    sigma8 = { v: Math.sqrt(s2.v), d: s2.d ? Float64Array.from(s2.d, (d) => d / (2 * Math.sqrt(s2.v))) : null };
  }

  // 4. P(k, z) on the output grid (z-by-k), tangents: dP/P = dA_s/A_s + ln(k/k_p) dn_s + 2 d delta/delta
  const powerOnGrid = (T: TransferTable, sp: TransferSplines): DualArray => {
    const nko = kOut.length, nzo = zOut.length, N = nko * nzo;
    const value = new Float64Array(N);
    const tangent = P > 0 ? new Float64Array(P * N) : null;
    const d = new Float64Array(nko), dd = Pa > 0 ? new Float64Array(Pa * nko) : null;
    const lnAsD = P > 0 ? Float64Array.from({ length: P }, (_, p) => (A_s.d ? A_s.d[p] / A_s.v : 0)) : null;
    for (let jz = 0; jz < nzo; jz++) {
      transferAt(T, sp, rowOf(zOut[jz]), kOut, d, dd, nko);
      for (let i = 0; i < nko; i++) {
        const k = kOut[i];
        const lk = Math.log(k / kp);
        const v = ((A_s.v * Math.exp((ns.v - 1) * lk) * 2 * Math.PI * Math.PI) / (k * k * k)) * d[i] * d[i];
        const idx = jz * nko + i;
        value[idx] = v;
        if (tangent) {
          for (let p = 0; p < P; p++) tangent[p * N + idx] = v * (lnAsD![p] + (ns.d ? lk * ns.d[p] : 0));
          for (let a = 0; a < Pa; a++) tangent[active[a] * N + idx] += (2 * v * dd![a * nko + i]) / d[i];
        }
      }
    }
    return { value, tangent, P: tangent ? P : 0 };
  };
  const P_Mpc3 = powerOnGrid(T, sp);
  const P_cb_Mpc3 = Tcb ? powerOnGrid(Tcb, spCb!) : undefined;
  return {
    k_1overMpc: kOut, z: zOut, P_Mpc3, source: 'boltzmann', A_s, sigma8, modes: nk, threads: run.threadsUsed,
    ...(P_cb_Mpc3 ? { P_cb_Mpc3 } : {}),
  };
}

/** with.matter = 'cb': P_cb as the output's P (with m_nu > 0; without, P_cb = P and nothing changes). */
function asMatter(cfg: BoltzmannConfig, out: BoltzmannPower): BoltzmannPower {
  if (cfg.matter !== 'cb' || !out.P_cb_Mpc3) return out;
  const { P_cb_Mpc3, ...rest } = out;
  return { ...rest, P_Mpc3: P_cb_Mpc3, source: 'boltzmann (cb)' };
}

/** The bar of asMatter's output as one of the full output's (P's bar on P_cb when P was P_cb: hasCb, m_nu > 0). */
function barOfMatter(cfg: BoltzmannConfig, bar: PowerBar, hasCb: boolean): PowerBar {
  if (cfg.matter !== 'cb' || !hasCb || !bar.P_Mpc3) return bar;
  const { P_Mpc3, ...rest } = bar;
  return { ...rest, P_cb_Mpc3: P_Mpc3 };
}

/**
 * pk.tsv: k_1overMpc, P_z<z>_Mpc3 (total matter) per z, and with massive neutrinos (m_nu > 0 only) then
 * Pcb_z<z>_Mpc3 (CDM + baryons) per z. Without massive neutrinos P_cb = P_m and the file is the massless one.
 */
export function formatBoltzmannPower(output: BoltzmannPower, zq: Float64Array): string {
  // the table format's writer adds the Pcb columns when the grid carries P_cb (contracts/power-table.ts)
  return formatPowerGridAt(output, zq);
}

export const boltzmann: StagePlugin<BoltzmannConfig, { background: Background; recombination?: Recombination }, BoltzmannPower> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'linear-power/boltzmann',
  version: '1.0.0',
  port: 'linear-power',
  description:
    'Linear matter P(k, z) from the Einstein-Boltzmann equations (synchronous gauge; CDM, baryons, photons with polarisation, ' +
    'massless and massive neutrinos (m_nu > 0: momentum-bin hierarchy then fluid; P_cb too), PPF dark energy; tight-coupling, fluid and radiation-streaming approximations), normalised by sigma8 or A_s; ' +
    'k-modes on worker threads, forward-mode tangents by ODE sensitivities.',
  configSchema,
  inputs: { background: 'background', recombination: { port: 'recombination', optional: true } },
  reads: readsOf,
  methods: ['ode-solver'],
  differentiable: 'forward',
  describe: (config, ctx) => describeConfiguredGrid(config, ctx, { background: false }),

  check(config, { params }) {
    const out = [...configProblems(config), ...cosmologyProblems(params, boltzmannQuantities(config), BOLTZMANN_REQUIREMENTS, splitOf(config))];
    if (params.Omega_k !== undefined && params.Omega_k !== 0)
      out.push(`parameters.Omega_k: ${params.Omega_k}: linear-power/boltzmann solves flat cosmologies only (Omega_k = 0)`);
    return out;
  },

  async run(ctx): Promise<BoltzmannPower> {
    const cfg = ctx.config;
    const P = ctx.tangentParams.length;
    const quantities = boltzmannQuantities(cfg);
    const split = splitOf(cfg);
    const problems = cosmologyProblems(cosmologyValues(ctx, quantities), quantities, BOLTZMANN_REQUIREMENTS, split);
    if (problems.length) throw new Error(`linear-power/boltzmann: ${problems.join('; ')}`);
    const cosmology = cosmologyOf(ctx, split);
    const rec = ctx.inputs.recombination ?? defaultRecombination(cosmology, P);
    const out = await boltzmannPower(cfg, {
      cosmology, recombination: rec, P, solver: ctx.method<OdeSolver>('ode-solver'),
      onProgress: (done, total) => ctx.progress(done, total, 'k-modes'),
      onChunk: ctx.chunk ? (c) => ctx.chunk!(c) : undefined,
    });
    return asMatter(cfg, out);
  },

  // reverse mode: the adjoint of the modes (with.adjoint: discrete or continuous scheme, switch times fixed or moving;
  // on the stage's threads as the forward solve: boltzmann/adjoint-power.ts, adjoint-parallel.ts, docs/reverse-mode.md)
  async vjp(ctx, outputBar) {
    const cfg = ctx.config;
    const quantities = boltzmannQuantities(cfg);
    const values = cosmologyValues(ctx, quantities);
    const r = await boltzmannStageVjp(cfg, {
      values, reads: parametersOf(quantities), split: splitOf(cfg),
      recombination: ctx.inputs.recombination, solver: ctx.method<OdeSolver>('ode-solver'),
      scheme: cfg.adjoint.scheme, switchTimes: cfg.adjoint.switchTimes,
    }, barOfMatter(cfg, outputBar as PowerBar, (values.m_nu ?? 0) > 0));
    return r.recombination ? { params: r.params, inputs: { recombination: { ...r.recombination } } } : { params: r.params };
  },

  summarize(o) {
    return `${o.modes} k-modes on ${o.threads} thread(s); A_s = ${o.A_s.v.toExponential(6)}, sigma8 = ${o.sigma8.v.toPrecision(6)}`;
  },

  redraw: redrawPowerTables,
  write(output, file, { config }) {
    return { [file]: formatBoltzmannPower(output, Float64Array.from(config.output_z)) };
  },
};
