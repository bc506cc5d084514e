/**
 * What every ODE method shares for one solve: the validated problem and options, the error weights and
 * norms, the counted right-hand side with its finiteness check, Jacobians (user or finite-difference),
 * the right-hand side of the forward sensitivity equations, the initial step, the recorder, and the
 * errors that end a solve. A method owns only its stepping loop.
 *
 * Sensitivities: with S = dy/dp (parameter-major, S_p = column p), S' = J S + df/dp. The methods need
 * G_p(t, y, S_p) = J(t, y) S_p + df/dp_p(t, y), evaluated exactly from problem.jacobian / problem.dfdp when
 * given, otherwise as one directional difference of f in the joint direction (S_p, e_p) of (y, p):
 *     G_p ~ [f(t, y + sigma S_p, p + sigma e_p) - f(t, y, p)] / sigma,
 * which costs one evaluation of f per parameter (no Jacobian is formed).
 */
import { Trajectory } from './dense-output.js';
import { OdeError, emptyStats, type OdeOptions, type OdeProblem, type OdeSolution, type OdeStats } from './problem.js';

export const EPS = Number.EPSILON;
const SQRT_EPS = Math.sqrt(EPS);
const CBRT_EPS = Math.cbrt(EPS);
const QRT_EPS = Math.sqrt(SQRT_EPS);

export interface OdeDefaults {
  rtol: number;
  atol: number;
  maxSteps: number;
}

export const BUILTIN_DEFAULTS: OdeDefaults = { rtol: 1e-6, atol: 1e-10, maxSteps: 100_000 };

function toF64(what: string, name: string, v: ArrayLike<number>, n: number | null, t: number): Float64Array {
  const out = Float64Array.from(v);
  if (n !== null && out.length !== n)
    throw new OdeError(`${what}: ${name} must have length ${n}, got ${out.length}`, 'input', t);
  for (let i = 0; i < out.length; i++)
    if (!Number.isFinite(out[i])) throw new OdeError(`${what}: ${name}[${i}] is not finite (${out[i]})`, 'input', t, i);
  return out;
}

export class Run {
  readonly n: number;
  readonly np: number;
  /** Stored vector length: n, or n (1 + np) when sensitivities are integrated. */
  readonly m: number;
  readonly sens: boolean;
  readonly t0: number;
  readonly tEnd: number;
  readonly dir: number;
  readonly rtol: number;
  /** Absolute tolerances of the m stored components. */
  readonly atol: Float64Array;
  readonly maxSteps: number;
  readonly hInit: number;
  readonly hMax: number;
  readonly sensErrorControl: boolean;
  readonly params: Float64Array;
  /** Initial stored vector (y0, then dy0/dp parameter-major). */
  readonly y0: Float64Array;
  readonly stats: OdeStats;
  readonly rec: Trajectory;
  readonly userJacobian: boolean;
  /** Index (in the stored vector) of the component with the largest weighted error in the last norm. */
  worst = 0;

  private readonly problem: OdeProblem;
  private readonly names: readonly string[] | undefined;
  private readonly yPert: Float64Array;
  private readonly fPert: Float64Array;
  private readonly fMinus: Float64Array;
  private readonly yQuad: Float64Array;
  private readonly fpPert: Float64Array | null;
  private readonly f0Scratch: Float64Array;
  private readonly fp: Float64Array | null;
  private readonly jacSens: Float64Array | null;
  /** Last non-finite right-hand side seen in a rejected trial: component, value. */
  private badComponent = -1;
  private badValue = NaN;

