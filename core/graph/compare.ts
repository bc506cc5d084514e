/**
 * Method comparisons: run one pipeline in several variants (`--vary DOTTED.PATH=V1,V2,...`, any path of the
 * pipeline JSON: a method, a stage's plugin or config, a parameter value), sharing one memo store so that
 * every stage a variant does not change is computed once, and compare the files each variant's stages
 * write for the pipeline's `outputs` — against a reference file, or against the first variant.
 *
 * The comparison works on the output files (the tables the stages' own `write` produces, e.g. cl.tsv,
 * sigmas.tsv), so it knows nothing about what they contain: a table's first column is its axis when it is
 * numeric, strictly monotonic and the same in both tables (cl.tsv: ell); otherwise, when it is text, it
 * labels the rows (sigmas.tsv: the parameter); a symmetric square table with a header only (fisher.tsv) has
 * its rows labelled by the header. Columns are matched by name.
 *
 * Differences are signed, a - r, normalized as in our validation (docs/validation.md; metric by table kind):
 *  - spectra (an `ell` axis and columns named as pairs of tracers, LL_1_2, GL_3_1, KL_4, KK, whose auto-spectra
 *    are columns too): (a - r) / sqrt(r_ii r_jj), r_ii and r_jj the reference's auto-spectra of the pair's two
 *    tracers at that multipole — the metric of ../shared/reference/ccl's README, which a cross-spectrum near zero
 *    does not blow up;
 *  - a symmetric square matrix (fisher.tsv): (a - r) / sqrt(|r_ii r_jj|), the same normalization;
 *  - other tables (sigmas.tsv: errors): (a - r) / |r|, for a Fisher error the difference in units of the
 *    reference's Fisher sigma. Where r = 0 (and a != 0) it is not defined: left out of the statistics (counted).
 * Statistics (max and median of |difference|, the most negative and most positive) are reported over the whole
 * table and, for spectra, per probe family (columns grouped by their leading letters: LL, GL, GG, ...).
 *
 * A variant that only changes methods (`--vary methods.integrator=...`, `stages.cl.methods.integrator=...`) is
 * not re-planned: it is the plan of the other settings with a child container rebinding the method token — of
 * the pipeline's container, or of the stage's (withBindings, core/graph/plan.ts). The stages resolve the new
 * binding without knowing it, and their memo keys hold it, so the rest comes from the shared store.
 */
import path from 'node:path';
import { MemoryStore, type MemoStore } from '../cache/store.js';
import { InputError, issue, type Issue } from '../schema/input-error.js';
import { executePlan, type RunEvent } from './execute.js';
import { applyParam, applySet, readPipelineFile, setDotted } from './pipeline-file.js';
import { bindMethod, withBindings, type Plan } from './plan.js';
import type { MethodRef } from './pipeline.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { dirOf, loadAndPlan } from './runtime.js';
import type { Subject } from 'rxjs';

// ---------------------------------------------------------------------------------------------------------
// 1. --vary and the variants

export interface VaryAxis {
  /** Dotted path in the pipeline JSON, e.g. `methods.integrator`. */
  path: string;
  values: unknown[];
  /** The values as written (for labels). */
  texts: string[];
}

/** Split at top-level commas (not inside brackets, braces or quotes). */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0, quote: string | null = null, cur = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quote) {
      cur += ch;
      if (ch === '\\') { cur += s[++i] ?? ''; continue; }
      if (ch === quote) quote = null;
      continue;
    }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') depth--;
    if (ch === ',' && depth === 0) { out.push(cur.trim()); cur = ''; continue; }
    cur += ch;
  }
  out.push(cur.trim());
  return out;
}

/**
 * A value for a variant's label: strings as they are, a method or stage reference {use, with} as
 * `use(key=value, ...)`, anything else as compact JSON.
 */
export function valueText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as any).use === 'string') {
    const { use, with: w, ...rest } = v as { use: string; with?: Record<string, unknown> };
    const args = Object.entries({ ...(w ?? {}), ...rest }).map(([k, x]) => `${k}=${typeof x === 'string' ? x : JSON.stringify(x)}`);
    return args.length ? `${use}(${args.join(', ')})` : use;
  }
  return JSON.stringify(v);
}

