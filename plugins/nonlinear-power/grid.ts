/**
 * `nonlinear-power/grid`: the non-linear P(k, z) from a table file (format in docs/power.md), e.g. CLASS's
 * `pk_nl_halofit.tsv` or an emulator's output. Same reader and interpolation as linear-power/grid.
 *
 * The table does not depend on the cosmological parameters: its P carries no tangent (zero derivative).
 * h is read only to convert (Mpc/h)-unit tables, at its value.
 */
import { PLUGIN_API_VERSION, type ParameterSpec, type StagePlugin } from '../../core/plugin/types.js';
import type { PowerGrid } from '../contracts/power.js';
import {
  H_UNIT_SPEC, type PowerGridFileConfig, formatPowerGridAt, powerGridFromFile, powerGridFileSchema,
} from '../contracts/power-table.js';

export const nonlinearPowerGrid: StagePlugin<PowerGridFileConfig, {}, PowerGrid> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'nonlinear-power/grid',
  version: '1.0.0',
  port: 'nonlinear-power',
  description:
    'Non-linear P(k, z) read from a TSV table (ours or CLASS\'s), interpolated cubically in (ln k, ln P) and in ln(1+z); ' +
    'a fixed table: P does not depend on the cosmological parameters (zero tangents).',
  configSchema: powerGridFileSchema,
  inputs: {},
  reads: (config): Record<string, ParameterSpec> => (config.h_units === false ? {} : { h: H_UNIT_SPEC }),
  differentiable: 'forward',

  run(ctx): PowerGrid {
    const h = ctx.config.h_units === false ? undefined : ctx.param('h').v;
    return powerGridFromFile('nonlinear-power/grid', ctx.config, h);
  },

  write(output, file, { config }) {
    return { [file]: formatPowerGridAt(output, config.output_z ? Float64Array.from(config.output_z) : output.z) };
  },
};
