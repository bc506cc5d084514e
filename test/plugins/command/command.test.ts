/**
 * linear-power/command and nonlinear-power/command: an external program run as a black box.
 *
 * References: the built-in linear-power/eisenstein-hu (eh-pk.mjs is an independent implementation of the
 * same EH98 + growth physics, measured to agree to 1e-11), analytic power laws, and forward AD for the
 * stencil tangents. Failures must name the program and quote what it printed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../../core/cache/store.js';
import { executePlan } from '../../../core/graph/execute.js';
import { loadAndPlan } from '../../../core/graph/runtime.js';
import { InputError } from '../../../core/schema/input-error.js';
import type { PowerGrid } from '../../../plugins/contracts/power.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.resolve(here, '../../fixtures/external-eh');
const EH = path.join(fixtures, 'eh-pk.mjs');
const TOY = path.join(fixtures, 'toy-program.mjs');

const K = { k_min: 1e-4, k_max: 10, per_decade: 20 };
const Z = { z_max: 3, count: 9, spacing: 'log1p' };
const COSMO = ['h', 'Omega_m', 'Omega_b', 'n_s', 'sigma8', 'w0', 'wa', 'T_cmb', 'N_eff'];

const ehPipeline = () => ({
  name: 'eh-builtin',
  stages: {
    background: { use: 'background/w0wa' },
    linear: { use: 'linear-power/eisenstein-hu', with: { k: K, z: Z } },
  },
});

const commandPipeline = (withBlock: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  name: 'eh-command',
  // n_s and sigma8 are read by no built-in stage here: their values come from the pipeline
  parameters: { n_s: { value: 0.96 }, sigma8: { value: 0.816 } },
  stages: {
    background: { use: 'background/w0wa' },
    linear: { use: 'linear-power/command', with: { k: K, z: Z, parameters: COSMO, ...withBlock }, ...extra },
  },
});

async function run(pipeline: object, o: { baseDir?: string; tangents?: string[]; params?: Record<string, number>; store?: MemoryStore; target?: string } = {}) {
  const { plan, registry } = await loadAndPlan(pipeline, { baseDir: o.baseDir ?? fixtures });
  const r = await executePlan(plan, registry, { targets: [o.target ?? 'linear'], tangents: o.tangents, params: o.params, store: o.store });
  return { grid: r.outputs.get(o.target ?? 'linear') as PowerGrid, r };
}

const maxRel = (a: Float64Array, b: Float64Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v / b[i] - 1)), 0);

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

describe('linear-power/command: the external Eisenstein-Hu program', () => {
  it('JSON on stdin, table on stdout: P(k, z) equals the built-in EH to 1e-9', async () => {
    const ref = (await run(ehPipeline())).grid;
    const got = (await run(commandPipeline({ program: 'eh-pk.mjs', args: ['--json'] }))).grid;
    expect(got.k_1overMpc).toEqual(ref.k_1overMpc);
    expect(got.z).toEqual(ref.z);
    // two implementations of the same formulae; both integrate sigma8 and D(z) to < 1e-10
    expect(maxRel(got.P_Mpc3.value, ref.P_Mpc3.value)).toBeLessThan(1e-9);
    expect(got.P_Mpc3.tangent).toBeNull();
  });

  it('templated input file, output file: the same P(k, z), at another parameter value too', async () => {
    const ref = (await run(ehPipeline(), { params: { Omega_m: 0.28, n_s: 0.97 } })).grid;
    const got = (
      await run(
        commandPipeline({
          program: 'eh-pk.mjs', input: 'template', template: 'eh-pk.ini.template',
          args: ['{{input_file}}', '--out', '{{output_file}}'], output: { from: 'file', file: 'pk.tsv' },
        }),
        { params: { Omega_m: 0.28, n_s: 0.97 } },
      )
    ).grid;
    expect(maxRel(got.P_Mpc3.value, ref.P_Mpc3.value)).toBeLessThan(1e-9);
  });

  it('forward AD resumes after the black box: stencil tangents of P match the built-in AD tangents', { tags: ['slow'] }, async () => {
    const T = ['Omega_m', 'sigma8', 'w0'];
    const ref = (await run(ehPipeline(), { tangents: T })).grid;
    const stencil = { differentiator: { use: 'regression-stencil', with: { steps: [0.0025, 0.005, 0.01] } } };
    const got = (await run(commandPipeline({ program: 'eh-pk.mjs', args: ['--json'] }, { methods: stencil }), { tangents: T })).grid;
    const n = ref.P_Mpc3.value.length;
    expect(got.P_Mpc3.P).toBe(3);
    T.forEach((_, p) => {
      let worst = 0, scale = 0;
      for (let i = 0; i < n; i++) {
        const P = ref.P_Mpc3.value[i];
        scale = Math.max(scale, Math.abs(ref.P_Mpc3.tangent![p * n + i] / P));
        worst = Math.max(worst, Math.abs(got.P_Mpc3.tangent![p * n + i] - ref.P_Mpc3.tangent![p * n + i]) / P);
      }
      // d ln P / d theta to ~1e-3 of its largest value: the truncation error of a +-1 % linear regression
      expect(worst / scale).toBeLessThan(2e-3);
    });
  });
});

describe('command stages: programs, placeholders, grids', () => {
  it('reads JSON output on the program\'s own grid and interpolates it (exact for a power law)', async () => {
    const p = {
      name: 'power-law',
      stages: {
        linear: {
          use: 'linear-power/command',
          with: {
            program: TOY, args: ['power-law'], k: { k_min: 1e-3, k_max: 1, per_decade: 7 }, z: { z_max: 3, count: 5, spacing: 'linear' },
            parameters: { A: { default: 2e4, description: 'amplitude at k = 0.1/Mpc', unit: 'Mpc^3' }, n: { default: -1.5, description: 'slope' } },
          },
        },
      },
    };
    const g = (await run(p)).grid;
    let worst = 0;
    g.z.forEach((z, j) => g.k_1overMpc.forEach((k, i) => {
      const exact = (2e4 * (k / 0.1) ** -1.5) / (1 + z) ** 2;
      worst = Math.max(worst, Math.abs(g.P_Mpc3.value[j * g.k_1overMpc.length + i] / exact - 1));
    }));
    // ln P is linear in ln k (spline exact) and -2 ln(1+z) in s = ln(1+z) (spline exact)
    expect(worst).toBeLessThan(1e-12);
  });

  it('runs concurrently in separate directories, and removes them', async () => {
    const before = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('cosmodag-command-')).length;
    const p = {
      name: 'race',
      stages: { linear: { use: 'linear-power/command', with: { program: TOY, args: ['cwd-race'], k: K, z: Z, parameters: { A: { default: 1 } } } } },
    };
    const [a, b, c] = await Promise.all([1, 2, 3].map((A) => run(p, { params: { A: 1000 * A } })));
    expect([a, b, c].map((x) => x.grid.P_Mpc3.value[0])).toEqual([1000, 2000, 3000]);
    expect(a.grid.P_Mpc3.value.every((v) => v === 1000)).toBe(true);
    const after = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith('cosmodag-command-')).length;
    expect(after).toBe(before);
  });

  it('resolves the program against the pipeline file, and puts its hash in the memo key', async () => {
    const dir = tmp('cosmodag-cmd-fp-');
    fs.copyFileSync(EH, path.join(dir, 'eh-copy.mjs'));
    const p = commandPipeline({ program: 'eh-copy.mjs', args: ['--json'] });
    const store = new MemoryStore();
    const first = await run(p, { baseDir: dir, store });
    expect(first.r.computed).toContain('linear');
    const again = await run(p, { baseDir: dir, store });
    expect(again.r.cached).toContain('linear');
    fs.appendFileSync(path.join(dir, 'eh-copy.mjs'), '\n// edited\n');
    const edited = await run(p, { baseDir: dir, store });
    expect(edited.r.computed).toContain('linear');
  });

  it.skipIf(process.platform === 'win32')('runs a program that is not a Node script: directly when executable, else through with.interpreter', async () => {
    const dir = tmp('cosmodag-cmd-sh-');
    // a constant P = 7 on a 4 x 2 grid, from a shell script, on its own grid (interpolation: exact for a constant)
    fs.writeFileSync(path.join(dir, 'const.sh'), "printf 'k_1overMpc\\tP_z0_Mpc3\\tP_z5_Mpc3\\n1e-5\\t7\\t7\\n1e-2\\t7\\t7\\n1\\t7\\t7\\n100\\t7\\t7\\n'\n");
    const p = { name: 'sh', stages: { linear: { use: 'linear-power/command', with: { program: 'const.sh', k: K, z: Z } } } };
    const e = await loadAndPlan(p, { baseDir: dir }).catch((x) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).issues[0]).toMatchObject({ path: 'stages.linear.with.program' });
    expect((e as InputError).issues[0].message).toMatch(/is not executable \(chmod \+x it, or name an interpreter in with\.interpreter\)/);
    const viaSh = await run({ ...p, stages: { linear: { use: 'linear-power/command', with: { program: 'const.sh', interpreter: 'sh', k: K, z: Z } } } }, { baseDir: dir });
    expect(viaSh.grid.P_Mpc3.value.every((v) => Math.abs(v - 7) < 1e-12)).toBe(true);
    fs.chmodSync(path.join(dir, 'const.sh'), 0o755);
    fs.writeFileSync(path.join(dir, 'const.sh'), '#!/bin/sh\n' + fs.readFileSync(path.join(dir, 'const.sh'), 'utf8'));
    const direct = await run(p, { baseDir: dir });
    expect(direct.grid.P_Mpc3.value.every((v) => Math.abs(v - 7) < 1e-12)).toBe(true);
  });

  it('nonlinear-power/command receives the linear P(k, z) as {{linear_file}}; stencil tangents follow', async () => {
    const p = {
      name: 'nl',
      stages: {
        background: { use: 'background/w0wa' },
        linear: { use: 'linear-power/eisenstein-hu', with: { k: K, z: Z } },
        nonlinear: {
          use: 'nonlinear-power/command', with: { program: TOY, args: ['double-linear'], k: K, z: Z },
          methods: { differentiator: { use: 'finite-difference', with: { points: 5, step: 0.002 } } },
        },
      },
    };
    const T = ['Omega_m', 'n_s'];
    const { grid: nl, r } = await run(p, { target: 'nonlinear', tangents: T });
    const lin = r.outputs.get('linear') as PowerGrid;
    // linear_pk.tsv holds every number in round-trip form, and doubling is exact
    expect(maxRel(nl.P_Mpc3.value, lin.P_Mpc3.value.map((v) => 2 * v))).toBe(0);
    const n = lin.P_Mpc3.value.length;
    for (let p = 0; p < T.length; p++) {
      let worst = 0, scale = 0;
      for (let i = 0; i < n; i++) {
        const t = 2 * lin.P_Mpc3.tangent![p * n + i];
        scale = Math.max(scale, Math.abs(t / lin.P_Mpc3.value[i]));
        worst = Math.max(worst, Math.abs(nl.P_Mpc3.tangent![p * n + i] - t) / lin.P_Mpc3.value[i]);
      }
      expect(worst / scale).toBeLessThan(1e-6);
    }
  });
});

describe('command stages: failures are clear errors', () => {
  const failing = (mode: string, withBlock: Record<string, unknown> = {}) => ({
    name: 'fail',
    stages: { linear: { use: 'linear-power/command', with: { program: TOY, args: [mode], k: K, z: Z, ...withBlock } } },
  });
  const failure = (p: object) => run(p).then(() => { throw new Error('expected a failure'); }, (e: Error) => e);

  it('a non-zero exit names the program, the code and what it printed', async () => {
    const e = await failure(failing('fail'));
    expect(e.message).toMatch(/stage "linear" \(linear-power\/command\) failed: program .*toy-program\.mjs exited with code 3/);
    expect(e.message).toContain('the integrator diverged at z = 3.1');
    expect(e.message).toContain('reading parameters... ok');
  });

  it('a timeout kills the program and says so', async () => {
    const t0 = Date.now();
    const e = await failure(failing('sleep', { timeout_seconds: 0.5 }));
    expect(e.message).toMatch(/toy-program\.mjs timed out after 0\.5 s and was killed/);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });

  it('malformed output: text that is no table, a NaN, no output file', async () => {
    const garbage = await failure(failing('garbage'));
    expect(garbage.message).toMatch(/malformed P\(k, z\) from program .*toy-program\.mjs: .*first column must be k/);
    expect(garbage.message).toContain('Welcome to toy-program 1.0');
    const nan = await failure(failing('nan'));
    expect(nan.message).toMatch(/malformed P\(k, z\).*'NaN', which is not a finite number/);
    const none = await failure(failing('no-file', { output: { from: 'file', file: 'out.tsv' } }));
    expect(none.message).toMatch(/exited with code 0 but wrote no output file out\.tsv/);
  });

  it('before any compute: a missing program, an unknown placeholder, a template that is not there', async () => {
    const e = await loadAndPlan(failing('x', { program: './no-such-program.mjs', args: ['{{Omega_mm}}'], input: 'template', template: 'nope.ini' }), { baseDir: fixtures }).catch((x) => x);
    expect(e).toBeInstanceOf(InputError);
    const byPath = Object.fromEntries((e as InputError).issues.map((i) => [i.path, i.message]));
    expect(byPath['stages.linear.with.program']).toMatch(/no-such-program\.mjs" not found: no file .*external-eh\/no-such-program\.mjs/);
    expect(byPath['stages.linear.with.args[0]']).toMatch(/unknown placeholder \{\{Omega_mm\}\}/);
    expect(byPath['stages.linear.with.template']).toMatch(/cannot read .*nope\.ini/);
  });

  it('a parameter passed to the program needs a value', async () => {
    const e = await loadAndPlan(failing('power-law', { parameters: ['A'] }), { baseDir: fixtures }).catch((x) => x);
    expect(e).toBeInstanceOf(InputError);
    const issue = (e as InputError).issues.find((i) => i.path === 'parameters.A');
    expect(issue?.message).toMatch(/has no value: no stage that reads it .* declares a default/);
  });
});

describe('command stages stay contained (issue 19, reproduction 4)', () => {
  const shell = (script: string, withBlock: Record<string, unknown> = {}) => {
    const dir = tmp('cosmodag-sh-');
    const file = path.join(dir, 'prog.sh');
    fs.writeFileSync(file, `#!/bin/sh\n${script}\n`, { mode: 0o755 });
    return { dir, p: { name: 'sh', stages: { linear: { use: 'linear-power/command', with: { program: file, k: K, z: Z, ...withBlock } } } } };
  };
  const workdirs = () => new Set(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('cosmodag-command-')));
  // running (a zombie, killed but not yet reaped by whatever adopted it, counts as gone)
  const alive = (pid: number) => {
    try { process.kill(pid, 0); } catch { return false; }
    try { return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return true; }
  };

  it('a program flooding stdout is stopped at the cap, with a message and no run directory left', async () => {
    const before = workdirs();
    const { p } = shell('yes cosmodag', { max_output_mb: 2 });
    const e = await run(p).then(() => null, (x: Error) => x);
    expect(e?.message).toMatch(/wrote more than 2 MiB to stdout and was killed \(raise with\.max_output_mb/);
    expect([...workdirs()].filter((d) => !before.has(d))).toEqual([]);
  });

  it('a timeout kills the whole process group: no grandchild survives', async () => {
    const { dir, p } = shell('sleep 77 &\necho $! > "$PIDFILE"\nwait', { timeout_seconds: 0.5 });
    const pidFile = path.join(dir, 'grandchild.pid');
    (p.stages.linear.with as Record<string, unknown>).env = { PIDFILE: pidFile };
    const e = await run(p).then(() => null, (x: Error) => x);
    expect(e?.message).toMatch(/timed out after 0\.5 s and was killed with its process group/);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    await new Promise((r) => setTimeout(r, 200));
    expect(alive(pid)).toBe(false);
  });

  it('binary output is shown with control characters escaped', async () => {
    const { p } = shell("printf 'bad\\033[2J\\001table\\n'; exit 4");
    const e = await run(p).then(() => null, (x: Error) => x);
    expect(e?.message).toContain('bad\\x1b[2J\\x01table');
    // eslint-disable-next-line no-control-regex
    expect(/[\u0001\u001b]/.test(e!.message)).toBe(false);
  });
});
