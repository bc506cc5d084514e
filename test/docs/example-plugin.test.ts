/**
 * The plugin-author path, end to end, as docs/plugins.md and the example's README describe it, without
 * network: a fresh copy of docs/examples/baryon-damping with node_modules linked to this checkout (what
 * `npm install && npm link cosmodag` gives a user), `npm run build`, `npm test`, then the built CLI running
 * a pipeline that names the package; the same for a package from `cosmodag plugins new`; and a plugin
 * declaring another apiVersion refused with a clear error.
 *
 * Needs the built cosmodag (dist/): CI runs `npm run build` before the tests.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Result { code: number; stdout: string; stderr: string }
const exec = (cmd: string, args: string[], cwd: string) =>
  new Promise<Result>((resolve) =>
    execFile(cmd, args, { cwd, maxBuffer: 1 << 26 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as any).code ?? 1) : 0, stdout, stderr })));
const cosmodag = (args: string[], cwd: string) => exec(process.execPath, [path.join(repo, 'bin/run.js'), ...args], cwd);
const npm = (args: string[], cwd: string) => exec(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, cwd);

/** What `npm install` + `npm link cosmodag` provide, from this checkout. */
function linkDependencies(dir: string): void {
  const nm = path.join(dir, 'node_modules');
  fs.mkdirSync(path.join(nm, '@types'), { recursive: true });
  fs.mkdirSync(path.join(nm, '.bin'), { recursive: true });
  fs.symlinkSync(repo, path.join(nm, 'cosmodag'), 'dir');
  fs.symlinkSync(path.join(repo, 'node_modules/typescript'), path.join(nm, 'typescript'), 'dir');
  fs.symlinkSync(path.join(repo, 'node_modules/@types/node'), path.join(nm, '@types/node'), 'dir');
  fs.symlinkSync('../typescript/bin/tsc', path.join(nm, '.bin/tsc'));
}

function freshCopy(): string {
  const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-example-')), 'baryon-damping');
  fs.cpSync(path.join(repo, 'docs/examples/baryon-damping'), dir, {
    recursive: true,
    filter: (src) => !/[\\/](node_modules|dist|out)$/.test(src),
  });
  linkDependencies(dir);
  return dir;
}

