/**
 * Scale-independent linear growth D(z) and growth rate f = d ln D / d ln a, with base-space sensitivities.
 *
 * The growth equation of the matter contrast with only baryons + CDM clustering (dark energy and radiation
 * smooth; radiation kept in H), in x = ln a, with G = dD/dx:
 *
 *   dD/dx = G
 *   dG/dx = (3/2) Omega_m a^-3 / E^2 D - (2 + (1/2) d ln E^2/dx) G
 *
 * (from D'' + aH D' = (3/2) a^2 H0^2 Omega_m a^-3 D in conformal time). This is the equation behind CLASS v3's
 * growth_D/growth_f (source rho_b + rho_cdm only, radiation in H) and CCL's D/f: the two references agree
 * with each other, and we agree with both, to ~1e-8 (docs/background.md). We take CLASS's definition as
 * the one we match (it documents its source term; CCL's table has only 11 redshifts).
 *
 * Initial conditions at a_ini (default 1e-6, deep in radiation domination): Meszaros's exact growing mode of
 * the radiation + matter universe, D = y + 2/3, dD/dx = y with y = a Omega_m/Omega_r (Meszaros 1974; e.g.
 * Dodelson, Modern Cosmology, eq. 7.69). Curvature and dark energy are O(1e-12) there; any error in the
 * initial state projects onto the growing mode (removed by D(0) = 1) and the decaying mode, which falls as
 * y^(-5/2) relative to it (below 1e-12 by z = 10).
 *
 * Integration: classical fixed-step RK4 in x, steps no longer than max_dlna and landing on every grid node.
 * The system is linear in (D, G), so its sensitivities s_k = d(D, G)/dq_k obey
 *   s_k' = A s_k + (dA/dq_k) (D, G),
 * integrated alongside with the same RK4 stages: the result is the exact derivative of the discrete solution.
 */
import {
  DE2DX, DQ_E2, DQ_SLOPE, E2, EXPANSION_SCRATCH, type ExpansionCoefficients, NB, darkEnergyRatio, e2At, expansionAt,
  nonPositiveE2Error, describeCosmology,
} from './expansion.js';
import type { BaseArray } from './distances.js';

export interface GrowthOptions {
  /** Scale factor where the integration starts (radiation domination). */
  aIni: number;
  /** Largest step in ln a. */
  maxStep: number;
}

/** Dark-energy fraction allowed at a_ini: the initial conditions assume radiation + matter there. */
const MAX_EARLY_DE_FRACTION = 1e-3;

/**
 * Why the initial conditions would be wrong (dark energy above MAX_EARLY_DE_FRACTION of the density at
 * a_ini), naming w0 and wa; null when they hold.
 */
export function earlyDarkEnergyProblem(c: ExpansionCoefficients, aIni: number): string | null {
  const x = Math.log(aIni);
  const deFrac = Math.abs(c.Ode * darkEnergyRatio(c, x)) / e2At(c, x);
  if (deFrac < MAX_EARLY_DE_FRACTION) return null;
  return (
    `dark energy is ${deFrac.toPrecision(3)} of the density at a = ${aIni} (w(a -> 0) = w0 + wa = ${c.w0 + c.wa}); ` +
    'the growth initial conditions assume radiation + matter domination there. Early dark energy is not ' +
    'supported: choose parameters.w0 + parameters.wa well below 0.'
  );
}

/**
 * D (normalised to D(z=0) = 1) and f on the ascending grid z (z[0] = 0), with base tangents when withBase.
 */
