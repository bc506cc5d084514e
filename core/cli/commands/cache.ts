/** `cosmodag cache stats|prune|verify DIR`: look after an on-disk memo cache (core/cache/maintenance.ts). */
import { Args, Command, Flags } from '@oclif/core';
import fs from 'node:fs';
import path from 'node:path';
import { reportError } from '../errors.js';
import { DEFAULT_CACHE_MAX_BYTES, cacheUsage, parseSize, pruneCache, verifyCache } from '../../cache/maintenance.js';
import { checkEntryText } from '../../cache/store.js';
import { InputError, issue } from '../../schema/input-error.js';

const mib = (b: number) => `${(b / 1024 ** 2).toFixed(1)} MiB`;

function cacheDir(dir: string): string {
  const d = path.resolve(dir);
  if (!fs.existsSync(path.join(d, 'entries')) || !fs.existsSync(path.join(d, 'blobs')))
    throw new InputError([issue('DIR', `${d} is not a cosmodag cache (no entries/ and blobs/ inside)`)]);
  return d;
}

const dirArg = { dir: Args.string({ required: true, description: 'the cache directory (as given to --cache)' }) };

export class CacheStats extends Command {
  static override description = 'Size and counts of an on-disk memo cache.';
  static override args = dirArg;
  async run(): Promise<void> {
    const { args } = await this.parse(CacheStats);
    try {
      const u = cacheUsage(cacheDir(args.dir));
      this.log(`${path.resolve(args.dir)}: ${u.entries} entries (${mib(u.entryBytes)}), ${u.blobs} blobs (${mib(u.blobBytes)}), ${mib(u.bytes)} in all; default bound ${mib(DEFAULT_CACHE_MAX_BYTES)}`);
    } catch (e) {
      this.exit(reportError(e));
    }
  }
}

export class CachePrune extends Command {
  static override description = 'Remove least recently used entries until the cache holds at most --max-size, and blobs no entry names.';
  static override args = dirArg;
  static override flags = { 'max-size': Flags.string({ description: 'bound, e.g. 500M or 2G (default: 2G)' }) };
  async run(): Promise<void> {
    const { args, flags } = await this.parse(CachePrune);
    try {
      const dir = cacheDir(args.dir);
      const max = flags['max-size'] === undefined ? DEFAULT_CACHE_MAX_BYTES : parseSize(flags['max-size'], '--max-size');
      const r = pruneCache(dir, max);
      this.log(`removed ${r.removedEntries} entries and ${r.removedBlobs} blobs; ${mib(r.bytesAfter)} left`);
    } catch (e) {
      this.exit(reportError(e instanceof Error && /--max-size/.test(e.message) ? new InputError([issue('--max-size', e.message)]) : e));
    }
  }
}

export class CacheVerify extends Command {
  static override description = 'Check every entry (its key, content hash, blobs) and every blob; --fix removes what is bad (recomputed on the next run).';
  static override args = dirArg;
  static override flags = { fix: Flags.boolean({ description: 'remove corrupt entries and blobs, and blobs no entry names' }) };
  async run(): Promise<void> {
    const { args, flags } = await this.parse(CacheVerify);
    let bad = false;
    try {
      const r = verifyCache(cacheDir(args.dir), flags.fix, checkEntryText);
      for (const b of r.badEntries) this.log(`bad entry ${b.key.slice(0, 12)}: ${b.why}`);
      for (const h of r.badBlobs) this.log(`bad blob ${h.slice(0, 12)}`);
      this.log(`${r.entries} entries, ${r.blobs} blobs: ${r.badEntries.length} bad entries, ${r.badBlobs.length} bad blobs, ${r.orphanBlobs} unused blobs${flags.fix ? `; removed ${r.removed} files` : ''}`);
      bad = !flags.fix && (r.badEntries.length > 0 || r.badBlobs.length > 0);
    } catch (e) {
      this.exit(reportError(e));
    }
    if (bad) this.exit(1);
  }
}
