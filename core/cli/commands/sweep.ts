import { Args, Command, Flags } from '@oclif/core';
import { reportError } from '../errors.js';
import { parseQueueUrl, queueUrlFrom, scrub, type QueueTarget } from '../../sweep/redis-queue.js';
import { runSweep, SweepInterrupted } from '../../sweep/run-sweep.js';

export default class Sweep extends Command {
  static override description =
    'Run one pipeline at many points (a grid of --vary values, a Latin hypercube, or the rows of a file) on worker threads ' +
    'or as jobs on a Redis queue (cosmodag worker); writes sweep.tsv (a row per point: the varied values, status, seconds and ' +
    'the summary columns of the final stage), sweep.json and optionally a plot. Results are stored by content: --resume ' +
    'after a kill computes only the missing points, and an identical sweep recomputes nothing.';
  static override examples = [
    '<%= config.bin %> sweep pipelines/euclid-3x2pt-fisher.json --vary stages.fisher.with.l_max.WL=1000,1500,3000,5000 --vary stages.fisher.with.fsky=0.1,0.2,0.3636,0.5 --plot fom',
    '<%= config.bin %> sweep pipelines/euclid-3x2pt-fisher.json --lhs 64 --range w0=-1.2:-0.8 --range wa=-0.5:0.5 --workers 2',
    '<%= config.bin %> sweep pipelines/euclid-3x2pt-fisher.json --vary Omega_m=0.3,0.32,0.34 --queue redis://127.0.0.1:6379',
  ];
  static override args = { pipeline: Args.string({ required: true, description: 'pipeline JSON file' }) };
  static override flags = {
    vary: Flags.string({
      char: 'v', multiple: true,
      description: 'PATH=V1,V2,...: a parameter name (sets its value) or a dotted pipeline path as in --set; several --vary: every combination',
    }),
    lhs: Flags.integer({ description: 'N points of a seeded Latin hypercube over the --range boxes' }),
    range: Flags.string({ multiple: true, description: 'PATH=LO:HI: a range of the Latin hypercube (with --lhs)' }),
    seed: Flags.integer({ description: 'seed of the Latin hypercube', default: 1 }),
    points: Flags.string({ description: 'a TSV file of points: a header of paths, one row of values per point' }),
    out: Flags.string({ char: 'o', description: 'output directory (default out/<pipeline name>-sweep)' }),
    param: Flags.string({ char: 'p', multiple: true, description: 'NAME=VALUE: set a parameter\'s fiducial value (all points)' }),
    set: Flags.string({ char: 's', multiple: true, description: 'DOTTED.PATH=JSON: set any pipeline value (all points)' }),
    workers: Flags.integer({ char: 'w', description: 'points computed at once on this machine: this process plus N - 1 worker threads (default: the number of cores)' }),
    queue: Flags.string({ description: 'redis://HOST:PORT[/DB] or rediss://[:PASSWORD@]HOST:PORT[/DB], or env:NAME (the URL in that environment variable): run the points as jobs on this queue (cosmodag worker runs them)' }),
    'queue-name': Flags.string({ description: 'name of the BullMQ queue (default cosmodag-sweep; workers must use the same)' }),
    attempts: Flags.integer({ description: 'attempts per point on the queue before it is recorded as failed', default: 3 }),
    resume: Flags.boolean({ description: 'continue an interrupted sweep in --out: compute only the points without a stored result' }),
    restart: Flags.boolean({ description: 'discard the point results stored in --out and compute every point' }),
    'keep-outputs': Flags.boolean({ description: 'write each point\'s output files under <out>/points/<id>/' }),
    plot: Flags.string({ description: 'COLUMN: plot a summary column (e.g. fom) against the varied path (a line) or two paths (a heat map)' }),
    cache: Flags.string({ description: 'on-disk memo cache shared by the worker threads (and with other runs)' }),
    events: Flags.string({ description: 'write the event log (sweep, points, stages) as JSON lines to this file' }),
    quiet: Flags.boolean({ char: 'q', description: 'print nothing but errors' }),
    force: Flags.boolean({ description: 'overwrite files in --out that cosmodag did not write' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Sweep);
    let target: QueueTarget | null = null;
    try { if (flags.queue !== undefined) target = parseQueueUrl(queueUrlFrom(flags.queue)); } catch { /* runSweep reports it */ }
    const ac = new AbortController();
    const onSignal = () => {
      if (!flags.quiet) process.stderr.write('\nstopping: the points finished so far are stored (Ctrl-C again to quit at once)\n');
      ac.abort();
      process.once('SIGINT', () => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    try {
      await runSweep({
        file: args.pipeline, vary: flags.vary, lhs: flags.lhs, ranges: flags.range, seed: flags.seed, pointsFile: flags.points,
        out: flags.out, params: flags.param, sets: flags.set, workers: flags.workers, queue: flags.queue, queueName: flags['queue-name'],
        attempts: flags.attempts, resume: flags.resume, restart: flags.restart, keepOutputs: flags['keep-outputs'], plot: flags.plot,
        cache: flags.cache, eventsFile: flags.events, force: flags.force, signal: ac.signal,
        log: (l) => { if (!flags.quiet) this.log(target ? scrub(l, target) : l); },
        progress: (l) => { if (!flags.quiet) process.stderr.write((target ? scrub(l, target) : l) + '\n'); },
      });
    } catch (e) {
      if (e instanceof SweepInterrupted) {
        process.stderr.write(`${e.message}\n`);
        process.exit(130);
      }
      if (target && e instanceof Error) e.message = scrub(e.message, target);
      this.exit(reportError(e));
    } finally {
      process.removeListener('SIGINT', onSignal);
    }
    // a connection or thread left open must not keep the process alive once the sweep is written
    setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
  }
}
