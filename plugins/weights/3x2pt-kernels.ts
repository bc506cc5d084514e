/**
 * The radial kernels of the photometric 3x2pt tracers, written once as values on the expression layer
 * (core/ad/expr.ts): the same function gives the forward tangents (threeByTwoKernels) and the reverse VJP
 * (threeByTwoKernelsAdjoint). In physics order (docs/weights.md; the conventions of the CCL reference):
 *
 *   1. H(z) = H0 E(z) [1/Mpc];
 *   2. lensing efficiency  W_gamma,i(z) = (3/2) H0^2 Omega_m (1+z) chi [A_i(z) - chi B_i(z)],
 *      A_i = Integral_z^zmax p_i dz',  B_i = Integral_z^zmax p_i/chi dz'  (cumulative quadrature from the top);
 *   3. NLA intrinsic alignments  F_IA(z) = -A_IA (1+z)^eta_IA C_IA Omega_m / D(z), radial kernel p_i H
 *      (Hirata & Seljak 2004; Bridle & King 2007):  W_L,i = W_gamma,i + F_IA p_i H;
 *   4. clustering  W_G,i(z) = b_i p_i(z) H(z);
 *   5. multiplicative shear bias (1 + m_i) per lensing tracer.
 */
import type { Dual } from '../../core/ad/dual.js';
import type { DualArray } from '../../core/ad/dual-array.js';
import { Expr, type Vec } from '../../core/ad/expr.js';
import { cumulativeWeights } from '../../core/numerics/cumulative.js';
import type { RedshiftDistribution } from '../contracts/redshift.js';
import type { TracerSet } from '../contracts/tracers.js';
import { resolveThreeByTwoConfig, threeByTwoTracers, type ThreeByTwoConfig } from './3x2pt.js';

/** The background quantities the kernels need, sampled on the n(z) grid. */
export interface KernelBackground {
  readonly chi_Mpc: DualArray;
  /** E = H/H0 */
  readonly E: DualArray;
  /** Linear growth, D(0) = 1. */
  readonly D: DualArray;
  readonly H0_1overMpc: Dual;
  readonly Omega_m: Dual;
}

export interface KernelParameters {
  readonly A_IA: Dual;
  readonly eta_IA: Dual;
  /** One per bin (may be empty when clustering is off). */
  readonly b: readonly Dual[];
  /** One per bin (may be empty when lensing is off). */
  readonly m: readonly Dual[];
}

/** Values of the background on the n(z) grid and of the parameters, as the reverse pass reads them. */
export interface KernelValues {
  chi: Float64Array;
  E: Float64Array;
  D: Float64Array;
  H0: number;
  Omega_m: number;
}

/** Bars of everything the kernels depend on. */
export interface KernelBars {
  /** n(z) rows (bin-major, like RedshiftDistribution.n); empty when the adjoint was asked not to form it */
  n: Float64Array;
  chi: Float64Array;
  E: Float64Array;
  D: Float64Array;
  H0: number;
  Omega_m: number;
  A_IA: number;
  eta_IA: number;
  b: number[];
  m: number[];
}

/**
 * Integral from the top, out[k] = Integral_{x_k}^{x_{n-1}} y dx, for rows of length n on grid x: the 4th-order
 * cumulative rule (core/numerics/cumulative.ts) applied on the mirrored grid -x, so that the integral starts
 * exactly at 0 at the top and tails stay accurate in relative terms.
 */
export function topDownIntegrator(x: Float64Array): (y: Float64Array, yo: number, out: Float64Array, oo: number) => void {
  const n = x.length;
  const xr = new Float64Array(n);
  for (let j = 0; j < n; j++) xr[j] = -x[n - 1 - j];
  const { w, start } = cumulativeWeights(xr);
  const npt = Math.min(n, 4);
  return (y, yo, out, oo) => {
    // mirrored index j <-> original n-1-j
    const top = yo + n - 1;
    let acc = 0;
    out[oo + n - 1] = 0;
    for (let j = 0; j < n - 1; j++) {
      const b = 4 * j, s = top - start[j];
      let t = 0;
      for (let q = 0; q < npt; q++) t += w[b + q] * y[s - q];
      acc += t;
      out[oo + n - 2 - j] = acc;
    }
  };
}

