/**
 * The numerical core of the Limber spectra (values), in the order of the equation
 *
 *   C_AB(l) = F_A(l) F_B(l) (1+m_A)(1+m_B) Integral dz  W_A(z) W_B(z) / (H(z) chi(z)^2) P((l+1/2)/chi(z), z)
 *
 * discretised on quadrature nodes z_q with weights w_q as a batched matrix product
 *   C[pair, l] = sum_q  M[pair, q] K[l, q],   M = W_A W_B,   K[l, q] = w_q P(k_lq, z_q) / (H_q chi_q^2).
 * Everything here runs on Float64Array and allocates per call (its outputs; the large work tables come from a
 * module-level scratch, see `scratch`), never per element.
 */
import { findInterval, solveSecondDerivsColumns, solveSecondDerivsMany, splineFactor } from '../../core/numerics/spline.js';
import { queryGeometry, type QueryGeometry } from '../../core/ad/interp.js';
import { secondDerivsAdjointColumns, secondDerivsAdjointMany } from '../../core/ad/interp-adjoint.js';
import { nonzeroBlocks, type DualArray } from '../../core/ad/dual-array.js';
import type { PowerGrid } from '../contracts/power.js';

/**
 * Rows of `nCols` interleaved columns (z-major tables: row j, column c at y[yo + j * nCols + c]) evaluated by their
 * splines in z at the queries of g: out[oo + q * nCols + c], node-major, the columns contiguous.
 */
function evalColumns(g: QueryGeometry, y: Float64Array, yo: number, m: Float64Array, mo: number, nCols: number, out: Float64Array, oo: number): void {
  const { idx, A, B, C, D } = g;
  for (let q = 0; q < idx.length; q++) {
    const j = idx[q], a = A[q], b = B[q], c = C[q], d = D[q];
    const y0 = yo + j * nCols, y1 = y0 + nCols, m0 = mo + j * nCols, m1 = m0 + nCols, o = oo + q * nCols;
    for (let i = 0; i < nCols; i++) out[o + i] = a * y[y0 + i] + b * y[y1 + i] + c * m[m0 + i] + d * m[m1 + i];
  }
}

/**
 * ln P on the nodes: ln P(k_i, z_q) for every grid k, cubic-spline interpolated in z, and the tangents of
 * ln P (dP/P) interpolated with the same spline. Returns node-major arrays: value nq*nk, tangent P*nq*nk.
 * The splines in z (one per k) are solved on the z-major table directly, all k at once (the k innermost):
 * no transposes.
 */
export function lnPowerAtNodes(power: PowerGrid, zNodes: Float64Array, liveBlocks?: readonly number[]): DualArray {
  const k = power.k_1overMpc, zGrid = power.z, Pv = power.P_Mpc3.value, Pt = power.P_Mpc3.tangent;
  const nk = k.length, nz = zGrid.length, nq = zNodes.length;
  const NP = Pt ? power.P_Mpc3.P : 0;
  const f = splineFactor(zGrid, nz >= 4 ? 'not-a-knot' : 'natural');
  const g = queryGeometry(zGrid, zNodes);
  const lnP = scratch(0, nz * nk);
  for (let i = 0; i < nz * nk; i++) {
    const p = Pv[i];
    if (!(p > 0)) throw new Error(`${power.source}: P(k = ${k[i % nk]} /Mpc, z = ${zGrid[Math.floor(i / nk)]}) = ${p} is not positive; cannot interpolate ln P`);
    lnP[i] = Math.log(p);
  }
  const m = scratch(1, nz * nk);
  solveSecondDerivsColumns(f, lnP, 0, nk, m, 0);
  const value = new Float64Array(nq * nk);
  evalColumns(g, lnP, 0, m, 0, nk, value, 0);
  if (!NP) return { value, tangent: null, P: 0 };
  // only the non-zero tangent blocks are interpolated (P(k) depends on a few cosmological parameters)
  const tangent = new Float64Array(NP * nq * nk);
  const d = scratch(0, nz * nk); // (the values' table is no longer needed)
  for (const b of liveBlocks ?? nonzeroBlocks(power.P_Mpc3)) {
    const src = b * nz * nk;
    for (let i = 0; i < nz * nk; i++) d[i] = Pt![src + i] / Pv[i];
    solveSecondDerivsColumns(f, d, 0, nk, m, 0);
    evalColumns(g, d, 0, m, 0, nk, tangent, b * nq * nk);
  }
  return { value, tangent, P: NP };
}