const parseValue = (t: string): unknown => {
  try { return JSON.parse(t); } catch { return t; }
};

/**
 * `PATH=V1,V2,...` (values are JSON when they parse as JSON, else strings; commas inside brackets, braces or
 * quotes do not split) or `PATH=[JSON array]`.
 */
export function parseVary(spec: string): VaryAxis {
  const eq = spec.indexOf('=');
  const bad = (why: string) => new InputError([issue('--vary', `${JSON.stringify(spec)}: ${why}`)]);
  if (eq <= 0) throw bad('not of the form DOTTED.PATH=V1,V2,... (e.g. methods.integrator=newton-cotes,romberg,gauss-legendre)');
  const p = spec.slice(0, eq).trim();
  if (p.split('.').some((k) => k === '')) throw bad(`"${p}" is not a dotted path`);
  const rhs = spec.slice(eq + 1).trim();
  let values: unknown[] | null = null;
  let texts: string[];
  if (rhs.startsWith('[')) {
    try {
      const arr = JSON.parse(rhs);
      if (Array.isArray(arr)) values = arr;
    } catch { /* not a JSON array: split it */ }
  }
  if (values) texts = values.map(valueText);
  else {
    const raw = splitTopLevel(rhs);
    values = raw.map(parseValue);
    texts = raw.map((t, i) => (t === '' ? '' : valueText(values![i])));
  }
  if (!texts.length || texts.some((t) => t === '')) throw bad('needs at least one value, and no empty ones');
  const seen = new Set<string>();
  for (const v of values) {
    const key = JSON.stringify(v);
    if (seen.has(key)) throw bad(`the value ${key} appears twice`);
    seen.add(key);
  }
  return { path: p, values, texts };
}

export interface Variant {
  label: string;
  settings: { path: string; value: unknown; text: string }[];
}

/** Every combination of the axes' values (the first axis varies slowest), labelled `name=value, ...`. */
export function variantsOf(axes: VaryAxis[]): Variant[] {
  if (!axes.length) return [{ label: 'as written', settings: [] }];
  const last = axes.map((a) => a.path.split('.').pop()!);
  const names = axes.map((a, i) => (last.filter((l) => l === last[i]).length > 1 ? a.path : last[i]));
  let combos: Variant['settings'][] = [[]];
  axes.forEach((a) => {
    combos = combos.flatMap((c) => a.values.map((value, j) => [...c, { path: a.path, value, text: a.texts[j] }]));
  });
  return combos.map((settings) => ({ label: settings.map((s, i) => `${names[i]}=${s.text}`).join(', '), settings }));
}

// ---------------------------------------------------------------------------------------------------------
// 2. running the variants

export interface VariantRun {
  variant: Variant;
  /**
   * The layers of bindings the variant added as child containers (its method settings): `methods.<kind>` on
   * the pipeline's container, `stages.<X>.methods.<kind>` on the stage's.
   */
  overrides: Plan['overrides'];
  /** Wall time of the variant's execution and file writing [s] (cached stages cost ~nothing). */
  seconds: number;
  computed: string[];
  cached: string[];
  /** The files its stages write for the pipeline's outputs: name -> contents. */
  files: Record<string, string | Uint8Array>;
}

export interface RunVariantsOptions {
  file: string;
  params?: string[];
  sets?: string[];
  vary: VaryAxis[];
  /** Shared by every variant (default: a new MemoryStore). */
  store?: MemoStore;
  events?: Subject<RunEvent>;
  /** Called before each variant runs. */
  onVariant?: (index: number, total: number, variant: Variant) => void;
}

export interface VariantsResult {
  pipelineName: string;
  variants: VariantRun[];
}

/**
 * A setting that binds one method (`methods.<kind>` or `stages.<X>.methods.<kind>` to a method reference): a
 * variant applies it as a child container rather than by re-planning. Other values (not a method reference)
 * go through the pipeline file, whose schema reports them.
 */
function isMethodSetting(s: { path: string; value: unknown }): boolean {
  const ref = s.value;
  const isRef = typeof ref === 'string' || (!!ref && typeof ref === 'object' && !Array.isArray(ref) && typeof (ref as any).use === 'string');
  return isRef && (/^methods\.[^.]+$/.test(s.path) || /^stages\.[^.]+\.methods\.[^.]+$/.test(s.path));
}

