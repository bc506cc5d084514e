/**
 * Checkpoints of a chain, so that `cosmodag sample --resume` continues after a kill -9 with nothing lost and the
 * same draws an uninterrupted run gives:
 *
 *   <out>/checkpoint/chain_<k>.draws.jsonl   every draw so far, one JSON line each (append-only)
 *   <out>/checkpoint/chain_<k>.state.json    the sampler's ChainState after the last checkpointed iteration and
 *                                            the length in bytes of the draws file at that moment
 *
 * Writing a checkpoint: append the new draws to the draws file and fsync it, then replace the state file
 * atomically (temp file + rename). Reading: the state file, then the draws file cut to the recorded length —
 * draws appended after the last state (a kill between the two writes, or in the middle of a line) are dropped,
 * and the chain redoes those iterations from the state, drawing the same numbers (its RNG is in the state).
 *
 * JSON keeps every finite double exactly (shortest round-trip representation); the codec below also keeps
 * what plain JSON would lose in a state: non-finite numbers and -0 ({"$num": "-Infinity"}) and typed arrays
 * ({"$f64": [...]}, {"$i32": [...]}).
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../cache/store.js';
import type { ChainState, Draw } from '../../plugins/contracts/sampler.js';

/** JSON.stringify replacer/reviver pair keeping non-finite numbers and typed arrays. */
/** A number JSON cannot hold exactly (non-finite, or -0) as a tagged string. */
const special = (x: number): number | { $num: string } => (!Number.isFinite(x) ? { $num: String(x) } : Object.is(x, -0) ? { $num: '-0' } : x);

export function encodeJson(value: unknown): string {
  return JSON.stringify(value, function (this: unknown, _key, v: unknown) {
    if (typeof v === 'number') return special(v);
    if (v instanceof Float64Array) return { $f64: Array.from(v, special) };
    if (v instanceof Int32Array) return { $i32: Array.from(v) };
    return v;
  });
}

export function decodeJson<T = unknown>(text: string): T {
  const num = (x: unknown): number => (typeof x === 'number' ? x : Number((x as { $num: string }).$num));
  return JSON.parse(text, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1) {
        const o = v as Record<string, unknown>;
        if (keys[0] === '$num') return Number(o.$num);
        if (keys[0] === '$f64' && Array.isArray(o.$f64)) return Float64Array.from(o.$f64 as unknown[], num);
        if (keys[0] === '$i32' && Array.isArray(o.$i32)) return Int32Array.from(o.$i32 as number[]);
      }
    }
    return v;
  }) as T;
}

/** A draw as stored: the unconstrained position x (exact), its log density, the iteration it came from. */
export interface StoredDraw {
  iteration: number;
  walker: number;
  warmup: boolean;
  logDensity: number;
  x: Float64Array;
  stats: Record<string, number>;
}

export function storedDraw(iteration: number, d: Draw): StoredDraw {
  return { iteration, walker: d.walker, warmup: d.warmup, logDensity: d.logDensity, x: Float64Array.from(d.x), stats: { ...d.stats } };
}

function drawLine(d: StoredDraw): string {
  return encodeJson({ i: d.iteration, w: d.walker, u: d.warmup ? 1 : 0, lp: d.logDensity, x: Array.from(d.x), s: d.stats }) + '\n';
}

function parseDraw(line: string): StoredDraw {
  const o = decodeJson<{ i: number; w: number; u: number; lp: number; x: number[]; s: Record<string, number> }>(line);
  return { iteration: o.i, walker: o.w, warmup: o.u === 1, logDensity: o.lp, x: Float64Array.from(o.x), stats: o.s };
}

