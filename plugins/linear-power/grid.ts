/**
 * `linear-power/grid`: the linear P(k, z) from a table file (format in docs/power.md and power-table.ts),
 * e.g. CLASS's `pk_lin.tsv`.
 *
 * The table is a fixed function of (k, z): it does not depend on the pipeline's cosmological parameters,
 * so its P carries no tangent (zero derivative), which is the honest forward-mode answer. The one parameter
 * it reads, h, only converts a table written in (Mpc/h) units to Mpc units, at h's value.
 */
import { PLUGIN_API_VERSION, type ParameterSpec, type StagePlugin } from '../../core/plugin/types.js';
import type { PowerGrid } from '../contracts/power.js';
import { H_UNIT_SPEC, type PowerGridFileConfig, formatPowerGridAt, powerGridFromFile, powerGridFileSchema } from '../contracts/power-table.js';

export const linearPowerGrid: StagePlugin<PowerGridFileConfig, {}, PowerGrid> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'linear-power/grid',
  version: '1.0.0',
  port: 'linear-power',
  description:
    'Linear P(k, z) read from a TSV table (ours or CLASS\'s), interpolated cubically in (ln k, ln P) and in ln(1+z); ' +
    'a fixed table: P does not depend on the cosmological parameters (zero tangents).',
  configSchema: powerGridFileSchema,
  inputs: {},
  reads: (config): Record<string, ParameterSpec> => (config.h_units === false ? {} : { h: H_UNIT_SPEC }),
  differentiable: 'forward',

  run(ctx): PowerGrid {
    const h = ctx.config.h_units === false ? undefined : ctx.param('h').v;
    return powerGridFromFile('linear-power/grid', ctx.config, h);
  },

  write(output, file, { config }) {
    return { [file]: formatPowerGridAt(output, config.output_z ? Float64Array.from(config.output_z) : output.z) };
  },
};
