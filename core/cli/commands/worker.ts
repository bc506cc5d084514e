import fs from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { Command, Flags } from '@oclif/core';
import { reportError } from '../errors.js';
import { PointPool } from '../../sweep/point-pool.js';
import { canonicalFile } from '../../sweep/run-point.js';
import { DEFAULT_QUEUE_NAME, parseQueueUrl, probeRedis, queueUrlFrom, scrub, startWorker, type QueueTarget } from '../../sweep/redis-queue.js';
import { InputError, issue } from '../../schema/input-error.js';

export default class WorkerCommand extends Command {
  static override description =
    'Run sweep points (cosmodag sweep --queue) and segments of sampling chains (cosmodag sample --queue) from a Redis queue ' +
    'on this machine, with its installed plugins: jobs carry a pipeline and a point or a chain\'s state, never code. Stages that ' +
    'run external programs are refused unless --allow-commands, plugin modules given as files unless --allow-plugin FILE. Stops ' +
    'cleanly on Ctrl-C or SIGTERM (the running jobs finish first); a worker killed mid-job has its job run again elsewhere.';
  static override examples = [
    '<%= config.bin %> worker --queue redis://127.0.0.1:6379',
    'COSMODAG_QUEUE=rediss://:PASSWORD@queue.example.org:6380/0 <%= config.bin %> worker --concurrency 8',
  ];
  static override flags = {
    queue: Flags.string({ required: true, env: 'COSMODAG_QUEUE', description: 'redis://HOST:PORT[/DB] or rediss://[:PASSWORD@]HOST:PORT[/DB], or env:NAME (the URL in that environment variable); default: $COSMODAG_QUEUE' }),
    'queue-name': Flags.string({ description: `name of the BullMQ queue (default ${DEFAULT_QUEUE_NAME}; the sweep's)` }),
    concurrency: Flags.integer({ char: 'c', description: 'points run at once, each on its own thread (default: the number of cores)' }),
    'allow-commands': Flags.boolean({ description: 'allow stages that run external programs (linear-power/command, ...)' }),
    'allow-plugin': Flags.string({ multiple: true, description: 'a plugin module file (not an installed package) that jobs may load; repeat for several' }),
    'lock-seconds': Flags.integer({ description: 'a point whose worker stops answering for this long is given to another worker', default: 30 }),
    cache: Flags.string({ description: 'on-disk memo cache of this worker\'s threads' }),
    quiet: Flags.boolean({ char: 'q', description: 'print nothing but errors' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(WorkerCommand);
    let target: QueueTarget | null = null;
    const log = (l: string) => { if (!flags.quiet) process.stdout.write(`${new Date().toISOString()} ${target ? scrub(l, target) : l}\n`); };
    try {
      target = parseQueueUrl(queueUrlFrom(flags.queue));
      const concurrency = flags.concurrency ?? availableParallelism();
      if (concurrency < 1) throw new InputError([issue('--concurrency', `${concurrency}: must be >= 1`)]);
      if (flags['lock-seconds'] < 1) throw new InputError([issue('--lock-seconds', `${flags['lock-seconds']}: must be >= 1`)]);
      await probeRedis(target);
      const allowedPluginFiles = (flags['allow-plugin'] ?? []).map((f) => {
        if (!fs.existsSync(f)) throw new InputError([issue('--allow-plugin', `${f}: no such file`)]);
        return canonicalFile(path.resolve(f));
      });
      const pool = new PointPool({ threads: concurrency, allowCommands: flags['allow-commands'], remote: true, cacheDir: flags.cache, allowedPluginFiles });
      const queueName = flags['queue-name'] ?? DEFAULT_QUEUE_NAME;
      const worker = await startWorker(target, { queueName, concurrency, lockSeconds: flags['lock-seconds'], pool, log });
      log(`worker ${process.pid}: taking points from ${target.display} (queue ${queueName}) on ${concurrency} thread(s); ` +
        `external programs ${flags['allow-commands'] ? 'allowed' : 'refused (--allow-commands to allow)'}` +
        (allowedPluginFiles.length ? `; plugin files allowed: ${allowedPluginFiles.join(', ')}` : ''));
      await new Promise<void>((resolve) => {
        const stop = (sig: string) => {
          log(`${sig}: finishing the running jobs, then stopping`);
          resolve();
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
      await worker.close();
      await pool.close();
      log('stopped');
      process.exit(0);
    } catch (e) {
      if (target && e instanceof Error) e.message = scrub(e.message, target);
      this.exit(reportError(e));
    }
  }
}
