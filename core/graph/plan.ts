/**
 * From a pipeline (parsed JSON) and a registry to an executable plan: every stage bound to its plugin,
 * its config validated with defaults, its inputs resolved to providing stages, its methods bound, the
 * parameters collected and range-checked, and a topological order. Every problem is collected and
 * reported at once (InputError), before anything is computed.
 */
import { outputNameProblem, plannedOutputFiles } from './output-names.js';
import { validateWith } from '../schema/ajv.js';
import { pipelineSchema } from '../schema/pipeline-schema.js';
import { InputError, issue, show, type Issue } from '../schema/input-error.js';
import type { Container } from 'inversify';
import type { PluginRegistry } from '../plugin/registry.js';
import type { InputDecl, ParameterSpec, StagePlugin, StaticDescription } from '../plugin/types.js';
import { parameterRangeMessage } from '../plugin/parameter-range.js';
import { bindLayer, childContainer, resolveMethod, resolveService, type Bindings, type BoundMethod } from '../plugin/bindings.js';
import type { MethodRef, ParameterEntry, Pipeline } from './pipeline.js';
import { describeStages } from './describe.js';
import { setAsideSchemaProblems } from './schema-aside.js';
import { fisherPriorSigma, priorProblems, type PriorSpec } from '../sampling/priors.js';

export type { BoundMethod, Bindings };

/** Defaults for method kinds when a pipeline names none. */
export const DEFAULT_METHODS: Record<string, string> = {
  integrator: 'gauss-legendre',
  'ode-solver': 'bdf',
  differentiator: 'forward-ad',
};

export interface PlannedStage {
  name: string;
  plugin: StagePlugin;
  config: Record<string, unknown>;
  /**
   * input name -> providing stage name, or the list of providing stages of a `many` input (in the order the
   * stage receives their outputs). sourceStages / mapInputs walk both shapes.
   */
  inputs: Record<string, string | string[]>;
  /** Input names the plugin consumes as a stream (`{port, stream: true}`): ctx.stream(input). */
  streams: string[];
  /**
   * The methods its container resolves, for the kinds it uses (kept in step with `container`; the runtime
   * resolves through the container itself, see stageMethods).
   */
  methods: Record<string, BoundMethod>;
  /**
   * The stage's container: a child of the pipeline's (Plan.container), one child container per layer of
   * `layers` (the first: `stages.X.methods` of the pipeline file; further ones added by withBindings).
   */
  container: Container;
  layers: Bindings[];
  /** parameter name -> spec, as this plugin declares it for this config */
  reads: Record<string, ParameterSpec>;
}

export interface PlannedParameter {
  name: string;
  value: number;
  vary: boolean;
  /** Gaussian prior width for a Fisher matrix: `prior_sigma`, else the sigma of a gaussian `prior` (core/sampling/priors.ts). */
  prior_sigma?: number;
  /** Sampling prior as declared (`cosmodag sample`). */
  prior?: PriorSpec;
  step?: number;
  latex?: string;
  spec: ParameterSpec;
  /** Stages reading it. */
  readBy: string[];
}

export interface Plan {
  pipeline: Pipeline;
  stages: Map<string, PlannedStage>;
  order: string[];
  parameters: Map<string, PlannedParameter>;
  /** Directory of the pipeline file (relative paths in configs resolve against it). */
  baseDir: string;
  /**
   * Pipeline-level method bindings named by the pipeline (e.g. the differentiator, which the runtime, not a
   * stage, uses); the pipeline's container also binds the defaults of the kinds its stages use.
   */
  methods: Record<string, BoundMethod>;
  /** The pipeline's container: a child of the registry's, binding its methods (core/plugin/bindings.ts). */
  container: Container;
  /** Layers applied after planning by withBindings (a compare variant, a test harness), in order. */
  overrides: { stage?: string; bindings: Bindings }[];
  /** What each described stage's output will be (its plugin's `describe`), known before compute. */
  descriptions?: Map<string, StaticDescription>;
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x ?? {}));

