/**
 * Fisher-matrix files: read `fisher.tsv` (a header of parameter names, then the matrix), add independent
 * matrices aligned by parameter name (a parameter missing from one matrix contributes zero there), and the
 * marginalized errors of the sum (inverted by core/numerics/fisher-inverse.ts: a degenerate sum is refused naming the
 * parameter combination no matrix constrains).
 */
import fs from 'node:fs';
import path from 'node:path';
import { invertFisher } from '../numerics/fisher-inverse.js';
import { InputError, issue } from '../schema/input-error.js';

export interface FisherFile { names: string[]; F: Float64Array; fiducial?: Record<string, number> }

export function readFisherTsv(file: string): FisherFile {
  // a file that is not a Fisher matrix is bad input (exit 2), named by its path
  const bad = (msg: string) => new InputError([issue(file, msg)]);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw bad(`cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (!lines.length) throw bad('is empty');
  const names = lines[0].split('\t').map((s) => s.trim());
  const K = names.length;
  if (lines.length - 1 !== K) throw bad(`the header names ${K} parameters but there are ${lines.length - 1} matrix rows`);
  const F = new Float64Array(K * K);
  lines.slice(1).forEach((l, i) => {
    const row = l.split('\t').map(Number);
    if (row.length !== K || row.some((x) => !Number.isFinite(x))) throw bad(`line ${i + 2}: expected ${K} finite numbers separated by tabs`);
    F.set(row, i * K);
  });
  for (let i = 0; i < K; i++) for (let j = 0; j < i; j++)
    if (Math.abs(F[i * K + j] - F[j * K + i]) > 1e-8 * Math.max(Math.abs(F[i * K + j]), Math.abs(F[j * K + i]), 1e-300))
      throw bad(`the matrix is not symmetric at (${names[i]}, ${names[j]})`);
  // fiducial values from a fisher.json written alongside, when present
  const json = path.join(path.dirname(file), path.basename(file).replace(/\.tsv$/, '.json'));
  let fiducial: Record<string, number> | undefined;
  if (fs.existsSync(json)) {
    try {
      const j = JSON.parse(fs.readFileSync(json, 'utf8'));
      if (Array.isArray(j.parameters) && Array.isArray(j.fiducial)) fiducial = Object.fromEntries(j.parameters.map((n: string, i: number) => [n, j.fiducial[i]]));
    } catch { /* no fiducials then */ }
  }
  return { names, F, fiducial };
}

export function combineFisher(files: FisherFile[]): FisherFile {
  const names: string[] = [];
  for (const f of files) for (const n of f.names) if (!names.includes(n)) names.push(n);
  const K = names.length;
  const F = new Float64Array(K * K);
  const fiducial: Record<string, number> = {};
  for (const f of files) {
    const idx = f.names.map((n) => names.indexOf(n));
    const k = f.names.length;
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) F[idx[i] * K + idx[j]] += f.F[i * k + j];
    Object.assign(fiducial, f.fiducial ?? {});
  }
  return { names, F, fiducial };
}

export function marginalizedErrors(f: FisherFile): Float64Array {
  const K = f.names.length;
  const { cov } = invertFisher(f.F, f.names, {
    what: 'the combined Fisher matrix',
    remedy: (d) => `add a Fisher matrix that constrains ${d.length > 1 ? 'one of them' : 'it'}, or one with a prior on ${d.length > 1 ? 'one of them' : 'it'}`,
  });
  return Float64Array.from({ length: K }, (_, i) => Math.sqrt(cov[i * K + i]));
}
