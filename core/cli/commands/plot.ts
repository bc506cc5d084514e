import { Args, Command, Flags } from '@oclif/core';
import path from 'node:path';
import fs from 'node:fs';
import { reportError } from '../errors.js';
import { registryFor } from '../../graph/runtime.js';
import { OutputWriter } from '../../graph/write-outputs.js';
import { isMethodPlugin } from '../../plugin/types.js';

export default class Plot extends Command {
  static override description = 'Redraw the plots of a run (cl.png/svg, fisher.png/svg, ...) from the files in its output directory.';
  static override args = { dir: Args.string({ required: true, description: 'output directory of a run' }) };
  static override flags = {
    plugin: Flags.string({ multiple: true, description: 'also load this plugin module (for its plots)' }),
    params: Flags.string({ description: 'comma-separated parameters for the triangle plot (fisher.png), e.g. Omega_m,sigma8,w0,wa (default: the run\'s with.plot_params, else the cosmological ones)' }),
    reference: Flags.string({ description: 'a reference table in the layout of pk.tsv (k_1overMpc, P_z<z>_Mpc3 ...): P(k) plots get a ratio panel against it' }),
    force: Flags.boolean({ description: 'overwrite plot files that cosmodag did not write' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Plot);
    try {
      const dir = path.resolve(args.dir);
      if (!fs.existsSync(dir)) throw new Error(`${args.dir} does not exist`);
      const registry = await registryFor({ plugins: flags.plugin ?? [] });
      const writer = new OutputWriter(dir, 'plot', flags.force);
      let n = 0;
      const drawn = new Set<unknown>(); // a hook shared by several plugins (every power stage's) is called once
      for (const { plugin } of registry.list()) {
        // eslint-disable-next-line @typescript-eslint/unbound-method -- its identity only; it is called on the plugin below
        if (isMethodPlugin(plugin) || !plugin.redraw || drawn.has(plugin.redraw)) continue;
        // eslint-disable-next-line @typescript-eslint/unbound-method -- as above
        drawn.add(plugin.redraw);
        const files = await plugin.redraw(dir, { params: flags.params?.split(',').map((x) => x.trim()).filter(Boolean), reference: flags.reference ? path.resolve(flags.reference) : undefined });
        for (const [f, data] of Object.entries(files ?? {})) { this.log(`wrote ${writer.write(f, data)}`); n++; }
      }
      if (!n) throw new Error(`nothing to plot in ${args.dir}: no file there is one a plugin knows how to draw (cl.tsv + cl.json, fisher.tsv + fisher.json, pk.tsv, pk_nl.tsv)`);
    } catch (e) {
      this.exit(reportError(e));
    }
  }
}
