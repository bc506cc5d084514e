/**
 * Reverse mode through the Boltzmann stage's P(k, z) (schemes `discrete`, `continuous`): given the cotangent Pbar of P(k, z)
 * (and of P_cb with massive neutrinos, of the A_s and sigma8 outputs), the gradient d(bar . output)/d theta over
 * the P tangent directions of the cosmology and the recombination tables, in one backward pass:
 *
 *   P(k, z) = A_s (k/k_p)^(n_s - 1) (2 pi^2/k^3) d(k, z)^2          (boltzmann.ts step 4)
 *     A_sbar += sum Pbar P / A_s,  n_sbar += sum Pbar P ln(k/k_p),  dbar(k, z) = Pbar 2 P / d;
 *   d(k, z) = transfer interpolation of the solved delta_m(k_j, z) (transfer.ts): dbar -> deltaBar(k_j, z) through
 *     its linearisation in the solved values, taken from transfer.ts's own tangent code with one unit direction per
 *     solved mode (its cost is nk x the number of queried k, no ODE work);
 *   A_s = sigma8^2 / sigma^2_unit (normalisation `sigma8`), sigma^2_unit = sum_i w_i Delta2_i W^2(k_i R8) (sigma8.ts),
 *     Delta2_i = (k_i/k_p)^(n_s - 1) d(k_i, 0)^2, R8 = 8/h Mpc: sigma2bar = -A_sbar A_s/sigma^2_unit,
 *     Delta2bar_i = sigma2bar w_i W^2, R8bar = sigma2bar sum w_i Delta2_i 2 W W' k_i, and deltaBar(k_j, 0) as above;
 *   deltaBar(k_j, .) -> the cotangents of what mode j's equations read (adjoint.ts, adjoint-reads.ts), summed over
 *     the modes, then contracted once with the setup's tangent rows (Pa x table size) into the active directions,
 *     or (a recombination input) turned into that input's bar (adjoint-recombination.ts).
 *
 * The scalars (A_s or sigma8, n_s, h through R8) carry the P tangents of the cosmology (Duals), so their bars are
 * contracted with them. The modes run on the stage's threads as in the forward solve (adjoint-parallel.ts: each
 * thread records and keeps the tapes of its modes, gets their output cotangents once the normalisation is
 * transposed here, and returns its summed read cotangents), or on this thread (powerVjp); all the tapes are held
 * until the backward pass, since the sigma8 normalisation couples the modes.
 */
import type { Dual } from '../../../core/ad/dual.js';
import { recip } from '../../../core/ad/dual.js';
import type { OdeSolver } from '../../../core/numerics/ode/index.js';
import { type Cosmology, seededCosmology } from '../../contracts/cosmology.js';
import type { NeutrinoSplit } from '../../contracts/neutrinos.js';
import { defaultRecombination } from '../../recombination/index.js';
import type { Recombination } from '../../contracts/recombination.js';
import { sigmaRule, topHatWindow, topHatWindowDeriv } from '../sigma8.js';
import { type ModeTape, discreteRegime, modeVjp, recordMode } from './adjoint.js';
import { ReadBars } from './adjoint-reads.js';
import { type RecombinationBar, recombinationBar } from './adjoint-recombination.js';
import { continuousRegime } from './adjoint-continuous.js';
import { adjointModesParallel, adjointWorkerScript } from './adjoint-parallel.js';
import { logKGrid, zGrid } from '../../contracts/power-grid-spec.js';
import { type BoltzmannConfig, approximations, transferKMax } from '../boltzmann.js';
import { type ApproximationSettings, type ModeSetup, buildModeSetup } from './setup.js';
import { threadCount } from './threads.js';
import { type TransferTable, transferAt, transferKGrid, transferSplines } from './transfer.js';