/** A method reference of a pipeline file (`"romberg"` or `{use, with}`) bound and validated; problems are pushed. */
export function bindMethod(registry: PluginRegistry, kind: string, ref: MethodRef | undefined, path: string, problems: Issue[]): BoundMethod | undefined {
  const r = ref ?? DEFAULT_METHODS[kind];
  if (r === undefined) {
    problems.push(issue(path, `no method of kind "${kind}" is chosen and there is no default`));
    return undefined;
  }
  const name = typeof r === 'string' ? r : r.use;
  const plugin = registry.method(kind, name);
  if (!plugin) {
    const allowed = registry.methodsOfKind(kind).map((m) => m.id.slice(kind.length + 1));
    problems.push(issue(path, `unknown ${kind} method ${show(name)}; available: ${allowed.join(', ') || '(none registered)'}`));
    return undefined;
  }
  const config = clone(typeof r === 'string' ? {} : (r.with ?? {}));
  const errs = validateWith(plugin.configSchema, config, typeof r === 'string' ? path : `${path}.with`);
  problems.push(...errs);
  return { kind, plugin, config };
}

function checkRange(name: string, v: number, s: ParameterSpec): string | null {
  if (!Number.isFinite(v)) return `${show(v)} is not a finite number`;
  return parameterRangeMessage(name, v, s);
}

