/**
 * `npm run bench:nonlimber`: the N5K challenge's 120 spectra at its 103 multipoles (pipelines/n5k.json) per sampler
 * step: the spectra stage from kernels, P(k, z) tables and background already in hand (what a sampler pays once the
 * cosmology has changed), one thread, median of repeated runs, with the non-Limber correction (FKEM + FFTLog below
 * l_switch) and, in the same process, pure Limber on the same inputs. The accuracy of the timed output is the N5K
 * metric (test/support/n5k-metric.ts). Last line: `RESULT n5k_seconds <median>`.
 *
 * Excluded from the per-step time (set-up that does not depend on cosmology, done once by a first, untimed call and
 * reported separately): the FFTLog Mellin factors M_l(s) of the spherical Bessel functions for the multipole set
 * (core/numerics/fftlog.ts, cached by (N, D, nu, l, p)) and the FFT plans. Every other piece runs at every step:
 * the stage sees fresh input objects each time (shallow copies), so nothing it keeps by input identity (kernel
 * splines, P on the nodes) is reused.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { preparePipeline } from '../../core/cli/run-job.js';
import { executePlan } from '../../core/graph/execute.js';
import { computeLimber, type LimberConfig } from '../../plugins/spectra/limber.js';
import { createGaussLegendre } from '../../plugins/integrator/gauss-legendre.js';
import type { Spectra } from '../../plugins/contracts/spectra.js';
import { n5kDeltaChi2, readN5kBenchmark } from '../support/n5k-metric.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');
const pipeline = path.join(root, 'pipelines/n5k.json');
const repeats = Math.max(5, Number(process.env.BENCH_REPEATS ?? 7));
const median = (x: number[]) => [...x].sort((a, b) => a - b)[Math.floor(x.length / 2)];

const { plan, registry } = await preparePipeline(pipeline, [], []);
const whole = await executePlan(plan, registry, {});
const st = plan.stages.get('cl')!;
const inputs = () => ({
  tracers: [{ ...(whole.outputs.get('kernels') as object) }], power: { ...(whole.outputs.get('power') as object) },
  linear: { ...(whole.outputs.get('linear') as object) }, background: { ...(whole.outputs.get('background') as object) },
}) as unknown as Parameters<typeof computeLimber>[0];
const integrator = createGaussLegendre(st.methods.integrator.config);
const withCorrection = st.config as unknown as LimberConfig;
const limberOnly: LimberConfig = { ...withCorrection, non_limber: false };

const t0 = performance.now();
computeLimber(inputs(), withCorrection, integrator);
const cold = (performance.now() - t0) / 1000;
// JIT warm-up (a sampler is past it after its first few steps): untimed
for (let r = 0; r < 5; r++) { computeLimber(inputs(), withCorrection, integrator); computeLimber(inputs(), limberOnly, integrator); }

// interleaved, so that both see the same machine load; wall time (the figure) and this process's CPU time
const tNL: number[] = [], tL: number[] = [], cNL: number[] = [], cL: number[] = [];
let s: Spectra | undefined, sL: Spectra | undefined;
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
for (let r = 0; r < repeats; r++) {
  let t = performance.now(), c = cpu();
  s = computeLimber(inputs(), withCorrection, integrator);
  tNL.push((performance.now() - t) / 1000); cNL.push(cpu() - c);
  t = performance.now(); c = cpu();
  sL = computeLimber(inputs(), limberOnly, integrator);
  tL.push((performance.now() - t) / 1000); cL.push(cpu() - c);
}
const bm = readN5kBenchmark();
const byName = (x: Spectra) => new Map(x.pairNames.map((n, p) => [n, x.C.value.subarray(p * x.ell.length, (p + 1) * x.ell.length)]));
const nl = s!.settings.non_limber as { l_switch: number; multipoles_corrected: number; fft_length: number; dlnchi: number };
const med = median(tNL), medL = median(tL);
console.log(`N5K: ${s!.pairNames.length} spectra x ${s!.ell.length} multipoles (l = ${s!.ell[0]}..${s!.ell[s!.ell.length - 1]}), ${String(s!.settings.z_nodes)} z nodes (Limber), ` +
  `non-Limber below l_switch = ${nl.l_switch} (${nl.multipoles_corrected} multipoles, FFT length ${nl.fft_length}, dln chi = ${nl.dlnchi})`);
console.log(`one thread (Node ${process.version}), ${repeats} runs each, interleaved; load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} on ${os.cpus().length} cores`);
console.log(`Limber + non-Limber: median ${med.toFixed(4)} s (min ${Math.min(...tNL).toFixed(4)}, max ${Math.max(...tNL).toFixed(4)}); Delta chi^2 ${n5kDeltaChi2(bm, byName(s!), 200).toFixed(4)} at l <= 200, ${n5kDeltaChi2(bm, byName(s!)).toFixed(4)} over all`);
console.log(`pure Limber:         median ${medL.toFixed(4)} s (min ${Math.min(...tL).toFixed(4)}, max ${Math.max(...tL).toFixed(4)}); Delta chi^2 ${n5kDeltaChi2(bm, byName(sL!), 200).toFixed(3)} at l <= 200, ${n5kDeltaChi2(bm, byName(sL!)).toFixed(3)} over all`);
console.log(`CPU time of this process per step (less sensitive to other processes): median ${median(cNL).toFixed(4)} s with the correction, ${median(cL).toFixed(4)} s pure Limber`);
console.log(`ratio to pure Limber: ${(med / medL).toFixed(2)} (wall), ${(median(cNL) / median(cL)).toFixed(2)} (CPU); the correction alone ~${(med - medL).toFixed(4)} s`);
console.log(`excluded set-up (cosmology-independent: Bessel Mellin tables for the multipoles, FFT plans; then 5 untimed JIT warm-up steps): first call ${cold.toFixed(3)} s`);
console.log('reference (../shared issue 16): CCL 3.3.3 FKEM on one core here, 2.7 s (passes at l <= 200 only), 6.5 s passing over all multipoles');
console.log(`RESULT n5k_seconds ${med.toFixed(4)}`);
