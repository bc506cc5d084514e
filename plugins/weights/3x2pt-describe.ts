/**
 * Static description of `weights/3x2pt` (StagePlugin.describe), known before compute: the tracer set it will
 * produce, {tracers: [{name, family, power}], z_min, z_max, paths} (L1..Ln, family 'WL', then G1..Gn, family 'GC';
 * [z_min, z_max] the n(z) grid the kernels live on), and what does not fit its inputs:
 *   - with.bins against the number of bins the n(z) stage provides;
 *   - with.zbar (the default bias sqrt(1 + zbar_i)) against the n(z)'s bin centres, when the n(z) fixes them;
 *   - the background's z_max against the top of the n(z) grid (the kernels evaluate chi, H, D there).
 * The same conditions fail at compute today (threeByTwoPlugin.run); here they fail at `cosmodag validate`.
 */
import type { DescribeContext, StaticDescription } from '../../core/plugin/types.js';
import { inputDescription, num, pathOf, setBy, type Described } from '../contracts/describe.js';
import { resolveThreeByTwoConfig, threeByTwoTracers, type ThreeByTwoConfig } from './3x2pt.js';

export function describeThreeByTwo(config: Partial<ThreeByTwoConfig>, ctx: DescribeContext): Described {
  const c = resolveThreeByTwoConfig(config);
  const nz = inputDescription(ctx, 'nz');
  const bg = inputDescription(ctx, 'background');
  const from = `the n(z) stage "${String(ctx.providers.nz)}"`;
  const problems: string[] = [];

  const nB = num(nz?.nBins);
  if (nB !== undefined && c.bins !== nB)
    problems.push(
      `with.bins: ${c.bins}, but ${from} provides ${nB} bins${setBy(nz, 'nBins')}; set with.bins = ${nB}` +
        (c.clustering ? ` (and give ${nB} bin centres in with.zbar)` : ''),
    );
  else if (nB !== undefined && c.clustering) {
    const zbar = nz?.zbar;
    if (c.zbar.length !== nB) problems.push(`with.zbar: has ${c.zbar.length} entries, but ${from} provides ${nB} bins; give one bin centre per bin`);
    else if (Array.isArray(zbar) && zbar.length === nB) {
      let d = 0;
      for (let i = 0; i < nB; i++) d = Math.max(d, Math.abs(c.zbar[i] - Number(zbar[i])));
      if (!(d <= 1e-9))
        problems.push(
          `with.zbar: [${c.zbar.join(', ')}] (default galaxy bias sqrt(1 + zbar_i)) differs from ${from}'s bin centres ` +
            `[${zbar.join(', ')}]${typeof nz?.zbarDefinition === 'string' ? ` (${nz.zbarDefinition})` : ''}${setBy(nz, 'zbar')}; set with.zbar to the latter`,
        );
    }
  }

  const zTop = num(nz?.z_max), bgTop = num(bg?.z_max);
  if (zTop !== undefined && bgTop !== undefined && zTop > bgTop * (1 + 1e-12))
    problems.push(
      `${pathOf(bg, 'z_max', ctx, 'background')}: ${bgTop} does not reach the top of the n(z) grid, z = ${zTop}${setBy(nz, 'z_max')}, ` +
        "where the weights evaluate the background; raise the background stage's z_max",
    );
  if (problems.length) return { problems };

  const description: StaticDescription = { tracers: threeByTwoTracers(c).map((t) => ({ name: t.name, family: t.family, power: t.power })) };
  if (nz) {
    const paths: Record<string, string> = {};
    for (const f of ['z_min', 'z_max'] as const) {
      if (num(nz[f]) === undefined) continue;
      description[f] = nz[f];
      if (nz.paths?.[f]) paths[f] = nz.paths[f];
    }
    description.paths = paths;
  }
  return { description };
}