/**
 * K[l, q] = w_q / (H_q chi_q^2) * P((l+1/2)/chi_q, z_q) * T(k), with ln P cubic in ln k on each node's row of
 * lnPq (node-major, from lnPowerAtNodes). The integrand vanishes outside [kMin, kMax] (CCL's K_MIN/K_MAX);
 * T(k) tapers it smoothly to zero over the last factor of 2 in k at each end, so that C_l stays a smooth
 * function of the parameters (a hard cut makes C_l jump when a node's k crosses kMax as chi changes, which
 * spoils finite differences at the 1e-3 level while changing C_l by ~1e-8).
 *
 * Tangents (when any input has them): with k = (l+1/2)/chi,
 *   dK/K = -dH/H - 2 dchi/chi + dlnP|_k - (dlnP/dlnk) dchi/chi.
 * `liveBlocks`: the tangent blocks of lnPq that may be non-zero, when the caller knows them (any superset will
 * do); otherwise lnPq's tangent is scanned (19 blocks of ~90 000 numbers, mostly zero, under the Fisher's tangents).
 */
export function limberWeights(
  ell: Float64Array, k: Float64Array, lnPq: DualArray, zW: Float64Array, H: DualArray, chi: DualArray,
  kMin: number, kMax: number, liveBlocks?: readonly number[],
): DualArray {
  const nl = ell.length, nq = zW.length, nk = k.length;
  const NP = Math.max(lnPq.tangent ? lnPq.P : 0, H.tangent ? H.P : 0, chi.tangent ? chi.P : 0);
  const lnk = new Float64Array(nk);
  for (let i = 0; i < nk; i++) lnk[i] = Math.log(k[i]);
  const lnkMin = Math.log(kMin), lnkMax = Math.log(kMax);
  const fk = splineFactor(lnk, 'not-a-knot');
  const Hv = H.value, chiv = chi.value, lnPv = lnPq.value, lnPt = lnPq.tangent;
  // every node's spline in ln k at once (node-major like lnPq: m[q * nk + i]), and those of the live tangent blocks
  const m = scratch(3, nq * nk);
  solveSecondDerivsMany(fk, lnPv, 0, nq, 1, nk, m, 0);
  const liveP = lnPq.tangent ? (liveBlocks ?? nonzeroBlocks(lnPq)) : [];
  const slot = new Int32Array(NP).fill(-1);
  const mt = liveP.length ? new Float64Array(liveP.length * nq * nk) : null;
  liveP.forEach((b, j) => { slot[b] = j; solveSecondDerivsMany(fk, lnPt!, b * nq * nk, nq, 1, nk, mt!, j * nq * nk); });
  const K = new Float64Array(nl * nq);
  const dK = NP ? new Float64Array(NP * nl * nq) : null;
  const g = new Float64Array(NP), dchiOverChi = new Float64Array(NP);
  const lnEll = Float64Array.from(ell, (l) => Math.log(l + 0.5));
  const flatLo = lnkMin + Math.LN2, flatHi = lnkMax - Math.LN2;
  for (let q = 0; q < nq; q++) {
    const c = chiv[q];
    const pre = zW[q] / (Hv[q] * c * c);
    for (let b = 0; b < NP; b++) {
      const dH = H.tangent ? H.tangent[b * nq + q] : 0;
      const dc = chi.tangent ? chi.tangent[b * nq + q] : 0;
      dchiOverChi[b] = dc / c;
      g[b] = -dH / Hv[q] - (2 * dc) / c;
    }
    const o = q * nk;
    let i = -1;
    const lnc = Math.log(c);
    for (let l = 0; l < nl; l++) {
      const x = lnEll[l] - lnc; // ln k
      if (x <= lnkMin || x >= lnkMax) continue;
      const flat = x >= flatLo && x <= flatHi;
      const w = flat ? 1 : kTaper(x, lnkMin, lnkMax), dw = flat ? 0 : kTaperSlope(x, lnkMin, lnkMax);
      i = kInterval(lnk, x, i);
      // the cubic-spline basis on interval i (NR eq. 3.3.3: S = a y_i + b y_i+1 + c_a m_i + c_b m_i+1), inline: nl x nq times
      const h = lnk[i + 1] - lnk[i];
      const a = (lnk[i + 1] - x) / h, bb = 1 - a;
      const ca = ((a * a * a - a) * h * h) / 6, cb = ((bb * bb * bb - bb) * h * h) / 6;
      const m0 = m[o + i], m1 = m[o + i + 1];
      const lnP = a * lnPv[o + i] + bb * lnPv[o + i + 1] + ca * m0 + cb * m1;
      const Pw = pre * Math.exp(lnP);
      const Kv = Pw * w;
      K[l * nq + q] = Kv;
      if (!dK) continue;
      const slope = cubicSlope(lnPv[o + i], lnPv[o + i + 1], m0, m1, a, bb, h);
      for (let b = 0; b < NP; b++) {
        let dlnP = 0;
        const j = slot[b];
        if (j >= 0) {
          const to = (b * nq + q) * nk, mo = (j * nq + q) * nk;
          dlnP = a * lnPt![to + i] + bb * lnPt![to + i + 1] + ca * mt![mo + i] + cb * mt![mo + i + 1];
        }
        dK[(b * nl + l) * nq + q] = Kv * (g[b] + dlnP - slope * dchiOverChi[b]) - Pw * dw * dchiOverChi[b];
      }
    }
  }
  return { value: K, tangent: dK, P: NP };
}

