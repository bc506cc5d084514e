/**
 * Recording a solve: the saved points (every accepted step, or the requested t_eval points filled from
 * each step's interpolant) and the dense output, a list of segments [t_start, t_end] with each method's
 * own interpolation data packed in one growable Float64Array.
 *
 * Each stored vector has length m: the state (n) followed, when sensitivities are integrated, by the
 * sensitivity blocks (np blocks of n). Every interpolant below is a linear combination of stored vectors,
 * so the state and the sensitivities are evaluated by the same formula over different index ranges.
 */
import { OdeError, type OdeInterpolant } from './problem.js';

/** Which formula a segment's payload follows. */
export enum SegmentKind {
  /** Tsitouras (2011) continuous extension: [y0, k1..k7], y = y0 + h sum b_i(theta) k_i. */
  Tsit5 = 0,
  /** Shampine & Reichelt (1997) ode23s interpolant: [y0, k1, k2]. */
  Rosenbrock23 = 1,
  /** Hairer & Wanner RODAS dense output: [y0, y1, q1, q2]. */
  Rodas4 = 2,
  /** Newton backward-difference polynomial of a BDF/NDF step: [D0..Dk] at t_end with spacing h. */
  Bdf = 3,
}

/** Vectors stored per segment of each kind (Bdf: order + 1). */
export function segmentVectors(kind: SegmentKind, order: number): number {
  switch (kind) {
    case SegmentKind.Tsit5: return 8;
    case SegmentKind.Rosenbrock23: return 3;
    case SegmentKind.Rodas4: return 4;
    case SegmentKind.Bdf: return order + 1;
  }
}

// Tsitouras (2011), continuous extension of order 4: b_i(theta) = sum_j B[i][j] theta^(j+1), j = 0..3.
const TSIT5_DENSE = [
  [1.0, -2.763706197274826, 2.9132554618219126, -1.0530884977290216],
  [0.0, 0.1317, -0.2234, 0.1017],
  [0.0, 3.9302962368947516, -5.941033872131505, 2.490627285651253],
  [0.0, -12.411077166933676, 30.33818863028232, -16.548102889244902],
  [0.0, 37.50931341651104, -88.1789048947664, 47.37952196281928],
  [0.0, -27.896526289197286, 65.09189467479366, -34.87065786149661],
  [0.0, 1.5, -4.0, 2.5],
];

/** The seven weights b_i(theta) of the Tsit5 interpolant (exported for the order-condition tests). */
export function tsit5DenseWeights(theta: number, out: Float64Array): Float64Array {
  for (let i = 0; i < 7; i++) {
    const c = TSIT5_DENSE[i];
    out[i] = theta * (c[0] + theta * (c[1] + theta * (c[2] + theta * c[3])));
  }
  return out;
}

/** d = 1/(2 + sqrt 2), the Rosenbrock23 diagonal (Shampine & Reichelt 1997, section 3.1). */
export const ROS23_D = 1 / (2 + Math.SQRT2);

const weights = new Float64Array(8);

/**
 * Evaluate a segment's interpolant at t for components [i0, i0 + count) of the stored vectors,
 * writing out[outOff + (i - i0)].
 */