  constructor(
    readonly what: string,
    problem: OdeProblem,
    options: OdeOptions = {},
    defaults: OdeDefaults = BUILTIN_DEFAULTS,
  ) {
    this.problem = problem;
    this.names = problem.names;
    if (!problem || typeof problem.f !== 'function') throw new OdeError(`${what}: problem.f must be a function`, 'input', NaN);
    const ts = problem.tspan;
    if (!ts || ts.length !== 2 || !Number.isFinite(ts[0]) || !Number.isFinite(ts[1]))
      throw new OdeError(`${what}: problem.tspan must be two finite numbers, got ${JSON.stringify(ts)}`, 'input', NaN);
    const [t0, t1] = ts;
    if (t0 === t1) throw new OdeError(`${what}: problem.tspan is empty (t0 = t1 = ${t0})`, 'input', t0);
    this.t0 = t0;
    this.tEnd = t1;
    this.dir = t1 > t0 ? 1 : -1;
    this.params = toF64(what, 'problem.params', problem.params ?? [], null, t0);
    const y0Fn = typeof problem.y0 === 'function' ? problem.y0 : null;
    const y0 = toF64(what, 'problem.y0', y0Fn ? y0Fn(this.params) : (problem.y0 as ArrayLike<number>), null, t0);
    const n = y0.length;
    if (n === 0) throw new OdeError(`${what}: problem.y0 is empty`, 'input', t0);
    this.n = n;

    // tolerances
    const rtol = options.rtol ?? defaults.rtol;
    if (!(rtol > 0 && rtol < 1) || rtol < 10 * EPS)
      throw new OdeError(`${what}: rtol must be in [${10 * EPS}, 1), got ${rtol}`, 'input', t0);
    this.rtol = rtol;
    const atolY = new Float64Array(n);
    const atolOpt = options.atol ?? defaults.atol;
    if (typeof atolOpt === 'number') atolY.fill(atolOpt);
    else atolY.set(toF64(what, 'options.atol', atolOpt, n, t0));
    for (let i = 0; i < n; i++)
      if (!(atolY[i] > 0)) throw new OdeError(`${what}: atol must be > 0 (component ${this.label(i)} has ${atolY[i]})`, 'input', t0, i);

    // sensitivities
    this.sens = options.sensitivities === true;
    const np = this.sens ? this.params.length : 0;
    if (this.sens && np === 0)
      throw new OdeError(`${what}: options.sensitivities needs problem.params (the directions of dy/dp)`, 'input', t0);
    this.np = np;
    this.m = n * (1 + np);
    this.sensErrorControl = this.sens && options.sensitivityErrorControl !== false;
    this.atol = new Float64Array(this.m);
    this.atol.set(atolY);
    if (this.sens) {
      const sa = options.sensitivityAtol;
      const base = sa === undefined ? atolY : typeof sa === 'number' ? new Float64Array(n).fill(sa) : toF64(what, 'options.sensitivityAtol', sa, n, t0);
      for (let p = 0; p < np; p++) {
        // CVODES: atolS = atol / pbar with pbar = |p| (1 when p = 0), unless given
        const scale = this.params[p] !== 0 ? 1 / Math.abs(this.params[p]) : 1;
        for (let i = 0; i < n; i++) {
          const v = base[i] * scale;
          if (!(v > 0)) throw new OdeError(`${what}: sensitivityAtol must be > 0`, 'input', t0);
          this.atol[n + p * n + i] = v;
        }
      }
    }

    const maxSteps = options.maxSteps ?? defaults.maxSteps;
    if (!Number.isInteger(maxSteps) || maxSteps < 1)
      throw new OdeError(`${what}: maxSteps must be a positive integer, got ${maxSteps}`, 'input', t0);
    this.maxSteps = maxSteps;
    const span = Math.abs(t1 - t0);
    this.hMax = options.maxStep ?? span;
    if (!(this.hMax > 0)) throw new OdeError(`${what}: maxStep must be > 0, got ${options.maxStep}`, 'input', t0);
    this.hInit = options.initialStep ?? 0;
    if (options.initialStep !== undefined && !(options.initialStep > 0 && Number.isFinite(options.initialStep)))
      throw new OdeError(`${what}: initialStep must be a finite number > 0, got ${options.initialStep}`, 'input', t0);

    this.userJacobian = typeof problem.jacobian === 'function' && options.finiteDifferenceJacobian !== true;
    this.yPert = new Float64Array(n);
    this.fPert = new Float64Array(n);
    this.fMinus = new Float64Array(n);
    this.yQuad = new Float64Array(n);
    this.f0Scratch = new Float64Array(n);
    this.fp = this.sens && problem.dfdp ? new Float64Array(n * np) : null;
    this.fpPert = this.fp ? new Float64Array(n * np) : null;
    this.jacSens = this.sens && this.userJacobian ? new Float64Array(n * n) : null;
    this.stats = emptyStats();

    // initial stored vector: y0 then dy0/dp
    this.y0 = new Float64Array(this.m);
    this.y0.set(y0);
    if (this.sens) this.initialSensitivities(y0Fn);

    // save points
    let tEval: Float64Array | null = null;
    if (options.tEval !== undefined) {
      tEval = toF64(what, 'options.tEval', options.tEval, null, t0);
      for (let k = 0; k < tEval.length; k++) {
        const t = tEval[k];
        if ((t - t0) * this.dir < 0 || (t - t1) * this.dir > 0)
          throw new OdeError(`${what}: options.tEval[${k}] = ${t} lies outside tspan [${t0}, ${t1}]`, 'input', t);
        if (k > 0 && (t - tEval[k - 1]) * this.dir < 0)
          throw new OdeError(`${what}: options.tEval must be monotone in the direction of integration (entry ${k} = ${t})`, 'input', t);
      }
    }
    this.rec = new Trajectory(n, np, this.m, t0, this.y0, this.dir, tEval, options.dense !== false);
  }

