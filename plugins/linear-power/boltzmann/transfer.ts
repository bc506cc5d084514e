/**
 * The matter transfer function delta_m(k, z) / R between the solved modes.
 *
 * Sampling: the modes are solved on their own k grid, log-spaced (`perDecade`) plus a uniform step in k over
 * the baryon acoustic range (`baoStep` between baoMin and baoMax), so that the wiggles of period
 * 2 pi / r_s ~ 0.043 /Mpc carry ~9 nodes each wherever they are visible.
 *
 * Interpolation: a natural cubic spline in ln k of ln|delta / k^2| (delta ~ k^2 on super-horizon scales, so
 * the variable tends to a constant at small k and changes slowly elsewhere); tangents of ln|delta| along the
 * active directions are splined with the same (linear) operator.
 * Outside the solved range:
 *   k < k_first: delta / k^2 constant (the super-horizon limit; the next term is O((k/aH)^2) ~ 1e-7 at
 *     k = 1e-5 /Mpc today);
 *   k > k_last: the logarithmic growth of sub-horizon CDM in the radiation era (Meszaros 1974), delta = A ln(c k),
 *     with A, c through the two last solved modes (measured accuracy in docs/boltzmann.md).
 */

export interface TransferSampling {
  kMin: number;
  kMax: number;
  perDecade: number;
  baoMin: number;
  baoMax: number;
  baoStep: number;
}

/** Sorted k [1/Mpc] at which modes are solved. */
export function transferKGrid(s: TransferSampling): Float64Array {
  const ks: number[] = [];
  const nLog = Math.max(2, Math.ceil(Math.log10(s.kMax / s.kMin) * s.perDecade) + 1);
  for (let i = 0; i < nLog; i++) ks.push(s.kMin * Math.pow(s.kMax / s.kMin, i / (nLog - 1)));
  if (s.baoStep > 0) {
    const lo = Math.max(s.baoMin, s.kMin), hi = Math.min(s.baoMax, s.kMax);
    for (let k = lo; k < hi; k += s.baoStep) ks.push(k);
  }
  ks.sort((a, b) => a - b);
  // drop a node closer to the previous one than 0.3 of the local spacing (log step, or the BAO step there)
  const logStep = Math.LN10 / s.perDecade;
  const out: number[] = [];
  for (const k of ks) {
    if (!out.length) {
      out.push(k);
      continue;
    }
    const prev = out[out.length - 1];
    const inBao = s.baoStep > 0 && k >= s.baoMin && k <= s.baoMax;
    const local = inBao ? Math.min(logStep, s.baoStep / k) : logStep;
    if (Math.log(k / prev) > 0.3 * local) out.push(k);
  }
  if (out[out.length - 1] < s.kMax * (1 - 1e-12)) out.push(s.kMax);
  return Float64Array.from(out);
}

/** Natural cubic spline second derivatives on a non-uniform grid (Thomas algorithm), rows of length n at offsets. */
function splineM(x: Float64Array, y: Float64Array, yo: number, m: Float64Array, mo: number): void {
  const n = x.length;
  const c = new Float64Array(n), d = new Float64Array(n);
  m[mo] = 0;
  m[mo + n - 1] = 0;
  for (let i = 1; i < n - 1; i++) {
    const h0 = x[i] - x[i - 1], h1 = x[i + 1] - x[i];
    const rhs = 6 * ((y[yo + i + 1] - y[yo + i]) / h1 - (y[yo + i] - y[yo + i - 1]) / h0);
    const diag = 2 * (h0 + h1) - (i > 1 ? h0 * c[i - 1] : 0);
    c[i] = h1 / diag;
    d[i] = (rhs - (i > 1 ? h0 * d[i - 1] : 0)) / diag;
  }
  for (let i = n - 2; i >= 1; i--) m[mo + i] = d[i] - c[i] * (i < n - 2 ? m[mo + i + 1] : 0);
}

/**
 * Solved transfer functions: delta[iz * nk + ik] per unit R at the solved k, and tangents of delta along
 * the active directions, dDelta[(a * nz + iz) * nk + ik].
 */
export interface TransferTable {
  k: Float64Array;
  nz: number;
  delta: Float64Array;
  Pa: number;
  dDelta: Float64Array | null;
}

/** Spline machinery of a TransferTable (ln k nodes, ln|delta/k^2| rows and their tangent rows d ln|delta|). */
export interface TransferSplines {
  lnk: Float64Array;
  /** nz rows */
  v: Float64Array;
  vm: Float64Array;
  /** Pa*nz rows of d ln|delta| */
  t: Float64Array;
  tm: Float64Array;
  sign: Float64Array;
}

