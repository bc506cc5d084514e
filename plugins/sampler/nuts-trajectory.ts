/**
 * One NUTS transition: the No-U-Turn Sampler of Hoffman & Gelman (JMLR 15 (2014) 1593, arXiv:1111.4246) in the form
 * of Betancourt, "A Conceptual Introduction to Hamiltonian Monte Carlo" (arXiv:1701.02434), appendix A:
 *
 *  - the trajectory grows by doubling in a random direction (H&G section 3.1): at depth j a new subtree of 2^j
 *    leapfrog steps is built from the end of the trajectory in that direction;
 *  - multinomial sampling of the point (Betancourt A.3): each point weighs w = exp(H0 - H); inside a subtree the
 *    sample is updated by uniform progressive sampling (take the right half's sample with probability
 *    w_right / (w_left + w_right), A.3.1), at the top by biased progressive sampling (take the new subtree's sample
 *    with probability min(1, w_new / w_old), A.3.2), which favours points far from the start;
 *  - the generalized no-U-turn criterion (Betancourt A.4.2): a (sub)trajectory with momentum sum rho and p# at its
 *    two ends has not turned while p#_begin . rho > 0 and p#_end . rho > 0; checked on every subtree when its two
 *    halves merge, and on the whole trajectory after each doubling. As Stan does since 2020 (for subtrees that
 *    turn only across their join), each merge also checks the left half extended by the first point of the right
 *    half, and the right half extended by the last point of the left half;
 *  - a divergence (Betancourt section 6.2): an energy error H - H0 above `maxEnergyError` (or a point outside the
 *    support, log pi = -Infinity) ends the subtree, which is then not sampled from, and ends the trajectory.
 *
 * The subtree is built iteratively, leaf by leaf: after leaf i the completed subtrees at the levels of i's
 * trailing one-bits are merged (a binary counter), the same order of merges and checks as the recursive
 * algorithm of H&G, with exactly one await (the target evaluation) per leapfrog. Every array is allocated once
 * per chain in a NutsWorkspace; merging swaps array references instead of copying.
 */
import type { Rng } from '../../core/sampling/rng.js';
import { beginLeapfrog, copyPoint, endLeapfrog, phasePoint, type EuclideanMetric, type GradientDensity, type PhasePoint } from './hamiltonian.js';
import { dot } from './dense.js';

/** A (sub)trajectory in build order: its momentum sum, its first and last momenta with p#, its sample, its weight. */
interface Segment {
  rho: Float64Array;
  pBegin: Float64Array;
  sharpBegin: Float64Array;
  pEnd: Float64Array;
  sharpEnd: Float64Array;
  /** The multinomial sample: position, gradient, log pi, H. */
  x: Float64Array;
  g: Float64Array;
  logp: number;
  H: number;
  /** log of the sum of exp(H0 - H) over the segment's points. */
  logWeight: number;
}

function segment(dim: number): Segment {
  const a = () => new Float64Array(dim);
  return { rho: a(), pBegin: a(), sharpBegin: a(), pEnd: a(), sharpEnd: a(), x: a(), g: a(), logp: NaN, H: NaN, logWeight: -Infinity };
}

/** log(e^a + e^b). */
function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

/** The generalized criterion (Betancourt A.4.2): true while the segment with momentum sum rho has not turned. */
function noUTurn(sharpA: Float64Array, sharpB: Float64Array, rho: Float64Array, n: number): boolean {
  return dot(sharpA, rho, n) > 0 && dot(sharpB, rho, n) > 0;
}

function swap<K extends 'x' | 'g' | 'pEnd' | 'sharpEnd'>(a: Segment, b: Segment, k: K): void {
  const t = a[k];
  a[k] = b[k];
  b[k] = t;
}

/** What one transition produced. */
export interface Transition {
  /** The sample (views into the workspace: copy before the next transition). */
  x: Float64Array;
  g: Float64Array;
  logp: number;
  /** H at the sample, with its momentum. */
  energy: number;
  /** Mean of min(1, exp(H0 - H)) over every leapfrog point of the transition (the dual-averaging statistic). */
  acceptStat: number;
  treeDepth: number;
  nLeapfrog: number;
  divergent: boolean;
}