/** The discretisation of a Boltzmann request (built from the stage config: boltzmannPowerVjp). */
export interface PowerPlan {
  approx: ApproximationSettings;
  darkEnergy: 'ppf' | 'none';
  ppfCGammaOverCs: number;
  /** Solved modes [1/Mpc], ascending. */
  ks: Float64Array;
  /** Output grid: ascending k [1/Mpc], ascending z. */
  kOut: Float64Array;
  zOut: Float64Array;
  kPivot: number;
  normalization: 'sigma8' | 'A_s';
  rtol: number;
  atol: number;
}

export interface PowerVjpInput {
  /** The cosmology (Duals with tangents over P directions) and the thermal history (tables with the same tangents). */
  cosmology: Cosmology;
  recombination: Recombination;
  P: number;
  solver: OdeSolver;
  /** Differentiate the step sequence of the forward-sensitivity solve (comparisons); default: the values-only solve. */
  stepsFromSensitivities?: boolean;
  /**
   * `discrete` (default): the adjoint of the recorded tsit5 steps (adjoint.ts); `continuous`: lambda' = -A^T lambda
   * solved backwards against the dense forward solution (adjoint-continuous.ts).
   */
  scheme?: 'discrete' | 'continuous';
  /**
   * Add the motion of the approximation switches with the parameters (adjoint-switches.ts): the derivative of P as
   * computed (central differences see it), not that of the fixed-schedule discretisation forward AD differentiates.
   */
  switchTimes?: boolean;
  onProgress?: (done: number, total: number) => void;
  /** Threads for the modes (boltzmannPowerVjp; default: the stage config's `threads`, 0 = one per core). */
  threads?: number;
  /** Test hook (adjoint-parallel.ts AdjointModesOptions.awaitWorkers): this thread waits for the workers to load. */
  awaitWorkers?: boolean;
}

/** Cotangents of the differentiable outputs (missing: zero). */
export interface PowerBar {
  P_Mpc3?: Float64Array;
  P_cb_Mpc3?: Float64Array;
  A_s?: number;
  sigma8?: number;
}

export interface PowerVjpResult {
  /** d(bar . output)/d(direction p), p < P. */
  gradient: Float64Array;
  /** The values of the forward pass (P(k, z) on the output grid, z-by-k), A_s and sigma8. */
  P_Mpc3: Float64Array;
  P_cb_Mpc3: Float64Array | null;
  A_s: number;
  sigma8: number;
  /** The summed cotangents of what the modes' equations read (base quantities, spline nodes), and their setup. */
  reads: ReadBars;
  setup: ModeSetup;
  /** Accepted steps over all modes, and the doubles the tapes held (all modes at once). */
  steps: number;
  storedDoubles: number;
  /** Threads the modes ran on (1: this one), and how many modes worker threads recorded and differentiated. */
  threadsUsed: number;
  workerModes: number;
}

/**
 * A transfer table whose tangent directions are the solved values themselves (direction a: delta(k_a) of every
 * z row): transferAt then returns d d(k)/d delta(k_a, z), the linearisation the backward pass needs.
 */
function unitDirections(T: TransferTable): TransferTable {
  const nk = T.k.length, nz = T.nz;
  const dDelta = new Float64Array(nk * nz * nk);
  for (let a = 0; a < nk; a++) for (let iz = 0; iz < nz; iz++) dDelta[(a * nz + iz) * nk + a] = 1;
  return { ...T, Pa: nk, dDelta };
}

/** deltaBar[row*nk + a] += sum_j dbar_j jac[a*nq + j] (jac: d d(kq_j)/d delta(k_a, row) from transferAt on unitDirections). */
function contractRows(nk: number, nq: number, row: number, dbar: Float64Array, jac: Float64Array, deltaBar: Float64Array): void {
  for (let a = 0; a < nk; a++) {
    let acc = 0;
    const o = a * nq;
    for (let j = 0; j < nq; j++) acc += dbar[j] * jac[o + j];
    deltaBar[row * nk + a] += acc;
  }
}

