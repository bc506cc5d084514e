/**
 * Step-size control of the one-step methods (tsit5, rosenbrock), as OrdinaryDiffEq.jl's IController and
 * PIController (Gustafsson 1991; Hairer & Wanner II, IV.2 (2.43c)). From the scaled error norm errN of a
 * step (accepted when errN <= 1), the factor the next step is h times:
 *
 *   rejected:    min(1, max(qmin, safety errN^(-1/p)))           (qmin when errN is not finite)
 *   accepted:    safety errN^(-beta1) errPrev^(beta2) in [qmin, qmax], at most 1 right after a rejection
 *                (errN floored at 1e-10; errPrev = max(errN, 1e-4) of the previous accepted step)
 *   non-finite:  1/4 (a trial step met a non-finite f)
 *
 * beta2 = 0 is the I controller, whose exponent beta1 is then 1/p. The BDF leg has its own controller
 * (bdf/controller.ts: step size and order).
 */

export interface ControllerSettings {
  /** Exponent order of the rejection factor (errN^(-1/p)). */
  p: number;
  beta1: number;
  beta2: number;
  qmin: number;
  qmax: number;
  safety: number;
}

export class StepController {
  private readonly rejectExp: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly qmin: number;
  private readonly qmax: number;
  private readonly safety: number;
  /** Error of the previous accepted step (beta2 term). */
  private errOld = 1e-4;
  private rejectedLast = false;

  constructor(o: ControllerSettings) {
    this.rejectExp = -1 / o.p;
    this.beta1 = o.beta1;
    this.beta2 = o.beta2;
    this.qmin = o.qmin;
    this.qmax = o.qmax;
    this.safety = o.safety;
  }

  /** Factor of the retry after a failed error test. */
  rejected(errN: number): number {
    this.rejectedLast = true;
    const fac = Number.isFinite(errN) ? Math.max(this.qmin, this.safety * Math.pow(errN, this.rejectExp)) : this.qmin;
    return Math.min(1, fac);
  }

  /** Factor of the retry after a non-finite trial step. */
  nonFinite(): number {
    this.rejectedLast = true;
    return 0.25;
  }

  /** Factor of the next step after an accepted one. */
  accepted(errN: number): number {
    let fac = this.safety * Math.pow(Math.max(errN, 1e-10), -this.beta1);
    if (this.beta2 !== 0) fac *= Math.pow(this.errOld, this.beta2);
    fac = Math.min(this.qmax, Math.max(this.qmin, fac));
    if (this.rejectedLast) fac = Math.min(1, fac);
    this.errOld = Math.max(errN, 1e-4);
    this.rejectedLast = false;
    return fac;
  }
}
