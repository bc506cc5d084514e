/**
 * The files of a sampling run, from the chains' stored draws (post warm-up):
 *
 *   chain_1.txt, chain_2.txt, ...  getdist's plain-text chains (root `chain`): one row per draw,
 *                                  `weight  -ln(posterior)  theta_1 ... theta_n`, weight 1, the posterior in the
 *                                  physical parameters (ln L + ln prior; no Jacobian), whitespace separated
 *   chain.paramnames               `name  latex` per parameter (the pipeline's `latex`)
 *   chain.ranges                   `name  lo  hi` per parameter: the support (prior range), `N` for no bound
 *                                  (the format of getdist's README: "Samples and chain files")
 *   samples.tsv                    every post-warm-up draw: chain, iteration, walker, minus_log_post, lnL_plus_prior... 
 *   summary.tsv                    parameter, mean, sd, lo68, hi68, lo95, hi95, rhat, ess_bulk, ess_tail
 *   posterior.svg / .png           triangle plot of the samples of the cosmological parameters, the Fisher ellipses overlaid
 *   sample.json                    settings, seeds, per-chain statistics, diagnostics
 *
 * An ensemble chain's walkers are kept as separate series for the diagnostics (as ArviZ does with emcee's walkers)
 * and written to its chain file iteration by iteration.
 */
import { latexToMarkup, sampleTriangleSvg } from '../plot/sample-triangle.js';
import { triangleParameters } from '../../plugins/likelihood/plot-fisher.js';
import { toPng } from '../plot/png.js';
import { summarizeParameter, type ParameterSummary } from './diagnostics.js';
import type { StoredDraw } from './checkpoint.js';
import type { SampledParameter } from './priors.js';
import type { ParameterMap } from './transforms.js';

export interface ChainDraws {
  chain: number;
  /** Post-warm-up draws in order (iteration, then walker). */
  draws: StoredDraw[];
}

/** The physical draws of each series (chain, walker): series[s][i] is parameter i's draws. */
export function physicalSeries(chains: readonly ChainDraws[], map: ParameterMap): { key: string; columns: Float64Array[] }[] {
  const out: { key: string; columns: Float64Array[] }[] = [];
  for (const c of chains) {
    const walkers = [...new Set(c.draws.map((d) => d.walker))].sort((a, b) => a - b);
    for (const w of walkers) {
      const ds = c.draws.filter((d) => d.walker === w);
      const columns = Array.from({ length: map.dim }, () => new Float64Array(ds.length));
      ds.forEach((d, k) => {
        const th = map.toPhysical(d.x);
        for (let i = 0; i < map.dim; i++) columns[i][k] = th[i];
      });
      out.push({ key: `${c.chain}.${w}`, columns });
    }
  }
  return out;
}

/** The series cut to a common length (the shortest), as the diagnostics need. */
export function equalLength(series: readonly { columns: Float64Array[] }[], dim: number): Float64Array[][] {
  // a series without draws (a chain stopped during its warm-up) is left out
  const kept = series.filter((s) => (s.columns[0]?.length ?? 0) > 0);
  const n = Math.min(...kept.map((s) => s.columns[0].length));
  return Array.from({ length: dim }, (_, i) => kept.map((s) => s.columns[i].subarray(0, n)));
}

/** Per parameter: summary of the series (cut to a common length). */
export function summarize(names: readonly string[], series: readonly { columns: Float64Array[] }[]): (ParameterSummary & { parameter: string })[] {
  const perParam = equalLength(series, names.length);
  return names.map((parameter, i) => ({ parameter, ...summarizeParameter(perParam[i]) }));
}

/** Running diagnostics for the progress line: the largest R-hat and the smallest bulk ESS (NaN when too few draws). */
export function runningDiagnostics(series: readonly { columns: Float64Array[] }[], dim: number): { rhatMax: number; essMin: number; draws: number; perSeries: number } {
  if (!series.some((s) => (s.columns[0]?.length ?? 0) > 0)) return { rhatMax: NaN, essMin: NaN, draws: 0, perSeries: 0 };
  const perParam = equalLength(series, dim);
  const n = perParam[0]?.[0]?.length ?? 0;
  if (n < 8) return { rhatMax: NaN, essMin: NaN, draws: n * series.length, perSeries: n };
  let rhatMax = -Infinity, essMin = Infinity;
  for (const chains of perParam) {
    const s = summarizeParameter(chains);
    rhatMax = Math.max(rhatMax, s.rhat);
    essMin = Math.min(essMin, s.essBulk);
  }
  return { rhatMax, essMin, draws: n * series.length, perSeries: n };
}

