/**
 * The points of a sweep: a grid (`--vary PATH=v1,v2,...`, the product of the axes, the first varying slowest; the
 * parsing is compare's, core/graph/compare.ts), a seeded Latin hypercube (`--lhs N --range PATH=lo:hi`), or the rows
 * of a TSV file (`--points FILE.tsv`, header = paths).
 *
 * A PATH is a parameter name (`Omega_m`: sets parameters.Omega_m.value) or a dotted path of the pipeline JSON as in
 * `--set` (`stages.fisher.with.fsky`, `methods.integrator`). A path is checked against the pipeline before anything
 * runs: a parameter must be one the pipeline has or a stage reads, a `stages.X...` path must name a stage; what lies
 * below is checked by the pipeline's schema when each point is planned.
 */
import fs from 'node:fs';
import { InputError, issue, type Issue } from '../schema/input-error.js';
import { parseVary, valueText, variantsOf } from '../graph/compare.js';
import type { Plan } from '../graph/plan.js';
import { latinHypercube } from './latin-hypercube.js';

export interface PointSetting {
  /** The path as the user wrote it (a column of sweep.tsv). */
  name: string;
  /** The dotted path it sets in the pipeline JSON. */
  path: string;
  value: unknown;
  /** The value as written (labels). */
  text: string;
}

export interface SweepPoint {
  /** 1-based position in the sweep (the row of sweep.tsv). */
  index: number;
  settings: PointSetting[];
}

export interface PointSource {
  /** The varied paths as written, in column order. */
  names: string[];
  /** The grid's axes (with --vary): the values of each, in order; null for a hypercube or a file. */
  axes: { name: string; values: unknown[]; texts: string[] }[] | null;
  points: SweepPoint[];
  /** How the points were made, for sweep.json. */
  settings: Record<string, unknown>;
}

/** The dotted path a sweep PATH sets: a bare parameter name sets its value. */
export const dottedPathOf = (name: string): string => (name.includes('.') ? name : `parameters.${name}.value`);

/**
 * Check a PATH against the pipeline (after --set/--param) and its plan: a message naming the path, or null.
 */
export function checkPath(name: string, pipeline: unknown, plan: Plan): string | null {
  const given = pipeline as { parameters?: Record<string, unknown>; stages?: Record<string, unknown> };
  const parts = name.split('.');
  if (parts.some((k) => k === '')) return `${name}: not a parameter name or a dotted path`;
  const parameters = [...new Set([...Object.keys(given.parameters ?? {}), ...plan.parameters.keys()])];
  const stages = Object.keys(given.stages ?? {});
  if (parts.length === 1 || parts[0] === 'parameters') {
    const p = parts.length === 1 ? parts[0] : parts[1];
    if (p === undefined) return `${name}: name a parameter (parameters.NAME.value, or just NAME)`;
    if (!parameters.includes(p))
      return `${name}: the pipeline has no parameter "${p}" and no stage reads one; parameters: ${parameters.join(', ')}` +
        (parts.length === 1 ? ' (a dotted path such as stages.STAGE.with.FIELD or methods.KIND sets any other value)' : '');
    return null;
  }
  if (parts[0] === 'stages') {
    if (parts.length < 3) return `${name}: name a field of a stage (stages.STAGE.with.FIELD, stages.STAGE.use, stages.STAGE.methods.KIND)`;
    if (!stages.includes(parts[1])) return `${name}: the pipeline has no stage "${parts[1]}"; stages: ${stages.join(', ')}`;
    return null;
  }
  if (parts[0] === 'methods') {
    if (parts.length < 2) return `${name}: name a method kind (methods.KIND, e.g. methods.integrator)`;
    return null;
  }
  return `${name}: cannot be varied; allowed: a parameter name, parameters.NAME.value, stages.STAGE.<field>, methods.KIND`;
}

function checkPaths(names: { name: string; flag: string }[], pipeline: unknown, plan: Plan): void {
  const problems: Issue[] = [];
  const seen = new Set<string>();
  for (const n of names) {
    const m = checkPath(n.name, pipeline, plan);
    if (m) problems.push(issue(n.flag, m));
    const p = dottedPathOf(n.name);
    if (seen.has(p)) problems.push(issue(n.flag, `${n.name}: given twice`));
    seen.add(p);
  }
  if (problems.length) throw new InputError(problems);
}

/** A bare name takes numbers only (a parameter value). */
function checkNumbers(name: string, flag: string, values: unknown[], texts: string[]): void {
  if (name.includes('.') && !/^parameters\.[^.]+\.value$/.test(name)) return;
  const bad = values.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) throw new InputError([issue(flag, `${name}: ${JSON.stringify(texts[bad])} is not a number (a parameter value must be one)`)]);
}