/**
 * Transpose of topDownIntegrator(x): ybar[yo ..] += T^T obar[oo ..], where out = T y is the cumulative integral
 * from the top. out[n-2-j] = sum_{j' <= j} t_j' with t_j = sum_q w_jq y_(top - start_j - q), so
 * tbar_j = sum_{j' >= j} obar[n-2-j'] (a running sum from the bottom) and ybar gets w_jq tbar_j.
 */
export function topDownIntegratorAdjoint(x: Float64Array): (obar: Float64Array, oo: number, ybar: Float64Array, yo: number) => void {
  const n = x.length;
  const xr = new Float64Array(n);
  for (let j = 0; j < n; j++) xr[j] = -x[n - 1 - j];
  const { w, start } = cumulativeWeights(xr);
  const npt = Math.min(n, 4);
  return (obar, oo, ybar, yo) => {
    const top = yo + n - 1;
    let acc = 0;
    for (let j = n - 2; j >= 0; j--) {
      acc += obar[oo + n - 2 - j];
      if (acc === 0) continue;
      const b = 4 * j, s = top - start[j];
      for (let q = 0; q < npt; q++) ybar[s - q] += w[b + q] * acc;
    }
  };
}

/**
 * What depends on the n(z) grid alone — 1 + z, ln(1 + z) and the top-down integrator with its transpose (a
 * cumulative-weights table) — made once per grid array: a sampler evaluates the kernels on the same grid at
 * every step (and again in every reverse sweep). The arrays enter the expressions as constants (never written).
 */
interface GridParts {
  onePlusZ: Float64Array;
  log1pZ: Float64Array;
  cumTop: ReturnType<typeof topDownIntegrator>;
  cumTopT: ReturnType<typeof topDownIntegratorAdjoint>;
}
const GRID_PARTS = new WeakMap<Float64Array, GridParts>();

function gridParts(z: Float64Array): GridParts {
  let g = GRID_PARTS.get(z);
  if (!g) {
    const onePlusZ = new Float64Array(z.length), log1pZ = new Float64Array(z.length);
    for (let k = 0; k < z.length; k++) { onePlusZ[k] = 1 + z[k]; log1pZ[k] = Math.log1p(z[k]); }
    GRID_PARTS.set(z, (g = { onePlusZ, log1pZ, cumTop: topDownIntegrator(z), cumTopT: topDownIntegratorAdjoint(z) }));
  }
  return g;
}

/** The inputs of the kernels as expression values. */
interface KernelLeaves {
  /** n_i(z), one per bin */
  n: Vec[];
  chi: Vec;
  E: Vec;
  D: Vec;
  H0: Vec;
  Omega_m: Vec;
  A_IA: Vec;
  eta_IA: Vec;
  b: Vec[];
  m: Vec[];
}

/** Input checks the kernels need (values only): the grid, chi > 0, n(0) = 0 at the origin, D > 0 with IA. */
function checkInputs(z: Float64Array, nv: Float64Array, nB: number, chi: Float64Array, D: Float64Array, cfg: ThreeByTwoConfig): void {
  const nz = z.length;
  const withIA = cfg.lensing && cfg.intrinsicAlignment === 'nla';
  if (!cfg.lensing) return;
  if (z[0] < 0) throw new Error(`weights/3x2pt: the n(z) grid starts at z = ${z[0]} < 0`);
  for (let k = 0; k < nz; k++)
    if (!(chi[k] > 0) && z[k] > 0) throw new Error(`weights/3x2pt: chi(z = ${z[k]}) = ${chi[k]} is not positive`);
  if (z[0] === 0) {
    if (nz < 3) throw new Error('weights/3x2pt: an n(z) grid starting at z = 0 needs at least 3 nodes');
    for (let i = 0; i < nB; i++)
      if (nv[i * nz] > 0)
        throw new Error(
          `weights/3x2pt: n_${i + 1}(z = 0) = ${nv[i * nz]} > 0: the lensing integral of n/chi diverges at z = 0; ` +
            'start the n(z) grid above 0 or make n(0) = 0',
        );
  }
  if (withIA)
    for (let k = 0; k < nz; k++)
      if (!(D[k] > 0)) throw new Error(`weights/3x2pt: growth D(z = ${z[k]}) = ${D[k]} is not positive (NLA divides by D)`);
}

