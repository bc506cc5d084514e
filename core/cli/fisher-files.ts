/**
 * Fisher-matrix files: read `fisher.tsv` (a header of parameter names, then the data Fisher matrix) and the priors
 * of the `fisher.json` beside it, add independent data matrices aligned by parameter name (a parameter missing from
 * one matrix contributes zero there), count each parameter's prior once (the same prior in several files is one
 * prior; different widths for one parameter are refused), and the marginalized errors of the sum plus the priors
 * (inverted by core/numerics/fisher-inverse.ts: a degenerate sum is refused naming the parameter combination no
 * matrix constrains). Convention: docs/likelihood.md, "Priors".
 */
import fs from 'node:fs';
import path from 'node:path';
import { invertFisher } from '../numerics/fisher-inverse.js';
import { InputError, issue } from '../schema/input-error.js';

export interface FisherFile {
  names: string[];
  /** The data Fisher matrix (row-major), priors not included. */
  F: Float64Array;
  fiducial?: Record<string, number>;
  /** Gaussian prior widths sigma by parameter (fisher.json "priors"); added as 1/sigma^2 when errors are computed. */
  priors?: Record<string, number>;
  /** Where it was read (for messages). */
  file?: string;
}

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
  let priors: Record<string, number> = {};
  if (fs.existsSync(json)) {
    let j: { parameters?: unknown; fiducial?: unknown; priors?: unknown };
    try {
      j = JSON.parse(fs.readFileSync(json, 'utf8'));
    } catch (e) {
      throw new InputError([issue(json, `is not valid JSON (${(e as Error).message}); it holds the priors of ${file}`)]);
    }
    if (Array.isArray(j.parameters) && Array.isArray(j.fiducial)) fiducial = Object.fromEntries((j.parameters as string[]).map((n, i) => [n, (j.fiducial as number[])[i]]));
    if (j.priors !== undefined) {
      if (!j.priors || typeof j.priors !== 'object' || Array.isArray(j.priors)) throw new InputError([issue(`${json}: priors`, 'must be an object {parameter: sigma}')]);
      for (const [n, v] of Object.entries(j.priors as Record<string, unknown>)) {
        if (!names.includes(n)) throw new InputError([issue(`${json}: priors.${n}`, `${n} is not a parameter of ${file} (${names.join(', ')})`)]);
        if (!(typeof v === 'number' && v > 0 && Number.isFinite(v))) throw new InputError([issue(`${json}: priors.${n}`, `${JSON.stringify(v)} is not a prior width sigma > 0`)]);
      }
      priors = j.priors as Record<string, number>;
    }
  }
  return { names, F, fiducial, priors, file };
}

export function combineFisher(files: FisherFile[]): FisherFile {
  const names: string[] = [];
  for (const f of files) for (const n of f.names) if (!names.includes(n)) names.push(n);
  const K = names.length;
  const F = new Float64Array(K * K);
  const fiducial: Record<string, number> = {};
  const priors: Record<string, number> = {}, from: Record<string, string> = {};
  for (const f of files) {
    const idx = f.names.map((n) => names.indexOf(n));
    const k = f.names.length;
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) F[idx[i] * K + idx[j]] += f.F[i * k + j];
    Object.assign(fiducial, f.fiducial ?? {});
    // a prior is information about the parameter, not from the data: counted once however many files list it
    for (const [n, s] of Object.entries(f.priors ?? {})) {
      if (priors[n] !== undefined && Math.abs(priors[n] - s) > 1e-12 * Math.max(priors[n], s))
        throw new InputError([issue(f.file ?? 'fisher.json', `gives ${n} a prior of width ${s}, but ${from[n]} gives ${priors[n]}; a prior is counted once, so the files must agree on it (or combine matrices written without priors)`)]);
      priors[n] = s; from[n] = f.file ?? 'another file';
    }
  }
  return { names, F, fiducial, priors };
}

/** The data matrix plus the priors, 1/sigma^2 on the diagonal: the matrix whose inverse gives the errors. */
export function withPriors(f: FisherFile): Float64Array {
  const K = f.names.length;
  const F = f.F.slice();
  for (const [n, s] of Object.entries(f.priors ?? {})) { const i = f.names.indexOf(n); if (i >= 0) F[i * K + i] += 1 / (s * s); }
  return F;
}

/** Marginalized errors and the covariance of the data matrix plus the priors. */
export function fisherCovariance(f: FisherFile): Float64Array {
  const { cov } = invertFisher(withPriors(f), f.names, {
    what: 'the combined Fisher matrix',
    remedy: (d) => `add a Fisher matrix that constrains ${d.length > 1 ? 'one of them' : 'it'}, or one with a prior on ${d.length > 1 ? 'one of them' : 'it'}`,
  });
  return cov;
}

export function marginalizedErrors(f: FisherFile): Float64Array {
  const K = f.names.length;
  const cov = fisherCovariance(f);
  return Float64Array.from({ length: K }, (_, i) => Math.sqrt(cov[i * K + i]));
}

/** The dark-energy figure of merit 1/sqrt(det Cov(w0, wa)) of a covariance, or why there is none. */
export function figureOfMerit(names: readonly string[], cov: Float64Array): { fom: number; note?: string } {
  const K = names.length, a = names.indexOf('w0'), b = names.indexOf('wa');
  if (a < 0 || b < 0) {
    const missing = ['w0', 'wa'].filter((n) => !names.includes(n));
    return { fom: NaN, note: `no figure of merit (w0, wa): ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not in the Fisher matrices; it needs both w0 and wa` };
  }
  return { fom: 1 / Math.sqrt(cov[a * K + a] * cov[b * K + b] - cov[a * K + b] ** 2) };
}
