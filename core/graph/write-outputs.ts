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
import os from 'node:os';
import path from 'node:path';
import { sha256 } from '../cache/memo-key.js';
import { writeFileAtomic } from '../cache/store.js';
import { InputError, issue } from '../schema/input-error.js';
import { outputNameProblem, outputPathProblem } from './output-names.js';

export { outputNameProblem };

export const MANIFEST = '.cosmodag-manifest.json';
export const LOCK = '.cosmodag-lock';
const MANIFEST_FORMAT = 'cosmodag-outputs/1';

/**
 * The manifest lists every file cosmodag wrote here with its hash. It is written ahead: an entry gets the new
 * file's hash as `pending` before the file is renamed into place, and becomes `sha256` after, so a kill at any
 * point leaves a directory the next run recognises (the file on disk matches one of the two).
 */
interface Manifest { format?: string; files: Record<string, { sha256: string; pending?: string; pipeline: string; written: string }> }

function readManifest(dir: string, force: boolean): Manifest {
  const file = path.join(dir, MANIFEST);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return { format: MANIFEST_FORMAT, files: {} };
  }
  let m: Manifest | null = null;
  try {
    m = JSON.parse(text) as Manifest;
  } catch { /* not JSON */ }
  const ours = m !== null && typeof m === 'object' && (m.format === undefined || m.format === MANIFEST_FORMAT) && typeof m.files === 'object' && m.files !== null && !Array.isArray(m.files);
  if (ours) return { format: MANIFEST_FORMAT, files: m!.files };
  if (force) return { format: MANIFEST_FORMAT, files: {} };
  throw new InputError([issue('--out', `${file} exists and is not a cosmodag manifest; pass --force to replace it, or choose another --out`)]);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * One run at a time per output directory: `<dir>/.cosmodag-lock` (created exclusively, holding pid and host).
 * A second run waits for it (saying so once) up to `waitMs`; a lock left by a process that no longer exists on
 * this host is taken over. Returns the release function (also run at process exit).
 */
export async function lockOutputDir(dir: string, o: { waitMs?: number; onWait?: (msg: string) => void } = {}): Promise<() => void> {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, LOCK);
  const me = JSON.stringify({ pid: process.pid, host: os.hostname(), started: new Date().toISOString() });
  const deadline = Date.now() + (o.waitMs ?? 30 * 60_000);
  let said = false;
  for (;;) {
    try {
      fs.writeFileSync(file, me, { flag: 'wx' });
      const release = () => {
        try {
          if (fs.readFileSync(file, 'utf8') === me) fs.rmSync(file);
        } catch { /* already gone */ }
      };
      process.once('exit', release);
      return () => { process.removeListener('exit', release); release(); };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new InputError([issue('--out', `cannot create ${file}: ${(e as Error).message}`)]);
    }
    let holder: { pid?: number; host?: string; started?: string } = {};
    try { holder = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof holder; } catch { /* being written, or removed */ }
    if (holder.host === os.hostname() && typeof holder.pid === 'number' && !alive(holder.pid)) {
      fs.rmSync(file, { force: true }); // left by a killed run
      continue;
    }
    if (Date.now() > deadline)
      throw new InputError([issue('--out', `${dir} is locked by another cosmodag run (pid ${holder.pid ?? '?'} on ${holder.host ?? '?'}, since ${holder.started ?? '?'}); remove ${file} if that run is gone`)]);
    if (!said) {
      o.onWait?.(`waiting: another cosmodag run (pid ${holder.pid ?? '?'} on ${holder.host ?? '?'}) is writing to ${dir}`);
      said = true;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export class OutputWriter {
  private readonly manifest: Manifest;
  readonly written: string[] = [];
  constructor(readonly dir: string, readonly pipelineName: string, readonly force = false) {
    fs.mkdirSync(dir, { recursive: true });
    this.manifest = readManifest(dir, force);
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
    if (!entry) return false;
    const h = sha256(fs.readFileSync(full));
    return entry.sha256 === h || entry.pending === h;
  }

  write(file: string, data: string | Uint8Array): string {
    // plain names, or cosmodag's own sub-folders (variants/<v>/cl.tsv): never outside the directory
    const problem = outputPathProblem(file);
    if (problem) throw new InputError([issue('outputs', `output file ${problem}`)]);
    if (!this.mayReplace(file)) this.checkWritable([file]);
    const full = path.join(this.dir, file);
    const digest = sha256(typeof data === 'string' ? Buffer.from(data) : data);
    this.intend(file, digest);
    writeFileAtomic(full, data);
    return this.record(file, digest);
  }

  /** Write-ahead: the manifest learns the new file's hash before the file is renamed into place. */
  private intend(file: string, digest: string): void {
    const old = this.manifest.files[file];
    this.manifest.files[file] = { sha256: old?.sha256 ?? '', pending: digest, pipeline: this.pipelineName, written: old?.written ?? '' };
    this.saveManifest();
  }

  private saveManifest(): void {
    writeFileAtomic(path.join(this.dir, MANIFEST), JSON.stringify({ format: MANIFEST_FORMAT, files: this.manifest.files }, null, 1));
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
    this.intend(p.file, digest);
    fs.renameSync(p.path, full);
    return this.record(p.file, digest);
  }

  private record(file: string, digest: string): string {
    const full = path.join(this.dir, file);
    this.manifest.files[file] = { sha256: digest, pipeline: this.pipelineName, written: new Date().toISOString() };
    this.saveManifest();
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