/**
 * Plan every variant first (an invalid variant is an input error naming it, before any compute), then run
 * them in order with one memo store.
 */
export async function runVariants(o: RunVariantsOptions): Promise<VariantsResult> {
  const base = readPipelineFile(o.file) as any;
  for (const s of o.sets ?? []) applySet(base, s);
  for (const p of o.params ?? []) applyParam(base, p);
  const baseDir = dirOf(o.file);
  const variants = variantsOf(o.vary);
  const planned: { variant: Variant; plan: Plan; registry: PluginRegistry }[] = [];
  const problems: Issue[] = [];
  // parameters a variant's stages do not read (another variant's plugin may): dropped from that variant, and
  // checked below to be read by some variant
  const dropped: { variant: Variant; issue: Issue; name: string }[] = [];
  // one plan per distinct combination of the settings that are not method bindings
  const plans = new Map<string, Promise<{ plan: Plan; registry: PluginRegistry; unread: Issue[] }>>();
  const planDropping = async (p: any): Promise<{ plan: Plan; registry: PluginRegistry; unread: Issue[] }> => {
    try {
      return { ...(await loadAndPlan(p, { baseDir })), unread: [] };
    } catch (e) {
      const unread = e instanceof InputError ? e.issues.filter((i) => /^parameters\.[^.]+$/.test(i.path) && i.message.startsWith('no stage reads a parameter')) : [];
      if (!unread.length || unread.length !== (e as InputError).issues.length) throw e;
      const q = JSON.parse(JSON.stringify(p));
      for (const i of unread) delete q.parameters[i.path.slice('parameters.'.length)];
      return { ...(await loadAndPlan(q, { baseDir })), unread };
    }
  };
  for (const variant of variants) {
    const bindings = variant.settings.filter(isMethodSetting);
    const rest = variant.settings.filter((s) => !isMethodSetting(s));
    const p = JSON.parse(JSON.stringify(base));
    try {
      for (const s of rest) setDotted(p, s.path, s.value);
      const id = JSON.stringify(rest.map((s) => [s.path, s.value]));
      if (!plans.has(id)) plans.set(id, planDropping(p));
      const { plan: basePlan, registry, unread } = await plans.get(id)!;
      for (const i of unread) dropped.push({ variant, issue: i, name: i.path.slice('parameters.'.length) });
      let plan = basePlan;
      const local: Issue[] = [];
      for (const s of bindings) {
        const parts = s.path.split('.');
        const kind = parts[parts.length - 1];
        const bound = bindMethod(registry, kind, s.value as MethodRef, s.path, local);
        if (bound) plan = withBindings(plan, { methods: { [kind]: bound } }, parts[0] === 'stages' ? parts[1] : undefined);
      }
      if (local.length) throw new InputError(local);
      planned.push({ variant, plan, registry });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      problems.push(...e.issues.map((i) => issue(i.path, `in variant ${variant.label}: ${i.message}`)));
    }
  }
  // a parameter no variant reads is still an error (the first variant's words)
  for (const d of dropped)
    if (!planned.some((v) => v.plan.parameters.has(d.name)) && !problems.some((i) => i.path === d.issue.path))
      problems.push(issue(d.issue.path, `no stage of any variant reads a parameter "${d.name}" (${d.issue.message})`));
  if (problems.length) throw new InputError(problems);
  const store = o.store ?? new MemoryStore();
  const runs: VariantRun[] = [];
  for (const [i, { variant, plan, registry }] of planned.entries()) {
    o.onVariant?.(i, planned.length, variant);
    const t0 = performance.now();
    try {
      const r = await executePlan(plan, registry, { store, events: o.events });
      const files: Record<string, string | Uint8Array> = {};
      for (const [stage, names] of Object.entries(plan.pipeline.outputs ?? {})) {
        const st = plan.stages.get(stage)!;
        for (const name of ([] as string[]).concat(names))
          Object.assign(files, await st.plugin.write!(r.outputs.get(stage), name, { config: st.config, params: r.params }));
      }
      runs.push({ variant, overrides: plan.overrides, seconds: (performance.now() - t0) / 1000, computed: r.computed, cached: r.cached, files });
    } catch (e) {
      throw new Error(`variant ${variant.label}: ${(e as Error).message}`, { cause: e });
    }
  }
  return { pipelineName: planned[0]?.plan.pipeline.name ?? path.basename(o.file), variants: runs };
}

