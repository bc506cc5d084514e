/**
 * Axis scales (linear, log10, symmetric log) and their ticks, built on d3-scale:
 *
 *   - the maps from data to [0, 1] along an axis are d3's scaleLinear, scaleLog and scaleSymlog;
 *   - linear ticks and "nice" linear domains are d3's (steps of 1, 2 or 5 x 10^k: d3-array's ticks);
 *   - log ticks come from d3's scaleLog: the 1..9 x 10^k grid on the domain, and on long ranges its
 *     choice of every k-th decade (k = 1, 2, 5 x 10^n).
 *
 * What d3 does not do is kept here: which log ticks are labelled (the decades, or 1-2-5 per decade on
 * ranges shorter than ~2 decades) and which are unlabelled minor ticks, linear minor ticks, symlog ticks
 * (d3's symlog ticks are linear ones), 1-2-5 rounding of log domains (d3 rounds to decades), padding, and
 * the labels. Tick labels are returned in the markup of text.ts (`10^{-9}` renders as 10 with a superscript).
 */
import { tickStep } from 'd3-array';
import { scaleLinear, scaleLog, scaleSymlog, type ScaleContinuousNumeric } from 'd3-scale';
import { formatNumber, formatScientific } from './text.js';

export type ScaleKind = 'linear' | 'log' | 'symlog';

export interface Tick {
  value: number;
  /** Label in text.ts markup. */
  label: string;
}

export interface Ticks {
  major: Tick[];
  /** Unlabelled small ticks. */
  minor: number[];
}

export interface TickOptions {
  /** Upper bound on the number of labelled ticks (default 6). */
  maxMajor?: number;
  /** Log-axis labels: `10^{n}` (default) or `1e-9`. */
  logLabels?: 'power' | 'e';
}

const EPS = 1e-9;

/** The step 1, 2, 2.5 or 5 x 10^k nearest above `raw` (kept for callers; the axes use d3's steps). */
export function niceStep(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 + EPS ? 1 : m <= 2 + EPS ? 2 : m <= 2.5 + EPS ? 2.5 : m <= 5 + EPS ? 5 : 10) * p;
}

/** Number of decimals needed to write multiples of `step` exactly. */
function decimalsOf(step: number): number {
  for (let d = 0; d < 16; d++) {
    const s = step * 10 ** d;
    const r = Math.round(s);
    if (r !== 0 && Math.abs(s - r) < 1e-6 * s) return d;
  }
  return 16;
}

const clean = (v: number) => Number(v.toPrecision(12));

/**
 * d3's linear ticks on [min, max] with the count lowered until there are at most maxMajor + 1, and their
 * step. The range is widened by 1e-9 of its length so that an end a rounding error short of a tick keeps it.
 */
function linearTickValues(min: number, max: number, maxMajor: number): { values: number[]; step: number } {
  const lo = min - EPS * (max - min), hi = max + EPS * (max - min);
  const s = scaleLinear().domain([lo, hi]);
  for (let count = Math.max(1, maxMajor); ; count--) {
    const values = s.ticks(count);
    if (values.length <= maxMajor + 1 || count <= 1) return { values, step: tickStep(lo, hi, count) };
  }
}

/** Ticks at multiples of a 1, 2 or 5 x 10^k step covering [min, max] (at most maxMajor + 1 of them). */
export function linearTicks(min: number, max: number, maxMajor = 6): Ticks {
  if (!(max > min)) return { major: [{ value: min, label: formatNumber(min, 2) }], minor: [] };
  const { values, step } = linearTickValues(min, max, maxMajor);
  const big = Math.max(Math.abs(min), Math.abs(max));
  const sci = big >= 1e5 || big < 1e-3;
  const estep = Math.floor(Math.log10(step) + EPS);
  const mant = step / 10 ** estep; // 1, 2 or 5
  const dec = decimalsOf(step);
  const major = values.map((v) => {
    if (Math.abs(v) < step * 1e-6) return { value: 0, label: '0' };
    if (!sci) return { value: v, label: formatNumber(v, dec) };
    const ev = Math.floor(Math.log10(Math.abs(v)) + EPS);
    return { value: v, label: formatScientific(v, Math.max(0, ev - estep)) };
  });
  // minor ticks: 5 per interval for steps 1 and 5, 4 for 2
  const nsub = Math.abs(mant - 2) < 1e-6 ? 4 : 5;
  const ms = step / nsub;
  const minor: number[] = [];
  for (let k = Math.ceil(min / ms - EPS); k <= Math.floor(max / ms + EPS); k++) {
    if (k % nsub !== 0) minor.push(clean(k * ms));
  }
  return { major, minor };
}

function logLabel(d: number, style: 'power' | 'e'): string {
  return style === 'e' ? `1e${d}` : `10^{${String(d).replace('-', '\u2212')}}`;
}

