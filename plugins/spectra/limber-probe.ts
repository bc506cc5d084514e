/**
 * The probe integrand that steers the Limber stage's z nodes (limberNodes): the sum over tracers of the
 * peak-normalised auto-spectra at a few multipoles (`probe_ell`), through the default power input,
 *
 *   probe(z) = sum_t (W_t(z) / max W_t)^2  sum_l  P((l+1/2)/chi(z), z) / (H(z) chi(z)^2),
 *
 * with P read on every 4th k of the grid (ends kept): ln P a not-a-knot spline in z per k, then in ln k per node.
 *
 * The adaptive rule evaluates it at ~700 nodes per step, so it is built to cost O(probe multipoles) per node,
 * not O(grid k): both splines are linear maps of the table ln P[z_j, k_i], acting on different axes, so they
 * commute — the second derivatives in ln k of the row interpolated to z_q equal the interpolation to z_q of the
 * rows' second derivatives in ln k. The tables (ln P and its ln-k second derivatives, each with its z-spline) are
 * prepared once per P(k, z) object; a node then reads only the two k intervals' columns each probe multipole
 * needs (4 column values by the z spline), instead of interpolating 200 k and re-solving a 200-point spline.
 * The kernels and the background are read through splines prepared once per object as well. The values are
 * those of the direct construction up to rounding (the node choice is unchanged: test/plugins/spectra/limber.test.ts).
 */
import { queryGeometry } from '../../core/ad/interp.js';
import { solveSecondDerivs, solveSecondDerivsColumns, solveSecondDerivsMany, splineFactor, type SplineFactor } from '../../core/numerics/spline.js';
import type { VectorIntegrand } from '../../core/numerics/integrator.js';
import type { Background } from '../contracts/background.js';
import type { PowerGrid } from '../contracts/power.js';
import type { TracerSet } from '../contracts/tracers.js';
import { kInterval, kTaper } from './limber-sum.js';
import { clampToGrid } from './power-at-nodes.js';
import { kernelsAtNodes, type TracerList } from './tracer-pairs.js';

/** ln P on the probe's k and its ln-k second derivatives, each with its z-spline moments (z-major tables). */
interface ProbeTables {
  lnk: Float64Array;
  nkP: number;
  /** ln P[j, i] = ln P(k_i, z_j) (nz * nkP) and m[j, i] = d^2 ln P / d ln k^2 of row z_j at k_i (the ln-k spline's). */
  lnP: Float64Array;
  m: Float64Array;
  /** Second derivatives in z of each column (k_i) of lnP and of m. */
  lnPz: Float64Array;
  mz: Float64Array;
}
const TABLES = new WeakMap<PowerGrid, ProbeTables>();

function probeTables(power: PowerGrid): ProbeTables {
  const hit = TABLES.get(power);
  if (hit) return hit;
  const nkAll = power.k_1overMpc.length, nz = power.z.length, Pv = power.P_Mpc3.value;
  const probeK: number[] = [];
  for (let ik = 0; ik < nkAll; ik += 4) probeK.push(ik);
  if (probeK[probeK.length - 1] !== nkAll - 1) probeK.push(nkAll - 1);
  const nkP = probeK.length;
  const lnk = Float64Array.from(probeK, (ik) => Math.log(power.k_1overMpc[ik]));
  const fk = splineFactor(lnk, 'not-a-knot');
  // z-major tables; the splines in ln k of every z row at once, then those in z of every k column at once
  const lnP = new Float64Array(nz * nkP), m = new Float64Array(nz * nkP);
  for (let j = 0; j < nz; j++) for (let i = 0; i < nkP; i++) lnP[j * nkP + i] = Math.log(Pv[j * nkAll + probeK[i]]);
  solveSecondDerivsMany(fk, lnP, 0, nz, 1, nkP, m, 0);
  const fz = splineFactor(power.z, nz >= 4 ? 'not-a-knot' : 'natural');
  const lnPz = new Float64Array(nz * nkP), mz = new Float64Array(nz * nkP);
  solveSecondDerivsColumns(fz, lnP, 0, nkP, lnPz, 0);
  solveSecondDerivsColumns(fz, m, 0, nkP, mz, 0);
  const t: ProbeTables = { lnk, nkP, lnP, m, lnPz, mz };
  TABLES.set(power, t);
  return t;
}

/** Value splines of E, chi and D in ln(1+z), once per Background object (the probe reads values only). */
interface BackgroundSplines { x: Float64Array; E: Float64Array; chi: Float64Array; D: Float64Array; mE: Float64Array; mChi: Float64Array; mD: Float64Array }
const BG = new WeakMap<Background, BackgroundSplines>();

function backgroundSplines(bg: Background): BackgroundSplines {
  const hit = BG.get(bg);
  if (hit) return hit;
  const x = Float64Array.from(bg.z, Math.log1p);
  const f: SplineFactor = splineFactor(x, 'not-a-knot');
  const moments = (y: Float64Array) => { const mm = new Float64Array(y.length); solveSecondDerivs(f, y, 0, mm, 0); return mm; };
  const s: BackgroundSplines = {
    x, E: bg.E.value, chi: bg.chi_Mpc.value, D: bg.D.value, mE: moments(bg.E.value), mChi: moments(bg.chi_Mpc.value), mD: moments(bg.D.value),
  };
  BG.set(bg, s);
  return s;
}