const tangentOf = (d: Dual, p: number) => (d.d ? d.d[p] : 0);

/** A request's discretisation and forward values, shared by the one-thread and the worker-thread paths. */
interface Request {
  setup: ModeSetup;
  active: number[];
  xOut: Float64Array;
  zs: number[];
  /** Transfer tables of delta_m (and delta_cb), filled as the modes are recorded (store). */
  T: TransferTable;
  Tcb: TransferTable | null;
  continuous: boolean;
}

function begin(plan: PowerPlan, inp: PowerVjpInput): Request {
  const { cosmology: c, P } = inp;
  const { setup, active } = buildModeSetup({
    cosmology: c, recombination: inp.recombination, P, approx: plan.approx, darkEnergy: plan.darkEnergy, ppfCGammaOverCs: plan.ppfCGammaOverCs,
  });
  const { ks, zOut } = plan;
  const nk = ks.length;
  const zs = Array.from(new Set([0, ...Array.from(zOut)])).sort((a, b) => b - a);
  const xOut = Float64Array.from(zs, (z) => -Math.log1p(z));
  const nx = xOut.length;
  const T: TransferTable = { k: ks, nz: nx, delta: new Float64Array(nx * nk), Pa: 0, dDelta: null };
  const Tcb: TransferTable | null = setup.ncdm ? { k: ks, nz: nx, delta: new Float64Array(nx * nk), Pa: 0, dDelta: null } : null;
  return { setup, active, xOut, zs, T, Tcb, continuous: inp.scheme === 'continuous' };
}

/** Mode ik's delta_m (and delta_cb) at the output times into the transfer tables. */
function store(req: Request, ik: number, delta: Float64Array, deltaCb: Float64Array | null): void {
  const { T, Tcb } = req, nk = T.k.length;
  for (let ix = 0; ix < T.nz; ix++) {
    T.delta[ix * nk + ik] = delta[ix];
    if (Tcb) Tcb.delta[ix * nk + ik] = deltaCb![ix];
  }
}

/** The transposition of P(k, z), the transfer interpolation and the normalisation: the modes' output cotangents. */
interface Transposed {
  gradient: Float64Array;
  P_Mpc3: Float64Array;
  P_cb_Mpc3: Float64Array | null;
  A_s: number;
  sigma8: number;
  /** deltaBar[ix*nk + ik], and that of delta_cb. */
  deltaBar: Float64Array;
  deltaCbBar: Float64Array | null;
}

