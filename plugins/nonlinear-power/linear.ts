/**
 * `nonlinear-power/linear`: no non-linear correction, P_nl = P_lin (the same arrays, tangents included).
 * For linear-theory forecasts and for checking what the non-linear stage changes (CCL's
 * `matter_power_spectrum='linear'`, used by reference/ccl/fid_cl_3x2pt_linear.tsv).
 */
import { PLUGIN_API_VERSION, type StagePlugin } from '../../core/plugin/types.js';
import type { PowerGrid } from '../contracts/power.js';
import { formatPowerGridAt } from '../contracts/power-table.js';
import { describeOnLinearGrid } from '../contracts/power-describe.js';
import { redrawPowerTables } from '../contracts/power-plot.js';

export interface LinearPassConfig {
  output_z: number[];
}

export const nonlinearLinear: StagePlugin<LinearPassConfig, { linear: PowerGrid }, PowerGrid> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'nonlinear-power/linear',
  version: '1.0.0',
  port: 'nonlinear-power',
  description: 'Pass-through: the non-linear P(k, z) is the linear one (tangents included).',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      output_z: {
        type: 'array', minItems: 1, items: { type: 'number', minimum: 0 }, default: [0, 0.5, 1, 2, 3],
        description: 'redshifts of the P(k) columns written to pk.tsv (inside the linear grid)',
      },
    },
  },
  inputs: { linear: 'linear-power' },
  reads: {},
  differentiable: 'forward',
  describe: (_config, ctx) => describeOnLinearGrid(ctx, { background: false }),

  run(ctx): PowerGrid {
    const lin = ctx.inputs.linear;
    return { k_1overMpc: lin.k_1overMpc, z: lin.z, P_Mpc3: lin.P_Mpc3, source: `linear (${lin.source})` };
  },

  redraw: redrawPowerTables,
  write(output, file, { config }) {
    return { [file]: formatPowerGridAt(output, Float64Array.from(config.output_z)) };
  },
};