/** Label of m x 10^d (m in 1..9) for sub-decade log ticks. */
function logMantissaLabel(v: number, style: 'power' | 'e'): string {
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e5) {
    const dec = Math.max(0, -Math.floor(Math.log10(a) + EPS));
    return formatNumber(v, dec);
  }
  if (style === 'e') return v.toExponential(0).replace('e+', 'e');
  return formatScientific(v, 0);
}

const isDecade = (v: number) => Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < EPS;
/** The mantissa m of m x 10^d (1 <= m < 10), rounded to 1e-9. */
const mantissa = (v: number) => Math.round((v / 10 ** Math.floor(Math.log10(v) + EPS)) * 1e9) / 1e9;

/**
 * Ticks of a log10 axis on [min, max] (min > 0): labelled decades (every k-th one, as d3 chooses them,
 * when there are more than maxMajor), minor ticks at 2..9 x 10^n; on ranges shorter than ~2 decades,
 * labelled 1-2-5 ticks.
 */
export function logTicks(min: number, max: number, maxMajor = 6, style: 'power' | 'e' = 'power'): Ticks {
  if (!(min > 0) || !(max > min)) return { major: [], minor: [] };
  // widened by 1e-9 (relative) so that an end a rounding error short of a tick keeps it
  const scale = scaleLog().domain([min * (1 - EPS), max * (1 + EPS)]);
  const span = Math.log10(max) - Math.log10(min);
  // d3 returns the whole 1..9 x 10^n grid while the count exceeds the number of decades spanned (on a
  // range holding too few grid values it falls back to linear ticks, filtered out here)
  const grid = scale.ticks(Math.floor(span) + 1).filter((v) => Number.isInteger(mantissa(v)));
  if (span < 2.2) {
    // 1-2-5 (or 1-3, or 1 only) per decade, whichever first fits maxMajor and gives >= 2 ticks
    for (const mants of [[1, 2, 5], [1, 3], [1]]) {
      const vals = grid.filter((v) => mants.includes(mantissa(v)));
      if (vals.length >= 2 && vals.length <= maxMajor + 1) {
        const major = vals.map((v) => ({ value: v, label: isDecade(v) && (v < 1e-3 || v >= 1e5) ? logLabel(Math.round(Math.log10(v)), style) : logMantissaLabel(v, style) }));
        const set = new Set(vals);
        return { major, minor: grid.filter((v) => !set.has(v)) };
      }
    }
    // less than one 1-2-5 step inside: fall back to linear ticks
    return linearTicks(min, max, Math.max(2, Math.min(maxMajor, 4)));
  }
  // labelled decades: d3's (all of them, or every k-th one on long ranges), at most maxMajor + 1
  let labelled: number[] = [];
  for (let count = Math.max(1, maxMajor); count >= 1; count--) {
    labelled = scale.ticks(count).filter(isDecade);
    if (labelled.length <= maxMajor + 1) break;
  }
  const set = new Set(labelled);
  const decades = grid.filter(isDecade);
  const minor = decades.filter((v) => !set.has(v));
  if (minor.length === 0 && span <= 12) minor.push(...grid.filter((v) => !isDecade(v)));
  minor.sort((a, b) => a - b);
  return { major: labelled.map((v) => ({ value: v, label: logLabel(Math.round(Math.log10(v)), style) })), minor };
}

/** Ticks of a symmetric-log axis: 0 and ±linthresh x 10^k. */
export function symlogTicks(min: number, max: number, linthresh: number, maxMajor = 7, style: 'power' | 'e' = 'power'): Ticks {
  const vals: number[] = [];
  if (min <= 0 && max >= 0) vals.push(0);
  const big = Math.max(Math.abs(min), Math.abs(max));
  const k0 = Math.floor(Math.log10(linthresh) + EPS);
  for (let d = k0; 10 ** d <= big * (1 + EPS); d++) {
    const v = clean(10 ** d);
    if (v <= max * (1 + EPS) && v >= min) vals.push(v);
    if (-v >= min * (1 + EPS) && -v <= max) vals.push(-v);
  }
  vals.sort((a, b) => a - b);
  const decades = vals.filter((v) => v !== 0).map((v) => Math.round(Math.log10(Math.abs(v))));
  const dTop = Math.max(k0, ...decades);
  const nDec = dTop - k0 + 1;
  const stride = Math.max(1, Math.ceil((2 * nDec) / Math.max(1, maxMajor - 1)));
  const major: Tick[] = [];
  const minor: number[] = [];
  for (const v of vals) {
    if (v === 0) { major.push({ value: 0, label: '0' }); continue; }
    const d = Math.round(Math.log10(Math.abs(v)));
    const label = (v < 0 ? '\u2212' : '') + logLabel(d, style);
    // labelled decades counted down from the largest; the innermost (next to 0) only when all are labelled
    const labelled = (dTop - d) % stride === 0 && (stride === 1 || d > k0);
    if (labelled) major.push({ value: v, label });
    else minor.push(v);
  }
  return { major, minor };
}

