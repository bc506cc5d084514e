/**
 * The static description pass of planning: before anything runs, each stage that declares `describe` says
 * what its output will be (a StaticDescription: a few JSON-able facts such as the number of n(z) bins or the
 * top of a redshift grid) from its config, the parameter values and its inputs' descriptions, and reports
 * what does not fit (the weights stage expecting 10 bins of an n(z) that has 5). Stages are described in
 * topological order, so a stage sees the descriptions of its inputs.
 *
 * Rules: a stage without `describe`, whose `check` reported problems, or whose describe reported problems or
 * threw, passes no description on (its consumers see undefined), so one mistake is reported once and not again
 * at every stage downstream; a throw is one problem of that stage, never a crash of the planner.
 */
import type { StaticDescription } from '../plugin/types.js';
import type { PlannedStage } from './plan.js';

export interface DescribeProblem {
  stage: string;
  /** "path: text" as a plugin writes it (`with.` relative to the stage, or absolute). */
  message: string;
}

export interface DescribeOutcome {
  descriptions: Map<string, StaticDescription>;
  problems: DescribeProblem[];
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** A description's `paths`, made absolute: a `with.` path is relative to the describing stage. */
function absolutePaths(stage: string, d: StaticDescription): StaticDescription {
  if (!isRecord(d.paths)) return d;
  const paths: Record<string, string> = {};
  for (const [field, p] of Object.entries(d.paths))
    if (typeof p === 'string') paths[field] = p.startsWith('with') ? `stages.${stage}.${p}` : p;
  return { ...d, paths };
}

export function describeStages(
  stages: ReadonlyMap<string, PlannedStage>,
  order: readonly string[],
  params: Record<string, number>,
  baseDir: string,
  skip: ReadonlySet<string> = new Set(),
): DescribeOutcome {
  const descriptions = new Map<string, StaticDescription>();
  const problems: DescribeProblem[] = [];
  const seen = new Set<string>();
  const report = (stage: string, message: string) => {
    const k = `${stage}\u0000${message}`;
    if (seen.has(k)) return;
    seen.add(k);
    problems.push({ stage, message });
  };
  for (const name of order) {
    const st = stages.get(name);
    if (!st?.plugin.describe || skip.has(name)) continue;
    const inputs: Record<string, StaticDescription | (StaticDescription | undefined)[] | undefined> = {};
    const providers: Record<string, string | string[]> = {};
    for (const [input, wired] of Object.entries(st.inputs)) {
      providers[input] = wired;
      inputs[input] = typeof wired === 'string' ? descriptions.get(wired) : wired.map((w) => descriptions.get(w));
    }
    let r: unknown;
    try {
      r = st.plugin.describe(st.config, { stage: name, params, inputs, providers, baseDir });
    } catch (e) {
      report(name, `describe(config) of ${st.plugin.id} failed: ${(e as Error)?.message ?? String(e)}`);
      continue;
    }
    if (r === undefined || r === null) continue;
    if (!isRecord(r)) {
      report(name, `describe(config) of ${st.plugin.id} returned ${typeof r}, not {description?, problems?}`);
      continue;
    }
    const msgs = Array.isArray(r.problems) ? r.problems : [];
    for (const m of msgs) report(name, String(m));
    if (msgs.length) continue;
    if (r.description !== undefined) {
      if (!isRecord(r.description)) report(name, `describe(config) of ${st.plugin.id} returned a description that is not an object`);
      else descriptions.set(name, absolutePaths(name, r.description));
    }
  }
  return { descriptions, problems };
}
