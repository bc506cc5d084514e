/**
 * Progress on stderr: a bar per running stage when stderr is a TTY, nothing otherwise (logs stay clean).
 * A stage that streams its result shows its chunks as they arrive: how far along its chunk axis the parts
 * delivered so far reach (`cl [######.....] 48/100 multipoles, 3 chunks`).
 */
import type { Subject } from 'rxjs';
import type { RunEvent } from '../graph/execute.js';

export function attachProgress(events: Subject<RunEvent>, stream: NodeJS.WriteStream = process.stderr): () => void {
  if (!stream.isTTY) return () => {};
  let lastDraw = 0;
  const clear = () => stream.write('\r\x1b[2K');
  const width = 30;
  const bar = (frac: number) => '#'.repeat(Math.round(Math.min(1, Math.max(0, frac)) * width)).padEnd(width, '.');
  // chunks received per stage (nested runs apart) and the furthest end of their ranges
  const chunks = new Map<string, { n: number; reach: number }>();
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
      const t = Date.now();
      if (t - lastDraw < 50 && e.done < e.total) return;
      lastDraw = t;
      clear();
      stream.write(`${who} [${bar(e.total > 0 ? e.done / e.total : 0)}] ${e.done}/${e.total}${e.label ? ' ' + e.label : ''}`);
    } else if (e.type === 'chunk') {
      const id = `${e.depth ?? 0}:${who}`;
      const c = chunks.get(id) ?? { n: 0, reach: 0 };
      c.n++;
      c.reach = Math.max(c.reach, e.range[1]);
      chunks.set(id, c);
      const t = Date.now();
      const last = e.total !== undefined && c.reach >= e.total;
      if (t - lastDraw < 50 && !last && c.n > 1) return;
      lastDraw = t;
      clear();
      const what = `${c.n} chunk${c.n === 1 ? '' : 's'}`;
      stream.write(e.total ? `${who} [${bar(c.reach / e.total)}] ${c.reach}/${e.total}${e.label ? ' ' + e.label : ''}, ${what}` : `${who}: ${what} (to ${c.reach}${e.label ? ' ' + e.label : ''})`);
    } else if (e.type === 'stage-start') {
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
