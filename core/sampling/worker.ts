/**
 * A worker thread of `cosmodag sample`: plans the pipeline itself (a plan does not cross threads), builds its
 * own target and memo store per chain, and runs its chains (chain-runner.ts), posting every iteration's draws to
 * the driver and checkpointing them itself. The driver may post {type: 'stop'} (--until-ess, --max-time): the
 * chains stop at the end of their current iteration, checkpointed.
 */
import { parentPort } from 'node:worker_threads';
import { InputError } from '../schema/input-error.js';
import { jobFromData, runChains, type ChainJobData } from './chain-runner.js';
import { planSource, samplerFrom, targetFor, type PipelineSource } from './pipeline-source.js';

export interface WorkerRun {
  type: 'run';
  source: PipelineSource;
  sampler: { name: string; config: Record<string, unknown> };
  jobs: ChainJobData[];
  out: string;
  resume: boolean;
  samples: number | null;
  checkpointSeconds: number;
}

if (parentPort) {
  const port = parentPort;
  let stop = false;
  port.on('message', (m: WorkerRun | { type: 'stop' }) => {
    if (m.type === 'stop') {
      stop = true;
      return;
    }
    void run(m).then(
      (checkpoints) => port.postMessage({ type: 'done', checkpoints }),
      (e: unknown) => {
        const err = e as Error;
        port.postMessage({ type: 'error', message: err.message, stack: err.stack, issues: e instanceof InputError ? e.issues : undefined });
      },
    );
  });

  async function run(m: WorkerRun) {
    const planned = await planSource(m.source);
    const sampler = samplerFrom(planned.registry, m.sampler.name, m.sampler.config);
    return runChains(sampler, m.jobs.map(jobFromData), async () => (await targetFor(m.source, sampler.needsGradient)).target, {
      out: m.out, resume: m.resume, samples: m.samples, checkpointSeconds: m.checkpointSeconds,
      shouldStop: () => stop,
      onDraws: (chain, draws, progress) => port.postMessage({ type: 'draws', chain, draws, progress }),
    });
  }
  port.postMessage({ type: 'ready' });
}
