/**
 * `cosmodag sample --resume` after a kill -9: the CLI is spawned on a toy posterior (test/fixtures/sampling-toys.ts,
 * built to dist/), killed with SIGKILL once its chains have checkpointed past the warm-up, and resumed; the chains
 * must be bit-identical to an uninterrupted run with the same seed, and a run over an existing one is refused.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { toyPosterior } from '../support/sampling-toy-pipeline.js';
import { decodeJson, type ChainCheckpoint } from '../../core/sampling/checkpoint.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-sample-resume-'));
const file = path.join(dir, 'toy.json');
fs.writeFileSync(file, JSON.stringify(toyPosterior()));

const SAMPLER = process.env.RESUME_SAMPLER ?? 'nuts';
// long enough that the poll below kills the run well before it ends, even on a loaded machine
const WARMUP = 100, SAMPLES = 3000;
const args = (out: string) => [path.join(root, 'bin/run.js'), 'sample', file, '--sampler', SAMPLER, '--chains', '2', '--warmup', String(WARMUP), '--samples', String(SAMPLES), '--seed', '2024', '--out', out, '--quiet'];
const env = { ...process.env, COSMODAG_SKIP_BUILD_CHECK: '1' };
// the run to be killed checkpoints often (every 50 ms: a kill then finds a checkpoint past the warm-up quickly)
const often = { ...env, COSMODAG_CHECKPOINT_SECONDS: '0.05' };

const state = (out: string, chain: number): ChainCheckpoint | null => {
  const f = path.join(out, 'checkpoint', `chain_${chain}.state.json`);
  try { return decodeJson<ChainCheckpoint>(fs.readFileSync(f, 'utf8')); } catch { return null; }
};

describe('cosmodag sample --resume after kill -9', () => {
  it('continues the chains bit for bit', async () => {
    const whole = path.join(dir, 'whole');
    const r = spawnSync(process.execPath, args(whole), { encoding: 'utf8', env });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);

    // the same run, killed once both chains have checkpointed beyond the warm-up
    const cut = path.join(dir, 'cut');
    const child = spawn(process.execPath, args(cut), { env: often, stdio: 'ignore' });
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
    const t0 = Date.now();
    for (;;) {
      const s1 = state(cut, 1), s2 = state(cut, 2);
      if (s1 && s2 && s1.state.iteration > WARMUP + 20 && s2.state.iteration > WARMUP + 20) break;
      if (Date.now() - t0 > 60_000) throw new Error('no checkpoint beyond the warm-up within 60 s');
      await new Promise((res) => setTimeout(res, 20));
    }
    child.kill('SIGKILL');
    await exited;
    const before = [state(cut, 1)!, state(cut, 2)!];
    // killed mid-run: not finished, nothing written yet but the checkpoints
    expect(before.every((s) => !s.done && s.state.iteration < WARMUP + SAMPLES)).toBe(true);
    expect(fs.existsSync(path.join(cut, 'chain_1.txt'))).toBe(false);

    // a new run over it is refused; --resume continues
    const again = spawnSync(process.execPath, args(cut), { encoding: 'utf8', env });
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/holds a sampling run \(checkpoint\/run\.json\): pass --resume to continue it/);
    const resumed = spawnSync(process.execPath, [...args(cut).filter((a) => a !== '--quiet'), '--resume'], { encoding: 'utf8', env });
    expect(resumed.status).toBe(0);

    for (const k of [1, 2]) {
      const a = fs.readFileSync(path.join(whole, `chain_${k}.txt`), 'utf8'), b = fs.readFileSync(path.join(cut, `chain_${k}.txt`), 'utf8');
      expect(a.split('\n').length - 1).toBe(SAMPLES);
      expect(b === a).toBe(true);
    }
    expect(fs.readFileSync(path.join(cut, 'summary.tsv'), 'utf8')).toBe(fs.readFileSync(path.join(whole, 'summary.tsv'), 'utf8'));

    // a resume with other settings is refused, naming them
    const other = spawnSync(process.execPath, [...args(cut).filter((a) => a !== '--quiet'), '--resume', '--set', 'stages.like.with.mean=[0.2, 1]'], { encoding: 'utf8', env });
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/--resume: the pipeline \(after --param\/--set\) or a file it reads \(the data\) differs from the one the run in .* sampled/);
    const seed = spawnSync(process.execPath, [...args(cut).map((a) => (a === '2024' ? '7' : a)), '--resume'], { encoding: 'utf8', env });
    expect(seed.status).toBe(2);
    expect(seed.stderr).toMatch(/--seed: 7 differs from the run being resumed \(2024\); leave it out to keep the recorded value/);
  }, 600_000); // six CLI runs: about 30 s on an idle machine, much longer on a shared one
});
