/**
 * One ajv instance for the pipeline schema and every plugin's config schema, and a translation of ajv's
 * errors into plain sentences naming the JSON path, the offending value and what is allowed.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { issue, show, type Issue } from './input-error.js';

// verbose: errors carry their parentSchema (the allowed fields of an unknown field, the description of a union)
export const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });

const compiled = new WeakMap<object, ValidateFunction>();

export function compile(schema: object): ValidateFunction {
  let v = compiled.get(schema);
  if (!v) {
    try {
      v = ajv.compile(schema);
    } catch (e) {
      // a plugin's config schema is checked against the meta-schema when registered and compiled at first use
      throw new Error(`a JSON Schema does not compile: ${(e as Error).message}`);
    }
    compiled.set(schema, v);
  }
  return v;
}

/** Value at a JSON pointer inside data (for quoting the offending value). */
function valueAt(data: unknown, pointer: string): unknown {
  let cur = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

const dotted = (pointer: string) =>
  pointer.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~')).join('.');

const join = (base: string, rest: string) => (base && rest ? `${base}.${rest}` : base || rest);

function describe(e: ErrorObject, data: unknown): { path: string; message: string } | null {
  const at = dotted(e.instancePath);
  const val = valueAt(data, e.instancePath);
  // ajv types `params` per keyword; this is the union of the fields read below
  const p = e.params as {
    missingProperty?: string; additionalProperty?: string; type?: string; allowedValues?: unknown[]; allowedValue?: unknown; limit?: number; pattern?: string;
  };
  const parent = e.parentSchema as { properties?: object; description?: string } | undefined;
  switch (e.keyword) {
    case 'required':
      return { path: join(at, p.missingProperty ?? ''), message: 'is required but missing' };
    case 'additionalProperties':
      return { path: join(at, p.additionalProperty ?? ''), message: Object.keys(parent?.properties ?? {}).length ? `is not a known field here; allowed: ${Object.keys(parent?.properties ?? {}).join(', ')}` : 'is not a known field here: this object takes no fields' };
    case 'type':
      return { path: at, message: `${show(val)} has the wrong type: expected ${p.type}` };
    case 'enum':
      return { path: at, message: `${show(val)} is not allowed; choose one of ${(p.allowedValues ?? []).map((x) => show(x)).join(', ')}` };
    case 'const':
      return { path: at, message: `${show(val)} is not allowed; expected ${show(p.allowedValue)}` };
    case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum': {
      const op = { minimum: '>=', maximum: '<=', exclusiveMinimum: '>', exclusiveMaximum: '<' }[e.keyword];
      return { path: at, message: `${show(val)} is out of range: must be ${op} ${p.limit}` };
    }
    case 'minItems': return { path: at, message: `has ${(val as unknown[])?.length} items; needs at least ${p.limit}` };
    case 'maxItems': return { path: at, message: `has ${(val as unknown[])?.length} items; allows at most ${p.limit}` };
    case 'minLength': return { path: at, message: `${show(val)} is too short (min length ${p.limit})` };
    case 'pattern': return { path: at, message: `${show(val)} does not match the pattern ${p.pattern}` };
    case 'propertyNames': return null; // reported through the nested pattern error
    case 'oneOf': case 'anyOf': return { path: at, message: `${show(val)} matches none of the allowed forms${parent?.description ? ` (${parent.description})` : ''}` };
    case 'if': return null;
    default:
      return { path: at, message: `${show(val)}: ${e.message ?? e.keyword}` };
  }
}

/**
 * Validate data (applying schema defaults in place) and return every problem, paths prefixed by `base`.
 * anyOf/oneOf branches produce many sub-errors; we keep the summary line and drop the branch noise.
 */
export function validateWith(schema: object, data: unknown, base: string): Issue[] {
  const v = compile(schema);
  if (v(data)) return [];
  const errors = v.errors ?? [];
  const out: Issue[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    // an error inside one branch of an anyOf/oneOf is covered by the union's own summary
    if (/\/(anyOf|oneOf)\/\d+\//.test(e.schemaPath)) continue;
    const d = describe(e, data);
    if (!d) continue;
    const full = issue(join(base, d.path), d.message);
    const k = full.path + '|' + full.message;
    if (!seen.has(k)) { seen.add(k); out.push(full); }
  }
  return out;
}