// ---------------------------------------------------------------------------------------------------------
// 3. numeric tables and their differences

/** Files compared as tables (others, e.g. images and JSON, are skipped). */
export const isTableFile = (name: string) => /\.(tsv|csv|txt|dat)$/i.test(name);

export interface NumericTable {
  source: string;
  /** Column names (the first column included). */
  header: string[];
  /** Cells as text, row-major, without the header. */
  cells: string[][];
}

/** A table: '#' lines are comments, the first other line the header; tab-, comma- or space-separated. */
export function parseTable(text: string, source: string): NumericTable {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  if (!lines.length) throw new Error(`${source}: no header line (empty, or only comments)`);
  const sep = lines[0].includes('\t') ? '\t' : source.toLowerCase().endsWith('.csv') ? ',' : null;
  const split = (l: string) => (sep ? l.split(sep).map((s) => s.trim()) : l.trim().split(/\s+/));
  const header = split(lines[0]);
  const cells = lines.slice(1).map(split);
  cells.forEach((r, i) => {
    if (r.length !== header.length) throw new Error(`${source}: data row ${i + 1} has ${r.length} columns, the header ${header.length}`);
  });
  return { source, header, cells };
}

const num = (s: string): number => (s.trim() === '' ? NaN : Number(s));

export interface TableDiff {
  /** The first column when it is the shared axis (e.g. ell), else null. */
  axis: { name: string; values: Float64Array } | null;
  /** Row labels (a text first column, or the header of a square matrix), else null. */
  rowLabels: string[] | null;
  rows: number;
  /** Compared columns. */
  columns: string[];
  /** Columns only in the variant or only in the reference. */
  unmatched: string[];
  /** |normalized difference| per column (NaN where not comparable): |signed|. */
  rel: Float64Array[];
  /** Signed normalized differences per column (see `metric`; NaN where not comparable). */
  signed: Float64Array[];
  /** The normalization: 'spectra' (a - r)/sqrt(r_ii r_jj), 'matrix' (a - r)/sqrt(|r_ii r_jj|), 'relative' (a - r)/|r|. */
  metric: DiffMetric;
  /** Statistics per probe family (columns grouped by leading letters), in order of first appearance. */
  families: FamilyStats[];
  /** Most negative and most positive signed difference. */
  minSigned: number;
  maxSigned: number;
  max: number;
  median: number;
  /** Where the largest difference is: column and row (axis value or label). */
  where: string;
  /** Values compared, and values left out because the reference is 0 while the variant is not. */
  count: number;
  zeroReference: number;
}

export type DiffMetric = 'spectra' | 'matrix' | 'relative';

/** The words for a metric (reports, plot axes). */
export const METRIC_TEXT: Record<DiffMetric, string> = {
  spectra: '(a - r) / sqrt(r_ii r_jj)',
  matrix: '(a - r) / sqrt(|r_ii r_jj|)',
  relative: '(a - r) / |r|',
};

export interface FamilyStats { family: string; columns: number; max: number; median: number; minSigned: number; maxSigned: number; where: string }

/** A column's probe family: its leading letters (LL_1_2 -> LL), or '' . */
export const familyOf = (column: string) => /^([A-Za-z]+)(?:_|$)/.exec(column)?.[1] ?? '';

/**
 * The auto-spectrum columns of a pair column's two tracers, from the pair naming of plugins/contracts/tracers.ts
 * (XY_i_j: tracers X_i, Y_j; XY_j: X (no index), Y_j; XY: X, Y), or null when the name is not a pair.
 */