/** What a chain's state file holds. */
export interface ChainCheckpoint {
  /** 1-based chain number. */
  chain: number;
  state: ChainState;
  /** Length of the draws file that goes with this state. */
  drawsBytes: number;
  draws: number;
  /** Likelihood evaluations so far (sampler.evaluations(state)). */
  evaluations: number;
  /** Seconds spent stepping this chain so far (over all sessions). */
  seconds: number;
  /** Seconds and likelihood evaluations of the warm-up (once it is over; for ESS per second of the sampling phase). */
  warmupSeconds?: number;
  warmupEvaluations?: number;
  /** The target's counts (outside the physical conditions, failed evaluations). */
  counts: { outside: number; failed: number; firstFailure?: string };
  /** True once the chain reached its stopping rule. */
  done: boolean;
}

export const checkpointDir = (out: string) => path.join(out, 'checkpoint');
const stateFile = (out: string, chain: number) => path.join(checkpointDir(out), `chain_${chain}.state.json`);
const drawsFile = (out: string, chain: number) => path.join(checkpointDir(out), `chain_${chain}.draws.jsonl`);

/** Appends a chain's draws and replaces its state file (the order that makes a kill at any moment harmless). */
export class ChainCheckpointer {
  private fd: number;
  private bytes: number;
  private count: number;
  private pending: string[] = [];
  private pendingDraws = 0;

  /** Open for a fresh chain (truncating) or to continue `from` (cutting the draws file to its recorded length). */
  constructor(readonly out: string, readonly chain: number, from?: ChainCheckpoint) {
    fs.mkdirSync(checkpointDir(out), { recursive: true });
    const file = drawsFile(out, chain);
    if (from) {
      fs.truncateSync(file, from.drawsBytes);
      this.bytes = from.drawsBytes;
      this.count = from.draws;
    } else {
      fs.writeFileSync(file, '');
      this.bytes = 0;
      this.count = 0;
    }
    this.fd = fs.openSync(file, 'a');
  }

  /** Queue draws (written at the next checkpoint). */
  add(draws: readonly StoredDraw[]): void {
    for (const d of draws) this.pending.push(drawLine(d));
    this.pendingDraws += draws.length;
  }

  /** Write the queued draws, then the state (atomically). */
  checkpoint(c: Omit<ChainCheckpoint, 'chain' | 'drawsBytes' | 'draws'>): void {
    if (this.pending.length) {
      const buf = Buffer.from(this.pending.join(''));
      fs.writeSync(this.fd, buf);
      fs.fsyncSync(this.fd);
      this.bytes += buf.length;
      this.count += this.pendingDraws;
      this.pending = [];
      this.pendingDraws = 0;
    }
    const full: ChainCheckpoint = { ...c, chain: this.chain, drawsBytes: this.bytes, draws: this.count };
    writeFileAtomic(stateFile(this.out, this.chain), encodeJson(full));
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/** The last checkpoint of a chain, or null when there is none. */
export function readCheckpoint(out: string, chain: number): ChainCheckpoint | null {
  const f = stateFile(out, chain);
  if (!fs.existsSync(f)) return null;
  return decodeJson<ChainCheckpoint>(fs.readFileSync(f, 'utf8'));
}

/** The draws of a chain up to its last checkpoint. */
export function readDraws(out: string, chain: number, c: ChainCheckpoint): StoredDraw[] {
  const file = drawsFile(out, chain);
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(c.drawsBytes);
    let read = 0;
    while (read < c.drawsBytes) {
      const n = fs.readSync(fd, buf, read, c.drawsBytes - read, read);
      if (n === 0) throw new Error(`${file} is shorter (${read} bytes) than its checkpoint records (${c.drawsBytes}); the checkpoint is damaged: start again without --resume`);
      read += n;
    }
    const lines = buf.toString('utf8').split('\n').filter((l) => l.length);
    if (lines.length !== c.draws) throw new Error(`${file} holds ${lines.length} draws where its checkpoint records ${c.draws}; the checkpoint is damaged: start again without --resume`);
    return lines.map(parseDraw);
  } finally {
    fs.closeSync(fd);
  }
}
