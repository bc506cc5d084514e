/**
 * A sampler method's config when create() is called without the schema (the runtime validates with ajv first,
 * which fills the same defaults): defaults merged in, unknown fields and out-of-range values rejected with an
 * error naming `with.<field>` and what is allowed.
 */

export type FieldRule =
  | { kind: 'number'; min: number; max: number; minExclusive?: boolean; maxExclusive?: boolean }
  | { kind: 'integer'; min: number; max: number }
  | { kind: 'boolean' }
  | { kind: 'enum'; values: readonly string[] };

function describeRule(r: FieldRule): string {
  switch (r.kind) {
    case 'number': return `a number in ${r.minExclusive ? '(' : '['}${r.min}, ${r.max}${r.maxExclusive ? ')' : ']'}`;
    case 'integer': return `an integer in [${r.min}, ${r.max}]`;
    case 'boolean': return 'true or false';
    case 'enum': return `one of ${r.values.map((v) => `'${v}'`).join(', ')}`;
  }
}

function ok(r: FieldRule, v: unknown): boolean {
  switch (r.kind) {
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) && (r.minExclusive ? v > r.min : v >= r.min) && (r.maxExclusive ? v < r.max : v <= r.max);
    case 'integer': return typeof v === 'number' && Number.isInteger(v) && v >= r.min && v <= r.max;
    case 'boolean': return typeof v === 'boolean';
    case 'enum': return typeof v === 'string' && r.values.includes(v);
  }
}

/** `defaults` overlaid with `config`, every field checked against `rules` (fields without a rule must be absent). */
export function resolveConfig<C extends object>(id: string, defaults: C, config: Partial<C> | undefined, rules: Record<string, FieldRule>): C {
  const given = (config ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(given))
    if (!(k in rules)) throw new Error(`${id}: with.${k} is not a known setting; allowed: ${Object.keys(rules).join(', ')}`);
  const c = { ...defaults } as Record<string, unknown>;
  for (const [k, v] of Object.entries(given)) if (v !== undefined) c[k] = v;
  for (const [k, r] of Object.entries(rules)) {
    const v = c[k];
    if (v === undefined && !(k in (defaults as Record<string, unknown>))) continue; // optional, no default
    if (!ok(r, v)) throw new Error(`${id}: with.${k} must be ${describeRule(r)}, got ${JSON.stringify(v)}`);
  }
  return c as C;
}

/** The JSON Schema of one field from its rule, default and description. */
export function fieldSchema(r: FieldRule, description: string, dflt?: unknown): Record<string, unknown> {
  const base: Record<string, unknown> = { description };
  if (dflt !== undefined) base.default = dflt;
  switch (r.kind) {
    case 'number':
      return { type: 'number', [r.minExclusive ? 'exclusiveMinimum' : 'minimum']: r.min, [r.maxExclusive ? 'exclusiveMaximum' : 'maximum']: r.max, ...base };
    case 'integer': return { type: 'integer', minimum: r.min, maximum: r.max, ...base };
    case 'boolean': return { type: 'boolean', ...base };
    case 'enum': return { enum: [...r.values], ...base };
  }
}

/** A config schema {type: object, additionalProperties: false, properties} from rules, defaults and descriptions. */
export function configSchemaOf(rules: Record<string, FieldRule>, defaults: object, descriptions: Record<string, string>): Record<string, unknown> {
  const d = defaults as Record<string, unknown>;
  const properties: Record<string, unknown> = {};
  for (const [k, r] of Object.entries(rules)) properties[k] = fieldSchema(r, descriptions[k] ?? k, d[k]);
  return { type: 'object', additionalProperties: false, properties };
}
