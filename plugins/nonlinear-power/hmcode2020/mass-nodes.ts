/**
 * The quadrature of the one-halo integral over halo mass, in x = ln R (R the Lagrangian radius):
 * P_1H(k) ~ Int dnu ... = Int dx (dnu/dx) ... .
 *
 * The integrand is smooth in x except at one point: the concentration c = B max[1, (1 + z_f)/(1 + z)] has a kink
 * where the formation redshift reaches z, i.e. where sigma(f^(1/3) R) = delta_c, R_* = f^(-1/3) R_nl = 100^(1/3) R_nl
 * (f = 0.01). The trapezoidal rule on the lattice would be only O(h^2) there (a 1e-4 error at k ~ 5 h/Mpc with 24
 * nodes per decade). So the integral is split at R_*: each smooth side is the trapezoidal rule on the lattice with
 * Gregory's end corrections to third differences at its lattice end next to R_* (weights 251, 897, 633, 739 over
 * 720 instead of 1/2, 1, 1, 1: error O(h^5)), and the lattice interval holding R_* is integrated by 4-point
 * Gauss-Legendre on [x_J, x_*] and [x_*, x_J+1], with sigma evaluated there directly. The far ends of the lattice
 * (R_LO, R_HI) carry negligible integrand and keep the plain trapezoid.
 *
 * Tangents: the Gauss nodes move with R_* (x = x_J + (x_* - x_J)(1 + xi)/2 on the left piece, weight (x_* - x_J) w/2;
 * mirrored on the right), so their tangents carry that motion, d ln R_* = d ln R_nl, through sigma^2, dsigma^2/dln R,
 * sigma^2(f^(1/3) R), R and the weight: the derivative of the discrete rule itself, as forward AD should give.
 */
import { H_K, type Lattice, N_F, R_STEP, sigma2At } from './variance.js';

/** 4-point Gauss-Legendre nodes and weights on [-1, 1]. */
export const KINK_GAUSS = [-0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526];
const KINK_GAUSS_W = [0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538];
/** Gregory's weights (x 720) of the last four lattice nodes before an end, outermost first. */
const GREGORY = [739, 633, 897, 251].map((w) => w / 720);

export interface MassNodes {
  /** radius [Mpc] and quadrature weight in ln R (0: unused) */
  readonly R: Float64Array;
  readonly w: Float64Array;
  /** tangents of ln R and ln w (non-zero only for the moving Gauss nodes), j-major */
  readonly dlnR: Float64Array;
  readonly dlnw: Float64Array;
  /** sigma^2(R), dsigma^2/dln R, sigma^2(f^(1/3) R) and their tangents (j-major, [j * nA + a]) */
  readonly s2: Float64Array;
  readonly D: Float64Array;
  readonly sf2: Float64Array;
  readonly ds2: Float64Array;
  readonly dD: Float64Array;
  readonly dsf2: Float64Array;
}

export function massNodes(n: number, nA: number): MassNodes {
  const a = () => new Float64Array(n), b = () => new Float64Array(n * nA);
  return { R: a(), w: a(), dlnR: b(), dlnw: b(), s2: a(), D: a(), sf2: a(), ds2: b(), dD: b(), dsf2: b() };
}

/**
 * The nodes of one row: the lattice radii (tables S2T over R_{j - N_F}, DT over R_j, with tangents dS2T, dDT for
 * the directions with hasDc) and the Gauss nodes around ln R_* = lnRkink (sigma from the node weights c, dc).
 * xw2: per Gauss node, four work arrays of the lattice's length.
 */
export function fillMassNodes(
  L: Lattice, out: MassNodes, S2T: Float64Array, DT: Float64Array, dS2T: Float64Array, dDT: Float64Array, hasDc: Uint8Array,
  nA: number, lnRkink: number, dlnRkink: Float64Array, c: Float64Array, dc: Float64Array, xw2: Float64Array[][],
): void {
  const nR = L.nR, nT = nR + N_F, nq = L.nq;
  const h = R_STEP * H_K, x0 = Math.log(L.R[0]);
  for (let j = 0; j < nR; j++) {
    out.R[j] = L.R[j];
    out.w[j] = (j === 0 || j === nR - 1 ? 0.5 : 1) * h;
    out.s2[j] = S2T[j + N_F];
    out.D[j] = DT[j];
    out.sf2[j] = S2T[j];
    for (let a = 0, t = j * nA; a < nA; a++, t++) {
      out.dlnR[t] = out.dlnw[t] = 0;
      out.ds2[t] = hasDc[a] ? dS2T[a * nT + j + N_F] : 0;
      out.dD[t] = hasDc[a] ? dDT[a * nR + j] : 0;
      out.dsf2[t] = hasDc[a] ? dS2T[a * nT + j] : 0;
    }
  }
  const nG = KINK_GAUSS.length;
  for (let g = 0; g < 2 * nG; g++) out.w[nR + g] = 0;
  const J = Math.floor((lnRkink - x0) / h);
  if (!(J >= 3 && J + 4 <= nR - 1)) return; // the kink is off the lattice's interior: plain trapezoid
  for (let q = 0; q < 4; q++) {
    out.w[J - 3 + q] = GREGORY[q] * h;
    out.w[J + 4 - q] = GREGORY[q] * h;
  }
  const xJ = x0 + J * h;
  const pieces: [number, number][] = [[xJ, lnRkink], [lnRkink, xJ + h]];
  const lnF3 = -Math.log(100) / 3; // ln f^(1/3)
  let n = nR;
  for (let side = 0; side < 2; side++) {
    const [xa, xb] = pieces[side];
    const half = 0.5 * (xb - xa);
    for (let g = 0; g < nG; g++, n++) {
      const x = xa + half * (1 + KINK_GAUSS[g]);
      // motion with x_*: dx/dx_* and d ln w/dx_*
      const dxdk = side === 0 ? 0.5 * (1 + KINK_GAUSS[g]) : 0.5 * (1 - KINK_GAUSS[g]);
      const dlnwdk = half > 0 ? (side === 0 ? 0.5 : -0.5) / half : 0;
      const [w2, d1, w2f, d1f] = xw2[n - nR];
      const R = Math.exp(x);
      const [s0, s1, s2] = sigma2At(L, c, R, w2, d1);
      const [sf, sf1] = sigma2At(L, c, R * Math.exp(lnF3), w2f, d1f);
      out.R[n] = R;
      out.w[n] = half * KINK_GAUSS_W[g];
      out.s2[n] = s0;
      out.D[n] = s1;
      out.sf2[n] = sf;
      for (let a = 0, t = n * nA; a < nA; a++, t++) {
        let p0 = 0, p1 = 0, p2 = 0;
        if (hasDc[a])
          for (let i = 0, u = a * nq; i < nq; i++, u++) {
            p0 += dc[u] * w2[i];
            p1 += dc[u] * d1[i];
            p2 += dc[u] * w2f[i];
          }
        const dx = dxdk * dlnRkink[a];
        out.dlnR[t] = dx;
        out.dlnw[t] = dlnwdk * dlnRkink[a];
        out.ds2[t] = p0 + s1 * dx;
        out.dD[t] = p1 + s2 * dx;
        out.dsf2[t] = p2 + sf1 * dx;
      }
    }
  }
}