function transpose(plan: PowerPlan, inp: PowerVjpInput, req: Request, bar: PowerBar): Transposed {
  const { cosmology: c, P } = inp;
  const { kOut, zOut } = plan;
  const { T, Tcb, zs } = req;
  const nk = T.k.length, nko = kOut.length, nzo = zOut.length, nx = T.nz;
  const rowOf = (z: number) => zs.indexOf(z);
  const iz0 = rowOf(0);

  // normalisation (values), as boltzmann.ts step 3
  const kp = plan.kPivot, ns = c.n_s;
  const rule = sigmaRule();
  const nr = rule.k.length;
  const U = unitDirections(T), spU = transferSplines(U);
  const dr = new Float64Array(nr), jr = new Float64Array(nk * nr);
  transferAt(U, spU, iz0, rule.k, dr, jr, nr);
  const R8 = recip(c.h, 8);
  const D2 = new Float64Array(nr), W2 = new Float64Array(nr), lkr = new Float64Array(nr);
  let sigma2 = 0, dSigma2dR = 0;
  for (let i = 0; i < nr; i++) {
    lkr[i] = Math.log(rule.k[i] / kp);
    D2[i] = Math.exp((ns.v - 1) * lkr[i]) * dr[i] * dr[i];
    const x = rule.k[i] * R8.v, W = topHatWindow(x);
    W2[i] = W * W;
    sigma2 += rule.w[i] * D2[i] * W2[i];
    dSigma2dR += rule.w[i] * D2[i] * 2 * W * topHatWindowDeriv(x) * rule.k[i];
  }
  const sigma8Mode = plan.normalization === 'sigma8';
  const A_s = sigma8Mode ? (c.sigma8.v * c.sigma8.v) / sigma2 : c.A_s.v;
  const sigma8 = sigma8Mode ? c.sigma8.v : Math.sqrt(A_s * sigma2);

  // backward, step 4: P(k, z) -> A_s, n_s, d(k, z) -> deltaBar(k_j, z)
  let AsBar = bar.A_s ?? 0, nsBar = 0, sigma2Bar = 0;
  const deltaBar = new Float64Array(nx * nk);
  const deltaCbBar = Tcb ? new Float64Array(nx * nk) : null;
  const d = new Float64Array(nko), jac = new Float64Array(nk * nko), dbar = new Float64Array(nko);
  const assemble = (Tm: TransferTable, Pbar: Float64Array | undefined, dBar: Float64Array): Float64Array => {
    const value = new Float64Array(nko * nzo);
    const Um = Tm === T ? U : unitDirections(Tm), spm = Tm === T ? spU : transferSplines(Um);
    for (let jz = 0; jz < nzo; jz++) {
      const row = rowOf(zOut[jz]);
      transferAt(Um, spm, row, kOut, d, jac, nko);
      for (let i = 0; i < nko; i++) {
        const k = kOut[i], lk = Math.log(k / kp);
        const v = ((A_s * Math.exp((ns.v - 1) * lk) * 2 * Math.PI * Math.PI) / (k * k * k)) * d[i] * d[i];
        value[jz * nko + i] = v;
        const pb = Pbar ? Pbar[jz * nko + i] : 0;
        AsBar += (pb * v) / A_s;
        nsBar += pb * v * lk;
        dbar[i] = (pb * 2 * v) / d[i];
      }
      if (Pbar) contractRows(nk, nko, row, dbar, jac, dBar);
    }
    return value;
  };
  const P_Mpc3 = assemble(T, bar.P_Mpc3, deltaBar);
  const P_cb_Mpc3 = Tcb ? assemble(Tcb, bar.P_cb_Mpc3, deltaCbBar!) : null;

  // step 3 backward: the normalisation
  let sigma8Bar = bar.sigma8 ?? 0;
  if (sigma8Mode) {
    // A_s = sigma8^2 / sigma2
    sigma8Bar += (AsBar * 2 * c.sigma8.v) / sigma2;
    sigma2Bar -= (AsBar * A_s) / sigma2;
  } else if (sigma8Bar !== 0) {
    // sigma8 = sqrt(A_s sigma2)
    AsBar += (sigma8Bar * sigma2) / (2 * sigma8);
    sigma2Bar += (sigma8Bar * A_s) / (2 * sigma8);
  }
  let R8Bar = 0;
  if (sigma2Bar !== 0) {
    R8Bar = sigma2Bar * dSigma2dR;
    const drbar = new Float64Array(nr);
    for (let i = 0; i < nr; i++) {
      const D2bar = sigma2Bar * rule.w[i] * W2[i];
      nsBar += D2bar * D2[i] * lkr[i];
      drbar[i] = (D2bar * 2 * D2[i]) / dr[i];
    }
    contractRows(nk, nr, iz0, drbar, jr, deltaBar);
  }

  // scalars -> directions
  const gradient = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    gradient[p] += nsBar * tangentOf(ns, p) + R8Bar * tangentOf(R8, p);
    gradient[p] += sigma8Mode ? sigma8Bar * tangentOf(c.sigma8, p) : AsBar * tangentOf(c.A_s, p);
  }
  return { gradient, P_Mpc3, P_cb_Mpc3, A_s, sigma8, deltaBar, deltaCbBar };
}