/**
 * Module-level work arrays, one per slot, grown on demand and never zeroed (callers write before they read):
 * the tables and transposes of one call allocate nothing in a sampler's steady state. Synchronous use only,
 * and a slot is never held across a call that uses the same slot.
 */
const SCRATCH: Float64Array[] = [];
function scratch(slot: number, n: number): Float64Array {
  let a = SCRATCH[slot];
  if (!a || a.length < n) SCRATCH[slot] = a = new Float64Array(n);
  return a.subarray(0, n);
}

/**
 * C[pair, l] = sum_q M[pair, q] K[l, q] for nPairs rows of M (nPairs*nq) and nl rows of K (nl*nq):
 * a matrix product with both operands contiguous in q, blocked 4 pairs x 2 ells so that each loaded
 * element is used several times from registers.
 */
export function pairProducts(M: Float64Array, nPairs: number, K: Float64Array, nl: number, nq: number, out?: Float64Array): Float64Array {
  const C = out ?? new Float64Array(nPairs * nl);
  let p = 0;
  for (; p + 4 <= nPairs; p += 4) {
    const m0 = p * nq, m1 = m0 + nq, m2 = m1 + nq, m3 = m2 + nq;
    let l = 0;
    for (; l + 2 <= nl; l += 2) {
      const k0 = l * nq, k1 = k0 + nq;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
      for (let q = 0; q < nq; q++) {
        const a = K[k0 + q], b = K[k1 + q];
        const x0 = M[m0 + q], x1 = M[m1 + q], x2 = M[m2 + q], x3 = M[m3 + q];
        s00 += x0 * a; s01 += x0 * b; s10 += x1 * a; s11 += x1 * b;
        s20 += x2 * a; s21 += x2 * b; s30 += x3 * a; s31 += x3 * b;
      }
      C[p * nl + l] = s00; C[p * nl + l + 1] = s01;
      C[(p + 1) * nl + l] = s10; C[(p + 1) * nl + l + 1] = s11;
      C[(p + 2) * nl + l] = s20; C[(p + 2) * nl + l + 1] = s21;
      C[(p + 3) * nl + l] = s30; C[(p + 3) * nl + l + 1] = s31;
    }
    for (; l < nl; l++) {
      const k0 = l * nq;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let q = 0; q < nq; q++) {
        const a = K[k0 + q];
        s0 += M[m0 + q] * a; s1 += M[m1 + q] * a; s2 += M[m2 + q] * a; s3 += M[m3 + q] * a;
      }
      C[p * nl + l] = s0; C[(p + 1) * nl + l] = s1; C[(p + 2) * nl + l] = s2; C[(p + 3) * nl + l] = s3;
    }
  }
  for (; p < nPairs; p++)
    for (let l = 0; l < nl; l++) {
      let s = 0;
      for (let q = 0, mo = p * nq, ko = l * nq; q < nq; q++) s += M[mo + q] * K[ko + q];
      C[p * nl + l] = s;
    }
  return C;
}

