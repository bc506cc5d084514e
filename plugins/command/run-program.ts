/**
 * Running an external program for a `command` stage: resolving it (relative to the pipeline file, or on
 * PATH), filling `{{placeholders}}` in its arguments and input template, and running it in its own
 * temporary directory with a timeout. Every failure — not found, timed out, killed, non-zero exit — is an
 * error naming the program, how it was run, and the end of what it printed.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileFingerprint, sha256 } from '../../core/cache/memo-key.js';

/** Scripts run with the Node that runs cosmodag (no shebang or exec bit needed, same on every OS). */
const NODE_SCRIPT = /\.(mjs|cjs|js)$/i;

export interface ResolvedProgram {
  /** What the config said. */
  spec: string;
  /** Absolute path of the program file. */
  file: string;
  /** The executable actually started (the program itself, Node, or the configured interpreter). */
  command: string;
  /** Arguments before the user's (the program file when run through an interpreter). */
  prefix: string[];
}

/** Search PATH for an executable name. */
function onPath(name: string): string | null {
  const exts = process.platform === 'win32' ? (process.env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const f = path.join(dir, name + ext);
      try {
        if (fs.statSync(f).isFile()) return f;
      } catch { /* not here */ }
    }
  }
  return null;
}

/**
 * Where a program named in a config lives: a path (with a slash, or a file next to the pipeline) resolves
 * against the pipeline's directory; a bare name that is no such file is looked up on PATH.
 * Returns an error message (without a JSON path) when it cannot be found.
 */
export function locate(spec: string, baseDir: string): { file: string } | { error: string } {
  const explicit = spec.includes('/') || spec.includes('\\') || spec.startsWith('.');
  const local = path.resolve(baseDir, spec);
  if (explicit || fs.existsSync(local)) {
    let st: fs.Stats;
    try {
      st = fs.statSync(local);
    } catch {
      return { error: `program ${JSON.stringify(spec)} not found: no file ${local} (relative paths are resolved against the pipeline file's directory, ${baseDir})` };
    }
    if (!st.isFile()) return { error: `program ${JSON.stringify(spec)} resolves to ${local}, which is not a file` };
    return { file: local };
  }
  const found = onPath(spec);
  if (!found) return { error: `program ${JSON.stringify(spec)} is neither a file in ${baseDir} nor a command on PATH` };
  return { file: found };
}

export function resolveProgram(spec: string, interpreter: string | undefined, baseDir: string): ResolvedProgram {
  const where = locate(spec, baseDir);
  if ('error' in where) throw new Error(where.error);
  const file = where.file;
  if (interpreter) {
    const ip = locate(interpreter, baseDir);
    if ('error' in ip) throw new Error(`interpreter: ${ip.error}`);
    return { spec, file, command: ip.file, prefix: [file] };
  }
  if (NODE_SCRIPT.test(file)) return { spec, file, command: process.execPath, prefix: [file] };
  return { spec, file, command: file, prefix: [] };
}

/** Problems that make a program unusable, for a plan-time check (no JSON path). */
export function programProblems(spec: string, interpreter: string | undefined, baseDir: string): string[] {
  const where = locate(spec, baseDir);
  if ('error' in where) return [where.error];
  const out: string[] = [];
  if (interpreter) {
    const ip = locate(interpreter, baseDir);
    if ('error' in ip) out.push(`interpreter: ${ip.error}`);
  } else if (!NODE_SCRIPT.test(where.file) && process.platform !== 'win32') {
    try {
      fs.accessSync(where.file, fs.constants.X_OK);
    } catch {
      out.push(`program ${where.file} is not executable (chmod +x it, or name an interpreter in with.interpreter)`);
    }
  }
  return out;
}

/**
 * Memo-key material: the hash of the program file (and of the interpreter's identity), so that editing the
 * program recomputes the stage. Node scripts add the Node version; other interpreters their path.
 */
export function programFingerprint(spec: string, interpreter: string | undefined, baseDir: string): string {
  const where = locate(spec, baseDir);
  if ('error' in where) return 'missing';
  const parts = [fileFingerprint(where.file)];
  if (interpreter) {
    const ip = locate(interpreter, baseDir);
    parts.push('error' in ip ? 'missing-interpreter' : ip.file);
  } else if (NODE_SCRIPT.test(where.file)) parts.push(`node ${process.version}`);
  return sha256(parts.join('\n'));
}

// ---------------------------------------------------------------------------------------------------------
// placeholders

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