export function evalSegment(
  kind: SegmentKind,
  buf: Float64Array,
  off: number,
  m: number,
  order: number,
  tStart: number,
  tEnd: number,
  t: number,
  out: Float64Array,
  outOff: number,
  i0: number,
  count: number,
): void {
  const h = tEnd - tStart;
  switch (kind) {
    case SegmentKind.Tsit5: {
      const th = h === 0 ? 1 : (t - tStart) / h;
      tsit5DenseWeights(th, weights);
      for (let c = 0; c < count; c++) {
        const i = i0 + c;
        let s = 0;
        for (let j = 0; j < 7; j++) s += weights[j] * buf[off + (j + 1) * m + i];
        out[outOff + c] = buf[off + i] + h * s;
      }
      return;
    }
    case SegmentKind.Rosenbrock23: {
      // y(t0 + theta h) = y0 + h [theta(1-theta)/(1-2d) k1 + theta(theta-2d)/(1-2d) k2]
      const th = h === 0 ? 1 : (t - tStart) / h;
      const d = ROS23_D;
      const w1 = (th * (1 - th)) / (1 - 2 * d);
      const w2 = (th * (th - 2 * d)) / (1 - 2 * d);
      for (let c = 0; c < count; c++) {
        const i = i0 + c;
        out[outOff + c] = buf[off + i] + h * (w1 * buf[off + m + i] + w2 * buf[off + 2 * m + i]);
      }
      return;
    }
    case SegmentKind.Rodas4: {
      // y(theta) = (1-theta) y0 + theta (y1 + (1-theta)(q1 + theta q2))
      const th = h === 0 ? 1 : (t - tStart) / h;
      const s1 = 1 - th;
      for (let c = 0; c < count; c++) {
        const i = i0 + c;
        out[outOff + c] = s1 * buf[off + i] + th * (buf[off + m + i] + s1 * (buf[off + 2 * m + i] + th * buf[off + 3 * m + i]));
      }
      return;
    }
    case SegmentKind.Bdf: {
      // p(t_end + s h) = sum_j D_j prod_{i<j} (s + i)/(i + 1), s in [-1, 0]
      const s = h === 0 ? 0 : (t - tEnd) / h;
      weights[0] = 1;
      for (let j = 1; j <= order; j++) weights[j] = (weights[j - 1] * (s + j - 1)) / j;
      for (let c = 0; c < count; c++) {
        const i = i0 + c;
        let v = 0;
        for (let j = 0; j <= order; j++) v += weights[j] * buf[off + j * m + i];
        out[outOff + c] = v;
      }
      return;
    }
  }
}

/** Growable typed arrays (amortised doubling; allocation happens only when a buffer grows). */
function grow64(a: Float64Array, need: number): Float64Array {
  if (need <= a.length) return a;
  const b = new Float64Array(Math.max(need, 2 * a.length, 16));
  b.set(a);
  return b;
}
function grow32(a: Int32Array, need: number): Int32Array {
  if (need <= a.length) return a;
  const b = new Int32Array(Math.max(need, 2 * a.length, 16));
  b.set(a);
  return b;
}

export class Trajectory {
  /** Payload buffer; re-read after every beginSegment (it may have grown). */
  buf: Float64Array;
  private bufUsed = 0;
  private segStart: Float64Array = new Float64Array(16);
  private segEnd: Float64Array = new Float64Array(16);
  private segKind: Int32Array = new Int32Array(16);
  private segOff: Int32Array = new Int32Array(16);
  private segOrder: Int32Array = new Int32Array(16);
  private nSeg = 0;
  // the segment being written
  private curKind: SegmentKind = SegmentKind.Tsit5;
  private curOff = 0;
  private curOrder = 0;
  private curStart = 0;
  private curEnd = 0;

  // saved points
  private times: Float64Array;
  private values: Float64Array;
  private nSaved = 0;
  private evalIdx = 0;
  /** Solver label for the solution (set by the method that ran; `auto` composes it). */
  method = '';

  constructor(
    readonly n: number,
    readonly np: number,
    /** Stored vector length: n, or n(1 + np) with sensitivities. */
    readonly m: number,
    readonly t0: number,
    y0: Float64Array,
    readonly dir: number,
    readonly tEval: Float64Array | null,
    readonly dense: boolean,
  ) {
    this.buf = new Float64Array(dense ? 64 * m : 16 * m);
    const cap = tEval ? tEval.length : 64;
    this.times = new Float64Array(cap);
    this.values = new Float64Array(cap * m);
    // the initial point is saved when it is a requested point, or always without t_eval
    while (tEval && this.evalIdx < tEval.length && tEval[this.evalIdx] === t0) this.pushSaved(t0, y0, 0);
    if (!tEval) this.pushSaved(t0, y0, 0);
  }

  private pushSaved(t: number, v: Float64Array, off: number): void {
    const k = this.nSaved++;
    this.times = grow64(this.times, k + 1);
    this.values = grow64(this.values, (k + 1) * this.m);
    this.times[k] = t;
    this.values.set(v.subarray(off, off + this.m), k * this.m);
    if (this.tEval) this.evalIdx++;
  }

  /**
   * Reserve a payload for a step [tStart, tEnd] of the given kind; returns the offset into this.buf where
   * the stepper writes its vectors. Without dense output the same scratch region is reused every step.
   */
  beginSegment(kind: SegmentKind, tStart: number, tEnd: number, order = 0): number {
    const size = segmentVectors(kind, order) * this.m;
    const off = this.dense ? this.bufUsed : 0;
    this.buf = grow64(this.buf, off + size);
    this.curKind = kind;
    this.curOff = off;
    this.curOrder = order;
    this.curStart = tStart;
    this.curEnd = tEnd;
    return off;
  }

