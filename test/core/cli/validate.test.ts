/**
 * `cosmodag validate` on broken pipelines: each must exit 2 with a one-line message naming the JSON path
 * and the problem, before anything is computed. Runs the built CLI (npm run build first, as CI does).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { preparePipeline } from '../../../core/cli/run-job.js';
import { InputError, type Issue } from '../../../core/schema/input-error.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const base = JSON.parse(fs.readFileSync(path.join(root, 'pipelines/euclid-3x2pt.json'), 'utf8'));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-validate-'));

function validate(content: string | object): { code: number | null; stderr: string; stdout: string } {
  const file = path.join(dir, `p-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  const r = spawnSync(process.execPath, [path.join(root, 'bin/run.js'), 'validate', file], { encoding: 'utf8', cwd: root });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

const edit = (f: (p: any) => void) => { const p = structuredClone(base); f(p); return p; };

const cases: [string, string | object, RegExp][] = [
  ['malformed JSON', '{"name": "x", "stages": {', /malformed JSON at line 1/],
  ['unknown plugin', edit((p) => { p.stages.linear.use = 'linear-power/camb'; }), /stages\.linear\.use: unknown plugin "linear-power\/camb"; plugins for port "linear-power": .*eisenstein-hu/],
  ['missing port', edit((p) => { delete p.stages.nonlinear; }), /stages\.cl: spectra\/limber needs an input "power" of port "nonlinear-power"/],
  ['cycle', { name: 'loop', plugins: [path.join(root, 'dist/test/fixtures/loop-plugins.js')], stages: { a: { use: 'toy-loop/relay', inputs: { upstream: 'b' } }, b: { use: 'toy-loop/relay', inputs: { upstream: 'a' } } } }, /cycle: (a -> b -> a|b -> a -> b)/],
  ['wrong type', edit((p) => { p.stages.cl.with.ell.min = 'ten'; }), /stages\.cl\.with\.ell: .*matches none of the allowed forms/],
  ['negative Omega_m', edit((p) => { p.parameters.Omega_m.value = -0.1; }), /parameters\.Omega_m\.value: -0\.1 is not allowed: Omega_m .* must be > 0/],
  ['h = 0', edit((p) => { p.parameters.h.value = 0; }), /parameters\.h\.value: 0 is not allowed: h .* must be >= 0\.1 \(allowed: 0\.1 <= h <= 2\)/],
  ['Omega_b > Omega_m', edit((p) => { p.parameters.Omega_b.value = 0.4; }), /parameters\.Omega_b/],
  ['unknown method', edit((p) => { p.methods.integrator = 'simpsons'; }), /methods\.integrator: unknown integrator method "simpsons"; available: .*gauss-legendre/],
  ['unknown stage in inputs', edit((p) => { p.stages.nonlinear.inputs.linear = 'lin'; }), /stages\.nonlinear\.inputs\.linear: unknown stage "lin"/],
  ['input of the wrong port', edit((p) => { p.stages.nonlinear.inputs.linear = 'nz'; }), /stages\.nonlinear\.inputs\.linear: stage "nz" provides port "redshift-distribution", but input "linear" needs port "linear-power"/],
  ['unknown field', edit((p) => { p.stagse = {}; }), /stagse: is not a known field here/],
  ['multipole below 2', edit((p) => { p.stages.cl.with.ell = [1, 10, 100]; }), /stages\.cl\.with\.ell/],
  ['unknown parameter', edit((p) => { p.parameters.Omega_lambda = { value: 0.7 }; }), /parameters\.Omega_lambda: no stage reads a parameter "Omega_lambda"/],
  ['bias values vs bins', edit((p) => { p.stages.weights = { use: 'weights/3x2pt', with: { bins: 10, zbar: [0.2, 0.5, 0.6] } }; }), /stages\.weights\.with\.zbar: has 3 entries, but with\.bins = 10/],
  ['config field of the wrong type', edit((p) => { p.stages.background.with.z_max = -3; }), /stages\.background\.with\.z_max: -3 is out of range/],
  // cross-stage consistency (static descriptions, before anything runs)
  // (with.bins unset, the weights follow the n(z): 5 bins is then one edit, test/plugins/weights/survey-bins.test.ts)
  ['n(z) with 5 bins, weights expecting 10', edit((p) => { p.stages.nz.with = { binEdges: [0.001, 0.418, 0.678, 0.9, 1.155, 2.5] }; p.stages.weights.with = { ...p.stages.weights.with, bins: 10 }; }),
    /stages\.weights\.with\.bins: 10, but the n\(z\) stage "nz" provides 5 bins \(set by stages\.nz\.with\.binEdges\); set with\.bins = 5/],
  ['power grid below the n(z) top', edit((p) => { p.stages.linear.with.z = { z_max: 2 }; p.stages.linear.with.output_z = [0, 1, 2]; p.stages.nonlinear.with = { output_z: [0, 1, 2] }; }),
    /stages\.linear\.with\.z\.z_max: the P\(k, z\) grid of input "power" of stage "cl" reaches z = 2, but the tracers' kernels extend to z = 4 \(set by stages\.nz\.with\.zGrid\.max\)/],
  ['background below the n(z) top', edit((p) => { p.stages.background.with.z_max = 3.5; p.stages.background.with.output_z = [0, 1, 3]; p.stages.linear.with.z = { z_max: 3.5 }; }),
    /stages\.background\.with\.z_max: 3\.5 does not reach the top of the n\(z\) grid, z = 4/],
  ['a likelihood probe family the spectra do not have', edit((p) => { p.stages.fisher = { use: 'likelihood/gaussian-fisher', with: { probes: ['WL', 'CMBK'] } }; }),
    /stages\.fisher\.with\.probes: uses the family CMBK, and the spectra of stage "cl" have no tracer of it \(families: WL, GC\)/],
  ['CMB lensing source plane beyond the background', edit((p) => {
    p.stages.cmb = { use: 'weights/cmb-lensing', with: { z_source: 1100 } };
    p.stages.cl.inputs = { tracers: ['weights', 'cmb'] };
    p.stages.cl.with.z_beyond_power = 'growth';
  }), /stages\.background\.with\.z_max: 10 does not reach the CMB lensing source plane, stages\.cmb\.with\.z_source = 1100/],
  ['CMB lensing beyond the P(k) grid without growth scaling', edit((p) => {
    p.stages.background.with.z_max = 1100;
    p.stages.cmb = { use: 'weights/cmb-lensing' };
    p.stages.cl.inputs = { tracers: ['weights', 'cmb'] };
  }), /stages\.linear\.with\.z\.z_max: the P\(k, z\) grid of input "power" of stage "cl" reaches z = 4, but the tracers' kernels extend to z = 1100 \(set by stages\.cmb\.with\.z_source\)/],
];

describe('cosmodag validate on broken pipelines', () => {
  it('accepts the shipped pipelines', () => {
    for (const f of ['background.json', 'euclid-3x2pt.json', 'euclid-3x2pt-fisher.json', 'euclid-3x2pt-likelihood.json', 'euclid-3x2pt-cmblensing.json', 'linear-power.json']) {
      const r = spawnSync(process.execPath, [path.join(root, 'bin/run.js'), 'validate', path.join(root, 'pipelines', f)], { encoding: 'utf8', cwd: root });
      expect(r.status, r.stderr).toBe(0);
    }
  });
  for (const [name, content, pattern] of cases)
    it(`${name}: exit 2, names the path`, () => {
      const r = validate(content);
      expect(r.code, r.stderr + r.stdout).toBe(2);
      expect(r.stderr.split('\n')[0]).toMatch(/^error: /);
      expect(r.stderr).toMatch(pattern);
    });
});

/** The issues preparePipeline (what `cosmodag validate` runs) reports for a pipeline file and edits, or [] when valid. */
async function issuesOf(file: string, params: string[] = [], sets: string[] = []): Promise<Issue[]> {
  const e = await preparePipeline(file, params, sets).then(() => null, (x: unknown) => x);
  if (e === null) return [];
  if (!(e instanceof InputError)) throw e as Error;
  return e.issues;
}
const X3 = path.join(root, 'pipelines/euclid-3x2pt.json');
const write = (name: string, text: string) => { const f = path.join(dir, name); fs.writeFileSync(f, text); return f; };
const table = (rows: string[]) => ['k_1overMpc\tP_z0_Mpc3\tP_z1_Mpc3', ...rows].join('\n') + '\n';
const GOOD_ROWS = ['1e-3\t100\t50', '1e-2\t1000\t500', '1e-1\t200\t100', '1\t10\t5', '10\t1\t0.5'];

