/**
 * ODE solver benchmark: per method and problem, accepted steps, rejections, RHS evaluations, Jacobians,
 * LU factorizations, wall time and the error against the reference (IVP test set) or exact solution.
 * A plain script: `npm run bench:ode` (tsc, then node dist/test/bench/ode.bench.js). Where python3 with scipy is
 * present, the same stiff problems are solved in the same run by scipy's BDF, Radau and LSODA (test/bench/ode_scipy.py,
 * Python right-hand sides with their Jacobians, as a scipy user writes them), and the last line is
 *   RESULT ode_speedup_vs_scipy <min over stiff problems of: for each scipy run, its time over the fastest cosmodag
 *                               run (rosenbrock, bdf, ndf, auto, any rtol) whose error is equal or smaller; the
 *                               smallest such ratio of the problem>
 * (NaN with a note when scipy is missing). The comparison is one at matched accuracy, as a work-precision diagram
 * reads: scipy's runs are the reference points, and cosmodag's methods run on a finer ladder of tolerances (half the
 * table's points would otherwise be compared with a cosmodag run up to 30x more accurate than needed, and so slower).
 * Options:
 *   --rtol 1e-6,1e-8     tolerances of scipy's runs (default 1e-4,1e-6,1e-8)
 *   --ours-rtol ...      tolerances of cosmodag's runs (default every decade from 1e-4 to 1e-10)
 *   --repeat N           timing repetitions, the best is reported (default 3)
 */
import {
  createAuto,
  createBdf,
  createRosenbrock,
  createTsit5,
  type OdeSolver,
} from '../../core/numerics/ode/index.js';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { forcedLinear, hires, kepler, orego, rober, rotation, vdp, type TestProblem } from '../core/numerics/ode/problems.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const rtols = arg('rtol', '1e-4,1e-6,1e-8').split(',').map(Number);
const oursRtols = arg('ours-rtol', '1e-4,1e-5,1e-6,1e-7,1e-8,1e-9,1e-10').split(',').map(Number);
const repeat = Math.max(1, Number(arg('repeat', '3')));

const methods: [string, () => OdeSolver][] = [
  ['tsit5', () => createTsit5()],
  ['rosenbrock', () => createRosenbrock()],
  ['bdf', () => createBdf()],
  ['ndf', () => createBdf({ formula: 'ndf' })],
  ['auto', () => createAuto()],
];
const stiff = new Set(['ROBER', 'HIRES', 'VDP(mu=1e3)', 'OREGO']);
const problems: TestProblem[] = [rober(), hires(), vdp(), orego(), rotation(), forcedLinear(), kepler(0.5)];

interface Row {
  problem: string;
  method: string;
  used: string;
  rtol: number;
  steps: number;
  rejections: number;
  rhs: number;
  jac: number;
  lu: number;
  ms: number;
  err: number;
  note: string;
}

function main(): void {
  const rows: Row[] = [];
  for (const tp of problems) {
    for (const [name, make] of methods) {
      if (name === 'tsit5' && stiff.has(tp.name)) continue; // explicit on stiff problems: not meaningful
      for (const rtol of oursRtols) {
        const solver = make();
        const opts = { rtol, atol: tp.atol(rtol), tEval: [tp.problem.tspan[1]], dense: false, maxSteps: 1_000_000 };
        let best = Infinity;
        try {
          let sol = solver.solve(tp.problem, opts);
          for (let r = 0; r < repeat; r++) {
            const t0 = performance.now();
            sol = solver.solve(tp.problem, opts);
            best = Math.min(best, performance.now() - t0);
          }
          const y = sol.state(0);
          // stiff: max relative error per component; exact problems: max absolute error
          let err = 0;
          for (let i = 0; i < tp.yEnd.length; i++) {
            const d = Math.abs(y[i] - tp.yEnd[i]);
            err = Math.max(err, stiff.has(tp.name) ? d / Math.abs(tp.yEnd[i]) : d);
          }
          const s = sol.stats;
          rows.push({ problem: tp.name, method: name, used: sol.method, rtol, steps: s.steps, rejections: s.rejections, rhs: s.rhsEvals, jac: s.jacobians, lu: s.factorizations, ms: best, err, note: s.switchedAt !== null ? `switch t=${s.switchedAt.toPrecision(3)}` : '' });
        } catch (e) {
          rows.push({ problem: tp.name, method: name, used: '-', rtol, steps: 0, rejections: 0, rhs: 0, jac: 0, lu: 0, ms: NaN, err: NaN, note: (e as Error).message.slice(0, 60) });
        }
      }
    }
  }
  const header = ['problem', 'method', 'used', 'rtol', 'steps', 'rej', 'rhs', 'jac', 'LU', 'ms', 'error', 'err/rtol', 'note'];
  const lines = rows.map((r) => [
    r.problem, r.method, r.used, r.rtol.toExponential(0), String(r.steps), String(r.rejections), String(r.rhs), String(r.jac), String(r.lu),
    Number.isFinite(r.ms) ? r.ms.toFixed(1) : '-', Number.isFinite(r.err) ? r.err.toExponential(2) : '-', Number.isFinite(r.err) ? (r.err / r.rtol).toFixed(2) : '-', r.note,
  ]);
  const widths = header.map((h, j) => Math.max(h.length, ...lines.map((l) => l[j].length)));
  const fmt = (cells: string[]) => '| ' + cells.map((c, j) => c.padEnd(widths[j])).join(' | ') + ' |';
  console.log('error: stiff problems, max relative error per component vs the IVP test set reference; others, max absolute error vs the exact solution');
  console.log(fmt(header));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const l of lines) console.log(fmt(l));
  compareWithScipy(rows);
}