export function planPipeline(raw: unknown, registry: PluginRegistry, baseDir = process.cwd()): Plan {
  const problems: Issue[] = [];
  const pipeline = clone(raw) as Pipeline;
  problems.push(...validateWith(pipelineSchema, pipeline, ''));
  // what fails the schema is set aside and the rest planned: every problem is found in one pass (schema-aside.ts)
  const aside = setAsideSchemaProblems(pipeline, problems);
  if (aside.fatal) throw new InputError(problems);
  problems.push(...priorProblems(pipeline));

  // 1. plugins and configs; the pipeline's container and one child container per stage
  const container = registry.pipelineContainer();
  const stages = new Map<string, PlannedStage>();
  const badConfig = new Set<string>();
  for (const [name, entry] of Object.entries(pipeline.stages)) {
    if (aside.stages.has(name)) continue;
    const plugin = registry.stage(entry.use);
    if (!plugin) {
      const port = entry.use.split('/')[0];
      const same = registry.stagesOfPort(port).map((p) => p.id);
      problems.push(issue(`stages.${name}.use`, `unknown plugin ${show(entry.use)}; ${same.length ? `plugins for port "${port}": ${same.join(', ')}` : `no plugin provides port "${port}" (is its module listed in "plugins"?)`}`));
      continue;
    }
    const config = clone(aside.configs.has(name) ? {} : (entry.with ?? {}));
    const errs = validateWith(plugin.configSchema, config, `stages.${name}.with`);
    if (errs.length || aside.configs.has(name)) badConfig.add(name);
    if (!aside.configs.has(name)) problems.push(...errs);
    stages.set(name, { name, plugin, config, inputs: {}, streams: [], methods: {}, container: childContainer(container), layers: [{}], reads: {} });
  }

  // 2. inputs (declared by the plugin, possibly as a function of its config): the stages the pipeline names,
  //    else the unique stage providing the port (a `many` input: every providing stage, in pipeline order)
  for (const [name, st] of stages) {
    if (typeof st.plugin.inputs === 'function' && badConfig.has(name)) continue; // its config errors are reported
    if (aside.inputs.has(name)) continue; // its inputs failed the schema
    let declared: Record<string, InputDecl>;
    try {
      declared = inputsOf(st.plugin, st.config);
    } catch (e) {
      problems.push(checkMessage(name, (e as Error).message));
      continue;
    }
    const explicit = pipeline.stages[name].inputs ?? {};
    for (const key of Object.keys(explicit))
      if (!(key in declared))
        problems.push(issue(`stages.${name}.inputs.${key}`, `${st.plugin.id} has no input "${key}"; its inputs: ${Object.keys(declared).join(', ') || '(none)'}`));
    for (const [input, decl] of Object.entries(declared)) {
      const { port, optional, many, stream } = typeof decl === 'string' ? { port: decl, optional: undefined, many: undefined, stream: undefined } : decl;
      const ports = ([] as string[]).concat(port);
      const wanted = ports.map((p) => `"${p}"`).join(' or ');
      const path = `stages.${name}.inputs.${input}`;
      if (stream && many) {
        problems.push(issue(`stages.${name}`, `${st.plugin.id} declares its input "${input}" both many and stream; a stream input takes one stage`));
        continue;
      }
      if (stream) st.streams.push(input);
      const named = explicit[input];
      if (named !== undefined) {
        const list = ([] as string[]).concat(named);
        if (!many && list.length !== 1) {
          problems.push(issue(path, `input "${input}" takes one stage, not a list of ${list.length}`));
          continue;
        }
        const wired: string[] = [];
        let ok = true;
        list.forEach((n, i) => {
          const target = stages.get(n); // undefined also when its plugin is unknown (reported in step 1)
          const problem = !pipeline.stages[n] ? `unknown stage ${show(n)}; stages: ${Object.keys(pipeline.stages).join(', ')}`
            : list.indexOf(n) !== i ? `stage "${n}" is listed twice`
            : target && !ports.includes(target.plugin.port) ? `stage "${n}" provides port "${target.plugin.port}", but input "${input}" needs port ${wanted}`
            : undefined;
          if (problem) {
            problems.push(issue(Array.isArray(named) ? `${path}[${i}]` : path, problem));
            ok = false;
          } else wired.push(n);
        });
        if (!list.length && !optional) problems.push(issue(path, `input "${input}" needs at least one stage providing port ${wanted}`));
        else if (ok) st.inputs[input] = many ? wired : wired[0];
        continue;
      }
      const providers = [...stages.values()].filter((s) => ports.includes(s.plugin.port) && s.name !== name).map((s) => s.name);
      if (providers.length === 0) {
        if (!optional) {
          const plugins = ports.flatMap((p) => registry.stagesOfPort(p).map((q) => q.id));
          // (a stage set aside by the schema may be the provider: its own problem is the one reported)
          if (!aside.stages.size) problems.push(issue(`stages.${name}`, `${st.plugin.id} needs an input "${input}" of port ${wanted}, and no stage provides it; add a stage using one of: ${plugins.join(', ') || '(no plugin for this port)'}`));
        } else if (many) st.inputs[input] = [];
      } else if (many) st.inputs[input] = providers;
      else if (providers.length === 1) st.inputs[input] = providers[0];
      else problems.push(issue(path, `several stages provide port ${wanted} (${providers.join(', ')}); name one in "inputs"`));
    }
  }

  // 3. methods, bound in containers: the pipeline's `methods` (and the default of every kind a stage uses and the
  //    pipeline does not name) in the pipeline's container, a stage's override in the stage's child container
  const methods: Record<string, BoundMethod> = {};
  for (const [kind, ref] of Object.entries(pipeline.methods ?? {})) {
    const b = bindMethod(registry, kind, ref, `methods.${kind}`, problems);
    if (b) methods[kind] = b;
  }
  const pipelineLayer: Record<string, BoundMethod> = { ...methods };
  for (const [name, st] of stages)
    for (const kind of st.plugin.methods ?? [])
      if (!(kind in pipelineLayer) && !(pipeline.methods && kind in pipeline.methods) && pipeline.stages[name].methods?.[kind] === undefined) {
        const b = bindMethod(registry, kind, undefined, `methods.${kind}`, problems);
        if (b) pipelineLayer[kind] = b;
      }
  bindLayer(container, { methods: pipelineLayer });
  for (const [name, st] of stages) {
    const overrides = pipeline.stages[name].methods ?? {};
    const usable = usableMethodKinds(st.plugin);
    const layer: Record<string, BoundMethod> = {};
    for (const [kind, ref] of Object.entries(overrides)) {
      if (!usable.includes(kind)) {
        problems.push(issue(`stages.${name}.methods.${kind}`, `${st.plugin.id} uses no "${kind}" method; it uses: ${(st.plugin.methods ?? []).join(', ') || '(none)'}`));
        continue;
      }
      const b = bindMethod(registry, kind, ref, `stages.${name}.methods.${kind}`, problems);
      if (b) layer[kind] = b;
    }
    st.layers = [{ methods: layer }];
    bindLayer(st.container, st.layers[0]);
    st.methods = stageMethods(st);
    for (const sv of st.plugin.services ?? [])
      if (!resolveService(st.container, sv))
        problems.push(issue(`stages.${name}`, `${st.plugin.id} uses the service "${sv}", which no loaded module provides; services: ${registry.services().map((x) => x.provider.name).join(', ')}`));
  }

  // 4. cycles (DFS with colours), then topological order
  const order: string[] = [];
  const colour = new Map<string, 0 | 1 | 2>();
  const visit = (n: string, trail: string[]) => {
    const c = colour.get(n) ?? 0;
    if (c === 2) return;
    if (c === 1) {
      const cyc = [...trail.slice(trail.indexOf(n)), n];
      problems.push(issue(`stages.${n}.inputs`, `cycle: ${cyc.join(' -> ')}`));
      return;
    }
    colour.set(n, 1);
    for (const dep of sourceStages(stages.get(n)!)) if (stages.has(dep)) visit(dep, [...trail, n]);
    colour.set(n, 2);
    order.push(n);
  };
  for (const n of stages.keys()) visit(n, []);

  // 4b. configs that follow the inputs (StagePlugin.configure: the weights' bins and bin centres from the n(z))
  configureStages(stages, order, badConfig, baseDir, problems, pipeline);

  // 5. parameters: what the stages read, values from the pipeline (an entry, else a "b_*" pattern entry) or the
  //    plugin default, ranges checked
  const parameters = new Map<string, PlannedParameter>();
  const { entryOf, patterns } = parameterEntries(pipeline);
  let readsFailed = false;
  for (const [name, st] of stages) {
    let reads: Record<string, ParameterSpec> = {};
    try {
      reads = typeof st.plugin.reads === 'function' ? st.plugin.reads(st.config) : st.plugin.reads;
    } catch (e) {
      problems.push(checkMessage(name, (e as Error).message));
      readsFailed = true;
    }
    st.reads = reads;
    for (const [p, spec] of Object.entries(reads)) {
      const have = parameters.get(p);
      if (have) {
        have.readBy.push(name);
        // a stage that declares no default (e.g. an external program's parameter list) takes another's
        if (!Number.isFinite(have.spec.default) && Number.isFinite(spec.default)) {
          have.spec = { ...have.spec, default: spec.default, description: spec.description, unit: spec.unit ?? have.spec.unit, absStep: have.spec.absStep ?? spec.absStep };
          if (entryOf(p)?.value === undefined) have.value = spec.default;
        }
        // the tightest declared range wins
        have.spec = {
          ...have.spec,
          min: maxDef(have.spec.min, spec.min), max: minDef(have.spec.max, spec.max),
          exclusiveMin: maxDef(have.spec.exclusiveMin, spec.exclusiveMin), exclusiveMax: minDef(have.spec.exclusiveMax, spec.exclusiveMax),
        };
        continue;
      }
      const entry = entryOf(p);
      parameters.set(p, { name: p, value: entry?.value ?? spec.default, vary: entry?.vary ?? false, prior_sigma: fisherPriorSigma(entry), prior: entry?.prior, step: entry?.step, latex: entry?.latex, spec, readBy: [name] });
    }
  }
  if (!readsFailed && !aside.stages.size && !problems.some((i) => i.path.startsWith('stages.') && i.path.endsWith('.use')))
    for (const p of Object.keys(pipeline.parameters ?? {})) {
      const pattern = patterns.get(p);
      if (pattern && !pattern.matched.size)
        problems.push(issue(`parameters.${p}`, `no stage reads a parameter matching "${p}" (* stands for a bin number); parameters read: ${[...parameters.keys()].join(', ')}`));
      else if (!pattern && !parameters.has(p))
        problems.push(issue(`parameters.${p}`, `no stage reads a parameter "${p}"; parameters read: ${[...parameters.keys()].join(', ')}${perBinHint(p, parameters)}`));
    }
  const beforeValues = problems.length;
  for (const p of parameters.values()) {
    if (p.value === undefined || (typeof p.value === 'number' && Number.isNaN(p.value) && !Number.isFinite(p.spec.default))) {
      problems.push(issue(`parameters.${p.name}`, `has no value: no stage that reads it (${p.readBy.join(', ')}) declares a default; give one in "parameters"`));
      continue;
    }
    const msg = checkRange(p.name, p.value, p.spec);
    if (msg) problems.push(issue(`parameters.${p.name}.value`, msg));
  }
  const values = Object.fromEntries([...parameters.values()].map((p) => [p.name, p.value]));
  let descriptions: Map<string, StaticDescription> | undefined;
  // 5a. the plugins' checks, then the descriptions: they need every parameter value valid and no cycle, and leave
  //     out a stage with a problem of its own (config, wiring, methods), whose consumers then see no description
  //     of it; so the problems elsewhere (an unknown field, an unread parameter, a bad output) do not hide them.
  //     A parameter wrong for several stages (Omega_b > Omega_m) is reported once, by the first.
  const valuesOk = problems.length === beforeValues && !readsFailed && !problems.some((i) => i.message.startsWith('cycle: '));
  if (valuesOk) {
    const ownProblem = (n: string) => problems.some((i) => i.path === `stages.${n}` || i.path.startsWith(`stages.${n}.`));
    const checkFailed = new Set<string>([...stages.keys()].filter(ownProblem));
    const reported = new Set<string>();
    for (const [name, st] of stages) {
      if (checkFailed.has(name)) continue;
      for (const m of st.plugin.check?.(st.config, { params: values, baseDir }) ?? []) {
        const i = checkMessage(name, m);
        checkFailed.add(name);
        if (i.path.startsWith('parameters.') && reported.has(i.path)) continue;
        reported.add(i.path);
        problems.push(i);
      }
    }
    // 5b. static descriptions in topological order: cross-stage consistency (n(z) bins vs weights, z coverage)
    const described = describeStages(stages, order, values, baseDir, checkFailed);
    for (const p of described.problems) problems.push(checkMessage(p.stage, p.message));
    descriptions = described.descriptions;
  }

  // 6. outputs name existing stages whose plugin can write, as plain file names inside --out, each once
  const outputOwner = new Map<string, string>();
  for (const [stage, files] of Object.entries(pipeline.outputs ?? {})) {
    const st = stages.get(stage);
    if (!pipeline.stages[stage]) problems.push(issue(`outputs.${stage}`, `unknown stage ${show(stage)}; stages: ${Object.keys(pipeline.stages).join(', ')}`));
    else if (st && !st.plugin.write) problems.push(issue(`outputs.${stage}`, `${st.plugin.id} writes no files`));
    ([] as string[]).concat(files).forEach((f, i) => {
      const at = Array.isArray(files) ? `outputs.${stage}[${i}]` : `outputs.${stage}`;
      const bad = outputNameProblem(f);
      if (bad) problems.push(issue(at, `the file name ${bad}`));
      else if (outputOwner.has(f)) problems.push(issue(at, `${f} is also the output of ${outputOwner.get(f)}; every output needs its own file name`));
      else outputOwner.set(f, at);
    });
  }
  // 6b. the files written beside them (cl.json and cl.png beside cl.tsv), when the names and the configs are fine
  if (!problems.some((i) => i.path.startsWith('outputs')))
    for (const p of plannedOutputFiles(pipeline.outputs, new Map([...stages].filter(([n]) => !badConfig.has(n))), values).problems) problems.push(issue(p.path, p.message));

  if (problems.length) throw new InputError(problems);
  if (patterns.size) pipeline.parameters = expandPatterns(pipeline.parameters ?? {}, patterns, entryOf, parameters);
  return { pipeline, stages, order, parameters, methods, container, overrides: [], baseDir, descriptions };
}

