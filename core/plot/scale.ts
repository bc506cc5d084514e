/**
 * Axis scales (linear, log10, symmetric log) and their ticks.
 *
 * Tick labels are returned in the markup of text.ts (`10^{-9}` renders as 10 with a superscript).
 */
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

/** The step 1, 2, 2.5 or 5 x 10^k nearest above `raw`. */
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
    if (Math.abs(s - Math.round(s)) < 1e-6 * Math.max(1, s)) return d;
  }
  return 16;
}

const clean = (v: number) => Number(v.toPrecision(12));

/** Ticks at multiples of a nice step covering [min, max] (at most maxMajor + 1 of them). */
export function linearTicks(min: number, max: number, maxMajor = 6): Ticks {
  if (!(max > min)) return { major: [{ value: min, label: formatNumber(min, 2) }], minor: [] };
  const step = niceStep((max - min) / Math.max(1, maxMajor));
  const k0 = Math.ceil(min / step - EPS), k1 = Math.floor(max / step + EPS);
  const values: number[] = [];
  for (let k = k0; k <= k1; k++) values.push(clean(k * step));
  const big = Math.max(Math.abs(min), Math.abs(max));
  const sci = big >= 1e5 || big < 1e-3;
  const estep = Math.floor(Math.log10(step) + EPS);
  const mant = step / 10 ** estep; // 1, 2, 2.5 or 5
  const extra = Math.abs(mant - 2.5) < 1e-6 ? 1 : 0;
  const dec = decimalsOf(step);
  const major = values.map((v) => {
    if (Math.abs(v) < step * 1e-6) return { value: 0, label: '0' };
    if (!sci) return { value: v, label: formatNumber(v, dec) };
    const ev = Math.floor(Math.log10(Math.abs(v)) + EPS);
    return { value: v, label: formatScientific(v, Math.max(0, ev - estep + extra)) };
  });
  // minor ticks: 5 per interval for steps 1 and 5, 4 for 2, 5 for 2.5
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

/**
 * Ticks of a log10 axis on [min, max] (min > 0): labelled decades (every k-th one if there are more than
 * maxMajor), minor ticks at 2..9 x 10^n; on ranges shorter than ~2 decades, labelled 1-2-5 ticks.
 */
export function logTicks(min: number, max: number, maxMajor = 6, style: 'power' | 'e' = 'power'): Ticks {
  if (!(min > 0) || !(max > min)) return { major: [], minor: [] };
  const lo = Math.log10(min), hi = Math.log10(max);
  const d0 = Math.ceil(lo - EPS), d1 = Math.floor(hi + EPS);
  const inRange = (v: number) => v >= min * (1 - EPS) && v <= max * (1 + EPS);
  const subDecadeMinors = (): number[] => {
    const out: number[] = [];
    for (let d = Math.floor(lo) ; d <= d1; d++) for (let m = 2; m <= 9; m++) {
      const v = clean(m * 10 ** d);
      if (inRange(v)) out.push(v);
    }
    return out;
  };
  const span = hi - lo;
  if (span < 2.2) {
    // 1-2-5 (or 1-3, or 1 only) per decade, whichever first fits maxMajor and gives >= 2 ticks
    for (const mants of [[1, 2, 5], [1, 3], [1]]) {
      const vals: number[] = [];
      for (let d = Math.floor(lo) - 1; d <= d1 + 1; d++) for (const m of mants) {
        const v = clean(m * 10 ** d);
        if (inRange(v)) vals.push(v);
      }
      if (vals.length >= 2 && vals.length <= maxMajor + 1) {
        const major = vals.map((v) => ({ value: v, label: Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9 && (v < 1e-3 || v >= 1e5) ? logLabel(Math.round(Math.log10(v)), style) : logMantissaLabel(v, style) }));
        const set = new Set(vals);
        return { major, minor: subDecadeMinors().filter((v) => !set.has(v)) };
      }
    }
    // less than one 1-2-5 step inside: fall back to linear ticks
    return linearTicks(min, max, Math.max(2, Math.min(maxMajor, 4)));
  }
  const nd = d1 - d0 + 1;
  const stride = Math.max(1, Math.ceil(nd / Math.max(1, maxMajor)));
  const major: Tick[] = [];
  const minor: number[] = [];
  for (let d = d0; d <= d1; d++) {
    const v = clean(10 ** d);
    if (((d % stride) + stride) % stride === 0) major.push({ value: v, label: logLabel(d, style) });
    else minor.push(v);
  }
  if (stride === 1 && span <= 12) minor.push(...subDecadeMinors());
  minor.sort((a, b) => a - b);
  return { major, minor };
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

/** A map from data values to [0, 1] along an axis. */
export class Scale {
  private readonly f0: number;
  private readonly f1: number;

  constructor(readonly kind: ScaleKind, readonly min: number, readonly max: number, readonly linthresh = 1) {
    if (kind === 'log' && !(min > 0)) throw new Error(`log scale needs a positive range (got [${min}, ${max}])`);
    this.f0 = this.forward(min);
    this.f1 = this.forward(max);
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

  /** Position of v along the axis: 0 at min, 1 at max (outside [0, 1] when v is outside the range). */
  frac(v: number): number {
    return (this.forward(v) - this.f0) / (this.f1 - this.f0);
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
  /** Round the ends outwards: to step multiples (linear) or to 1, 2, 5 x 10^n (log). */
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
    const s = new Scale('symlog', lo, hi, o.linthresh ?? 1);
    const f0 = s.forward(lo), f1 = s.forward(hi), p = (o.pad ?? 0.04) * (f1 - f0);
    return [s.inverse(f0 - p), s.inverse(f1 + p)];
  }
  if (o.nice) {
    const step = niceStep((hi - lo) / 5);
    return [clean(Math.floor(lo / step + EPS) * step), clean(Math.ceil(hi / step - EPS) * step)];
  }
  const p = (o.pad ?? 0.04) * (hi - lo);
  return [lo - p, hi + p];
}