export function autoColumns(column: string): [string, string] | null {
  const auto = (code: string, idx?: string) => (idx === undefined ? `${code}${code}` : `${code}${code}_${idx}_${idx}`);
  let m = /^([A-Z])([A-Z])_(\d+)_(\d+)$/.exec(column);
  if (m) return [auto(m[1], m[3]), auto(m[2], m[4])];
  m = /^([A-Z])([A-Z])_(\d+)$/.exec(column);
  if (m) return [auto(m[1]), auto(m[2], m[3])];
  m = /^([A-Z])([A-Z])$/.exec(column);
  if (m) return [auto(m[1]), auto(m[2])];
  return null;
}

const medianOf = (v: number[]) => {
  if (!v.length) return NaN;
  const a = [...v].sort((p, q) => p - q), h = a.length >> 1;
  return a.length % 2 ? a[h] : 0.5 * (a[h - 1] + a[h]);
};

const strictlyMonotonic = (v: Float64Array) => {
  if (v.length < 2 || v.some((x) => !Number.isFinite(x))) return false;
  const up = v[1] > v[0];
  for (let i = 1; i < v.length; i++) if (up ? !(v[i] > v[i - 1]) : !(v[i] < v[i - 1])) return false;
  return true;
};

/** Compare a table with its reference (same rows, columns matched by name). */
export function diffTables(ref: NumericTable, got: NumericTable): TableDiff {
  const where = `${got.source} vs ${ref.source}`;
  if (ref.cells.length !== got.cells.length) throw new Error(`${where}: ${got.cells.length} data rows against ${ref.cells.length}; the tables must have the same rows`);
  const rows = ref.cells.length;
  const col = (t: NumericTable, j: number) => Float64Array.from(t.cells, (r) => num(r[j]));
  const firstRef = col(ref, 0), firstGot = col(got, 0);
  const firstIsText = ref.cells.some((r) => Number.isNaN(num(r[0])) && r[0].toLowerCase() !== 'nan');
  // a symmetric square table under a header of names (fisher.tsv, a covariance): its rows take those names
  const square = !firstIsText && ref.header.length === rows && rows > 1 && ref.cells.every((r, i) =>
    r.every((v, j) => Math.abs(num(v) - num(ref.cells[j][i])) <= 1e-12 * Math.max(Math.abs(num(v)), Math.abs(num(ref.cells[j][i])))));
  let axis: TableDiff['axis'] = null;
  let rowLabels: string[] | null = null;
  let startCol = 0;
  if (firstIsText) {
    rowLabels = ref.cells.map((r) => r[0]);
    const gl = got.cells.map((r) => r[0]);
    if (gl.some((l, i) => l !== rowLabels![i])) throw new Error(`${where}: the rows are labelled differently (${rowLabels.join(', ')} vs ${gl.join(', ')})`);
    startCol = 1;
  } else if (square) rowLabels = [...ref.header];
  else if (strictlyMonotonic(firstRef) && strictlyMonotonic(firstGot) && ref.header[0] === got.header[0]) {
    const same = firstRef.every((v, i) => Math.abs(firstGot[i] - v) <= 1e-10 * Math.max(Math.abs(v), 1e-300));
    if (!same) throw new Error(`${where}: the first column (${ref.header[0]}) differs; compare variants on the same grid`);
    axis = { name: ref.header[0], values: firstRef };
    startCol = 1;
  }
  const columns: string[] = [];
  const rel: Float64Array[] = [], signed: Float64Array[] = [];
  const gotIndex = new Map(got.header.map((h, j) => [h, j]));
  const refIndex = new Map(ref.header.map((h, j) => [h, j]));
  // the normalization: spectra when every compared pair column has its two auto-spectra in the reference
  const pairCols = ref.header.slice(startCol);
  const isSpectra = !!axis && pairCols.length > 0 && pairCols.every((h) => { const a = autoColumns(h); return !!a && refIndex.has(a[0]) && refIndex.has(a[1]); });
  const metric: DiffMetric = isSpectra ? 'spectra' : square ? 'matrix' : 'relative';
  const norm = (name: string, j: number): Float64Array => {
    const r = col(ref, j);
    if (metric === 'spectra') {
      const [a, b] = autoColumns(name)!;
      const ra = col(ref, refIndex.get(a)!), rb = col(ref, refIndex.get(b)!);
      return Float64Array.from(r, (_, i) => Math.sqrt(Math.abs(ra[i] * rb[i])));
    }
    if (metric === 'matrix') {
      const k = ref.header.indexOf(name);
      return Float64Array.from(r, (_, i) => Math.sqrt(Math.abs(num(ref.cells[i][i]) * num(ref.cells[k][k]))));
    }
    return Float64Array.from(r, Math.abs);
  };
  const unmatched = [
    ...ref.header.slice(startCol).filter((h) => !gotIndex.has(h)).map((h) => `${h} (only in the reference)`),
    ...got.header.slice(startCol).filter((h) => !ref.header.includes(h)).map((h) => `${h} (only in the variant)`),
  ];
  let count = 0, zeroReference = 0, max = 0, whereMax = '';
  const all: number[] = [];
  for (let j = startCol; j < ref.header.length; j++) {
    const name = ref.header[j];
    const jg = gotIndex.get(name);
    if (jg === undefined) continue;
    const r = col(ref, j), a = col(got, jg), scale = norm(name, j);
    const d = new Float64Array(rows), sd = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      const x = r[i], y = a[i];
      if (Number.isNaN(x) && Number.isNaN(y)) { d[i] = sd[i] = NaN; continue; }
      if (x === y) d[i] = sd[i] = 0;
      else if (scale[i] === 0) { d[i] = sd[i] = NaN; zeroReference++; continue; }
      else { sd[i] = (y - x) / scale[i]; d[i] = Math.abs(sd[i]); }
      if (Number.isNaN(d[i])) { d[i] = Infinity; sd[i] = NaN; } // one side NaN: as different as can be
      count++;
      all.push(d[i]);
      if (d[i] > max) {
        max = d[i];
        whereMax = (axis ? `${name} at ${axis.name} = ${fmt(axis.values[i])}`
          : square ? `[${rowLabels![i]}, ${name}]`
          : rowLabels ? `${name} of ${rowLabels[i]}` : `${name} in row ${i + 1}`) + ` (${fmtValue(y)} vs ${fmtValue(x)})`;
      }
    }
    columns.push(name);
    rel.push(d);
    signed.push(sd);
  }
  all.sort((p, q) => p - q);
  const median = all.length ? (all.length % 2 ? all[(all.length - 1) / 2] : 0.5 * (all[all.length / 2 - 1] + all[all.length / 2])) : NaN;
  // per probe family (leading letters of the column names)
  // (spectra only: other tables' columns are not probes)
  const famOf = (c: string) => (metric === 'spectra' ? familyOf(c) : '');
  const famNames = [...new Set(columns.map(famOf))];
  const families: FamilyStats[] = famNames.map((family) => {
    const idx = columns.map((c, j) => (famOf(c) === family ? j : -1)).filter((j) => j >= 0);
    const abs: number[] = [];
    let fmax = 0, fwhere = '-', lo = 0, hi = 0;
    for (const j of idx)
      for (let i = 0; i < rows; i++) {
        const v = rel[j][i];
        if (Number.isNaN(v)) continue;
        abs.push(v);
        if (signed[j][i] < lo) lo = signed[j][i];
        if (signed[j][i] > hi) hi = signed[j][i];
        if (v > fmax) { fmax = v; fwhere = axis ? `${columns[j]} at ${axis.name} = ${fmt(axis.values[i])}` : rowLabels ? `${columns[j]} of ${rowLabels[i]}` : `${columns[j]} in row ${i + 1}`; }
      }
    return { family: family || '-', columns: idx.length, max: fmax, median: medianOf(abs), minSigned: lo, maxSigned: hi, where: fwhere };
  });
  const minSigned = Math.min(0, ...families.map((f) => f.minSigned)), maxSigned = Math.max(0, ...families.map((f) => f.maxSigned));
  return { axis, rowLabels, rows, columns, unmatched, rel, signed, metric, families, minSigned, maxSigned, max, median, where: max > 0 ? whereMax : '-', count, zeroReference };
}