  private initialSensitivities(y0Fn: ((p: Float64Array) => ArrayLike<number>) | null): void {
    const { n, np, what, t0 } = this;
    const S = this.y0.subarray(n);
    if (this.problem.dy0dp !== undefined) {
      const d = toF64(what, 'problem.dy0dp', this.problem.dy0dp, n * np, t0);
      for (let i = 0; i < n; i++) for (let p = 0; p < np; p++) S[p * n + i] = d[i * np + p];
    } else if (y0Fn) {
      // central differences, step eps^(1/3) |p| (error O(eps^(2/3)))
      const pr = Float64Array.from(this.params);
      for (let p = 0; p < np; p++) {
        const dp = CBRT_EPS * Math.max(Math.abs(pr[p]), 1);
        pr[p] = this.params[p] + dp;
        const up = Float64Array.from(y0Fn(pr));
        pr[p] = this.params[p] - dp;
        const dn = Float64Array.from(y0Fn(pr));
        pr[p] = this.params[p];
        for (let i = 0; i < n; i++) S[p * n + i] = (up[i] - dn[i]) / (2 * dp);
      }
    }
  }

  /** Human-readable name of stored component i. */
  label(i: number): string {
    const n = this.n;
    const name = (j: number) => this.names?.[j] ?? `y[${j}]`;
    if (i < n) return name(i);
    const p = Math.floor((i - n) / n);
    return `d${name((i - n) % n)}/dp[${p}]`;
  }

  /** f(t, y) into out (n), counted; returns the first non-finite component, or -1. */
  rhs(t: number, y: Float64Array, out: Float64Array): number {
    this.stats.rhsEvals++;
    this.problem.f(t, y, out, this.params);
    for (let i = 0; i < this.n; i++) {
      if (!Number.isFinite(out[i])) {
        this.badComponent = i;
        this.badValue = out[i];
        return i;
      }
    }
    return -1;
  }

  /** f at an accepted point must be finite: a non-finite value there ends the solve. */
  rhsOrFail(t: number, y: Float64Array, out: Float64Array): void {
    const bad = this.rhs(t, y, out);
    if (bad >= 0) this.failNonFinite(t, bad, out[bad], y);
  }

