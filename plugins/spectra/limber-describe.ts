/**
 * Static checks of `spectra/limber` (StagePlugin.describe), before compute: every P(k, z) input some tracer
 * integrates through must cover the redshifts of the tracers' kernels, [z_min, z_max] of the wired tracer sets'
 * descriptions (the weights stages'), unless with.z_beyond_power = "growth" continues P above its grid. The
 * problem names the power stage's field that sets the grid's top (e.g. stages.linear.with.z.z_max, passed on
 * by the non-linear stage), which is what to change. The same condition fails at compute (checkCoverage).
 * Description: {tracers: [{name, family}]} (the likelihood checks its probe families against it) and, for bins by
 * edges, {ell_edges} (the likelihood checks that its l_min / l_max fall on edges).
 */
import type { DescribeContext, StaticDescription } from '../../core/plugin/types.js';
import { inputDescription, inputDescriptions, num, pathOf, setBy, type Described } from '../contracts/describe.js';
import type { LimberConfig } from './limber.js';
import { ellEdges, ellGridProblems } from './ell-grid.js';

interface TracerInfo { name?: unknown; family?: unknown; power?: unknown }

export function describeLimber(config: Partial<LimberConfig>, ctx: DescribeContext): Described {
  const ellProblems = ellGridProblems(config.ell, `stages.${ctx.stage}.with.ell`);
  if (ellProblems.length) return { problems: ellProblems };
  const edges = config.ell ? ellEdges(config.ell) : null;
  const binning = edges ? { ell_edges: Array.from(edges) } : {};
  const sets = inputDescriptions(ctx, 'tracers').filter((d): d is StaticDescription => d !== undefined);
  if (!sets.length) return edges ? { description: binning } : {};
  const tracers: TracerInfo[] = sets.flatMap((s) => (Array.isArray(s.tracers) ? (s.tracers as TracerInfo[]) : []));
  const map: Record<string, string> = config.power ?? {};
  let zLo = Infinity, zHi = -Infinity;
  let lo: StaticDescription | undefined, hi: StaticDescription | undefined;
  for (const s of sets) {
    const a = num(s.z_min), b = num(s.z_max);
    if (a !== undefined && a < zLo) { zLo = a; lo = s; }
    if (b !== undefined && b > zHi) { zHi = b; hi = s; }
  }
  // the power inputs the tracers integrate through (as powerInputOf: family, then power key, else "power")
  const used = new Set(tracers.map((t) => map[String(t.family)] ?? map[String(t.power)] ?? 'power'));
  if (!tracers.length) used.add('power');
  const problems: string[] = [];
  for (const input of used) {
    const p = inputDescription(ctx, input);
    if (!p) continue;
    const top = num(p.z_max), bottom = num(p.z_min);
    if ((config.z_beyond_power ?? 'error') === 'error' && top !== undefined && Number.isFinite(zHi) && top < zHi - 1e-12)
      problems.push(
        `${pathOf(p, 'z_max', ctx, input)}: the P(k, z) grid of input "${input}" of stage "${ctx.stage}" reaches z = ${top}, but the tracers' ` +
          `kernels extend to z = ${zHi}${setBy(hi, 'z_max')}; raise it to at least ${zHi} ` +
          `(or set stages.${ctx.stage}.with.z_beyond_power = "growth" to continue P with D(z)^2 above the grid)`,
      );
    if (bottom !== undefined && Number.isFinite(zLo) && bottom > zLo + 1e-12)
      problems.push(
        `${pathOf(p, 'z_min', ctx, input)}: the P(k, z) grid of input "${input}" of stage "${ctx.stage}" starts at z = ${bottom}, ` +
          `but the tracers' kernels start at z = ${zLo}${setBy(lo, 'z_min')}`,
      );
  }
  if (problems.length) return { problems };
  return { description: { tracers: tracers.map((t) => ({ name: String(t.name), family: String(t.family) })), ...binning } };
}