/** Spin-2 prefactor F_l = sqrt((l+2)(l+1)l(l-1)) / (l+1/2)^2 (exact; -> 1 - 1.25/(l+1/2)^2 at large l). */
export function shearPrefactor(ell: number): number {
  const lh = ell + 0.5;
  return Math.sqrt((ell + 2) * (ell + 1) * ell * (ell - 1)) / (lh * lh);
}

/** Smooth window in ln k: 0 outside [a, b], 1 inside [a + ln 2, b - ln 2], raised cosines between. */
export function kTaper(x: number, a: number, b: number): number {
  const L = Math.LN2;
  if (x <= a || x >= b) return 0;
  if (x < a + L) return 0.5 * (1 - Math.cos((Math.PI * (x - a)) / L));
  if (x > b - L) return 0.5 * (1 - Math.cos((Math.PI * (b - x)) / L));
  return 1;
}

/** d T / d ln k of kTaper. */
export function kTaperSlope(x: number, a: number, b: number): number {
  const L = Math.LN2;
  if (x <= a || x >= b) return 0;
  if (x < a + L) return ((0.5 * Math.PI) / L) * Math.sin((Math.PI * (x - a)) / L);
  if (x > b - L) return -((0.5 * Math.PI) / L) * Math.sin((Math.PI * (b - x)) / L);
  return 0;
}

/**
 * How the banded contraction sums each row of M: the rows with a non-zero entry, sorted by their band (the node
 * range outside which |M| < 1e-14 max|M row|, dropping at most ~1e-14 * nq of the row), blocked 4 at a time over
 * the union of the 4 bands (a remainder of fewer than 4 rows each over its own). `lo`/`hi`: the node range each
 * row is summed over (an all-zero row: lo = hi = 0); `bandLo`/`bandHi`: the row's own band.
 */
export interface ContractionPlan {
  /** Non-zero rows in summation order; the first `blocked` go in blocks of 4. */
  order: Int32Array;
  blocked: number;
  lo: Int32Array;
  hi: Int32Array;
  bandLo: Int32Array;
  bandHi: Int32Array;
}

export function contractionPlan(M: Float64Array, nRows: number, nq: number): ContractionPlan {
  const lo = new Int32Array(nRows), hi = new Int32Array(nRows);
  const rows: number[] = [];
  for (let p = 0; p < nRows; p++) {
    const o = p * nq;
    let mx = 0;
    for (let q = 0; q < nq; q++) mx = Math.max(mx, Math.abs(M[o + q]));
    if (mx === 0) continue;
    const cut = 1e-14 * mx;
    let a = 0, b = nq;
    while (Math.abs(M[o + a]) < cut) a++;
    while (Math.abs(M[o + b - 1]) < cut) b--;
    lo[p] = a; hi[p] = b;
    rows.push(p);
  }
  rows.sort((x, y) => lo[x] - lo[y] || hi[x] - hi[y]);
  const bandLo = lo.slice(), bandHi = hi.slice();
  const blocked = rows.length - (rows.length % 4);
  for (let g = 0; g < blocked; g += 4) {
    let a = nq, b = 0;
    for (let j = g; j < g + 4; j++) { a = Math.min(a, lo[rows[j]]); b = Math.max(b, hi[rows[j]]); }
    for (let j = g; j < g + 4; j++) { lo[rows[j]] = a; hi[rows[j]] = b; }
  }
  return { order: Int32Array.from(rows), blocked, lo, hi, bandLo, bandHi };
}

/**
 * The same contraction, C[p, l] = sum_q M[p, q] K[l, q], exploiting that most kernel products live on a
 * narrow band of nodes (two clustering bins overlap only where both n(z) do): the rows are summed by their
 * contraction plan (contractionPlan, computed here unless given), 4 rows x 4 multipoles at a time over the
 * union of the 4 rows' bands. All-zero rows give 0.
 */
