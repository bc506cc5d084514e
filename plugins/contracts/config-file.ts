/**
 * Reading a file a stage's config names (`with.file`): a relative path resolves against the pipeline file's folder,
 * and a failure is an error naming with.file, what was given and where it was looked for.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export function readConfigFile(file: string, baseDir = process.cwd()): string {
  const path = resolve(baseDir, file);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`with.file: cannot read '${file}' (resolved to ${path}): ${(e as Error).message}`);
  }
}
