/**
 * `npm run bench:sweep`: a 32-point sweep of the main job's Fisher forecast (pipelines/euclid-3x2pt-fisher.json, a
 * Latin hypercube over w0 and wa, so that every point recomputes every stage but the n(z)) with `--workers 1` (the
 * calling thread alone) and `--workers 2` (the calling thread and one worker thread: core/sweep/point-pool.ts
 * `inline`), after an untimed sweep of the same size on the calling thread, so that its code is equally JIT-warm for
 * both timed runs (a first run would otherwise pay the calling thread's warm-up for the second: ~1.4 s of a 6 s run);
 * the two-runner sweep still pays its worker thread's start-up (~1 s of module loading) and cold first points, which
 * for 32 points of ~0.13 s is most of what a second core can give (docs/scaling.md), and on 2 queue workers (`cosmodag worker` processes, one thread each, on a private redis-server), in points per
 * second; and the queue's overhead per job on a trivial pipeline (the background alone on a coarse grid): the time
 * from handing N points to one warm queue worker to the last result, minus the time the worker spent in them, per
 * point (the same for one local thread, for comparison; planning the points up front is not included). Every sweep starts from an empty output directory (nothing reused).
 * Last line: `RESULT sweep_speedup_2_workers <time on 1 thread / time on 2 threads>`.
 *
 * SWEEP_BENCH_POINTS=N changes the number of Fisher points (a quick check that the benchmark runs).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSweep, type SweepOptions } from '../../core/sweep/run-sweep.js';
import { startRedis } from '../support/redis-server.js';
import { Background } from '../support/sweep-cli.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');
const fisher = path.join(root, 'pipelines/euclid-3x2pt-fisher.json');
const background = path.join(root, 'pipelines/background.json');
const N = Number(process.env.SWEEP_BENCH_POINTS ?? 32);
const TRIVIAL = 64;
const noPlots = ['stages.cl.with.plot=false', 'stages.fisher.with.plot=false'];
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-bench-sweep-'));
const silent = { log: () => {}, progress: () => {} };

interface Timing {
  /** Wall time of the whole sweep (planning the points, dispatch, tables) [s]. */
  seconds: number;
  /** From the first point handed out to the last result in (the event log's sweep-start to the last point-done) [s]. */
  dispatch: number;
  /** Time the runners spent in the points (planning and executing each, as they report it) [s]. */
  pointSeconds: number;
  failed: number;
}

async function timed(o: Omit<SweepOptions, 'out'>): Promise<Timing> {
  const events = path.join(tmp(), 'events.jsonl');
  const t = performance.now();
  const r = await runSweep({ ...o, out: tmp(), eventsFile: events, ...silent });
  const seconds = (performance.now() - t) / 1000;
  const log = fs.readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; t: number });
  const start = log.find((e) => e.type === 'sweep-start')!.t;
  const last = Math.max(...log.filter((e) => e.type === 'point-done').map((e) => e.t));
  return { seconds, dispatch: (last - start) / 1000, pointSeconds: r.rows.reduce((s, x) => s + x.seconds, 0), failed: r.failed };
}

const fisherSweep = { file: fisher, sets: noPlots, lhs: N, ranges: ['w0=-1.2:-0.8', 'wa=-0.4:0.4'], seed: 1 };
const trivialSweep = { file: background, sets: ['stages.background.with.grid.count=41', 'stages.background.with.output_z.count=11'], vary: [`h=${Array.from({ length: TRIVIAL }, (_, i) => (0.6 + 0.002 * i).toFixed(3)).join(',')}`] };

// the CLI runs sweep and worker under --single-threaded --initial-old-space-size=256 (bin/relaunch.js); `npm run
// bench:sweep` starts this script so
const v8Flags = process.execArgv.filter((a) => a.startsWith('--single-threaded') || a.startsWith('--initial-old-space')).join(' ') || 'V8 defaults (run through npm run bench:sweep for the CLI\'s flags)';
console.log(`cosmodag sweep: ${N} points of ${path.relative(root, fisher)} (Latin hypercube over w0, wa), ${os.availableParallelism()} cores; this process: ${v8Flags}\n`);
await timed({ ...fisherSweep, workers: 1 }); // warm-up of this thread, untimed
const one = await timed({ ...fisherSweep, workers: 1 });
console.log(`--workers 1          ${one.seconds.toFixed(2).padStart(7)} s   ${(N / one.seconds).toFixed(2).padStart(6)} points/s`);
const two = await timed({ ...fisherSweep, workers: 2 });
console.log(`--workers 2          ${two.seconds.toFixed(2).padStart(7)} s   ${(N / two.seconds).toFixed(2).padStart(6)} points/s`);

const redis = await startRedis();
const workers: Background[] = [];
try {
  const start = async (queueName: string, count: number) => {
    const ws = Array.from({ length: count }, () => new Background(['worker', '--queue', redis.url, '--queue-name', queueName, '--concurrency', '1', '--quiet']));
    workers.push(...ws);
    // ready when the queue is reachable: a worker with --quiet prints nothing, so give it its start-up time
    await new Promise((r) => setTimeout(r, 3000));
    for (const w of ws) if (w.child.exitCode !== null) throw new Error(`cosmodag worker exited: ${w.stderr}`);
    return ws;
  };
  const fisherWorkers = await start('bench-fisher', 2);
  const queued = await timed({ ...fisherSweep, queue: redis.url, queueName: 'bench-fisher' });
  console.log(`2 queue workers      ${queued.seconds.toFixed(2).padStart(7)} s   ${(N / queued.seconds).toFixed(2).padStart(6)} points/s`);
  await Promise.all(fisherWorkers.map((w) => w.stop('SIGTERM')));

  const [trivialWorker] = await start('bench-trivial', 1);
  // warm the worker's thread (module loading) with one point of its own, then time TRIVIAL points
  await timed({ ...trivialSweep, vary: ['h=0.5'], queue: redis.url, queueName: 'bench-trivial' });
  const q = await timed({ ...trivialSweep, queue: redis.url, queueName: 'bench-trivial' });
  await trivialWorker.stop('SIGTERM');
  const l = await timed({ ...trivialSweep, workers: 1 });
  // overhead per job: from handing the points out to the last result, less the time the runner spent in them
  const perJob = (r: Timing) => (1000 * (r.dispatch - r.pointSeconds)) / TRIVIAL;
  console.log(`\ntrivial pipeline (${TRIVIAL} points of ${path.relative(root, background)}, coarse grid; ms per point):`);
  console.log('                     sweep [s]  dispatch [s]  in the points [s]  overhead per job');
  const row = (name: string, r: Timing) =>
    console.log(`  ${name.padEnd(18)} ${r.seconds.toFixed(2).padStart(8)}  ${r.dispatch.toFixed(2).padStart(12)}  ${r.pointSeconds.toFixed(2).padStart(17)}  ${perJob(r).toFixed(1).padStart(10)} ms`);
  row('1 queue worker', q);
  row('1 local thread', l);
  console.log('  (the local thread\'s dispatch includes starting the thread and loading the plugins; the queue worker was warm)');
  const failed = one.failed + two.failed + queued.failed + q.failed + l.failed;
  if (failed) console.log(`\nwarning: ${failed} point(s) failed`);
  console.log(`\nspeed-up on 2 threads: ${(one.seconds / two.seconds).toFixed(2)}; 2 queue workers against 1 thread: ${(one.seconds / queued.seconds).toFixed(2)}`);
  console.log(`RESULT sweep_speedup_2_workers ${(one.seconds / two.seconds).toFixed(2)}`);
} finally {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await redis.stop();
}
