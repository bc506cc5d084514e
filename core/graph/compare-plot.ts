/**
 * Plots of a method comparison (core/graph/compare.ts), one figure per compared output table, of the **signed**
 * normalized differences (compare.ts: spectra (a - r)/sqrt(r_ii r_jj), a Fisher matrix (a - r)/sqrt(|F_ii F_jj|),
 * other tables (a - r)/|r|), so that one sees whether a variant is above or below the reference:
 *
 *  - a table with an axis (cl.tsv: ell): one thin line per column (per spectrum) against the axis, in the variant's
 *    colour, on a symmetric-log y axis (linear within the smallest decade shown); columns whose names share a
 *    prefix (LL_*, GL_*, GG_*: the probe families) get a panel each, on a shared y axis;
 *  - a table with labelled rows (sigmas.tsv, fisher.tsv): a dot plot, one row per label, one marker per variant at
 *    its signed difference (a symmetric-log x axis, zero marked), a panel per differing column (or the most
 *    extreme over the row when there are many columns).
 */
import { CATEGORY10, Figure, richWidth, svgText, toPng, type LegendEntry, type MarkerShape } from '../plot/index.js';
import { METRIC_TEXT, sci, type Comparison, type OutputComparison, type TableDiff } from './compare.js';

export interface ComparisonPlot {
  /** File stem, e.g. `compare-cl`. */
  name: string;
  svg: string;
  png: Uint8Array;
}

const SHAPES: MarkerShape[] = ['circle', 'square', 'triangle', 'diamond', 'cross', 'plus'];
const FS = 14;

/** Column groups by the name's leading letters (LL_1_2 -> LL), when that splits the columns usefully. */
function groups(columns: string[]): { name: string; idx: number[] }[] {
  const by = new Map<string, number[]>();
  columns.forEach((c, j) => {
    const m = /^([A-Za-z]+)[_\d]/.exec(c);
    const g = m ? m[1] : '';
    by.set(g, [...(by.get(g) ?? []), j]);
  });
  const list = [...by.entries()].map(([name, idx]) => ({ name, idx }));
  if (list.length >= 2 && list.length <= 6 && list.every((g) => g.name && g.idx.length >= 2)) return list;
  return [{ name: '', idx: columns.map((_, j) => j) }];
}

/** The SVG of a figure at least as wide as its title needs. */
function svgWithTitle(fig: Figure): string {
  let svg = fig.toSvg();
  const need = Math.ceil(richWidth(fig.opts.title ?? '', FS + 6, true) * 1.05 + 80);
  const have = Number(/<svg[^>]* width="(\d+)"/.exec(svg)?.[1] ?? need);
  if (have < need) {
    fig.opts.width = need;
    svg = fig.toSvg();
  }
  return svg;
}

const refLabel = (c: Comparison, file: string) =>
  c.reference.kind === 'file' ? `the reference ${c.reference.files[file].split('/').pop()}` : `the first variant (${c.reference.label})`;

/** A symmetric-log range around the signed values: ends +-10^ceil, linear within the smallest decade worth showing. */
function symRange(values: Iterable<number>): { lim: number; linthresh: number } {
  let big = 0;
  const mags: number[] = [];
  for (const v of values) if (Number.isFinite(v) && v !== 0) { const a = Math.abs(v); mags.push(a); if (a > big) big = a; }
  if (!(big > 0)) return { lim: 1e-14, linthresh: 1e-16 };
  const lim = 10 ** Math.ceil(Math.log10(big));
  mags.sort((x, y) => x - y);
  // linear below the 5th percentile of the nonzero magnitudes, at most 6 decades under the top
  const p5 = mags[Math.floor(0.05 * (mags.length - 1))];
  const linthresh = Math.max(10 ** Math.floor(Math.log10(p5)), lim * 1e-6);
  return { lim, linthresh: Math.min(linthresh, lim / 10) };
}

function axisFigure(c: Comparison, o: OutputComparison, shown: number[]): string {
  const d0 = o.diffs.find((d) => d)!;
  const axis = d0.axis!;
  const gs = groups(d0.columns);
  const range = symRange(shown.flatMap((i) => o.diffs[i]!.signed.flatMap((col) => [...col])));
  const fig = new Figure({
    rows: 1, cols: gs.length, panelWidth: gs.length > 1 ? 400 : 560, panelHeight: 340, sharey: 'row', fontSize: FS,
    title: `${c.pipelineName}: ${o.file} against ${refLabel(c, o.file)}`,
    yLabel: `signed ${METRIC_TEXT[d0.metric]}`,
    xLabel: axis.name,
  });
  const positive = axis.values.every((v) => v > 0);
  const logX = positive && axis.values[axis.values.length - 1] / axis.values[0] > 20;
  gs.forEach((g, col) => {
    const p = fig.panel(0, col)
      .setX({ scale: logX ? 'log' : 'linear', nice: false, min: axis.values[0], max: axis.values[axis.values.length - 1] })
      .setY({ scale: 'symlog', linthresh: range.linthresh, min: -range.lim, max: range.lim });
    if (g.name) p.setTitle(`${g.name} (${g.idx.length} spectra)`);
    p.hline(0, { color: '#888', width: 1 });
    shown.forEach((i, k) => {
      const color = CATEGORY10[k % CATEGORY10.length];
      const many = g.idx.length > 12;
      for (const j of g.idx) p.line(axis.values, o.diffs[i]!.signed[j], { color, width: many ? 0.8 : 1.6, opacity: many ? 0.55 : 1 });
    });
  });
  const entries: LegendEntry[] = shown.map((i, k) => ({
    label: `${c.variants[i].variant.label}${o.diffs[i]!.max === 0 ? '  (identical)' : `  (${sci(o.diffs[i]!.minSigned)} .. ${sci(o.diffs[i]!.maxSigned)})`}`,
    color: CATEGORY10[k % CATEGORY10.length], width: 2.4,
  }));
  entries.push({ label: `one line per column; y linear within +-${sci(range.linthresh, 0)}`, kind: 'none' });
  fig.legend(entries, { position: 'bottom' });
  return svgWithTitle(fig);
}

