/**
 * Text in SVG: XML escaping, a tiny markup for super/subscripts, measuring and rendering it.
 *
 * Markup (used by titles, axis labels, tick labels, legend entries): `^{...}` is a superscript and
 * `_{...}` a subscript; braces are required, so plain names such as `LL_1_2` stay literal. A literal
 * `^{` or `_{` is written `\^{` or `\_{`. Everything else is shown as is (Unicode welcome: ℓ, π, Ω, σ).
 */
import { measureText } from './font.js';

/** Escape text for an XML text node or a double-quoted attribute. */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
    // characters not allowed in XML 1.0 at all
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '');
}

/** Baseline shift of a run: 0 normal, +1 superscript, -1 subscript. */
export interface RichRun { text: string; shift: 0 | 1 | -1 }

/** Relative size of super/subscripts; they are never made smaller than MIN_SCRIPT_PX (legibility). */
export const SCRIPT_SCALE = 0.8;
export const MIN_SCRIPT_PX = 11;

/** Font size of a super/subscript of text of size `size`. */
export const scriptSize = (size: number): number => Math.min(size, Math.max(MIN_SCRIPT_PX, size * SCRIPT_SCALE));

/** Split markup into runs (nesting is not supported: the inner text of a script is literal). */
export function parseRich(s: string): RichRun[] {
  const runs: RichRun[] = [];
  let buf = '';
  const push = (text: string, shift: 0 | 1 | -1) => {
    if (!text) return;
    const last = runs[runs.length - 1];
    if (last && last.shift === shift) last.text += text;
    else runs.push({ text, shift });
  };
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && (s[i + 1] === '^' || s[i + 1] === '_') && s[i + 2] === '{') { buf += s[i + 1] + '{'; i += 2; continue; }
    if ((c === '^' || c === '_') && s[i + 1] === '{') {
      const end = s.indexOf('}', i + 2);
      if (end > 0) {
        push(buf, 0);
        buf = '';
        push(s.slice(i + 2, end), c === '^' ? 1 : -1);
        i = end;
        continue;
      }
    }
    buf += c;
  }
  push(buf, 0);
  return runs;
}

/** The text with markup removed (for alt text, tests and searching). */
export const plainText = (s: string): string => parseRich(s).map((r) => r.text).join('');

/** Width in px of a marked-up string at font size `size`. */
export function richWidth(s: string, size: number, bold = false): number {
  let w = 0;
  for (const r of parseRich(s)) w += measureText(r.text, r.shift === 0 ? size : scriptSize(size), bold);
  return w;
}

export interface TextStyle {
  size: number;
  anchor?: 'start' | 'middle' | 'end';
  /** Rotation in degrees about the anchor point (-90: reading upwards). */
  rotate?: number;
  color?: string;
  bold?: boolean;
  italic?: boolean;
  /** Vertical alignment of (x, y): the baseline (default), the middle of the x-height, or the top of capitals. */
  baseline?: 'alphabetic' | 'middle' | 'hanging';
  opacity?: number;
  className?: string;
}

const r2 = (v: number) => (Math.round(v * 100) / 100).toString();

/** An SVG <text> element for marked-up text; (x, y) in px. */
export function svgText(x: number, y: number, s: string, st: TextStyle): string {
  const size = st.size;
  // baseline shifts computed here (resvg's dominant-baseline support is partial)
  const dyBase = st.baseline === 'middle' ? 0.36 * size : st.baseline === 'hanging' ? 0.73 * size : 0;
  const attrs = [`x="${r2(x)}"`, `y="${r2(y + dyBase)}"`, `font-size="${r2(size)}"`];
  if (st.anchor && st.anchor !== 'start') attrs.push(`text-anchor="${st.anchor}"`);
  if (st.rotate) attrs.push(`transform="rotate(${r2(st.rotate)} ${r2(x)} ${r2(y)})"`);
  if (st.color) attrs.push(`fill="${escapeXml(st.color)}"`);
  if (st.bold) attrs.push('font-weight="bold"');
  if (st.italic) attrs.push('font-style="italic"');
  if (st.opacity !== undefined && st.opacity < 1) attrs.push(`fill-opacity="${st.opacity}"`);
  if (st.className) attrs.push(`class="${escapeXml(st.className)}"`);
  const runs = parseRich(s);
  let body = '';
  if (runs.length === 1 && runs[0].shift === 0) body = escapeXml(runs[0].text);
  else {
    const small = scriptSize(size);
    const up = 0.42 * size, down = 0.2 * size;
    let cur = 0; // current baseline offset (px, positive = up)
    for (const run of runs) {
      const target = run.shift === 1 ? up : run.shift === -1 ? -down : 0;
      const dy = cur - target;
      const a: string[] = [];
      if (dy !== 0) a.push(`dy="${r2(dy)}"`);
      if (run.shift !== 0) a.push(`font-size="${r2(small)}"`);
      body += a.length ? `<tspan ${a.join(' ')}>${escapeXml(run.text)}</tspan>` : escapeXml(run.text);
      cur = target;
    }
  }
  return `<text ${attrs.join(' ')}>${body}</text>`;
}

const MINUS = '\u2212';

/** A number as a label: plain decimals with `decimals` digits, or m×10^{e} when asked. */
export function formatNumber(v: number, decimals: number): string {
  if (v === 0 || Object.is(v, -0)) return '0';
  const s = v.toFixed(Math.max(0, Math.min(20, decimals)));
  return s.replace('-', MINUS);
}

/** m×10^{e} with `digits` decimals in the mantissa (mantissa 1 is dropped: 10^{e}). */
export function formatScientific(v: number, digits = 0): string {
  if (v === 0) return '0';
  let e = Math.floor(Math.log10(Math.abs(v)));
  let m = v / 10 ** e;
  if (Math.abs(Number(m.toFixed(digits))) >= 10) { e += 1; m /= 10; }
  const ms = m.toFixed(digits);
  const exp = `10^{${String(e).replace('-', MINUS)}}`;
  if (ms === '1' || ms === '1.' + '0'.repeat(digits)) return exp;
  if (ms === '-1' || ms === '-1.' + '0'.repeat(digits)) return MINUS + exp;
  return `${ms.replace('-', MINUS)}×${exp}`;
}

/** A short general-purpose format: 3 significant digits, scientific outside [1e-3, 1e5). */
export function formatValue(v: number, sig = 3): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return formatScientific(v, sig - 1);
  const dec = Math.max(0, sig - 1 - Math.floor(Math.log10(a)));
  return formatNumber(Number(v.toFixed(dec)), dec);
}
