#!/usr/bin/env node
// oclif launcher for the `cosmodag` CLI (commands are compiled to dist/ by `npm run build`).
// In a checkout (the TypeScript sources beside dist/), a build older than the sources is refused rather than
// run: the CLI runs the code the tests run. An installed package has no sources and skips the check.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkBuild, CLI_SOURCES } from './build-stamp.js';
import { prestartSweepThreads, relaunch, runsHere, watchParent } from './relaunch.js';

if (!process.env.COSMODAG_SKIP_BUILD_CHECK) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const build = checkBuild({ root, entries: CLI_SOURCES });
  if (build.status === 'stale') {
    process.stderr.write(`cosmodag: the build in dist/ is older than the sources: run npm run build\n  (${build.reason})\n`);
    process.exit(1);
  }
}

// sweep and worker run in a child process with V8 flags of their own (bin/relaunch.js says why)
if (!runsHere(process.argv[2])) await relaunch();
watchParent();
await prestartSweepThreads(process.argv.slice(2));

const { execute } = await import('@oclif/core');
await execute({ dir: import.meta.url });