interface ScipyRow { problem: string; method: string; rtol: number; ms: number; err: number; note: string }

/** The stiff problems by scipy (same tolerances, same error measure), and the speed-up at equal or better error. */
function compareWithScipy(rows: Row[]): void {
  const cases = problems.filter((tp) => stiff.has(tp.name)).flatMap((tp) => rtols.map((rtol) => ({ problem: tp.name, rtol, atol: tp.atol(rtol) })));
  const r = spawnSync('python3', [path.join(root, 'test/bench/ode_scipy.py')], { input: JSON.stringify({ repeat, cases }), encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.error || r.status !== 0) {
    console.log(`scipy comparison skipped: ${r.error ? r.error.message : (r.stderr || '').trim().split('\n').pop()} (apt-get install python3-scipy, or pip install scipy)`);
    console.log('RESULT ode_speedup_vs_scipy NaN');
    return;
  }
  // Python's json writes NaN for a failed run's error: read it as null, then NaN
  const sci = (JSON.parse(r.stdout.replace(/\bNaN\b/g, 'null')) as ScipyRow[]).map((x) => ({ ...x, ms: x.ms ?? NaN, err: x.err ?? NaN }));
  console.log('');
  console.log('scipy (solve_ivp, Python right-hand sides with analytic Jacobians), same problems, tolerances and error measure:');
  console.log('| problem | method | rtol | ms | error | fastest cosmodag at <= that error | speed-up |');
  const perProblem = new Map<string, number>();
  for (const s of sci) {
    const ok = Number.isFinite(s.ms) && Number.isFinite(s.err) && !s.note;
    const better = rows.filter((c) => c.problem === s.problem && stiff.has(c.problem) && Number.isFinite(c.ms) && c.err <= s.err);
    const fastest = better.reduce<Row | null>((b, c) => (!b || c.ms < b.ms ? c : b), null);
    const ratio = ok && fastest ? s.ms / fastest.ms : NaN;
    if (Number.isFinite(ratio)) perProblem.set(s.problem, Math.min(perProblem.get(s.problem) ?? Infinity, ratio));
    console.log(`| ${s.problem} | ${s.method} | ${s.rtol.toExponential(0)} | ${Number.isFinite(s.ms) ? s.ms.toFixed(1) : '-'} | ${Number.isFinite(s.err) ? s.err.toExponential(2) : '-'} | ${fastest ? `${fastest.method} rtol ${fastest.rtol.toExponential(0)}: ${fastest.ms.toFixed(2)} ms, error ${fastest.err.toExponential(2)}` : (s.note || 'none as accurate')} | ${Number.isFinite(ratio) ? ratio.toFixed(1) : '-'} |`);
  }
  for (const [p, v] of perProblem) console.log(`  ${p}: smallest speed-up over scipy ${v.toFixed(1)}`);
  console.log(`RESULT ode_speedup_vs_scipy ${perProblem.size ? Math.min(...perProblem.values()).toFixed(2) : 'NaN'}`);
}

main();