/** The kernel rows (lensing L1..Ln, then clustering G1..Gn) and the multiplicative factors, on the expression layer. */
function kernelRows(e: Expr, z: Float64Array, x: KernelLeaves, cfg: ThreeByTwoConfig): { W: Vec[]; mult: Vec[] } {
  const nz = z.length;
  const W: Vec[] = [];
  const mult: Vec[] = [];
  // 1. H = H0 E
  const H = e.mul(x.H0, x.E);
  if (cfg.lensing) {
    const { cumTop, cumTopT, onePlusZ, log1pZ } = gridParts(z);
    const fromTop = (y: Vec) => e.linear(y, nz, (a, out) => cumTop(a, 0, out, 0), (ob, yb) => cumTopT(ob, 0, yb, 0));
    // p/chi -> its finite limit at chi(0) = 0, extrapolated from the next two nodes (when the grid starts at z = 0)
    const atOrigin = z[0] === 0;
    const invChi = e.map(x.chi, (c) => (c > 0 ? 1 / c : 0), (c) => (c > 0 ? -1 / (c * c) : 0));
    const fixOrigin = (y: Vec) => (atOrigin
      ? e.linear(y, nz, (a, out) => { out.set(a); out[0] = 2 * a[1] - a[2]; }, (ob, yb) => { for (let k = 1; k < nz; k++) yb[k] += ob[k]; yb[1] += 2 * ob[0]; yb[2] -= ob[0]; })
      : y);
    // 2. prefactor K (1+z) chi, K = (3/2) H0^2 Omega_m
    const K = e.scale(e.mul(e.mul(x.H0, x.H0), x.Omega_m), 1.5);
    const Kr = e.mul(K, e.mul(e.constant(onePlusZ), x.chi));
    // 3. NLA: A_IA g H with g = (1+z)^eta C_IA Omega_m / D
    const withIA = cfg.intrinsicAlignment === 'nla';
    const AgH = withIA
      ? e.mul(e.mul(x.A_IA, e.exp(e.mul(x.eta_IA, e.constant(log1pZ)))), e.mul(e.scale(e.div(x.Omega_m, x.D), cfg.C_IA), H))
      : null;
    for (const p of x.n) {
      // 4. chi [A - chi B], A = T p, B = T (p/chi)
      const G = e.addmul(fromTop(p), x.chi, fromTop(fixOrigin(e.mul(p, invChi))), -1);
      const Wg = e.mul(Kr, G);
      W.push(AgH ? e.addmul(Wg, AgH, p, -1) : Wg);
    }
    // 5. shear biases
    for (const m of x.m) mult.push(e.add(e.constant(1), m));
  }
  if (cfg.clustering)
    x.n.forEach((p, i) => {
      W.push(e.mul(x.b[i], e.mul(p, H)));
      mult.push(e.constant(1));
    });
  return { W, mult };
}

function checkCounts(nB: number, cfg: ThreeByTwoConfig, nb: number, nm: number): void {
  if (nB !== cfg.bins) throw new Error(`weights/3x2pt: with.bins = ${cfg.bins} but the n(z) stage provides ${nB} bins; set with.bins = ${nB}`);
  if (cfg.lensing && nm !== nB) throw new Error(`weights/3x2pt: got ${nm} shear biases for ${nB} bins`);
  if (cfg.clustering && nb !== nB) throw new Error(`weights/3x2pt: got ${nb} galaxy biases for ${nB} bins`);
}

/**
 * The kernels from plain inputs (n(z), the background on the n(z) grid, parameter duals); `P` is the number
 * of tangent directions (0: values only).
 */
