/**
 * Chain checkpoints (core/sampling/checkpoint.ts): the JSON codec keeps what a chain state holds (non-finite
 * numbers, typed arrays, every double bit for bit); a draws file longer than its state records (a kill between
 * the two writes, or in the middle of a line) is cut back to the state on resume.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChainCheckpointer, decodeJson, encodeJson, readCheckpoint, readDraws, type StoredDraw } from '../../core/sampling/checkpoint.js';

const draw = (i: number): StoredDraw => ({ iteration: i, walker: 0, warmup: i < 2, logDensity: -i / 3, x: Float64Array.of(Math.PI * i, -1 / 7, 1e-300), stats: { accept: i % 2 } });

describe('checkpoints', () => {
  it('the codec round-trips states exactly', () => {
    const state = { iteration: 3, lp: -Infinity, inf: Infinity, nan: NaN, m: Float64Array.of(0.1, 1 / 3, -0, 5e-324), idx: Int32Array.of(1, -2), nested: { a: [1.0000000000000002, -Infinity] }, s: 'Infinity' };
    const back = decodeJson<typeof state>(encodeJson(state));
    expect(back.lp).toBe(-Infinity);
    expect(back.inf).toBe(Infinity);
    expect(back.nan).toBeNaN();
    expect(back.m).toBeInstanceOf(Float64Array);
    expect(Array.from(back.m)).toEqual(Array.from(state.m));
    expect(Object.is(back.m[2], -0)).toBe(true);
    expect(back.idx).toBeInstanceOf(Int32Array);
    expect(back.nested.a).toEqual([1.0000000000000002, -Infinity]);
    expect(back.s).toBe('Infinity');
  });

  it('draws appended after the last state are dropped on resume', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-cp-'));
    const cp = new ChainCheckpointer(out, 1);
    cp.add([draw(0), draw(1)]);
    cp.checkpoint({ state: { iteration: 2 }, evaluations: 2, seconds: 0.1, counts: { outside: 0, failed: 0 }, done: false });
    cp.add([draw(2)]);
    cp.checkpoint({ state: { iteration: 3 }, evaluations: 3, seconds: 0.2, counts: { outside: 0, failed: 0 }, done: false });
    cp.close();
    const saved = readCheckpoint(out, 1)!;
    expect(saved.state.iteration).toBe(3);
    // a kill after appending more draws (half a line, even) but before the state was replaced
    fs.appendFileSync(path.join(out, 'checkpoint', 'chain_1.draws.jsonl'), '{"i":3,"w":0,"u":0,"lp":-1,"x":[1,2');
    const draws = readDraws(out, 1, saved);
    expect(draws.map((d) => d.iteration)).toEqual([0, 1, 2]);
    expect(Array.from(draws[2].x)).toEqual(Array.from(draw(2).x));
    expect(draws[0].warmup).toBe(true);
    // resuming cuts the file back and appends after the last good draw
    const again = new ChainCheckpointer(out, 1, saved);
    again.add([draw(3)]);
    again.checkpoint({ state: { iteration: 4 }, evaluations: 4, seconds: 0.3, counts: { outside: 0, failed: 0 }, done: true });
    again.close();
    const last = readCheckpoint(out, 1)!;
    expect(readDraws(out, 1, last).map((d) => d.iteration)).toEqual([0, 1, 2, 3]);
    expect(last.done).toBe(true);
  });
});
