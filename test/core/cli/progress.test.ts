/**
 * The progress display (core/cli/progress.ts) on a TTY: a streaming stage's chunks as a bar of how far its chunk
 * axis is delivered, and the count of chunks when it is computed; nothing at all when stderr is not a TTY.
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { attachProgress, formatDuration, timeText } from '../../../core/cli/progress.js';
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

  it('formats durations and the elapsed / remaining time of a bar', () => {
    expect([0.04, 8.24, 9.96, 42.4, 59.7, 185, 3599.6, 3725, 7199].map(formatDuration)).toEqual(['0.0s', '8.2s', '10s', '42s', '1m00s', '3m05s', '1h00m', '1h02m', '2h00m']);
    expect(timeText(5000, 2, 10)).toBe(''); // fewer than 3 units: no estimate yet
    expect(timeText(0, 5, 10)).toBe(''); // no time has passed
    expect(timeText(6000, 3, 10)).toBe(', 6.0s elapsed, ~14s left'); // 2 s a unit, 7 units left
    expect(timeText(90_000, 30, 100)).toBe(', 1m30s elapsed, ~3m30s left');
    expect(timeText(12_300, 10, 10)).toBe(', 12s elapsed');
  });

  it('a progress bar shows elapsed and remaining time from its stage start, once a few units are done', () => {
    const events = new Subject<RunEvent>();
    const tty = fakeTty();
    attachProgress(events, tty.stream);
    const t0 = 1_000_000;
    events.next({ t: t0, type: 'stage-start', stage: 'fisher', plugin: 'likelihood/gaussian-fisher', key: 'k' });
    events.next({ t: t0 + 1000, type: 'progress', stage: 'fisher', done: 1, total: 19, label: 'derivatives' });
    events.next({ t: t0 + 4000, type: 'progress', stage: 'fisher', done: 4, total: 19, label: 'derivatives' });
    events.next({ t: t0 + 19_000, type: 'progress', stage: 'fisher', done: 19, total: 19, label: 'derivatives' });
    const lines = tty.text().split('\n').filter((l) => l);
    expect(lines).toContain(`fisher [${'#'.repeat(2)}${'.'.repeat(28)}] 1/19 derivatives`);
    // drawn only if not throttled (50 ms of wall time between draws): the last one always is
    expect(lines[lines.length - 1]).toBe(`fisher [${'#'.repeat(30)}] 19/19 derivatives, 19s elapsed`);
    expect(timeText(4000, 4, 19)).toBe(', 4.0s elapsed, ~15s left');
  });

  it('writes nothing when stderr is not a TTY', () => {
    const events = new Subject<RunEvent>();
    const tty = fakeTty(false);
    attachProgress(events, tty.stream);
    events.next({ t: Date.now(), type: 'chunk', stage: 'x', range: [0, 5], total: 5 });
    expect(tty.text()).toBe('');
  });
});