export interface TrajectoryOptions {
  stepSize: number;
  maxTreeDepth: number;
  /** A leapfrog point with H - H0 above this is a divergence (Stan: 1000). */
  maxEnergyError: number;
}

/** The work arrays of one chain's transitions. */
export class NutsWorkspace {
  private readonly left: PhasePoint;
  private readonly right: PhasePoint;
  private readonly whole: Segment;
  /** Free segments (a stack) and the completed subtrees awaiting their right sibling, by level. */
  private readonly free: Segment[] = [];
  private readonly levels: Segment[] = [];
  private readonly rhoTmp: Float64Array;
  private readonly adjacentP: Float64Array;
  private readonly adjacentSharp: Float64Array;
  // per transition
  private H0 = 0;
  private sumAccept = 0;
  private nLeapfrog = 0;
  private divergent = false;

  constructor(readonly dim: number, maxTreeDepth: number) {
    this.left = phasePoint(dim);
    this.right = phasePoint(dim);
    this.whole = segment(dim);
    // a subtree of depth d holds at most d + 1 segments at once (one per level and the current one), plus the
    // one the top level keeps while building
    for (let i = 0; i < maxTreeDepth + 3; i++) this.free.push(segment(dim));
    this.rhoTmp = new Float64Array(dim);
    this.adjacentP = new Float64Array(dim);
    this.adjacentSharp = new Float64Array(dim);
  }

  private take(): Segment {
    const s = this.free.pop();
    if (!s) throw new Error('NutsWorkspace: segment pool exhausted (a bug: more levels than maxTreeDepth)');
    return s;
  }

  private release(s: Segment): void {
    this.free.push(s);
  }

  private releaseLevels(): void {
    while (this.levels.length) this.release(this.levels.pop()!);
  }

  /**
   * A NUTS transition from (x0, g0, logp0) with momentum drawn from the metric. The returned sample's arrays
   * belong to the workspace.
   */
  async transition(metric: EuclideanMetric, logDensity: GradientDensity, rng: Rng, x0: ArrayLike<number>, g0: ArrayLike<number>, logp0: number, o: TrajectoryOptions): Promise<Transition> {
    const n = this.dim;
    const { left, right, whole } = this;
    // the initial point, with fresh momentum
    left.x.set(x0);
    left.g.set(g0);
    left.logp = logp0;
    metric.sampleMomentum(rng, left.p);
    metric.sharp(left.p, left.pSharp);
    this.H0 = -logp0 + metric.kinetic(left.p, left.pSharp);
    copyPoint(left, right);
    whole.rho.set(left.p);
    whole.x.set(left.x);
    whole.g.set(left.g);
    whole.logp = logp0;
    whole.H = this.H0;
    whole.logWeight = 0;
    this.sumAccept = 0;
    this.nLeapfrog = 0;
    this.divergent = false;

    let depth = 0;
    while (depth < o.maxTreeDepth) {
      const forward = rng.uniform() < 0.5;
      const edge = forward ? right : left;
      const far = forward ? left : right;
      this.adjacentP.set(edge.p);
      this.adjacentSharp.set(edge.pSharp);
      const sub = await this.buildSubtree(depth, edge, forward ? o.stepSize : -o.stepSize, metric, logDensity, rng, o.maxEnergyError);
      depth++;
      if (!sub) break; // divergence or a U-turn inside the new subtree: it is not sampled from
      // biased progressive sampling (Betancourt A.3.2)
      const take = sub.logWeight >= whole.logWeight || rng.uniform() < Math.exp(sub.logWeight - whole.logWeight);
      if (take) {
        swap(whole, sub, 'x');
        swap(whole, sub, 'g');
        whole.logp = sub.logp;
        whole.H = sub.H;
      }
      whole.logWeight = logAddExp(whole.logWeight, sub.logWeight);
      // the extra checks across the join, then the whole trajectory (Betancourt A.4.2)
      const tmp = this.rhoTmp;
      for (let i = 0; i < n; i++) tmp[i] = whole.rho[i] + sub.pBegin[i];
      let go = noUTurn(far.pSharp, sub.sharpBegin, tmp, n);
      for (let i = 0; i < n; i++) tmp[i] = this.adjacentP[i] + sub.rho[i];
      go = noUTurn(this.adjacentSharp, sub.sharpEnd, tmp, n) && go;
      for (let i = 0; i < n; i++) whole.rho[i] += sub.rho[i];
      go = noUTurn(left.pSharp, right.pSharp, whole.rho, n) && go;
      this.release(sub);
      if (!go) break;
    }
    return {
      x: whole.x, g: whole.g, logp: whole.logp, energy: whole.H,
      acceptStat: this.nLeapfrog > 0 ? this.sumAccept / this.nLeapfrog : 0,
      treeDepth: depth, nLeapfrog: this.nLeapfrog, divergent: this.divergent,
    };
  }

