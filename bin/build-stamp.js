// The build stamp: dist/.build-stamp records, for each source entry (a directory of .ts files, or a file), the
// newest modification time and the number of files that the build in dist/ was compiled from, taken before tsc
// starts (so a file saved during the build counts as newer than the build). bin/run.js refuses a build older
// than core/ and plugins/; scripts/build-if-stale.mjs rebuilds only when some source is newer than the stamp.
// Plain JavaScript (no build step), so that it can judge the build; types in build-stamp.d.ts.
import fs from 'node:fs';
import path from 'node:path';

export const STAMP_FILE = '.build-stamp';
/** What the CLI runs: a change here makes dist/ stale for `cosmodag`. */
export const CLI_SOURCES = ['core', 'plugins'];
/** Everything tsc compiles into dist/ (the benchmarks and test fixtures run from dist/ too). */
export const ALL_SOURCES = ['core', 'plugins', 'test', 'tsconfig.json'];

/** Walk `dir` for .ts files: the newest mtime (and its file) and the count. */
function walk(dir, acc) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'dist') walk(p, acc);
    } else if (e.name.endsWith('.ts')) {
      const m = fs.statSync(p).mtimeMs;
      acc.count++;
      if (m > acc.newestMs) {
        acc.newestMs = m;
        acc.newestFile = p;
      }
    }
  }
  return acc;
}

/**
 * The state of the sources: entry -> {newestMs, count, newestFile}, for the entries present under `root`
 * (a missing entry is left out).
 */
export function scanSources(root, entries) {
  const out = {};
  for (const entry of entries) {
    const p = path.join(root, entry);
    let st;
    try {
      st = fs.statSync(p);
    } catch {
      continue;
    }
    const acc = st.isDirectory() ? walk(p, { newestMs: 0, count: 0, newestFile: null }) : { newestMs: st.mtimeMs, count: 1, newestFile: p };
    out[entry] = { newestMs: acc.newestMs, count: acc.count, newestFile: acc.newestFile && path.relative(root, acc.newestFile) };
  }
  return out;
}

/** Write dist/.build-stamp from a scan taken before the build. */
export function writeStamp(dist, scan) {
  const sources = Object.fromEntries(Object.entries(scan).map(([k, v]) => [k, { newestMs: v.newestMs, count: v.count }]));
  fs.mkdirSync(dist, { recursive: true });
  fs.writeFileSync(path.join(dist, STAMP_FILE), `${JSON.stringify({ version: 1, builtAt: new Date().toISOString(), sources }, null, 2)}\n`);
}

export function removeStamp(dist) {
  fs.rmSync(path.join(dist, STAMP_FILE), { force: true });
}

/**
 * Is the build in `dist` (default root/dist) as new as the sources `entries` under `root`?
 *  - 'no-sources': none of the entries exists (an installed package: nothing to compare with);
 *  - 'stale': no build or no stamp, or some entry has a newer file, or a different number of files, than at
 *    the build (`reason` says which);
 *  - 'fresh' otherwise.
 */
export function checkBuild({ root, dist = path.join(root, 'dist'), entries = CLI_SOURCES }) {
  const now = scanSources(root, entries);
  if (Object.keys(now).length === 0) return { status: 'no-sources' };
  let stamp;
  try {
    stamp = JSON.parse(fs.readFileSync(path.join(dist, STAMP_FILE), 'utf8'));
  } catch {
    return { status: 'stale', reason: fs.existsSync(dist) ? `${path.relative(root, dist) || dist} has no readable ${STAMP_FILE}` : 'there is no build' };
  }
  for (const [entry, s] of Object.entries(now)) {
    const b = stamp?.sources?.[entry];
    if (!b) return { status: 'stale', reason: `${entry} was not part of the build` };
    if (s.newestMs > b.newestMs) return { status: 'stale', reason: `${s.newestFile} changed after the build` };
    if (s.count !== b.count) return { status: 'stale', reason: `${entry} has ${s.count} source files, the build had ${b.count}` };
  }
  return { status: 'fresh' };
}