/** `--vary PATH=v1,v2,...` (repeatable): every combination, the first axis varying slowest. */
export function gridPoints(specs: string[], pipeline: unknown, plan: Plan): PointSource {
  const axes = specs.map(parseVary).map((a) => ({ ...a, name: a.path }));
  checkPaths(axes.map((a) => ({ name: a.name, flag: '--vary' })), pipeline, plan);
  for (const a of axes) checkNumbers(a.name, '--vary', a.values, a.texts);
  const variants = variantsOf(axes.map((a) => ({ path: a.name, values: a.values, texts: a.texts })));
  const points = variants.map((v, i) => ({
    index: i + 1,
    settings: v.settings.map((s) => ({ name: s.path, path: dottedPathOf(s.path), value: s.value, text: s.text })),
  }));
  return {
    names: axes.map((a) => a.name),
    axes: axes.map((a) => ({ name: a.name, values: a.values, texts: a.texts })),
    points,
    settings: { mode: 'grid', vary: axes.map((a) => ({ path: a.name, values: a.values })) },
  };
}

/** `--range PATH=lo:hi`. */
export function parseRange(spec: string): { name: string; lo: number; hi: number } {
  const bad = (why: string) => new InputError([issue('--range', `${JSON.stringify(spec)}: ${why}`)]);
  const eq = spec.indexOf('=');
  if (eq <= 0) throw bad('not of the form PATH=LO:HI (e.g. Omega_m=0.28:0.36)');
  const name = spec.slice(0, eq).trim();
  const ends = spec.slice(eq + 1).split(':');
  if (ends.length !== 2 || ends.some((e) => e.trim() === '')) throw bad('the range must be LO:HI, two numbers');
  const [lo, hi] = ends.map(Number);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw bad(`${ends.join(':')} is not two finite numbers`);
  if (!(lo < hi)) throw bad(`the lower end ${lo} must be below the upper end ${hi}`);
  return { name, lo, hi };
}

/** `--lhs N --range PATH=lo:hi ...`: a Latin hypercube of N points, reproducible from its seed. */
export function lhsPoints(n: number, ranges: string[], seed: number, pipeline: unknown, plan: Plan): PointSource {
  if (!Number.isInteger(n) || n < 1) throw new InputError([issue('--lhs', `${n}: the number of points must be a whole number >= 1`)]);
  if (!ranges.length) throw new InputError([issue('--range', '--lhs needs at least one --range PATH=LO:HI')]);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new InputError([issue('--seed', `${seed}: must be a whole number >= 0`)]);
  const rs = ranges.map(parseRange);
  checkPaths(rs.map((r) => ({ name: r.name, flag: '--range' })), pipeline, plan);
  const unit = latinHypercube(n, rs.length, seed);
  const points = Array.from({ length: n }, (_, i) => ({
    index: i + 1,
    settings: rs.map((r, d) => {
      const value = r.lo + (r.hi - r.lo) * unit[i * rs.length + d];
      return { name: r.name, path: dottedPathOf(r.name), value, text: String(value) };
    }),
  }));
  return { names: rs.map((r) => r.name), axes: null, points, settings: { mode: 'latin-hypercube', points: n, seed, ranges: rs } };
}

/** `--points FILE.tsv`: one point per row, the header naming the paths (values are JSON when they parse, else strings). */
export function filePoints(file: string, pipeline: unknown, plan: Plan): PointSource {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError([issue('--points', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)]);
  }
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  if (lines.length < 2) throw new InputError([issue('--points', `${file}: needs a header line of paths and at least one row of values`)]);
  const split = (l: string) => (l.includes('\t') ? l.split('\t') : l.trim().split(/\s+/)).map((c) => c.trim());
  const header = split(lines[0]);
  checkPaths(header.map((h) => ({ name: h, flag: '--points' })), pipeline, plan);
  const points = lines.slice(1).map((l, i) => {
    const cells = split(l);
    if (cells.length !== header.length) throw new InputError([issue('--points', `${file}: row ${i + 1} has ${cells.length} values, the header ${header.length} paths`)]);
    return {
      index: i + 1,
      settings: header.map((h, j) => {
        let value: unknown;
        try { value = JSON.parse(cells[j]); } catch { value = cells[j]; }
        checkNumbers(h, '--points', [value], [cells[j]]);
        return { name: h, path: dottedPathOf(h), value, text: valueText(value) };
      }),
    };
  });
  return { names: header, axes: null, points, settings: { mode: 'file', file, points: points.length } };
}
