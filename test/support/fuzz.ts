/**
 * The pipeline fuzzer (issue 19): seeded random mutations of every shipped pipeline and of an n(z) table —
 * type changes, deletions, huge and tiny numbers, 1e999 (Infinity after JSON.parse), unknown keys, path tricks
 * in output names, duplicated outputs, huge sizes — each validated, and the cheap ones run, in this process.
 *
 * The property of every case: it is valid and (when run) writes finite outputs inside --out; or it is an
 * InputError whose every issue names a JSON path or flag (exit 2); or a StageError naming its stage (exit 1).
 * Anything else — a TypeError, a RangeError, a stack overflow, a file outside --out, a run past the time
 * bound — is a violation, reported with the seed and the mutation so that it reproduces.
 *
 * Used by test/core/cli/fuzz.test.ts (a few hundred cases) and `npm run fuzz -- --cases N` (test/fuzz-run.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runJob } from '../../core/cli/run-job.js';
import { StageError } from '../../core/graph/execute.js';
import { applyParam, applySet, checkJsonTree } from '../../core/graph/pipeline-file.js';
import { dirOf, loadAndPlan } from '../../core/graph/runtime.js';
import { InputError } from '../../core/schema/input-error.js';

export type Outcome = 'valid' | 'computed' | 'input-error' | 'stage-error' | 'violation';

export interface CaseResult { seed: number; pipeline: string; mutation: string; outcome: Outcome; detail?: string; seconds: number }

/** A small deterministic PRNG (mulberry32): a case is reproduced from its seed alone. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path in a JSON tree (as key lists), objects and arrays included. */
function paths(x: Json, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(x)) x.slice(0, 50).forEach((v, i) => paths(v, [...at, i], out));
  else if (x !== null && typeof x === 'object') for (const k of Object.keys(x)) paths(x[k], [...at, k], out);
  return out;
}

function getAt(x: Json, p: (string | number)[]): Json {
  let cur: Json = x;
  for (const k of p) cur = (cur as Record<string | number, Json>)[k];
  return cur;
}

function setAt(x: Json, p: (string | number)[], v: Json | undefined): void {
  if (!p.length) return;
  const parent = getAt(x, p.slice(0, -1)) as Record<string | number, Json>;
  const k = p[p.length - 1];
  if (v === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(k), 1);
    else delete parent[k];
  } else parent[k] = v;
}

const INF = '__cosmodag_fuzz_1e999__';

const REPLACEMENTS: [string, (old: Json, r: () => number) => Json | undefined][] = [
  ['delete', () => undefined],
  ['string', () => 'x'],
  ['empty string', () => ''],
  ['zero', () => 0],
  ['negative', (o) => (typeof o === 'number' ? -Math.abs(o) - 1 : -1)],
  ['huge', () => 1e308],
  ['tiny', () => 1e-308],
  ['1e999', () => INF],
  ['times 1e6', (o) => (typeof o === 'number' ? o * 1e6 : 1e6)],
  ['true', () => true],
  ['null', () => null],
  ['empty array', () => []],
  ['empty object', () => ({})],
  ['unknown key', (o) => (o !== null && typeof o === 'object' && !Array.isArray(o) ? { ...o, zz_unknown_key: 1 } : { zz_unknown_key: 1 })],
  ['long array', () => Array.from({ length: 30000 }, (_, i) => i + 2)],
  ['count 1e7', (o) => (o !== null && typeof o === 'object' && !Array.isArray(o) ? { ...o, count: 1e7 } : 1e7)],
  ['non-integer', (o) => (typeof o === 'number' ? o + 0.5 : 2.5)],
];

const OUTPUT_TRICKS = ['../escape.tsv', '/tmp/cosmodag-fuzz-abs.tsv', 'a/b.tsv', '.hidden.tsv', '..', 'x\u0000y.tsv', 'é'.repeat(200) + '.tsv', 'cl.tsv.partial'];

/** One mutation of a pipeline object (in place); returns its description. */
function mutate(p: Json, r: () => number): string {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)];
  const u = r();
  const obj = p as Record<string, Json>;
  if (u < 0.12 && obj.outputs && typeof obj.outputs === 'object') {
    const outs = obj.outputs as Record<string, Json>;
    const stages = Object.keys((obj.stages as Record<string, Json>) ?? {});
    if (r() < 0.5) {
      const s = pick(stages), t = pick(OUTPUT_TRICKS);
      outs[s] = t;
      return `outputs.${s} = ${JSON.stringify(t)}`;
    }
    const existing = Object.values(outs).flat().filter((x): x is string => typeof x === 'string');
    const s = pick(stages), f = pick(existing.length ? existing : ['x.tsv']);
    outs[s] = f;
    return `outputs.${s} = ${JSON.stringify(f)} (duplicated)`;
  }
  if (u < 0.17) {
    const k = pick(['__proto__', 'constructor', 'prototype']);
    const target = pick(paths(p).filter((q) => { const v = getAt(p, q); return v !== null && typeof v === 'object' && !Array.isArray(v); }));
    const at = getAt(p, target) as Record<string, Json>;
    Object.defineProperty(at, k, { value: { polluted: 1 }, enumerable: true, configurable: true, writable: true });
    return `${target.join('.') || '(root)'}.${k} = {...}`;
  }
  const all = paths(p).filter((q) => q.length > 0);
  const target = pick(all);
  const [name, f] = pick(REPLACEMENTS);
  setAt(p, target, f(getAt(p, target), r));
  return `${target.join('.')}: ${name}`;
}

/** Files under dir (relative), to see whether anything appeared outside --out. */
function listing(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true }).map(String).sort();
}