/**
 * Step 4b of planning: every stage whose plugin declares `configure` gets its config completed from the static
 * descriptions of its inputs (the weights' bins and bin centres from the n(z) stage), in topological order, before
 * the parameters are collected, so that what it reads follows its inputs. The descriptions come from a first pass
 * over the stage's ancestors, with the parameter values the pipeline or the ancestors' defaults give (the real
 * pass, and its problems, come after the checks in step 5b). The completed config is validated again.
 */
function configureStages(stages: Map<string, PlannedStage>, order: string[], badConfig: Set<string>, baseDir: string, problems: Issue[], pipeline: Pipeline): void {
  const wanted = order.filter((n) => stages.get(n)?.plugin.configure && !badConfig.has(n));
  if (!wanted.length) return;
  for (const name of wanted) {
    const st = stages.get(name)!;
    const up = new Set<string>();
    const walk = (n: string) => { for (const d of sourceStages(stages.get(n)!)) if (stages.has(d) && !up.has(d)) { up.add(d); walk(d); } };
    walk(name);
    const values: Record<string, number> = {};
    for (const n of up) {
      const a = stages.get(n)!;
      try {
        const reads = typeof a.plugin.reads === 'function' ? a.plugin.reads(a.config) : a.plugin.reads;
        for (const [p, spec] of Object.entries(reads)) values[p] ??= pipeline.parameters?.[p]?.value ?? spec.default;
      } catch { /* reported in step 5 */ }
    }
    const skip = new Set([...stages.keys()].filter((n) => !up.has(n)));
    const { descriptions } = describeStages(stages, order, values, baseDir, skip);
    const inputs: Record<string, StaticDescription | (StaticDescription | undefined)[] | undefined> = {};
    for (const [input, wired] of Object.entries(st.inputs)) inputs[input] = typeof wired === 'string' ? descriptions.get(wired) : wired.map((w) => descriptions.get(w));
    let config: Record<string, unknown>;
    try {
      config = clone(st.plugin.configure!(clone(st.config), { stage: name, params: values, inputs, providers: { ...st.inputs }, baseDir })) as Record<string, unknown>;
    } catch (e) {
      problems.push(checkMessage(name, (e as Error).message));
      badConfig.add(name);
      continue;
    }
    const errs = validateWith(st.plugin.configSchema, config, `stages.${name}.with`);
    if (errs.length) {
      problems.push(...errs);
      badConfig.add(name);
    } else st.config = config;
  }
}

