/**
 * `linear-power/grid`: the linear P(k, z) from a table file (format in docs/power.md and contracts/power-table.ts),
 * e.g. CLASS's `pk_lin.tsv`. The table does not depend on the cosmological parameters: its P carries no tangent.
 */
import { powerGridFileStage } from '../contracts/power-table.js';

export const linearPowerGrid = powerGridFileStage(
  'linear-power',
  'Linear P(k, z) read from a TSV table (ours or CLASS\'s), interpolated cubically in (ln k, ln P) and in ln(1+z); ' +
    'a fixed table: P does not depend on the cosmological parameters (zero tangents).',
);
