/**
 * Validation reports every problem it can find in one pass: a part of the pipeline that fails the pipeline schema
 * is reported and set aside, and the rest is planned (plugins, configs, wiring, parameters, outputs), instead of
 * stopping at the first schema error. What "set aside" means, per place of the problem:
 *
 *   an unknown top-level field           removed (nothing reads it)
 *   parameters.X, methods.X, outputs.X   the entry removed (a parameter then takes its default; a method kind its default)
 *   stages.X itself or stages.X.use      the stage is not planned (as a stage of an unknown plugin: inputs naming it are
 *                                        not reported again, nor are parameters no planned stage reads)
 *   stages.X.with (not an object)        the stage is planned with its defaults; its config problems are this one
 *   stages.X.inputs                      the stage is planned but not wired
 *   stages.X.methods                     removed (the defaults apply)
 *   stages.X.<unknown field>             removed
 *
 * Only a pipeline that is not an object, or has no `stages` object with at least one stage, stops planning here.
 */
import { pipelineSchema } from '../schema/pipeline-schema.js';
import type { Issue } from '../schema/input-error.js';

export interface SchemaAside {
  /** Nothing can be planned: report the schema problems alone. */
  fatal: boolean;
  /** Stages not planned (their entry or `use` failed the schema). */
  stages: Set<string>;
  /** Stages whose `with` failed the schema: planned with their defaults, their config problems already reported. */
  configs: Set<string>;
  /** Stages whose `inputs` failed the schema: planned, not wired. */
  inputs: Set<string>;
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The key of `obj` a dotted path (relative to obj) starts with; the longest when several do. */
function keyAt(obj: Record<string, unknown>, rest: string): string | undefined {
  let best: string | undefined;
  for (const k of Object.keys(obj))
    if ((rest === k || rest.startsWith(`${k}.`) || rest.startsWith(`${k}[`)) && (best === undefined || k.length > best.length)) best = k;
  return best;
}

/** Set aside (in place, on the planner's copy) the parts of `pipeline` that the schema `issues` are about. */
export function setAsideSchemaProblems(pipeline: unknown, issues: readonly Issue[]): SchemaAside {
  const aside: SchemaAside = { fatal: false, stages: new Set(), configs: new Set(), inputs: new Set() };
  if (!issues.length) return aside;
  if (!isRecord(pipeline) || !isRecord(pipeline.stages) || !Object.keys(pipeline.stages).length) {
    aside.fatal = true;
    return aside;
  }
  const props = pipelineSchema.properties as Record<string, { propertyNames?: { pattern: string } }>;
  // names that break a propertyNames pattern (reported once, at the object)
  for (const [field, schema] of Object.entries(props)) {
    const obj = pipeline[field];
    if (!schema.propertyNames || !isRecord(obj)) continue;
    const re = new RegExp(schema.propertyNames.pattern);
    for (const k of Object.keys(obj))
      if (!re.test(k)) {
        if (field === 'stages') aside.stages.add(k);
        else delete obj[k];
      }
  }
  for (const { path } of issues) {
    const top = keyAt(pipeline, path);
    if (top === undefined) continue; // a missing required field, or the root
    if (!(top in props)) {
      delete pipeline[top];
      continue;
    }
    const obj = pipeline[top];
    const rest = path.slice(top.length + 1);
    if (top === 'parameters' || top === 'methods' || top === 'outputs') {
      if (!isRecord(obj)) delete pipeline[top];
      else if (rest) {
        const k = keyAt(obj, rest);
        if (k !== undefined) delete obj[k];
      }
    } else if (top === 'stages' && isRecord(obj)) {
      const name = keyAt(obj, rest);
      if (name === undefined) continue;
      const entry = obj[name];
      const sub = rest.slice(name.length + 1);
      const field = sub.split(/[.[]/)[0];
      if (!isRecord(entry) || sub === '' || field === 'use') aside.stages.add(name);
      else if (field === 'with') aside.configs.add(name);
      else if (field === 'inputs') aside.inputs.add(name);
      else delete entry[field]; // methods (the defaults apply), or a field the schema does not know
    }
  }
  return aside;
}