export function bandedProducts(M: Float64Array, nRows: number, K: Float64Array, nl: number, nq: number, out?: Float64Array, plan?: ContractionPlan): Float64Array {
  const C = out ?? new Float64Array(nRows * nl);
  const { order, blocked, lo, hi } = plan ?? contractionPlan(M, nRows, nq);
  if (order.length < nRows) for (let p = 0; p < nRows; p++) if (hi[p] === 0) C.fill(0, p * nl, (p + 1) * nl);
  let g = 0;
  for (; g < blocked; g += 4) {
    const r0 = order[g], r1 = order[g + 1], r2 = order[g + 2], r3 = order[g + 3];
    const a = lo[r0], b = hi[r0];
    const m0 = r0 * nq, m1 = r1 * nq, m2 = r2 * nq, m3 = r3 * nq;
    let l = 0;
    // 4 rows x 4 multipoles: 16 accumulators, 8 loads per 16 multiply-adds
    for (; l + 4 <= nl; l += 4) {
      const k0 = l * nq, k1 = k0 + nq, k2 = k1 + nq, k3 = k2 + nq;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
      let c0 = 0, c1 = 0, c2 = 0, c3 = 0, d0 = 0, d1 = 0, d2 = 0, d3 = 0;
      for (let q = a; q < b; q++) {
        const u0 = K[k0 + q], u1 = K[k1 + q], u2 = K[k2 + q], u3 = K[k3 + q];
        let x = M[m0 + q]; a0 += x * u0; a1 += x * u1; a2 += x * u2; a3 += x * u3;
        x = M[m1 + q]; b0 += x * u0; b1 += x * u1; b2 += x * u2; b3 += x * u3;
        x = M[m2 + q]; c0 += x * u0; c1 += x * u1; c2 += x * u2; c3 += x * u3;
        x = M[m3 + q]; d0 += x * u0; d1 += x * u1; d2 += x * u2; d3 += x * u3;
      }
      let o = r0 * nl + l; C[o] = a0; C[o + 1] = a1; C[o + 2] = a2; C[o + 3] = a3;
      o = r1 * nl + l; C[o] = b0; C[o + 1] = b1; C[o + 2] = b2; C[o + 3] = b3;
      o = r2 * nl + l; C[o] = c0; C[o + 1] = c1; C[o + 2] = c2; C[o + 3] = c3;
      o = r3 * nl + l; C[o] = d0; C[o + 1] = d1; C[o + 2] = d2; C[o + 3] = d3;
    }
    for (; l < nl; l++) {
      const k0 = l * nq;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let q = a; q < b; q++) {
        const u = K[k0 + q];
        s0 += M[m0 + q] * u; s1 += M[m1 + q] * u; s2 += M[m2 + q] * u; s3 += M[m3 + q] * u;
      }
      C[r0 * nl + l] = s0; C[r1 * nl + l] = s1; C[r2 * nl + l] = s2; C[r3 * nl + l] = s3;
    }
  }
  for (; g < order.length; g++) {
    const r = order[g], a = lo[r], b = hi[r], mo = r * nq;
    for (let l = 0; l < nl; l++) {
      let s = 0;
      for (let q = a, ko = l * nq; q < b; q++) s += M[mo + q] * K[ko + q];
      C[r * nl + l] = s;
    }
  }
  return C;
}

// ---------------------------------------------------------------------------------------------------------
// Reverse mode: the transposes of the steps above (vector-Jacobian products), in reverse order of the equation

/**
 * Transpose of bandedProducts, C[p, l] = sum_{q in band(p)} M[p, q] K[l, q]: given Cbar (nRows*nl),
 *   Mbar[p, q] += sum_l Cbar[p, l] K[l, q]   over the row's own band (where forward-mode tangents dM live: the
 *                                            kernel products' bar stays zero where M itself is below 1e-14 of its
 *                                            row), 4 multipoles per pass: one store per 4 multiply-adds;
 *   Kbar[l, q] += sum_p Cbar[p, l] M[p, q]   by the forward's blocks of 4 rows, over their common band.
 * Zero entries of Cbar (multipoles beyond a likelihood's l_max) are skipped.
 */
