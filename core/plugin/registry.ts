/**
 * The plugin registry: an inversify container holding every stage and method plugin under a token
 * derived from its id. Stages get their numerical methods from a child container in which the abstract
 * method tokens (`integrator`, `ode-solver`, `differentiator`) are bound to the pipeline's choice.
 */
import 'reflect-metadata';
import { Container } from 'inversify';
import { compile } from '../schema/ajv.js';
import { PLUGIN_API_VERSION, isMethodPlugin, type AnyPlugin, type MethodPlugin, type PortContract, type StagePlugin } from './types.js';

export const pluginToken = (id: string) => Symbol.for(`cosmodag:plugin:${id}`);
/** The abstract token a stage asks for: ctx.method('integrator') resolves methodToken('integrator'). */
export const methodToken = (kind: string) => Symbol.for(`cosmodag:method:${kind}`);

export interface RegisteredPlugin {
  plugin: AnyPlugin;
  /** Module it came from (package name or path). */
  source: string;
}

export class PluginRegistry {
  readonly container = new Container();
  private readonly entries = new Map<string, RegisteredPlugin>();
  private readonly contracts = new Map<string, { contract: PortContract; source: string }>();

  /** Register the output contract of a port (one per port; a module may declare contracts for new ports). */
  registerPort(contract: PortContract, source: string): void {
    const c = contract as Partial<PortContract> | null;
    const problems: string[] = [];
    if (!c || typeof c !== 'object') problems.push('is not an object');
    else {
      if (typeof c.port !== 'string' || !/^[a-z0-9-]+$/.test(c.port)) problems.push('port must be a port name such as "background"');
      if (typeof c.description !== 'string') problems.push('description (a string) is missing');
      if (typeof c.check !== 'function') problems.push('check(output) is missing');
    }
    if (problems.length) throw new Error(`port contract ${JSON.stringify(c?.port ?? '?')} from ${source}: ${problems.join('; ')}`);
    const prior = this.contracts.get(contract.port);
    if (prior) {
      if (prior.contract === contract) return;
      throw new Error(`the contract of port "${contract.port}" from ${source} is already registered by ${prior.source}`);
    }
    this.contracts.set(contract.port, { contract, source });
  }

  /** The output contract of a port, if one is registered. */
  portContract(port: string): PortContract | undefined {
    return this.contracts.get(port)?.contract;
  }

  /** Every registered port contract, by port name. */
  portContracts(): { contract: PortContract; source: string }[] {
    return [...this.contracts.values()].sort((a, b) => a.contract.port.localeCompare(b.contract.port));
  }

  /** Register a descriptor after checking its shape; a bad descriptor is an error naming its source. */
  register(plugin: AnyPlugin, source: string): void {
    const problems = describeProblems(plugin);
    if (problems.length) throw new Error(`plugin ${JSON.stringify((plugin as any)?.id ?? '?')} from ${source}: ${problems.join('; ')}`);
    const prior = this.entries.get(plugin.id);
    if (prior) {
      if (prior.plugin === plugin) return;
      throw new Error(`plugin id ${plugin.id} from ${source} is already registered by ${prior.source}`);
    }
    this.entries.set(plugin.id, { plugin, source });
    this.container.bind(pluginToken(plugin.id)).toConstantValue(plugin);
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  stage(id: string): StagePlugin | undefined {
    if (!this.container.isBound(pluginToken(id))) return undefined;
    const p = this.container.get<AnyPlugin>(pluginToken(id));
    return isMethodPlugin(p) ? undefined : p;
  }

  method(kind: string, name: string): MethodPlugin | undefined {
    const id = `${kind}/${name}`;
    if (!this.container.isBound(pluginToken(id))) return undefined;
    const p = this.container.get<AnyPlugin>(pluginToken(id));
    return isMethodPlugin(p) ? p : undefined;
  }

  list(): RegisteredPlugin[] {
    return [...this.entries.values()].sort((a, b) => a.plugin.id.localeCompare(b.plugin.id));
  }

  stagesOfPort(port: string): StagePlugin[] {
    return this.list().map((r) => r.plugin).filter((p): p is StagePlugin => !isMethodPlugin(p) && p.port === port);
  }

  methodsOfKind(kind: string): MethodPlugin[] {
    return this.list().map((r) => r.plugin).filter((p): p is MethodPlugin => isMethodPlugin(p) && p.kind === kind);
  }

  /** A child container with the given method instances bound to their abstract tokens. */
  scope(methods: Record<string, unknown>): Container {
    const child = new Container({ parent: this.container });
    for (const [kind, instance] of Object.entries(methods)) child.bind(methodToken(kind)).toConstantValue(instance);
    return child;
  }
}

function describeProblems(p: any): string[] {
  const out: string[] = [];
  if (!p || typeof p !== 'object') return ['is not an object'];
  if (p.apiVersion !== PLUGIN_API_VERSION)
    out.push(`declares apiVersion ${JSON.stringify(p.apiVersion)}, but this cosmodag speaks apiVersion ${PLUGIN_API_VERSION}`);
  if (typeof p.id !== 'string' || !/^[a-z0-9-]+\/[A-Za-z0-9_.-]+$/.test(p.id)) out.push(`id must look like "port/method"`);
  if (typeof p.version !== 'string') out.push('version (a string) is missing');
  const kind = isMethodPlugin(p) ? p.kind : p.port;
  if (typeof kind !== 'string') out.push(isMethodPlugin(p) ? 'kind is missing' : 'port is missing');
  else if (typeof p.id === 'string' && !p.id.startsWith(kind + '/')) out.push(`id ${p.id} must start with its ${isMethodPlugin(p) ? 'kind' : 'port'} "${kind}/"`);
  if (!p.configSchema || typeof p.configSchema !== 'object') out.push('configSchema (a JSON Schema object) is missing');
  else {
    try { compile(p.configSchema); } catch (e) { out.push(`configSchema does not compile: ${(e as Error).message}`); }
  }
  if (!isMethodPlugin(p)) {
    if (typeof p.run !== 'function') out.push('run(ctx) is missing');
    if (!p.inputs || (typeof p.inputs !== 'object' && typeof p.inputs !== 'function')) out.push('inputs (an object, maybe {}, or a function of the config) is missing');
    if (!p.reads || (typeof p.reads !== 'object' && typeof p.reads !== 'function')) out.push('reads (parameter specs or a function of the config) is missing');
    if (p.describe !== undefined && typeof p.describe !== 'function') out.push('describe, when given, must be a function (config, ctx) => {description, problems}');
    if (!['forward', 'forward+reverse', 'none'].includes(p.differentiable)) out.push(`differentiable must be 'forward', 'forward+reverse' or 'none'`);
  } else if (typeof p.create !== 'function') out.push('create(config) is missing');
  return out;
}