describe('validate reports every problem at once (issue 19)', () => {
  it('an unknown top-level field does not hide a bad stage config, a bad parameter or a bad output name', async () => {
    const issues = await issuesOf(X3, ['Omega_m=-1'], ['stagse={}', 'stages.background.with.z_max=-3', 'outputs.cl="../x.tsv"']);
    expect(issues.map((i) => i.path).sort()).toEqual(['outputs.cl', 'parameters.Omega_m.value', 'stages.background.with.z_max', 'stagse']);
    // the unknown field names what the pipeline allows
    expect(issues.find((i) => i.path === 'stagse')!.message).toMatch(/is not a known field here; allowed: .*name.*stages.*outputs/);
  });

  it('a stage entry failing the schema is set aside: the other stages are still checked, without follow-up errors', async () => {
    // nz (no `use`) is not planned: the weights stage reading it does not add "no stage provides redshift-distribution"
    const issues = await issuesOf(X3, [], ['stages.nz={"with":{}}', 'stages.cl.with.ell.min="ten"', 'stages.linear.inputs=5']);
    expect(issues.map((i) => i.path).sort()).toEqual(['stages.cl.with.ell', 'stages.linear.inputs', 'stages.nz.use']);
  });

  it('a problem elsewhere does not hide the plugin checks: an unread parameter and a malformed P(k) grid file', async () => {
    const bad = write('bad-pk.tsv', table(['1e-3\t100\t50', '1e-2\t1000\t500', '1e-1\tabc\t100', '1\t10\t5']));
    const issues = await issuesOf(X3, [], [`stages.linear={"use":"linear-power/grid","with":{"file":"${bad}"}}`]);
    expect(issues.map((i) => i.path)).toEqual(['parameters.n_s', 'parameters.sigma8', 'stages.linear.with.file']);
    expect(issues[2].message).toBe(`${bad}:4: column 2 ('P_z0_Mpc3') holds 'abc', which is not a finite number`);
  });

  it('only a pipeline without stages stops at the schema', async () => {
    const f = write('no-stages.json', JSON.stringify({ name: 'x', stagse: {} }));
    expect((await issuesOf(f)).map((i) => i.path).sort()).toEqual(['stages', 'stagse']);
  });
});

