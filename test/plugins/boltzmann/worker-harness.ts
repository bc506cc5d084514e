/**
 * Worker threads under vitest (workers.test.ts, adjoint-workers.test.ts): the sources are TypeScript, which a worker
 * thread cannot load; transpileClosure writes an entry's import closure as JavaScript (TypeScript's transpileModule,
 * no type check) into a directory, and the tests point the stage at it with COSMODAG_BOLTZMANN_WORKER (what the
 * compiled package finds next to parallel.js itself).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { repoRoot } from './harness.js';

/** Transpile `entry` and every relative import it reaches into outDir (same layout as the repository). */
export function transpileClosure(entry: string, outDir: string): string {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    const js = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    const out = path.join(outDir, path.relative(repoRoot, file)).replace(/\.ts$/, '.js');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, js);
    for (const m of js.matchAll(/from\s+'(\.[^']+)\.js'/g)) visit(path.resolve(path.dirname(file), `${m[1]}.ts`));
  };
  visit(entry);
  return path.join(outDir, path.relative(repoRoot, entry)).replace(/\.ts$/, '.js');
}