interface ParameterPattern {
  entry: ParameterEntry;
  re: RegExp;
  /** read parameter -> what `*` stood for */
  matched: Map<string, string>;
}

/**
 * The `parameters` entries of a pipeline, explicit and by pattern: a key with one `*` ("b_*") is an entry for every
 * parameter read whose name has a bin number (digits) in its place (b_1, b_2, ...), with `*` in its `latex` replaced
 * by that number; an explicit entry of the same parameter overrides the pattern's fields. So per-bin parameters
 * follow the number of bins (a pattern without `value` leaves each at its plugin default, e.g. b_i = sqrt(1 + zbar_i)).
 */
function parameterEntries(pipeline: Pipeline): { entryOf: (p: string) => ParameterEntry | undefined; patterns: Map<string, ParameterPattern> } {
  const patterns = new Map<string, ParameterPattern>();
  for (const [key, entry] of Object.entries(pipeline.parameters ?? {}))
    if (key.includes('*'))
      patterns.set(key, { entry, matched: new Map(), re: new RegExp(`^${key.split('*').map((x) => x.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')).join('([0-9]+)')}$`) });
  const entryOf = (p: string): ParameterEntry | undefined => {
    const own = pipeline.parameters?.[p];
    for (const pat of patterns.values()) {
      const m = pat.re.exec(p);
      if (!m) continue;
      pat.matched.set(p, m[1]);
      const latex = pat.entry.latex?.split('*').join(m[1]);
      return { ...pat.entry, ...(latex !== undefined ? { latex } : {}), ...(own ?? {}) };
    }
    return own;
  };
  return { entryOf, patterns };
}