export function linearGrowth(
  c: ExpansionCoefficients,
  z: Float64Array,
  opts: GrowthOptions,
  withBase: boolean,
): { D: BaseArray; f: BaseArray } {
  const n = z.length;
  if (z[0] !== 0) throw new Error(`linearGrowth: the grid must start at z = 0 (got ${z[0]})`);
  const xIni = Math.log(opts.aIni);
  const xTop = -Math.log1p(z[n - 1]);
  if (!(xIni < xTop))
    throw new Error(`background/w0wa: with.growth.a_ini = ${opts.aIni} must be below a(z_max) = ${Math.exp(xTop)}`);
  const early = earlyDarkEnergyProblem(c, opts.aIni);
  if (early) throw new Error(`background/w0wa: ${early}`);

  const S = withBase ? 2 + 2 * NB : 2;
  const y = new Float64Array(S);
  const k1 = new Float64Array(S), k2 = new Float64Array(S), k3 = new Float64Array(S), k4 = new Float64Array(S);
  const tmp = new Float64Array(S);
  const s = new Float64Array(EXPANSION_SCRATCH);

  // Right-hand side A(x) y (+ dA/dq_k y for the sensitivities).
  const rhs = (x: number, u: Float64Array, out: Float64Array): void => {
    expansionAt(c, x, s);
    const e2 = s[E2];
    if (!(e2 > 0)) throw nonPositiveE2Error(c, Math.expm1(-x), e2);
    const inv = 1 / e2;
    const a3 = Math.exp(-3 * x);
    const c1 = 1.5 * c.Om * a3 * inv; // (3/2) Omega_m(a)
    const c2 = 2 + 0.5 * s[DE2DX] * inv; // 2 + d ln H / d ln a
    const D = u[0], G = u[1];
    out[0] = G;
    out[1] = c1 * D - c2 * G;
    if (S === 2) return;
    for (let k = 0; k < NB; k++) {
      const dE2 = s[DQ_E2 + k];
      const dc1 = 1.5 * a3 * ((k === 1 ? 1 : 0) - c.Om * inv * dE2) * inv;
      const dc2 = 0.5 * (s[DQ_SLOPE + k] - s[DE2DX] * inv * dE2) * inv;
      const j = 2 + 2 * k;
      out[j] = u[j + 1];
      out[j + 1] = c1 * u[j] - c2 * u[j + 1] + dc1 * D - dc2 * G;
    }
  };

  const step = (x: number, h: number): void => {
    rhs(x, y, k1);
    for (let i = 0; i < S; i++) tmp[i] = y[i] + 0.5 * h * k1[i];
    rhs(x + 0.5 * h, tmp, k2);
    for (let i = 0; i < S; i++) tmp[i] = y[i] + 0.5 * h * k2[i];
    rhs(x + 0.5 * h, tmp, k3);
    for (let i = 0; i < S; i++) tmp[i] = y[i] + h * k3[i];
    rhs(x + h, tmp, k4);
    for (let i = 0; i < S; i++) y[i] += (h / 6) * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
  };

  const advance = (x0: number, x1: number): void => {
    const m = Math.max(1, Math.ceil((x1 - x0) / opts.maxStep - 1e-9));
    const h = (x1 - x0) / m;
    for (let j = 0; j < m; j++) step(x0 + j * h, h);
  };

  // Meszaros growing mode at a_ini.
  const yM = (Math.exp(xIni) * c.Om) / c.Or;
  y[0] = yM + 2 / 3;
  y[1] = yM;
  if (withBase) {
    y[2 + 0] = y[3 + 0] = -yM / c.Or; // d/dOmega_r
    y[2 + 2] = y[3 + 2] = yM / c.Om; // d/dOmega_m
  }

  // Raw D, G (and sensitivities) at the nodes, from z_max down to 0.
  const raw = new Float64Array(S * n);
  advance(xIni, xTop);
  raw.set(y, S * (n - 1));
  for (let i = n - 2; i >= 0; i--) {
    advance(-Math.log1p(z[i + 1]), -Math.log1p(z[i]));
    raw.set(y, S * i);
  }

  const D0 = raw[0];
  if (!(D0 > 0) || !Number.isFinite(D0))
    throw new Error(`background/w0wa: the growth factor is not positive today (${D0}) for ${describeCosmology(c)}`);
  const Dv = new Float64Array(n), fv = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    Dv[i] = raw[S * i] / D0;
    fv[i] = raw[S * i + 1] / raw[S * i];
  }
  if (!withBase) return { D: { value: Dv, base: null }, f: { value: fv, base: null } };
  const Db = new Float64Array(NB * n), fb = new Float64Array(NB * n);
  for (let k = 0; k < NB; k++) {
    const dD0 = raw[2 + 2 * k];
    for (let i = 0; i < n; i++) {
      const o = S * i;
      const D = raw[o], G = raw[o + 1], dD = raw[o + 2 + 2 * k], dG = raw[o + 3 + 2 * k];
      Db[k * n + i] = (dD * D0 - D * dD0) / (D0 * D0);
      fb[k * n + i] = (dG * D - G * dD) / (D * D);
    }
  }
  return { D: { value: Dv, base: Db }, f: { value: fv, base: fb } };
}

