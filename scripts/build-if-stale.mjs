// Rebuild dist/ only when a source (core/, plugins/, test/, tsconfig.json) is newer than dist/.build-stamp:
// `npm run forecast` and the bench:* scripts start with it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_SOURCES, checkBuild } from '../bin/build-stamp.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const build = checkBuild({ root: path.resolve(here, '..'), entries: ALL_SOURCES });
if (build.status === 'stale') {
  process.stderr.write(`rebuilding dist/ (${build.reason})\n`);
  const r = spawnSync(process.execPath, [path.join(here, 'build.mjs')], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