type AxisMap = ScaleContinuousNumeric<number, number, number>;

/** The d3 scale of an axis, mapping [min, max] to [0, 1] (NaN for values it cannot place). */
function d3Scale(kind: ScaleKind, min: number, max: number, linthresh: number): AxisMap {
  if (kind === 'log') return scaleLog().domain([min, max]).range([0, 1]).unknown(NaN);
  if (kind === 'symlog') return scaleSymlog().constant(linthresh).domain([min, max]).range([0, 1]).unknown(NaN);
  return scaleLinear().domain([min, max]).range([0, 1]).unknown(NaN);
}

/** A map from data values to [0, 1] along an axis. */
export class Scale {
  private readonly map: AxisMap;

  constructor(readonly kind: ScaleKind, readonly min: number, readonly max: number, readonly linthresh = 1) {
    if (kind === 'log' && !(min > 0)) throw new Error(`log scale needs a positive range (got [${min}, ${max}])`);
    this.map = d3Scale(kind, min, max, linthresh);
  }

  /** The transformed coordinate (identity, log10, or sign(v) log10(1 + |v|/linthresh)); NaN off the domain. */
  forward(v: number): number {
    if (this.kind === 'linear') return v;
    if (this.kind === 'log') return v > 0 ? Math.log10(v) : NaN;
    return Math.sign(v) * Math.log10(1 + Math.abs(v) / this.linthresh);
  }

  inverse(u: number): number {
    if (this.kind === 'linear') return u;
    if (this.kind === 'log') return 10 ** u;
    return Math.sign(u) * this.linthresh * (10 ** Math.abs(u) - 1);
  }

  /** Position of v along the axis: 0 at min, 1 at max (outside [0, 1] when v is outside the range; NaN for v <= 0 on a log axis). */
  frac(v: number): number {
    if (this.kind === 'log' && !(v > 0)) return NaN;
    return this.map(v);
  }

  ticks(opts: TickOptions = {}): Ticks {
    const n = opts.maxMajor ?? 6;
    if (this.kind === 'log') return logTicks(this.min, this.max, n, opts.logLabels);
    if (this.kind === 'symlog') return symlogTicks(this.min, this.max, this.linthresh, n, opts.logLabels);
    return linearTicks(this.min, this.max, n);
  }
}

export interface DomainOptions {
  /** Fraction of the range added at each end of a linear/symlog axis (default 0.04). */
  pad?: number;
  /** Round the ends outwards: to d3's tick steps (linear) or to 1, 2, 5 x 10^n (log). */
  nice?: boolean;
  /** Log axes: lowest value shown is at least max / 10^maxDecades. */
  maxDecades?: number;
  linthresh?: number;
}

const floor125 = (v: number) => {
  const d = Math.floor(Math.log10(v) + EPS);
  const m = v / 10 ** d;
  return clean((m >= 5 - EPS ? 5 : m >= 2 - EPS ? 2 : 1) * 10 ** d);
};
const ceil125 = (v: number) => {
  const d = Math.floor(Math.log10(v) - EPS);
  const m = v / 10 ** d;
  return clean((m <= 1 + EPS ? 1 : m <= 2 + EPS ? 2 : m <= 5 + EPS ? 5 : 10) * 10 ** d);
};

/** Axis range covering data in [lo, hi] (for log: the positive part; lo, hi may be ±Infinity when no data). */
export function autoDomain(kind: ScaleKind, lo: number, hi: number, o: DomainOptions = {}): [number, number] {
  if (kind === 'log') {
    if (!(hi > 0) || !Number.isFinite(hi)) return [1, 10];
    if (!(lo > 0) || !Number.isFinite(lo)) lo = hi / 10;
    if (o.maxDecades !== undefined) lo = Math.max(lo, hi / 10 ** o.maxDecades);
    if (hi <= lo * (1 + 1e-12)) { lo /= 2; hi *= 2; }
    if (o.nice !== false) { lo = floor125(lo); hi = ceil125(hi); }
    return [lo, hi];
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi === lo) {
    const w = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= w; hi += w;
  }
  if (kind === 'symlog') {
    // pad in the transformed coordinate: the ends of the padded [0, 1] mapped back
    const s = d3Scale('symlog', lo, hi, o.linthresh ?? 1), p = o.pad ?? 0.04;
    return [s.invert(-p), s.invert(1 + p)];
  }
  if (o.nice) {
    const [a, b] = scaleLinear().domain([lo, hi]).nice(5).domain();
    return [a, b];
  }
  const p = (o.pad ?? 0.04) * (hi - lo);
  return [lo - p, hi + p];
}
