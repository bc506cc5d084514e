/**
 * A figure: a grid of panels (rows x cols) rendered to a self-contained SVG string.
 *
 *   const fig = new Figure({ rows: 1, cols: 2, sharey: 'row', title: 'Demo' });
 *   fig.panel(0, 0).setX({ scale: 'log', label: 'k' }).line(x, y, { color: 'red', label: 'P(k)' }).legend();
 *   const svg = fig.toSvg();
 *
 * Layout is computed, not guessed: tick labels are measured with the font's real advance widths
 * (font.ts), the space around each panel is sized to what that panel shows, and the number of ticks is
 * reduced until the labels do not collide. Cells never asked for with panel(r, c) stay empty.
 */
import { CATEGORY10 } from './color.js';
import { covarianceEllipse, ellipsePoints, type Cov2, type EllipseGeometry } from './ellipse.js';
import { FONT_FAMILY_ATTR } from './font.js';
import { autoDomain, Scale, type ScaleKind, type Ticks } from './scale.js';
import { escapeXml, plainText, richWidth, svgText } from './text.js';

type Num = ArrayLike<number>;

export interface AxisOptions {
  scale?: ScaleKind;
  /** Fixed ends (otherwise from the data, shared over the sharing group). */
  min?: number;
  max?: number;
  label?: string;
  /** Show tick labels (default: yes, except where hidden by axis sharing). */
  tickLabels?: boolean;
  /** Draw tick marks (default true; false also hides the tick labels and grid lines). */
  ticks?: boolean;
  /** Upper bound on labelled ticks (the layout may use fewer to avoid collisions). */
  maxTicks?: number;
  /** Log-axis labels: 10^{n} (default) or 1e-9. */
  logLabels?: 'power' | 'e';
  /** Linear range of a symlog axis (default 1). */
  linthresh?: number;
  /** Round automatic ends outwards (default: yes for log, no for linear). */
  nice?: boolean;
  /** Fractional padding of automatic linear ends (default 0.04). */
  pad?: number;
  /** Log axes: automatic lower end at least max / 10^maxDecades. */
  maxDecades?: number;
  /** Light grid lines at major ticks (default true). */
  grid?: boolean;
  /** x tick label rotation in degrees: 0 (default), -45 or -90. */
  tickAngle?: 0 | -45 | -90;
}

export interface LineStyle {
  color?: string;
  /** Stroke width in px (default 1.8). */
  width?: number;
  /** SVG dash array, e.g. '6 4'. */
  dash?: string;
  opacity?: number;
}

/**
 * How a line shows values below zero:
 *  'keep'   as they are (on a log axis they are not drawn: the line breaks);
 *  'dashed' |y|, dashed wherever y < 0 (segments touching a negative point are dashed);
 *  'abs'    |y| with the same style;
 *  'omit'   not drawn (the line breaks).
 */
export type NegativeMode = 'keep' | 'dashed' | 'abs' | 'omit';

export type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond' | 'plus' | 'cross';

export interface LineOptions extends LineStyle {
  label?: string;
  negative?: NegativeMode;
  /** Dash array used for the negative parts with negative: 'dashed' (default scales with width). */
  negativeDash?: string;
  /** Also draw markers at the points. */
  marker?: MarkerShape;
  markerSize?: number;
}

export interface MarkerOptions {
  shape?: MarkerShape;
  color?: string;
  /** Diameter in px (default 7). */
  size?: number;
  /** Fill colour, 'none' for open markers (default: the colour). */
  fill?: string;
  strokeWidth?: number;
  opacity?: number;
  label?: string;
}

export interface EllipseOptions {
  /** Scale k of the ellipse (x - mu)^T C^-1 (x - mu) = k^2 (default 1). */
  nSigma?: number;
  /** Outline colour ('none': no outline). */
  color?: string;
  fill?: string;
  fillOpacity?: number;
  width?: number;
  dash?: string;
  label?: string;
}

export interface AreaOptions {
  color?: string;
  opacity?: number;
  /** Outline the upper edge with the colour. */
  outline?: boolean;
  label?: string;
}

/** A filled region bounded by polygons (contours of a density): fill-rule even-odd, so inner rings are holes. */
export interface RegionOptions {
  /** Outline colour ('none': no outline). */
  color?: string;
  fill?: string;
  fillOpacity?: number;
  width?: number;
  dash?: string;
  label?: string;
}

export interface TextOptions {
  /** 'data' (default) or 'axes' (0..1 across the plot area, 0,0 bottom left). */
  coords?: 'data' | 'axes';
  size?: number;
  color?: string;
  anchor?: 'start' | 'middle' | 'end';
  baseline?: 'alphabetic' | 'middle' | 'hanging';
  rotate?: number;
  bold?: boolean;
}

export interface LegendEntry {
  label: string;
  color?: string;
  width?: number;
  dash?: string;
  /** 'line' (default), 'marker', 'patch' (filled box) or 'none' (text only). */
  kind?: 'line' | 'marker' | 'patch' | 'none';
  marker?: MarkerShape;
  fill?: string;
  fillOpacity?: number;
}

export type LegendLoc = 'best' | 'upper right' | 'upper left' | 'lower left' | 'lower right' | 'outside right';

export interface LegendOptions {
  loc?: LegendLoc;
  title?: string;
  /** Entries to show instead of the labelled items. */
  entries?: LegendEntry[];
  fontSize?: number;
}

export interface FigureLegendOptions {
  /** 'right' of the grid (default), 'bottom', or over the grid's top-right corner (for empty cells). */
  position?: 'right' | 'bottom' | 'inside-top-right';
  title?: string;
  fontSize?: number;
}

export interface FigureOptions {
  rows?: number;
  cols?: number;
  /** Plot-area size of each panel in px (default 420 x 300). */
  panelWidth?: number;
  panelHeight?: number;
  /** Total size instead: plot areas fill what the margins leave. */
  width?: number;
  height?: number;
  /** Share x ranges down each column or over all panels; only the lowest panel of a column gets tick labels. */
  sharex?: 'none' | 'col' | 'all';
  /** Share y ranges along each row or over all panels; only the leftmost panel of a row gets tick labels. */
  sharey?: 'none' | 'row' | 'all';
  title?: string;
  /** Labels spanning the whole grid. */
  xLabel?: string;
  yLabel?: string;
  /** One label left of each row / above each column. */
  rowLabels?: string[];
  colLabels?: string[];
  /** Base font size in px (tick labels; default 14). */
  fontSize?: number;
  /** Extra horizontal / vertical space between panels in px. */
  wspace?: number;
  hspace?: number;
  background?: string;
}

