/**
 * The one builder of what a stage sees (StageContext): used by a forward run (execute.ts) and by a stage's
 * vjp in reverse mode (reverse.ts), so both expose the same config, methods, parameters and scopes.
 */
import { seed, type Dual } from '../ad/dual.js';
import { stableStringify } from '../cache/memo-key.js';
import { methodToken, type PluginRegistry } from '../plugin/registry.js';
import type { StageContext } from '../plugin/types.js';
import { variedParameters, type Plan, type PlannedStage } from './plan.js';

export interface StageContextOptions {
  /** Tangent directions the stage's parameters are seeded with ([] = values only, parameters constant). */
  tangents?: readonly string[];
  /** The sticky scope of the current differentiation (see ExecuteOptions.sticky); none: ctx.sticky computes. */
  sticky?: Map<string, unknown>;
  /** Where ctx.progress goes (nowhere by default). */
  progress?: (done: number, total: number, label?: string) => void;
}

export function stageContext(
  plan: Plan, registry: PluginRegistry, st: PlannedStage, inputs: Record<string, unknown>, params: Record<string, number>,
  opts: StageContextOptions = {},
): StageContext<any, any> {
  const tangents = opts.tangents ?? [];
  const sticky = opts.sticky;
  const instances: Record<string, unknown> = {};
  for (const [kind, m] of Object.entries(st.methods)) instances[kind] = m.plugin.create(m.config);
  const scope = registry.scope(instances);
  const P = tangents.length;
  return {
    stage: st.name,
    config: st.config,
    inputs,
    tangentParams: tangents,
    baseDir: plan.baseDir,
    sticky<T>(what: string, compute: () => T): T {
      if (!sticky) return compute();
      const k = `${st.name}:${what}:${stableStringify(st.config)}`;
      if (!sticky.has(k)) sticky.set(k, compute());
      return sticky.get(k) as T;
    },
    varied: variedParameters(plan).map((n) => {
      const p = plan.parameters.get(n)!;
      return { name: n, value: params[n], prior_sigma: p.prior_sigma, latex: p.latex };
    }),
    param(name: string): Dual {
      if (!(name in st.reads)) throw new Error(`asked for parameter "${name}" without declaring it in reads`);
      return seed(params[name], tangents.indexOf(name), P);
    },
    method<T>(kind: string): T {
      if (!(kind in st.methods)) throw new Error(`asked for a "${kind}" method without declaring it in methods`);
      return scope.get<T>(methodToken(kind));
    },
    progress(done: number, total: number, label?: string) {
      opts.progress?.(done, total, label);
    },
  };
}
