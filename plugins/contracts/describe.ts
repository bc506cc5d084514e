/**
 * Helpers for the plugins' static descriptions (StagePlugin.describe): reading an input's description and
 * naming where a described field is set. The description fields of each port are documented next to the
 * describe functions (redshift-distribution/describe.ts, power-describe.ts, weights/3x2pt-describe.ts).
 */
import type { DescribeContext, StaticDescription } from '../../core/plugin/types.js';

export type Described = { description?: StaticDescription; problems?: string[] };

/** The description of a single (not `many`) input, if its provider gave one. */
export function inputDescription(ctx: DescribeContext, input: string): StaticDescription | undefined {
  const d = ctx.inputs[input];
  return Array.isArray(d) ? undefined : d;
}

/** The descriptions of an input of either shape, as a list (a `many` input's, or the one of a single input). */
export function inputDescriptions(ctx: DescribeContext, input: string): (StaticDescription | undefined)[] {
  const d = ctx.inputs[input];
  return Array.isArray(d) ? d : [d];
}

/** The absolute path of a described field (from the description's `paths`), else the providing stage. */
export function pathOf(d: StaticDescription | undefined, field: string, ctx: DescribeContext, input: string): string {
  const p = d?.paths?.[field];
  if (p) return p;
  const from = ctx.providers[input];
  return `stages.${Array.isArray(from) ? from[0] : from}`;
}

/** " (set by stages.background.with.z_max)": where a described field is set, for messages. */
export function setBy(d: StaticDescription | undefined, field: string): string {
  const p = d?.paths?.[field];
  return p ? ` (set by ${p})` : '';
}

/** A described number, or undefined when absent or not finite. */
export const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
