/**
 * `--plot COLUMN`: one summary column of the sweep against its varied path(s). One path: a line over numeric values
 * (a strip of cells over text values such as method names); two paths of a grid: a heat map, the first path across,
 * the second up. A failed point is a gap (n/a).
 */
import { InputError, issue } from '../schema/input-error.js';
import { CATEGORY10, Figure, heatmapSvg, toPng } from '../plot/index.js';
import type { PointSource } from './points.js';
import { summaryColumns, type SweepRow } from './sweep-table.js';

/** Why this sweep cannot be plotted (before anything runs), or null. */
export function plotProblem(source: PointSource): string | null {
  const n = source.names.length;
  if (n === 1) return null;
  if (n === 2 && source.axes) return null;
  if (n === 2) return 'a heat map needs a grid of two paths (--vary PATH=... --vary PATH=...); a hypercube or a points file is scattered';
  return `plots a column against one or two varied paths; this sweep varies ${n} (${source.names.join(', ')})`;
}

const numeric = (v: number | string | undefined) => (typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN);

export async function plotSweep(source: PointSource, rows: SweepRow[], column: string, pipeline: string): Promise<{ svg: string; png: Uint8Array }> {
  const cols = summaryColumns(rows);
  if (!cols.includes(column))
    throw new InputError([issue('--plot', `no column "${column}" in the sweep's table; columns: ${cols.join(', ') || '(none: every point failed)'}`)]);
  const value = (r: SweepRow) => (r.status === 'ok' ? numeric(r.columns[column]) : NaN);
  const title = `${pipeline}: ${column}`;
  let svg: string;
  if (source.names.length === 1) {
    const xs = rows.map((r) => r.settings[0].value);
    if (xs.every((x) => typeof x === 'number')) {
      const pts = rows.map((r, i) => ({ x: xs[i], y: value(r) })).sort((a, b) => a.x - b.x);
      const fig = new Figure({ title, xLabel: source.names[0], yLabel: column });
      const lo = Math.min(...pts.map((p) => p.x)), hi = Math.max(...pts.map((p) => p.x));
      const panel = fig.panel().setX({ scale: lo > 0 && hi / lo > 50 ? 'log' : 'linear' });
      const ok = pts.filter((p) => Number.isFinite(p.y));
      panel.line(ok.map((p) => p.x), ok.map((p) => p.y), { color: CATEGORY10[0], marker: 'circle' });
      svg = fig.toSvg();
    } else {
      svg = heatmapSvg({ xLabels: rows.map((r) => r.values[0]), yLabels: [''], values: [rows.map(value)], xTitle: source.names[0], title, colorbarLabel: column });
    }
  } else {
    const [ax, ay] = source.axes!;
    // grid order: the first path varies slowest, so the point at (ix, iy) is row ix * ny + iy
    const values = ay.values.map((_, iy) => ax.values.map((_, ix) => value(rows[ix * ay.values.length + iy])));
    svg = heatmapSvg({ xLabels: ax.texts, yLabels: ay.texts, values, xTitle: ax.name, yTitle: ay.name, title, colorbarLabel: column });
  }
  return { svg, png: await toPng(svg) };
}
