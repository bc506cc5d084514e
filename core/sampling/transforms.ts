/**
 * The map between a sampled parameter theta (on its support [a, b]) and an unconstrained coordinate x in R, so
 * that a sampler never proposes a point outside the support (no NaN steps at a bound):
 *
 *   two-sided [a, b]:   theta = a + (b - a) s(x),   s(x) = 1 / (1 + e^-x)   (logit)
 *                       log |dtheta/dx| = log(b - a) + log s(x) + log(1 - s(x)),  d/dx = 1 - 2 s(x)
 *   lower bound a only: theta = a + e^x                                     (log)
 *                       log |dtheta/dx| = x,                                d/dx = 1
 *   upper bound b only: theta = b - e^x                                     (log)
 *                       log |dtheta/dx| = x,                                d/dx = 1
 *   no bound:           theta = x                                           (identity), log-Jacobian 0
 *
 * The density in x is p_x(x) = p_theta(theta(x)) |dtheta/dx| (change of variables), so
 *   log p_x = ln L + ln prior + log-Jacobian,
 *   d log p_x / dx = (d ln L/dtheta + d ln prior/dtheta) dtheta/dx + d log-Jacobian/dx           (chain rule)
 * These are the transforms of Stan's reference manual ("Constraint transforms": lower and upper bounded
 * scalars) and of numpyro's biject_to.
 */

export type TransformKind = 'logit' | 'log-lower' | 'log-upper' | 'identity';

export interface Transform {
  readonly kind: TransformKind;
  readonly lower: number;
  readonly upper: number;
  /** theta(x). */
  toPhysical(x: number): number;
  /** x(theta), for theta strictly inside the support. */
  toUnconstrained(theta: number): number;
  /** dtheta/dx at x. */
  derivative(x: number): number;
  /** log |dtheta/dx| at x. */
  logJacobian(x: number): number;
  /** d log |dtheta/dx| / dx at x. */
  logJacobianGradient(x: number): number;
}

/** log(1 + e^y) without overflow. */
const softplus = (y: number) => (y > 0 ? y + Math.log1p(Math.exp(-y)) : Math.log1p(Math.exp(y)));
/** 1 / (1 + e^-x) without overflow. */
const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

export function transformFor(lower: number, upper: number): Transform {
  const lo = Number.isFinite(lower), hi = Number.isFinite(upper);
  if (lo && hi) {
    const w = upper - lower;
    return {
      kind: 'logit', lower, upper,
      toPhysical: (x) => {
        // lower + w s(x) for x < 0, upper - w s(-x) for x >= 0: accurate near both ends
        return x < 0 ? lower + w * sigmoid(x) : upper - w * sigmoid(-x);
      },
      toUnconstrained: (t) => Math.log(t - lower) - Math.log(upper - t),
      derivative: (x) => { const s = sigmoid(x); return w * s * (1 - s); },
      // log s(x) = -softplus(-x), log(1 - s(x)) = -softplus(x)
      logJacobian: (x) => Math.log(w) - softplus(-x) - softplus(x),
      logJacobianGradient: (x) => 1 - 2 * sigmoid(x),
    };
  }
  if (lo)
    return {
      kind: 'log-lower', lower, upper,
      toPhysical: (x) => lower + Math.exp(x),
      toUnconstrained: (t) => Math.log(t - lower),
      derivative: (x) => Math.exp(x),
      logJacobian: (x) => x,
      logJacobianGradient: () => 1,
    };
  if (hi)
    return {
      kind: 'log-upper', lower, upper,
      toPhysical: (x) => upper - Math.exp(x),
      toUnconstrained: (t) => Math.log(upper - t),
      derivative: (x) => -Math.exp(x),
      logJacobian: (x) => x,
      logJacobianGradient: () => 1,
    };
  return {
    kind: 'identity', lower, upper,
    toPhysical: (x) => x,
    toUnconstrained: (t) => t,
    derivative: () => 1,
    logJacobian: () => 0,
    logJacobianGradient: () => 0,
  };
}

/** The transforms of several parameters, applied coordinate by coordinate. */
export class ParameterMap {
  readonly transforms: Transform[];
  constructor(supports: readonly { lower: number; upper: number }[]) {
    this.transforms = supports.map((s) => transformFor(s.lower, s.upper));
  }
  get dim(): number { return this.transforms.length; }

  toPhysical(x: ArrayLike<number>, out: Float64Array = new Float64Array(x.length)): Float64Array {
    for (let i = 0; i < this.transforms.length; i++) out[i] = this.transforms[i].toPhysical(x[i]);
    return out;
  }

  toUnconstrained(theta: ArrayLike<number>, out: Float64Array = new Float64Array(theta.length)): Float64Array {
    for (let i = 0; i < this.transforms.length; i++) out[i] = this.transforms[i].toUnconstrained(theta[i]);
    return out;
  }

  /** Sum of the log-Jacobians at x. */
  logJacobian(x: ArrayLike<number>): number {
    let s = 0;
    for (let i = 0; i < this.transforms.length; i++) s += this.transforms[i].logJacobian(x[i]);
    return s;
  }

  /**
   * A covariance in theta (dim x dim, row-major) mapped to x at the point x0, to first order:
   * C_x = D C_theta D with D = diag(dx/dtheta) = diag(1 / (dtheta/dx)).
   */
  covarianceToUnconstrained(covTheta: Float64Array, x0: ArrayLike<number>): Float64Array {
    const n = this.dim;
    const d = Float64Array.from({ length: n }, (_, i) => 1 / this.transforms[i].derivative(x0[i]));
    const out = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i * n + j] = d[i] * covTheta[i * n + j] * d[j];
    return out;
  }
}