const fmtValue = (x: number) => (Number.isFinite(x) ? x.toPrecision(7) : String(x));
const fmt = (x: number) => (Math.abs(x) >= 1e-3 && Math.abs(x) < 1e6 ? String(Number(x.toPrecision(6))) : x.toExponential(4));

// ---------------------------------------------------------------------------------------------------------
// 4. the comparison of every output of every variant

export interface OutputComparison {
  file: string;
  /** One per variant (null for the variant that is the reference itself). */
  diffs: (TableDiff | null)[];
}

export interface Comparison {
  pipelineName: string;
  variants: VariantRun[];
  /** What the variants are compared against: a file per output, or the first variant. */
  reference: { kind: 'file'; files: Record<string, string> } | { kind: 'variant'; label: string };
  outputs: OutputComparison[];
  /** Output files not compared (not tables, or without a reference file). */
  skipped: string[];
}

/**
 * Reference files from `--reference` arguments: `FILE` (matched to the output with its name), `DIR` (every
 * output with a file of its name there) or `OUTPUT=FILE`.
 */
export function referenceFiles(specs: string[], outputs: string[], fileExists: (f: string) => 'file' | 'dir' | null): Record<string, string> {
  const refs: Record<string, string> = {};
  const problems: Issue[] = [];
  for (const s of specs) {
    const eq = s.indexOf('=');
    if (eq > 0 && outputs.includes(s.slice(0, eq))) {
      const f = path.resolve(s.slice(eq + 1));
      if (fileExists(f) !== 'file') problems.push(issue('--reference', `${s}: no file ${f}`));
      else refs[s.slice(0, eq)] = f;
      continue;
    }
    const f = path.resolve(s);
    const kind = fileExists(f);
    if (kind === 'dir') {
      const found = outputs.filter((o) => fileExists(path.join(f, o)) === 'file');
      if (!found.length) problems.push(issue('--reference', `${s}: the directory holds none of the compared outputs (${outputs.join(', ')})`));
      for (const o of found) refs[o] = path.join(f, o);
    } else if (kind === 'file') {
      const name = path.basename(f);
      if (!outputs.includes(name))
        problems.push(issue('--reference', `${s}: no output is named ${name}; outputs: ${outputs.join(', ')} (use OUTPUT=FILE to pair a file with an output)`));
      else refs[name] = f;
    } else problems.push(issue('--reference', `${s}: no such file or directory`));
  }
  if (problems.length) throw new InputError(problems);
  return refs;
}