type Item =
  | { kind: 'line'; x: Num; y: Num; o: LineOptions }
  | { kind: 'markers'; x: Num; y: Num; o: MarkerOptions }
  | { kind: 'ellipse'; cx: number; cy: number; g: EllipseGeometry; o: EllipseOptions }
  | { kind: 'area'; x: Num; y1: Num; y0: Num | number; o: AreaOptions }
  | { kind: 'region'; polygons: [number, number][][][]; o: RegionOptions }
  | { kind: 'text'; x: number; y: number; s: string; o: TextOptions }
  | { kind: 'hline' | 'vline'; v: number; o: LineStyle & { label?: string } };

const r2 = (v: number) => (Math.round(v * 100) / 100).toString();
const attr = (name: string, v: string | number | undefined) => (v === undefined ? '' : ` ${name}="${typeof v === 'number' ? r2(v) : escapeXml(v)}"`);

interface Extent { lo: number; hi: number; plo: number; phi: number }
const emptyExtent = (): Extent => ({ lo: Infinity, hi: -Infinity, plo: Infinity, phi: -Infinity });
function grow(e: Extent, v: number): void {
  if (!Number.isFinite(v)) return;
  if (v < e.lo) e.lo = v;
  if (v > e.hi) e.hi = v;
  if (v > 0) { if (v < e.plo) e.plo = v; if (v > e.phi) e.phi = v; }
}

/** One panel (a set of axes) of a Figure. Methods chain. */
export class Panel {
  x: AxisOptions = {};
  y: AxisOptions = {};
  title?: string;
  readonly items: Item[] = [];
  legendOptions?: LegendOptions;
  private colorIndex = 0;

  constructor(readonly row: number, readonly col: number) {}

  setX(o: AxisOptions): this { this.x = { ...this.x, ...o }; return this; }
  setY(o: AxisOptions): this { this.y = { ...this.y, ...o }; return this; }
  setTitle(t: string): this { this.title = t; return this; }

  private nextColor(): string { return CATEGORY10[this.colorIndex++ % CATEGORY10.length]; }

  line(x: Num, y: Num, o: LineOptions = {}): this {
    if (x.length !== y.length) throw new Error(`line: x and y lengths differ (${x.length} vs ${y.length})`);
    this.items.push({ kind: 'line', x, y, o: { ...o, color: o.color ?? this.nextColor() } });
    return this;
  }

  markers(x: Num, y: Num, o: MarkerOptions = {}): this {
    if (x.length !== y.length) throw new Error(`markers: x and y lengths differ (${x.length} vs ${y.length})`);
    this.items.push({ kind: 'markers', x, y, o: { ...o, color: o.color ?? this.nextColor() } });
    return this;
  }

  /** The nSigma-ellipse of covariance `cov` centred on (cx, cy). */
  ellipse(cx: number, cy: number, cov: Cov2, o: EllipseOptions = {}): this {
    const g = covarianceEllipse(cov, o.nSigma ?? 1);
    this.items.push({ kind: 'ellipse', cx, cy, g, o: { ...o, color: o.color ?? this.nextColor() } });
    return this;
  }

  /** Filled band between y1 and y0 (a number: a constant baseline; default 0). */
  area(x: Num, y1: Num, y0: Num | number = 0, o: AreaOptions = {}): this {
    this.items.push({ kind: 'area', x, y1, y0, o: { ...o, color: o.color ?? this.nextColor() } });
    return this;
  }

  /** A region bounded by polygons in data coordinates (each a list of closed rings: outer boundary, then holes). */
  region(polygons: [number, number][][][], o: RegionOptions = {}): this {
    this.items.push({ kind: 'region', polygons, o: { ...o, color: o.color ?? this.nextColor() } });
    return this;
  }

  text(x: number, y: number, s: string, o: TextOptions = {}): this {
    this.items.push({ kind: 'text', x, y, s, o });
    return this;
  }

  hline(y: number, o: LineStyle & { label?: string } = {}): this { this.items.push({ kind: 'hline', v: y, o }); return this; }
  vline(x: number, o: LineStyle & { label?: string } = {}): this { this.items.push({ kind: 'vline', v: x, o }); return this; }

  legend(o: LegendOptions = {}): this { this.legendOptions = o; return this; }

  /** Data extents along x and y (what the automatic ranges cover). */
  extents(): { x: Extent; y: Extent } {
    const ex = emptyExtent(), ey = emptyExtent();
    for (const it of this.items) {
      switch (it.kind) {
        case 'line': {
          const neg = it.o.negative ?? 'keep';
          for (let i = 0; i < it.x.length; i++) {
            let v = it.y[i];
            if (neg === 'omit' && v < 0) continue;
            if (neg === 'dashed' || neg === 'abs') v = Math.abs(v);
            if (!Number.isFinite(v) || !Number.isFinite(it.x[i])) continue;
            grow(ex, it.x[i]); grow(ey, v);
          }
          break;
        }
        case 'markers':
          for (let i = 0; i < it.x.length; i++) if (Number.isFinite(it.x[i]) && Number.isFinite(it.y[i])) { grow(ex, it.x[i]); grow(ey, it.y[i]); }
          break;
        case 'ellipse':
          grow(ex, it.cx - it.g.halfWidth); grow(ex, it.cx + it.g.halfWidth);
          grow(ey, it.cy - it.g.halfHeight); grow(ey, it.cy + it.g.halfHeight);
          break;
        case 'area':
          for (let i = 0; i < it.x.length; i++) {
            grow(ex, it.x[i]); grow(ey, it.y1[i]);
            grow(ey, typeof it.y0 === 'number' ? it.y0 : it.y0[i]);
          }
          break;
        case 'region':
          for (const poly of it.polygons) for (const ring of poly) for (const [u, w] of ring) { grow(ex, u); grow(ey, w); }
          break;
        default:
          break;
      }
    }
    return { x: ex, y: ey };
  }

