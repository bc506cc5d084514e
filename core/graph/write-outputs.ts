/**
 * Writing a run's files. Every file is written atomically. A file already in the output directory is
 * replaced only if cosmodag wrote it (it is listed, with its hash, in the directory's manifest and is
 * unchanged since) or the caller passes `force`: nothing a user wrote is overwritten without being asked.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sha256 } from '../cache/memo-key.js';
import { writeFileAtomic } from '../cache/store.js';
import { InputError, issue } from '../schema/input-error.js';

export const MANIFEST = '.cosmodag-manifest.json';

interface Manifest { files: Record<string, { sha256: string; pipeline: string; written: string }> }

function readManifest(dir: string): Manifest {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8')) as Manifest;
  } catch {
    return { files: {} };
  }
}

export class OutputWriter {
  private readonly manifest: Manifest;
  readonly written: string[] = [];
  constructor(readonly dir: string, readonly pipelineName: string, readonly force = false) {
    fs.mkdirSync(dir, { recursive: true });
    this.manifest = readManifest(dir);
  }

  /** Refuse before any compute if a file we would write belongs to the user. */
  checkWritable(files: string[]): void {
    const blocked = files.filter((f) => !this.mayReplace(f));
    if (blocked.length)
      throw new InputError(blocked.map((f) => issue('--out', `${path.join(this.dir, f)} exists and was not written by cosmodag (or was edited since); pass --force to overwrite it, or choose another --out`)));
  }

  private mayReplace(file: string): boolean {
    const full = path.join(this.dir, file);
    if (this.force || !fs.existsSync(full)) return true;
    const entry = this.manifest.files[file];
    return !!entry && entry.sha256 === sha256(fs.readFileSync(full));
  }

  write(file: string, data: string | Uint8Array): string {
    if (!this.mayReplace(file)) this.checkWritable([file]);
    const full = path.join(this.dir, file);
    writeFileAtomic(full, data);
    this.manifest.files[file] = { sha256: sha256(typeof data === 'string' ? Buffer.from(data) : data), pipeline: this.pipelineName, written: new Date().toISOString() };
    writeFileAtomic(path.join(this.dir, MANIFEST), JSON.stringify(this.manifest, null, 1));
    this.written.push(full);
    return full;
  }
}
