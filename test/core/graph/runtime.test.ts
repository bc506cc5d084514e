import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, beforeEach } from 'vitest';
import { runJob } from '../../../core/cli/run-job.js';
import { MemoryStore } from '../../../core/cache/store.js';
import { InputError } from '../../../core/schema/input-error.js';
import { runs } from '../../fixtures/toy-plugins.js';

const fixture = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures/toy-plugins.ts');

function pipelineFile(p: object): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-rt-'));
  const file = path.join(dir, 'p.json');
  fs.writeFileSync(file, JSON.stringify(p));
  return file;
}

const toy = (methods: object = { integrator: 'gauss-legendre' }) => ({
  name: 'toy',
  plugins: [fixture],
  parameters: { a: { value: 3 } },
  methods,
  stages: { src: { use: 'toy-source/quadratic', with: { b: 2 } }, int: { use: 'toy-integral/quad' } },
  outputs: { int: 'integral.tsv' },
});

describe('runtime', () => {
  beforeEach(() => { runs.source = 0; runs.integral = 0; });

  it('runs a third-party plugin module and integrates exactly (a b^3 / 3)', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-out-'));
    const r = await runJob({ file: pipelineFile(toy()), out, quiet: true });
    const value = (r.outputs.get('int') as any).value[0];
    expect(Math.abs(value - 8)).toBeLessThan(1e-12);
    expect(fs.readFileSync(path.join(out, 'integral.tsv'), 'utf8')).toContain('8.0000000');
    expect(r.events.some((e) => e.type === 'progress' && e.stage === 'int')).toBe(true);
  });

  it('changing only the integrator recomputes only the stage that uses it', async () => {
    const store = new MemoryStore();
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-out-'));
    await runJob({ file: pipelineFile(toy()), out, quiet: true, store });
    const r = await runJob({ file: pipelineFile(toy({ integrator: 'romberg' })), out, quiet: true, store });
    expect(r.computed).toEqual(['int']);
    expect(r.cached).toEqual(['src']);
    const kinds = r.events.filter((e) => e.type === 'stage-computed' || e.type === 'stage-cached').map((e) => `${e.stage}:${e.type}`);
    expect(kinds).toEqual(['src:stage-cached', 'int:stage-computed']);
    expect(runs.source).toBe(1);
  });

  it('an on-disk cache makes the second run compute nothing and write identical bytes; a corrupt blob is recomputed', async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-cache-'));
    const out1 = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-out-'));
    const out2 = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-out-'));
    const file = pipelineFile(toy());
    await runJob({ file, out: out1, quiet: true, cache });
    const r2 = await runJob({ file, out: out2, quiet: true, cache });
    expect(r2.computed).toEqual([]);
    expect(fs.readFileSync(path.join(out2, 'integral.tsv'))).toEqual(fs.readFileSync(path.join(out1, 'integral.tsv')));
    // corrupt every blob: the entries fail their hash check and are recomputed
    const blobs = path.join(cache, 'blobs');
    for (const d of fs.readdirSync(blobs)) for (const f of fs.readdirSync(path.join(blobs, d))) fs.writeFileSync(path.join(blobs, d, f), Buffer.alloc(8, 7));
    const r3 = await runJob({ file, out: out2, quiet: true, cache });
    expect(r3.computed).toEqual(['int']);
  });

  it('refuses to overwrite a file the user wrote, unless forced', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-out-'));
    fs.writeFileSync(path.join(out, 'integral.tsv'), 'mine\n');
    await expect(runJob({ file: pipelineFile(toy()), out, quiet: true })).rejects.toThrow(/was not written by cosmodag/);
    expect(fs.readFileSync(path.join(out, 'integral.tsv'), 'utf8')).toBe('mine\n');
    await runJob({ file: pipelineFile(toy()), out, quiet: true, force: true });
    // a file cosmodag wrote itself may be replaced by a re-run
    await runJob({ file: pipelineFile(toy()), out, quiet: true });
  });

  it('reports every problem at once with its JSON path', async () => {
    const bad = { ...toy(), parameters: { a: { value: -1 }, zz: { value: 1 } }, methods: { integrator: 'simpsons' } };
    const err = await runJob({ file: pipelineFile(bad), quiet: true }).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    const paths = (err as InputError).issues.map((i) => i.path).sort();
    expect(paths).toEqual(['methods.integrator', 'parameters.a.value', 'parameters.zz']);
  });

  it('refuses a plugin declaring another apiVersion, naming it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-api-'));
    const mod = path.join(dir, 'old.mjs');
    fs.writeFileSync(mod, `export const plugins = [{ apiVersion: 0, id: 'toy-source/old', version: '1', port: 'toy-source', description: '', configSchema: {}, inputs: {}, reads: {}, differentiable: 'none', run() { return 1; } }];`);
    const p = { name: 'x', plugins: [mod], stages: { s: { use: 'toy-source/old' } } };
    const err = await runJob({ file: pipelineFile(p), quiet: true }).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toMatch(/apiVersion 0.*apiVersion 1/);
  });
});