/** Mode ik's output cotangents into db (and dcb); false when they are all zero (no backward pass then). */
function modeBars(tr: Transposed, nk: number, ik: number, db: Float64Array, dcb: Float64Array | null): boolean {
  let any = false;
  for (let ix = 0; ix < db.length; ix++) {
    db[ix] = tr.deltaBar[ix * nk + ik];
    if (dcb) dcb[ix] = tr.deltaCbBar![ix * nk + ik];
    any ||= db[ix] !== 0 || (dcb !== null && dcb[ix] !== 0);
  }
  return any;
}

/** The summed read cotangents -> directions (one contraction with the tangent rows, Pa x table), and the result. */
function finish(req: Request, tr: Transposed, reads: ReadBars, steps: number, stored: number, threadsUsed = 1, workerModes = 0): PowerVjpResult {
  const { gradient } = tr;
  const sBar = reads.directions();
  for (let a = 0; a < req.active.length; a++) gradient[req.active[a]] += sBar[a];
  return {
    gradient, P_Mpc3: tr.P_Mpc3, P_cb_Mpc3: tr.P_cb_Mpc3, A_s: tr.A_s, sigma8: tr.sigma8, reads, setup: req.setup, steps,
    storedDoubles: stored, threadsUsed, workerModes,
  };
}

const recordOptions = (plan: PowerPlan, inp: PowerVjpInput, req: Request) => ({
  rtol: plan.rtol, atol: plan.atol, stepsFromSensitivities: inp.stepsFromSensitivities, dense: req.continuous,
});

/** The request's vjp in this thread (every mode's tape held here until the backward pass). */
export function powerVjp(plan: PowerPlan, inp: PowerVjpInput, bar: PowerBar): PowerVjpResult {
  const req = begin(plan, inp);
  const { setup, xOut, continuous } = req;
  const { ks } = plan;
  const nk = ks.length, nx = xOut.length;
  // forward: every mode with its tape (values-only steps), the transfer tables
  const tapes: ModeTape[] = [];
  const record = recordOptions(plan, inp, req);
  let steps = 0, stored = 0;
  for (let ik = 0; ik < nk; ik++) {
    const tape = recordMode(setup, ks[ik], xOut, inp.solver, record);
    tapes.push(tape);
    steps += tape.steps;
    stored += tape.storedDoubles;
    store(req, ik, tape.delta, tape.deltaCb);
    inp.onProgress?.(ik + 1, 2 * nk);
  }
  const tr = transpose(plan, inp, req, bar);
  // the modes: deltaBar(k_j, .) -> s-cotangents -> directions
  const db = new Float64Array(nx), dcb = tr.deltaCbBar ? new Float64Array(nx) : null;
  const reads = new ReadBars(setup);
  const regime = continuous ? continuousRegime : discreteRegime;
  for (let ik = 0; ik < nk; ik++) {
    if (modeBars(tr, nk, ik, db, dcb)) modeVjp(tapes[ik], db, dcb, 'tables', regime, { switchTimes: inp.switchTimes, into: reads });
    inp.onProgress?.(nk + ik + 1, 2 * nk);
  }
  return finish(req, tr, reads, steps, stored);
}

/**
 * The request's vjp on `threads` threads (0: one per core; adjoint-parallel.ts): the workers record and keep the
 * tapes of their modes and run their backward passes. In this thread (powerVjp) with one thread, or without a
 * compiled worker script (the sources under a TypeScript runner).
 */
