/**
 * `npm run build && node dist/test/bench/cholesky.bench.js`: time per call of the per-multipole Cholesky
 * factor of a 20 x 20 SPD matrix (the main job's largest C_l + N_l block: 10 lensing + 10 clustering
 * tracers), ours (core/numerics/cholesky.ts, in place on a row-major Float64Array) against ml-matrix's
 * CholeskyDecomposition, warm, in one process. ml-matrix is timed twice: from a Matrix built beforehand
 * (its best case) and with the conversions the likelihood would need (Float64Array -> Matrix, and the factor
 * back to a Float64Array for the triangular solves). Last line: `RESULT cholesky_mlmatrix_over_ours <ratio>`.
 */
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { cholesky } from '../../core/numerics/cholesky.js';

const n = 20;
// a random SPD matrix: A = B B^T + n I (deterministic LCG)
let seed = 12345;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
const B = Float64Array.from({ length: n * n }, rnd);
const A = new Float64Array(n * n);
for (let i = 0; i < n; i++)
  for (let j = 0; j < n; j++) {
    let s = i === j ? n : 0;
    for (let k = 0; k < n; k++) s += B[i * n + k] * B[j * n + k];
    A[i * n + j] = s;
  }
const A2d = Array.from({ length: n }, (_, i) => Array.from(A.subarray(i * n, (i + 1) * n)));
const Am = new Matrix(A2d);

let sink = 0;
const work = new Float64Array(n * n);
const cases: [string, () => void][] = [
  ['ours (copy + in-place factor)', () => { work.set(A); cholesky(work, n); sink += work[n * n - 1]; }],
  ['ml-matrix (from a Matrix)', () => { sink += new CholeskyDecomposition(Am).lowerTriangularMatrix.get(n - 1, n - 1); }],
  ['ml-matrix (Float64Array in and out)', () => {
    const m = new Matrix(n, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m.set(i, j, A[i * n + j]);
    const L = new CholeskyDecomposition(m).lowerTriangularMatrix;
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) work[i * n + j] = L.get(i, j);
    sink += work[n * n - 1];
  }],
];

// agreement first
work.set(A); cholesky(work, n);
const Lm = new CholeskyDecomposition(Am).lowerTriangularMatrix;
let diff = 0;
for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) diff = Math.max(diff, Math.abs(work[i * n + j] - Lm.get(i, j)) / Math.abs(work[i * n + i]));
console.log(`n = ${n}: factors agree to ${diff.toExponential(1)} (relative to the diagonal)`);

const reps = 100_000;
for (const [, f] of cases) for (let r = 0; r < 20_000; r++) f(); // warm-up (JIT)
// rounds interleaved across the cases (the cores are shared: load changes during a run), best of 9
const perCall = cases.map(() => Infinity);
for (let round = 0; round < 9; round++)
  cases.forEach(([, f], c) => {
    const t = process.hrtime.bigint();
    for (let r = 0; r < reps; r++) f();
    perCall[c] = Math.min(perCall[c], Number(process.hrtime.bigint() - t) / reps);
  });
cases.forEach(([name], c) => console.log(`${name.padEnd(38)} ${(perCall[c] / 1000).toFixed(3)} us per call (best of 9 x ${reps})`));
if (!Number.isFinite(sink)) console.log('sink', sink);
console.log(`RESULT cholesky_mlmatrix_over_ours ${(perCall[1] / perCall[0]).toFixed(2)}`);
