/**
 * `npm run bench:ad`: weights/3x2pt written once on the expression layer (core/ad/expr.ts) against the
 * hand-written tangents and VJP it replaced (test/support/weights-3x2pt-handwritten.ts), on the main job's
 * inputs (IST:F n(z) on its 4000-point grid, the w0wa background): values + the 19 tangents of the main job,
 * and one VJP, same process, interleaved, median of repeated runs after warm-up (one core).
 * The last line is `RESULT expression_over_handwritten <(fwd + vjp) expression / (fwd + vjp) hand-written>`.
 */
import { THREE_BY_TWO_DEFAULTS, threeByTwoKernels, threeByTwoKernelsAdjoint } from '../../plugins/weights/3x2pt.js';
import { kernelInputs } from '../support/weights-inputs.js';
import { threeByTwoKernelsAdjointHandwritten, threeByTwoKernelsHandwritten } from '../support/weights-3x2pt-handwritten.js';

const repeats = Number(process.env.BENCH_REPEATS ?? 41);
const median = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)];
const vary = ['Omega_m', 'Omega_b', 'w0', 'wa', 'h', 'n_s', 'sigma8', 'A_IA', 'eta_IA', ...Array.from({ length: 10 }, (_, i) => `b_${i + 1}`)];
const P = vary.length;
const params = { Omega_m: 0.32, Omega_b: 0.05, w0: -1, wa: 0, h: 0.67, n_s: 0.96, sigma8: 0.816 };

const { nz, bg, par, vals, pv } = kernelInputs(vary, params, (i) => Math.sqrt(1 + THREE_BY_TWO_DEFAULTS.zbar[i]), () => 0);
const ref = threeByTwoKernels(nz, bg, par, THREE_BY_TWO_DEFAULTS, P);
const Wbar = Float64Array.from(ref.W.value, (_, i) => Math.sin(i)), mbar = Float64Array.from(ref.multiplicative.value, (_, i) => Math.cos(i));

const impl = {
  expression: { fwd: () => threeByTwoKernels(nz, bg, par, THREE_BY_TWO_DEFAULTS, P), vjp: () => threeByTwoKernelsAdjoint(nz, vals, pv, THREE_BY_TWO_DEFAULTS, Wbar, mbar) },
  handwritten: { fwd: () => threeByTwoKernelsHandwritten(nz, bg, par, THREE_BY_TWO_DEFAULTS, P), vjp: () => threeByTwoKernelsAdjointHandwritten(nz, vals, pv, THREE_BY_TWO_DEFAULTS, Wbar, mbar) },
};
const times: Record<string, { fwd: number[]; vjp: number[] }> = { expression: { fwd: [], vjp: [] }, handwritten: { fwd: [], vjp: [] } };
for (let r = 0; r < repeats + 10; r++)
  for (const [name, f] of Object.entries(impl)) {
    let t = performance.now();
    f.fwd();
    const tf = performance.now() - t;
    t = performance.now();
    f.vjp();
    const tv = performance.now() - t;
    if (r >= 10) { times[name].fwd.push(tf); times[name].vjp.push(tv); } // the first 10 rounds warm the JIT
  }
console.log(`weights/3x2pt: ${nz.nBins} bins x 2 probes on ${nz.z.length} z nodes, ${P} tangent directions; median of ${repeats} after warm-up (ms)`);
const total: Record<string, number> = {};
for (const [name, t] of Object.entries(times)) {
  const f = median(t.fwd), v = median(t.vjp);
  total[name] = f + v;
  console.log(`  ${name.padEnd(12)} values + ${P} tangents ${f.toFixed(2)}   vjp ${v.toFixed(2)}   total ${(f + v).toFixed(2)}`);
}
console.log(`RESULT expression_over_handwritten ${(total.expression / total.handwritten).toFixed(2)}`);
