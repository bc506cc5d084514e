/**
 * A real Redis for the queue tests and the sweep benchmark: Debian's `redis-server` started on a free loopback
 * port with its own temporary directory, no persistence (--save '' --appendonly no), stopped afterwards. Where no
 * redis-server can be found the caller fails with a message saying how to install it (tests are not skipped).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface RedisServer {
  /** redis://127.0.0.1:PORT (with the password when one was set). */
  url: string;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

export const REDIS_MISSING =
  'these tests need a real Redis server and no redis-server was found on PATH (nor in /usr/bin, /usr/sbin, /usr/local/bin): ' +
  'install it with `apt-get install -y redis-server` (Debian/Ubuntu; .ci/run does this), or set REDIS_SERVER=/path/to/redis-server';

/** The redis-server executable, or null. */
export function findRedisServer(): string | null {
  const candidates = [
    process.env.REDIS_SERVER,
    ...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, 'redis-server')),
    '/usr/bin/redis-server', '/usr/sbin/redis-server', '/usr/local/bin/redis-server',
  ].filter((c): c is string => !!c);
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      return c;
    } catch { /* next */ }
  }
  return null;
}

/** A TCP port on 127.0.0.1 that nothing listens on (at the time of asking). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function waitReady(child: ChildProcess, log: () => string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server did not become ready within ${timeoutMs} ms:\n${log()}`)), timeoutMs);
    const check = () => {
      if (/Ready to accept connections/.test(log())) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with code ${code}:\n${log()}`));
    });
  });
}

/** Start a private redis-server (throws REDIS_MISSING when there is none). */
export async function startRedis(o: { password?: string } = {}): Promise<RedisServer> {
  const exe = findRedisServer();
  if (!exe) throw new Error(REDIS_MISSING);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-redis-'));
  for (let tries = 0; ; tries++) {
    const port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'yes'];
    if (o.password) args.push('--requirepass', o.password);
    const child = spawn(exe, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    try {
      await waitReady(child, () => out, 10_000);
    } catch (e) {
      child.kill('SIGKILL');
      if (tries < 3 && /Address already in use/.test(out)) continue; // the port was taken meanwhile
      fs.rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    const auth = o.password ? `:${encodeURIComponent(o.password)}@` : '';
    return {
      url: `redis://${auth}127.0.0.1:${port}`,
      port,
      dir,
      stop: () => new Promise<void>((resolve) => {
        const done = () => {
          fs.rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
    };
  }
}
