/**
 * The one font the plots use (DejaVu Sans, shipped by the `dejavu-fonts-ttf` package) and text metrics
 * read from it: layout needs label widths before anything is rendered, and reading the advance widths
 * from the very TTF file that resvg renders with makes the estimate exact up to kerning.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const FONT_FAMILY = 'DejaVu Sans';
/** Value of the SVG font-family attribute (viewers without DejaVu fall back to a sans font). */
export const FONT_FAMILY_ATTR = 'DejaVu Sans, Verdana, Arial, sans-serif';

let fontDir: string | null | undefined;

/** Directory holding DejaVuSans*.ttf, or null when the package cannot be found. */
export function dejavuDir(): string | null {
  if (fontDir !== undefined) return fontDir;
  try {
    const req = createRequire(import.meta.url);
    fontDir = path.join(path.dirname(req.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  } catch {
    fontDir = null;
  }
  return fontDir;
}

/** The TTF files handed to resvg (regular, bold, oblique, bold oblique). */
export function fontFiles(): string[] {
  const dir = dejavuDir();
  if (!dir) throw new Error('cannot find the dejavu-fonts-ttf package (needed to render PNG plots)');
  return ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSans-Oblique.ttf', 'DejaVuSans-BoldOblique.ttf'].map((f) => path.join(dir, f));
}

interface Metrics {
  unitsPerEm: number;
  advance(code: number): number | undefined;
}

/** Advance widths from the hmtx table, looked up through the cmap (format 4, BMP). */
function parseTtf(buf: Buffer): Metrics {
  const u16 = (o: number) => buf.readUInt16BE(o);
  const u32 = (o: number) => buf.readUInt32BE(o);
  const numTables = u16(4);
  const tables = new Map<string, number>();
  for (let i = 0; i < numTables; i++) {
    const rec = 12 + 16 * i;
    tables.set(buf.toString('latin1', rec, rec + 4), u32(rec + 8));
  }
  const need = (t: string) => {
    const o = tables.get(t);
    if (o === undefined) throw new Error(`TTF without a ${t} table`);
    return o;
  };
  const head = need('head'), hhea = need('hhea'), hmtx = need('hmtx'), cmap = need('cmap');
  const unitsPerEm = u16(head + 18);
  const nMetrics = u16(hhea + 34);
  let sub = -1;
  for (let i = 0, n = u16(cmap + 2); i < n; i++) {
    const rec = cmap + 4 + 8 * i;
    const platform = u16(rec), encoding = u16(rec + 2);
    const off = cmap + u32(rec + 4);
    if (u16(off) === 4 && ((platform === 3 && encoding === 1) || platform === 0)) { sub = off; break; }
  }
  if (sub < 0) throw new Error('TTF without a format-4 cmap');
  const segX2 = u16(sub + 6);
  const ends = sub + 14, starts = ends + segX2 + 2, deltas = starts + segX2, ranges = deltas + segX2;
  const glyph = (c: number): number => {
    for (let s = 0; s < segX2; s += 2) {
      if (c > u16(ends + s)) continue;
      const start = u16(starts + s);
      if (c < start) return 0;
      const delta = u16(deltas + s), ro = u16(ranges + s);
      if (ro === 0) return (c + delta) & 0xffff;
      const g = u16(ranges + s + ro + 2 * (c - start));
      return g === 0 ? 0 : (g + delta) & 0xffff;
    }
    return 0;
  };
  const cache = new Map<number, number | undefined>();
  return {
    unitsPerEm,
    advance(c) {
      if (cache.has(c)) return cache.get(c);
      let w: number | undefined;
      if (c <= 0xffff) {
        const g = glyph(c);
        if (g > 0) w = u16(hmtx + 4 * Math.min(g, nMetrics - 1));
      }
      cache.set(c, w);
      return w;
    },
  };
}

let metrics: Metrics | null | undefined;

function loadMetrics(): Metrics | null {
  if (metrics !== undefined) return metrics;
  try {
    const dir = dejavuDir();
    metrics = dir ? parseTtf(readFileSync(path.join(dir, 'DejaVuSans.ttf'))) : null;
  } catch {
    metrics = null;
  }
  return metrics;
}

/** Width in px of a plain string at font size `size` (DejaVu Sans; bold is ~10% wider). */
export function measureText(s: string, size: number, bold = false): number {
  const m = loadMetrics();
  let em = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    const a = m?.advance(c);
    if (a !== undefined && m) em += a / m.unitsPerEm;
    else em += c === 32 ? 0.318 : c >= 48 && c <= 57 ? 0.636 : c >= 65 && c <= 90 ? 0.7 : 0.62;
  }
  return em * size * (bold ? 1.1 : 1);
}
