/**
 * `npm run soak -- [--runs 200] [--pipeline pipelines/background.json] [--max-size 1M]`: cached runs with random
 * parameters into one --out and one --cache (bounded), and a kill -9 at a random moment of about every tenth run,
 * which is then run again. The property (issue 19): no run is refused (exit 0 every time but the killed ones),
 * every output is byte-identical to an uncached run of the same point, and the cache stays within its bound.
 * Last line: `RESULT soak_failures <count>`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runJob } from '../../core/cli/run-job.js';
import { cacheUsage, parseSize } from '../../core/cache/maintenance.js';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, here.includes(`${path.sep}dist${path.sep}`) ? '../../..' : '../..');
const RUNS = Number(arg('runs', '200'));
const file = path.resolve(root, arg('pipeline', 'pipelines/background.json'));
const maxSize = arg('max-size', '1M');
const bound = parseSize(maxSize);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-soak-'));
const cache = path.join(work, 'cache'), out = path.join(work, 'out');
let s = 777;
const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
// a handful of distinct points, revisited: cache hits, misses and evictions all happen
const points = Array.from({ length: 12 }, () => [`h=${(0.6 + 0.15 * rnd()).toPrecision(6)}`, `Omega_m=${(0.25 + 0.15 * rnd()).toPrecision(6)}`]);

function cli(params: string[], killAfterMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [path.join(root, 'bin/run.js'), 'run', file, '--out', out, '--cache', cache, '--cache-max-size', maxSize, '--quiet', ...params.flatMap((p) => ['--param', p])]);
    let stderr = '';
    c.stderr.on('data', (b) => { stderr += b; });
    if (killAfterMs !== undefined) setTimeout(() => c.kill('SIGKILL'), killAfterMs);
    c.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

const reference = new Map<string, Map<string, Buffer>>();
async function uncached(params: string[]): Promise<Map<string, Buffer>> {
  const k = params.join(' ');
  if (!reference.has(k)) {
    const dir = fs.mkdtempSync(path.join(work, 'ref-'));
    const r = await runJob({ file, out: dir, quiet: true, params });
    reference.set(k, new Map(r.files.map((f) => [path.basename(f), fs.readFileSync(f)])));
  }
  return reference.get(k)!;
}

let failures = 0, kills = 0, maxBytes = 0;
const fail = (msg: string) => { failures++; console.log(`FAIL ${msg}`); };
const t0 = Date.now();
for (let i = 0; i < RUNS; i++) {
  const params = points[Math.floor(rnd() * points.length)];
  if (rnd() < 0.1) {
    kills++;
    await cli(params, 100 + Math.floor(rnd() * 1500));
  }
  const r = await cli(params);
  if (r.code !== 0) { fail(`run ${i} (${params.join(' ')}): exit ${r.code}${r.signal ? ` signal ${r.signal}` : ''}: ${r.stderr.trim().split('\n')[0]}`); continue; }
  const ref = await uncached(params);
  for (const [name, bytes] of ref) {
    const got = fs.readFileSync(path.join(out, name));
    if (!got.equals(bytes)) fail(`run ${i} (${params.join(' ')}): ${name} differs from the uncached run`);
  }
  const used = cacheUsage(cache).bytes;
  maxBytes = Math.max(maxBytes, used);
  if (used > bound) fail(`run ${i}: the cache holds ${used} bytes, above its bound ${bound}`);
  if ((i + 1) % 20 === 0) console.log(`${i + 1}/${RUNS} runs, ${kills} killed, cache ${(used / 1024).toFixed(0)} KiB, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
console.log(`${RUNS} runs (${kills} kill -9 mid-run, each followed by a rerun), ${reference.size} distinct points; largest cache ${(maxBytes / 1024).toFixed(0)} KiB of ${(bound / 1024).toFixed(0)} KiB; ${failures} failures`);
fs.rmSync(work, { recursive: true, force: true });
console.log(`RESULT soak_failures ${failures}`);
process.exit(failures ? 1 : 0);