  /**
   * Jacobian df/dy at (t, y) into J (row-major n x n): the user's, or forward differences with steps
   * delta_j = sqrt(eps) max(|y_j|, atol_j) (f0 = f(t, y) must be given). Returns false if not finite.
   */
  jacobian(t: number, y: Float64Array, f0: Float64Array, J: Float64Array): boolean {
    const n = this.n;
    this.stats.jacobians++;
    if (this.userJacobian) {
      J.fill(0);
      this.problem.jacobian!(t, y, J, this.params);
    } else {
      const yp = this.yPert, fp = this.fPert;
      yp.set(y);
      for (let j = 0; j < n; j++) {
        const yj = y[j];
        let d = SQRT_EPS * Math.max(Math.abs(yj), this.atol[j]);
        if (!(d > 0)) d = SQRT_EPS;
        yp[j] = yj + d;
        d = yp[j] - yj; // the step actually represented
        this.rhs(t, yp, fp);
        yp[j] = yj;
        const inv = 1 / d;
        for (let i = 0; i < n; i++) J[i * n + j] = (fp[i] - f0[i]) * inv;
      }
    }
    for (let k = 0; k < n * n; k++) if (!Number.isFinite(J[k])) return false;
    return true;
  }

  /** df/dt at (t, y) by a forward difference in t (exactly 0 for an autonomous f). */
  dfdt(t: number, y: Float64Array, f0: Float64Array, h: number, out: Float64Array): void {
    const n = this.n;
    let d = SQRT_EPS * Math.max(Math.abs(t), Math.abs(h));
    const tp = t + d;
    d = tp - t;
    this.rhs(tp, y, out);
    for (let i = 0; i < n; i++) {
      const v = (out[i] - f0[i]) / d;
      out[i] = Number.isFinite(v) ? v : 0;
    }
  }

  /**
   * Sensitivity right-hand side out_p = J(t, y) S_p + df/dp_p(t, y) for every parameter p (S and out
   * parameter-major, np blocks of n). f0 = f(t, y) may be passed when known (else it is evaluated).
   * Returns the first non-finite stored component index (>= n), or -1.
   */
  sensRhs(t: number, y: Float64Array, f0: Float64Array | null, S: Float64Array, sOff: number, out: Float64Array, oOff: number): number {
    const { n, np, params } = this;
    const prob = this.problem;
    const needF0 = this.userJacobian && !this.fp;
    if (needF0 && !f0) {
      f0 = this.f0Scratch;
      const bad = this.rhs(t, y, f0);
      if (bad >= 0) return bad;
    }
    if (this.fp) {
      this.fp.fill(0);
      prob.dfdp!(t, y, this.fp, params);
    }
    if (this.userJacobian) {
      const J = this.jacSens!;
      J.fill(0);
      this.stats.jacobians++;
      prob.jacobian!(t, y, J, params);
      for (let p = 0; p < np; p++) {
        const s = sOff + p * n, o = oOff + p * n;
        for (let i = 0; i < n; i++) {
          let v = 0;
          for (let j = 0; j < n; j++) v += J[i * n + j] * S[s + j];
          out[o + i] = v;
        }
        if (this.fp) {
          for (let i = 0; i < n; i++) out[o + i] += this.fp[i * np + p];
        } else {
          // df/dp_p by a forward difference in p alone
          const pv = params[p];
          let d = SQRT_EPS * (pv !== 0 ? Math.abs(pv) : 1);
          params[p] = pv + d;
          d = params[p] - pv;
          this.rhs(t, y, this.fPert);
          params[p] = pv;
          for (let i = 0; i < n; i++) out[o + i] += (this.fPert[i] - f0![i]) / d;
        }
      }
    } else {
      // a central directional difference of f per parameter in the joint direction (S_p, e_p) (S_p alone
      // when df/dp is given): error O(sigma^2) + O(eps/sigma) with sigma = eps^(1/3) in scaled units
      const yp = this.yPert, fpert = this.fPert, fm = this.fMinus;
      for (let p = 0; p < np; p++) {
        const s = sOff + p * n, o = oOff + p * n;
        const pv = params[p];
        const norm = this.directionNorm(y, S, s, this.fp ? -1 : p);
        if (norm === 0) {
          // S_p = 0 with df/dp given: G_p = df/dp_p
          for (let i = 0; i < n; i++) out[o + i] = this.fp ? this.fp[i * np + p] : 0;
          continue;
        }
        const sigma = CBRT_EPS / norm;
        for (let i = 0; i < n; i++) yp[i] = y[i] + sigma * S[s + i];
        if (!this.fp) params[p] = pv + sigma;
        this.rhs(t, yp, fpert);
        for (let i = 0; i < n; i++) yp[i] = y[i] - sigma * S[s + i];
        if (!this.fp) params[p] = pv - sigma;
        this.rhs(t, yp, fm);
        params[p] = pv;
        const inv = 0.5 / sigma;
        for (let i = 0; i < n; i++) out[o + i] = (fpert[i] - fm[i]) * inv + (this.fp ? this.fp[i * np + p] : 0);
      }
    }
    for (let k = 0; k < np * n; k++) {
      if (!Number.isFinite(out[oOff + k])) {
        this.badComponent = n + k;
        this.badValue = out[oOff + k];
        return n + k;
      }
    }
    return -1;
  }