  /** Close the segment: fill the t_eval points it covers (or save its end point) and keep it if dense. */
  commit(yEnd: Float64Array): void {
    const { curStart: ta, curEnd: tb, dir } = this;
    if (this.tEval) {
      const te = this.tEval;
      while (this.evalIdx < te.length && (te[this.evalIdx] - tb) * dir <= 0) {
        const t = te[this.evalIdx];
        if (t === tb) {
          this.pushSaved(t, yEnd, 0);
        } else {
          const k = this.nSaved;
          this.times = grow64(this.times, k + 1);
          this.values = grow64(this.values, (k + 1) * this.m);
          evalSegment(this.curKind, this.buf, this.curOff, this.m, this.curOrder, ta, tb, t, this.values, k * this.m, 0, this.m);
          this.times[k] = t;
          this.nSaved++;
          this.evalIdx++;
        }
      }
    } else {
      this.pushSaved(tb, yEnd, 0);
    }
    if (this.dense) {
      const s = this.nSeg++;
      this.segStart = grow64(this.segStart, s + 1);
      this.segEnd = grow64(this.segEnd, s + 1);
      this.segKind = grow32(this.segKind, s + 1);
      this.segOff = grow32(this.segOff, s + 1);
      this.segOrder = grow32(this.segOrder, s + 1);
      this.segStart[s] = ta;
      this.segEnd[s] = tb;
      this.segKind[s] = this.curKind;
      this.segOff[s] = this.curOff;
      this.segOrder[s] = this.curOrder;
      this.bufUsed = this.curOff + segmentVectors(this.curKind, this.curOrder) * this.m;
    }
  }

  savedTimes(): Float64Array {
    return this.times.slice(0, this.nSaved);
  }

  /** Saved states (n per point) and, when np > 0, sensitivities (np*n per point). */
  savedStates(): { states: Float64Array; sens: Float64Array | null } {
    const { n, m, np, nSaved } = this;
    const states = new Float64Array(nSaved * n);
    const sens = np > 0 && m > n ? new Float64Array(nSaved * np * n) : null;
    for (let k = 0; k < nSaved; k++) {
      states.set(this.values.subarray(k * m, k * m + n), k * n);
      if (sens) sens.set(this.values.subarray(k * m + n, (k + 1) * m), k * np * n);
    }
    return { states, sens };
  }

  /** The dense interpolant over [t0, tLast] (null without dense output). */
  interpolant(what: string): OdeInterpolant | null {
    if (!this.dense) return null;
    const nSeg = this.nSeg;
    const segStart = this.segStart.slice(0, nSeg);
    const segEnd = this.segEnd.slice(0, nSeg);
    const segKind = this.segKind.slice(0, nSeg);
    const segOff = this.segOff.slice(0, nSeg);
    const segOrder = this.segOrder.slice(0, nSeg);
    const buf = this.buf.slice(0, this.bufUsed);
    const { n, m, np, dir, t0 } = this;
    const tEnd = nSeg > 0 ? segEnd[nSeg - 1] : t0;
    const hasSens = np > 0 && m > n;
    const find = (t: number): number => {
      if (!(Number.isFinite(t) && (t - t0) * dir >= 0 && (t - tEnd) * dir <= 0))
        throw new OdeError(`${what}: interpolant asked for t = ${t}, outside the solved span [${t0}, ${tEnd}]`, 'input', t);
      // first segment whose end is at or beyond t (in the direction of integration)
      let lo = 0, hi = nSeg - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((segEnd[mid] - t) * dir >= 0) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    };
    const evalRange = (t: number, out: Float64Array, i0: number, count: number): Float64Array => {
      if (nSeg === 0) throw new OdeError(`${what}: no step was taken, nothing to interpolate`, 'input', t);
      const s = find(t);
      evalSegment(segKind[s], buf, segOff[s], m, segOrder[s], segStart[s], segEnd[s], t, out, 0, i0, count);
      return out;
    };
    return {
      tStart: t0,
      tEnd,
      at: (t, out = new Float64Array(n)) => evalRange(t, out, 0, n),
      sensitivityAt: (t, out = new Float64Array(np * n)) => {
        if (!hasSens) throw new OdeError(`${what}: sensitivities were not integrated (set options.sensitivities)`, 'input', t);
        return evalRange(t, out, n, np * n);
      },
    };
  }
}
