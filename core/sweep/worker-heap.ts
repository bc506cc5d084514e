/**
 * V8 heap settings for the isolates that run points, chains and k-modes on worker threads.
 *
 * A main-job Fisher point allocates ~100 MB of short-lived typed arrays (forward tangents over 19 parameters) and keeps
 * ~20 MB alive. With V8's default start, the old generation's limit sits just above that live size, so every few
 * promoted megabytes start a full mark-compact: 25 of them in 12 points (node --trace-gc), each marked concurrently
 * on another core. One busy runner then used ~1.45 cores, and two runners on two cores slowed each other's points
 * ~2x (docs/scaling.md). Starting the old generation at OLD_SPACE_MB lets the heap settle above the working set
 * at once: 7 mark-compacts in the same 12 points and a fifth to a quarter less CPU for the same work.
 *
 * V8 flags are per process; set here, they apply to every isolate created afterwards (worker threads), not to the
 * calling thread's own heap. `COSMODAG_WORKER_OLD_SPACE_MB=0` leaves V8's default (for comparison).
 */
import v8 from 'node:v8';

const OLD_SPACE_MB = 256;
let done = false;

/** Set the heap flags once per process, before the first worker thread is created. */
export function configureWorkerHeaps(): void {
  if (done) return;
  done = true;
  const env = process.env.COSMODAG_WORKER_OLD_SPACE_MB;
  const mb = env !== undefined && /^\d+$/.test(env) ? Number(env) : OLD_SPACE_MB;
  if (mb > 0) v8.setFlagsFromString(`--initial-old-space-size=${mb}`);
}
