/**
 * Keeping an on-disk memo cache bounded and honest (`cosmodag cache stats|prune|verify`, and DiskStore's size
 * bound): usage, least-recently-used pruning (an entry's mtime is its last use: DiskStore touches it on every
 * hit), and verification of every entry and blob. Blobs are shared between entries (content-addressed), so a
 * blob goes only when no remaining entry names it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sha256 } from './memo-key.js';

/** Default bound of a cache directory: 2 GiB (override with --cache-max-size). */
export const DEFAULT_CACHE_MAX_BYTES = 2 * 1024 ** 3;

interface FileInfo { file: string; bytes: number; mtimeMs: number }

function listFiles(dir: string, suffix: string): FileInfo[] {
  const out: FileInfo[] = [];
  const walk = (d: string) => {
    let names: fs.Dirent[];
    try { names = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const n of names) {
      const f = path.join(d, n.name);
      if (n.isDirectory()) walk(f);
      else if (n.name.endsWith(suffix)) {
        try {
          const st = fs.statSync(f);
          out.push({ file: f, bytes: st.size, mtimeMs: st.mtimeMs });
        } catch { /* removed meanwhile */ }
      }
    }
  };
  walk(dir);
  return out;
}

export interface CacheUsage { bytes: number; entries: number; blobs: number; entryBytes: number; blobBytes: number }

export function cacheUsage(dir: string): CacheUsage {
  const entries = listFiles(path.join(dir, 'entries'), '.json');
  const blobs = listFiles(path.join(dir, 'blobs'), '.f64');
  const entryBytes = entries.reduce((a, e) => a + e.bytes, 0), blobBytes = blobs.reduce((a, b) => a + b.bytes, 0);
  return { bytes: entryBytes + blobBytes, entries: entries.length, blobs: blobs.length, entryBytes, blobBytes };
}

/** The blob hashes an entry's text names. */
function blobsOf(text: string): string[] {
  return [...text.matchAll(/"\$f64":"([0-9a-f]{64})"/g)].map((m) => m[1]);
}

const keyOf = (file: string) => path.basename(file, '.json');
const hashOf = (file: string) => path.basename(file, '.f64');

/**
 * Remove least recently used entries until the directory holds at most `targetBytes`, then every blob no
 * remaining entry names. Entries in `keep` (the one just written) stay.
 */
export function pruneCache(dir: string, targetBytes: number, keep: ReadonlySet<string> = new Set()): { removedEntries: number; removedBlobs: number; bytesAfter: number } {
  const entries = listFiles(path.join(dir, 'entries'), '.json').sort((a, b) => a.mtimeMs - b.mtimeMs);
  const blobs = listFiles(path.join(dir, 'blobs'), '.f64');
  const blobBytes = new Map(blobs.map((b) => [hashOf(b.file), b.bytes]));
  const refs = new Map<string, number>();
  const named = new Map<string, string[]>();
  for (const e of entries) {
    let text = '';
    try { text = fs.readFileSync(e.file, 'utf8'); } catch { /* gone */ }
    const hs = [...new Set(blobsOf(text))];
    named.set(e.file, hs);
    for (const h of hs) refs.set(h, (refs.get(h) ?? 0) + 1);
  }
  let bytes = entries.reduce((a, e) => a + e.bytes, 0) + blobs.reduce((a, b) => a + b.bytes, 0);
  let removedEntries = 0, removedBlobs = 0;
  const dropBlob = (h: string) => {
    const f = path.join(dir, 'blobs', h.slice(0, 2), `${h}.f64`);
    try { fs.rmSync(f); removedBlobs++; bytes -= blobBytes.get(h) ?? 0; } catch { /* already gone */ }
  };
  for (const e of entries) {
    if (bytes <= targetBytes) break;
    if (keep.has(keyOf(e.file))) continue;
    try { fs.rmSync(e.file); } catch { continue; }
    removedEntries++;
    bytes -= e.bytes;
    for (const h of named.get(e.file) ?? []) {
      const r = (refs.get(h) ?? 1) - 1;
      refs.set(h, r);
      if (r === 0) dropBlob(h);
    }
  }
  // blobs that no entry names (left by a crash between a blob's write and its entry's)
  for (const b of blobs) { const h = hashOf(b.file); if (!refs.get(h) && fs.existsSync(b.file)) dropBlob(h); }
  return { removedEntries, removedBlobs, bytesAfter: bytes };
}

export interface VerifyReport { entries: number; blobs: number; badEntries: { key: string; why: string }[]; badBlobs: string[]; orphanBlobs: number; removed: number }

/**
 * Check every entry (parses, records its own key, content hash matches, names existing blobs) and every blob
 * (content matches its name). `fix`: remove what is bad (the next run recomputes it) and orphaned blobs.
 */
export function verifyCache(dir: string, fix = false, checkEntryText: (text: string, key: string) => void): VerifyReport {
  const entries = listFiles(path.join(dir, 'entries'), '.json');
  const blobs = listFiles(path.join(dir, 'blobs'), '.f64');
  const report: VerifyReport = { entries: entries.length, blobs: blobs.length, badEntries: [], badBlobs: [], orphanBlobs: 0, removed: 0 };
  const badBlobs = new Set<string>();
  for (const b of blobs) {
    const h = hashOf(b.file);
    if (sha256(fs.readFileSync(b.file)) !== h) { badBlobs.add(h); report.badBlobs.push(h); }
  }
  const named = new Set<string>();
  for (const e of entries) {
    const key = keyOf(e.file);
    try {
      const text = fs.readFileSync(e.file, 'utf8');
      checkEntryText(text, key);
      for (const h of blobsOf(text)) {
        named.add(h);
        if (badBlobs.has(h)) throw new Error(`names the corrupt blob ${h.slice(0, 12)}`);
        if (!fs.existsSync(path.join(dir, 'blobs', h.slice(0, 2), `${h}.f64`))) throw new Error(`names the missing blob ${h.slice(0, 12)}`);
      }
    } catch (err) {
      report.badEntries.push({ key, why: (err as Error).message });
      if (fix) { fs.rmSync(e.file, { force: true }); report.removed++; }
    }
  }
  for (const b of blobs) {
    const h = hashOf(b.file);
    const orphan = !named.has(h);
    if (orphan) report.orphanBlobs++;
    if (fix && (orphan || badBlobs.has(h))) { fs.rmSync(b.file, { force: true }); report.removed++; }
  }
  return report;
}

/** "2G", "500M", "1.5GiB", "1000000" -> bytes; throws with what is allowed. */
export function parseSize(text: string, what = '--cache-max-size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(i?[bB])?\s*$/.exec(text);
  if (!m) throw new Error(`${what}: "${text}" is not a size; use a number of bytes or a number with K, M, G or T (e.g. 2G)`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const v = Number(m[1]) * mult;
  if (!(v >= 1024 * 1024)) throw new Error(`${what}: ${text} is below the minimum of 1M`);
  return Math.floor(v);
}
