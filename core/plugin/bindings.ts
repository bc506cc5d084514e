/**
 * What the inversify containers of a run bind, and how a layer of bindings becomes a child container.
 *
 *   registry container        every plugin (by id) and the default service providers of the loaded modules
 *     pipeline container      one per planned pipeline: its method bindings (`methods`, defaults filled in)
 *       stage container       one per stage: its overrides (`stages.X.methods`); later layers (a compare
 *         ...                 variant, a test harness, an embedding application) are further child containers
 *
 * A stage resolves its abstract tokens (methodToken('integrator'), serviceToken('cosmology')) in its own
 * container, so the nearest binding wins and the plugin never knows who made it.
 *
 * What is bound under a token is a *binding record* that carries its identity (a method: the method plugin
 * and its config; a service: a provider with an id and a version), not a bare instance: a stage's memo key
 * includes the identity of every method (and declared service) its container resolves, so a binding made in
 * any child container that changes what a stage computes also changes its key. The stage context makes the
 * instance from the record (`create`), once per stage evaluation.
 */
import 'reflect-metadata';
import { Container } from 'inversify';
import { validateWith } from '../schema/ajv.js';
import type { MethodPlugin, ServiceProvider } from './types.js';

/** The abstract token of a method kind: ctx.method('integrator') resolves methodToken('integrator'). */
export const methodToken = (kind: string) => Symbol.for(`cosmodag:method:${kind}`);
/** The abstract token of a service: ctx.service('cosmology') resolves serviceToken('cosmology'). */
export const serviceToken = (name: string) => Symbol.for(`cosmodag:service:${name}`);

/** A method bound to a kind: the method plugin and its validated config (its identity in memo keys). */
export interface BoundMethod {
  kind: string;
  plugin: MethodPlugin;
  config: Record<string, unknown>;
}

/**
 * The binding record of a method plugin with a config, validated against its schema with the defaults filled
 * in — as the planner binds a method named in a pipeline file, so the same method and config give the same
 * memo key whichever way they were bound. An invalid config throws, naming the plugin and the field.
 */
export function methodBinding(plugin: MethodPlugin, config: Record<string, unknown> = {}): BoundMethod {
  const c = JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
  const problems = validateWith(plugin.configSchema, c, 'with');
  if (problems.length) throw new Error(`${plugin.id}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  return { kind: plugin.kind, plugin, config: c };
}

/**
 * One layer of bindings: what a child container binds on top of its parent. Method kinds map to method
 * bindings, service names to providers. A third-party package may export such a layer (e.g. a method that
 * rebinds `integrator`); `withBindings(plan, layer, stage?)` (core/graph/plan.ts) applies it to a pipeline or
 * to one stage as a child container.
 */
export interface Bindings {
  methods?: Record<string, BoundMethod>;
  services?: Record<string, ServiceProvider>;
}

function checkMethodBinding(kind: string, b: BoundMethod): void {
  const p = b?.plugin as Partial<MethodPlugin> | undefined;
  if (!p || typeof p.id !== 'string' || typeof p.version !== 'string' || typeof p.create !== 'function')
    throw new Error(`the binding of method "${kind}" is not a method binding {kind, plugin, config} (use methodBinding(plugin, config)), so it could not enter the memo key`);
  if (p.kind !== kind) throw new Error(`method "${kind}" is bound to ${p.id}, a method of kind "${p.kind}"`);
}

function checkServiceProvider(name: string, s: ServiceProvider): void {
  if (!s || typeof s.id !== 'string' || typeof s.version !== 'string' || typeof s.create !== 'function')
    throw new Error(`the binding of service "${name}" is not a service provider {name, id, version, create(ctx)}, so it could not enter the memo key`);
}

/** Bind a layer into a container (the container's own bindings; its parent's stay visible below them). */
export function bindLayer(container: Container, layer: Bindings): Container {
  for (const [kind, b] of Object.entries(layer.methods ?? {})) {
    checkMethodBinding(kind, b);
    container.bind(methodToken(kind)).toConstantValue(b);
  }
  for (const [name, s] of Object.entries(layer.services ?? {})) {
    checkServiceProvider(name, s);
    container.bind(serviceToken(name)).toConstantValue(s);
  }
  return container;
}

/** A child container of `parent` holding `layer`. */
export function childContainer(parent: Container, layer: Bindings = {}): Container {
  return bindLayer(new Container({ parent }), layer);
}

/** The method bound to `kind` as `container` resolves it (the nearest binding), or undefined. */
export function resolveMethod(container: Container, kind: string): BoundMethod | undefined {
  const t = methodToken(kind);
  if (!container.isBound(t)) return undefined;
  const b = container.get<BoundMethod>(t);
  checkMethodBinding(kind, b);
  return b;
}

/** The service provider bound to `name` as `container` resolves it, or undefined. */
export function resolveService(container: Container, name: string): ServiceProvider | undefined {
  const t = serviceToken(name);
  if (!container.isBound(t)) return undefined;
  const s = container.get<ServiceProvider>(t);
  checkServiceProvider(name, s);
  return s;
}

/** The memo-key material of a method binding (the same shape as before containers: id, version, config). */
export const methodIdentity = (m: BoundMethod) => ({ id: m.plugin.id, version: m.plugin.version, config: m.config });
