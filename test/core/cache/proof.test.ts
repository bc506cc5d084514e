/**
 * The disk cache proves what it returns (issue 19, reproductions 1 and 6c): a flipped bit anywhere in an entry
 * file, an entry copied over another's name, an entry whose recorded identity differs from the run's, a corrupt
 * blob — each is a miss (recompute, one warning, rewrite), never a value; and the directory stays within its
 * bound, least recently used entries going first. On the real pipelines: a run on a corrupted cache writes the
 * same bytes as an uncached run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DiskStore, entryPath } from '../../../core/cache/store.js';
import { cacheUsage, pruneCache, verifyCache } from '../../../core/cache/maintenance.js';
import { checkEntryText } from '../../../core/cache/store.js';
import type { EntryIdentity } from '../../../core/cache/memo-key.js';
import { runJob } from '../../../core/cli/run-job.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-proof-'));
const id = (plugin: string, x = 1): EntryIdentity => ({ plugin, config: 'c'.repeat(64), params: { x }, inputs: { a: 'k1' } });
const KEY_A = 'a'.repeat(64), KEY_B = 'b'.repeat(64);

function stored(dir: string) {
  const s = new DiskStore(dir);
  const warnings: string[] = [];
  s.onCorrupt = (k, why) => warnings.push(`${k.slice(0, 4)} ${why}`);
  return { s, warnings };
}

describe('DiskStore proves every entry', () => {
  it('a fresh store reads back what was written, with its identity', () => {
    const dir = tmp();
    stored(dir).s.set(KEY_A, { v: Float64Array.of(1, 2, 3), n: 7 }, id('p@1'));
    const { s, warnings } = stored(dir);
    const got = s.get(KEY_A, id('p@1')) as { v: Float64Array; n: number };
    expect(Array.from(got.v)).toEqual([1, 2, 3]);
    expect(got.n).toBe(7);
    expect(warnings).toEqual([]);
  });

  it('every single flipped bit of an entry file is a miss, never a different value', () => {
    const dir = tmp();
    stored(dir).s.set(KEY_A, { v: Float64Array.of(0.5), n: 1234.5678, label: 'halofit' }, id('p@1'));
    const file = entryPath(dir, KEY_A);
    const good = fs.readFileSync(file);
    let misses = 0;
    for (let byte = 0; byte < good.length; byte++)
      for (const bit of [0, 3, 6]) {
        const bad = Buffer.from(good);
        bad[byte] ^= 1 << bit;
        fs.writeFileSync(file, bad);
        const { s, warnings } = stored(dir);
        const got = s.get(KEY_A, id('p@1')) as { v: Float64Array; n: number; label: string } | undefined;
        if (got === undefined) { misses++; expect(warnings.length).toBe(1); continue; }
        // a flip the JSON reader cannot see (e.g. in insignificant whitespace) must give the very same value
        expect([got.v[0], got.n, got.label]).toEqual([0.5, 1234.5678, 'halofit']);
      }
    expect(misses).toBeGreaterThan(0.95 * 3 * good.length);
  });

  it('an entry copied over another key is refused (the run asked for a different key)', () => {
    const dir = tmp();
    const { s } = stored(dir);
    s.set(KEY_A, { P: Float64Array.of(1) }, id('linear@1'));
    s.set(KEY_B, { P: Float64Array.of(2) }, id('nonlinear@1'));
    fs.copyFileSync(entryPath(dir, KEY_A), entryPath(dir, KEY_B));
    const fresh = stored(dir);
    expect(fresh.s.get(KEY_B, id('nonlinear@1'))).toBeUndefined();
    expect(fresh.warnings[0]).toMatch(/records key/);
  });

  it('an identity that differs from the run\'s is a miss naming what differs', () => {
    const dir = tmp();
    stored(dir).s.set(KEY_A, { n: 1 }, id('p@1', 1));
    const a = stored(dir);
    expect(a.s.get(KEY_A, id('p@2', 1))).toBeUndefined();
    expect(a.warnings[0]).toMatch(/plugin p@1 \(asked: p@2\)/);
    const b = stored(dir);
    expect(b.s.get(KEY_A, id('p@1', 2))).toBeUndefined();
    expect(b.warnings[0]).toMatch(/parameter values/);
  });

  it('a corrupt blob is a miss, is removed, and the rewrite restores it', () => {
    const dir = tmp();
    stored(dir).s.set(KEY_A, { v: Float64Array.of(1, 2) }, id('p@1'));
    const blobDir = path.join(dir, 'blobs');
    const blob = fs.readdirSync(blobDir, { recursive: true, withFileTypes: true }).find((d) => d.isFile())!;
    const blobFile = path.join(blob.parentPath, blob.name);
    const bytes = fs.readFileSync(blobFile);
    bytes[3] ^= 0x10;
    fs.writeFileSync(blobFile, bytes);
    const a = stored(dir);
    expect(a.s.get(KEY_A, id('p@1'))).toBeUndefined();
    expect(fs.existsSync(blobFile)).toBe(false);
    a.s.set(KEY_A, { v: Float64Array.of(1, 2) }, id('p@1')); // what the recompute does
    expect(Array.from((stored(dir).s.get(KEY_A, id('p@1')) as { v: Float64Array }).v)).toEqual([1, 2]);
  });

  it('stays within its bound, dropping the least recently used entries and their blobs', async () => {
    const dir = tmp();
    const s = new DiskStore(dir, undefined, { maxBytes: 1024 * 1024 });
    const key = (i: number) => i.toString(16).padStart(64, '0');
    for (let i = 0; i < 40; i++) {
      s.set(key(i), { v: new Float64Array(8192).fill(i) }, id('p@1', i)); // 64 KiB each
      if (i === 5) await new Promise((r) => setTimeout(r, 20));
      if (i > 5) new DiskStore(dir).get(key(5), id('p@1', 5)); // entry 5 is in use all along
    }
    const u = cacheUsage(dir);
    expect(u.bytes).toBeLessThanOrEqual(1024 * 1024);
    expect(fs.existsSync(entryPath(dir, key(39)))).toBe(true);
    expect(fs.existsSync(entryPath(dir, key(5)))).toBe(true);
    expect(fs.existsSync(entryPath(dir, key(0)))).toBe(false);
    // every remaining entry still reads back whole
    const v = verifyCache(dir, false, checkEntryText);
    expect(v.badEntries).toEqual([]);
    expect(v.orphanBlobs).toBe(0);
    expect(pruneCache(dir, 0).bytesAfter).toBe(0);
  });
});

describe('a run on a corrupted cache', () => {
  it('writes the same bytes as an uncached run, warns once per bad entry, and repairs the cache', async () => {
    const file = path.join(root, 'pipelines/background.json');
    const cache = tmp();
    const plain = await runJob({ file, out: tmp(), quiet: true });
    await runJob({ file, out: tmp(), quiet: true, cache });
    // flip one digit inside the stored value of the only entry
    const entries = fs.readdirSync(path.join(cache, 'entries'));
    expect(entries.length).toBe(1);
    const ef = path.join(cache, 'entries', entries[0]);
    const text = fs.readFileSync(ef, 'utf8');
    const at = text.indexOf('"value"') + 40;
    const digit = text.slice(at).search(/[0-8]/) + at;
    fs.writeFileSync(ef, text.slice(0, digit) + String(Number(text[digit]) + 1) + text.slice(digit + 1));
    const warn: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => { warn.push(String(s)); return true; });
    let again;
    try {
      again = await runJob({ file, out: tmp(), quiet: true, cache });
    } finally {
      process.stderr.write = write;
    }
    expect(warn.filter((w) => /corrupt/.test(w)).length).toBe(1);
    expect(again.computed).toEqual(['background']);
    expect(fs.readFileSync(again.files[0]).equals(fs.readFileSync(plain.files[0]))).toBe(true);
    // rewritten: the next run is served from the cache again
    const third = await runJob({ file, out: tmp(), quiet: true, cache });
    expect(third.cached).toEqual(['background']);
    expect(fs.readFileSync(third.files[0]).equals(fs.readFileSync(plain.files[0]))).toBe(true);
  });
});