export function bandedProductsAdjoint(
  M: Float64Array, nRows: number, K: Float64Array, nl: number, nq: number, plan: ContractionPlan,
  Cbar: Float64Array, Mbar: Float64Array, Kbar: Float64Array,
): void {
  const { order, blocked, lo, hi, bandLo, bandHi } = plan;
  for (let g = 0; g < order.length; g++) {
    const p = order[g], a = bandLo[p], b = bandHi[p], mo = p * nq, co = p * nl;
    let l = 0;
    for (; l + 4 <= nl; l += 4) {
      const c0 = Cbar[co + l], c1 = Cbar[co + l + 1], c2 = Cbar[co + l + 2], c3 = Cbar[co + l + 3];
      if (c0 === 0 && c1 === 0 && c2 === 0 && c3 === 0) continue;
      const k0 = l * nq, k1 = k0 + nq, k2 = k1 + nq, k3 = k2 + nq;
      for (let q = a; q < b; q++) Mbar[mo + q] += c0 * K[k0 + q] + c1 * K[k1 + q] + c2 * K[k2 + q] + c3 * K[k3 + q];
    }
    for (; l < nl; l++) {
      const c = Cbar[co + l];
      if (c === 0) continue;
      for (let q = a, ko = l * nq; q < b; q++) Mbar[mo + q] += c * K[ko + q];
    }
  }
  let g = 0;
  for (; g < blocked; g += 4) {
    const r0 = order[g], r1 = order[g + 1], r2 = order[g + 2], r3 = order[g + 3];
    const a = lo[r0], b = hi[r0];
    const m0 = r0 * nq, m1 = r1 * nq, m2 = r2 * nq, m3 = r3 * nq;
    for (let l = 0; l < nl; l++) {
      const c0 = Cbar[r0 * nl + l], c1 = Cbar[r1 * nl + l], c2 = Cbar[r2 * nl + l], c3 = Cbar[r3 * nl + l];
      if (c0 === 0 && c1 === 0 && c2 === 0 && c3 === 0) continue;
      const ko = l * nq;
      for (let q = a; q < b; q++) Kbar[ko + q] += c0 * M[m0 + q] + c1 * M[m1 + q] + c2 * M[m2 + q] + c3 * M[m3 + q];
    }
  }
  for (; g < order.length; g++) {
    const p = order[g], a = lo[p], b = hi[p], mo = p * nq;
    for (let l = 0; l < nl; l++) {
      const c = Cbar[p * nl + l];
      if (c === 0) continue;
      for (let q = a, ko = l * nq; q < b; q++) Kbar[ko + q] += c * M[mo + q];
    }
  }
}

/**
 * Transpose of limberWeights with respect to ln P at the nodes, H and chi (values of the forward inputs;
 * Kbar nl*nq): with K = w/(H chi^2) P((l+1/2)/chi) T(k), k = (l+1/2)/chi, and ln P the cubic of node q's
 * row in ln k (basis weights a, b, c_a, c_b of the forward query, second derivatives m = M_lnk ln P),
 *   lnPbar[q, i..] += Kbar K (a, b) + M_lnk^T (Kbar K (c_a, c_b)),
 *   Hbar[q]   += -Kbar K / H,
 *   chibar[q] += Kbar [K (-2 - dlnP/dlnk) - P w/(H chi^2) dT/dlnk] / chi
 * (the same terms as the forward tangent dK/K = -dH/H - 2 dchi/chi + dlnP - (dlnP/dlnk) dchi/chi, transposed).
 */