  /**
   * RMS norm of a direction in scaled units: components u_i / max(|y_i|, atol_i/rtol), plus 1/|p| for a
   * unit step in parameter p (p < 0: no parameter part). A difference step of h / norm then perturbs
   * every variable by about h relative to its scale.
   */
  directionNorm(y: Float64Array, u: Float64Array, uOff: number, p: number): number {
    const { n, rtol, atol, params } = this;
    let acc = 0;
    for (let i = 0; i < n; i++) {
      const r = u[uOff + i] / Math.max(Math.abs(y[i]), atol[i] / rtol);
      acc += r * r;
    }
    if (p >= 0) {
      const pScale = params[p] !== 0 ? Math.abs(params[p]) : 1;
      acc += 1 / (pScale * pScale);
    }
    return Math.sqrt(acc / (n + (p >= 0 ? 1 : 0)));
  }

  /**
   * The coupling term of the augmented Jacobian for sensitivities, out_p = (d/dy [J S_p + df/dp_p]) u, for
   * every p: a forward difference of the exact sensitivity right-hand side along u when the user's
   * Jacobian is available (G0 = G(t, y, S) given), otherwise a four-point central mixed second difference
   * of f in the directions (u, 0) and (S_p, e_p) (error O(a^2) + O(eps/a^2), a = eps^(1/4) scaled).
   */
  sensCoupling(t: number, y: Float64Array, u: Float64Array, S: Float64Array, sOff: number, G0: Float64Array, g0Off: number, out: Float64Array): number {
    const { n, np, params } = this;
    const un = this.directionNorm(y, u, 0, -1);
    if (un === 0) {
      out.fill(0, 0, n * np);
      return -1;
    }
    const yq = this.yQuad;
    if (this.userJacobian) {
      const e = SQRT_EPS / un;
      for (let i = 0; i < n; i++) yq[i] = y[i] + e * u[i];
      const bad = this.sensRhs(t, yq, null, S, sOff, out, 0);
      if (bad >= 0) return bad;
      for (let k = 0; k < n * np; k++) out[k] = (out[k] - G0[g0Off + k]) / e;
      return -1;
    }
    const a = QRT_EPS / un;
    const f1 = this.fPert, f2 = this.fMinus;
    for (let p = 0; p < np; p++) {
      const s = sOff + p * n, o = p * n;
      const pv = params[p];
      const withP = this.fp ? -1 : p;
      const sn = this.directionNorm(y, S, s, withP);
      if (sn === 0) {
        for (let i = 0; i < n; i++) out[o + i] = 0;
      } else {
        const b = QRT_EPS / sn;
        for (let i = 0; i < n; i++) out[o + i] = 0;
        for (let q = 0; q < 4; q++) {
          const sa = q < 2 ? 1 : -1, sb = q % 2 === 0 ? 1 : -1;
          for (let i = 0; i < n; i++) yq[i] = y[i] + sa * a * u[i] + sb * b * S[s + i];
          if (withP >= 0) params[p] = pv + sb * b;
          const bad = this.rhs(t, yq, f1);
          params[p] = pv;
          if (bad >= 0) return bad;
          const w = (sa * sb) / (4 * a * b);
          for (let i = 0; i < n; i++) out[o + i] += w * f1[i];
        }
      }
      if (this.fp) {
        // plus (d/dy df/dp_p) u by a central difference of the user's df/dp
        const fpp = this.fpPert!;
        for (let i = 0; i < n; i++) yq[i] = y[i] + a * u[i];
        fpp.fill(0);
        this.problem.dfdp!(t, yq, fpp, params);
        for (let i = 0; i < n; i++) f2[i] = fpp[i * np + p];
        for (let i = 0; i < n; i++) yq[i] = y[i] - a * u[i];
        fpp.fill(0);
        this.problem.dfdp!(t, yq, fpp, params);
        for (let i = 0; i < n; i++) out[o + i] += (f2[i] - fpp[i * np + p]) / (2 * a);
      }
    }
    for (let k = 0; k < n * np; k++) if (!Number.isFinite(out[k])) return n + k;
    return -1;
  }