/** Names of the `{{placeholders}}` in a text. */
export function placeholdersIn(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

/** Replace every `{{name}}`; an unknown name is an error listing the known ones. */
export function fillPlaceholders(text: string, values: Record<string, string>, where: string): string {
  return text.replace(PLACEHOLDER, (_, name: string) => {
    if (!(name in values)) throw new Error(`${where}: unknown placeholder {{${name}}}; known: ${Object.keys(values).map((k) => `{{${k}}}`).join(', ')}`);
    return values[name];
  });
}

/** A number written so that it reads back exactly (shortest round-trip form). */
export const exactNumber = (x: number): string => String(x);

// ---------------------------------------------------------------------------------------------------------
// running

export interface RunRequest {
  program: ResolvedProgram;
  args: string[];
  /** Working directory (a fresh temporary directory per run). */
  cwd: string;
  stdin?: string;
  env?: Record<string, string>;
  timeoutSeconds: number;
  /** Most bytes kept of stdout and of stderr each (default MAX_PROGRAM_OUTPUT); more is an error. */
  maxOutputBytes?: number;
}

/** Default cap of a program's stdout (and, separately, stderr): 256 MiB, far above any table a stage reads. */
export const MAX_PROGRAM_OUTPUT = 256 * 1024 * 1024;

/** Text from a program shown in a message: control characters (except newline and tab) escaped. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\ufffd]/g, (c) => (c === '\ufffd' ? '?' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

export interface RunOutcome {
  stdout: string;
  stderr: string;
  seconds: number;
}

/** The last `lines` lines (at most `chars` characters) of a program's output, indented, for a message. */
export function tail(text: string, lines = 15, chars = 2000): string {
  const t = printable(text).trimEnd();
  if (!t) return '(nothing)';
  let cut = t.split('\n').slice(-lines).join('\n');
  if (cut.length > chars) cut = '…' + cut.slice(-chars);
  const omitted = cut.length < t.length ? '  [earlier output omitted]\n' : '';
  return '\n' + omitted + cut.split('\n').map((l) => `    | ${l}`).join('\n');
}

/** How the program was started, for messages (paths quoted when they contain spaces). */
export function commandLine(r: Pick<RunRequest, 'program' | 'args'>): string {
  const q = (s: string) => (/[\s"']/.test(s) ? JSON.stringify(s) : s);
  return [r.program.command, ...r.program.prefix, ...r.args].map(q).join(' ');
}

export class ProgramError extends Error {
  constructor(message: string, readonly outcome?: Partial<RunOutcome>) {
    super(message);
    this.name = 'ProgramError';
  }
}

/**
 * Run the program; resolve with what it printed when it exits with code 0. Rejects with a ProgramError
 * naming the program, the command line and its output on a start failure, a timeout, output beyond the cap,
 * a signal or a non-zero exit. The program runs as the leader of its own process group (detached), and on a
 * timeout, an output overflow or our own exit the whole group is killed, grandchildren included.
 */
export function runProgram(req: RunRequest): Promise<RunOutcome> {
  const t0 = performance.now();
  const name = req.program.spec;
  const how = commandLine(req);
  const cap = req.maxOutputBytes ?? MAX_PROGRAM_OUTPUT;
  return new Promise((resolve, reject) => {
    const child = spawn(req.program.command, [...req.program.prefix, ...req.args], {
      cwd: req.cwd,
      env: { ...process.env, ...(req.env ?? {}) },
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
      detached: process.platform !== 'win32', // its own process group, so that killGroup reaches grandchildren
    });
    const killGroup = () => {
      try {
        if (child.pid !== undefined && process.platform !== 'win32') process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch { /* already gone */ }
    };
    process.once('exit', killGroup);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0, errBytes = 0;
    child.stdout.on('data', (b: Buffer) => {
      outBytes += b.length;
      if (outBytes > cap) return overflow('stdout');
      out.push(b);
    });
    child.stderr.on('data', (b: Buffer) => {
      errBytes += b.length;
      if (errBytes > cap) return overflow('stderr');
      err.push(b);
    });
    // a program that does not read its stdin closes the pipe: not an error of ours
    child.stdin.on('error', () => {});
    let settled = false;
    const printed = () => ({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    const seconds = () => (performance.now() - t0) / 1000;
    const said = (p: { stdout: string; stderr: string }) => `\n  stderr:${tail(p.stderr)}\n  stdout:${tail(p.stdout)}`;
    const done = () => {
      settled = true;
      clearTimeout(timer);
      process.removeListener('exit', killGroup);
    };
    const fail = (msg: string) => {
      if (settled) return;
      done();
      killGroup(); // whatever is left of the group (a grandchild still running after its parent exited)
      const p = printed();
      reject(new ProgramError(msg + said(p), { ...p, seconds: seconds() }));
    };
    const stop = () => {
      // kill the group and answer now: a grandchild holding the output pipes open must not keep us waiting
      killGroup();
      child.stdout.destroy();
      child.stderr.destroy();
    };
    function overflow(which: string) {
      if (settled) return;
      stop();
      fail(`program ${name} wrote more than ${(cap / 1024 ** 2).toFixed(0)} MiB to ${which} and was killed (raise with.max_output_mb if that is expected); command: ${how}`);
    }
    const timer = setTimeout(() => {
      stop();
      fail(`program ${name} timed out after ${req.timeoutSeconds} s and was killed with its process group (raise with.timeout_seconds if it needs longer); command: ${how}`);
    }, req.timeoutSeconds * 1000);
    child.on('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ENOENT' ? 'not found' : e.code === 'EACCES' ? 'permission denied (is it executable?)' : e.message;
      if (settled) return;
      done();
      reject(new ProgramError(`cannot start program ${name} (${how}): ${why}`));
    });
    child.on('close', (code, signal) => {
      if (settled) return;
      const s = seconds().toFixed(2);
      if (signal) return fail(`program ${name} was killed by signal ${signal} after ${s} s; command: ${how}`);
      if (code !== 0) return fail(`program ${name} exited with code ${code} after ${s} s; command: ${how}`);
      done();
      killGroup(); // background processes it left behind
      resolve({ ...printed(), seconds: seconds() });
    });
    child.stdin.end(req.stdin ?? '');
  });
}