function labelledFigure(c: Comparison, o: OutputComparison, shown: number[]): string {
  const d0 = o.diffs.find((d) => d)!;
  const labels = d0.rowLabels!;
  const n = labels.length;
  // panels: every column that differs somewhere; many columns -> the largest over each row
  const differing = d0.columns.map((_, j) => j).filter((j) => shown.some((i) => o.diffs[i]!.rel[j].some((v) => v > 0)));
  const many = differing.length > 4;
  // the most extreme signed value over a row's columns
  const extreme = (d: TableDiff, r: number) => d.signed.reduce((m, col) => (Math.abs(col[r]) > Math.abs(m) ? col[r] : m), 0);
  const panels = many
    ? [{ title: `most extreme over the ${d0.columns.length} columns`, value: extreme }]
    : (differing.length ? differing : [0]).map((j) => ({ title: d0.columns[j], value: (d: TableDiff, r: number) => d.signed[j][r] }));
  const values = panels.map((pn) => shown.map((i) => labels.map((_, r) => pn.value(o.diffs[i]!, r))));
  const range = symRange(values.flat(2));
  const labelW = Math.max(...labels.map((l) => richWidth(l, FS))) + 14;
  const rowH = Math.max(24, 10 + 8 * shown.length);
  const fig = new Figure({
    rows: 1, cols: panels.length, panelWidth: panels.length > 2 ? 300 : 380, panelHeight: Math.min(900, Math.max(140, rowH * n)), fontSize: FS,
    wspace: 2 * labelW, sharey: 'row',
    title: `${c.pipelineName}: ${o.file} against ${refLabel(c, o.file)}`,
    xLabel: `signed ${METRIC_TEXT[d0.metric]}${d0.metric === 'relative' && o.file.startsWith('sigmas') ? ' (errors: in units of the reference sigma)' : ''}`,
  });
  panels.forEach((pn, col) => {
    const p = fig.panel(0, col).setTitle(pn.title)
      .setX({ scale: 'symlog', linthresh: range.linthresh, min: -range.lim, max: range.lim, nice: false })
      .setY({ min: 0, max: n, ticks: false, grid: false });
    for (let r = 1; r < n; r++) p.hline(r, { color: '#ececec', width: 1 });
    p.vline(0, { color: '#888', width: 1 });
    shown.forEach((i, k) => {
      const color = CATEGORY10[k % CATEGORY10.length];
      const off = shown.length > 1 ? (k / (shown.length - 1) - 0.5) * 0.36 : 0;
      const xs: number[] = [], ys: number[] = [], zx: number[] = [], zy: number[] = [];
      values[col][k].forEach((v, r) => {
        const y = n - r - 0.5 - off;
        if (v === 0) { zx.push(0); zy.push(y); }
        else if (Number.isFinite(v)) { xs.push(Math.max(-range.lim, Math.min(v, range.lim))); ys.push(y); }
      });
      p.markers(xs, ys, { color, shape: SHAPES[k % SHAPES.length], size: 8 });
      if (zx.length) p.markers(zx, zy, { color, shape: SHAPES[k % SHAPES.length], size: 8, fill: 'none' });
    });
  });
  const entries: LegendEntry[] = shown.map((i, k) => ({
    label: c.variants[i].variant.label, kind: 'marker', color: CATEGORY10[k % CATEGORY10.length], marker: SHAPES[k % SHAPES.length],
  }));
  entries.push({ label: 'open marker on the zero line: identical', kind: 'none' });
  fig.legend(entries, { position: 'bottom' });
  // the row labels, left of every panel (Figure has no categorical axis): placed from the panels' clip boxes
  let svg = svgWithTitle(fig);
  const texts: string[] = [];
  for (const m of svg.matchAll(/<clipPath id="clip-0-(\d+)"><rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"\/>/g)) {
    const [x, y, , h] = [Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
    labels.forEach((l, r) => {
      const ty = y + ((r + 0.5) / n) * h;
      texts.push(svgText(x - 8, ty, l, { size: FS, anchor: 'end', baseline: 'middle', color: '#222' }));
    });
  }
  svg = svg.replace(/<\/svg>\s*$/, `${texts.join('')}</svg>`);
  return svg;
}

/** One figure per compared output with a difference to show. */
export async function plotComparison(c: Comparison): Promise<ComparisonPlot[]> {
  const out: ComparisonPlot[] = [];
  for (const o of c.outputs) {
    const shown = o.diffs.map((d, i) => (d ? i : -1)).filter((i) => i >= 0);
    const d0 = shown.length ? o.diffs[shown[0]]! : null;
    if (!d0 || !shown.some((i) => o.diffs[i]!.max > 0)) continue;
    const svg = d0.axis ? axisFigure(c, o, shown) : d0.rowLabels ? labelledFigure(c, o, shown) : null;
    if (!svg) continue;
    out.push({ name: `compare-${o.file.replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9_-]+/g, '_')}`, svg, png: await toPng(svg) });
  }
  return out;
}
