/**
 * Memo stores. In memory within a process; on disk (`--cache DIR`) as content-addressed blobs: each
 * Float64Array of an output becomes a raw little-endian blob named by its SHA-256, and a JSON file per
 * memo key describes the object with references to its blobs.
 *
 * A disk entry proves what it is before it is returned (docs/reliability.md): it records its own key, the
 * identity of the computation (plugin@version, config hash, parameters read, input keys) and the hash of its
 * encoded value; a read checks all three against what the run asks for, and every blob against its hash. Any
 * mismatch or corruption is a miss (the stage is recomputed and the entry rewritten, one warning), never a value.
 * Writes are atomic (temp file + rename; blobs before the entry that names them), so a process sharing the cache
 * never sees half an entry. The directory is bounded (least recently used entries go first; core/cache/maintenance.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { sha256, stableStringify, type EntryIdentity } from './memo-key.js';
import { DEFAULT_CACHE_MAX_BYTES, cacheUsage, pruneCache } from './maintenance.js';
import { InputError, issue } from '../schema/input-error.js';

export interface MemoStore {
  /** The stored value, or undefined when there is none (or when a stored entry cannot prove `identity`). */
  get(key: string, identity?: EntryIdentity): unknown;
  set(key: string, value: unknown, identity?: EntryIdentity): void;
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

export const ENTRY_FORMAT = 'cosmodag-memo/2';

/** A disk entry as written. */
export interface StoredEntry {
  format: string;
  key: string;
  identity: EntryIdentity | null;
  /** sha256 of JSON.stringify(value) */
  valueHash: string;
  value: Encoded;
}

export type Encoded = null | boolean | number | string | Encoded[] | { [k: string]: Encoded };

/**
 * Create (or open) a cache directory with its blobs/ and entries/ folders; a path that is a file, or that cannot be
 * created, is an input error naming --cache (exit 2) rather than a raw EEXIST/ENOTDIR/EACCES from mkdir.
 */
