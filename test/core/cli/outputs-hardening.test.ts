/**
 * Outputs stay inside --out and a run never leaves a directory the next run refuses (issue 19, reproductions 2,
 * 5, 6, 7 and 8): output names are plain and unique (validate, exit 2); prototype keys and out-of-range numbers
 * are refused with their path; a crash between a file and its manifest entry leaves a directory the rerun accepts;
 * two runs into one --out are serialised by a lock; a foreign manifest is not overwritten; --events pointing at a
 * directory fails before compute; every error is printed once.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MANIFEST, OutputWriter } from '../../../core/graph/write-outputs.js';
import { preparePipeline, runJob } from '../../../core/cli/run-job.js';
import { MemoryStore } from '../../../core/cache/store.js';
import { InputError } from '../../../core/schema/input-error.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const bin = path.join(root, 'bin/run.js');
const BG = path.join(root, 'pipelines/background.json');
const X3 = path.join(root, 'pipelines/euclid-3x2pt.json');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-out-'));
const cli = (args: string[], cwd = tmp()) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd });

describe('validate refuses what would misbehave later', () => {
  const cases: [string, string[], RegExp][] = [
    ['two outputs into one file', ['--set', 'outputs={"cl":"cl.tsv","nz":"cl.tsv"}'], /outputs\.nz: cl\.tsv is also the output of outputs\.cl/],
    ['an output outside --out', ['--set', 'outputs={"cl":"../../escape.tsv"}'], /outputs\.cl: the file name "\.\.\/\.\.\/escape\.tsv" has a directory part/],
    ['a hidden output name', ['--set', `outputs={"cl":"${MANIFEST}"}`], /outputs\.cl: the file name .* is not allowed/],
    ['a huge multipole', ['--set', 'stages.cl.with.ell=[1e308]'], /stages\.cl\.with\.ell\[0\]: 1e\+308 is outside \[2, 100000\]/],
    ['a million integer multipoles', ['--set', 'stages.cl.with.ell={"min":2,"max":1000000,"spacing":"integer"}'], /at most 20000/],
    ['ten million log multipoles', ['--set', 'stages.cl.with.ell.count=10000000'], /stages\.cl\.with\.ell: 10000000 multipoles; at most 20000/],
    ['descending multipoles', ['--set', 'stages.cl.with.ell=[100,50]'], /stages\.cl\.with\.ell\[1\]: 50 follows 100; multipoles must be strictly ascending/],
    ['ell.min above ell.max', ['--set', 'stages.cl.with.ell={"min":100,"max":50}'], /stages\.cl\.with\.ell\.max: 50 is below/],
    ['__proto__ in --set', ['--set', '__proto__.x=1'], /__proto__\.x: the key "__proto__" is not allowed/],
    ['constructor inside a --set value', ['--set', 'stages.cl.with={"constructor":{"a":1}}'], /stages\.cl\.with\.constructor: the key "constructor" is not allowed/],
    ['__proto__ as a parameter', ['--param', '__proto__=1'], /--param: "__proto__" is not a parameter name/],
    ['a hex number', ['--param', 'Omega_m=0x10'], /--param: "Omega_m=0x10" is not of the form NAME=NUMBER/],
    ['1e999', ['--set', 'parameters.h.value=1e999'], /parameters\.h\.value: is a number out of the range of a double/],
    ['a companion file of one output (cl.json beside cl.tsv) as another output', ['--set', 'outputs={"cl":"cl.tsv","nz":"cl.json"}'],
      /^error: outputs\.nz: cl\.json is also written by outputs\.cl \(written by spectra\/limber beside cl\.tsv\); every output needs its own file names/],
  ];
  // in-process (what `cosmodag validate` runs, and the text reportError prints); one CLI run checks the exit code
  for (const [what, args, pattern] of cases)
    it(`${what}: an input error naming the path, printed once`, async () => {
      const params = args[0] === '--param' ? [args[1]] : [], sets = args[0] === '--set' ? [args[1]] : [];
      const e = await preparePipeline(X3, params, sets).then(() => null, (x: unknown) => x);
      expect(e).toBeInstanceOf(InputError);
      const printed = (e as InputError).report();
      expect(printed).toMatch(pattern);
      const first = printed.split('\n')[0].replace(/^error: /, '');
      expect(printed.split(first).length - 1).toBe(1); // the message once, not repeated as a detail
    });

  it('the CLI: exit 2, the message on stderr, no stack trace', () => {
    const r = cli(['validate', X3, '--set', 'outputs={"cl":"../../escape.tsv"}']);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: outputs\.cl: the file name "\.\.\/\.\.\/escape\.tsv" has a directory part/);
    expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('a pipeline file nested 10000 levels deep: exit 2 naming the depth, no stack overflow', () => {
    const dir = tmp();
    const f = path.join(dir, 'deep.json');
    fs.writeFileSync(f, `{"name":"deep","stages":{},"x":${'['.repeat(10000)}${']'.repeat(10000)}}`);
    const r = cli(['validate', f]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/nests deeper than 64 levels/);
  });
});

describe('--out after crashes, with two runs, with foreign files', () => {
  it('a crash between a file and its manifest entry: the rerun goes on (write-ahead manifest)', () => {
    const out = tmp();
    expect(cli(['run', BG, '--out', out, '--quiet']).status).toBe(0);
    // the state a kill -9 leaves after the new file is in place but before its entry is final: the manifest
    // holds the old hash as sha256 and the new one as pending
    const mf = path.join(out, MANIFEST);
    const m = JSON.parse(fs.readFileSync(mf, 'utf8'));
    const entry = m.files['background.tsv'];
    m.files['background.tsv'] = { ...entry, sha256: 'f'.repeat(64), pending: entry.sha256 };
    fs.writeFileSync(mf, JSON.stringify(m));
    const r = cli(['run', BG, '--out', out, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    // and with the old file still there (killed before the rename): its hash is the recorded sha256
    const m2 = JSON.parse(fs.readFileSync(mf, 'utf8'));
    m2.files['background.tsv'] = { ...m2.files['background.tsv'], pending: 'e'.repeat(64) };
    fs.writeFileSync(mf, JSON.stringify(m2));
    expect(cli(['run', BG, '--out', out, '--quiet']).status).toBe(0);
  });

  it('a run killed with SIGKILL mid-run, then rerun into the same --out: accepted, files complete', async () => {
    const out = tmp();
    const child = spawn(process.execPath, [bin, 'run', X3, '--out', out, '--quiet', '--set', 'stages.cl.with.plot=false'], { stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    // kill it while it writes (the manifest appears with the first output file), or whenever it is still running
    // after 20 s; on a fast machine the whole run can end before either, and the rerun must then succeed too
    for (let t = 0; t < 2000 && child.exitCode === null && child.signalCode === null; t++) {
      if (fs.existsSync(path.join(out, MANIFEST))) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    await exited;
    const r = cli(['run', X3, '--out', out, '--quiet', '--set', 'stages.cl.with.plot=false']);
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readdirSync(out).filter((f) => f.includes('.tmp-') || f.endsWith('.partial'))).toEqual([]);
    expect(fs.readFileSync(path.join(out, 'cl.tsv'), 'utf8').trim().split('\n').length).toBeGreaterThan(50);
  }, 240_000); // the 3x2pt rerun took over 60 s on a loaded 2-core machine

  it('two identical runs into one --out at once: both succeed, one after the other', async () => {
    const out = tmp();
    const go = () => new Promise<{ code: number | null; err: string }>((resolve) => {
      const c = spawn(process.execPath, [bin, 'run', BG, '--out', out, '--quiet']);
      let err = '';
      c.stderr.on('data', (b) => { err += b; });
      c.on('exit', (code) => resolve({ code, err }));
    });
    const [a, b] = await Promise.all([go(), go()]);
    expect([a.code, b.code], a.err + b.err).toEqual([0, 0]);
    expect(fs.existsSync(path.join(out, '.cosmodag-lock'))).toBe(false);
    expect(fs.readFileSync(path.join(out, 'background.tsv'), 'utf8').split('\n').length).toBeGreaterThan(100);
  }, 60_000);

  it('a foreign .cosmodag-manifest.json is not overwritten', () => {
    const out = tmp();
    fs.writeFileSync(path.join(out, MANIFEST), 'my own notes');
    const r = cli(['run', BG, '--out', out, '--quiet']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/is not a cosmodag manifest; pass --force/);
    expect(fs.readFileSync(path.join(out, MANIFEST), 'utf8')).toBe('my own notes');
  });

  it('--events naming a directory, --out naming a file: exit 2 before any compute', () => {
    const d = tmp();
    const ev = cli(['run', BG, '--out', tmp(), '--events', d]);
    expect(ev.status).toBe(2);
    expect(ev.stderr).toMatch(/--events: .* is a directory/);
    expect(fs.readdirSync(d)).toEqual([]);
    const f = path.join(tmp(), 'file.txt');
    fs.writeFileSync(f, 'x');
    const o = cli(['run', BG, '--out', f]);
    expect(o.status).toBe(2);
    expect(o.stderr).toMatch(/--out: .* exists and is not a directory/);
  });
});

describe('foreign files and a bad --cache are found before the first compute (issue 19)', () => {
  it('a foreign companion file (cl.json beside cl.tsv) in --out: refused before any stage computes', async () => {
    const out = tmp();
    fs.writeFileSync(path.join(out, 'cl.json'), 'my notes');
    const store = new MemoryStore();
    const e = await runJob({ file: X3, out, quiet: true, store }).then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).report()).toBe(`error: --out: ${path.join(out, 'cl.json')} exists and was not written by cosmodag (or was edited since); pass --force to overwrite it, or choose another --out\n`);
    expect(store.size).toBe(0); // nothing computed
    expect(fs.readdirSync(out)).toEqual(['cl.json']);
  });

  it('--cache naming a file, or a folder that cannot be created: an error naming --cache, before --out is touched', async () => {
    const d = tmp();
    const file = path.join(d, 'afile');
    fs.writeFileSync(file, 'x');
    const out = path.join(d, 'out');
    const fail = (cache: string) => runJob({ file: BG, out, quiet: true, cache }).then(() => null, (x: unknown) => x as InputError);
    const a = await fail(file);
    expect(a).toBeInstanceOf(InputError);
    expect(a!.issues).toEqual([{ path: '--cache', message: `${file}: exists and is not a directory; give --cache a folder (it is created if missing)` }]);
    const b = await fail(path.join(file, 'sub'));
    expect(b!.issues).toEqual([{ path: '--cache', message: `${path.join(file, 'sub')}: cannot create the cache folder: ${file} is a file; give --cache a folder (it is created if missing)` }]);
    expect(fs.existsSync(out)).toBe(false);
    const r = cli(['run', BG, '--out', out, '--cache', file]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: --cache: .*afile: exists and is not a directory/);
    expect(r.stderr).not.toMatch(/ENOTDIR|EEXIST|ENOENT/);
  });
});

describe('OutputWriter', () => {
  it('writes plain names and its own sub-folders (compare --keep-outputs), never outside its directory', () => {
    const dir = tmp();
    const w = new OutputWriter(dir, 'test');
    expect(fs.existsSync(w.write('variants/romberg/cl.tsv', 'x\n'))).toBe(true);
    for (const bad of ['../escape.tsv', 'variants/../../escape.tsv', '/tmp/abs.tsv', 'a//b.tsv', '.hidden'])
      expect(() => w.write(bad, 'x'), bad).toThrow(InputError);
    expect(fs.existsSync(path.join(dir, '..', 'escape.tsv'))).toBe(false);
  });
});
