/**
 * `npm run bench:gradient`: the cost of one gradient of ln L (pipelines/euclid-3x2pt-likelihood.json, data =
 * the fiducial model, parameters shifted from it) by reverse mode and by forward AD, with 7, 20 and 40 varied
 * parameters (cosmology; + IA, biases, Omega_k; + shear biases m_i and photo-z shifts dz_i), each relative to
 * one plain evaluation of ln L (no derivatives). Every run starts from a cold memo store; times are medians of
 * REPEATS runs after a warm-up (JIT). A separate line: the same likelihood with our own linear P(k)
 * (recombination/recfast + linear-power/boltzmann in place of Eisenstein-Hu; the coarse request of
 * test/plugins/reverse/boltzmann-harness.ts: modes to 1 /Mpc, rtol 1e-10; 8 varied parameters, N_eff among them),
 * reverse mode (no forward boundary: recfast and the Boltzmann stage run their vjps) and forward AD, each relative
 * to one plain evaluation of that pipeline. Last line: `RESULT reverse_gradient_cost_ratio_40 <reverse / plain, 40>`
 * (the Eisenstein-Hu job).
 */
import { executePlan } from '../../core/graph/execute.js';
import { MemoryStore } from '../../core/cache/store.js';
import type { GaussianLikelihoodResult } from '../../plugins/likelihood/gaussian.js';
import { SHIFTED, SHIFTED_NUISANCE, fiducialData, likelihoodPipeline, noPlot, preparePipeline, variedSets } from '../plugins/reverse/harness.js';
import { BOLTZMANN_SHIFTED, BOLTZMANN_VARY, boltzmannFiducialData, boltzmannLikelihoodSets } from '../plugins/reverse/boltzmann-harness.js';

const REPEATS = Number(process.env.REPEATS ?? 5);
const data = await fiducialData();
const base = [...noPlot, `stages.like.with.data=${JSON.stringify(data)}`];

async function plan(count: 0 | 7 | 20 | 40, differentiator: string) {
  // count 0: the 40-parameter point with nothing varied (a plain evaluation of ln L)
  // the same point for every count: the nuisance shifts after the vary flags
  const sets = [...base, ...variedSets(count === 0 ? 40 : count), ...SHIFTED_NUISANCE, `methods.differentiator=${differentiator}`];
  const p = await preparePipeline(likelihoodPipeline, SHIFTED, sets);
  if (count === 0) for (const q of p.plan.parameters.values()) q.vary = false;
  return p;
}

async function timeRuns(count: 0 | 7 | 20 | 40, differentiator: string): Promise<{ seconds: number; out: GaussianLikelihoodResult }> {
  const { plan: pl, registry } = await plan(count, differentiator);
  const times: number[] = [];
  let out!: GaussianLikelihoodResult;
  for (let r = 0; r < REPEATS; r++) {
    const t = performance.now();
    const res = await executePlan(pl, registry, { store: new MemoryStore() });
    times.push((performance.now() - t) / 1000);
    out = res.outputs.get('like') as GaussianLikelihoodResult;
  }
  times.sort((a, b) => a - b);
  return { seconds: times[Math.floor(times.length / 2)], out };
}

// warm-up: every code path once (JIT)
await timeRuns(0, '"forward-ad"');
await timeRuns(7, '"reverse-adjoint"');
await timeRuns(7, '"forward-ad"');