/** Peak |W| of each tracer on its set's grid, once per set. */
const PEAKS = new WeakMap<TracerSet, Float64Array>();
function kernelPeaks(s: TracerSet): Float64Array {
  let p = PEAKS.get(s);
  if (p) return p;
  const nz = s.z.length;
  p = new Float64Array(s.tracers.length);
  for (let t = 0; t < p.length; t++) {
    let mx = 0;
    for (let i = 0; i < nz; i++) mx = Math.max(mx, Math.abs(s.W.value[t * nz + i]));
    p[t] = mx;
  }
  PEAKS.set(s, p);
  return p;
}

/**
 * The probe as a vectorised integrand of x = ln z (dz = z dx): out[q] = z_q probe(z_q). `Dtop` is D at the
 * power grid's top redshift (for nodes above it with z_beyond_power = "growth"; 1 otherwise).
 */
export function limberProbe(
  list: TracerList, power: PowerGrid, background: Background, probeEll: readonly number[], kMin: number, kMax: number, beyond: boolean, Dtop: number,
): VectorIntegrand {
  const nt = list.tracers.length;
  const kernelMax = new Float64Array(nt);
  list.sets.forEach((s, si) => kernelMax.set(kernelPeaks(s), list.offset[si]));
  const tab = probeTables(power);
  const bgs = backgroundSplines(background);
  const H0 = background.H0_1overMpc.v;
  const lnEll = Float64Array.from(probeEll, (l) => Math.log(l + 0.5));
  const nl = lnEll.length;
  const lnkMin = Math.log(kMin), lnkMax = Math.log(kMax);
  const flatLo = lnkMin + Math.LN2, flatHi = lnkMax - Math.LN2;
  const { lnk, nkP, lnP, m, lnPz, mz } = tab;
  return (x, out) => {
    const n = x.length;
    const z = new Float64Array(n), s1 = new Float64Array(n);
    for (let q = 0; q < n; q++) { z[q] = Math.exp(x[q]); s1[q] = Math.log1p(z[q]); }
    // the background at the nodes (values), by the same cubic as backgroundAt
    const gb = queryGeometry(bgs.x, s1);
    const at = (y: Float64Array, mm: Float64Array, q: number) => {
      const i = gb.idx[q];
      return gb.A[q] * y[i] + gb.B[q] * y[i + 1] + gb.C[q] * mm[i] + gb.D[q] * mm[i + 1];
    };
    const W = kernelsAtNodes(list, z, false).value;
    const { zc, first } = clampToGrid(power, z);
    const gz = queryGeometry(power.z, zc);
    const K = new Float64Array(nl * n);
    for (let q = 0; q < n; q++) {
      const E = at(bgs.E, bgs.mE, q), c = at(bgs.chi, bgs.mChi, q);
      const pre = 1 / (E * H0 * c * c);
      const shift = beyond && q >= first ? 2 * Math.log(at(bgs.D, bgs.mD, q) / Dtop) : 0;
      const j = gz.idx[q], A = gz.A[q], B = gz.B[q], C = gz.C[q], D = gz.D[q];
      // column i of a table at this node, by its z spline
      const col = (y: Float64Array, yz: Float64Array, i: number) => {
        const o = j * nkP + i;
        return A * y[o] + B * y[o + nkP] + C * yz[o] + D * yz[o + nkP];
      };
      const lnc = Math.log(c);
      let i = -1;
      for (let l = 0; l < nl; l++) {
        const xk = lnEll[l] - lnc; // ln k
        if (xk <= lnkMin || xk >= lnkMax) continue;
        const w = xk >= flatLo && xk <= flatHi ? 1 : kTaper(xk, lnkMin, lnkMax);
        i = kInterval(lnk, xk, i);
        const h = lnk[i + 1] - lnk[i]; // the cubic-spline basis (NR eq. 3.3.3)
        const a = (lnk[i + 1] - xk) / h, b = 1 - a;
        const y0 = col(lnP, lnPz, i) + shift, y1 = col(lnP, lnPz, i + 1) + shift;
        const lp = a * y0 + b * y1 + (((a * a * a - a) * h * h) / 6) * col(m, mz, i) + (((b * b * b - b) * h * h) / 6) * col(m, mz, i + 1);
        K[l * n + q] = pre * Math.exp(lp) * w;
      }
    }
    out.fill(0);
    for (let t = 0; t < nt; t++) {
      const norm = kernelMax[t];
      if (norm === 0) continue;
      for (let q = 0; q < n; q++) {
        const wt = W[t * n + q] / norm, w2 = wt * wt;
        for (let l = 0; l < nl; l++) out[q] += w2 * K[l * n + q];
      }
    }
    for (let q = 0; q < n; q++) out[q] *= z[q];
  };
}
