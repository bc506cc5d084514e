/**
 * Memo stores. In memory within a process; on disk (`--cache DIR`) as content-addressed blobs: each
 * Float64Array of an output becomes a raw little-endian blob named by its SHA-256, and a JSON file per
 * memo key describes the object with references to its blobs. Writes are atomic (temp file + rename);
 * reads verify every blob's hash, and a mismatch is a miss (the stage is recomputed), never bad data.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sha256 } from './memo-key.js';

export interface MemoStore {
  /** The stored value, or undefined when there is none. */
  get(key: string): unknown;
  set(key: string, value: unknown): void;
}

export class MemoryStore implements MemoStore {
  private readonly map = new Map<string, unknown>();
  get(key: string) { return this.map.get(key); }
  set(key: string, value: unknown) { this.map.set(key, value); }
  get size() { return this.map.size; }
}

/** Write a file atomically: a temp file in the same directory, then rename over the target. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

type Encoded = null | boolean | number | string | Encoded[] | { [k: string]: Encoded };

export class DiskStore implements MemoStore {
  /** Called when a stored entry fails verification (it is then treated as missing). */
  onCorrupt?: (key: string, why: string) => void;
  constructor(readonly dir: string, private readonly front = new MemoryStore()) {
    fs.mkdirSync(path.join(dir, 'blobs'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'entries'), { recursive: true });
  }

  private entryFile(key: string) { return path.join(this.dir, 'entries', `${key}.json`); }
  private blobFile(hash: string) { return path.join(this.dir, 'blobs', hash.slice(0, 2), `${hash}.f64`); }

  get(key: string): unknown {
    const hot = this.front.get(key);
    if (hot !== undefined) return hot;
    const file = this.entryFile(key);
    if (!fs.existsSync(file)) return undefined;
    try {
      const value = this.decode((JSON.parse(fs.readFileSync(file, 'utf8')) as { value: Encoded }).value);
      this.front.set(key, value);
      return value;
    } catch (e) {
      this.onCorrupt?.(key, (e as Error).message);
      return undefined;
    }
  }

  set(key: string, value: unknown): void {
    this.front.set(key, value);
    const encoded = this.encode(value);
    writeFileAtomic(this.entryFile(key), JSON.stringify({ format: 'cosmodag-memo/1', key, value: encoded }));
  }

  private encode(x: unknown): Encoded {
    if (x instanceof Float64Array) {
      const bytes = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
      const hash = sha256(bytes);
      const file = this.blobFile(hash);
      if (!fs.existsSync(file)) writeFileAtomic(file, bytes);
      return { $f64: hash, length: x.length };
    }
    if (x === undefined) return { $undefined: true };
    if (typeof x === 'number' && !Number.isFinite(x)) return { $num: String(x) };
    if (x === null || typeof x !== 'object') return x as Encoded;
    if (ArrayBuffer.isView(x)) throw new Error(`cannot store a ${x.constructor.name}: only Float64Array is supported`);
    if (Array.isArray(x)) return x.map((v) => this.encode(v));
    const out: Record<string, Encoded> = {};
    for (const [k, v] of Object.entries(x)) {
      if (typeof v === 'function') throw new Error(`cannot store a function (field "${k}"): stage outputs must be plain data`);
      out[k] = this.encode(v);
    }
    return out;
  }

  private decode(x: Encoded): unknown {
    if (x === null || typeof x !== 'object') return x;
    if (Array.isArray(x)) return x.map((v) => this.decode(v));
    if (typeof x.$f64 === 'string') {
      const hash = x.$f64;
      const bytes = fs.readFileSync(this.blobFile(hash));
      if (sha256(bytes) !== hash) throw new Error(`blob ${hash} fails its hash check`);
      if (bytes.byteLength !== 8 * (x.length as number)) throw new Error(`blob ${hash} has the wrong length`);
      const out = new Float64Array(x.length as number);
      new Uint8Array(out.buffer).set(bytes);
      return out;
    }
    if (x.$undefined === true) return undefined;
    if (typeof x.$num === 'string') return Number(x.$num);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) out[k] = this.decode(v);
    return out;
  }
}
