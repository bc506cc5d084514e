/**
 * A heat map of values on a grid of labelled cells (categorical axes: each cell one combination of two settings),
 * coloured with viridis between the smallest and largest value, each cell annotated with its value, a colour bar
 * at the right. Cells without a value (NaN) are grey and marked "n/a". SVG; toPng (png.ts) renders it.
 */
import { viridis } from './color.js';
import { linearTicks } from './scale.js';
import { escapeXml, formatValue, richWidth, svgText } from './text.js';

export interface HeatmapOptions {
  /** Column labels, left to right. */
  xLabels: string[];
  /** Row labels, bottom to top. */
  yLabels: string[];
  /** values[iy][ix]; NaN for a cell without a value. */
  values: number[][];
  xTitle?: string;
  yTitle?: string;
  title?: string;
  /** Label of the colour bar (the quantity). */
  colorbarLabel?: string;
  /** Write each cell's value in it (default: when there are at most 400 cells). */
  annotate?: boolean;
  /** Cell value as text (default 4 significant digits). */
  format?: (v: number) => string;
  /** Base font size in px (default 14). */
  fontSize?: number;
}

const r2 = (v: number) => (Math.round(v * 100) / 100).toString();

/** Relative luminance of a #rrggbb colour (to choose black or white text on it). */
function luminance(hex: string): number {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((v) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

export function heatmapSvg(o: HeatmapOptions): string {
  const fs = o.fontSize ?? 14;
  const nx = o.xLabels.length, ny = o.yLabels.length;
  if (!nx || !ny) throw new Error('heatmapSvg: no cells');
  if (o.values.length !== ny || o.values.some((row) => row.length !== nx)) throw new Error(`heatmapSvg: values must be ${ny} rows of ${nx}`);
  const fmt = o.format ?? ((v: number) => formatValue(v, 4));
  const annotate = o.annotate ?? nx * ny <= 400;
  const finite = o.values.flat().filter((v) => Number.isFinite(v));
  let lo = finite.length ? Math.min(...finite) : 0, hi = finite.length ? Math.max(...finite) : 1;
  if (!(hi > lo)) { const d = Math.abs(lo) * 0.05 || 1; lo -= d; hi += d; }
  const t = (v: number) => (v - lo) / (hi - lo);

  // sizes
  const cellText = annotate ? Math.max(...o.values.flat().map((v) => richWidth(Number.isFinite(v) ? fmt(v) : 'n/a', fs))) : 0;
  const cw = Math.max(64, ...o.xLabels.map((l) => richWidth(l, fs) + 14), cellText + 16);
  const ch = Math.max(40, fs * 2.8);
  const gw = nx * cw, gh = ny * ch;
  const yLabelW = Math.max(...o.yLabels.map((l) => richWidth(l, fs)));
  // the y title reads upwards beside the labels when it fits the grid's height, else it sits above them
  const yTitleUp = !!o.yTitle && richWidth(o.yTitle, fs) <= gh;
  const left = 16 + (yTitleUp ? fs * 1.6 : 0) + yLabelW + 10;
  const top = 14 + (o.title ? fs * 2 : 0) + (o.yTitle && !yTitleUp ? fs * 1.8 : 0);
  const ticks = linearTicks(lo, hi, Math.max(2, Math.min(6, Math.floor(gh / (fs * 1.8))))).major.filter((k) => k.value >= lo - 1e-12 * Math.abs(lo) && k.value <= hi + 1e-12 * Math.abs(hi));
  const tickW = Math.max(0, ...ticks.map((k) => richWidth(k.label, fs)));
  const barX = left + gw + 24, barW = 16;
  const width = Math.max(barX + barW + 8 + tickW + (o.colorbarLabel ? fs * 2 : 0) + 12, o.title ? left + richWidth(o.title, fs * 1.1, true) + 12 : 0);
  const height = top + gh + 10 + fs * 1.4 + (o.xTitle ? fs * 1.8 : 0) + 12;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${r2(width)}" height="${r2(height)}" viewBox="0 0 ${r2(width)} ${r2(height)}" font-family="DejaVu Sans">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  if (o.title) out.push(svgText(left, 14 + fs * 1.1, o.title, { size: fs * 1.1, bold: true }));
  // cells (row 0 at the bottom)
  for (let iy = 0; iy < ny; iy++)
    for (let ix = 0; ix < nx; ix++) {
      const v = o.values[iy][ix];
      const x = left + ix * cw, y = top + (ny - 1 - iy) * ch;
      const fill = Number.isFinite(v) ? viridis(t(v)) : '#d9d9d9';
      out.push(`<rect x="${r2(x)}" y="${r2(y)}" width="${r2(cw)}" height="${r2(ch)}" fill="${fill}" stroke="#ffffff" stroke-width="1"/>`);
      if (annotate) {
        const color = Number.isFinite(v) && luminance(fill) < 0.3 ? '#ffffff' : '#000000';
        out.push(svgText(x + cw / 2, y + ch / 2, Number.isFinite(v) ? fmt(v) : 'n/a', { size: fs, anchor: 'middle', baseline: 'middle', color }));
      }
    }
  out.push(`<rect x="${r2(left)}" y="${r2(top)}" width="${r2(gw)}" height="${r2(gh)}" fill="none" stroke="#333333" stroke-width="1"/>`);
  // axis labels
  o.xLabels.forEach((l, ix) => out.push(svgText(left + (ix + 0.5) * cw, top + gh + 8, l, { size: fs, anchor: 'middle', baseline: 'hanging' })));
  o.yLabels.forEach((l, iy) => out.push(svgText(left - 8, top + (ny - 0.5 - iy) * ch, l, { size: fs, anchor: 'end', baseline: 'middle' })));
  if (o.xTitle) out.push(svgText(left + gw / 2, top + gh + 10 + fs * 1.4 + fs * 1.3, o.xTitle, { size: fs, anchor: 'middle' }));
  if (o.yTitle && yTitleUp) out.push(svgText(16 + fs * 0.8, top + gh / 2, o.yTitle, { size: fs, anchor: 'middle', rotate: -90, baseline: 'middle' }));
  else if (o.yTitle) out.push(svgText(Math.max(16, left - 8 - yLabelW), top - fs * 0.7, o.yTitle, { size: fs }));
  // colour bar: a vertical gradient of 64 steps, ticks on its right
  const steps = 64;
  for (let k = 0; k < steps; k++) {
    const y0 = top + gh - ((k + 1) / steps) * gh;
    out.push(`<rect x="${r2(barX)}" y="${r2(y0)}" width="${barW}" height="${r2(gh / steps + 0.5)}" fill="${viridis((k + 0.5) / steps)}"/>`);
  }
  out.push(`<rect x="${r2(barX)}" y="${r2(top)}" width="${barW}" height="${r2(gh)}" fill="none" stroke="#333333" stroke-width="1"/>`);
  for (const k of ticks) {
    const y = top + gh - t(k.value) * gh;
    out.push(`<line x1="${r2(barX + barW)}" y1="${r2(y)}" x2="${r2(barX + barW + 4)}" y2="${r2(y)}" stroke="#333333"/>`);
    out.push(svgText(barX + barW + 7, y, k.label, { size: fs * 0.9, baseline: 'middle' }));
  }
  if (o.colorbarLabel)
    out.push(svgText(barX + barW + 8 + tickW + fs * 1.2, top + gh / 2, o.colorbarLabel, { size: fs, anchor: 'middle', rotate: -90, baseline: 'middle' }));
  out.push(`<desc>${escapeXml(`heat map: ${o.colorbarLabel ?? 'value'} over ${o.xTitle ?? 'x'} and ${o.yTitle ?? 'y'}`)}</desc>`);
  out.push('</svg>');
  return out.join('\n');
}
