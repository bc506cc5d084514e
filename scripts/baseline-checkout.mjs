// `npm run bench:likelihood:baseline`: a built checkout of the commit issue 13 started from (064dbf4, the
// main branch before the sampler-speed work) in .bench-baseline/ (git worktree, node_modules linked, tsc),
// made once; then the likelihood benchmark with BASELINE pointing at it (same process, each case after ours).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const commit = process.env.BASELINE_COMMIT ?? '064dbf4';
const dir = path.join(root, '.bench-baseline', commit);
const run = (cmd, args, cwd = root, env = process.env) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd, env });
  if (r.status !== 0) { console.error(`${cmd} ${args.join(' ')} failed`); process.exit(r.status ?? 1); }
};
if (!fs.existsSync(path.join(dir, 'dist', 'test', 'bench', 'likelihood.bench.js'))) {
  if (!fs.existsSync(dir)) run('git', ['worktree', 'add', '--detach', dir, commit]);
  if (!fs.existsSync(path.join(dir, 'node_modules'))) fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  // the baseline's tsc (its own tsconfig) into its own dist/
  run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], dir);
}
run(process.execPath, [path.join(root, 'dist/test/bench/likelihood.bench.js')], root, { ...process.env, BASELINE: dir });