const plain = await timeRuns(0, '"forward-ad"');
console.log(`plain evaluation of ln L (no derivatives): ${plain.seconds.toFixed(3)} s (median of ${REPEATS}); ln L = ${plain.out.lnL.v.toFixed(4)}`);
console.log('');
console.log(`${'varied'.padStart(6)}  ${'reverse [s]'.padStart(11)}  ${'/ plain'.padStart(7)}  ${'forward [s]'.padStart(11)}  ${'/ plain'.padStart(7)}  ${'max |rev/fwd - 1|'.padStart(17)}  backward sweep [s]`);
const ratios: Record<number, number> = {};
for (const count of [7, 20, 40] as const) {
  const rev = await timeRuns(count, '"reverse-adjoint"');
  const fwd = await timeRuns(count, '"forward-ad"');
  const g = rev.out.lnL.d!, f = fwd.out.lnL.d!;
  const agree = Math.max(...Array.from(g, (x, i) => Math.abs(x / f[i] - 1)));
  const info = rev.out.settings.reverse as { backward_seconds: number; forward_boundary: string[] };
  if (info.forward_boundary.length) console.log(`  (forward mode at the boundary of: ${info.forward_boundary.join(', ')})`);
  ratios[count] = rev.seconds / plain.seconds;
  console.log(`${String(count).padStart(6)}  ${rev.seconds.toFixed(3).padStart(11)}  ${ratios[count].toFixed(2).padStart(7)}  ${fwd.seconds.toFixed(3).padStart(11)}  ${(fwd.seconds / plain.seconds).toFixed(2).padStart(7)}  ${agree.toExponential(1).padStart(17)}  ${info.backward_seconds.toFixed(3)}`);
}

// the likelihood with the Boltzmann P(k): its own plain evaluation, reverse mode and forward AD (fewer repeats: ~10 s each)
const boltzmannRepeats = Math.min(REPEATS, 3);
const boltzmannData = await boltzmannFiducialData();
async function timeBoltzmann(differentiator: string | null): Promise<{ seconds: number; out: GaussianLikelihoodResult }> {
  const sets = [...noPlot, ...variedSets(7), ...boltzmannLikelihoodSets(), `stages.like.with.data=${JSON.stringify(boltzmannData)}`,
    ...(differentiator ? [`methods.differentiator=${differentiator}`] : [])];
  const { plan: pl, registry } = await preparePipeline(likelihoodPipeline, BOLTZMANN_SHIFTED, sets);
  if (!differentiator) for (const q of pl.parameters.values()) q.vary = false;
  const times: number[] = [];
  let out!: GaussianLikelihoodResult;
  for (let r = 0; r < boltzmannRepeats; r++) {
    const t = performance.now();
    out = (await executePlan(pl, registry, { store: new MemoryStore() })).outputs.get('like') as GaussianLikelihoodResult;
    times.push((performance.now() - t) / 1000);
  }
  times.sort((a, b) => a - b);
  return { seconds: times[Math.floor(times.length / 2)], out };
}
await timeBoltzmann('"reverse-adjoint"'); // warm-up
const bPlain = await timeBoltzmann(null);
const bRev = await timeBoltzmann('"reverse-adjoint"');
const bFwd = await timeBoltzmann('"forward-ad"');
{
  const g = bRev.out.lnL.d!, f = bFwd.out.lnL.d!;
  const agree = Math.max(...Array.from(g, (x, i) => Math.abs(x / f[i] - 1)));
  const info = bRev.out.settings.reverse as { backward_seconds: number; forward_boundary: string[] };
  console.log('');
  console.log(`with the Boltzmann P(k) (recfast + linear-power/boltzmann, coarse: modes to 1 /Mpc, rtol 1e-10; ${BOLTZMANN_VARY.length} varied incl. N_eff; ` +
    `median of ${boltzmannRepeats}): plain evaluation ${bPlain.seconds.toFixed(3)} s` +
    (info.forward_boundary.length ? `; forward mode at the boundary of: ${info.forward_boundary.join(', ')}` : '; no forward boundary'));
  console.log(`${'B ' + String(BOLTZMANN_VARY.length)}`.padStart(6) + `  ${bRev.seconds.toFixed(3).padStart(11)}  ${(bRev.seconds / bPlain.seconds).toFixed(2).padStart(7)}  ` +
    `${bFwd.seconds.toFixed(3).padStart(11)}  ${(bFwd.seconds / bPlain.seconds).toFixed(2).padStart(7)}  ${agree.toExponential(1).padStart(17)}  ${info.backward_seconds.toFixed(3)}`);
}

console.log('');
console.log(`reverse-mode cost, 40 vs 7 parameters: ${(ratios[40] / ratios[7]).toFixed(2)}`);
console.log(`RESULT reverse_gradient_cost_ratio_40 ${ratios[40].toFixed(2)}`);