  /**
   * Weighted RMS norm of e (length m) with weights atol_i + rtol max(|a_i|, |b_i|) (Hairer, Norsett &
   * Wanner I, II.4 (4.11)); with sensitivity error control the larger of the state and sensitivity norms.
   * Records the worst component in this.worst.
   */
  errNorm(e: Float64Array, a: Float64Array, b: Float64Array): number {
    const { n, m } = this;
    let norm = this.rms(e, a, b, 0, n);
    if (this.sensErrorControl) {
      const worstY = this.worst;
      const ns = this.rms(e, a, b, n, m);
      if (ns > norm) norm = ns;
      else this.worst = worstY;
    }
    return norm;
  }

  /** Weighted RMS norm over stored components [from, to); sets this.worst to the largest term. */
  rms(e: Float64Array, a: Float64Array, b: Float64Array, from: number, to: number): number {
    const { rtol, atol } = this;
    let s = 0, best = -1, worst = from;
    for (let i = from; i < to; i++) {
      const r = e[i] / (atol[i] + rtol * Math.max(Math.abs(a[i]), Math.abs(b[i])));
      const r2 = r * r;
      s += r2;
      if (!(r2 <= best)) { best = r2; worst = i; }
    }
    this.worst = worst;
    return Math.sqrt(s / (to - from));
  }

  /**
   * Starting step (Hairer, Norsett & Wanner I, II.4, "Starting step size"): from |y0|, |f0| and a second
   * derivative estimate, for a method of order `order`. Costs one evaluation of f.
   */
  initialStep(order: number, t: number, y: Float64Array, f0: Float64Array, scratchY: Float64Array, scratchF: Float64Array): number {
    const { n, rtol, atol, dir } = this;
    const remaining = Math.abs(this.tEnd - t);
    const cap = Math.min(this.hMax, remaining);
    if (this.hInit > 0) return Math.min(this.hInit, cap);
    let d0 = 0, d1 = 0;
    for (let i = 0; i < n; i++) {
      const w = atol[i] + rtol * Math.abs(y[i]);
      d0 += (y[i] / w) ** 2;
      d1 += (f0[i] / w) ** 2;
    }
    d0 = Math.sqrt(d0 / n);
    d1 = Math.sqrt(d1 / n);
    let h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 * Math.max(1, remaining * 1e-6) : 0.01 * (d0 / d1);
    h0 = Math.min(h0, cap);
    for (let i = 0; i < n; i++) scratchY[i] = y[i] + dir * h0 * f0[i];
    const bad = this.rhs(t + dir * h0, scratchY, scratchF);
    if (bad >= 0) return h0 * 0.01;
    let d2 = 0;
    for (let i = 0; i < n; i++) {
      const w = atol[i] + rtol * Math.abs(y[i]);
      d2 += ((scratchF[i] - f0[i]) / w) ** 2;
    }
    d2 = Math.sqrt(d2 / n) / h0;
    const dm = Math.max(d1, d2);
    const h1 = dm <= 1e-15 ? Math.max(1e-6, h0 * 1e-3) : Math.pow(0.01 / dm, 1 / (order + 1));
    return Math.min(100 * h0, h1, cap);
  }

