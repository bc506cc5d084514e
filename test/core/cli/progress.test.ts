/**
 * The progress display (core/cli/progress.ts) on a TTY: a streaming stage's chunks as a bar of how far its chunk
 * axis is delivered, and the count of chunks when it is computed; nothing at all when stderr is not a TTY.
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { attachProgress } from '../../../core/cli/progress.js';
import type { RunEvent } from '../../../core/graph/execute.js';

function fakeTty(isTTY = true) {
  let text = '';
  const stream = { isTTY, write: (s: string) => { text += s; return true; } } as unknown as NodeJS.WriteStream;
  return { stream, text: () => text.split('\r\x1b[2K').join('\n') };
}

describe('progress display', () => {
  it('shows chunk progress of a streaming stage', () => {
    const events = new Subject<RunEvent>();
    const tty = fakeTty();
    const detach = attachProgress(events, tty.stream);
    const t = Date.now();
    events.next({ t, type: 'stage-start', stage: 'cl', plugin: 'spectra/limber', key: 'k' });
    for (let a = 0; a < 100; a += 16)
      events.next({ t, type: 'chunk', stage: 'cl', range: [a, Math.min(100, a + 16)], total: 100, label: 'multipoles', data: new Float64Array(4) });
    events.next({ t, type: 'stage-computed', stage: 'cl', plugin: 'spectra/limber', key: 'k', seconds: 0.5 });
    detach();
    const lines = tty.text().split('\n').filter((l) => l);
    // the first chunk and the last are always drawn (the ones between are throttled)
    expect(lines).toContain(`cl [${'#'.repeat(5)}${'.'.repeat(25)}] 16/100 multipoles, 1 chunk`);
    expect(lines).toContain(`cl [${'#'.repeat(30)}] 100/100 multipoles, 7 chunks`);
    expect(lines[lines.length - 1]).toBe('cl: spectra/limber computed in 0.500 s (streamed in 7 chunks)');
  });

  it('a chunk without a total shows its count and reach', () => {
    const events = new Subject<RunEvent>();
    const tty = fakeTty();
    attachProgress(events, tty.stream);
    events.next({ t: Date.now(), type: 'chunk', stage: 'x', range: [0, 5] });
    expect(tty.text()).toContain('x: 1 chunk (to 5)');
  });

  it('writes nothing when stderr is not a TTY', () => {
    const events = new Subject<RunEvent>();
    const tty = fakeTty(false);
    attachProgress(events, tty.stream);
    events.next({ t: Date.now(), type: 'chunk', stage: 'x', range: [0, 5], total: 5 });
    expect(tty.text()).toBe('');
  });
});
