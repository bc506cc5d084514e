/**
 * Progress on stderr: a bar per running stage when stderr is a TTY, nothing otherwise (logs stay clean).
 */
import type { Subject } from 'rxjs';
import type { RunEvent } from '../graph/execute.js';

export function attachProgress(events: Subject<RunEvent>, stream: NodeJS.WriteStream = process.stderr): () => void {
  if (!stream.isTTY) return () => {};
  let lastDraw = 0;
  const clear = () => stream.write('\r\x1b[2K');
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
      const width = 30;
      const frac = e.total > 0 ? Math.min(1, e.done / e.total) : 0;
      const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
      clear();
      stream.write(`${who} [${bar}] ${e.done}/${e.total}${e.label ? ' ' + e.label : ''}`);
    } else if (e.type === 'stage-start') {
      clear();
      stream.write(`${e.stage}: ${e.plugin} ...`);
    } else if (e.type === 'stage-computed') {
      clear();
      stream.write(`${e.stage}: ${e.plugin} computed in ${e.seconds.toFixed(3)} s\n`);
    } else if (e.type === 'stage-cached') {
      clear();
      stream.write(`${e.stage}: ${e.plugin} from cache\n`);
    }
  });
  return () => sub.unsubscribe();
}