  /** Smallest step allowed at t before the solve is declared stuck. */
  hMin(t: number): number {
    return Math.max(16 * EPS * Math.abs(t), 1e-300);
  }

  /** Whether the last clip() ended the step exactly at t1 (then the new time is t1 itself). */
  clipped = false;

  /** The signed step from t, clipped so as not to pass t1 (sets this.clipped). */
  clip(t: number, h: number): number {
    this.clipped = (t + h - this.tEnd) * this.dir >= 0;
    return this.clipped ? this.tEnd - t : h;
  }

  /** The time reached by the step hs just returned by clip(). */
  stepEnd(t: number, hs: number): number {
    return this.clipped ? this.tEnd : t + hs;
  }

  failNonFinite(t: number, component: number, value: number, y?: Float64Array): never {
    throw new OdeError(
      `${this.what}: the right-hand side is ${value} in component ${this.label(component)} at t = ${t}` +
        (y ? ` (state: ${Array.from(y.subarray(0, Math.min(this.n, 8)), (v) => v.toPrecision(6)).join(', ')}${this.n > 8 ? ', ...' : ''})` : ''),
      'non-finite',
      t,
      component,
    );
  }

  /** Called when |h| fell below hMin(t): names why (a non-finite f near t, or the dominant error component). */
  failUnderflow(t: number, h: number, nonFinite: boolean): never {
    if (nonFinite && this.badComponent >= 0)
      throw new OdeError(
        `${this.what}: the right-hand side stays ${this.badValue} in component ${this.label(this.badComponent)} near t = ${t} ` +
          `even for steps of ${Math.abs(h).toExponential(3)}`,
        'non-finite',
        t,
        this.badComponent,
      );
    throw new OdeError(
      `${this.what}: step size underflow at t = ${t} (|h| = ${Math.abs(h).toExponential(3)}); ` +
        `component ${this.label(this.worst)} dominates the local error (a singularity, or a tolerance too tight for double precision)`,
      'step-underflow',
      t,
      this.worst,
    );
  }

  failMaxSteps(t: number): never {
    throw new OdeError(
      `${this.what}: maximum number of steps (${this.maxSteps}) reached at t = ${t} before t1 = ${this.tEnd}; ` +
        `component ${this.label(this.worst)} limited the last step (raise options.maxSteps, loosen the tolerances, or try a stiff method)`,
      'max-steps',
      t,
      this.worst,
    );
  }
}

/** Assemble the solution of a finished run. */
export function buildSolution(run: Run): OdeSolution {
  const times = run.rec.savedTimes();
  const { states, sens } = run.rec.savedStates();
  const { n, np } = run;
  const nps = run.sens ? np : 0;
  return {
    method: run.rec.method,
    n,
    np: nps,
    times,
    states,
    sensitivities: run.sens ? sens : null,
    interpolant: run.rec.interpolant(run.what),
    stats: run.stats,
    state: (k: number) => states.subarray(k * n, (k + 1) * n),
    sensitivity: (k: number) => {
      if (!sens) throw new OdeError(`${run.what}: sensitivities were not integrated (set options.sensitivities)`, 'input', NaN);
      return sens.subarray(k * nps * n, (k + 1) * nps * n);
    },
  };
}