export async function powerVjpAsync(plan: PowerPlan, inp: PowerVjpInput, bar: PowerBar, threads: number): Promise<PowerVjpResult> {
  const nk = plan.ks.length;
  const nThreads = threadCount(threads, nk);
  const script = nThreads > 1 ? adjointWorkerScript() : null;
  if (!script) return powerVjp(plan, inp, bar);
  const req = begin(plan, inp);
  const reads = new ReadBars(req.setup);
  let steps = 0, stored = 0, done = 0, tr: Transposed | null = null;
  const run = await adjointModesParallel(req.setup, plan.ks, req.xOut, inp.solver, reads, {
    threads: nThreads, script, record: recordOptions(plan, inp, req), scheme: req.continuous ? 'continuous' : 'discrete',
    switchTimes: inp.switchTimes === true,
    onRecorded: (ik, r) => {
      steps += r.steps;
      stored += r.storedDoubles;
      store(req, ik, r.delta, r.deltaCb);
    },
    transpose: () => {
      const t = transpose(plan, inp, req, bar);
      tr = t;
      return (ik, db, dcb) => modeBars(t, nk, ik, db, dcb);
    },
    onStep: () => inp.onProgress?.(++done, 2 * nk),
    awaitWorkers: inp.awaitWorkers,
  });
  return finish(req, tr!, reads, steps, stored, run.threadsUsed, run.workerModes);
}

/**
 * The vjp of the request boltzmannPower(cfg, inp) computes (same solved modes, output grid, normalisation and
 * precision): d(bar . output)/d(direction) over the P tangent directions of inp.cosmology and inp.recombination.
 * cfg is a validated stage config (schema defaults filled in).
 */
export function boltzmannPowerVjp(
  cfg: BoltzmannConfig, inp: PowerVjpInput & { kOut?: Float64Array; zOut?: Float64Array }, bar: PowerBar,
): Promise<PowerVjpResult> {
  const kOut = inp.kOut ?? logKGrid(cfg.k);
  const zOut = inp.zOut ?? zGrid(cfg.z);
  const kSolveMax = transferKMax(cfg, inp.cosmology.h.v, kOut[kOut.length - 1]);
  const ks = transferKGrid({
    kMin: Math.min(kOut[0], kSolveMax / 10), kMax: kSolveMax, perDecade: cfg.transfer.per_decade,
    baoMin: cfg.transfer.bao.k_min, baoMax: cfg.transfer.bao.k_max, baoStep: cfg.transfer.bao.step,
  });
  const plan: PowerPlan = {
    approx: approximations(cfg), darkEnergy: cfg.dark_energy.perturbations, ppfCGammaOverCs: cfg.dark_energy.c_gamma_over_c_s,
    ks, kOut, zOut, kPivot: cfg.k_pivot, normalization: cfg.normalization, rtol: cfg.precision.rtol, atol: cfg.precision.atol,
  };
  return powerVjpAsync(plan, inp, bar, inp.threads ?? cfg.threads);
}

/**
 * The stage's vjp (linear-power/boltzmann descriptor): parameter bars of the stage's reads (a cosmology seeded in
 * them: the base quantities, h in R8, n_s, sigma8 or A_s, and, without a recombination input, the default
 * recombination with their tangents), and the bar of the recombination input when one is wired (then its
 * parameters are reached through that stage: the runtime's forward boundary, or its own vjp).
 */
export async function boltzmannStageVjp(
  cfg: BoltzmannConfig,
  o: {
    values: Record<string, number>; reads: readonly string[]; split: NeutrinoSplit; recombination?: Recombination; solver: OdeSolver;
    /** The stage's with.adjoint settings (PowerVjpInput.scheme, switchTimes); absent: discrete, switches fixed. */
    scheme?: PowerVjpInput['scheme']; switchTimes?: boolean;
  },
  bar: PowerBar,
): Promise<{ params: Record<string, number>; recombination?: RecombinationBar }> {
  const P = o.reads.length;
  const cosmology = seededCosmology(o.values, o.reads, o.split);
  const rec = o.recombination ?? defaultRecombination(cosmology, P);
  const r = await boltzmannPowerVjp(cfg, { cosmology, recombination: rec, P, solver: o.solver, scheme: o.scheme, switchTimes: o.switchTimes }, bar);
  const params = Object.fromEntries(o.reads.map((name, p) => [name, r.gradient[p]]));
  return o.recombination ? { params, recombination: recombinationBar(r.reads, r.setup, o.recombination) } : { params };
}