/**
 * The planned pipeline's `parameters`: each pattern entry replaced, in place, by the entries of the parameters it
 * matched (with their values), an explicit entry of a matched parameter merged with the pattern's fields.
 */
function expandPatterns(entries: Record<string, ParameterEntry>, patterns: Map<string, ParameterPattern>, entryOf: (p: string) => ParameterEntry | undefined, planned: Map<string, PlannedParameter>): Record<string, ParameterEntry> {
  const matched = new Set([...patterns.values()].flatMap((pat) => [...pat.matched.keys()]));
  const concrete = (p: string): ParameterEntry => ({ ...entryOf(p), value: planned.get(p)!.value });
  const out: Record<string, ParameterEntry> = {};
  for (const [key, entry] of Object.entries(entries)) {
    const pat = patterns.get(key);
    if (!pat) {
      if (!(key in out)) out[key] = matched.has(key) ? concrete(key) : entry;
      continue;
    }
    for (const p of pat.matched.keys()) if (!(p in out)) out[p] = concrete(p);
  }
  return out;
}

/** For an unread per-bin parameter (b_6 when the weights read b_1..b_5): which bins are read, and what to do. */
function perBinHint(p: string, parameters: Map<string, PlannedParameter>): string {
  const m = /^(.*_)([0-9]+)$/.exec(p);
  if (!m) return '';
  const read = [...parameters.values()].filter((q) => q.name.startsWith(m[1]) && /^[0-9]+$/.test(q.name.slice(m[1].length)));
  if (!read.length) return '';
  const bins = read.map((q) => Number(q.name.slice(m[1].length))).sort((a, b) => a - b);
  return ` (${m[1]}1..${m[1]}${bins[bins.length - 1]} are read, by ${read[0].readBy.join(', ')}: one per bin of its input; ` +
    `remove ${p}, or write one entry "${m[1]}*" for every bin)`;
}

