/**
 * Memo keys: a stage output is identified by the hash of everything that can change it — plugin id and
 * version, resolved config, values of the parameters it reads, the tangent directions asked for, the
 * keys of its inputs, and the methods (with their configs) bound to it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

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

/** Hash of a file's contents (for plugins' `fingerprint`): "missing" when it cannot be read. */
export function fileFingerprint(file: string): string {
  try {
    return sha256(readFileSync(file));
  } catch {
    return 'missing';
  }
}