export function transferSplines(T: TransferTable): TransferSplines {
  const nk = T.k.length, nz = T.nz, Pa = T.Pa;
  if (nk < 4) throw new Error(`linear-power/boltzmann: at least 4 transfer modes are needed, got ${nk}`);
  const lnk = Float64Array.from(T.k, Math.log);
  const v = new Float64Array(nz * nk), vm = new Float64Array(nz * nk);
  const t = new Float64Array(Pa * nz * nk), tm = new Float64Array(Pa * nz * nk);
  const sign = new Float64Array(nz);
  for (let iz = 0; iz < nz; iz++) {
    sign[iz] = Math.sign(T.delta[iz * nk + nk - 1]) || 1;
    for (let ik = 0; ik < nk; ik++) {
      const d = T.delta[iz * nk + ik];
      if (!(d * sign[iz] > 0))
        throw new Error(`linear-power/boltzmann: the transfer function changes sign at k = ${T.k[ik]} /Mpc (z row ${iz}); cannot interpolate ln|delta|`);
      v[iz * nk + ik] = Math.log(Math.abs(d)) - 2 * lnk[ik];
      for (let a = 0; a < Pa; a++) t[(a * nz + iz) * nk + ik] = T.dDelta![(a * nz + iz) * nk + ik] / d;
    }
    splineM(lnk, v, iz * nk, vm, iz * nk);
    for (let a = 0; a < Pa; a++) splineM(lnk, t, (a * nz + iz) * nk, tm, (a * nz + iz) * nk);
  }
  return { lnk, v, vm, t, tm, sign };
}

function evalRow(x: Float64Array, y: Float64Array, m: Float64Array, o: number, i: number, xq: number): number {
  const h = x[i + 1] - x[i];
  const A = (x[i + 1] - xq) / h, B = 1 - A;
  return A * y[o + i] + B * y[o + i + 1] + (((A * A * A - A) * m[o + i] + (B * B * B - B) * m[o + i + 1]) * h * h) / 6;
}

/**
 * delta(kq) of redshift row iz, and its tangents d delta along the active directions into dOut[a*stride + j]
 * (when dOut is given). kq ascending.
 */
export function transferAt(
  T: TransferTable, sp: TransferSplines, iz: number, kq: Float64Array, out: Float64Array,
  dOut: Float64Array | null, stride: number,
): void {
  const nk = T.k.length, nz = T.nz, Pa = T.Pa;
  const { lnk, v, vm, t, tm } = sp;
  const s = sp.sign[iz];
  const o = iz * nk;
  // high-k extrapolation: delta = A ln(c k) through the last two nodes (a longer lever arm, one e-fold, was
  // measured worse: the logarithm is only the asymptote, and the local slope is what continues best)
  const i1 = nk - 2;
  const L1 = lnk[i1], L2 = lnk[nk - 1];
  const d1 = T.delta[o + i1], d2 = T.delta[o + nk - 1];
  const r = d1 / d2;
  const lnc = (r * L2 - L1) / (1 - r);
  let i = 0;
  for (let j = 0; j < kq.length; j++) {
    const x = Math.log(kq[j]);
    if (x <= lnk[0]) {
      // super-horizon: delta / k^2 constant
      const val = s * Math.exp(v[o] + 2 * x);
      out[j] = val;
      if (dOut) for (let a = 0; a < Pa; a++) dOut[a * stride + j] = val * t[(a * nz + iz) * nk];
    } else if (x >= L2) {
      const den = lnc + L2;
      const val = (d2 * (lnc + x)) / den;
      out[j] = val;
      if (dOut) {
        // d val = d d2 (lnc + x)/den + d2 (L2 - x)/den^2 d lnc,  d lnc = (L2 - L1)/(1-r)^2 dr,  dr = r (dd1/d1 - dd2/d2)
        for (let a = 0; a < Pa; a++) {
          const g1 = t[(a * nz + iz) * nk + i1], g2 = t[(a * nz + iz) * nk + nk - 1]; // d ln|delta|
          const dr = r * (g1 - g2);
          const dlnc = ((L2 - L1) / ((1 - r) * (1 - r))) * dr;
          dOut[a * stride + j] = g2 * val + ((d2 * (L2 - x)) / (den * den)) * dlnc;
        }
      }
    } else {
      while (i < nk - 2 && lnk[i + 1] < x) i++;
      const val = s * Math.exp(evalRow(lnk, v, vm, o, i, x) + 2 * x);
      out[j] = val;
      if (dOut) for (let a = 0; a < Pa; a++) dOut[a * stride + j] = val * evalRow(lnk, t, tm, (a * nz + iz) * nk, i, x);
    }
  }
}
