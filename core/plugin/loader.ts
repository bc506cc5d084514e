/**
 * Loads plugin modules — the built-ins and a pipeline's `plugins` list — through one path: a package
 * name or a file path (relative to the pipeline file). A module exports `plugins: AnyPlugin[]` (or a
 * default export of that array) and optionally `ports: PortContract[]`, the output contracts of ports (the
 * runtime checks every output of a stage filling such a port), and `services: ServiceProvider[]`, default
 * providers of services (bound in the registry's container: e.g. the built-ins' `cosmology`); every descriptor
 * is checked and registered.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyPlugin, PortContract, ServiceProvider } from './types.js';
import type { PluginRegistry } from './registry.js';
import { InputError, issue } from '../schema/input-error.js';

/** The built-in plugins are a package export of cosmodag itself, loaded like any third-party package. */
export const BUILTIN_PLUGINS = 'cosmodag/plugins';

function specifier(spec: string, baseDir: string): string {
  if (spec.startsWith('.') || path.isAbsolute(spec)) return pathToFileURL(path.resolve(baseDir, spec)).href;
  return spec;
}

export async function loadPluginModule(registry: PluginRegistry, spec: string, baseDir: string, jsonPath = 'plugins'): Promise<number> {
  let mod: any;
  try {
    mod = await import(specifier(spec, baseDir));
  } catch (e) {
    throw new InputError([issue(jsonPath, `cannot load plugin module ${JSON.stringify(spec)}: ${(e as Error).message.split('\n')[0]}`)]);
  }
  const ports: unknown = mod.ports;
  if (ports !== undefined && !Array.isArray(ports))
    throw new InputError([issue(jsonPath, `plugin module ${JSON.stringify(spec)} exports \`ports\`, but not as an array of port contracts`)]);
  for (const c of (ports ?? []) as PortContract[]) {
    try {
      registry.registerPort(c, spec);
    } catch (e) {
      throw new InputError([issue(jsonPath, (e as Error).message)]);
    }
  }
  const services: unknown = mod.services;
  if (services !== undefined && !Array.isArray(services))
    throw new InputError([issue(jsonPath, `plugin module ${JSON.stringify(spec)} exports \`services\`, but not as an array of service providers`)]);
  for (const sv of (services ?? []) as ServiceProvider[]) {
    try {
      registry.registerService(sv, spec);
    } catch (e) {
      throw new InputError([issue(jsonPath, (e as Error).message)]);
    }
  }
  const list: unknown = mod.plugins ?? mod.default ?? (ports || services ? [] : undefined);
  if (!Array.isArray(list))
    throw new InputError([issue(jsonPath, `plugin module ${JSON.stringify(spec)} exports no \`plugins\` array (nor a default array of descriptors)`)]);
  for (const p of list as AnyPlugin[]) {
    try {
      registry.register(p, spec);
    } catch (e) {
      throw new InputError([issue(jsonPath, (e as Error).message)]);
    }
  }
  return list.length;
}