  /**
   * 2^depth leapfrog steps from `edge` (moved along), merged into one segment; null when a leaf diverged or a
   * merged subtree turned (its sample must then not be used).
   */
  private async buildSubtree(depth: number, edge: PhasePoint, eps: number, metric: EuclideanMetric, logDensity: GradientDensity, rng: Rng, maxEnergyError: number): Promise<Segment | null> {
    const n = this.dim;
    const leaves = 2 ** depth;
    for (let i = 0; i < leaves; i++) {
      // the leapfrog step, with its one await: the target's own promise
      beginLeapfrog(metric, edge, eps);
      const raw = await logDensity.request(edge.x, edge.g);
      const H = endLeapfrog(metric, edge, eps, logDensity.check(raw, edge.x, edge.g));
      this.nLeapfrog++;
      const dH = H - this.H0;
      if (!(dH <= maxEnergyError)) {
        // energy error too large, +Infinity (outside the support) or NaN (an overflowing momentum): diverged
        this.divergent = true;
        this.releaseLevels();
        return null;
      }
      this.sumAccept += dH > 0 ? Math.exp(-dH) : 1;
      let cur = this.take();
      cur.rho.set(edge.p);
      cur.pBegin.set(edge.p);
      cur.pEnd.set(edge.p);
      cur.sharpBegin.set(edge.pSharp);
      cur.sharpEnd.set(edge.pSharp);
      cur.x.set(edge.x);
      cur.g.set(edge.g);
      cur.logp = edge.logp;
      cur.H = H;
      cur.logWeight = -dH;
      // leaf i completes the subtrees at the levels of its trailing one-bits: merge them into their left siblings
      for (let bits = i; bits & 1; bits >>= 1) {
        const leftSeg = this.levels.pop()!;
        const ok = this.merge(leftSeg, cur, rng, n);
        this.release(cur);
        cur = leftSeg;
        if (!ok) {
          this.release(cur);
          this.releaseLevels();
          return null;
        }
      }
      this.levels.push(cur);
    }
    return this.levels.pop()!;
  }

  /** Merge `b` (built after `a`) into `a`: uniform progressive sampling and the subtree's U-turn checks. */
  private merge(a: Segment, b: Segment, rng: Rng, n: number): boolean {
    const logW = logAddExp(a.logWeight, b.logWeight);
    // uniform progressive sampling (Betancourt A.3.1)
    if (rng.uniform() < Math.exp(b.logWeight - logW)) {
      swap(a, b, 'x');
      swap(a, b, 'g');
      a.logp = b.logp;
      a.H = b.H;
    }
    a.logWeight = logW;
    const tmp = this.rhoTmp;
    // a extended by b's first point, and b extended by a's last point
    for (let i = 0; i < n; i++) tmp[i] = a.rho[i] + b.pBegin[i];
    let ok = noUTurn(a.sharpBegin, b.sharpBegin, tmp, n);
    for (let i = 0; i < n; i++) tmp[i] = a.pEnd[i] + b.rho[i];
    ok = noUTurn(a.sharpEnd, b.sharpEnd, tmp, n) && ok;
    for (let i = 0; i < n; i++) a.rho[i] += b.rho[i];
    swap(a, b, 'pEnd');
    swap(a, b, 'sharpEnd');
    return noUTurn(a.sharpBegin, a.sharpEnd, a.rho, n) && ok;
  }
}
