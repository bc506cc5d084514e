// `npm run build`: tsc, then dist/.build-stamp (bin/build-stamp.js). The sources are scanned before tsc starts,
// so a file saved while tsc runs makes the build stale; a failed tsc leaves no stamp (its output may be partial).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ALL_SOURCES, removeStamp, scanSources, writeStamp } from '../bin/build-stamp.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

const before = scanSources(root, ALL_SOURCES);
removeStamp(dist);
const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
if (r.status !== 0) process.exit(r.status ?? 1);
writeStamp(dist, before);
