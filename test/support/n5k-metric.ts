/**
 * The N5K challenge's accuracy metric, implemented from ../shared/reference/n5k/README.md ("How entries were judged"):
 *
 *   Delta chi^2 = sum_l f_sky N_modes(l) Tr[(dC_l C~_l^-1)^2],   C~_l = benchmark + noise,
 *
 * with the 15 tracers (10 clustering G_0..G_9, 5 shear S_0..S_4) as one 15 x 15 matrix per multipole; f_sky = 0.4;
 * N_modes(l_i) = (l_{i+1}^2 - l_i^2)/2 between consecutive challenge multipoles, the last one extrapolated
 * geometrically (l_{n+1} = l_n^2 / l_{n-1}); noise 1/n_i (clustering) and 0.28^2/n_i (shear) on the auto-spectra,
 * n_i = 40 resp. 27 galaxies per arcmin^2 shared among the bins in proportion to the integrals of their dN/dz
 * (trapezoid rule on the table's grid). Our spectra are named LL_i_j (shear), GL_i_j (clustering i x shear j), GG_i_j,
 * 1-based; the benchmark's SS_i_j, GS_i_j, GG_i_j, 0-based.
 */
import fs from 'node:fs';
import path from 'node:path';

export const N5K_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), here().includes(`${path.sep}dist${path.sep}`) ? '../../../../shared/reference/n5k' : '../../../shared/reference/n5k');
function here(): string {
  return path.dirname(new URL(import.meta.url).pathname);
}

const NG = 10, NS = 5, NT = NG + NS, FSKY = 0.4, SIGMA_E = 0.28;
const ARCMIN2_PER_SR = (180 * 60 / Math.PI) ** 2;

function readTsv(file: string): { head: string[]; rows: number[][] } {
  const lines = fs.readFileSync(path.join(N5K_DIR, file), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  return { head: lines[0].split('\t'), rows: lines.slice(1).map((l) => l.split('\t').map(Number)) };
}

export interface N5kBenchmark {
  ell: number[];
  /** Benchmark spectra by the benchmark's names (GG_i_j, GS_i_j, SS_i_j, 0-based). */
  cl: Map<string, number[]>;
  /** Noise of the 15 auto-spectra [sr] (G_0..G_9, S_0..S_4). */
  noise: number[];
}

export function readN5kBenchmark(): N5kBenchmark {
  const b = readTsv('benchmark_cl_fullwidth.tsv');
  const cl = new Map<string, number[]>();
  b.head.slice(1).forEach((h, j) => cl.set(h, b.rows.map((r) => r[j + 1])));
  const d = readTsv('dndz_fullwidth.tsv');
  const z = d.rows.map((r) => r[0]);
  const integral = (col: number) => {
    let s = 0;
    for (let i = 1; i < z.length; i++) s += 0.5 * (z[i] - z[i - 1]) * (d.rows[i][col] + d.rows[i - 1][col]);
    return s;
  };
  const cols = (prefix: string) => d.head.map((h, j) => [h, j] as const).filter(([h]) => h.startsWith(prefix)).map(([, j]) => integral(j));
  const ic = cols('dNdz_cl_'), is = cols('dNdz_sh_');
  const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
  const nc = ic.map((v) => (v / sum(ic)) * 40 * ARCMIN2_PER_SR), ns = is.map((v) => (v / sum(is)) * 27 * ARCMIN2_PER_SR);
  return { ell: b.rows.map((r) => r[0]), cl, noise: [...nc.map((n) => 1 / n), ...ns.map((n) => (SIGMA_E * SIGMA_E) / n)] };
}

/** Our pair name (LL_i_j, GL_i_j, GG_i_j; 1-based) -> the benchmark's (SS, GS, GG; 0-based), and tracer indices 0..14. */
export function benchmarkName(ours: string): { name: string; a: number; b: number } {
  const [t, i, j] = ours.split('_');
  const x = Number(i) - 1, y = Number(j) - 1;
  if (t === 'GG') return { name: `GG_${x}_${y}`, a: x, b: y };
  if (t === 'GL') return { name: `GS_${x}_${y}`, a: x, b: NG + y };
  if (t === 'LL') return { name: `SS_${x}_${y}`, a: NG + x, b: NG + y };
  throw new Error(`not an N5K spectrum: ${ours}`);
}

/** Inverse of a small symmetric positive-definite matrix (Gauss-Jordan with partial pivoting), row-major. */
function inverse(A: Float64Array, n: number): Float64Array {
  const M = new Float64Array(n * 2 * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) M[i * 2 * n + j] = A[i * n + j];
    M[i * 2 * n + n + i] = 1;
  }
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r * 2 * n + c]) > Math.abs(M[p * 2 * n + c])) p = r;
    if (p !== c) for (let j = 0; j < 2 * n; j++) { const t = M[c * 2 * n + j]; M[c * 2 * n + j] = M[p * 2 * n + j]; M[p * 2 * n + j] = t; }
    const d = M[c * 2 * n + c];
    for (let j = 0; j < 2 * n; j++) M[c * 2 * n + j] /= d;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = M[r * 2 * n + c];
      if (f !== 0) for (let j = 0; j < 2 * n; j++) M[r * 2 * n + j] -= f * M[c * 2 * n + j];
    }
  }
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = M[i * 2 * n + n + j];
  return out;
}