  /** Legend entries of the labelled items. */
  legendEntries(): LegendEntry[] {
    const out: LegendEntry[] = [];
    for (const it of this.items) {
      switch (it.kind) {
        case 'line': if (it.o.label) out.push({ label: it.o.label, color: it.o.color, width: it.o.width, dash: it.o.dash, marker: it.o.marker }); break;
        case 'markers': if (it.o.label) out.push({ label: it.o.label, kind: 'marker', color: it.o.color, marker: it.o.shape ?? 'circle', fill: it.o.fill }); break;
        case 'ellipse': if (it.o.label) out.push({ label: it.o.label, kind: 'patch', color: it.o.color, fill: it.o.fill ?? 'none', fillOpacity: it.o.fillOpacity }); break;
        case 'area': if (it.o.label) out.push({ label: it.o.label, kind: 'patch', color: it.o.color, fill: it.o.color, fillOpacity: it.o.opacity ?? 0.3 }); break;
        case 'region': if (it.o.label) out.push({ label: it.o.label, kind: 'patch', color: it.o.color, fill: it.o.fill ?? 'none', fillOpacity: it.o.fillOpacity }); break;
        case 'hline': case 'vline': if (it.o.label) out.push({ label: it.o.label, color: it.o.color ?? '#555', width: it.o.width, dash: it.o.dash }); break;
        default: break;
      }
    }
    return out;
  }
}

/** Marker path centred on (x, y) with diameter d. */
export function markerSvg(shape: MarkerShape, x: number, y: number, d: number, stroke: string, fill: string, sw: number, opacity?: number): string {
  const h = d / 2;
  const op = opacity !== undefined && opacity < 1 ? ` opacity="${opacity}"` : '';
  const st = ` stroke="${escapeXml(stroke)}" stroke-width="${r2(sw)}" fill="${escapeXml(fill)}"${op}`;
  switch (shape) {
    case 'circle': return `<circle cx="${r2(x)}" cy="${r2(y)}" r="${r2(h)}"${st}/>`;
    case 'square': return `<rect x="${r2(x - h * 0.9)}" y="${r2(y - h * 0.9)}" width="${r2(1.8 * h)}" height="${r2(1.8 * h)}"${st}/>`;
    case 'triangle': return `<path d="M${r2(x)} ${r2(y - h * 1.1)}L${r2(x + h)} ${r2(y + h * 0.7)}L${r2(x - h)} ${r2(y + h * 0.7)}Z"${st}/>`;
    case 'diamond': return `<path d="M${r2(x)} ${r2(y - h * 1.15)}L${r2(x + h * 0.85)} ${r2(y)}L${r2(x)} ${r2(y + h * 1.15)}L${r2(x - h * 0.85)} ${r2(y)}Z"${st}/>`;
    case 'plus': return `<path d="M${r2(x - h)} ${r2(y)}H${r2(x + h)}M${r2(x)} ${r2(y - h)}V${r2(y + h)}" stroke="${escapeXml(stroke)}" stroke-width="${r2(Math.max(sw, 1.5))}" fill="none"${op}/>`;
    case 'cross': return `<path d="M${r2(x - h * 0.8)} ${r2(y - h * 0.8)}L${r2(x + h * 0.8)} ${r2(y + h * 0.8)}M${r2(x - h * 0.8)} ${r2(y + h * 0.8)}L${r2(x + h * 0.8)} ${r2(y - h * 0.8)}" stroke="${escapeXml(stroke)}" stroke-width="${r2(Math.max(sw, 1.5))}" fill="none"${op}/>`;
  }
}

/** Path data through pixel points; non-finite points break the line. */
function polyline(px: number[], py: number[]): string {
  let d = '';
  let pen = false;
  for (let i = 0; i < px.length; i++) {
    if (!Number.isFinite(px[i]) || !Number.isFinite(py[i])) { pen = false; continue; }
    d += `${pen ? 'L' : 'M'}${r2(px[i])} ${r2(py[i])}`;
    pen = true;
  }
  return d;
}

/** Legend box geometry and SVG (top-left at 0, 0; translate it into place). */
function legendBlock(entries: LegendEntry[], fs: number, title?: string): { w: number; h: number; svg: (x: number, y: number) => string } {
  const rowH = fs * 1.45;
  const sw = 30, gap = 8, pad = 8;
  let w = 0;
  for (const e of entries) w = Math.max(w, (e.kind === 'none' ? 0 : sw + gap) + richWidth(e.label, fs));
  if (title) w = Math.max(w, richWidth(title, fs, true));
  w += 2 * pad;
  const h = 2 * pad + entries.length * rowH + (title ? rowH : 0) - (fs * 0.25);
  const svg = (x0: number, y0: number): string => {
    const parts: string[] = [];
    parts.push(`<rect x="${r2(x0)}" y="${r2(y0)}" width="${r2(w)}" height="${r2(h)}" fill="#ffffff" fill-opacity="0.88" stroke="#bbbbbb" stroke-width="1" rx="3"/>`);
    let y = y0 + pad;
    if (title) { parts.push(svgText(x0 + pad, y + rowH * 0.5, title, { size: fs, bold: true, baseline: 'middle', color: '#222' })); y += rowH; }
    for (const e of entries) {
      const cy = y + rowH * 0.5;
      const color = e.color ?? '#333';
      const sx = x0 + pad;
      const kind = e.kind ?? 'line';
      if (kind === 'line') {
        parts.push(`<path d="M${r2(sx)} ${r2(cy)}H${r2(sx + sw)}" stroke="${escapeXml(color)}" stroke-width="${r2(Math.max(1.5, e.width ?? 1.8))}" fill="none"${attr('stroke-dasharray', e.dash)} stroke-linecap="butt"/>`);
        if (e.marker) parts.push(markerSvg(e.marker, sx + sw / 2, cy, 7, color, e.fill ?? color, 1.2));
      } else if (kind === 'marker') {
        parts.push(markerSvg(e.marker ?? 'circle', sx + sw / 2, cy, 8, color, e.fill ?? color, 1.2));
      } else if (kind === 'patch') {
        const fill = e.fill ?? color;
        parts.push(`<rect x="${r2(sx + 2)}" y="${r2(cy - fs * 0.45)}" width="${r2(sw - 4)}" height="${r2(fs * 0.9)}" fill="${escapeXml(fill)}"${fill !== 'none' ? attr('fill-opacity', e.fillOpacity ?? 1) : ''} stroke="${escapeXml(color)}" stroke-width="1.5"/>`);
      }
      parts.push(svgText(sx + (kind === 'none' ? 0 : sw + gap), cy, e.label, { size: fs, baseline: 'middle', color: '#222' }));
      y += rowH;
    }
    return `<g class="legend">${parts.join('')}</g>`;
  };
  return { w, h, svg };
}

interface AxisPlan {
  scale: Scale;
  ticks: Ticks;
  showTicks: boolean;
  showLabel: boolean;
  /** Max tick label width (x: height of the rotated block) in px. */
  tickExtent: number;
}

interface PanelPlan { p: Panel; x: AxisPlan; y: AxisPlan; outsideLegend?: ReturnType<typeof legendBlock> }