// ---------------------------------------------------------------------------------------------------------
// Reverse mode: the discrete adjoint of the RK4 integration

/**
 * qbar_k += sum_i (Dbar_i dD_i/dq_k + fbar_i df_i/dq_k): the discrete adjoint of linearGrowth's RK4, i.e. the
 * exact transpose of the forward sensitivities (which are the exact derivative of the discrete solution).
 *
 * The forward solution is recomputed (values only, 2 states) storing the state at the start of every step;
 * then, from z = 0 back to a_ini, each step y' = y + h/6 (k1 + 2 k2 + 2 k3 + k4) of the linear system
 * y' = A(x) y, A = [[0, 1], [c1, -c2]], is transposed stage by stage with lambda = ybar:
 *   kbar_1..4 = (h/6, h/3, h/3, h/6) lambda;
 *   k4 = A(x+h) u4, u4 = y + h k3:     u4bar = A^T k4bar, ybar += u4bar, k3bar += h u4bar;
 *   k3 = A(x+h/2) u3, u3 = y + h/2 k2: u3bar = A^T k3bar, ybar += u3bar, k2bar += h/2 u3bar;
 *   k2 = A(x+h/2) u2, u2 = y + h/2 k1: u2bar = A^T k2bar, ybar += u2bar, k1bar += h/2 u2bar;
 *   k1 = A(x) y:                       ybar += A^T k1bar;
 * and at each stage qbar_k += kbar . (dA/dq_k) u = kbar_2 (dc1/dq_k u_0 - dc2/dq_k u_1). The bars of the
 * outputs enter lambda at the nodes where the forward run records them, D_i = D_raw,i / D_raw,0 and
 * f_i = G_i / D_raw,i; the Meszaros initial state D = y_M + 2/3, G = y_M, y_M = a_ini Omega_m / Omega_r,
 * finally takes lambda at a_ini.
 */
