/**
 * `cosmodag validate` on broken pipelines: each must exit 2 with a one-line message naming the JSON path
 * and the problem, before anything is computed. Runs the built CLI (npm run build first, as CI does).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

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
  ['h = 0', edit((p) => { p.parameters.h.value = 0; }), /parameters\.h\.value: 0 is not allowed: h .* must be > 0/],
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
  ['n(z) with 5 bins, weights expecting 10', edit((p) => { p.stages.nz.with = { binEdges: [0.001, 0.418, 0.678, 0.9, 1.155, 2.5] }; }),
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
