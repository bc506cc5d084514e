/**
 * `npm run bench:sample`: NUTS against adaptive Metropolis on the main job's 3x2pt posterior
 * (pipelines/euclid-3x2pt-likelihood.json, 19 parameters, its uniform priors, data = the fiducial C_l), in this
 * process, one after the other, each on one core (two chains interleaved on one worker thread), each until the
 * smallest bulk ESS over the parameters reaches SAMPLE_ESS (default 100). Both start from the same Fisher
 * covariance. Prints, for the sampling phase (after warm-up) and for the whole run, ESS per likelihood evaluation
 * and ESS per second (chain-seconds: the time spent stepping the chains, summed over chains).
 *
 * Then, unless SKIP_NUTS_1000=1, the wall time for NUTS to reach a minimum bulk ESS of 1000 with two chains on two
 * worker threads (warm-up included).
 *
 * Environment: SAMPLE_ESS (300: at 100 NUTS stops after some 60 draws per chain, where the ESS estimate of an
 * anti-correlated chain is itself biased low and noisy), NUTS_WARMUP (300), METROPOLIS_WARMUP (1000), MAX_TIME (seconds per run, 7200),
 * SEED (1), SKIP_NUTS_1000, NUTS_CONFIG and METROPOLIS_CONFIG (the samplers' settings as JSON).
 *
 * Both samplers run with their defaults (NUTS: dense metric started from the Fisher covariance and refined in Stan's
 * warm-up windows, the Fisher covariance counting as metricPriorDraws = 500 draws in each window estimate; see
 * plugins/sampler/nuts.ts for why Stan's window estimate alone is not the default).
 * Metropolis keeps its defaults (its learned covariance is weighted toward the Fisher one).
 * The last line is `RESULT nuts_over_metropolis_ess_per_second <ratio>` (sampling phase).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sampleJob, type SampleJobResult } from '../../core/sampling/sample-job.js';
import { fiducialData, likelihoodPipeline, noPlot } from '../plugins/reverse/harness.js';

const ESS = Number(process.env.SAMPLE_ESS ?? 300);
const NUTS_WARMUP = Number(process.env.NUTS_WARMUP ?? 300);
const METROPOLIS_WARMUP = Number(process.env.METROPOLIS_WARMUP ?? 1000);
const MAX_TIME = Number(process.env.MAX_TIME ?? 7200);
const SEED = Number(process.env.SEED ?? 1);
const CONFIG: Record<string, Record<string, unknown>> = {
  nuts: JSON.parse(process.env.NUTS_CONFIG ?? '{}') as Record<string, unknown>,
  metropolis: JSON.parse(process.env.METROPOLIS_CONFIG ?? '{}') as Record<string, unknown>,
};

const data = await fiducialData();
const sets = [...noPlot, `stages.like.with.data=${JSON.stringify(data)}`];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-bench-sample-'));

interface Rates { minEss: number; rhat: number; evals: number; seconds: number; samplingEvals: number; samplingSeconds: number; wall: number; stopped: string }

function rates(r: SampleJobResult, wall: number): Rates {
  const minEss = Math.min(...r.summary.map((s) => s.essBulk));
  const sum = (f: (c: SampleJobResult['chains'][number]) => number) => r.chains.reduce((a, c) => a + f(c), 0);
  return {
    minEss, rhat: Math.max(...r.summary.map((s) => s.rhat)), evals: sum((c) => c.evaluations), seconds: sum((c) => c.seconds),
    samplingEvals: sum((c) => c.evaluations - c.warmupEvaluations), samplingSeconds: sum((c) => c.seconds - c.warmupSeconds), wall, stopped: r.stopped,
  };
}

async function run(sampler: string, warmup: number, untilEss: number, threads: number, chains = 2): Promise<Rates> {
  const t = performance.now();
  const r = await sampleJob({
    file: likelihoodPipeline, sets, sampler, samplerConfig: CONFIG[sampler], chains, threads, warmup, untilEss, maxTime: MAX_TIME, seed: SEED,
    out: path.join(tmp, `${sampler}-${untilEss}-${threads}`), quiet: true,
  });
  return rates(r, (performance.now() - t) / 1000);
}

const line = (name: string, x: Rates) => {
  const f = (v: number, d = 3) => v.toPrecision(d);
  console.log(`  ${name.padEnd(11)} min bulk ESS ${f(x.minEss, 4)} (max R-hat ${x.rhat.toFixed(3)}, stopped by ${x.stopped}); ` +
    `sampling phase: ${x.samplingEvals} evaluations, ${x.samplingSeconds.toFixed(1)} chain-s -> ESS/evaluation ${f(x.minEss / x.samplingEvals)}, ESS/s ${f(x.minEss / x.samplingSeconds)}; ` +
    `whole run (warm-up included): ${x.evals} evaluations, ${x.seconds.toFixed(1)} chain-s -> ESS/evaluation ${f(x.minEss / x.evals)}, ESS/s ${f(x.minEss / x.seconds)}; wall ${x.wall.toFixed(1)} s`);
};

console.log(`3x2pt posterior, 19 parameters, data = the fiducial C_l; two chains on one core each sampler, until min bulk ESS >= ${ESS} (warm-up: NUTS ${NUTS_WARMUP}, Metropolis ${METROPOLIS_WARMUP}; settings: nuts ${JSON.stringify(CONFIG.nuts)}, metropolis ${JSON.stringify(CONFIG.metropolis)})`);
const nuts = await run('nuts', NUTS_WARMUP, ESS, 1);
line('nuts', nuts);
const metropolis = await run('metropolis', METROPOLIS_WARMUP, ESS, 1);
line('metropolis', metropolis);
const perS = (x: Rates) => x.minEss / x.samplingSeconds;
const perEval = (x: Rates) => x.minEss / x.samplingEvals;
console.log(`  NUTS / Metropolis: ESS per evaluation x${(perEval(nuts) / perEval(metropolis)).toFixed(2)}, ESS per second x${(perS(nuts) / perS(metropolis)).toFixed(2)} (sampling phase); whole runs: ESS per second x${((nuts.minEss / nuts.seconds) / (metropolis.minEss / metropolis.seconds)).toFixed(2)}`);

if (process.env.SKIP_NUTS_1000 !== '1') {
  const big = await run('nuts', NUTS_WARMUP, 1000, 2);
  console.log(`NUTS to min bulk ESS ${big.minEss.toFixed(0)} (target 1000), two chains on two worker threads: wall ${big.wall.toFixed(1)} s (warm-up included; stopped by ${big.stopped}; max R-hat ${big.rhat.toFixed(4)})`);
}
console.log(`RESULT nuts_over_metropolis_ess_per_second ${(perS(nuts) / perS(metropolis)).toFixed(2)}`);
