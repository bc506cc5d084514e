/**
 * Running the built CLI (`cosmodag sweep`, `cosmodag worker`, `cosmodag run`) from the sweep tests, and reading what
 * they write: sweep.tsv without its timing column, event logs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
/** The repository (also when this module runs compiled, from dist/test/support: the benchmarks). */
export const root = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');
export const cli = path.join(root, 'bin/run.js');
export const SMALL_FISHER = path.join(root, 'test/fixtures/sweep-small-fisher.json');

export const tmpDir = (tag = 'sweep') => fs.mkdtempSync(path.join(os.tmpdir(), `cosmodag-${tag}-`));

export interface Finished { code: number | null; stdout: string; stderr: string; seconds: number }

/** Run the CLI to the end (synchronously). */
export function runCli(args: string[], timeoutMs = 300_000, env: Record<string, string> = {}): Finished {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: root, timeout: timeoutMs, maxBuffer: 1 << 26, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, seconds: (performance.now() - t0) / 1000 };
}

/** A CLI process running in the background, its output collected as it comes. */
export class Background {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<Finished>;
  private readonly t0 = performance.now();
  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    this.child.stdout!.on('data', (d) => { this.stdout += d; });
    this.child.stderr!.on('data', (d) => { this.stderr += d; });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve({ code, stdout: this.stdout, stderr: this.stderr, seconds: (performance.now() - this.t0) / 1000 })));
  }

  /** Wait until `test` holds for stdout + stderr (polled), or fail after timeoutMs. */
  async until(test: (out: string) => boolean, what: string, timeoutMs = 120_000): Promise<void> {
    const t0 = Date.now();
    while (!test(this.stdout + this.stderr)) {
      if (this.child.exitCode !== null) throw new Error(`the process exited (code ${this.child.exitCode}) before ${what}:\n${this.stdout}\n${this.stderr}`);
      if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}:\n${this.stdout}\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stop it (if still running) and wait for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Finished> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

/** sweep.tsv as rows of cells, without the `seconds` column (timings differ between runs). */
export function tableWithoutSeconds(file: string): string[][] {
  const rows = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split('\t'));
  const j = rows[0].indexOf('seconds');
  return rows.map((r) => r.filter((_, i) => i !== j));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- event records of several shapes, read by tests
export function readEvents(file: string): Record<string, any>[] {
  return fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** Every file under a directory (recursively), with its contents. */
export function allFiles(dir: string): { file: string; data: Buffer }[] {
  const out: { file: string; data: Buffer }[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push({ file: p, data: fs.readFileSync(p) });
    }
  };
  walk(dir);
  return out;
}
