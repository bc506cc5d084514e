// Relaunch the CLI in a child Node process with V8 flags that a running process cannot take.
//
// `cosmodag sweep` and `cosmodag worker` run points on worker threads, one per core. V8's own background threads
// (concurrent marking, parallel scavenges, concurrent optimising compilation) then compete with the runners for the
// same cores: on 2 cores a main-job Fisher point took ~1.8x as long with two runners as with one, and a 32-point
// sweep ran 1.1-1.3x faster on two threads than on one. With --single-threaded (V8 does that work on the thread
// that needs it) two runners run at nearly full speed each: 1.6-1.8x (docs/scaling.md). The flag must be given at
// start-up (set at run time, V8 aborts), hence the child process.
//
// The child gets the same arguments, stdio and environment. Signals sent to this process are passed on (the child
// runs in its own process group, so a terminal's Ctrl-C reaches it once, through here). If this process is killed
// outright (SIGKILL cannot be caught), the pipe it holds to the child (fd 3) closes, and the child kills itself the
// same way at once: a `kill -9` of the sweep stops its work as it would without the child.
// COSMODAG_V8_DEFAULTS=1 runs the command in this process with V8's defaults.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { SHARE_ENV, Worker } from 'node:worker_threads';

const FLAGS = ['--single-threaded'];
// the main thread runs sweep points too (core/sweep/point-pool.ts `inline`): its heap starts as the worker threads'
// do (core/sweep/worker-heap.ts says why; COSMODAG_WORKER_OLD_SPACE_MB=0 leaves V8's default)
const oldSpace = process.env.COSMODAG_WORKER_OLD_SPACE_MB;
const HEAP = oldSpace === '0' ? [] : [`--initial-old-space-size=${/^\d+$/.test(oldSpace ?? '') ? oldSpace : 256}`];
const RELAUNCHED = 'COSMODAG_RELAUNCHED_BY';

/**
 * In a relaunched child: die like the parent when the parent dies (its end of the fd-3 pipe closes). The pipe is
 * watched from a small worker thread of its own: the main thread may be busy computing a sweep point for seconds
 * (core/sweep/point-pool.ts `inline`), and the child must not finish that point after its parent was killed.
 */
export function watchParent() {
  if (!process.env[RELAUNCHED]) return;
  delete process.env[RELAUNCHED];
  const watcher = new Worker(LIFELINE, { eval: true, env: SHARE_ENV, stdout: false, stderr: false });
  watcher.unref(); // the command ends the process when it is done, not the lifeline
}

// runs in the watcher thread: any end of the pipe kills the whole process at once
const LIFELINE = `
const net = require('node:net');
const die = () => process.kill(process.pid, 'SIGKILL');
const lifeline = new net.Socket({ fd: 3, readable: true, writable: false });
lifeline.on('end', die);
lifeline.on('close', die);
lifeline.on('error', die);
lifeline.on('data', () => {});
`;

/** True when this process should run the command itself. */
export function runsHere(command) {
  if (!['sweep', 'worker'].includes(command)) return true;
  if (process.env.COSMODAG_V8_DEFAULTS === '1' || process.env[RELAUNCHED]) return true;
  return FLAGS.every((f) => process.execArgv.includes(f));
}

/** Run the same command line in a child with FLAGS; resolves never (this process exits as the child does). */
export function relaunch() {
  const child = spawn(process.execPath, [...process.execArgv, ...FLAGS, ...HEAP, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'], detached: true, env: { ...process.env, [RELAUNCHED]: String(process.pid) },
  });
  const forward = (sig) => () => { if (child.exitCode === null && child.signalCode === null) child.kill(sig); };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']) process.on(sig, forward(sig));
  child.on('error', (e) => {
    process.stderr.write(`cosmodag: could not start ${process.execPath}: ${e.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT']) process.removeAllListeners(sig);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
  return new Promise(() => {});
}

/**
 * `cosmodag sweep` without --queue: start its N - 1 point threads now (N = --workers, default the cores; at most the
 * other cores' worth), before the CLI's own modules load, so that the threads' ~1.5 s of module loading overlaps the
 * main thread's (the CLI, the plugins, planning the points) instead of following it (core/sweep/prestart.ts).
 */
export async function prestartSweepThreads(args) {
  if (process.env.COSMODAG_NO_PRESTART || args[0] !== 'sweep' || args.some((a) => a === '--queue' || a.startsWith('--queue='))) return;
  let workers = availableParallelism();
  args.forEach((a, i) => {
    const v = a === '--workers' || a === '-w' ? args[i + 1] : a.startsWith('--workers=') ? a.slice(10) : undefined;
    if (v !== undefined && /^\d+$/.test(v)) workers = Number(v);
  });
  // at most one per other core: the sweep does not know its point count yet (a 4-point sweep with --workers 64 must not
  // load 63 threads), and a thread beyond the cores gains nothing from starting early; the pool starts any others
  const n = Math.min(workers - 1, availableParallelism() - 1);
  if (n <= 0) return;
  try {
    const { prestartPointThreads } = await import('../dist/core/sweep/prestart.js');
    prestartPointThreads(new URL('../dist/core/sweep/point-thread.js', import.meta.url), n);
  } catch {
    /* no build to start them from: the sweep starts its threads itself */
  }
}
