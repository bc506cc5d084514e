/**
 * Memo keys: a stage output is identified by the hash of everything that can change it — plugin id and
 * version, resolved config, values of the parameters it reads, the tangent directions asked for, the
 * keys of its inputs, and the methods (with their configs) bound to it.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

/** JSON with object keys sorted, so equal content gives equal text. Numbers keep full precision. */
export function stableStringify(x: unknown): string {
  if (x === null || typeof x !== 'object') return JSON.stringify(x) ?? 'null';
  if (Array.isArray(x)) return `[${x.map(stableStringify).join(',')}]`;
  return `{${Object.keys(x).sort().map((k) => `${JSON.stringify(k)}:${stableStringify((x as Record<string, unknown>)[k])}`).join(',')}}`;
}

export const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

export interface MemoKeyParts {
  plugin: string; // id@version
  config: unknown;
  params: Record<string, number>;
  tangents: readonly string[];
  /** Input name -> key of its source, or the keys of a `many` input's sources in order. */
  inputs: Record<string, string | string[]>;
  methods: Record<string, { id: string; version: string; config: unknown }>;
}

export const memoKey = (parts: MemoKeyParts) => sha256(stableStringify(parts));

/**
 * What a stored entry must prove on read besides its key: the plugin@version, the hash of the config (with the
 * fingerprints of the files it reads), the parameter values it read and the keys of its inputs. A disk entry
 * records it and the store compares it with what the run asks for (core/cache/store.ts).
 */
export interface EntryIdentity {
  plugin: string;
  config: string;
  params: Record<string, number>;
  inputs: Record<string, string | string[]>;
}

/**
 * Hashes already computed, by path, with the file's identity and times when they were: a sampler evaluates the same
 * pipeline thousands of times, and a stage with a data file (the likelihood's cl.tsv, 0.35 MB) would re-read and
 * re-hash it at every evaluation (~1-2 ms each time, twice per step). A kept hash is used only while device, inode,
 * size, mtime and ctime (nanoseconds) are unchanged — any write to the file changes its ctime, which no tool can set
 * back — and only if the file had not been changed within the second before it was hashed (git's "racily clean"
 * rule: a write landing in the same timestamp tick as the hash could otherwise go unseen). Bounded.
 */
const HASHED = new Map<string, { stat: string; hash: string }>();

/** Hash of a file's contents (for plugins' `fingerprint`): "missing" when it cannot be read. */
export function fileFingerprint(file: string): string {
  try {
    const st = statSync(file, { bigint: true });
    const stat = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
    const kept = HASHED.get(file);
    if (kept && kept.stat === stat) return kept.hash;
    const hash = sha256(readFileSync(file));
    // trust it later only if the file was last changed more than a second before this hash
    if (BigInt(Date.now()) * 1_000_000n - st.ctimeNs > 1_000_000_000n) {
      if (HASHED.size >= 256) HASHED.delete(HASHED.keys().next().value!);
      HASHED.set(file, { stat, hash });
    }
    return hash;
  } catch {
    return 'missing';
  }
}
