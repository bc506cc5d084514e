/**
 * Plots of a method comparison (core/graph/compare.ts), one figure per compared output table:
 *
 *  - a table with an axis (cl.tsv: ell): |relative difference| against the axis, for each variant the
 *    largest over the columns (solid) and the median over the columns (dashed); columns whose names share
 *    a prefix (LL_*, GL_*, GG_*) get a panel per prefix, on a shared y axis;
 *  - a table with labelled rows (sigmas.tsv, fisher.tsv): a dot plot, one row per label, one marker per
 *    variant (open at the left edge where the value is identical), a panel per differing column (or the
 *    largest over the row when there are many columns).
 */
import { CATEGORY10, Figure, richWidth, svgText, toPng, type LegendEntry, type MarkerShape } from '../plot/index.js';
import type { Comparison, OutputComparison, TableDiff } from './compare.js';

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

/** Max and median over a set of columns at each row (NaN entries ignored). */
function envelope(d: TableDiff, idx: number[]): { max: Float64Array; median: Float64Array } {
  const max = new Float64Array(d.rows).fill(NaN), median = new Float64Array(d.rows).fill(NaN);
  const buf: number[] = [];
  for (let i = 0; i < d.rows; i++) {
    buf.length = 0;
    for (const j of idx) {
      const v = d.rel[j][i];
      if (!Number.isNaN(v)) buf.push(v);
    }
    if (!buf.length) continue;
    buf.sort((a, b) => a - b);
    max[i] = buf[buf.length - 1];
    const h = buf.length >> 1;
    median[i] = buf.length % 2 ? buf[h] : 0.5 * (buf[h - 1] + buf[h]);
  }
  return { max, median };
}

/** Log-axis ends (whole decades) around the positive finite values, at least two decades. */
function decades(values: Iterable<number>): { lo: number; hi: number } | null {
  let min = Infinity, max = -Infinity;
  for (const v of values) if (v > 0 && Number.isFinite(v)) { if (v < min) min = v; if (v > max) max = v; }
  if (!(max > 0)) return null;
  let lo = Math.floor(Math.log10(min)), hi = Math.ceil(Math.log10(max));
  if (hi - lo < 2) { lo -= 1; hi = Math.max(hi, lo + 2); }
  return { lo: 10 ** lo, hi: 10 ** hi };
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

function axisFigure(c: Comparison, o: OutputComparison, shown: number[]): string {
  const d0 = o.diffs.find((d) => d)!;
  const axis = d0.axis!;
  const gs = groups(d0.columns);
  const fig = new Figure({
    rows: 1, cols: gs.length, panelWidth: gs.length > 1 ? 400 : 560, panelHeight: 320, sharey: 'row', fontSize: FS,
    title: `${c.pipelineName}: ${o.file} against ${refLabel(c, o.file)}`,
    yLabel: '|relative difference|',
    xLabel: axis.name,
  });
  const positive = axis.values.every((v) => v > 0);
  const logX = positive && axis.values[axis.values.length - 1] / axis.values[0] > 20;
  const curves = gs.map((g) => shown.map((i) => envelope(o.diffs[i]!, g.idx)));
  const dec = decades(curves.flat().flatMap((e) => [...e.max, ...e.median]));
  gs.forEach((g, col) => {
    const p = fig.panel(0, col)
      .setX({ scale: logX ? 'log' : 'linear', nice: false, min: axis.values[0], max: axis.values[axis.values.length - 1] })
      .setY({ scale: 'log', ...(dec ? { min: dec.lo, max: dec.hi } : {}) });
    if (g.name) p.setTitle(`${g.name} (${g.idx.length} columns)`);
    shown.forEach((i, k) => {
      const { max, median } = curves[col][k];
      const color = CATEGORY10[k % CATEGORY10.length];
      p.line(axis.values, max, { color, width: 2.2 });
      p.line(axis.values, median, { color, width: 1.6, dash: '6 4' });
    });
  });
  const entries: LegendEntry[] = shown.map((i, k) => ({
    label: c.variants[i].variant.label + (o.diffs[i]!.max === 0 ? '  (identical)' : ''),
    color: CATEGORY10[k % CATEGORY10.length], width: 2.4,
  }));
  entries.push({ label: 'largest over the columns', color: '#444', width: 2.2 }, { label: 'median over the columns', color: '#444', width: 1.6, dash: '6 4' });
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
  const panels = many
    ? [{ title: `largest over the ${d0.columns.length} columns`, value: (d: TableDiff, r: number) => Math.max(...d.rel.map((col) => (Number.isNaN(col[r]) ? 0 : col[r]))) }]
    : (differing.length ? differing : [0]).map((j) => ({ title: d0.columns[j], value: (d: TableDiff, r: number) => d.rel[j][r] }));
  const values = panels.map((pn) => shown.map((i) => labels.map((_, r) => pn.value(o.diffs[i]!, r))));
  const dec = decades(values.flat(2)) ?? { lo: 1e-16, hi: 1e-14 };
  const labelW = Math.max(...labels.map((l) => richWidth(l, FS))) + 14;
  const rowH = Math.max(24, 10 + 8 * shown.length);
  const fig = new Figure({
    rows: 1, cols: panels.length, panelWidth: panels.length > 2 ? 300 : 380, panelHeight: Math.min(900, Math.max(140, rowH * n)), fontSize: FS,
    wspace: 2 * labelW, sharey: 'row',
    title: `${c.pipelineName}: ${o.file} against ${refLabel(c, o.file)}`,
    xLabel: '|relative difference|',
  });
  // identical values: open markers just inside the left edge
  const edge = dec.lo * (dec.hi / dec.lo) ** 0.015;
  panels.forEach((pn, col) => {
    const p = fig.panel(0, col).setTitle(pn.title)
      .setX({ scale: 'log', min: dec.lo, max: dec.hi, nice: false })
      .setY({ min: 0, max: n, ticks: false, grid: false });
    for (let r = 1; r < n; r++) p.hline(r, { color: '#ececec', width: 1 });
    shown.forEach((i, k) => {
      const color = CATEGORY10[k % CATEGORY10.length];
      const off = shown.length > 1 ? (k / (shown.length - 1) - 0.5) * 0.36 : 0;
      const xs: number[] = [], ys: number[] = [], zx: number[] = [], zy: number[] = [];
      values[col][k].forEach((v, r) => {
        const y = n - r - 0.5 - off;
        if (v > 0) { xs.push(Math.min(v, dec.hi)); ys.push(y); }
        else if (v === 0) { zx.push(edge); zy.push(y); }
      });
      p.markers(xs, ys, { color, shape: SHAPES[k % SHAPES.length], size: 8 });
      if (zx.length) p.markers(zx, zy, { color, shape: SHAPES[k % SHAPES.length], size: 8, fill: 'none' });
    });
  });
  const entries: LegendEntry[] = shown.map((i, k) => ({
    label: c.variants[i].variant.label, kind: 'marker', color: CATEGORY10[k % CATEGORY10.length], marker: SHAPES[k % SHAPES.length],
  }));
  entries.push({ label: 'open marker at the left edge: identical', kind: 'none' });
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
