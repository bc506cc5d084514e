/**
 * The one builder of what a stage sees (StageContext): used by a forward run (execute.ts) and by a stage's
 * vjp in reverse mode (reverse.ts), so both expose the same config, methods, services, parameters and scopes.
 * Methods and services are resolved in the stage's inversify container (PlannedStage.container: a child of the
 * pipeline's), so the nearest binding wins: a stage override, a compare variant's, a test harness's.
 */
import { of, type Observable } from 'rxjs';
import { seed, type Dual } from '../ad/dual.js';
import { stableStringify } from '../cache/memo-key.js';
import { resolveService } from '../plugin/bindings.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { StageChunk, StageContext, StreamEvent } from '../plugin/types.js';
import { stageMethods, usableMethodKinds, variedParameters, type Plan, type PlannedStage } from './plan.js';

export interface StageContextOptions {
  /** Tangent directions the stage's parameters are seeded with ([] = values only, parameters constant). */
  tangents?: readonly string[];
  /** The sticky scope of the current differentiation (see ExecuteOptions.sticky); none: ctx.sticky computes. */
  sticky?: Map<string, unknown>;
  /** Where ctx.progress goes (nowhere by default). */
  progress?: (done: number, total: number, label?: string) => void;
  /** Where ctx.chunk goes (nowhere by default). */
  chunk?: (chunk: StageChunk) => void;
  /** The stream of a `stream: true` input (the runtime's); without it, ctx.stream gives the input's result only. */
  stream?: (input: string) => Observable<StreamEvent>;
}

export function stageContext(
  plan: Plan, _registry: PluginRegistry, st: PlannedStage, inputs: Record<string, unknown>, params: Record<string, number>,
  opts: StageContextOptions = {},
): StageContext<any, any> {
  const tangents = opts.tangents ?? [];
  const sticky = opts.sticky;
  const P = tangents.length;
  // method instances and services: made from the bindings the stage's container resolves, once per evaluation
  let bound: ReturnType<typeof stageMethods> | undefined;
  const instances = new Map<string, unknown>();
  const services = new Map<string, unknown>();
  const ctx: StageContext<any, any> = {
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
      if (!usableMethodKinds(st.plugin).includes(kind)) throw new Error(`asked for a "${kind}" method without declaring it in methods`);
      if (!instances.has(kind)) {
        const b = (bound ??= stageMethods(st))[kind];
        if (!b) throw new Error(`no "${kind}" method is bound for stage "${st.name}" (methods.${kind})`);
        instances.set(kind, b.plugin.create(b.config));
      }
      return instances.get(kind) as T;
    },
    service<T>(name: string): T {
      if (!(st.plugin.services ?? []).includes(name)) throw new Error(`asked for the service "${name}" without declaring it in services`);
      if (!services.has(name)) {
        const provider = resolveService(st.container, name);
        if (!provider) throw new Error(`no service "${name}" is bound for stage "${st.name}" (is the module providing it listed in "plugins"?)`);
        services.set(name, provider.create(ctx, { name: st.name, reads: Object.keys(st.reads) }));
      }
      return services.get(name) as T;
    },
    stream<T>(input: string): Observable<StreamEvent<T>> {
      if (!st.streams.includes(input)) throw new Error(`asked for input "${input}" as a stream, but it is not declared {port, stream: true}`);
      return (opts.stream ? opts.stream(input) : of({ type: 'result' as const, value: inputs[input] })) as Observable<StreamEvent<T>>;
    },
    progress(done: number, total: number, label?: string) {
      opts.progress?.(done, total, label);
    },
    chunk(c: StageChunk) {
      opts.chunk?.(c);
    },
  };
  return ctx;
}
