import { Command, Flags } from '@oclif/core';
import { reportError } from '../errors.js';
import { registryFor } from '../../graph/runtime.js';
import { isMethodPlugin, type JsonSchema } from '../../plugin/types.js';

/** One line per config field: name, type, default, description. */
function summarise(schema: JsonSchema | undefined): { field: string; type: string; default?: unknown; description?: string }[] {
  const fields = (schema?.properties ?? {}) as Record<string, { type?: string; enum?: unknown[]; anyOf?: unknown[]; default?: unknown; description?: string }>;
  return Object.entries(fields).map(([field, s]) => ({
    field, type: s.type ?? (s.enum ? `enum(${s.enum.join('|')})` : s.anyOf ? 'union' : 'any'), default: s.default, description: s.description,
  }));
}

export default class Plugins extends Command {
  static override description = 'List ports, plugins and methods, with a summary of each config schema.';
  static override flags = {
    json: Flags.boolean({ description: 'machine-readable output' }),
    plugin: Flags.string({ multiple: true, description: 'also load this plugin module (package name or path)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Plugins);
    try {
      const registry = await registryFor({ plugins: flags.plugin ?? [] });
      const rows = registry.list().map(({ plugin: p, source }) => ({
        id: p.id, version: p.version, kind: isMethodPlugin(p) ? 'method' : 'stage',
        port: isMethodPlugin(p) ? p.kind : p.port, description: p.description, source,
        inputs: isMethodPlugin(p) ? undefined : typeof p.inputs === 'function' ? '(depends on the config)' : p.inputs,
        differentiable: isMethodPlugin(p) ? undefined : p.differentiable,
        config: summarise(p.configSchema),
      }));
      if (flags.json) { this.log(JSON.stringify(rows, null, 2)); return; }
      let port = '';
      for (const r of rows.sort((a, b) => (a.kind + a.port).localeCompare(b.kind + b.port))) {
        if (r.port !== port) { port = r.port; this.log(`\n${r.kind === 'method' ? 'method' : 'port'} ${port}`); }
        this.log(`  ${r.id}@${r.version}  ${r.description}${r.differentiable ? `  [differentiable: ${r.differentiable}]` : ''}`);
        for (const c of r.config) this.log(`      ${c.field}: ${c.type}${c.default !== undefined ? ` = ${JSON.stringify(c.default)}` : ''}${c.description ? `  ${c.description}` : ''}`);
      }
    } catch (e) {
      this.exit(reportError(e));
    }
  }
}
