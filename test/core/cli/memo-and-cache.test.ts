/**
 * Memoization on the real pipelines: swapping one stage's integrator recomputes only that stage (read off
 * the event log); with --cache DIR a second CLI run computes nothing and writes bit-identical files.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runJob } from '../../../core/cli/run-job.js';
import { MemoryStore } from '../../../core/cache/store.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-memo-'));

describe('memoization and the on-disk cache', () => {
  it('a different integrator for the C_l stage recomputes only that stage', async () => {
    const store = new MemoryStore();
    const file = path.join(root, 'pipelines/euclid-3x2pt.json');
    const sets = ['stages.cl.with.plot=false'];
    await runJob({ file, out: tmp(), quiet: true, store, sets });
    const r = await runJob({ file, out: tmp(), quiet: true, store, sets: [...sets, 'stages.cl.methods={"integrator":"romberg"}'] });
    const computed = r.events.filter((e) => e.type === 'stage-computed').map((e) => e.stage);
    const cached = r.events.filter((e) => e.type === 'stage-cached').map((e) => e.stage);
    expect(computed).toEqual(['cl']);
    expect(cached.sort()).toEqual(['background', 'linear', 'nonlinear', 'nz', 'weights']);
    // the pipeline-wide integrator is also the background's: everything downstream of it recomputes
    const all = await runJob({ file, out: tmp(), quiet: true, store, sets: [...sets, 'methods.integrator="newton-cotes"'] });
    expect(all.events.filter((e) => e.type === 'stage-cached').map((e) => e.stage)).toEqual(['nz']);
  });

  it('cosmodag run --cache: the second run computes nothing and writes identical bytes', () => {
    const cache = tmp(), out1 = tmp(), out2 = tmp(), ev = path.join(tmp(), 'events.jsonl');
    const run = (out: string) => spawnSync(process.execPath, [path.join(root, 'bin/run.js'), 'run', path.join(root, 'pipelines/background.json'), '--out', out, '--cache', cache, '--events', ev, '--quiet'], { encoding: 'utf8' });
    expect(run(out1).status).toBe(0);
    const r2 = run(out2);
    expect(r2.status, r2.stderr).toBe(0);
    const events = fs.readFileSync(ev, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(events.filter((e) => e.type === 'stage-computed')).toEqual([]);
    expect(events.filter((e) => e.type === 'stage-cached').map((e) => e.stage)).toEqual(['background']);
    expect(fs.readFileSync(path.join(out2, 'background.tsv')).equals(fs.readFileSync(path.join(out1, 'background.tsv')))).toBe(true);
  });
});