export function compareVariants(
  result: VariantsResult,
  reference: { files: Record<string, string>; read: (f: string) => string } | null,
): Comparison {
  const { variants } = result;
  const names = [...new Set(variants.flatMap((v) => Object.keys(v.files)))];
  const tables = names.filter(isTableFile);
  const skipped = names.filter((n) => !isTableFile(n));
  const outputs: OutputComparison[] = [];
  const text = (x: string | Uint8Array) => (typeof x === 'string' ? x : Buffer.from(x).toString('utf8'));
  for (const file of tables) {
    let ref: NumericTable;
    if (reference) {
      const rf = reference.files[file];
      if (!rf) { skipped.push(`${file} (no reference file)`); continue; }
      ref = parseTable(reference.read(rf), rf);
    } else ref = parseTable(text(variants[0].files[file]), `${file} of ${variants[0].variant.label}`);
    const diffs = variants.map((v, i) => {
      if (!reference && i === 0) return null;
      const content = v.files[file];
      if (content === undefined) throw new Error(`variant ${v.variant.label} wrote no ${file}`);
      return diffTables(ref, parseTable(text(content), `${file} of ${v.variant.label}`));
    });
    outputs.push({ file, diffs });
  }
  return {
    pipelineName: result.pipelineName,
    variants,
    reference: reference ? { kind: 'file', files: reference.files } : { kind: 'variant', label: variants[0].variant.label },
    outputs,
    skipped,
  };
}

// ---------------------------------------------------------------------------------------------------------
// 5. reports

export const sci = (x: number, digits = 2) => (Number.isNaN(x) ? 'n/a' : x === 0 ? '0' : !Number.isFinite(x) ? 'inf' : x.toExponential(digits));

/**
 * Summary table: per output and variant a row over the whole table (family `all`), then one per probe family when
 * there are several: max and median |normalized difference|, where the max is, values compared, the metric, and
 * the most negative and most positive signed difference.
 */
