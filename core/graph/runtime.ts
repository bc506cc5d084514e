/**
 * The front of the framework: load plugins (built-ins through the same loader as third-party modules),
 * plan a pipeline, execute it, write its outputs.
 */
import path from 'node:path';
import { PluginRegistry } from '../plugin/registry.js';
import { BUILTIN_PLUGINS, loadPluginModule } from '../plugin/loader.js';
import { InputError, issue, type Issue } from '../schema/input-error.js';
import { planPipeline, type Plan } from './plan.js';
import type { Pipeline } from './pipeline.js';

export interface LoadOptions {
  /** Directory relative plugin paths are resolved against (the pipeline file's). */
  baseDir?: string;
  /** Load the built-in plugins (default true). */
  builtins?: boolean;
}

/** A registry with the built-ins and the plugin modules a pipeline lists. */
export async function registryFor(pipeline: unknown, opts: LoadOptions = {}): Promise<PluginRegistry> {
  const registry = new PluginRegistry();
  if (opts.builtins !== false) await loadPluginModule(registry, BUILTIN_PLUGINS, process.cwd(), '(built-in plugins)');
  const list = (pipeline as Pipeline)?.plugins;
  if (Array.isArray(list)) {
    const problems: Issue[] = [];
    for (const [i, spec] of list.entries()) {
      if (typeof spec !== 'string') continue; // the schema reports it
      try {
        await loadPluginModule(registry, spec, opts.baseDir ?? process.cwd(), `plugins[${i}]`);
      } catch (e) {
        if (e instanceof InputError) problems.push(...e.issues);
        else problems.push(issue(`plugins[${i}]`, (e as Error).message));
      }
    }
    if (problems.length) throw new InputError(problems);
  }
  return registry;
}

export async function loadAndPlan(pipeline: unknown, opts: LoadOptions = {}): Promise<{ plan: Plan; registry: PluginRegistry }> {
  const registry = await registryFor(pipeline, opts);
  return { plan: planPipeline(pipeline, registry, opts.baseDir ?? process.cwd()), registry };
}

export const dirOf = (file: string) => path.dirname(path.resolve(file));
