/**
 * sigma^2(R) of the linear density field smoothed with a spherical top hat, for the sigma8 normalisation:
 *
 *   sigma^2(R) = Integral d ln k  Delta^2(k) W^2(k R),   Delta^2(k) = k^3 P(k) / (2 pi^2),
 *   W(x) = 3 (sin x - x cos x) / x^3                     (e.g. Peebles 1980; Smith et al. 2003 eq. 5)
 *
 * and sigma8 = sigma(R = 8 Mpc/h) of total matter at z = 0.
 *
 * Quadrature: fixed rules, so the tangents are exact derivatives of the sums.
 *   - sigmaRule/topHatVariance (linear-power/boltzmann): a composite Gauss-Legendre rule in ln k on [1e-5, 1e2] /Mpc
 *     (1024 panels of 8 nodes, panel width 0.016 in ln k), the window evaluated at each node. Below 1e-5 /Mpc
 *     Delta^2 ~ k^(3+n_s) contributes < 1e-15 of sigma8^2; above 1e2 /Mpc the window W^2 < 9/(kR)^4 ~ 5e-12 leaves
 *     < 1e-9.
 *   - topHatRule (linear-power/eisenstein-hu): a rule in x = kR with W^2 in its weights, 544 nodes for the same
 *     accuracy (below).
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

// ---------------------------------------------------------------------------------------------------------
// The top-hat rule in x = kR (used by linear-power/eisenstein-hu)

/**
 * A fixed rule for sigma^2(R) = Integral d ln x  Delta^2(x/R) W^2(x) in u = ln x, x = kR, with the window folded into
 * the weights: sigma^2(R) ~ sum_i w_i Delta^2(x_i/R). Because W is a function of x alone, the weights are
 * parameter-free and computed once, and the integrand is sampled where its other factor, Delta^2, needs it:
 *   - x in [1e-4, 0.05]: Gauss-Legendre, 8 nodes per panel of width <= 1 in ln x (Delta^2 ~ k^(3+n_s) T^2 is smooth
 *     there, and contributes < 1e-6 of sigma^2);
 *   - x in [0.05, 20]: Gauss-Legendre, 8 nodes per panel of width <= 0.12 (the peak of the integrand and the baryon
 *     wiggles of Delta^2), weights w W^2(x);
 *   - x in [20, 4000]: product integration over panels of width <= 0.5: on each panel Delta^2 is replaced by its
 *     degree-7 interpolant through the panel's 8 Gauss-Legendre nodes, and w_j = Integral_panel l_j(u) W^2(e^u) du
 *     (l_j the Lagrange basis, the integral by a dense Gauss-Legendre rule resolving the oscillations of W^2, once).
 *     W^2 oscillates on a scale pi/x in ln x while Delta^2 varies on a scale ~1, so the 8 nodes per panel resolve the
 *     integrand's smooth factor and the oscillation is integrated exactly in the weights.
 * Limits: below x = 1e-4 Delta^2 ~ k^(3+n_s) leaves < 1e-15 of sigma^2; above x = 4000 the window leaves
 * ~9 Delta^2/(8 x^4) < 1e-11 of it (k = 4000/R ~ 300 /Mpc for h = 0.67). Against a 65536-panel Gauss-Legendre
 * integral in ln k over [1e-6, 1e3] /Mpc, sigma^2 is good to 2.4e-11 (h from 0.5 to 0.9, n_s 0.9 to 1.1), with 544
 * nodes; the 1024-panel rule in ln k above (8192 nodes) to 2.4e-10. `refine` divides every panel width.
 */
export interface TopHatRule {
  /** Nodes x = kR. */
  readonly x: Float64Array;
  /** ln x. */
  readonly lnx: Float64Array;
  /** Weights for d ln x, W^2(x) included. */
  readonly w: Float64Array;
}

const TOP_HAT_SEGMENTS = [
  { from: 1e-4, to: 0.05, width: 1, product: false },
  { from: 0.05, to: 20, width: 0.12, product: false },
  { from: 20, to: 4000, width: 0.5, product: true },
];
const TOP_HAT_ORDER = 8;
const topHatRules = new Map<number, TopHatRule>();

/** The rule (cached per refine). */
export function topHatRule(refine = 1): TopHatRule {
  let r = topHatRules.get(refine);
  if (!r) {
    r = buildTopHatRule(refine);
    topHatRules.set(refine, r);
  }
  return r;
}

function buildTopHatRule(refine: number): TopHatRule {
  if (!(refine >= 1) || !Number.isInteger(refine)) throw new Error(`topHatRule: refine must be an integer >= 1, got ${refine}`);
  const u: number[] = [], w: number[] = [];
  const m = TOP_HAT_ORDER;
  for (const seg of TOP_HAT_SEGMENTS) {
    const a = Math.log(seg.from), b = Math.log(seg.to);
    const panels = Math.ceil(((b - a) / seg.width) * refine - 1e-9);
    const g = gaussLegendreRule(a, b, m, panels);
    if (!seg.product) {
      for (let i = 0; i < g.x.length; i++) {
        const W = topHatWindow(Math.exp(g.x[i]));
        u.push(g.x[i]);
        w.push(g.w[i] * W * W);
      }
      continue;
    }
    const du = (b - a) / panels;
    for (let p = 0; p < panels; p++) {
      const nodes = g.x.subarray(p * m, (p + 1) * m);
      // dense rule on the panel: 16 nodes per sub-panel of width du/256 (~2 periods of W^2 at x = 4000)
      const dense = gaussLegendreRule(a + p * du, a + (p + 1) * du, 16, 256);
      const om = new Float64Array(m);
      for (let d = 0; d < dense.x.length; d++) {
        const ud = dense.x[d];
        const W = topHatWindow(Math.exp(ud));
        const f = dense.w[d] * W * W;
        for (let j = 0; j < m; j++) {
          let l = 1;
          for (let q = 0; q < m; q++) if (q !== j) l *= (ud - nodes[q]) / (nodes[j] - nodes[q]);
          om[j] += f * l;
        }
      }
      for (let j = 0; j < m; j++) {
        u.push(nodes[j]);
        w.push(om[j]);
      }
    }
  }
  const lnx = Float64Array.from(u);
  return { lnx, x: Float64Array.from(lnx, Math.exp), w: Float64Array.from(w) };
}