export function comparisonTsv(c: Comparison): string {
  const lines = ['output\tvariant\tfamily\tmax_abs_diff\tmedian_abs_diff\twhere_max\tvalues\tzero_reference\twall_seconds\tmetric\tmost_negative\tmost_positive'];
  for (const o of c.outputs)
    o.diffs.forEach((d, i) => {
      const v = c.variants[i];
      lines.push([o.file, v.variant.label, 'all', d ? sci(d.max, 4) : 'reference', d ? sci(d.median, 4) : 'reference', d?.where ?? '-', d?.count ?? '', d?.zeroReference ?? '', v.seconds.toFixed(3),
        d ? METRIC_TEXT[d.metric] : '-', d ? sci(d.minSigned, 4) : '-', d ? sci(d.maxSigned, 4) : '-'].join('\t'));
      if (d && d.families.length > 1)
        for (const f of d.families)
          lines.push([o.file, v.variant.label, f.family, sci(f.max, 4), sci(f.median, 4), f.where, '', '', '', METRIC_TEXT[d.metric], sci(f.minSigned, 4), sci(f.maxSigned, 4)].join('\t'));
    });
  return lines.join('\n') + '\n';
}

export function variantsTsv(c: Comparison): string {
  const lines = ['variant\twall_seconds\tcomputed\tcached'];
  for (const v of c.variants) lines.push([v.variant.label, v.seconds.toFixed(3), v.computed.join(',') || '-', v.cached.join(',') || '-'].join('\t'));
  return lines.join('\n') + '\n';
}

/** A path relative to the working directory when it lies inside it. */
function shortPath(f: string): string {
  const r = path.relative(process.cwd(), f);
  return r && !r.startsWith('..') && !path.isAbsolute(r) ? r : f;
}

/** Markdown: the summary table and the wall times (for docs and the terminal). */
export function comparisonMarkdown(c: Comparison, plots: string[] = []): string {
  const ref = c.reference.kind === 'file'
    ? `the reference file${Object.keys(c.reference.files).length > 1 ? 's' : ''} ${Object.entries(c.reference.files).map(([o, f]) => `\`${shortPath(f)}\` (for ${o})`).join(', ')}`
    : `the first variant (${c.reference.label})`;
  const out = [`## ${c.pipelineName}: ${c.variants.length} variants against ${ref}`, ''];
  out.push('Signed difference of every value of each output table, normalized (column "metric"): spectra by the reference\'s',
    'auto-spectra, (a - r) / sqrt(r_ii r_jj); a Fisher matrix by sqrt(|F_ii F_jj|); other tables, e.g. the Fisher errors, by |r| (for an',
    'error: the difference in units of the reference\'s sigma). Values where the normalization is 0 are left out. Per probe family',
    'below the whole-table row when there are several.', '');
  out.push('| output | variant | max abs. diff. | median abs. diff. | where the max is | metric | most negative | most positive |', '|---|---|---:|---:|---|---|---:|---:|');
  for (const o of c.outputs)
    o.diffs.forEach((d, i) => {
      if (!d) return;
      out.push(`| ${o.file} | ${c.variants[i].variant.label} | ${sci(d.max)} | ${sci(d.median)} | ${d.where}${d.zeroReference ? ` (${d.zeroReference} values with r = 0 left out)` : ''} | ${METRIC_TEXT[d.metric]} | ${sci(d.minSigned)} | ${sci(d.maxSigned)} |`);
      if (d.families.length > 1)
        for (const f of d.families)
          out.push(`| ${o.file} | ${c.variants[i].variant.label}: ${f.family} (${f.columns}) | ${sci(f.max)} | ${sci(f.median)} | ${f.where} | ${METRIC_TEXT[d.metric]} | ${sci(f.minSigned)} | ${sci(f.maxSigned)} |`);
    });
  out.push('', '| variant | wall time [s] | stages computed | stages from the shared cache |', '|---|---:|---|---|');
  for (const v of c.variants) out.push(`| ${v.variant.label} | ${v.seconds.toFixed(2)} | ${v.computed.join(', ') || '-'} | ${v.cached.join(', ') || '-'} |`);
  if (c.skipped.length) out.push('', `Not compared: ${c.skipped.join(', ')}.`);
  if (plots.length) out.push('', `Plots: ${plots.map((p) => `\`${p}\``).join(', ')}.`);
  return out.join('\n') + '\n';
}
