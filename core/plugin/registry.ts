/**
 * The plugin registry: the root inversify container, holding every stage and method plugin under a token
 * derived from its id and the default service providers of the loaded modules (`parameters` from core,
 * `cosmology` from the built-in plugins). Each planned pipeline gets a child container in which the abstract
 * method tokens (`integrator`, `ode-solver`, `differentiator`) are bound to its choice, and each stage a child of
 * that one (core/plugin/bindings.ts).
 */
import 'reflect-metadata';
import { Container } from 'inversify';
import { ajv } from '../schema/ajv.js';
import { PLUGIN_API_VERSION, isMethodPlugin, type AnyPlugin, type MethodPlugin, type PortContract, type ServiceProvider, type StagePlugin } from './types.js';
import { childContainer, methodToken, serviceToken, type Bindings } from './bindings.js';

export const pluginToken = (id: string) => Symbol.for(`cosmodag:plugin:${id}`);
export { methodToken, serviceToken };

/**
 * The core service `parameters`: the values, at this evaluation (stencil points included), of the parameters
 * the stage reads, and only those (so that the memo key, which holds exactly them, stays the truth).
 */
export const parametersService: ServiceProvider<Readonly<Record<string, number>>> = {
  name: 'parameters',
  id: 'core/parameters',
  version: '1',
  description: 'the values of the parameters the stage reads, at this evaluation',
  create: (ctx, stage) => Object.freeze(Object.fromEntries(stage.reads.map((n) => [n, ctx.param(n).v]))),
};

export interface RegisteredPlugin {
  plugin: AnyPlugin;
  /** Module it came from (package name or path). */
  source: string;
}

export class PluginRegistry {
  readonly container = new Container();
  private readonly entries = new Map<string, RegisteredPlugin>();
  private readonly contracts = new Map<string, { contract: PortContract; source: string }>();
  private readonly serviceEntries = new Map<string, { provider: ServiceProvider; source: string }>();

  constructor() {
    this.registerService(parametersService, 'cosmodag (core)');
  }

  /** Register the default provider of a service (one per name), bound in the registry's container. */
  registerService(provider: ServiceProvider, source: string): void {
    const s = provider as Partial<ServiceProvider> | null;
    const problems: string[] = [];
    if (!s || typeof s !== 'object') problems.push('is not an object');
    else {
      if (typeof s.name !== 'string' || !/^[a-z0-9-]+$/.test(s.name)) problems.push('name must be a service name such as "cosmology"');
      if (typeof s.id !== 'string') problems.push('id (a string) is missing');
      if (typeof s.version !== 'string') problems.push('version (a string) is missing');
      if (typeof s.create !== 'function') problems.push('create(ctx, stage) is missing');
    }
    if (problems.length) throw new Error(`service ${JSON.stringify(s?.name ?? '?')} from ${source}: ${problems.join('; ')}`);
    const prior = this.serviceEntries.get(provider.name);
    if (prior) {
      if (prior.provider === provider) return;
      throw new Error(`service "${provider.name}" from ${source} is already provided by ${prior.source}; override it for a pipeline or a stage in a child container (withBindings)`);
    }
    this.serviceEntries.set(provider.name, { provider, source });
    this.container.bind(serviceToken(provider.name)).toConstantValue(provider);
  }

  /** Every registered service provider, by name. */
  services(): { provider: ServiceProvider; source: string }[] {
    return [...this.serviceEntries.values()].sort((a, b) => a.provider.name.localeCompare(b.provider.name));
  }

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

  /** A pipeline's container: a child of the registry's holding `layer` (its method bindings). */
  pipelineContainer(layer: Bindings = {}): Container {
    return childContainer(this.container, layer);
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
    // checked against the JSON Schema meta-schema here; compiled when a pipeline first uses the plugin (compiling all
    // ~30 built-in schemas at every start cost each process and sweep thread ~0.15 s)
    if (!ajv.validateSchema(p.configSchema)) out.push(`configSchema is not a valid JSON Schema: ${ajv.errorsText(ajv.errors)}`);
  }
  if (!isMethodPlugin(p)) {
    if (typeof p.run !== 'function') out.push('run(ctx) is missing');
    if (!p.inputs || (typeof p.inputs !== 'object' && typeof p.inputs !== 'function')) out.push('inputs (an object, maybe {}, or a function of the config) is missing');
    if (!p.reads || (typeof p.reads !== 'object' && typeof p.reads !== 'function')) out.push('reads (parameter specs or a function of the config) is missing');
    if (p.describe !== undefined && typeof p.describe !== 'function') out.push('describe, when given, must be a function (config, ctx) => {description, problems}');
    if (p.services !== undefined && !(Array.isArray(p.services) && p.services.every((x: unknown) => typeof x === 'string'))) out.push('services, when given, must be a list of service names');
    if (p.streamFile !== undefined && typeof p.streamFile !== 'function') out.push('streamFile, when given, must be a function (file, ctx) => ChunkWriter | undefined');
    if (p.outputFiles !== undefined && typeof p.outputFiles !== 'function') out.push('outputFiles, when given, must be a function (file, ctx) => string[]');
    if (!['forward', 'forward+reverse', 'none'].includes(p.differentiable)) out.push(`differentiable must be 'forward', 'forward+reverse' or 'none'`);
  } else if (typeof p.create !== 'function') out.push('create(config) is missing');
  return out;
}