/** Method kinds a stage may have bound: those its plugin uses, and a black box's own differentiator. */
export function usableMethodKinds(plugin: StagePlugin): string[] {
  // a black box (differentiable: 'none') may choose how it is differentiated: a stage-level differentiator
  return [...(plugin.methods ?? []), ...(plugin.differentiable === 'none' && !(plugin.methods ?? []).includes('differentiator') ? ['differentiator'] : [])];
}

/**
 * The methods a stage uses, as its container resolves them (the nearest binding: a stage layer, else the
 * pipeline's): the kinds its plugin declares, and the differentiator a black box chose in one of its own
 * layers. What enters its memo key.
 */
export function stageMethods(st: PlannedStage): Record<string, BoundMethod> {
  const kinds = [...(st.plugin.methods ?? [])];
  if (st.plugin.differentiable === 'none' && !kinds.includes('differentiator') && st.layers.some((l) => l.methods?.differentiator)) kinds.push('differentiator');
  const out: Record<string, BoundMethod> = {};
  for (const kind of kinds) {
    const b = resolveMethod(st.container, kind);
    if (b) out[kind] = b;
  }
  return out;
}

/**
 * The plan with one more layer of bindings, as a child container: of the pipeline's container (every stage
 * sees it below its own layers, which are re-applied as children of the new pipeline container), or of one
 * stage's container. Nothing is mutated: the original plan keeps its containers, and both plans can run
 * against one memo store (a stage whose bindings changed gets another key; the others share theirs).
 * A stage layer may bind only the method kinds the stage uses (an InputError naming `stages.X.methods.kind`).
 */
