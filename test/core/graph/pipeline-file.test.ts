/**
 * Pipeline files and command-line edits (issue 20): YAML reads as the same pipeline as its JSON twin (same plan,
 * same error paths, line and column on a syntax error); `--unset` removes a key, and says so when there is none.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyUnset, readPipelineFile } from '../../../core/graph/pipeline-file.js';
import { preparePipeline } from '../../../core/cli/run-job.js';
import { InputError } from '../../../core/schema/input-error.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-pf-'));

describe('YAML pipelines', () => {
  it('pipelines/euclid-3x2pt.yaml is the same pipeline as euclid-3x2pt.json, and plans the same', async () => {
    const y = readPipelineFile(path.join(root, 'pipelines/euclid-3x2pt.yaml'));
    const j = readPipelineFile(path.join(root, 'pipelines/euclid-3x2pt.json'));
    expect(y).toEqual(j);
    const py = await preparePipeline(path.join(root, 'pipelines/euclid-3x2pt.yaml'));
    expect(py.plan.order).toEqual((await preparePipeline(path.join(root, 'pipelines/euclid-3x2pt.json'))).plan.order);
  });

  it('a schema error has the same JSON path in YAML as in JSON', async () => {
    const dir = tmp();
    const f = path.join(dir, 'bad.yml');
    fs.writeFileSync(f, 'name: bad\nparameters:\n  h: {value: "high"}\nstages:\n  background: {use: background/w0wa}\n');
    const e = await preparePipeline(f).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(InputError);
    expect((e as InputError).issues.map((i) => i.path)).toContain('parameters.h.value');
  });

  it('a YAML syntax error names the line and column; YAML-only types are not read', () => {
    const dir = tmp();
    const f = path.join(dir, 'broken.yaml');
    fs.writeFileSync(f, 'name: x\nstages:\n  a: {use: [1, 2}\n');
    expect(() => readPipelineFile(f)).toThrow(/broken\.yaml: malformed YAML at line 3, column \d+/);
    const g = path.join(dir, 'dup.yaml');
    fs.writeFileSync(g, 'name: x\nname: y\n');
    expect(() => readPipelineFile(g)).toThrow(/duplicated mapping key/);
    const d = path.join(dir, 'date.yaml');
    fs.writeFileSync(d, 'name: x\nwhen: 2026-12-02\n');
    expect((readPipelineFile(d) as { when: unknown }).when).toBe('2026-12-02'); // a string, not a Date
  });
});

describe('--unset', () => {
  it('removes a parameter and a stage setting (their defaults then apply)', async () => {
    const file = path.join(root, 'pipelines/euclid-3x2pt.json');
    const p = readPipelineFile(file) as { parameters: Record<string, unknown>; stages: { cl: { with: Record<string, unknown> } } };
    applyUnset(p, 'parameters.sigma8');
    applyUnset(p, 'stages.cl.with.ell');
    expect('sigma8' in p.parameters).toBe(false);
    expect('ell' in p.stages.cl.with).toBe(false);
    // sigma8 then takes the plugin's declared default, and the plan still validates
    const { plan } = await preparePipeline(file, [], [], ['parameters.sigma8', 'stages.cl.with.ell']);
    expect(plan.parameters.get('sigma8')!.value).toBe(plan.parameters.get('sigma8')!.spec.default);
  });

  it('nothing at the path, a path through a non-object, a prototype key: errors naming the path', () => {
    const p = { parameters: { h: { value: 0.7 } } };
    expect(() => applyUnset(p, 'parameters.b_11')).toThrow(/--unset: parameters\.b_11: there is nothing to unset/);
    expect(() => applyUnset(p, 'parameters.h.value.x')).toThrow(/there is no object at value/);
    expect(() => applyUnset(p, '__proto__.x')).toThrow(/the key "__proto__" is not allowed/);
  });
});
