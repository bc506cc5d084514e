/**
 * The 3D power spectra a spectra stage integrates over, at its quadrature nodes: which power input each
 * tracer correlates through, ln P(k_i, z_q) on every node (beyond the grid's top redshift, optionally scaled
 * with the growth factor as CCL does past its spline range), the coverage check, and the transposes.
 */
import type { DualArray } from '../../core/ad/dual-array.js';
import type { PowerGrid } from '../contracts/power.js';
import type { Tracer } from '../contracts/tracers.js';
import { lnPowerAtNodes, lnPowerAtNodesAdjoint } from './limber-sum.js';

/** What happens to nodes above the P(k, z) grid's top redshift. */
export type BeyondPower = 'error' | 'growth';

/**
 * The power input a tracer correlates through: `map[family]`, else `map[tracer.power]`, else `power` (the
 * stage's default power input). Documented in docs/spectra.md.
 */
export function powerInputOf(t: Tracer, map: Readonly<Record<string, string>>): string {
  return map[t.family] ?? map[t.power] ?? 'power';
}

/** The input names a config's power map adds to the stage's inputs (besides `power`). */
export function extraPowerInputs(map: Readonly<Record<string, string>>): string[] {
  return [...new Set(Object.values(map))].filter((n) => n !== 'power');
}

/** Check a P grid covers every (k, z) the integral needs; a clear error naming the input otherwise. */
export function checkCoverage(input: string, power: PowerGrid, zLo: number, zHi: number, kNeedLo: number, kNeedHi: number, beyond: BeyondPower): void {
  const k = power.k_1overMpc, z = power.z;
  const problems: string[] = [];
  const topShort = z[z.length - 1] < zHi - 1e-12;
  if (z[0] > zLo + 1e-12 || (topShort && beyond === 'error'))
    problems.push(`it covers z in [${z[0]}, ${z[z.length - 1]}] but the kernels extend over [${zLo}, ${zHi}]` + (topShort && beyond === 'error' ? ' (with.z_beyond_power = "growth" scales P with D(z)^2 above the grid, as CCL does)' : ''));
  if (k[0] > kNeedLo * (1 + 1e-12) || k[k.length - 1] < kNeedHi * (1 - 1e-12))
    problems.push(`it covers k in [${k[0].toExponential(3)}, ${k[k.length - 1].toExponential(3)}] 1/Mpc but the Limber integral needs [${kNeedLo.toExponential(3)}, ${kNeedHi.toExponential(3)}] 1/Mpc`);
  if (problems.length)
    throw new Error(`the P(k, z) grid of input "${input}" (${power.source}) does not cover the integral: ${problems.join('; ')}. Extend the power stage's k/z grid, or narrow with.k_min_1overMpc / with.k_max_1overMpc / with.ell`);
}

/** Nodes clamped to the grid's top redshift, and the index of the first node above it (nq if none). */
export function clampToGrid(power: PowerGrid, zq: Float64Array): { zc: Float64Array; first: number; zTop: number } {
  const zTop = power.z[power.z.length - 1];
  let first = zq.length;
  for (let q = 0; q < zq.length; q++) if (zq[q] > zTop) { first = q; break; }
  if (first === zq.length) return { zc: zq, first, zTop };
  const zc = Float64Array.from(zq, (z) => Math.min(z, zTop));
  return { zc, first, zTop };
}

/**
 * ln P on the nodes (node-major nq*nk, with tangents); nodes above the grid's top z_top get
 *   ln P(k, z) = ln P(k, z_top) + 2 ln(D(z) / D(z_top)),
 * with D (and its tangents) at the nodes, `D` (nq) and at z_top, `Dtop` (a 1-node sample). `liveBlocks`: the
 * non-zero tangent blocks of the P grid, when the caller has them (else they are found by a scan).
 */
export function lnPowerBeyond(power: PowerGrid, zq: Float64Array, D: DualArray, Dtop: DualArray, liveBlocks?: readonly number[]): DualArray {
  const { zc, first } = clampToGrid(power, zq);
  const out = lnPowerAtNodes(power, zc, liveBlocks);
  if (first === zq.length) return out;
  const nk = power.k_1overMpc.length, nq = zq.length;
  const dt = Dtop.value[0];
  const NP = Math.max(out.tangent ? out.P : 0, D.tangent ? D.P : 0);
  let tangent = out.tangent;
  if (NP && !tangent) tangent = new Float64Array(NP * nq * nk);
  for (let q = first; q < nq; q++) {
    const s = 2 * Math.log(D.value[q] / dt);
    for (let i = 0; i < nk; i++) out.value[q * nk + i] += s;
    if (!tangent || !D.tangent) continue;
    for (let p = 0; p < NP; p++) {
      const ds = 2 * (D.tangent[p * nq + q] / D.value[q] - (Dtop.tangent ? Dtop.tangent[p] / dt : 0));
      if (ds === 0) continue;
      const o = (p * nq + q) * nk;
      for (let i = 0; i < nk; i++) tangent[o + i] += ds;
    }
  }
  return { value: out.value, tangent, P: tangent ? NP : 0 };
}

/**
 * Transpose of lnPowerBeyond: the bar of the P grid, and the bars of D at the nodes and at z_top (zero when
 * no node lies above the grid).
 */
export function lnPowerBeyondAdjoint(power: PowerGrid, zq: Float64Array, lnPqBar: Float64Array, Dnodes: Float64Array, Dtop: number): { Pbar: Float64Array; Dbar: Float64Array; DtopBar: number } {
  const { zc, first } = clampToGrid(power, zq);
  const Pbar = lnPowerAtNodesAdjoint(power, zc, lnPqBar);
  const nk = power.k_1overMpc.length, nq = zq.length;
  const Dbar = new Float64Array(nq);
  let DtopBar = 0;
  for (let q = first; q < nq; q++) {
    let s = 0;
    for (let i = 0; i < nk; i++) s += lnPqBar[q * nk + i];
    Dbar[q] += (2 * s) / Dnodes[q];
    DtopBar -= (2 * s) / Dtop;
  }
  return { Pbar, Dbar, DtopBar };
}

/**
 * The cross weight of two groups' Limber weights, K_ab = sqrt(K_a K_b) (the geometric mean of the two spectra:
 * exact for P_ab^2 = P_a P_b, e.g. tracers of one field; an approximation for P_m x P_cb, docs/spectra.md).
 */
export function geometricMean(a: DualArray, b: DualArray): DualArray {
  const n = a.value.length;
  const value = new Float64Array(n);
  for (let i = 0; i < n; i++) value[i] = Math.sqrt(a.value[i] * b.value[i]);
  const P = Math.max(a.tangent ? a.P : 0, b.tangent ? b.P : 0);
  if (!P) return { value, tangent: null, P: 0 };
  const tangent = new Float64Array(P * n);
  for (let p = 0; p < P; p++)
    for (let i = 0; i < n; i++) {
      const v = value[i];
      if (v === 0) continue;
      const da = a.tangent ? a.tangent[p * n + i] / a.value[i] : 0, db = b.tangent ? b.tangent[p * n + i] / b.value[i] : 0;
      tangent[p * n + i] = 0.5 * v * (da + db);
    }
  return { value, tangent, P };
}