export function limberWeightsAdjoint(
  ell: Float64Array, k: Float64Array, lnPq: Float64Array, zW: Float64Array, H: Float64Array, chi: Float64Array,
  kMin: number, kMax: number, Kbar: Float64Array,
): { lnPqBar: Float64Array; Hbar: Float64Array; chiBar: Float64Array } {
  const nl = ell.length, nq = zW.length, nk = k.length;
  const lnk = new Float64Array(nk);
  for (let i = 0; i < nk; i++) lnk[i] = Math.log(k[i]);
  const lnkMin = Math.log(kMin), lnkMax = Math.log(kMax);
  const fk = splineFactor(lnk, 'not-a-knot');
  // the forward's moments of every node's row, and the bars of rows and moments (node-major, like lnPq)
  const m = scratch(3, nq * nk);
  solveSecondDerivsMany(fk, lnPq, 0, nq, 1, nk, m, 0);
  const lnPqBar = new Float64Array(nq * nk), mbar = scratch(4, nq * nk).fill(0);
  const Hbar = new Float64Array(nq), chiBar = new Float64Array(nq);
  const lnEll = Float64Array.from(ell, (l) => Math.log(l + 0.5));
  const flatLo = lnkMin + Math.LN2, flatHi = lnkMax - Math.LN2;
  for (let q = 0; q < nq; q++) {
    let any = false;
    for (let l = 0; l < nl; l++) if (Kbar[l * nq + q] !== 0) { any = true; break; }
    if (!any) continue;
    const c = chi[q];
    const pre = zW[q] / (H[q] * c * c);
    const o = q * nk;
    const lnc = Math.log(c);
    let i = -1, hb = 0, cb = 0;
    for (let l = 0; l < nl; l++) {
      const kb = Kbar[l * nq + q];
      if (kb === 0) continue;
      const x = lnEll[l] - lnc; // ln k
      if (x <= lnkMin || x >= lnkMax) continue;
      const flat = x >= flatLo && x <= flatHi;
      const w = flat ? 1 : kTaper(x, lnkMin, lnkMax), dw = flat ? 0 : kTaperSlope(x, lnkMin, lnkMax);
      i = kInterval(lnk, x, i);
      const h = lnk[i + 1] - lnk[i]; // the basis of the forward query (NR eq. 3.3.3)
      const a = (lnk[i + 1] - x) / h, bb = 1 - a;
      const ca = ((a * a * a - a) * h * h) / 6, cbb = ((bb * bb * bb - bb) * h * h) / 6;
      const i0 = o + i, i1 = i0 + 1;
      const m0 = m[i0], m1 = m[i1];
      const lnP = a * lnPq[o + i] + bb * lnPq[o + i + 1] + ca * m0 + cbb * m1;
      const Pw = pre * Math.exp(lnP);
      const Kv = Pw * w;
      const slope = cubicSlope(lnPq[o + i], lnPq[o + i + 1], m0, m1, a, bb, h);
      const t = kb * Kv;
      lnPqBar[i0] += t * a;
      lnPqBar[i1] += t * bb;
      mbar[i0] += t * ca;
      mbar[i1] += t * cbb;
      hb -= t / H[q];
      cb += (t * (-2 - slope) - kb * Pw * dw) / c;
    }
    Hbar[q] = hb;
    chiBar[q] = cb;
  }
  // the moments' transpose, all nodes at once
  secondDerivsAdjointMany(fk, mbar, 0, nq, 1, nk, lnPqBar, 0);
  return { lnPqBar, Hbar, chiBar };
}

/**
 * Transpose of lnPowerAtNodes (values): from lnPbar at the nodes (node-major nq*nk) to the bar of the P(k, z)
 * grid (z-major, as PowerGrid.P_Mpc3): the spline in z transposed for all k at once, on the z-major layout
 * (core/ad/interp-adjoint.ts: secondDerivsAdjointColumns), then d ln P = dP / P.
 */
export function lnPowerAtNodesAdjoint(power: PowerGrid, zNodes: Float64Array, lnPqBar: Float64Array): Float64Array {
  const k = power.k_1overMpc, zGrid = power.z, Pv = power.P_Mpc3.value;
  const nk = k.length, nz = zGrid.length, nq = zNodes.length;
  const f = splineFactor(zGrid, nz >= 4 ? 'not-a-knot' : 'natural');
  const { idx, A, B, C, D } = queryGeometry(zGrid, zNodes);
  const Pbar = new Float64Array(nz * nk), mbar = scratch(1, nz * nk).fill(0);
  for (let q = 0; q < nq; q++) {
    const j = idx[q], a = A[q], b = B[q], c = C[q], d = D[q];
    const o0 = j * nk, o1 = o0 + nk, s = q * nk;
    for (let i = 0; i < nk; i++) {
      const v = lnPqBar[s + i];
      Pbar[o0 + i] += a * v;
      Pbar[o1 + i] += b * v;
      mbar[o0 + i] += c * v;
      mbar[o1 + i] += d * v;
    }
  }
  secondDerivsAdjointColumns(f, mbar, 0, nk, Pbar, 0);
  for (let i = 0; i < nz * nk; i++) Pbar[i] /= Pv[i];
  return Pbar;
}

/**
 * Interval of the ln k grid holding x, given the previous answer (-1 for none): ln k grows with l along a
 * node's row, so after one bisection the search only walks forward.
 */
export function kInterval(lnk: Float64Array, x: number, i: number): number {
  if (i < 0) return findInterval(lnk, x, 0);
  const last = lnk.length - 2;
  while (i < last && x >= lnk[i + 1]) i++;
  return i;
}

/** dS/dx of the cubic on an interval (Numerical Recipes eq. 3.3.5), from its end values and second derivatives. */
function cubicSlope(y0: number, y1: number, m0: number, m1: number, a: number, b: number, h: number): number {
  return (y1 - y0) / h + (((3 * b * b - 1) * m1 - (3 * a * a - 1) * m0) * h) / 6;
}
