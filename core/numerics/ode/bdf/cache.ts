/**
 * What a BDF leg keeps between steps: the work arrays, allocated once per leg (BdfCache), and the scalar
 * state of the integration (BdfState: time, step, order, the Jacobian and LU bookkeeping, failure counts).
 * Stored vectors have length m: the state (n), then the sensitivities (np blocks of n).
 */
import { DenseLU } from '../dense-lu.js';

export class BdfCache {
  /** Rows j = 0..maxOrder+2: nabla^j of the stored vector at the spacing hs (row 0: y_n). */
  readonly D: Float64Array;
  /** Scratch of changeStep: the rescaled rows and the (k+1) x (k+1) rescaling matrix. */
  readonly tmpD: Float64Array;
  readonly Tm: Float64Array;
  /** The predictor y0 = sum_{j<=k} nabla^j y_n and the history term psi. */
  readonly pred: Float64Array;
  readonly psi: Float64Array;
  /** Newton's correction d = y_{n+1} - y0 (= nabla^{k+1} y_{n+1} once converged) and its last increment. */
  readonly dvec: Float64Array;
  readonly delta: Float64Array;
  /** The trial y_{n+1}, and f there (then the sensitivity right-hand sides); V: their state parts. */
  readonly yNew: Float64Array;
  readonly yNewV: Float64Array;
  readonly F: Float64Array;
  readonly FV: Float64Array;
  /** f at the current accepted point. */
  readonly fCur: Float64Array;
  /** Residuals and the vectors handed to the error norm. */
  readonly res: Float64Array;
  /** The Jacobian (row-major n x n) and the LU of the iteration matrix M = I - c J. */
  readonly J: Float64Array;
  readonly lu: DenseLU;
  readonly work: Float64Array;
  readonly scratchY: Float64Array;
  readonly scratchF: Float64Array;

  constructor(n: number, m: number, maxOrder: number) {
    this.D = new Float64Array((maxOrder + 3) * m);
    this.tmpD = new Float64Array((maxOrder + 1) * m);
    this.Tm = new Float64Array((maxOrder + 1) * (maxOrder + 1));
    this.pred = new Float64Array(m);
    this.psi = new Float64Array(m);
    this.dvec = new Float64Array(m);
    this.yNew = new Float64Array(m);
    this.yNewV = this.yNew.subarray(0, n);
    this.F = new Float64Array(m);
    this.FV = this.F.subarray(0, n);
    this.fCur = new Float64Array(n);
    this.res = new Float64Array(m);
    this.delta = new Float64Array(m);
    this.J = new Float64Array(n * n);
    this.lu = new DenseLU(n);
    this.work = new Float64Array(n);
    this.scratchY = new Float64Array(n);
    this.scratchF = new Float64Array(n);
  }
}

export class BdfState {
  /** The current accepted time. */
  t: number;
  /** Signed step the differences D are spaced at, and its magnitude. */
  hs = 0;
  h = 0;
  /** Order, and the number of steps taken at the current step size and order. */
  k = 1;
  nEqual = 0;
  /** J was evaluated at the current accepted point; J is usable (not invalidated). */
  jacCurrent = false;
  jacValid = false;
  /** c = hs / alpha_k the LU of M was made for (NaN: none, or singular). */
  luC = NaN;
  /** Trial steps in a row with a non-finite f; consecutive failed attempts of the current step. */
  nonFiniteStreak = 0;
  failures = 0;

  constructor(t: number) {
    this.t = t;
  }
}