export function threeByTwoKernels(
  nzd: RedshiftDistribution, bg: KernelBackground, par: KernelParameters, config: Partial<ThreeByTwoConfig>, P: number,
): TracerSet {
  const cfg = resolveThreeByTwoConfig(config);
  const z = nzd.z, nz = z.length, nB = nzd.nBins;
  checkCounts(nB, cfg, par.b.length, par.m.length);
  for (const [name, a] of [['chi', bg.chi_Mpc], ['E', bg.E], ['D', bg.D]] as const)
    if (a.value.length !== nz) throw new Error(`weights/3x2pt: background ${name} has ${a.value.length} values, the n(z) grid ${nz}`);
  checkInputs(z, nzd.n.value, nB, bg.chi_Mpc.value, bg.D.value, cfg);
  const e = new Expr(P);
  const zero = { v: 0, d: null };
  const leaves: KernelLeaves = {
    n: Array.from({ length: nB }, (_, i) => e.row(nzd.n, nB, i)),
    chi: e.array(bg.chi_Mpc), E: e.array(bg.E), D: e.array(bg.D), H0: e.scalar(bg.H0_1overMpc), Omega_m: e.scalar(bg.Omega_m),
    A_IA: e.scalar(cfg.lensing && cfg.intrinsicAlignment === 'nla' ? par.A_IA : zero), eta_IA: e.scalar(cfg.lensing && cfg.intrinsicAlignment === 'nla' ? par.eta_IA : zero),
    b: par.b.map((b) => e.scalar(b)), m: par.m.map((m) => e.scalar(m)),
  };
  const { W, mult } = kernelRows(e, z, leaves, cfg);
  const out = { z, tracers: threeByTwoTracers(cfg), W: e.toDualArray(W, nz), multiplicative: e.toDualArray(mult, 1), z_max: z[nz - 1] };
  e.dispose(); // the work arrays go back to the pool for the next evaluation
  return out;
}

/**
 * The vector-Jacobian product of threeByTwoKernels: Wbar (tracer-by-z) and multBar (per tracer) pulled back to
 * n(z), the background on the n(z) grid, H0, Omega_m and the parameters, by the same expression run in reverse.
 * `withNBar: false` (no differentiated parameter behind the n(z)): the n(z) rows enter as constants, so the sweep
 * skips their bars, and the returned n bar is empty.
 */
export function threeByTwoKernelsAdjoint(
  nzd: RedshiftDistribution, bg: KernelValues, par: { A_IA: number; eta_IA: number; b: readonly number[] }, config: Partial<ThreeByTwoConfig>,
  Wbar: Float64Array | null, multBar: Float64Array | null, withNBar = true,
): KernelBars {
  const cfg = resolveThreeByTwoConfig(config);
  const z = nzd.z, nz = z.length, nB = nzd.nBins;
  const e = new Expr(0, 'reverse');
  const arr = (v: Float64Array) => e.array({ value: v, tangent: null, P: 0 });
  const leaves: KernelLeaves = {
    n: Array.from({ length: nB }, (_, i) => (withNBar ? e.row({ value: nzd.n.value, tangent: null, P: 0 }, nB, i) : e.constant(nzd.n.value.subarray(i * nz, (i + 1) * nz)))),
    chi: arr(bg.chi), E: arr(bg.E), D: arr(bg.D), H0: e.scalar(bg.H0), Omega_m: e.scalar(bg.Omega_m),
    A_IA: e.scalar(par.A_IA), eta_IA: e.scalar(par.eta_IA),
    b: cfg.clustering ? par.b.map((b) => e.scalar(b)) : [], m: cfg.lensing ? Array.from({ length: nB }, () => e.scalar(0)) : [],
  };
  const { W, mult } = kernelRows(e, z, leaves, cfg);
  const seeds: [Vec, Float64Array][] = [];
  if (Wbar) W.forEach((w, t) => seeds.push([w, Wbar.subarray(t * nz, (t + 1) * nz)]));
  if (multBar) mult.forEach((m, t) => seeds.push([m, multBar.subarray(t, t + 1)]));
  e.backward(seeds);
  const n = new Float64Array(withNBar ? nB * nz : 0);
  if (withNBar) leaves.n.forEach((r, i) => n.set(e.bar(r), i * nz));
  const withIA = cfg.lensing && cfg.intrinsicAlignment === 'nla';
  const out: KernelBars = {
    n, chi: e.bar(leaves.chi).slice(), E: e.bar(leaves.E).slice(), D: e.bar(leaves.D).slice(),
    H0: e.barScalar(leaves.H0), Omega_m: e.barScalar(leaves.Omega_m),
    A_IA: withIA ? e.barScalar(leaves.A_IA) : 0, eta_IA: withIA ? e.barScalar(leaves.eta_IA) : 0,
    b: leaves.b.map((b) => e.barScalar(b)), m: leaves.m.map((m) => e.barScalar(m)),
  };
  e.dispose();
  return out;
}