/** Shortest round-trip decimal: every double exactly, as getdist reads it. */
const num = (v: number) => String(v);
const fixed = (v: number, d = 6) => (Number.isFinite(v) ? Number(v.toPrecision(d)).toString() : 'nan');

export interface OutputInput {
  parameters: SampledParameter[];
  map: ParameterMap;
  chains: ChainDraws[];
  /** The Fisher covariance in the physical space (for the plot), and the point it is centred on. */
  fisher: { cov: Float64Array } | null;
  title: string;
}

/** getdist chain files, samples.tsv, summary.tsv, the triangle plot; and the summary rows. */
export async function sampleFiles(o: OutputInput): Promise<{ files: Record<string, string | Uint8Array>; summary: (ParameterSummary & { parameter: string })[] }> {
  const { parameters, map, chains } = o;
  const names = parameters.map((p) => p.name);
  const files: Record<string, string | Uint8Array> = {};
  const samplesRows = [['chain', 'iteration', 'walker', 'minus_log_post', ...names].join('\t')];
  for (const c of chains) {
    const rows: string[] = [];
    for (const d of c.draws) {
      const th = map.toPhysical(d.x);
      const mlp = -(d.logDensity - map.logJacobian(d.x)); // -(ln L + ln prior)
      rows.push(['1', num(mlp), ...Array.from(th, num)].join(' '));
      samplesRows.push([c.chain, d.iteration, d.walker, num(mlp), ...Array.from(th, num)].join('\t'));
    }
    files[`chain_${c.chain}.txt`] = rows.join('\n') + (rows.length ? '\n' : '');
  }
  files['chain.paramnames'] = parameters.map((p) => `${p.name}\t${p.latex}`).join('\n') + '\n';
  const bound = (v: number) => (Number.isFinite(v) ? String(v) : 'N');
  files['chain.ranges'] = parameters.map((p) => `${p.name}\t${bound(p.lower)}\t${bound(p.upper)}`).join('\n') + '\n';
  files['samples.tsv'] = samplesRows.join('\n') + '\n';

  const series = physicalSeries(chains, map);
  const summary = summarize(names, series);
  const cols = ['parameter', 'mean', 'sd', 'lo68', 'hi68', 'lo95', 'hi95', 'rhat', 'ess_bulk', 'ess_tail'];
  files['summary.tsv'] = [cols.join('\t'), ...summary.map((s) => [
    s.parameter, fixed(s.mean, 8), fixed(s.sd, 6), fixed(s.lo68, 8), fixed(s.hi68, 8), fixed(s.lo95, 8), fixed(s.hi95, 8),
    fixed(s.rhat, 5), fixed(s.essBulk, 5), fixed(s.essTail, 5),
  ].join('\t'))].join('\n') + '\n';

  // the triangle plot of all draws pooled: the cosmological parameters (as fisher.png shows them; all of them when
  // none is sampled): 19 panels a side made every label unreadable, and the nuisance parameters are in summary.tsv
  const total = series.reduce((a, s) => a + s.columns[0].length, 0);
  if (total >= 2) {
    const shown = triangleParameters(names).map((n) => names.indexOf(n));
    const columns = shown.map((i) => {
      const out = new Float64Array(total);
      let k = 0;
      for (const s of series) { out.set(s.columns[i], k); k += s.columns[i].length; }
      return out;
    });
    const D = names.length;
    const hidden = D - shown.length;
    const svg = sampleTriangleSvg(shown.map((i) => names[i]), columns, {
      title: o.title,
      labels: shown.map((i) => latexToMarkup(parameters[i].latex)),
      label: `posterior samples (${total}): 68%, 95%${hidden ? `; marginalized over ${hidden} other parameter${hidden > 1 ? 's' : ''} (summary.tsv)` : ''}`,
      gaussian: o.fisher ? { center: shown.map((i) => parameters[i].value), cov: shown.flatMap((i) => shown.map((j) => o.fisher!.cov[i * D + j])), label: 'Fisher at the fiducial: 68%, 95%' } : undefined,
      reference: shown.map((i) => parameters[i].value),
      bounds: shown.map((i) => [parameters[i].lower, parameters[i].upper]),
    });
    files['posterior.svg'] = svg;
    files['posterior.png'] = await toPng(svg);
  }
  return { files, summary };
}
