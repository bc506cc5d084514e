/**
 * Static descriptions of the `redshift-distribution` stages (StagePlugin.describe), known before compute:
 *   {nBins, z_min, z_max, zbar?, paths}
 * nBins: number of tomographic bins; [z_min, z_max]: the z grid of n_i(z) (what the weights' kernels and the
 * Limber integral will span); zbar: the bin centres when the config fixes them (bin-edge midpoints).
 * `paths` name the config fields that set them, so that a consumer can say what to change.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { StaticDescription } from '../../core/plugin/types.js';
import { resolveIstfConfig, type IstfPhotometricConfig } from './istf-photometric.js';
import { edgeMidpoints } from './photo-z-shift.js';
import type { TableConfig } from './table.js';

export function describeIstfPhotometric(config: Partial<IstfPhotometricConfig>): { description: StaticDescription } {
  const c = resolveIstfConfig(config);
  return {
    description: {
      nBins: c.binEdges.length - 1,
      z_min: c.zGrid.min,
      z_max: c.zGrid.max,
      zbar: Array.from(edgeMidpoints(c.binEdges)),
      zbarDefinition: 'bin-edge midpoint (e_i + e_{i+1})/2',
      paths: { nBins: 'with.binEdges', zbar: 'with.binEdges', z_min: 'with.zGrid.min', z_max: 'with.zGrid.max' },
    },
  };
}

const isComment = (t: string) => t === '' || t.startsWith('#');
const firstField = (line: string) => (line.includes('\t') ? line.split('\t', 1)[0] : line.trim().split(/\s+/, 1)[0]).trim();

/**
 * The table's bins and z range from its header and its first and last data rows only (no parse of the body;
 * `check` has already parsed and validated the file when describe runs).
 */
export function describeNzTable(config: TableConfig, ctx: { baseDir?: string }): { description?: StaticDescription; problems?: string[] } {
  const text = readFileSync(resolve(ctx.baseDir ?? process.cwd(), config.file), 'utf8');
  const lines = text.split(/\r?\n/);
  let first = -1, last = -1;
  for (let i = 0; i < lines.length; i++) if (!isComment(lines[i].trim())) { first = i; break; }
  for (let i = lines.length - 1; i >= 0; i--) if (!isComment(lines[i].trim())) { last = i; break; }
  if (first < 0) return { problems: [`with.file: ${config.file} has no data rows`] };
  const header = !Number.isFinite(Number(firstField(lines[first])));
  let firstData = first;
  if (header) for (firstData = first + 1; firstData <= last && isComment(lines[firstData].trim()); firstData++);
  const z_min = Number(firstField(lines[firstData] ?? ''));
  const z_max = Number(firstField(lines[last]));
  if (!Number.isFinite(z_min) || !Number.isFinite(z_max)) return {};
  const description: StaticDescription = {
    nBins: config.bins,
    z_min,
    z_max,
    paths: { nBins: 'with.bins', z_min: 'with.file', z_max: 'with.file' },
  };
  if (config.binEdges) {
    description.zbar = Array.from(edgeMidpoints(config.binEdges));
    description.zbarDefinition = 'bin-edge midpoint (e_i + e_{i+1})/2';
    description.paths!.zbar = 'with.binEdges';
  }
  return { description };
}
