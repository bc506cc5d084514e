/**
 * `cosmodag sample --queue` on a real Redis (a private redis-server, test/support/redis-server.ts) with `cosmodag
 * worker` processes, on the toy posterior of the other sampling CLI tests (its plugin file allowed on the workers with
 * --allow-plugin): the chains run as segments on two workers and equal, bit for bit, a local run with the same seed;
 * a worker SIGKILLed inside a segment loses and repeats no draw (its segment is run again by the other worker, from the
 * same state) and the chains are still the local run's; bad input (an unreachable Redis, --threads with --queue, a
 * worker that refuses the plugin file) is a clear error. Needs the built CLI (npm run build).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJson, type ChainCheckpoint } from '../../core/sampling/checkpoint.js';
import { freePort, startRedis, type RedisServer } from '../support/redis-server.js';
import { SAMPLING_TOYS, toyPosterior } from '../support/sampling-toy-pipeline.js';
import { Background, runCli, tmpDir } from '../support/sweep-cli.js';

const SLOW = 400_000;
const env = { COSMODAG_SKIP_BUILD_CHECK: '1' };
const dir = tmpDir('sample-queue');
const file = path.join(dir, 'toy.json');
// 0.5 ms per evaluation: the runs last a few seconds, so that a kill lands inside a segment even on a quiet machine
// (without it a chain of 1050 toy iterations ended inside its first 1.5 s segment, and the kill tests never began)
fs.writeFileSync(file, JSON.stringify(toyPosterior((p) => { p.stages.model.with.spin_ms = 0.5; })));

const WARMUP = 50, SAMPLES = 1000;
const run = (out: string, ...extra: string[]) => ['sample', file, '--chains', '2', '--warmup', String(WARMUP), '--samples', String(SAMPLES), '--seed', '77', '--out', out, '--quiet', ...extra];
const OUTPUTS = ['chain_1.txt', 'chain_2.txt', 'samples.tsv', 'summary.tsv'];
const count = (s: string, re: RegExp) => (s.match(new RegExp(re, 'g')) ?? []).length;

async function worker(url: string, queueName: string, extra: string[] = ['--allow-plugin', SAMPLING_TOYS]): Promise<Background> {
  // a 5 s lock: a killed worker's segment is taken up within ~10 s
  const w = new Background(['worker', '--queue', url, '--queue-name', queueName, '--concurrency', '1', '--lock-seconds', '5', ...extra], env);
  await w.until((o) => o.includes('taking points from'), 'the worker to connect');
  return w;
}

/** The iterations of a chain's checkpointed draws, in file order. */
function iterations(out: string, chain: number): number[] {
  const cp = decodeJson<ChainCheckpoint>(fs.readFileSync(path.join(out, 'checkpoint', `chain_${chain}.state.json`), 'utf8'));
  const lines = fs.readFileSync(path.join(out, 'checkpoint', `chain_${chain}.draws.jsonl`), 'utf8').slice(0, cp.drawsBytes).split('\n').filter(Boolean);
  return lines.map((l) => (JSON.parse(l) as { i: number }).i);
}