export function withBindings(plan: Plan, bindings: Bindings, stage?: string): Plan {
  if (stage !== undefined) {
    const st = plan.stages.get(stage);
    if (!st) throw new InputError([issue(`stages.${stage}`, `unknown stage "${stage}"; stages: ${[...plan.stages.keys()].join(', ')}`)]);
    const usable = usableMethodKinds(st.plugin);
    const bad = Object.keys(bindings.methods ?? {}).filter((k) => !usable.includes(k));
    if (bad.length)
      throw new InputError(bad.map((k) => issue(`stages.${stage}.methods.${k}`, `${st.plugin.id} uses no "${k}" method; it uses: ${(st.plugin.methods ?? []).join(', ') || '(none)'}`)));
    const next: PlannedStage = { ...st, container: childContainer(st.container, bindings), layers: [...st.layers, bindings] };
    next.methods = stageMethods(next);
    const stages = new Map(plan.stages);
    stages.set(stage, next);
    return { ...plan, stages, overrides: [...plan.overrides, { stage, bindings }] };
  }
  const container = childContainer(plan.container, bindings);
  const stages = new Map<string, PlannedStage>();
  for (const [name, st] of plan.stages) {
    const next: PlannedStage = { ...st, container: st.layers.reduce((c, l) => childContainer(c, l), container) };
    next.methods = stageMethods(next);
    stages.set(name, next);
  }
  return { ...plan, container, stages, methods: { ...plan.methods, ...(bindings.methods ?? {}) }, overrides: [...plan.overrides, { bindings }] };
}

/** A plugin check message "path: text"; a `with.` path is relative to the stage, `parameters.` absolute. */
function checkMessage(stage: string, m: string): Issue {
  const match = /^([A-Za-z0-9_.[\]-]+):\s*(.*)$/s.exec(m);
  if (!match) return issue(`stages.${stage}`, m);
  const [, path, text] = match;
  return issue(path.startsWith('with') ? `stages.${stage}.${path}` : path, text);
}

const maxDef = (a?: number, b?: number) => (a === undefined ? b : b === undefined ? a : Math.max(a, b));
const minDef = (a?: number, b?: number) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));

/** Names of the varied parameters, in the order the pipeline declares them. */
export function variedParameters(plan: Plan): string[] {
  const declared = Object.keys(plan.pipeline.parameters ?? {});
  return declared.filter((p) => plan.parameters.get(p)?.vary);
}

/** The inputs a plugin declares for a (validated) config. */
export function inputsOf(plugin: StagePlugin, config: unknown): Record<string, InputDecl> {
  const d = typeof plugin.inputs === 'function' ? plugin.inputs(config) : plugin.inputs;
  if (!d || typeof d !== 'object') throw new Error(`${plugin.id}: inputs(config) returned ${show(d)}, not an object of input declarations`);
  return d;
}

/** The stages one wired input reads: its provider, or the providers of a `many` input in order. */
export const sourcesOf = (wired: string | string[]): string[] => (typeof wired === 'string' ? [wired] : wired);

/** Every stage a stage reads from, each once, in input order. */
export function sourceStages(st: PlannedStage): string[] {
  return [...new Set(Object.values(st.inputs).flatMap(sourcesOf))];
}

/**
 * f applied to the source of every input, keeping the input's shape: f(source) for a single input, the array
 * of f over the sources for a `many` input (what a stage receives, and how the memo key lists the input keys).
 */
export function mapInputs<T>(st: PlannedStage, f: (source: string) => T): Record<string, T | T[]> {
  const out: Record<string, T | T[]> = {};
  for (const [input, wired] of Object.entries(st.inputs)) out[input] = typeof wired === 'string' ? f(wired) : wired.map(f);
  return out;
}

/** The stages `names` depend on, themselves included (the one dependency walk of forward and reverse mode). */
export function ancestors(plan: Plan, names: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const visit = (n: string) => {
    if (seen.has(n)) return;
    const st = plan.stages.get(n);
    if (!st) throw new Error(`unknown stage "${n}"`);
    seen.add(n);
    for (const d of sourceStages(st)) visit(d);
  };
  for (const n of names) visit(n);
  return seen;
}

/** Parameters a stage depends on: those it or any of its ancestors reads. */
export function dependsOn(plan: Plan, stage: string): Set<string> {
  const out = new Set<string>();
  for (const n of ancestors(plan, [stage])) for (const p of Object.keys(plan.stages.get(n)!.reads)) out.add(p);
  return out;
}
