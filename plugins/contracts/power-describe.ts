/**
 * Static descriptions of the power-spectrum stages (StagePlugin.describe of the `linear-power` and
 * `nonlinear-power` ports), known before compute:
 *   {z_min, z_max, k_min, k_max, paths}
 * the (z, k) range of the P(k, z) grid the stage will output [k in 1/Mpc], with the config paths that set
 * them, so that a consumer (the Limber stage) can name the field to change when the grid does not cover what
 * it needs. A stage computing P at the background's redshifts also reports a grid beyond the background's.
 */
import type { DescribeContext, StaticDescription } from '../../core/plugin/types.js';
import { inputDescription, num, pathOf, setBy, type Described } from './describe.js';
import { type KGridConfig, type ZGridConfig, configuredGridSizeProblems, gridSizeProblems, kCount } from './power-grid-spec.js';
import { readGridTables, type PowerGridFileConfig } from './power-table.js';

/**
 * The grid of a stage configured by `k` and `z` blocks (power-grid-spec.ts: linear-power/eisenstein-hu,
 * linear-power/boltzmann). With `background: true` the stage evaluates the background at its z grid, which
 * must then reach z.z_max.
 */
export function describeConfiguredGrid(config: { k: KGridConfig; z: ZGridConfig }, ctx: DescribeContext, opts: { background: boolean }): Described {
  const size = configuredGridSizeProblems(config.k, config.z);
  if (size.length) return { problems: size };
  const description: StaticDescription = {
    z_min: 0, z_max: config.z.z_max, k_min: config.k.k_min, k_max: config.k.k_max,
    paths: { z_max: 'with.z.z_max', k_min: 'with.k.k_min', k_max: 'with.k.k_max' },
  };
  const bg = opts.background ? inputDescription(ctx, 'background') : undefined;
  const bgTop = num(bg?.z_max);
  if (bgTop !== undefined && config.z.z_max > bgTop)
    return {
      problems: [
        `with.z.z_max: ${config.z.z_max} lies beyond the background's grid, which reaches z = ${bgTop}${setBy(bg, 'z_max')}; ` +
          "lower with.z.z_max or raise the background stage's z_max",
      ],
    };
  return { description };
}

/**
 * A stage on its linear input's grid (nonlinear-power/halofit, nonlinear-power/linear): the input's
 * description passes on (its paths still name the linear stage's fields). With `background: true` the
 * background must reach the top of that grid.
 */
export function describeOnLinearGrid(ctx: DescribeContext, opts: { background: boolean }): Described {
  const lin = inputDescription(ctx, 'linear');
  if (!lin) return {};
  const bg = opts.background ? inputDescription(ctx, 'background') : undefined;
  const bgTop = num(bg?.z_max), linTop = num(lin.z_max);
  if (bgTop !== undefined && linTop !== undefined && linTop > bgTop * (1 + 1e-12)) {
    const at = pathOf(bg, 'z_max', ctx, 'background');
    return {
      problems: [
        `${at}: ${bgTop} does not reach the top of the linear P(k) grid, z = ${linTop}${setBy(lin, 'z_max')}, ` +
          "at which this stage evaluates the background; raise the background stage's z_max or lower the linear grid's",
      ],
    };
  }
  return { description: lin };
}

/**
 * A `grid` stage (a P(k, z) table file): the table is read (and so validated) once here; the grid is the
 * table's own or the config's interpolated one, which must lie inside the table (in k unless extrapolating).
 */
export function describePowerGridFile(config: PowerGridFileConfig, ctx: DescribeContext): Described {
  let t;
  try {
    // both tables when a CDM + baryon one is given (with.cb_file): their k and z must agree; with.matter: 'cb' needs one
    const tables = readGridTables(config, ctx.baseDir ?? process.cwd(), ctx.params.h);
    t = (config.matter ?? 'total') === 'cb' ? tables.cb! : tables.total;
  } catch (e) {
    return { problems: [(e as Error).message] };
  }
  const tk = t.k_1overMpc, tz = t.z;
  const table = { k_min: tk[0], k_max: tk[tk.length - 1], z_min: tz[0], z_max: tz[tz.length - 1] };
  const problems: string[] = [];
  const paths: Record<string, string> = { z_min: 'with.file', z_max: 'with.file', k_min: 'with.file', k_max: 'with.file' };
  const d = { ...table };
  if (config.z !== 'native' && config.z !== undefined) {
    d.z_min = 0;
    paths.z_min = 'with.z';
    if (config.z.z_max !== undefined) { d.z_max = config.z.z_max; paths.z_max = 'with.z.z_max'; }
    if (d.z_min < table.z_min || d.z_max > table.z_max)
      problems.push(`with.z: the grid [${d.z_min}, ${d.z_max}] reaches outside the table's redshifts [${table.z_min}, ${table.z_max}] (${config.file}); a table is never extrapolated in z`);
  }
  let nk = tk.length, nz = tz.length;
  if (config.k !== 'native' && config.k !== undefined) {
    if (config.k.k_min !== undefined) { d.k_min = config.k.k_min; paths.k_min = 'with.k.k_min'; }
    if (config.k.k_max !== undefined) { d.k_max = config.k.k_max; paths.k_max = 'with.k.k_max'; }
    if (!(d.k_max > d.k_min))
      problems.push(`${paths.k_max === 'with.k.k_max' ? 'with.k.k_max' : 'with.k.k_min'}: the grid's k_max = ${d.k_max} must be larger than its k_min = ${d.k_min} 1/Mpc (the table spans [${table.k_min}, ${table.k_max}] 1/Mpc)`);
    else {
      if (!config.extrapolate && (d.k_min < table.k_min * (1 - 1e-12) || d.k_max > table.k_max * (1 + 1e-12)))
        problems.push(`with.k: the grid [${d.k_min}, ${d.k_max}] 1/Mpc reaches outside the table's k range [${table.k_min}, ${table.k_max}] 1/Mpc; narrow it or set with.extrapolate: true`);
      nk = kCount({ k_min: d.k_min, k_max: d.k_max, per_decade: config.k.per_decade ?? 100 });
    }
  }
  if (config.z !== 'native' && config.z !== undefined) nz = config.z.count ?? 41;
  problems.push(...gridSizeProblems(nk, nz, { k: config.k === 'native' ? null : 'with.k.per_decade', z: config.z === 'native' ? null : 'with.z.count', fixed: 'with.file' }));
  // the redshifts written to pk.tsv must lie in the grid (it is never extrapolated in z)
  (config.output_z ?? []).forEach((z, i) => {
    if (!(z >= d.z_min - 1e-12 * Math.max(1, d.z_max) && z <= d.z_max * (1 + 1e-12)))
      problems.push(`with.output_z[${i}]: ${z} is outside the grid's redshifts [${d.z_min}, ${d.z_max}]${paths.z_max === 'with.file' ? ` (the table ${config.file})` : ''}; pk.tsv is written only inside it`);
  });
  return problems.length ? { problems } : { description: { ...d, paths } };
}
