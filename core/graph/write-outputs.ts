/**
 * Writing a run's files. Every file is written atomically. A file already in the output directory is
 * replaced only if cosmodag wrote it (it is listed, with its hash, in the directory's manifest and is
 * unchanged since) or the caller passes `force`: nothing a user wrote is overwritten without being asked.
 *
 * A file streamed while its stage computes (StagePlugin.streamFile) grows as `<file>.partial` beside its
 * target (PartialFile: rows appended as chunks arrive, readable meanwhile) and is renamed onto the target at
 * the end, so the target itself only ever holds a complete file.
 */
import { createHash, type Hash } from 'node:crypto';
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
    return this.record(file, sha256(typeof data === 'string' ? Buffer.from(data) : data));
  }

  /** Start streaming `file`: appended to `<file>.partial` beside it until committed (or aborted). */
  partial(file: string): PartialFile {
    return new PartialFile(this, file);
  }

  /** Rename a complete partial file onto its target (atomic), with the same protection and manifest as write. */
  commit(p: PartialFile): string {
    if (!this.mayReplace(p.file)) {
      p.abort();
      this.checkWritable([p.file]);
    }
    const digest = p.close();
    const full = path.join(this.dir, p.file);
    fs.renameSync(p.path, full);
    return this.record(p.file, digest);
  }

  private record(file: string, digest: string): string {
    const full = path.join(this.dir, file);
    this.manifest.files[file] = { sha256: digest, pipeline: this.pipelineName, written: new Date().toISOString() };
    writeFileAtomic(path.join(this.dir, MANIFEST), JSON.stringify(this.manifest, null, 1));
    this.written.push(full);
    return full;
  }
}

/** A file being streamed: `<file>.partial` in the output directory, appended to, with its running hash. */
export class PartialFile {
  readonly path: string;
  private fd: number | null;
  private readonly hash: Hash = createHash('sha256');
  private digest: string | null = null;
  constructor(readonly writer: OutputWriter, readonly file: string) {
    this.path = path.join(writer.dir, `${file}.partial`);
    fs.mkdirSync(path.dirname(this.path), { recursive: true });
    this.fd = fs.openSync(this.path, 'w');
  }

  append(data: string | Uint8Array): void {
    if (this.fd === null) throw new Error(`${this.path} is closed`);
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    fs.writeSync(this.fd, bytes);
    this.hash.update(bytes);
  }

  /** Flush and close; the SHA-256 of everything appended. */
  close(): string {
    if (this.fd !== null) {
      fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
      this.fd = null;
      this.digest = this.hash.digest('hex');
    }
    return this.digest!;
  }

  /** Close and remove the partial file (a failed or superseded stream). */
  abort(): void {
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
    fs.rmSync(this.path, { force: true });
  }
}