const ok = (r: Result, what: string) => expect(r.code, `${what}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);

describe('docs/examples/baryon-damping, from a fresh copy', () => {
  let dir = '';
  beforeAll(async () => {
    dir = freshCopy();
    ok(await npm(['run', 'build'], dir), 'npm run build');
  });

  it('builds, passes its own tests, and runs in a pipeline that names it', async () => {
    expect(fs.existsSync(path.join(dir, 'dist/src/index.js'))).toBe(true);
    const t = await npm(['test'], dir);
    ok(t, 'npm test');
    expect(t.stdout).toMatch(/# pass 5\b/);
    expect(t.stdout).toMatch(/# fail 0\b/);

    // its pipeline (the 3x2pt forecast + the stage), cheaper: 12 multipoles, no plots
    const r = await cosmodag(['run', 'pipeline.json', '--out', 'out', '--set', 'stages.cl.with.ell.count=12',
      '--set', 'stages.cl.with.plot=false', '--set', 'stages.fisher.with.plot=false'], dir);
    ok(r, 'cosmodag run pipeline.json');
    expect(r.stdout).toMatch(/\nA_bary\s+0\.1\s/);
    // suppression.tsv against the closed form S(k) = 1 - 0.1 x^2 / (1 + x^2), x = k / 3
    const rows = fs.readFileSync(path.join(dir, 'out/suppression.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t').map(Number));
    expect(rows.length).toBeGreaterThan(100);
    for (const [k, S] of rows) expect(Math.abs(S - (1 - (0.1 * (k / 3) ** 2) / (1 + (k / 3) ** 2)))).toBeLessThan(1e-9);
    const sig = fs.readFileSync(path.join(dir, 'out/sigmas.tsv'), 'utf8');
    expect(sig).toMatch(/^A_bary\t0\.1\t/m);

    // a listing through the same loader
    const l = await cosmodag(['plugins', '--plugin', './dist/src/index.js'], dir);
    ok(l, 'cosmodag plugins --plugin');
    expect(l.stdout).toContain('nonlinear-power/baryon-damping@1.0.0');
  });

  it('a plugin declaring another apiVersion is refused, naming it, its module and both versions', async () => {
    // the built package of the test above, with its descriptor edited to declare apiVersion 2
    const built = path.join(dir, 'dist/src/baryon-damping.js');
    const js = fs.readFileSync(built, 'utf8');
    expect(js).toMatch(/apiVersion: 1,/);
    fs.writeFileSync(built, js.replace(/apiVersion: 1,/, 'apiVersion: 2,'));
    const r = await cosmodag(['validate', 'pipeline.json'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('plugins[0]: plugin "nonlinear-power/baryon-damping" from ./dist/src/index.js: declares apiVersion 2, but this cosmodag speaks apiVersion 1');
  });
});

describe('cosmodag plugins new', () => {
  it('scaffolds a package that builds, passes its tests and runs; never writes into a non-empty directory', async () => {
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-new-'));
    // a new port (the generated x/y table is not a P(k, z) grid: for the built-in ports the runtime's output
    // contract check refuses it, which the last lines of this test show)
    const n = await cosmodag(['plugins', 'new', 'my-boost', '--port', 'my-quantity'], base);
    ok(n, 'plugins new');
    const dir = path.join(base, 'my-boost');
    expect(fs.readdirSync(dir).sort()).toEqual(['.gitignore', 'README.md', 'package.json', 'pipeline.json', 'src', 'test', 'tsconfig.json']);
    linkDependencies(dir);
    ok(await npm(['run', 'build'], dir), 'npm run build');
    const t = await npm(['test'], dir);
    ok(t, 'npm test');
    expect(t.stdout).toMatch(/# fail 0\b/);
    ok(await cosmodag(['run', 'pipeline.json', '--out', 'out', '-q'], dir), 'run');
    // y = amplitude x^2 with amplitude = 2 on 5 points over [0, 2]
    expect(fs.readFileSync(path.join(dir, 'out/my-boost.tsv'), 'utf8')).toBe('x\ty\n0\t0\n0.5\t0.5\n1\t2\n1.5\t4.5\n2\t8\n');
    // the same table declared as a nonlinear-power output breaks that port's contract, named at the stage boundary
    const wrongPort = fs.readFileSync(path.join(dir, 'src/my-boost.ts'), 'utf8').replace("port: 'my-quantity'", "port: 'nonlinear-power'").replace("id: 'my-quantity/my-boost'", "id: 'nonlinear-power/my-boost'");
    fs.writeFileSync(path.join(dir, 'src/my-boost.ts'), wrongPort);
    fs.writeFileSync(path.join(dir, 'pipeline.json'), fs.readFileSync(path.join(dir, 'pipeline.json'), 'utf8').replaceAll('my-quantity/my-boost', 'nonlinear-power/my-boost'));
    ok(await npm(['run', 'build'], dir), 'npm run build (wrong port)');
    const broken = await cosmodag(['run', 'pipeline.json', '--out', 'out2', '-q'], dir);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/stage "main" \(nonlinear-power\/my-boost\) failed: its output does not satisfy the contract of port "nonlinear-power": k_1overMpc: missing/);

    const again = await cosmodag(['plugins', 'new', 'my-boost', '--port', 'my-quantity'], base);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/exists and is not an empty directory/);
    const bad = await cosmodag(['plugins', 'new', 'x', '--port', 'Non Linear'], base);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--port: "Non Linear" must be lower-case letters/);
  });

  for (const port of ['nonlinear-power', 'linear-power'])
    it(`scaffolds a ${port} plugin with no derivative code whose AD Fisher matches finite differences`, async () => {
      const base = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-new-power-'));
      ok(await cosmodag(['plugins', 'new', 'suppress', '--port', port], base), 'plugins new');
      const dir = path.join(base, 'suppress');
      const src = fs.readFileSync(path.join(dir, 'src/suppress.ts'), 'utf8');
      // no hand-written derivative code: no tangent arrays, no loops over tangent blocks
      expect(src).not.toMatch(/tangent\s*[[=]|\.d\[|new Float64Array\(P/);
      expect(src).toContain('new Expr(');
      linkDependencies(dir);
      ok(await npm(['run', 'build'], dir), 'npm run build');
      const t = await npm(['test'], dir);
      ok(t, 'npm test');
      expect(t.stdout).toMatch(/# fail 0\b/);
      expect(t.stdout).toMatch(/# pass 2\b/);
      ok(await cosmodag(['run', 'pipeline.json', '--out', 'out', '-q'], dir), 'run the forecast');
      expect(fs.existsSync(path.join(dir, 'out/sigmas.tsv'))).toBe(true);
    });
});