describe('parameter ranges name the parameter and what is allowed, once (issue 19)', () => {
  it('h = 1e-300: h and its range, not Omega_m', async () => {
    const issues = await issuesOf(X3, ['h=1e-300']);
    expect(issues).toEqual([{ path: 'parameters.h.value', message: expect.stringMatching(/^1e-300 is not allowed: h \(dimensionless Hubble constant.*\) must be >= 0\.1 \(allowed: 0\.1 <= h <= 2\)$/) }]);
  });
  it('Omega_b = 0.5 > Omega_m: one problem, though two stages check it', async () => {
    const issues = await issuesOf(X3, ['Omega_b=0.5']);
    expect(issues).toEqual([{ path: 'parameters.Omega_b', message: expect.stringMatching(/^0\.5 exceeds parameters\.Omega_m = 0\.32/) }]);
  });
  it('n_s = 10: a range error at validate time, not "integrand is NaN" at compute', async () => {
    const issues = await issuesOf(X3, ['n_s=10']);
    expect(issues).toEqual([{ path: 'parameters.n_s.value', message: expect.stringMatching(/^10 is not allowed: n_s \(primordial scalar spectral index.*\) must be <= 1\.5 \(allowed: 0\.5 <= n_s <= 1\.5\)$/) }]);
  });
});

describe('P(k, z) grids: malformed files and sizes are input errors known before compute (issue 19)', () => {
  const gridPipeline = (withBlock: object) =>
    write(`grid-${Math.random().toString(36).slice(2)}.json`, JSON.stringify({ name: 'grid', stages: { linear: { use: 'linear-power/grid', with: withBlock } }, outputs: { linear: 'pk.tsv' } }));
  const good = () => write('good-pk.tsv', table(GOOD_ROWS));

  it('the grid config: k_max below k_min, pk.tsv redshifts outside the grid, a grid of 1e9 numbers', async () => {
    expect(await issuesOf(gridPipeline({ file: good(), k: { k_min: 1, k_max: 0.5 } }))).toEqual([
      { path: 'stages.linear.with.k.k_max', message: "the grid's k_max = 0.5 must be larger than its k_min = 1 1/Mpc (the table spans [0.001, 10] 1/Mpc)" },
    ]);
    expect((await issuesOf(gridPipeline({ file: good(), output_z: [0, 5] })))[0]).toEqual(
      { path: 'stages.linear.with.output_z[1]', message: expect.stringMatching(/^5 is outside the grid's redshifts \[0, 1\] \(the table .*good-pk\.tsv\)/) });
    expect(await issuesOf(gridPipeline({ file: good(), z: { count: 1e9 } }))).toEqual([
      { path: 'stages.linear.with.z.count', message: 'the P(k, z) grid would hold 5 k x 1000000000 z = 5.00e+9 numbers; at most 1e+7 (plugins/contracts/power-grid-spec.ts); lower with.z.count' },
    ]);
  });

  it('a computed grid (Eisenstein-Hu) whose k count x z count is huge', async () => {
    const issues = await issuesOf(X3, [], ['stages.linear.with.k={"k_min":1e-300,"k_max":1e300,"per_decade":10000}', 'stages.linear.with.z.count=100000']);
    expect(issues).toEqual([{ path: 'stages.linear.with.k.per_decade', message: expect.stringMatching(/^the P\(k, z\) grid would hold 6000001 k x 100000 z = 6\.00e\+11 numbers; at most 1e\+7/) }]);
  });

  it('cosmodag run on a malformed P(k) file: exit 2 naming the file and line, as for a malformed n(z) table', () => {
    const bad = write('bad-run-pk.tsv', table(['1e-3\t100\t50', '1e-2\t1000', '1e-1\t200\t100', '1\t10\t5']));
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-grid-out-'));
    const r = spawnSync(process.execPath, [path.join(root, 'bin/run.js'), 'run', gridPipeline({ file: bad }), '--out', out, '--quiet'], { encoding: 'utf8', cwd: root });
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toBe(`error: stages.linear.with.file: ${bad}:3: 2 columns, but the header has 3\n`);
    expect(fs.readdirSync(out)).toEqual([]);
  });
});