const finiteTables = (dir: string): string | null => {
  for (const f of fs.readdirSync(dir)) {
    if (!/\.(tsv|txt)$/.test(f)) continue;
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    if (/\b(NaN|-?Infinity)\b/.test(text)) return `${f} holds NaN or Infinity`;
  }
  return null;
};

export interface FuzzOptions {
  cases: number;
  seed: number;
  /** Pipelines to mutate (absolute paths); those in `compute` are also run when valid. */
  pipelines: string[];
  compute: Set<string>;
  /** Seconds a run may take before the case counts as a hang. */
  timeBound: number;
  onCase?: (r: CaseResult) => void;
}

async function withTimeout<T>(p: Promise<T>, seconds: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`HANG: no answer within ${seconds} s`)), seconds * 1000); })]);
  } finally {
    clearTimeout(timer);
  }
}

/** Classify what a case threw (or null when it passed). */
function classify(e: unknown): { outcome: Outcome; detail?: string } {
  if (e instanceof InputError) {
    const unnamed = e.issues.filter((i) => typeof i.path !== 'string' || (i.path === '' && !/pipeline file|not valid JSON/.test(i.message)));
    return unnamed.length ? { outcome: 'violation', detail: `input error without a path: ${unnamed[0].message}` } : { outcome: 'input-error', detail: e.issues[0].path };
  }
  if (e instanceof StageError) {
    const cause = (e.cause as Error | undefined)?.name;
    // a stage failing with an exception of the language (not a message of ours) is a bug inside the stage
    if (cause === 'TypeError' || cause === 'RangeError' || cause === 'ReferenceError') return { outcome: 'violation', detail: `${e.stage}: ${cause}: ${(e.cause as Error).message}` };
    return { outcome: 'stage-error', detail: e.stage };
  }
  const err = e as Error;
  return { outcome: 'violation', detail: `${err?.name}: ${err?.message}\n${err?.stack?.split('\n').slice(1, 4).join('\n')}` };
}

export async function fuzz(o: FuzzOptions): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  const originals = new Map(o.pipelines.map((f) => [f, fs.readFileSync(f, 'utf8')]));
  for (let c = 0; c < o.cases; c++) {
    const seed = o.seed + c;
    const r = rng(seed);
    const file = o.pipelines[Math.floor(r() * o.pipelines.length)];
    const p = JSON.parse(originals.get(file)!) as Json;
    const nMut = 1 + Math.floor(r() * 2);
    const mutation = Array.from({ length: nMut }, () => mutate(p, r)).join('; ');
    // the mutated pipeline as a file next to the original (relative paths resolve the same), in a sandbox
    // whose listing must not change but for --out
    const sandbox = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-fuzz-'));
    const text = JSON.stringify(p).replaceAll(`"${INF}"`, '1e999');
    const pfile = path.join(dirOf(file), `.fuzz-${process.pid}-${seed}.json`);
    fs.writeFileSync(pfile, text);
    const out = path.join(sandbox, 'out');
    const before = listing(sandbox);
    const t0 = performance.now();
    let res: { outcome: Outcome; detail?: string };
    try {
      await withTimeout((async () => {
        if (o.compute.has(file)) {
          await runJob({ file: pfile, out, quiet: true });
          const bad = finiteTables(out);
          res = bad ? { outcome: 'violation', detail: bad } : { outcome: 'computed' };
        } else {
          const raw = JSON.parse(fs.readFileSync(pfile, 'utf8')) as unknown;
          checkJsonTree(raw);
          await loadAndPlan(raw, { baseDir: dirOf(file) });
          res = { outcome: 'valid' };
        }
      })(), o.timeBound);
    } catch (e) {
      res = /^HANG:/.test((e as Error)?.message ?? '') ? { outcome: 'violation', detail: (e as Error).message } : classify(e);
    } finally {
      fs.rmSync(pfile, { force: true });
    }
    const after = listing(sandbox).filter((f) => f !== 'out' && !f.startsWith(`out${path.sep}`));
    const escaped = after.filter((f) => !before.includes(f));
    if (escaped.length) res = { outcome: 'violation', detail: `files outside --out: ${escaped.join(', ')}` };
    if (fs.existsSync('/tmp/cosmodag-fuzz-abs.tsv')) { fs.rmSync('/tmp/cosmodag-fuzz-abs.tsv'); res = { outcome: 'violation', detail: 'wrote /tmp/cosmodag-fuzz-abs.tsv' }; }
    fs.rmSync(sandbox, { recursive: true, force: true });
    const result: CaseResult = { seed, pipeline: path.basename(file), mutation, ...res!, seconds: (performance.now() - t0) / 1000 };
    results.push(result);
    o.onCase?.(result);
  }
  return results;
}

/** Mutations of the command-line edits rather than the file: --set and --param strings. */
export function cliEditCases(): { sets: string[]; params: string[] }[] {
  return [
    { sets: ['__proto__.polluted=1'], params: [] },
    { sets: ['parameters.h.value=1e999'], params: [] },
    { sets: ['stages..with=1'], params: [] },
    { sets: ['noequals'], params: [] },
    { sets: [], params: ['h=0x10'] },
    { sets: [], params: ['h='] },
    { sets: [], params: ['=1'] },
    { sets: [], params: ['constructor=1'] },
    { sets: [], params: ['h=Infinity'] },
  ];
}

/** Apply CLI edits the way `cosmodag run` does; returns the error (or null). */
export function applyEdits(pipeline: unknown, c: { sets: string[]; params: string[] }): unknown {
  try {
    for (const s of c.sets) applySet(pipeline, s);
    for (const p of c.params) applyParam(pipeline, p);
    return null;
  } catch (e) {
    return e;
  }
}
