/**
 * fileFingerprint keeps the hashes it computed while the file's identity and times are unchanged: a rewrite (in
 * place or by rename), even to the same size, is seen at once; a file changed within the second before it was
 * hashed is hashed again next time (racily clean, as git does).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileFingerprint, sha256 } from '../../../core/cache/memo-key.js';

describe('fileFingerprint', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-fp-'));
  const file = path.join(dir, 'data.tsv');

  it('is the hash of the contents, and follows every rewrite of the file', () => {
    fs.writeFileSync(file, 'a\t1\n');
    expect(fileFingerprint(file)).toBe(sha256('a\t1\n'));
    fs.writeFileSync(file, 'a\t2\n'); // same size, at once (within the racy second)
    expect(fileFingerprint(file)).toBe(sha256('a\t2\n'));
    const other = path.join(dir, 'other.tsv');
    fs.writeFileSync(other, 'b\t3\n');
    fs.renameSync(other, file);
    expect(fileFingerprint(file)).toBe(sha256('b\t3\n'));
    fs.rmSync(file);
    expect(fileFingerprint(file)).toBe('missing');
  });

  it('a kept hash (file older than a second) still sees a rewrite to the same size and mtime', async () => {
    fs.writeFileSync(file, 'c\t4\n');
    const old = new Date(Date.now() - 5000);
    fs.utimesSync(file, old, old);
    await new Promise((r) => setTimeout(r, 1100)); // ctime now more than a second old: the hash is kept
    expect(fileFingerprint(file)).toBe(sha256('c\t4\n'));
    expect(fileFingerprint(file)).toBe(sha256('c\t4\n'));
    fs.writeFileSync(file, 'c\t5\n');
    fs.utimesSync(file, old, old); // same size and the same mtime as before: only ctime tells
    expect(fileFingerprint(file)).toBe(sha256('c\t5\n'));
  });
});
