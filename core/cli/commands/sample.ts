import { Args, Command, Flags } from '@oclif/core';
import { reportError } from '../errors.js';
import { InputError, issue } from '../../schema/input-error.js';
import { sampleJob } from '../../sampling/sample-job.js';
import { parseQueueUrl, queueUrlFrom, scrub, type QueueTarget } from '../../sweep/redis-queue.js';

/** A duration: seconds (`600`), or with a unit (`90s`, `30m`, `2h`). */
export function parseDuration(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$/.exec(s);
  if (!m) throw new InputError([issue('--max-time', `${JSON.stringify(s)} is not a duration: seconds (600) or a number with s, m or h (90s, 30m, 2h)`)]);
  return Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
}

function parseConfig(s: string | undefined): Record<string, unknown> | undefined {
  if (s === undefined) return undefined;
  let v: unknown;
  try { v = JSON.parse(s); } catch { v = undefined; }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InputError([issue('--sampler-config', `${JSON.stringify(s)} is not a JSON object of settings, e.g. '{"maxTreeDepth": 8}'`)]);
  return v as Record<string, unknown>;
}

export default class Sample extends Command {
  static override description =
    'Sample the posterior of a pipeline ending in a log-likelihood stage (priors from parameters.X.prior): NUTS on exact gradients, an ensemble sampler or adaptive Metropolis; chains on worker threads, checkpointed (--resume continues after a kill); getdist chains, summary.tsv with R-hat and ESS, a triangle plot. docs/sampling.md.';
  static override examples = [
    '<%= config.bin %> sample pipelines/euclid-3x2pt-likelihood.json --chains 2 --warmup 500 --samples 1000 --seed 1 --out out/posterior',
    '<%= config.bin %> sample pipelines/euclid-3x2pt-likelihood.json --until-ess 400 --max-time 2h --out out/posterior',
    '<%= config.bin %> sample pipelines/euclid-3x2pt-likelihood.json --out out/posterior --resume',
    '<%= config.bin %> sample pipelines/euclid-3x2pt-likelihood.json --chains 4 --seed 1 --queue env:COSMODAG_QUEUE --out out/posterior',
  ];
  static override args = { pipeline: Args.string({ required: true, description: 'pipeline JSON file (its last stage a log-likelihood)' }) };
  static override flags = {
    sampler: Flags.string({ description: 'nuts (gradients), ensemble or metropolis (no gradients); default nuts, or the resumed run\'s' }),
    'sampler-config': Flags.string({ description: 'the sampler\'s settings as JSON, e.g. \'{"maxTreeDepth": 8}\' (docs/sampling.md)' }),
    chains: Flags.integer({ description: 'number of chains (default 4)' }),
    warmup: Flags.integer({ description: 'warm-up (adaptation) iterations per chain, not kept (default 500)' }),
    samples: Flags.integer({ description: 'iterations per chain after warm-up (default 1000; with --until-ess, a cap)' }),
    seed: Flags.integer({ description: 'seed of the chains (default: random, recorded in sample.json)' }),
    'until-ess': Flags.integer({ description: 'stop when the smallest bulk ESS over the parameters reaches this' }),
    'max-time': Flags.string({ description: 'stop after this long (600, 90s, 30m, 2h)' }),
    threads: Flags.integer({ description: 'worker threads (default: one per core, at most one per chain)' }),
    out: Flags.string({ char: 'o', description: 'output directory (default out/<pipeline name>-sample)' }),
    resume: Flags.boolean({ description: 'continue the run in --out from its checkpoints' }),
    force: Flags.boolean({ description: 'overwrite files in --out that cosmodag did not write; start a new run over an old one' }),
    param: Flags.string({ char: 'p', multiple: true, description: 'NAME=VALUE: set a parameter\'s value (the chains start there)' }),
    set: Flags.string({ char: 's', multiple: true, description: 'DOTTED.PATH=JSON: set any pipeline value' }),
    quiet: Flags.boolean({ char: 'q', description: 'print nothing but errors' }),
    queue: Flags.string({ description: 'run the chains as jobs on the cosmodag worker processes of this Redis queue: redis://HOST:PORT[/DB], rediss://[:PASSWORD@]HOST:PORT[/DB], or env:NAME (the URL in that environment variable); docs/scaling.md' }),
    'queue-name': Flags.string({ description: 'name of the BullMQ queue (default cosmodag-sweep, the workers\' default)' }),
    attempts: Flags.integer({ description: 'with --queue: attempts per segment of a chain (default 3)' }),
    'segment-seconds': Flags.string({ description: 'with --queue: how long a worker steps a chain before sending back its draws and checkpoint (default 10)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Sample);
    try {
      await sampleJob({
        file: args.pipeline, params: flags.param, sets: flags.set, sampler: flags.sampler, samplerConfig: parseConfig(flags['sampler-config']), chains: flags.chains, warmup: flags.warmup,
        samples: flags.samples, seed: flags.seed, untilEss: flags['until-ess'], maxTime: flags['max-time'] !== undefined ? parseDuration(flags['max-time']) : undefined,
        threads: flags.threads, out: flags.out, resume: flags.resume, force: flags.force, quiet: flags.quiet,
        queue: flags.queue, queueName: flags['queue-name'], attempts: flags.attempts, segmentSeconds: flags['segment-seconds'] !== undefined ? Number(flags['segment-seconds']) : undefined,
        checkpointSeconds: process.env.COSMODAG_CHECKPOINT_SECONDS !== undefined ? Number(process.env.COSMODAG_CHECKPOINT_SECONDS) : undefined,
      });
    } catch (e) {
      // nothing shown carries the queue's password
      if (flags.queue && e instanceof Error) {
        let target: QueueTarget | null = null;
        try { target = parseQueueUrl(queueUrlFrom(flags.queue)); } catch { /* reported as the error itself */ }
        e.message = scrub(e.message, target);
        if (e.cause instanceof Error) e.cause.message = scrub(e.cause.message, target);
      }
      this.exit(reportError(e));
    }
  }
}
