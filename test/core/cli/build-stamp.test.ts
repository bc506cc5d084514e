/**
 * The build stamp behind "the CLI runs the code the tests run, or refuses a stale build" (bin/build-stamp.js,
 * used by bin/run.js and scripts/build-if-stale.mjs), on a temporary tree with fake sources and a fake dist/:
 * never on the real sources.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkBuild, scanSources, writeStamp } from '../../../bin/build-stamp.js';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
let root: string, dist: string;
const entries = ['core', 'plugins'];

/** Write a file with a given mtime (seconds from now, negative: in the past). */
function put(rel: string, ageSeconds = -60) {
  const p = path.join(root, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, `// ${rel}\n`);
  const t = new Date(Date.now() + ageSeconds * 1000);
  fs.utimesSync(p, t, t);
}

/** What the build script does: scan, then (after "tsc") write the stamp. */
const build = () => writeStamp(dist, scanSources(root, entries));

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-stamp-'));
  dist = path.join(root, 'dist');
  put('core/a.ts');
  put('core/graph/b.ts');
  put('plugins/p.ts');
  put('core/notes.md', 0); // not a source: its mtime does not matter
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

describe('checkBuild', () => {
  it('is fresh right after a build', () => {
    build();
    expect(checkBuild({ root, dist, entries })).toEqual({ status: 'fresh' });
  });

  it('is stale without a build, or with a dist/ but no stamp', () => {
    expect(checkBuild({ root, dist, entries })).toEqual({ status: 'stale', reason: 'there is no build' });
    fs.mkdirSync(dist);
    expect(checkBuild({ root, dist, entries })).toMatchObject({ status: 'stale', reason: expect.stringMatching(/no readable \.build-stamp/) });
  });

  it('is stale when a source is saved after the build, and names it', () => {
    build();
    put('core/graph/b.ts', 0);
    expect(checkBuild({ root, dist, entries })).toEqual({ status: 'stale', reason: `${path.join('core', 'graph', 'b.ts')} changed after the build` });
  });

  it('is stale when a source is added (even with an old mtime) or removed', () => {
    build();
    put('plugins/q.ts', -3600);
    expect(checkBuild({ root, dist, entries })).toEqual({ status: 'stale', reason: 'plugins has 2 source files, the build had 1' });
    build();
    fs.rmSync(path.join(root, 'core/a.ts'));
    expect(checkBuild({ root, dist, entries })).toEqual({ status: 'stale', reason: 'core has 1 source files, the build had 2' });
  });

  it('ignores entries it is not asked about (the CLI does not run test/)', () => {
    build();
    put('test/t.ts', 0);
    expect(checkBuild({ root, dist, entries })).toEqual({ status: 'fresh' });
    expect(checkBuild({ root, dist, entries: [...entries, 'test'] })).toEqual({ status: 'stale', reason: 'test was not part of the build' });
  });

  it('has nothing to compare in an installed package (no sources beside dist/)', () => {
    fs.rmSync(path.join(root, 'core'), { recursive: true });
    fs.rmSync(path.join(root, 'plugins'), { recursive: true });
    expect(checkBuild({ root, dist, entries })).toEqual({ status: 'no-sources' });
  });
});

describe('bin/run.js', () => {
  it('refuses a stale build with exit code 1 and says what to do', () => {
    // a copy of the launcher in the temporary tree: its sources are newer than its (absent) build
    fs.mkdirSync(path.join(root, 'bin'));
    for (const f of ['run.js', 'build-stamp.js', 'relaunch.js']) fs.copyFileSync(path.join(repo, 'bin', f), path.join(root, 'bin', f));
    const r = spawnSync(process.execPath, [path.join(root, 'bin/run.js'), 'plugins'], { encoding: 'utf8', env: { ...process.env, COSMODAG_SKIP_BUILD_CHECK: '' } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('the build in dist/ is older than the sources: run npm run build');
  });
});
