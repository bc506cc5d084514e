/**
 * Reading a pipeline file (JSON, or YAML for a .yaml/.yml file: the same schema, the same error paths) and
 * applying command-line edits (`--param NAME=VALUE`, `--set DOTTED.PATH=JSON`, `--unset DOTTED.PATH`).
 * Malformed JSON or YAML is an input error naming the line and column.
 */
import fs from 'node:fs';
import yaml from 'js-yaml';
import { InputError, issue } from '../schema/input-error.js';

export const isYamlFile = (file: string) => /\.ya?ml$/i.test(file);

/** YAML restricted to what JSON can say (the JSON schema of YAML 1.2: no dates, no tags); duplicate keys are errors. */
function parseYaml(text: string, file: string): unknown {
  try {
    return yaml.load(text, { schema: yaml.JSON_SCHEMA, filename: file });
  } catch (e) {
    const m = (e as { mark?: { line: number; column: number }; reason?: string }).mark;
    const where = m ? ` at line ${m.line + 1}, column ${m.column + 1}` : '';
    const why = (e as { reason?: string }).reason ?? (e as Error).message;
    throw new InputError([issue('', `${file} is not valid YAML${where}: ${why}`)], `${file}: malformed YAML${where}: ${why}`);
  }
}

export function readPipelineFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError([issue('', `cannot read pipeline file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)]);
  }
  if (isYamlFile(file)) {
    const parsed = parseYaml(text, file);
    checkJsonTree(parsed);
    return parsed;
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

/**
 * `--unset DOTTED.PATH`: remove a key (e.g. a parameter: `--unset parameters.b_10`, or a setting so that its default
 * applies). Nothing at the path is an error naming it.
 */
export function applyUnset(pipeline: unknown, dotted: string): void {
  const keys = dotted.split('.');
  if (keys.some((k) => k === '')) throw new InputError([issue('--unset', `${JSON.stringify(dotted)} is not a valid dotted path`)]);
  const bad = keys.find((k) => FORBIDDEN_KEYS.has(k));
  if (bad) throw new InputError([issue('--unset', `the key ${JSON.stringify(bad)} is not allowed`)]);
  let cur = pipeline as Record<string, unknown> | undefined;
  for (const k of keys.slice(0, -1)) {
    const next = cur?.[k];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) throw new InputError([issue('--unset', `${dotted}: there is no object at ${k}`)]);
    cur = next as Record<string, unknown>;
  }
  const last = keys[keys.length - 1];
  if (!cur || !Object.prototype.hasOwnProperty.call(cur, last)) throw new InputError([issue('--unset', `${dotted}: there is nothing to unset (no key ${JSON.stringify(last)} there)`)]);
  delete cur[last];
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
