/**
 * sigma^2(R) of the linear density field smoothed with a spherical top hat, for the sigma8 normalisation:
 *
 *   sigma^2(R) = Integral d ln k  Delta^2(k) W^2(k R),   Delta^2(k) = k^3 P(k) / (2 pi^2),
 *   W(x) = 3 (sin x - x cos x) / x^3                     (e.g. Peebles 1980; Smith et al. 2003 eq. 5)
 *
 * and sigma8 = sigma(R = 8 Mpc/h) of total matter at z = 0.
 *
 * Quadrature: a fixed composite Gauss-Legendre rule in ln k on [1e-5, 1e2] /Mpc (1024 panels of 8 nodes,
 * panel width 0.016 in ln k). Below 1e-5 /Mpc Delta^2 ~ k^(3+n_s) contributes < 1e-15 of sigma8^2; above
 * 1e2 /Mpc the window W^2 < 9/(kR)^4 ~ 5e-12 leaves < 1e-9. Doubling the panels changes sigma8 by < 1e-10
 * (test/plugins/linear-power). The rule is fixed, so the tangents are exact derivatives of the sum.
 */
import type { Dual } from '../../core/ad/dual.js';
import type { DualArray } from '../../core/ad/dual-array.js';
import { gaussLegendreRule } from '../../core/numerics/gauss-legendre.js';

export const SIGMA8_K_MIN = 1e-5;
export const SIGMA8_K_MAX = 1e2;

/** Below this x the closed forms lose digits to cancellation; the Taylor series (to x^8) is exact to 1e-15 there. */
const SERIES_X = 0.1;

/** W(x) = 3 (sin x - x cos x)/x^3 = 1 - x^2/10 + x^4/280 - x^6/15120 + x^8/1330560 - ... */
export function topHatWindow(x: number): number {
  const x2 = x * x;
  if (Math.abs(x) < SERIES_X) return 1 + x2 * (-1 / 10 + x2 * (1 / 280 + x2 * (-1 / 15120 + x2 / 1330560)));
  return (3 * (Math.sin(x) - x * Math.cos(x))) / (x2 * x);
}

/** W'(x) = 3 [(x^2 - 3) sin x + 3 x cos x] / x^4 = -x/5 + x^3/70 - x^5/2520 + x^7/166320 - ... */
export function topHatWindowDeriv(x: number): number {
  const x2 = x * x;
  if (Math.abs(x) < SERIES_X) return x * (-1 / 5 + x2 * (1 / 70 + x2 * (-1 / 2520 + x2 / 166320)));
  return (3 * ((x2 - 3) * Math.sin(x) + 3 * x * Math.cos(x))) / (x2 * x2);
}

export interface LogKRule {
  /** Nodes [1/Mpc]. */
  readonly k: Float64Array;
  /** Weights for d ln k. */
  readonly w: Float64Array;
}

const rules = new Map<number, LogKRule>();

/** The d ln k rule on [SIGMA8_K_MIN, SIGMA8_K_MAX] with `panels` Gauss-Legendre panels of 8 nodes. */
export function sigmaRule(panels = 1024): LogKRule {
  let r = rules.get(panels);
  if (!r) {
    const g = gaussLegendreRule(Math.log(SIGMA8_K_MIN), Math.log(SIGMA8_K_MAX), 8, panels);
    r = { k: Float64Array.from(g.x, Math.exp), w: g.w };
    rules.set(panels, r);
  }
  return r;
}

/**
 * sigma^2(R) = sum_i w_i Delta2_i W^2(k_i R) with its tangent: Delta2 (on the rule's nodes) carries its
 * own, and R enters through d W^2 / d ln R = 2 W W'(x) x.
 */
export function topHatVariance(rule: LogKRule, Delta2: DualArray, R: Dual): Dual {
  const { k, w } = rule;
  const n = k.length;
  if (Delta2.value.length !== n) throw new Error(`topHatVariance: Delta2 has ${Delta2.value.length} values, the rule ${n}`);
  const P = Delta2.tangent ? Delta2.P : R.d ? R.d.length : 0;
  const d = P > 0 ? new Float64Array(P) : null;
  const dlnR = new Float64Array(P);
  if (R.d) for (let p = 0; p < P; p++) dlnR[p] = R.d[p] / R.v;
  let v = 0;
  const D = Delta2.value, Dt = Delta2.tangent;
  for (let i = 0; i < n; i++) {
    const x = k[i] * R.v;
    const W = topHatWindow(x);
    const W2 = W * W;
    v += w[i] * D[i] * W2;
    if (d) {
      const dW2dlnR = 2 * W * topHatWindowDeriv(x) * x;
      for (let p = 0, j = i; p < P; p++, j += n) {
        let t = D[i] * dW2dlnR * dlnR[p];
        if (Dt) t += Dt[j] * W2;
        d[p] += w[i] * t;
      }
    }
  }
  return { v, d };
}
