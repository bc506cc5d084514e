/**
 * Sweeps on a real Redis (a private redis-server per test file, test/support/redis-server.ts) with `cosmodag worker`
 * processes: a worker SIGKILLed mid-sweep loses nothing and duplicates nothing, and the table equals the same sweep
 * run locally; the queue URL's password appears in no log, event or file; `command` stages are refused on a worker
 * unless --allow-commands; an unreachable Redis is a clear error within 10 s (exit 1); an invalid pipeline is refused
 * (exit 2) before anything is queued. Fails (does not skip) when no redis-server is installed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startRedis, type RedisServer } from '../support/redis-server.js';
import { allFiles, Background, readEvents, root, runCli, SMALL_FISHER, tableWithoutSeconds, tmpDir } from '../support/sweep-cli.js';

// a loaded 2-core machine (CI runs the whole suite at once) stretches these CLI runs several-fold
const SLOW = 400_000;
const GRID_16 = ['--vary', 'w0=-1.15,-1.05,-0.95,-0.85', '--vary', 'wa=-0.3,-0.1,0.1,0.3'];
const count = (s: string, re: RegExp) => (s.match(new RegExp(re, 'g')) ?? []).length;

async function worker(url: string, queueName: string, extra: string[] = []): Promise<Background> {
  // a 5 s lock: a killed worker's point is recovered within ~10 s, and a live worker (whose main thread only renews
  // locks, every 2.5 s) never loses one on a loaded machine
  const w = new Background(['worker', '--queue', url, '--queue-name', queueName, '--concurrency', '1', '--lock-seconds', '5', ...extra]);
  await w.until((o) => o.includes('taking points from'), 'the worker to connect');
  return w;
}

describe('cosmodag sweep --queue and cosmodag worker on a real Redis', () => {
  let redis: RedisServer;
  const workers: Background[] = [];
  beforeAll(async () => { redis = await startRedis(); });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    await redis?.stop();
  }, SLOW);

  it('16 points, two workers, one SIGKILLed mid-point: every point ends once, and sweep.tsv equals a local --workers 1 sweep', { tags: ['slow'], timeout: SLOW }, async () => {
    const ref = tmpDir();
    const local = runCli(['sweep', SMALL_FISHER, ...GRID_16, '--workers', '1', '--out', ref, '--quiet']);
    expect(local.code, local.stderr).toBe(0);

    const a = await worker(redis.url, 'q16');
    const b = await worker(redis.url, 'q16');
    workers.push(a, b);
    const out = tmpDir(), ev = path.join(tmpDir(), 'events.jsonl');
    const sweep = new Background(['sweep', SMALL_FISHER, ...GRID_16, '--queue', redis.url, '--queue-name', 'q16', '--out', out, '--events', ev]);
    // kill A while it computes a point (after it has finished at least one)
    await a.until((o) => count(o, / ok in /) >= 1 && count(o, / started /) > count(o, / ok in /), 'worker A to be inside its second point');
    a.child.kill('SIGKILL');
    await a.exited;
    const done = await sweep.exited;
    expect(done.code, done.stderr).toBe(0);
    await b.stop('SIGTERM');

    // the point A was computing when it died (started, never finished by A) was finished by B, once: BullMQ's
    // stalled-job recovery after A's lock expired
    const startedByA = [...a.stdout.matchAll(/point ([0-9a-f]{12}) started/g)].map((m) => m[1]);
    const victims = startedByA.filter((id) => !a.stdout.includes(`point ${id} ok`));
    expect(victims.length, a.stdout).toBe(1);
    expect(count(b.stdout, new RegExp(`point ${victims[0]} ok`))).toBe(1);
    // every point finished exactly once over both workers, and was recorded once
    const finished = [...(a.stdout + b.stdout).matchAll(/point ([0-9a-f]{12}) ok/g)].map((m) => m[1]);
    expect(finished.length).toBe(16);
    expect(new Set(finished).size).toBe(16);
    const recorded = readEvents(ev).filter((e) => e.type === 'point-done').map((e) => e.id);
    expect(recorded.length).toBe(16);
    expect(new Set(recorded)).toEqual(new Set(finished));
    // same numbers, same order as the local sweep
    expect(tableWithoutSeconds(path.join(out, 'sweep.tsv'))).toEqual(tableWithoutSeconds(path.join(ref, 'sweep.tsv')));
    expect(tableWithoutSeconds(path.join(out, 'sweep.tsv')).slice(1).every((r) => r[4] === 'ok')).toBe(true);
  });

  it('a stage running an external program is refused on a worker without --allow-commands, run with it', { tags: ['slow'], timeout: SLOW }, async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'power-law.json');
    fs.writeFileSync(file, JSON.stringify({
      name: 'power-law',
      stages: {
        linear: {
          use: 'linear-power/command',
          with: {
            program: path.join(root, 'test/fixtures/external-eh/toy-program.mjs'), args: ['power-law'],
            k: { k_min: 1e-3, k_max: 1, per_decade: 7 }, z: { z_max: 3, count: 5, spacing: 'linear' },
            parameters: { A: { default: 2e4, description: 'amplitude at k = 0.1/Mpc', unit: 'Mpc^3' }, n: { default: -1.5, description: 'slope' } },
          },
        },
      },
      outputs: { linear: 'pk.tsv' },
    }));
    const args = ['sweep', file, '--vary', 'A=1e4,2e4', '--queue', redis.url, '--queue-name', 'qcmd', '--quiet'];
    const plain = await worker(redis.url, 'qcmd');
    workers.push(plain);
    const refusedOut = tmpDir();
    const r1 = runCli([...args, '--out', refusedOut]);
    expect(r1.code, r1.stderr).toBe(0);
    const t1 = tableWithoutSeconds(path.join(refusedOut, 'sweep.tsv'));
    expect(t1.slice(1).map((r) => r[3])).toEqual(['failed', 'failed']);
    expect(t1[1].at(-1)).toMatch(/refused: stage "linear" \(linear-power\/command\) runs an external program; start the worker with --allow-commands/);
    await plain.stop('SIGTERM');

    const allowed = await worker(redis.url, 'qcmd', ['--allow-commands']);
    workers.push(allowed);
    const okOut = tmpDir();
    const r2 = runCli([...args, '--out', okOut]);
    expect(r2.code, r2.stderr).toBe(0);
    await allowed.stop('SIGTERM');
    // the same checksums as the same sweep run locally
    const localOut = tmpDir();
    expect(runCli(['sweep', file, '--vary', 'A=1e4,2e4', '--workers', '1', '--out', localOut, '--quiet']).code).toBe(0);
    const t2 = tableWithoutSeconds(path.join(okOut, 'sweep.tsv'));
    expect(t2.slice(1).map((r) => r[3])).toEqual(['ok', 'ok']);
    expect(t2).toEqual(tableWithoutSeconds(path.join(localOut, 'sweep.tsv')));
  });

  it('an invalid pipeline exits 2 before anything is queued; an unreachable Redis is an error within 10 s, exit 1', { timeout: SLOW }, async () => {
    const bad = runCli(['sweep', SMALL_FISHER, '--vary', 'w0=-1,-0.9', '--set', 'stages.linear.use="linear-power/camb"', '--queue', redis.url, '--queue-name', 'qbad', '--out', tmpDir()]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/stages\.linear\.use: unknown plugin "linear-power\/camb"/);
    const client = new Redis(redis.url);
    expect(await client.keys('bull:qbad:*')).toEqual([]);
    client.disconnect();

    const port = await freePort(); // nothing listens there
    const url = `redis://127.0.0.1:${port}`;
    const s = runCli(['sweep', SMALL_FISHER, '--vary', 'w0=-1,-0.9', '--queue', url, '--out', tmpDir()], 30_000);
    expect(s.code).toBe(1);
    expect(s.seconds).toBeLessThan(10);
    expect(s.stderr).toMatch(new RegExp(`error: cannot reach the Redis server at redis://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    const w = runCli(['worker', '--queue', url], 30_000);
    expect(w.code).toBe(1);
    expect(w.seconds).toBeLessThan(10);
    expect(w.stderr).toMatch(/cannot reach the Redis server/);
  });
});

describe('the queue URL\'s password', () => {
  const password = 'Sw33p-s3cret-pw';
  let redis: RedisServer;
  beforeAll(async () => { redis = await startRedis({ password }); });
  afterAll(async () => { await redis?.stop(); });

  it('appears in no log, event or output file; a wrong one is an error that does not show it', { tags: ['slow'], timeout: SLOW }, async () => {
    expect(redis.url).toContain(password);
    // the URL from the environment (out of the process list): the worker's default COSMODAG_QUEUE, the sweep's env:NAME
    const w = new Background(['worker', '--queue-name', 'qpw', '--concurrency', '1'], { COSMODAG_QUEUE: redis.url });
    await w.until((o) => o.includes('taking points from'), 'the worker to connect');
    const out = tmpDir(), ev = path.join(tmpDir(), 'events.jsonl');
    const s = runCli(['sweep', SMALL_FISHER, '--vary', 'w0=-1.1,-0.9', '--queue', 'env:SWEEP_QUEUE', '--queue-name', 'qpw', '--out', out, '--events', ev, '--keep-outputs', '--plot', 'fom'],
      300_000, { SWEEP_QUEUE: redis.url });
    const stopped = await w.stop('SIGTERM');
    expect(s.code, s.stderr).toBe(0);
    expect(stopped.stdout).toMatch(/taking points from redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ /);
    expect(s.stderr).toMatch(/the queue redis:\/\/:\*\*\*@127\.0\.0\.1:\d+/);
    const texts = [s.stdout, s.stderr, stopped.stdout, stopped.stderr, fs.readFileSync(ev, 'utf8')];
    for (const t of texts) expect(t).not.toContain(password);
    const files = allFiles(out);
    expect(files.map((f) => path.basename(f.file))).toEqual(expect.arrayContaining(['sweep.tsv', 'sweep.json', 'sweep-fom.png', 'fisher.json']));
    for (const f of files) expect(f.data.includes(password), f.file).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'sweep.json'), 'utf8')).settings.queue).toMatch(/^redis:\/\/:\*\*\*@127\.0\.0\.1:\d+$/);

    const wrong = redis.url.replace(password, 'Not-the-Pa55word');
    const bad = runCli(['sweep', SMALL_FISHER, '--vary', 'w0=-1.1,-0.9', '--queue', wrong, '--out', tmpDir()], 30_000);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/cannot reach the Redis server at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: .*(WRONGPASS|invalid).*check the user and password/);
    expect(bad.stdout + bad.stderr).not.toContain('Not-the-Pa55word');
    expect(runCli(['sweep', SMALL_FISHER, '--vary', 'w0=-1', '--queue', 'env:NO_SUCH_VARIABLE_SET'], 30_000).stderr).toMatch(/--queue: env:NO_SUCH_VARIABLE_SET: the environment variable NO_SUCH_VARIABLE_SET is not set/);
    const badWorker = runCli(['worker', '--queue', wrong], 30_000);
    expect(badWorker.code).toBe(1);
    expect(badWorker.stdout + badWorker.stderr).not.toContain('Not-the-Pa55word');
  });
});