export class Figure {
  readonly rows: number;
  readonly cols: number;
  private readonly grid: (Panel | undefined)[][];
  private figLegend?: { entries: LegendEntry[]; o: FigureLegendOptions };
  private readonly extras: string[] = [];

  constructor(readonly opts: FigureOptions = {}) {
    this.rows = opts.rows ?? 1;
    this.cols = opts.cols ?? 1;
    if (!(this.rows >= 1 && this.cols >= 1)) throw new Error('Figure needs at least one row and one column');
    this.grid = Array.from({ length: this.rows }, () => new Array<Panel | undefined>(this.cols));
  }

  /** The panel at (row, col), created on first use. */
  panel(row = 0, col = 0): Panel {
    if (row < 0 || row >= this.rows || col < 0 || col >= this.cols) throw new Error(`panel (${row}, ${col}) outside a ${this.rows}x${this.cols} grid`);
    return (this.grid[row][col] ??= new Panel(row, col));
  }

  /** Panels created so far, row-major. */
  panels(): Panel[] {
    return this.grid.flat().filter((p): p is Panel => p !== undefined);
  }

  /** A legend for the whole figure (e.g. a colour key shared by all panels). */
  legend(entries: LegendEntry[], o: FigureLegendOptions = {}): this {
    this.figLegend = { entries, o };
    return this;
  }

  /** Raw SVG appended at the end (figure pixel coordinates); for annotations the API does not cover. */
  raw(svg: string): this { this.extras.push(svg); return this; }

  private get fs(): number { return this.opts.fontSize ?? 14; }

  private lowestInCol(p: Panel): boolean {
    for (let r = p.row + 1; r < this.rows; r++) if (this.grid[r][p.col]) return false;
    return true;
  }

  private leftmostInRow(p: Panel): boolean {
    for (let c = 0; c < p.col; c++) if (this.grid[p.row][c]) return false;
    return true;
  }

  /** Scales of every panel after range sharing. */
  private scales(): Map<Panel, { x: Scale; y: Scale }> {
    const panels = this.panels();
    const ext = new Map(panels.map((p) => [p, p.extents()] as const));
    const sx = this.opts.sharex ?? 'none', sy = this.opts.sharey ?? 'none';
    const keyX = (p: Panel) => (sx === 'all' ? 'all' : sx === 'col' ? `c${p.col}` : `p${p.row},${p.col}`);
    const keyY = (p: Panel) => (sy === 'all' ? 'all' : sy === 'row' ? `r${p.row}` : `p${p.row},${p.col}`);
    const resolve = (key: (p: Panel) => string, axis: 'x' | 'y'): Map<Panel, Scale> => {
      const groups = new Map<string, Panel[]>();
      for (const p of panels) { const k = key(p); groups.set(k, [...(groups.get(k) ?? []), p]); }
      const out = new Map<Panel, Scale>();
      for (const members of groups.values()) {
        const e = emptyExtent();
        for (const p of members) {
          const pe = ext.get(p)![axis];
          for (const v of [pe.lo, pe.hi, pe.plo, pe.phi]) grow(e, v);
        }
        const pick = <K extends keyof AxisOptions>(k: K): AxisOptions[K] => members.map((p) => p[axis][k]).find((v) => v !== undefined);
        const kind = pick('scale') ?? 'linear';
        const linthresh = pick('linthresh') ?? 1;
        let [lo, hi] = kind === 'log'
          ? autoDomain('log', e.plo, e.phi, { nice: pick('nice'), maxDecades: pick('maxDecades') })
          : autoDomain(kind, e.lo, e.hi, { nice: pick('nice'), pad: pick('pad'), linthresh });
        const mn = pick('min'), mx = pick('max');
        if (mn !== undefined) lo = mn;
        if (mx !== undefined) hi = mx;
        if (!(hi > lo)) hi = lo + (kind === 'log' ? lo : 1);
        const s = new Scale(kind, lo, hi, linthresh);
        for (const p of members) out.set(p, s);
      }
      return out;
    };
    const xs = resolve(keyX, 'x'), ys = resolve(keyY, 'y');
    return new Map(panels.map((p) => [p, { x: xs.get(p)!, y: ys.get(p)! }]));
  }

  /**
   * Ticks sparse enough that labels do not collide along `length` px: the labelled-tick bound is lowered
   * until they fit, down to 1 (d3's steps may give 3 ticks for a bound of 2); if that leaves no tick on
   * the axis, the last ticks with some are kept.
   */
  private fitTicks(scale: Scale, o: AxisOptions, length: number, horizontal: boolean): { ticks: Ticks; extent: number } {
    const fs = this.fs;
    const angle = horizontal ? o.tickAngle ?? 0 : 0;
    let m = Math.min(o.maxTicks ?? 8, Math.max(2, Math.floor(length / (horizontal ? 2.6 * fs : 2.2 * fs))));
    let previous: { ticks: Ticks; extent: number } | undefined;
    for (;;) {
      const ticks = scale.ticks({ maxMajor: m, logLabels: o.logLabels });
      const widths = ticks.major.map((t) => richWidth(t.label, fs));
      const maxW = Math.max(0, ...widths);
      // space along the axis taken by one label, and the gap needed between neighbours
      const along = horizontal ? (angle === 0 ? maxW : fs * 1.3) + fs * 0.9 : fs * 1.5;
      const n = ticks.major.length;
      const fits = n <= 1 || (along * n <= length * 1.05 && minSpacing(scale, ticks, length) >= along);
      const extent = horizontal
        ? angle === 0 ? fs * 1.3 : angle === -90 ? maxW + fs * 0.3 : maxW * Math.SQRT1_2 + fs * 0.9
        : maxW;
      if (fits || m <= 1) return n === 0 && previous ? previous : { ticks, extent };
      previous = { ticks, extent };
      m--;
    }
  }

