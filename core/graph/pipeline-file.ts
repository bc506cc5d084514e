/**
 * Reading a pipeline file and applying command-line edits (`--param NAME=VALUE`, `--set DOTTED.PATH=JSON`).
 * Malformed JSON is an input error naming the line and column.
 */
import fs from 'node:fs';
import { InputError, issue } from '../schema/input-error.js';

export function readPipelineFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError([issue('', `cannot read pipeline file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    let where = '';
    if (pos) {
      const before = text.slice(0, Number(pos[1]));
      const line = before.split('\n').length;
      const col = Number(pos[1]) - before.lastIndexOf('\n');
      where = ` at line ${line}, column ${col}`;
    }
    throw new InputError([issue('', `${file} is not valid JSON${where}: ${msg}`)], `${file}: malformed JSON${where}`);
  }
  checkJsonTree(parsed);
  return parsed;
}

/** Keys that would reach an object's prototype chain: refused anywhere in a pipeline. */
export const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Deepest nesting a pipeline may have (the schema's own depth is about 8). */
export const MAX_PIPELINE_DEPTH = 64;

/**
 * A parsed pipeline is plain data a schema can check: no prototype keys, no number JSON cannot hold
 * (1e999 parses to Infinity), no nesting beyond MAX_PIPELINE_DEPTH. Iterative, so depth cannot overflow the stack.
 */
export function checkJsonTree(root: unknown, rootPath = ''): void {
  const problems: ReturnType<typeof issue>[] = [];
  const stack: [unknown, string, number][] = [[root, rootPath, 0]];
  while (stack.length && problems.length < 20) {
    const [v, at, depth] = stack.pop()!;
    if (typeof v === 'number' && !Number.isFinite(v)) problems.push(issue(at, 'is a number out of the range of a double (e.g. 1e999); write a finite number'));
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_PIPELINE_DEPTH) {
      problems.push(issue(at, `nests deeper than ${MAX_PIPELINE_DEPTH} levels`));
      continue;
    }
    for (const k of Object.keys(v)) {
      const child = Array.isArray(v) ? `${at}[${k}]` : at ? `${at}.${k}` : k;
      if (FORBIDDEN_KEYS.has(k)) problems.push(issue(child, `the key ${JSON.stringify(k)} is not allowed`));
      else stack.push([(v as Record<string, unknown>)[k], child, depth + 1]);
    }
  }
  if (problems.length) throw new InputError(problems);
}

/** Set obj[a][b][c] = value for path "a.b.c", creating objects on the way. */
export function setDotted(obj: any, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  if (keys.some((k) => k === '')) throw new InputError([issue(dotted, 'is not a valid dotted path')]);
  const bad = keys.find((k) => FORBIDDEN_KEYS.has(k));
  if (bad) throw new InputError([issue(dotted, `the key ${JSON.stringify(bad)} is not allowed`)]);
  let cur = obj;
  for (const k of keys.slice(0, -1)) {
    if (cur[k] === undefined) cur[k] = {};
    if (typeof cur[k] !== 'object' || cur[k] === null) throw new InputError([issue(dotted, `cannot set inside ${k}, which is not an object`)]);
    cur = cur[k];
  }
  cur[keys[keys.length - 1]] = value;
}

/** `--set path=JSON` (a bare word that is not JSON is taken as a string). */
export function applySet(pipeline: any, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new InputError([issue('--set', `${JSON.stringify(assignment)} is not of the form DOTTED.PATH=JSON`)]);
  const raw = assignment.slice(eq + 1);
  let value: unknown;
  try { value = JSON.parse(raw); } catch { value = raw; }
  checkJsonTree(value, assignment.slice(0, eq));
  setDotted(pipeline, assignment.slice(0, eq), value);
}

/** `--param NAME=VALUE`: sets parameters.NAME.value (keeps vary/prior). */
export function applyParam(pipeline: any, assignment: string): void {
  const eq = assignment.indexOf('=');
  const name = assignment.slice(0, eq);
  const text = assignment.slice(eq + 1).trim();
  // a decimal number as JSON writes it (no hex, no "Infinity", no empty string, which Number() would take)
  const value = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : NaN;
  if (eq <= 0 || !Number.isFinite(value))
    throw new InputError([issue('--param', `${JSON.stringify(assignment)} is not of the form NAME=NUMBER (a finite decimal number, e.g. 0.315 or 2.1e-9)`)]);
  if (FORBIDDEN_KEYS.has(name) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    throw new InputError([issue('--param', `${JSON.stringify(name)} is not a parameter name (letters, digits and _, not starting with a digit)`)]);
  pipeline.parameters ??= {};
  pipeline.parameters[name] = { ...(pipeline.parameters[name] ?? {}), value };
}