export function linearGrowthAdjoint(
  c: ExpansionCoefficients, z: Float64Array, opts: GrowthOptions, Dbar: Float64Array | null, fbar: Float64Array | null, qbar: Float64Array,
): void {
  const n = z.length;
  const xIni = Math.log(opts.aIni);
  const xTop = -Math.log1p(z[n - 1]);
  const s = new Float64Array(EXPANSION_SCRATCH);
  // forward, values only, recording (x, h) and the state y at the start of every step and the raw state at every
  // node; the step counts are those of `advance` in linearGrowth (the same segments, the same formula)
  const stepsIn = (x0: number, x1: number) => Math.max(1, Math.ceil((x1 - x0) / opts.maxStep - 1e-9));
  let total = stepsIn(xIni, xTop);
  for (let i = n - 2; i >= 0; i--) total += stepsIn(-Math.log1p(z[i + 1]), -Math.log1p(z[i]));
  const steps = new Float64Array(2 * total);
  const states = new Float64Array(2 * total);
  let taken = 0;
  const nodeStep = new Int32Array(n); // number of steps taken when node i is recorded
  const raw = new Float64Array(2 * n);
  let y0 = (Math.exp(xIni) * c.Om) / c.Or + 2 / 3, y1 = (Math.exp(xIni) * c.Om) / c.Or;
  const yM = y1;
  const coeffs = (x: number, out: Float64Array, withD: boolean): void => {
    // out[0] = c1, out[1] = c2, out[2 + k] = dc1/dq_k, out[2 + NB + k] = dc2/dq_k
    expansionAt(c, x, s);
    const e2 = s[E2];
    if (!(e2 > 0)) throw nonPositiveE2Error(c, Math.expm1(-x), e2);
    const inv = 1 / e2;
    const a3 = Math.exp(-3 * x);
    out[0] = 1.5 * c.Om * a3 * inv;
    out[1] = 2 + 0.5 * s[DE2DX] * inv;
    if (!withD) return;
    for (let k = 0; k < NB; k++) {
      const dE2 = s[DQ_E2 + k];
      out[2 + k] = 1.5 * a3 * ((k === 1 ? 1 : 0) - c.Om * inv * dE2) * inv;
      out[2 + NB + k] = 0.5 * (s[DQ_SLOPE + k] - s[DE2DX] * inv * dE2) * inv;
    }
  };
  const cf = new Float64Array(2 + 2 * NB);
  const rk4 = (x: number, h: number): void => {
    coeffs(x, cf, false);
    const k1a = y1, k1b = cf[0] * y0 - cf[1] * y1;
    coeffs(x + 0.5 * h, cf, false);
    let u0 = y0 + 0.5 * h * k1a, u1 = y1 + 0.5 * h * k1b;
    const k2a = u1, k2b = cf[0] * u0 - cf[1] * u1;
    u0 = y0 + 0.5 * h * k2a; u1 = y1 + 0.5 * h * k2b;
    const k3a = u1, k3b = cf[0] * u0 - cf[1] * u1;
    coeffs(x + h, cf, false);
    u0 = y0 + h * k3a; u1 = y1 + h * k3b;
    const k4a = u1, k4b = cf[0] * u0 - cf[1] * u1;
    y0 += (h / 6) * (k1a + 2 * k2a + 2 * k3a + k4a);
    y1 += (h / 6) * (k1b + 2 * k2b + 2 * k3b + k4b);
  };
  const advance = (x0: number, x1: number): void => {
    const m = stepsIn(x0, x1);
    const h = (x1 - x0) / m;
    for (let j = 0; j < m; j++, taken++) {
      const x = x0 + j * h;
      steps[2 * taken] = x; steps[2 * taken + 1] = h;
      states[2 * taken] = y0; states[2 * taken + 1] = y1;
      rk4(x, h);
    }
  };
  advance(xIni, xTop);
  raw[2 * (n - 1)] = y0; raw[2 * (n - 1) + 1] = y1; nodeStep[n - 1] = taken;
  for (let i = n - 2; i >= 0; i--) {
    advance(-Math.log1p(z[i + 1]), -Math.log1p(z[i]));
    raw[2 * i] = y0; raw[2 * i + 1] = y1; nodeStep[i] = taken;
  }

  // bars of the raw states at the nodes: D_i = Draw_i/Draw_0, f_i = G_i/Draw_i
  const D0 = raw[0];
  const rb = new Float64Array(2 * n);
  let D0bar = 0;
  for (let i = 0; i < n; i++) {
    const Dr = raw[2 * i], G = raw[2 * i + 1];
    if (Dbar && Dbar[i] !== 0) {
      rb[2 * i] += Dbar[i] / D0;
      D0bar -= (Dbar[i] * Dr) / (D0 * D0);
    }
    if (fbar && fbar[i] !== 0) {
      rb[2 * i] -= (fbar[i] * G) / (Dr * Dr);
      rb[2 * i + 1] += fbar[i] / Dr;
    }
  }
  rb[0] += D0bar;

  // backward through the steps; lambda picks up the node bars where the forward run recorded the nodes
  let l0 = 0, l1 = 0;
  let node = 0;
  const c1 = new Float64Array(2 + 2 * NB), c2 = new Float64Array(2 + 2 * NB), c4 = new Float64Array(2 + 2 * NB);
  // qbar += kbar_2 (dc1/dq u0 - dc2/dq u1) for one stage
  const addQ = (cc: Float64Array, kb1: number, u0: number, u1: number) => {
    if (kb1 === 0) return;
    for (let k = 0; k < NB; k++) qbar[k] += kb1 * (cc[2 + k] * u0 - cc[2 + NB + k] * u1);
  };
  for (let st = total - 1; st >= 0; st--) {
    while (node < n && nodeStep[node] === st + 1) {
      l0 += rb[2 * node];
      l1 += rb[2 * node + 1];
      node++;
    }
    const x = steps[2 * st], h = steps[2 * st + 1];
    const ya = states[2 * st], yb = states[2 * st + 1];
    // forward stages of this step
    coeffs(x, c1, true);
    coeffs(x + 0.5 * h, c2, true);
    coeffs(x + h, c4, true);
    const k1a = yb, k1b = c1[0] * ya - c1[1] * yb;
    const u2a = ya + 0.5 * h * k1a, u2b = yb + 0.5 * h * k1b;
    const k2a = u2b, k2b = c2[0] * u2a - c2[1] * u2b;
    const u3a = ya + 0.5 * h * k2a, u3b = yb + 0.5 * h * k2b;
    const k3a = u3b, k3b = c2[0] * u3a - c2[1] * u3b;
    const u4a = ya + h * k3a, u4b = yb + h * k3b;
    // transposed stages; A^T v = (c1 v_1, v_0 - c2 v_1)
    let ya_ = l0, yb_ = l1;
    let k1a_ = (h / 6) * l0, k1b_ = (h / 6) * l1;
    let k2a_ = (h / 3) * l0, k2b_ = (h / 3) * l1;
    let k3a_ = (h / 3) * l0, k3b_ = (h / 3) * l1;
    const k4a_ = (h / 6) * l0, k4b_ = (h / 6) * l1;
    // k4 = A(x+h) u4
    addQ(c4, k4b_, u4a, u4b);
    let ua = c4[0] * k4b_, ub = k4a_ - c4[1] * k4b_;
    ya_ += ua; yb_ += ub; k3a_ += h * ua; k3b_ += h * ub;
    // k3 = A(x+h/2) u3
    addQ(c2, k3b_, u3a, u3b);
    ua = c2[0] * k3b_; ub = k3a_ - c2[1] * k3b_;
    ya_ += ua; yb_ += ub; k2a_ += 0.5 * h * ua; k2b_ += 0.5 * h * ub;
    // k2 = A(x+h/2) u2
    addQ(c2, k2b_, u2a, u2b);
    ua = c2[0] * k2b_; ub = k2a_ - c2[1] * k2b_;
    ya_ += ua; yb_ += ub; k1a_ += 0.5 * h * ua; k1b_ += 0.5 * h * ub;
    // k1 = A(x) y
    addQ(c1, k1b_, ya, yb);
    ya_ += c1[0] * k1b_; yb_ += k1a_ - c1[1] * k1b_;
    l0 = ya_; l1 = yb_;
  }
  while (node < n && nodeStep[node] === 0) { l0 += rb[2 * node]; l1 += rb[2 * node + 1]; node++; }
  // Meszaros initial state: D = y_M + 2/3, G = y_M, y_M = a_ini Omega_m / Omega_r
  const yMbar = l0 + l1;
  qbar[0] += (yMbar * -yM) / c.Or;
  qbar[1] += (yMbar * yM) / c.Om;
}