/**
 * Delta chi^2 per multipole of spectra `ours` (pair name -> values at the benchmark's multipoles) against the
 * benchmark. Every one of the 120 spectra must be present.
 */
export function n5kDeltaChi2PerEll(bm: N5kBenchmark, ours: Map<string, ArrayLike<number>>): number[] {
  const nl = bm.ell.length;
  const nmodes = bm.ell.map((l, i) => {
    const next = i + 1 < nl ? bm.ell[i + 1] : (l * l) / bm.ell[i - 1];
    return (FSKY * (next * next - l * l)) / 2;
  });
  const pairs = [...ours.keys()].map((n) => ({ ours: n, ...benchmarkName(n) }));
  if (pairs.length !== 120) throw new Error(`expected the 120 N5K spectra, got ${pairs.length}`);
  const out: number[] = [];
  for (let l = 0; l < nl; l++) {
    const C = new Float64Array(NT * NT), D = new Float64Array(NT * NT);
    for (const p of pairs) {
      const ref = bm.cl.get(p.name);
      if (!ref) throw new Error(`the benchmark has no ${p.name}`);
      const d = ours.get(p.ours)![l] - ref[l];
      C[p.a * NT + p.b] = C[p.b * NT + p.a] = ref[l];
      D[p.a * NT + p.b] = D[p.b * NT + p.a] = d;
    }
    for (let i = 0; i < NT; i++) C[i * NT + i] += bm.noise[i];
    const Ci = inverse(C, NT);
    // X = dC C~^-1; Tr[X X]
    const X = new Float64Array(NT * NT);
    for (let i = 0; i < NT; i++) for (let k = 0; k < NT; k++) { const v = D[i * NT + k]; if (v !== 0) for (let j = 0; j < NT; j++) X[i * NT + j] += v * Ci[k * NT + j]; }
    let tr = 0;
    for (let i = 0; i < NT; i++) for (let j = 0; j < NT; j++) tr += X[i * NT + j] * X[j * NT + i];
    out.push(nmodes[l] * tr);
  }
  return out;
}

/** Delta chi^2 summed over the multipoles l <= lMax (all by default). */
export function n5kDeltaChi2(bm: N5kBenchmark, ours: Map<string, ArrayLike<number>>, lMax = Infinity): number {
  return n5kDeltaChi2PerEll(bm, ours).reduce((s, v, i) => s + (bm.ell[i] <= lMax ? v : 0), 0);
}