export function openCacheDir(dir: string): void {
  const fail = (why: string) => new InputError([issue('--cache', `${dir}: ${why}; give --cache a folder (it is created if missing)`)]);
  let st: fs.Stats | undefined;
  try { st = fs.statSync(dir); } catch { /* created below */ }
  if (st && !st.isDirectory()) throw fail('exists and is not a directory');
  for (const sub of ['blobs', 'entries']) {
    const d = path.join(dir, sub);
    try {
      fs.mkdirSync(d, { recursive: true });
      if (!fs.statSync(d).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // the nearest existing ancestor says why: a file in the way, or no permission
      let up = d;
      while (!fs.existsSync(up) && path.dirname(up) !== up) up = path.dirname(up);
      const blocker = fs.existsSync(up) && !fs.statSync(up).isDirectory() ? up : undefined;
      throw fail(
        blocker ? `cannot create the cache folder: ${blocker} is a file`
          : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? `cannot create the cache folder: no permission to write in ${up}`
          : `cannot create the cache folder ${d} (${code ?? (e as Error).message})`,
      );
    }
  }
}

export class DiskStore implements MemoStore {
  /** Called when a stored entry fails verification (it is then treated as missing, and rewritten after the recompute). */
  onCorrupt?: (key: string, why: string) => void;
  /** Bytes the directory may hold (entries + blobs); pruned (least recently used first) when a write passes it. */
  readonly maxBytes: number;
  private usage: number | null = null;
  constructor(readonly dir: string, private readonly front: MemoStore = new MemoryStore(), options: { maxBytes?: number } = {}) {
    this.maxBytes = options.maxBytes ?? DEFAULT_CACHE_MAX_BYTES;
    openCacheDir(dir);
  }

  private entryFile(key: string) { return entryPath(this.dir, key); }
  private blobFile(hash: string) { return blobPath(this.dir, hash); }

  get(key: string, identity?: EntryIdentity): unknown {
    const hot = this.front.get(key);
    if (hot !== undefined) return hot;
    const file = this.entryFile(key);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return undefined; // no entry
    }
    try {
      const entry = checkEntry(JSON.parse(text) as StoredEntry, key, identity);
      const value = this.decode(entry.value);
      this.front.set(key, value);
      touch(file); // recently used: pruning removes the least recently used entries first
      return value;
    } catch (e) {
      this.onCorrupt?.(key, (e as Error).message);
      return undefined;
    }
  }

  set(key: string, value: unknown, identity?: EntryIdentity): void {
    this.front.set(key, value);
    let added = 0;
    const encoded = this.encode(value, (bytes) => { added += bytes; });
    const valueJson = JSON.stringify(encoded);
    const text = `{"format":${JSON.stringify(ENTRY_FORMAT)},"key":${JSON.stringify(key)},"identity":${identity ? stableStringify(identity) : 'null'},"valueHash":"${sha256(valueJson)}","value":${valueJson}}`;
    writeFileAtomic(this.entryFile(key), text);
    added += text.length;
    if (this.usage === null) this.usage = cacheUsage(this.dir).bytes;
    else this.usage += added;
    if (this.usage > this.maxBytes) this.usage = pruneCache(this.dir, Math.floor(0.8 * this.maxBytes), new Set([key])).bytesAfter;
  }

  private encode(x: unknown, wrote: (bytes: number) => void): Encoded {
    if (x instanceof Float64Array) {
      const bytes = new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
      const hash = sha256(bytes);
      const file = this.blobFile(hash);
      if (!fs.existsSync(file)) { writeFileAtomic(file, bytes); wrote(bytes.byteLength); }
      return { $f64: hash, length: x.length };
    }
    if (x === undefined) return { $undefined: true };
    if (typeof x === 'number' && !Number.isFinite(x)) return { $num: String(x) };
    if (x === null || typeof x !== 'object') return x as Encoded;
    if (ArrayBuffer.isView(x)) throw new Error(`cannot store a ${x.constructor.name}: only Float64Array is supported`);
    if (Array.isArray(x)) return x.map((v) => this.encode(v, wrote));
    const out: Record<string, Encoded> = {};
    for (const [k, v] of Object.entries(x)) {
      if (typeof v === 'function') throw new Error(`cannot store a function (field "${k}"): stage outputs must be plain data`);
      out[k] = this.encode(v, wrote);
    }
    return out;
  }

  private decode(x: Encoded): unknown {
    if (x === null || typeof x !== 'object') return x;
    if (Array.isArray(x)) return x.map((v) => this.decode(v));
    if (typeof x.$f64 === 'string') {
      const hash = x.$f64;
      const file = this.blobFile(hash);
      const bytes = fs.readFileSync(file);
      if (sha256(bytes) !== hash || bytes.byteLength !== 8 * (x.length as number)) {
        // removed, so that the recompute writes it again (a kept corrupt blob would make every later run recompute)
        fs.rmSync(file, { force: true });
        throw new Error(`blob ${hash.slice(0, 12)} fails its hash check`);
      }
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

export const entryPath = (dir: string, key: string) => path.join(dir, 'entries', `${key}.json`);
export const blobPath = (dir: string, hash: string) => path.join(dir, 'blobs', hash.slice(0, 2), `${hash}.f64`);

/**
 * The entry's proof: its format, its own key (an entry copied over another's name fails here), the identity the
 * run asks for (plugin, config hash, parameters, inputs), and the hash of its value (a flipped bit fails here).
 */
export function checkEntry(entry: StoredEntry, key: string, identity?: EntryIdentity): StoredEntry {
  if (entry === null || typeof entry !== 'object') throw new Error('the entry is not an object');
  if (entry.format !== ENTRY_FORMAT) throw new Error(`unknown entry format ${JSON.stringify(entry.format)}`);
  if (entry.key !== key) throw new Error(`the entry is stored under ${key.slice(0, 12)} but records key ${String(entry.key).slice(0, 12)}`);
  if (identity && stableStringify(entry.identity) !== stableStringify(identity)) {
    const e = (entry.identity ?? {}) as Partial<EntryIdentity>;
    const what = e.plugin !== identity.plugin ? `plugin ${e.plugin} (asked: ${identity.plugin})`
      : e.config !== identity.config ? 'config hash'
        : stableStringify(e.params) !== stableStringify(identity.params) ? 'parameter values' : 'input keys';
    throw new Error(`the entry's ${what} differ from the run's`);
  }
  if (sha256(JSON.stringify(entry.value)) !== entry.valueHash) throw new Error('the entry fails its content hash');
  return entry;
}

function touch(file: string): void {
  const t = new Date();
  try { fs.utimesSync(file, t, t); } catch { /* a concurrent prune removed it: nothing to mark */ }
}

/** The check `cosmodag cache verify` applies to an entry file's text (no identity: it has no run to compare with). */
export function checkEntryText(text: string, key: string): void {
  checkEntry(JSON.parse(text) as StoredEntry, key);
}