describe('cosmodag sample --queue on cosmodag worker processes', () => {
  let redis: RedisServer;
  const workers: Background[] = [];
  const local = path.join(dir, 'local');
  beforeAll(async () => {
    redis = await startRedis();
    const r = runCli(run(local), SLOW, env);
    expect(r.code, r.stderr).toBe(0);
  }, SLOW);
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await redis?.stop();
  }, SLOW);

  it('two workers give the chains of a local --chains 2 run with the same seed, bit for bit; one SIGKILLed mid-segment loses and repeats no draw', { timeout: SLOW }, async () => {
    const a = await worker(redis.url, 'qs');
    const b = await worker(redis.url, 'qs');
    workers.push(a, b);

    // (a) short segments: each chain hops between the two workers many times
    const first = path.join(dir, 'queue');
    // in the background: a synchronous run would keep the workers' output unread until it ends
    const r = await new Background(run(first, '--queue', redis.url, '--queue-name', 'qs', '--segment-seconds', '0.3'), env).exited;
    expect(r.code, r.stderr).toBe(0);
    for (const f of OUTPUTS) expect(fs.readFileSync(path.join(first, f), 'utf8') === fs.readFileSync(path.join(local, f), 'utf8'), f).toBe(true);
    expect(count(a.stdout, / ok: iterations /), a.stdout + a.stderr).toBeGreaterThan(0);
    expect(count(b.stdout, / ok: iterations /), b.stdout + b.stderr).toBeGreaterThan(0);
    const sj = JSON.parse(fs.readFileSync(path.join(first, 'sample.json'), 'utf8'));
    expect(sj.queue).toEqual({ url: redis.url, name: 'qs', segment_seconds: 0.3 });

    // (b) kill A while it steps a chain (after it has finished a segment of this run)
    const second = path.join(dir, 'killed');
    const okBefore = count(a.stdout, / ok: iterations /), startedBefore = count(a.stdout, / started /);
    const sample = new Background(run(second, '--queue', redis.url, '--queue-name', 'qs', '--segment-seconds', '1.5'), env);
    await a.until((o) => count(o, / ok: iterations /) > okBefore && count(o, / started /) - startedBefore > count(o, / ok: iterations /) - okBefore, 'worker A to be inside its second segment of the run');
    a.child.kill('SIGKILL');
    await a.exited;
    const done = await sample.exited;
    expect(done.code, done.stderr).toBe(0);
    await b.stop('SIGTERM');

    // the segment A was stepping (started, never finished by A) was run by B from the same state: same id
    const starts = [...a.stdout.matchAll(/chain (\d) segment from iteration (\d+) \(([0-9a-f]{12})\) started/g)];
    const victim = starts[starts.length - 1];
    expect(a.stdout).not.toMatch(new RegExp(`\\(${victim[3]}\\) ok`));
    expect(count(b.stdout, new RegExp(`chain ${victim[1]} segment from iteration ${victim[2]} \\(${victim[3]}\\) ok`))).toBe(1);
    // every iteration of each chain recorded exactly once, in order, and the chains are the local run's
    for (const k of [1, 2]) expect(iterations(second, k)).toEqual(Array.from({ length: WARMUP + SAMPLES }, (_, i) => i));
    for (const f of OUTPUTS) expect(fs.readFileSync(path.join(second, f), 'utf8') === fs.readFileSync(path.join(local, f), 'utf8'), f).toBe(true);
  });

  it('the sampling command SIGKILLed mid-run: --resume --queue continues from its checkpoints, picking up the segment left in the queue, and ends with the local run\'s chains', { timeout: SLOW }, async () => {
    const w = await worker(redis.url, 'qr');
    workers.push(w);
    const out = path.join(dir, 'resumed');
    const args = run(out, '--queue', redis.url, '--queue-name', 'qr', '--segment-seconds', '0.5');
    const first = new Background(args, env);
    const state = (k: number) => {
      try { return decodeJson<ChainCheckpoint>(fs.readFileSync(path.join(out, 'checkpoint', `chain_${k}.state.json`), 'utf8')); } catch { return null; }
    };
    await w.until(() => [1, 2].every((k) => (state(k)?.state.iteration ?? 0) > WARMUP), 'both chains checkpointed past the warm-up', 200_000);
    first.child.kill('SIGKILL');
    await first.exited;
    expect([1, 2].every((k) => !state(k)!.done)).toBe(true);
    const again = await new Background([...args, '--resume'], env).exited;
    await w.stop('SIGTERM');
    expect(again.code, again.stderr).toBe(0);
    // no segment ran twice: the one in the queue when the command died was found by the resumed command (same input,
    // same job id), not submitted again
    const started = [...w.stdout.matchAll(/\(([0-9a-f]{12})\) started/g)].map((m) => m[1]);
    expect(started.length).toBeGreaterThan(2);
    expect(new Set(started).size).toBe(started.length);
    for (const k of [1, 2]) expect(iterations(out, k)).toEqual(Array.from({ length: WARMUP + SAMPLES }, (_, i) => i));
    for (const f of OUTPUTS) expect(fs.readFileSync(path.join(out, f), 'utf8') === fs.readFileSync(path.join(local, f), 'utf8'), f).toBe(true);
  });

  it('bad input: --threads with --queue exits 2; a worker refusing the plugin file fails the run (exit 1, the reason); an unreachable Redis is an error within 10 s (exit 1)', { timeout: SLOW }, async () => {
    const threads = runCli(run(path.join(dir, 'threads'), '--queue', redis.url, '--threads', '2'), 60_000, env);
    expect(threads.code).toBe(2);
    expect(threads.stderr).toMatch(/--threads: not with --queue/);
    const seg = runCli(run(path.join(dir, 'seg'), '--segment-seconds', '5'), 60_000, env);
    expect(seg.code).toBe(2);
    expect(seg.stderr).toMatch(/--segment-seconds: only with --queue/);

    const plain = await worker(redis.url, 'qplain', []);
    workers.push(plain);
    const refused = await new Background(run(path.join(dir, 'refused'), '--queue', redis.url, '--queue-name', 'qplain'), env).exited;
    await plain.stop('SIGTERM');
    expect(refused.code, refused.stderr).toBe(1);
    expect(plain.stdout).toMatch(/chain \d segment from iteration 0 \([0-9a-f]{12}\) failed: refused: the pipeline loads plugin modules from files/);
    expect(refused.stderr).toMatch(/chain \d: the segment from iteration 0 failed on a worker: refused: the pipeline loads plugin modules from files .*--allow-plugin FILE/);

    const port = await freePort(); // nothing listens there
    const out = path.join(dir, 'unreachable');
    const s = runCli(run(out, '--queue', `redis://127.0.0.1:${port}`), 30_000, env);
    expect(s.code).toBe(1);
    expect(s.seconds).toBeLessThan(10);
    expect(s.stderr).toMatch(new RegExp(`error: cannot reach the Redis server at redis://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    expect(fs.existsSync(path.join(out, 'checkpoint', 'run.json'))).toBe(false);
  });
});
