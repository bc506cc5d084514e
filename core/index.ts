/** Public API of cosmodag's core, for plugin authors and embedding applications. */
export * from './ad/dual.js';
export * from './ad/dual-array.js';
export { Expr, type Vec } from './ad/expr.js';
export * from './plugin/types.js';
export type { Integrator, QuadratureRule, VectorIntegrand } from './numerics/integrator.js';
export { PluginRegistry, methodToken, pluginToken, serviceToken, parametersService } from './plugin/registry.js';
export { methodBinding, childContainer, resolveMethod, resolveService, type Bindings, type BoundMethod } from './plugin/bindings.js';
export { planPipeline, variedParameters, withBindings, stageMethods, type Plan, type PlannedStage } from './graph/plan.js';
export { executePlan, StageError, type RunEvent, type ExecuteOptions, type ExecuteResult } from './graph/execute.js';
export { registryFor, loadAndPlan } from './graph/runtime.js';
export { InputError, type Issue } from './schema/input-error.js';
export { MemoryStore, DiskStore, writeFileAtomic, type MemoStore } from './cache/store.js';
export type { Pipeline } from './graph/pipeline.js';