  /** Render the figure as an SVG document. */
  toSvg(): string {
    const o = this.opts;
    const fs = this.fs;
    const labelFs = fs + 1, titleFs = fs + 1, figTitleFs = fs + 6, rcFs = fs + 2, legendFs = Math.max(11, fs - 1);
    const panels = this.panels();
    const scales = this.scales();
    const sx = o.sharex ?? 'none', sy = o.sharey ?? 'none';

    const figLegend = this.figLegend ? legendBlock(this.figLegend.entries, this.figLegend.o.fontSize ?? legendFs, this.figLegend.o.title) : undefined;
    const figLegendPos = this.figLegend?.o.position ?? 'right';

    // outer margins
    const outerTop = 12 + (o.title ? figTitleFs * 1.9 : 0) + (o.colLabels ? rcFs * 1.7 : 0);
    const outerLeft = 10 + (o.yLabel ? rcFs * 1.6 : 0) + (o.rowLabels ? rcFs * 1.6 : 0);
    const outerRight = 14 + (figLegend && figLegendPos === 'right' ? figLegend.w + 16 : 0);
    const outerBottom = 10 + (o.xLabel ? rcFs * 1.9 : 0) + (figLegend && figLegendPos === 'bottom' ? figLegend.h + 16 : 0);
    const wspace = o.wspace ?? 0, hspace = o.hspace ?? 0;

    let pw = o.panelWidth ?? 420, ph = o.panelHeight ?? 300;
    let plans = new Map<Panel, PanelPlan>();
    let leftG: number[] = [], rightG: number[] = [], topG: number[] = [], bottomG: number[] = [];
    for (let iter = 0; iter < 3; iter++) {
      plans = new Map();
      for (const p of panels) {
        const sc = scales.get(p)!;
        const showXT = p.x.ticks !== false && (p.x.tickLabels ?? (sx === 'none' || this.lowestInCol(p)));
        const showYT = p.y.ticks !== false && (p.y.tickLabels ?? (sy === 'none' || this.leftmostInRow(p)));
        const fx = this.fitTicks(sc.x, p.x, pw, true);
        const fy = this.fitTicks(sc.y, p.y, ph, false);
        const lg = p.legendOptions;
        plans.set(p, {
          p,
          x: { scale: sc.x, ticks: fx.ticks, showTicks: showXT, showLabel: !!p.x.label && (sx === 'none' || this.lowestInCol(p)), tickExtent: fx.extent },
          y: { scale: sc.y, ticks: fy.ticks, showTicks: showYT, showLabel: !!p.y.label && (sy === 'none' || this.leftmostInRow(p)), tickExtent: fy.extent },
          outsideLegend: lg && lg.loc === 'outside right' ? legendBlock(lg.entries ?? p.legendEntries(), lg.fontSize ?? legendFs, lg.title) : undefined,
        });
      }
      leftG = new Array(this.cols).fill(6 + wspace / 2);
      rightG = new Array(this.cols).fill(10 + wspace / 2);
      topG = new Array(this.rows).fill(6 + hspace / 2);
      bottomG = new Array(this.rows).fill(6 + hspace / 2);
      for (const pl of plans.values()) {
        const { row, col } = pl.p;
        const left = 6 + wspace / 2 + (pl.y.showTicks ? pl.y.tickExtent + 8 : 0) + (pl.y.showLabel ? labelFs * 1.35 + 4 : 0);
        const right = 10 + wspace / 2 + (pl.outsideLegend ? pl.outsideLegend.w + 10 : 0);
        const top = 6 + hspace / 2 + (pl.p.title ? titleFs * 1.6 : 0);
        const bottom = 6 + hspace / 2 + (pl.x.showTicks ? pl.x.tickExtent + 6 : 0) + (pl.x.showLabel ? labelFs * 1.5 : 0);
        // a title wider than its panel may spill into neighbouring columns, but not off the figure
        const spill = pl.p.title ? Math.max(0, (richWidth(pl.p.title, titleFs) - pw) / 2 + 4) : 0;
        leftG[col] = Math.max(leftG[col], left, col === 0 ? spill : 0);
        rightG[col] = Math.max(rightG[col], right, col === this.cols - 1 ? spill : 0);
        topG[row] = Math.max(topG[row], top);
        bottomG[row] = Math.max(bottomG[row], bottom);
      }
      const sum = (a: number[]) => a.reduce((s, v) => s + v, 0);
      let changed = false;
      if (o.width) {
        const npw = Math.max(40, (o.width - outerLeft - outerRight - sum(leftG) - sum(rightG)) / this.cols);
        changed ||= Math.abs(npw - pw) > 0.5;
        pw = npw;
      }
      if (o.height) {
        const nph = Math.max(40, (o.height - outerTop - outerBottom - sum(topG) - sum(bottomG)) / this.rows);
        changed ||= Math.abs(nph - ph) > 0.5;
        ph = nph;
      }
      if (!changed) break;
    }

    const colX: number[] = [];
    let acc = outerLeft;
    for (let c = 0; c < this.cols; c++) { colX.push(acc + leftG[c]); acc += leftG[c] + pw + rightG[c]; }
    const W = o.width ? Math.max(Math.round(o.width), Math.ceil(acc + outerRight - 1)) : Math.ceil(acc + outerRight);
    const rowY: number[] = [];
    acc = outerTop;
    for (let r = 0; r < this.rows; r++) { rowY.push(acc + topG[r]); acc += topG[r] + ph + bottomG[r]; }
    const H = o.height ? Math.max(Math.round(o.height), Math.ceil(acc + outerBottom - 1)) : Math.ceil(acc + outerBottom);

    const out: string[] = [];
    out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${FONT_FAMILY_ATTR}" font-size="${fs}">`);
    if (o.title) out.push(`<title>${escapeXml(plainText(o.title))}</title>`);
    out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="${escapeXml(o.background ?? '#ffffff')}"/>`);
    // clip paths
    out.push('<defs>');
    for (const p of panels) out.push(`<clipPath id="clip-${p.row}-${p.col}"><rect x="${r2(colX[p.col])}" y="${r2(rowY[p.row])}" width="${r2(pw)}" height="${r2(ph)}"/></clipPath>`);
    out.push('</defs>');

    // grid-wide labels
    const gridLeft = colX[0] - leftG[0], gridRight = colX[this.cols - 1] + pw + rightG[this.cols - 1];
    const plotsLeft = colX[0], plotsRight = colX[this.cols - 1] + pw;
    const plotsTop = rowY[0], plotsBottom = rowY[this.rows - 1] + ph;
    if (o.title) out.push(svgText((gridLeft + gridRight) / 2, 12 + figTitleFs * 1.1, o.title, { size: figTitleFs, anchor: 'middle', bold: true, color: '#111' }));
    if (o.colLabels) {
      for (let c = 0; c < this.cols && c < o.colLabels.length; c++) {
        out.push(svgText(colX[c] + pw / 2, outerTop - rcFs * 0.55, o.colLabels[c], { size: rcFs, anchor: 'middle', color: '#111' }));
      }
    }
    if (o.rowLabels) {
      const x = 10 + (o.yLabel ? rcFs * 1.6 : 0) + rcFs * 1.0;
      for (let r = 0; r < this.rows && r < o.rowLabels.length; r++) {
        out.push(svgText(x, rowY[r] + ph / 2, o.rowLabels[r], { size: rcFs, anchor: 'middle', rotate: -90, color: '#111' }));
      }
    }
    if (o.yLabel) out.push(svgText(10 + rcFs * 1.0, (plotsTop + plotsBottom) / 2, o.yLabel, { size: rcFs, anchor: 'middle', rotate: -90, color: '#111' }));
    if (o.xLabel) out.push(svgText((plotsLeft + plotsRight) / 2, H - outerBottom + rcFs * 1.45, o.xLabel, { size: rcFs, anchor: 'middle', color: '#111' }));

    for (const pl of plans.values()) out.push(this.renderPanel(pl, colX[pl.p.col], rowY[pl.p.row], pw, ph, { labelFs, titleFs, legendFs }));

    if (figLegend) {
      let x: number, y: number;
      if (figLegendPos === 'right') { x = W - outerRight + 16; y = plotsTop; }
      else if (figLegendPos === 'bottom') { x = (W - figLegend.w) / 2; y = H - figLegend.h - 10; }
      else { x = plotsRight - figLegend.w; y = plotsTop; }
      out.push(figLegend.svg(x, y));
    }
    out.push(...this.extras);
    out.push('</svg>');
    return out.join('\n');
  }

  private renderPanel(pl: PanelPlan, x0: number, y0: number, pw: number, ph: number, f: PanelFonts): string {
    const fs = this.fs;
    const { p } = pl;
    const g = panelFrame(pl, x0, y0, pw, ph);
    const out: string[] = [`<g class="panel" data-row="${p.row}" data-col="${p.col}">`];
    out.push(`<rect x="${r2(x0)}" y="${r2(y0)}" width="${r2(pw)}" height="${r2(ph)}" fill="#ffffff"/>`);
    out.push(gridSvg(pl, g));
    // data, clipped to the plot area; pixel points kept for legend placement
    const pts: [number, number][] = [];
    const keep: Keep = (px, py) => { for (let i = 0; i < px.length; i++) if (Number.isFinite(px[i]) && Number.isFinite(py[i])) pts.push([px[i], py[i]]); };
    const data = p.items.map((it) => (it.kind === 'line' ? this.renderLine(it.x, it.y, it.o, g.X, g.Y, keep) : itemSvg(it, g, keep)));
    out.push(`<g clip-path="url(#clip-${p.row}-${p.col})">${data.join('')}</g>`);
    out.push(textsSvg(p, g, fs)); // not clipped
    out.push(frameAndTickMarksSvg(pl, g));
    out.push(tickLabelsSvg(pl, g, fs));
    out.push(axisLabelsSvg(pl, g, f));
    out.push(panelLegendSvg(pl, g, pts, f.legendFs));
    out.push('</g>');
    return out.join('');
  }

  private renderLine(x: Num, y: Num, o: LineOptions, X: (v: number) => number, Y: (v: number) => number, keep: (px: number[], py: number[]) => void): string {
    const n = x.length;
    const mode = o.negative ?? 'keep';
    const w = o.width ?? 1.8;
    const px: number[] = new Array(n), py: number[] = new Array(n), neg: boolean[] = new Array(n);
    for (let i = 0; i < n; i++) {
      let v = y[i];
      neg[i] = v < 0;
      if (mode === 'omit' && v < 0) v = NaN;
      else if (mode === 'abs' || mode === 'dashed') v = Math.abs(v);
      px[i] = X(x[i]);
      py[i] = Y(v);
    }
    keep(px, py);
    const stroke = ` stroke="${escapeXml(o.color!)}" stroke-width="${r2(w)}" fill="none" stroke-linejoin="round" stroke-linecap="round"${attr('stroke-opacity', o.opacity)}`;
    const parts: string[] = [];
    if (mode !== 'dashed' || !neg.some(Boolean)) {
      parts.push(`<path d="${polyline(px, py)}"${stroke}${attr('stroke-dasharray', o.dash)}/>`);
    } else {
      // segments touching a negative point are dashed; the rest keep the line's own style
      let solid = '', dashed = '';
      for (let i = 0; i + 1 < n; i++) {
        if (![px[i], py[i], px[i + 1], py[i + 1]].every(Number.isFinite)) continue;
        const seg = `M${r2(px[i])} ${r2(py[i])}L${r2(px[i + 1])} ${r2(py[i + 1])}`;
        if (neg[i] || neg[i + 1]) dashed += seg; else solid += seg;
      }
      // merge consecutive segments (M a L b M b L c -> M a L b L c) for clean dashes and joins
      const merge = (d: string) => d.replace(/L([-\d.]+) ([-\d.]+)M\1 \2/g, 'L$1 $2');
      const dash = o.negativeDash ?? `${r2(Math.max(5, 3.5 * w))} ${r2(Math.max(3.5, 2.5 * w))}`;
      if (solid) parts.push(`<path d="${merge(solid)}"${stroke}${attr('stroke-dasharray', o.dash)}/>`);
      if (dashed) parts.push(`<path d="${merge(dashed)}"${stroke} stroke-dasharray="${escapeXml(dash)}" class="negative"/>`);
    }
    if (o.marker) {
      for (let i = 0; i < n; i++) if (Number.isFinite(px[i]) && Number.isFinite(py[i])) parts.push(markerSvg(o.marker, px[i], py[i], o.markerSize ?? 6, o.color!, o.color!, 1));
    }
    return parts.join('');
  }
}

// ---- the parts of one panel (Figure.renderPanel), in drawing order

interface PanelFonts { labelFs: number; titleFs: number; legendFs: number }

/** Collects the pixel points of the data (for the placement of a 'best' legend). */
type Keep = (px: number[], py: number[]) => void;

/** A panel's place in the figure and its data -> pixel maps (y grows downwards). */
interface PanelFrame {
  x0: number;
  y0: number;
  pw: number;
  ph: number;
  X: (v: number) => number;
  Y: (v: number) => number;
  /** Whether a value lies on the axis range (to 1e-9 of its length). */
  inX: (v: number) => boolean;
  inY: (v: number) => boolean;
}

function panelFrame(pl: PanelPlan, x0: number, y0: number, pw: number, ph: number): PanelFrame {
  const sx = pl.x.scale, sy = pl.y.scale;
  return {
    x0, y0, pw, ph,
    X: (v) => x0 + sx.frac(v) * pw,
    Y: (v) => y0 + (1 - sy.frac(v)) * ph,
    inX: (v) => { const t = sx.frac(v); return t >= -1e-9 && t <= 1 + 1e-9; },
    inY: (v) => { const t = sy.frac(v); return t >= -1e-9 && t <= 1 + 1e-9; },
  };
}

/** Light grid lines at the major ticks of each axis that has them. */
function gridSvg(pl: PanelPlan, g: PanelFrame): string {
  const { p } = pl;
  const { x0, y0, pw, ph, X, Y } = g;
  const grid: string[] = [];
  if (p.x.grid !== false && p.x.ticks !== false) for (const t of pl.x.ticks.major) if (g.inX(t.value)) grid.push(`M${r2(X(t.value))} ${r2(y0)}V${r2(y0 + ph)}`);
  if (p.y.grid !== false && p.y.ticks !== false) for (const t of pl.y.ticks.major) if (g.inY(t.value)) grid.push(`M${r2(x0)} ${r2(Y(t.value))}H${r2(x0 + pw)}`);
  return grid.length ? `<path d="${grid.join('')}" stroke="#e4e4e4" stroke-width="1" fill="none"/>` : '';
}

type ItemOf<K extends Item['kind']> = Extract<Item, { kind: K }>;

function markersSvg(it: ItemOf<'markers'>, g: PanelFrame, keep: Keep): string {
  const d = it.o.size ?? 7;
  const parts: string[] = [];
  const px: number[] = [], py: number[] = [];
  for (let i = 0; i < it.x.length; i++) {
    const a = g.X(it.x[i]), b = g.Y(it.y[i]);
    if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
    px.push(a); py.push(b);
    parts.push(markerSvg(it.o.shape ?? 'circle', a, b, d, it.o.color!, it.o.fill ?? it.o.color!, it.o.strokeWidth ?? 1.2, it.o.opacity));
  }
  keep(px, py);
  return parts.join('');
}

function ellipseSvg(it: ItemOf<'ellipse'>, g: PanelFrame, keep: Keep): string {
  const e = ellipsePoints(it.cx, it.cy, it.g, 145);
  const px = e.x.map(g.X), py = e.y.map(g.Y);
  keep(px, py);
  const fill = it.o.fill ?? 'none';
  return `<path d="${polyline(px, py)}Z" fill="${escapeXml(fill)}"${fill !== 'none' ? attr('fill-opacity', it.o.fillOpacity ?? 1) : ''} stroke="${escapeXml(it.o.color ?? 'none')}" stroke-width="${r2(it.o.width ?? 1.6)}"${attr('stroke-dasharray', it.o.dash)} stroke-linejoin="round" class="ellipse"/>`;
}

function areaSvg(it: ItemOf<'area'>, g: PanelFrame, keep: Keep): string {
  const px: number[] = [], top: number[] = [], bot: number[] = [];
  for (let i = 0; i < it.x.length; i++) {
    const y0v = typeof it.y0 === 'number' ? it.y0 : it.y0[i];
    const a = g.X(it.x[i]), b = g.Y(it.y1[i]), c = g.Y(y0v);
    if (!Number.isFinite(a) || !Number.isFinite(b) || !Number.isFinite(c)) continue;
    px.push(a); top.push(b); bot.push(c);
  }
  if (px.length < 2) return '';
  keep(px, top);
  let d = `M${r2(px[0])} ${r2(top[0])}`;
  for (let i = 1; i < px.length; i++) d += `L${r2(px[i])} ${r2(top[i])}`;
  for (let i = px.length - 1; i >= 0; i--) d += `L${r2(px[i])} ${r2(bot[i])}`;
  let svg = `<path d="${d}Z" fill="${escapeXml(it.o.color!)}" fill-opacity="${it.o.opacity ?? 0.3}" stroke="none"/>`;
  if (it.o.outline) svg += `<path d="${polyline(px, top)}" fill="none" stroke="${escapeXml(it.o.color!)}" stroke-width="1.6"/>`;
  return svg;
}

function regionSvg(it: ItemOf<'region'>, g: PanelFrame, keep: Keep): string {
  let d = '';
  for (const poly of it.polygons)
    for (const ring of poly) {
      const px = ring.map(([u]) => g.X(u)), py = ring.map(([, w]) => g.Y(w));
      if (px.some((v) => !Number.isFinite(v)) || py.some((v) => !Number.isFinite(v)) || px.length < 3) continue;
      keep(px, py);
      d += `${polyline(px, py)}Z`;
    }
  if (!d) return '';
  const fill = it.o.fill ?? 'none';
  return `<path d="${d}" fill-rule="evenodd" fill="${escapeXml(fill)}"${fill !== 'none' ? attr('fill-opacity', it.o.fillOpacity ?? 1) : ''} stroke="${escapeXml(it.o.color ?? 'none')}" stroke-width="${r2(it.o.width ?? 1.2)}"${attr('stroke-dasharray', it.o.dash)} stroke-linejoin="round"/>`;
}

/** A horizontal or vertical reference line across the panel. */
function referenceLineSvg(it: ItemOf<'hline' | 'vline'>, g: PanelFrame): string {
  const { x0, y0, pw, ph } = g;
  const d = it.kind === 'hline' ? `M${r2(x0)} ${r2(g.Y(it.v))}H${r2(x0 + pw)}` : `M${r2(g.X(it.v))} ${r2(y0)}V${r2(y0 + ph)}`;
  if (d.includes('NaN')) return '';
  return `<path d="${d}" stroke="${escapeXml(it.o.color ?? '#555555')}" stroke-width="${r2(it.o.width ?? 1)}"${attr('stroke-dasharray', it.o.dash)}${attr('stroke-opacity', it.o.opacity)} fill="none"/>`;
}

/** A data item other than a line (texts are drawn outside the clip: textsSvg). */
function itemSvg(it: Exclude<Item, { kind: 'line' }>, g: PanelFrame, keep: Keep): string {
  switch (it.kind) {
    case 'markers': return markersSvg(it, g, keep);
    case 'ellipse': return ellipseSvg(it, g, keep);
    case 'area': return areaSvg(it, g, keep);
    case 'region': return regionSvg(it, g, keep);
    case 'hline': case 'vline': return referenceLineSvg(it, g);
    default: return '';
  }
}

/** Text items, in data or axes coordinates. */
function textsSvg(p: Panel, g: PanelFrame, fs: number): string {
  const out: string[] = [];
  for (const it of p.items) {
    if (it.kind !== 'text') continue;
    const axes = it.o.coords === 'axes';
    const tx = axes ? g.x0 + it.x * g.pw : g.X(it.x), ty = axes ? g.y0 + (1 - it.y) * g.ph : g.Y(it.y);
    if (!Number.isFinite(tx) || !Number.isFinite(ty)) continue;
    out.push(svgText(tx, ty, it.s, { size: it.o.size ?? fs, color: it.o.color ?? '#222', anchor: it.o.anchor, baseline: it.o.baseline, rotate: it.o.rotate, bold: it.o.bold }));
  }
  return out.join('');
}

/** The frame, and major and minor tick marks pointing inwards on all four sides. */
function frameAndTickMarksSvg(pl: PanelPlan, g: PanelFrame): string {
  const { p } = pl;
  const { x0, y0, pw, ph, X, Y } = g;
  let svg = `<rect x="${r2(x0)}" y="${r2(y0)}" width="${r2(pw)}" height="${r2(ph)}" fill="none" stroke="#333333" stroke-width="1.2"/>`;
  const tk: string[] = [];
  const major = 6, minor = 3.5;
  if (p.x.ticks !== false) for (const [vals, len] of [[pl.x.ticks.major.map((t) => t.value), major], [pl.x.ticks.minor, minor]] as const) {
    for (const v of vals) if (g.inX(v)) { const a = r2(X(v)); tk.push(`M${a} ${r2(y0 + ph)}v${-len}M${a} ${r2(y0)}v${len}`); }
  }
  if (p.y.ticks !== false) for (const [vals, len] of [[pl.y.ticks.major.map((t) => t.value), major], [pl.y.ticks.minor, minor]] as const) {
    for (const v of vals) if (g.inY(v)) { const b = r2(Y(v)); tk.push(`M${r2(x0)} ${b}h${len}M${r2(x0 + pw)} ${b}h${-len}`); }
  }
  if (tk.length) svg += `<path d="${tk.join('')}" stroke="#333333" stroke-width="1" fill="none"/>`;
  return svg;
}

/** Labels of the major ticks (x: below, possibly rotated; y: left). */
function tickLabelsSvg(pl: PanelPlan, g: PanelFrame, fs: number): string {
  const { x0, y0, ph } = g;
  const out: string[] = [];
  const angle = pl.p.x.tickAngle ?? 0;
  if (pl.x.showTicks) {
    for (const t of pl.x.ticks.major) {
      if (!g.inX(t.value)) continue;
      const a = g.X(t.value);
      if (angle === 0) out.push(svgText(a, y0 + ph + 6, t.label, { size: fs, anchor: 'middle', baseline: 'hanging', color: '#222' }));
      else out.push(svgText(a + (angle === -90 ? fs * 0.36 : fs * 0.2), y0 + ph + 8, t.label, { size: fs, anchor: 'end', rotate: angle, color: '#222', baseline: angle === -90 ? 'alphabetic' : 'hanging' }));
    }
  }
  if (pl.y.showTicks) {
    for (const t of pl.y.ticks.major) {
      if (!g.inY(t.value)) continue;
      out.push(svgText(x0 - 8, g.Y(t.value), t.label, { size: fs, anchor: 'end', baseline: 'middle', color: '#222' }));
    }
  }
  return out.join('');
}

/** Axis labels (outside the tick labels) and the panel title. */
function axisLabelsSvg(pl: PanelPlan, g: PanelFrame, f: PanelFonts): string {
  const { p } = pl;
  const { x0, y0, pw, ph } = g;
  const out: string[] = [];
  if (pl.x.showLabel && p.x.label) {
    const y = y0 + ph + (pl.x.showTicks ? pl.x.tickExtent + 6 : 4) + f.labelFs * 1.05;
    out.push(svgText(x0 + pw / 2, y, p.x.label, { size: f.labelFs, anchor: 'middle', color: '#111' }));
  }
  if (pl.y.showLabel && p.y.label) {
    const x = x0 - (pl.y.showTicks ? pl.y.tickExtent + 8 : 4) - f.labelFs * 0.35;
    out.push(svgText(x, y0 + ph / 2, p.y.label, { size: f.labelFs, anchor: 'middle', rotate: -90, color: '#111' }));
  }
  if (p.title) out.push(svgText(x0 + pw / 2, y0 - f.titleFs * 0.55, p.title, { size: f.titleFs, anchor: 'middle', color: '#111' }));
  return out.join('');
}

/** Top-left corner of a legend block: a fixed corner, outside right, or ('best') the corner covering fewest data points. */
function legendPosition(loc: LegendLoc, blk: { w: number; h: number }, g: PanelFrame, pts: [number, number][]): [number, number] {
  const { x0, y0, pw, ph } = g;
  const inset = 8;
  const corners: Record<Exclude<LegendLoc, 'best' | 'outside right'>, [number, number]> = {
    'upper right': [x0 + pw - blk.w - inset, y0 + inset],
    'upper left': [x0 + inset, y0 + inset],
    'lower left': [x0 + inset, y0 + ph - blk.h - inset],
    'lower right': [x0 + pw - blk.w - inset, y0 + ph - blk.h - inset],
  };
  if (loc === 'outside right') return [x0 + pw + 10, y0];
  if (loc !== 'best') return corners[loc];
  let best = Infinity;
  let pos = corners['upper right'];
  for (const c of Object.values(corners)) {
    let n = 0;
    for (const [a, b] of pts) if (a >= c[0] - 4 && a <= c[0] + blk.w + 4 && b >= c[1] - 4 && b <= c[1] + blk.h + 4) n++;
    if (n < best) { best = n; pos = c; }
  }
  return pos;
}

/** The panel's legend, if it asked for one and has entries. */
function panelLegendSvg(pl: PanelPlan, g: PanelFrame, pts: [number, number][], legendFs: number): string {
  const { p } = pl;
  const lo = p.legendOptions;
  if (!lo) return '';
  const entries = lo.entries ?? p.legendEntries();
  if (!entries.length) return '';
  const blk = pl.outsideLegend ?? legendBlock(entries, lo.fontSize ?? legendFs, lo.title);
  const [x, y] = legendPosition(lo.loc ?? 'best', blk, g, pts);
  return blk.svg(x, y);
}

/** Smallest pixel distance between neighbouring major ticks. */
function minSpacing(scale: Scale, ticks: Ticks, length: number): number {
  const pos = ticks.major.map((t) => scale.frac(t.value) * length).filter(Number.isFinite).sort((a, b) => a - b);
  let m = Infinity;
  for (let i = 1; i < pos.length; i++) m = Math.min(m, pos[i] - pos[i - 1]);
  return m;
}
