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
  try {
    return JSON.parse(text);
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
}

/** Set obj[a][b][c] = value for path "a.b.c", creating objects on the way. */
export function setDotted(obj: any, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  if (keys.some((k) => k === '')) throw new InputError([issue(dotted, 'is not a valid dotted path')]);
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
  setDotted(pipeline, assignment.slice(0, eq), value);
}

/** `--param NAME=VALUE`: sets parameters.NAME.value (keeps vary/prior). */
export function applyParam(pipeline: any, assignment: string): void {
  const eq = assignment.indexOf('=');
  const name = assignment.slice(0, eq);
  const value = Number(assignment.slice(eq + 1));
  if (eq <= 0 || assignment.slice(eq + 1).trim() === '' || !Number.isFinite(value))
    throw new InputError([issue('--param', `${JSON.stringify(assignment)} is not of the form NAME=NUMBER`)]);
  pipeline.parameters ??= {};
  pipeline.parameters[name] = { ...(pipeline.parameters[name] ?? {}), value };
}
