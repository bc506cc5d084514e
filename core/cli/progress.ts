/**
 * Progress on stderr: a bar per running stage when stderr is a TTY, nothing otherwise (logs stay clean).
 * A stage that streams its result shows its chunks as they arrive: how far along its chunk axis the parts
 * delivered so far reach (`cl [######.....] 48/100 multipoles, 3 chunks`). Once a few units are done, a bar also
 * shows the time since its first unit started and the time left at the rate so far (`, 12s elapsed, ~25s left`;
 * timeText), from the events' own timestamps.
 */
import type { Subject } from 'rxjs';
import type { RunEvent } from '../graph/execute.js';

/** Units done before a bar shows its timing (the rate of the first one or two is mostly start-up). */
export const ETA_AFTER_UNITS = 3;

/** A duration for a progress line: 0.4s, 8.2s, 42s, 3m05s, 1h02m. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 9.95) return `${seconds.toFixed(1)}s`;
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/**
 * The timing suffix of a bar: '' until ETA_AFTER_UNITS units are done (and some time has passed); then `, <elapsed> elapsed, ~<left> left` with
 * left = elapsed (total - done) / done (the mean rate so far); when all are done, `, <elapsed> elapsed`.
 */
export function timeText(elapsedMs: number, done: number, total: number): string {
  if (!(done >= ETA_AFTER_UNITS) || !(elapsedMs > 0) || !(total > 0)) return '';
  const elapsed = `${formatDuration(elapsedMs / 1000)} elapsed`;
  if (done >= total) return `, ${elapsed}`;
  return `, ${elapsed}, ~${formatDuration(((elapsedMs / 1000) * (total - done)) / done)} left`;
}

export function attachProgress(events: Subject<RunEvent>, stream: NodeJS.WriteStream = process.stderr): () => void {
  if (!stream.isTTY) return () => {};
  let lastDraw = 0;
  const clear = () => stream.write('\r\x1b[2K');
  const width = 30;
  const bar = (frac: number) => '#'.repeat(Math.round(Math.min(1, Math.max(0, frac)) * width)).padEnd(width, '.');
  // chunks received per stage (nested runs apart) and the furthest end of their ranges
  const chunks = new Map<string, { n: number; reach: number }>();
  // when each bar started (its stage's start, else its first event), by depth, stage and label; and stage starts
  const started = new Map<string, number>();
  const stageStart = new Map<string, number>();
  const since = (id: string, who: string | undefined, t: number) => {
    if (!started.has(id)) started.set(id, stageStart.get(who ?? '') ?? t);
    return t - started.get(id)!;
  };
  const sub = events.subscribe((e) => {
    // a nested run (a differentiator's evaluations, the stencil around a black box): on the status line only
    const who = e.depth ? `${e.within} > ${e.stage}` : e.stage;
    if (e.depth && (e.type === 'stage-start' || e.type === 'stage-computed' || e.type === 'stage-cached')) {
      const t = Date.now();
      if (t - lastDraw < 50) return;
      lastDraw = t;
      clear();
      stream.write(`${who}: ${e.plugin} ${e.type === 'stage-start' ? '...' : e.type === 'stage-cached' ? 'from cache' : 'computed'}`);
    } else if (e.type === 'progress') {
      const elapsed = since(`${e.depth ?? 0}:${who}:${e.label ?? ''}`, who, e.t);
      const t = Date.now();
      if (t - lastDraw < 50 && e.done < e.total) return;
      lastDraw = t;
      clear();
      stream.write(`${who} [${bar(e.total > 0 ? e.done / e.total : 0)}] ${e.done}/${e.total}${e.label ? ' ' + e.label : ''}${timeText(elapsed, e.done, e.total)}`);
    } else if (e.type === 'chunk') {
      const id = `${e.depth ?? 0}:${who}`;
      const c = chunks.get(id) ?? { n: 0, reach: 0 };
      c.n++;
      c.reach = Math.max(c.reach, e.range[1]);
      chunks.set(id, c);
      const elapsed = since(`${id}:chunks`, who, e.t);
      const t = Date.now();
      const last = e.total !== undefined && c.reach >= e.total;
      if (t - lastDraw < 50 && !last && c.n > 1) return;
      lastDraw = t;
      clear();
      const what = `${c.n} chunk${c.n === 1 ? '' : 's'}`;
      stream.write(e.total ? `${who} [${bar(c.reach / e.total)}] ${c.reach}/${e.total}${e.label ? ' ' + e.label : ''}, ${what}${timeText(elapsed, c.reach, e.total)}` : `${who}: ${what} (to ${c.reach}${e.label ? ' ' + e.label : ''})`);
    } else if (e.type === 'stage-start') {
      stageStart.set(e.stage ?? '', e.t);
      for (const id of [...started.keys()]) if (id.startsWith(`0:${e.stage}:`)) started.delete(id); // a new run of it
      clear();
      stream.write(`${e.stage}: ${e.plugin} ...`);
    } else if (e.type === 'stage-computed') {
      const c = chunks.get(`0:${e.stage}`);
      clear();
      stream.write(`${e.stage}: ${e.plugin} computed in ${e.seconds.toFixed(3)} s${c ? ` (streamed in ${c.n} chunk${c.n === 1 ? '' : 's'})` : ''}\n`);
    } else if (e.type === 'stage-cached') {
      clear();
      stream.write(`${e.stage}: ${e.plugin} from cache\n`);
    }
  });
  return () => sub.unsubscribe();
}
