/**
 * The numerical core of the Limber spectra (values), in the order of the equation
 *
 *   C_AB(l) = F_A(l) F_B(l) (1+m_A)(1+m_B) Integral dz  W_A(z) W_B(z) / (H(z) chi(z)^2) P((l+1/2)/chi(z), z)
 *
 * discretised on quadrature nodes z_q with weights w_q as a batched matrix product
 *   C[pair, l] = sum_q  M[pair, q] K[l, q],   M = W_A W_B,   K[l, q] = w_q P(k_lq, z_q) / (H_q chi_q^2).
 * Everything here runs on Float64Array and allocates per call, never per element.
 */
import { findInterval, solveSecondDerivs, splineFactor } from '../../core/numerics/spline.js';

/** Natural log of P on the nodes: ln P(k_i, z_q) for every grid k, spline-interpolated in z. Returns nq*nk. */
export function lnPowerAtNodes(k: Float64Array, zGrid: Float64Array, P: Float64Array, zNodes: Float64Array, what: string): Float64Array {
  const nk = k.length, nz = zGrid.length, nq = zNodes.length;
  // transpose ln P to k-major rows over z, so each k is one spline row in z
  const lnPT = new Float64Array(nk * nz);
  for (let iz = 0; iz < nz; iz++)
    for (let ik = 0; ik < nk; ik++) {
      const p = P[iz * nk + ik];
      if (!(p > 0)) throw new Error(`${what}: P(k = ${k[ik]} /Mpc, z = ${zGrid[iz]}) = ${p} is not positive; cannot interpolate ln P`);
      lnPT[ik * nz + iz] = Math.log(p);
    }
  const out = new Float64Array(nq * nk);
  if (nz === 1) {
    for (let q = 0; q < nq; q++) out.set(lnPT.subarray(0, nk), q * nk); // unreachable in practice: z coverage is checked
    return out;
  }
  const fz = splineFactor(zGrid, nz >= 4 ? 'not-a-knot' : 'natural');
  const m = new Float64Array(nk * nz);
  for (let ik = 0; ik < nk; ik++) solveSecondDerivs(fz, lnPT, ik * nz, m, ik * nz);
  let i = 0;
  for (let q = 0; q < nq; q++) {
    const zq = zNodes[q];
    i = findInterval(zGrid, zq, i);
    const h = zGrid[i + 1] - zGrid[i];
    const a = (zGrid[i + 1] - zq) / h, b = 1 - a;
    const c = ((a * a * a - a) * h * h) / 6, d = ((b * b * b - b) * h * h) / 6;
    for (let ik = 0, o = i; ik < nk; ik++, o += nz) out[q * nk + ik] = a * lnPT[o] + b * lnPT[o + 1] + c * m[o] + d * m[o + 1];
  }
  return out;
}

/**
 * K[l, q] = w_q / (H_q chi_q^2) * P((l+1/2)/chi_q, z_q), with P from the rows lnPq (nq*nk, ln P on ln k),
 * cubic in ln k. Outside [kMin, kMax] the integrand is set to zero (as CCL does with its K_MIN/K_MAX).
 */
export function limberWeights(
  ell: Float64Array, k: Float64Array, lnPq: Float64Array, zW: Float64Array, H: Float64Array, chi: Float64Array,
  kMin: number, kMax: number,
): Float64Array {
  const nl = ell.length, nq = zW.length, nk = k.length;
  const lnk = new Float64Array(nk);
  for (let i = 0; i < nk; i++) lnk[i] = Math.log(k[i]);
  const fk = splineFactor(lnk, 'not-a-knot');
  const m = new Float64Array(nk);
  const K = new Float64Array(nl * nq);
  for (let q = 0; q < nq; q++) {
    solveSecondDerivs(fk, lnPq, q * nk, m, 0);
    const pre = zW[q] / (H[q] * chi[q] * chi[q]);
    const o = q * nk;
    let i = 0;
    for (let l = 0; l < nl; l++) {
      const kq = (ell[l] + 0.5) / chi[q];
      if (kq < kMin || kq > kMax) continue;
      const x = Math.log(kq);
      i = findInterval(lnk, x, i);
      const h = lnk[i + 1] - lnk[i];
      const a = (lnk[i + 1] - x) / h, b = 1 - a;
      const lnP = a * lnPq[o + i] + b * lnPq[o + i + 1] + (((a * a * a - a) * m[i] + (b * b * b - b) * m[i + 1]) * h * h) / 6;
      K[l * nq + q] = pre * Math.exp(lnP);
    }
  }
  return K;
}

/**
 * C[pair, l] = sum_q M[pair, q] K[l, q] for nPairs rows of M (nPairs*nq) and nl rows of K (nl*nq):
 * a matrix product with both operands contiguous in q, blocked 4 pairs x 2 ells so that each loaded
 * element is used several times from registers.
 */
export function pairProducts(M: Float64Array, nPairs: number, K: Float64Array, nl: number, nq: number, out?: Float64Array): Float64Array {
  const C = out ?? new Float64Array(nPairs * nl);
  let p = 0;
  for (; p + 4 <= nPairs; p += 4) {
    const m0 = p * nq, m1 = m0 + nq, m2 = m1 + nq, m3 = m2 + nq;
    let l = 0;
    for (; l + 2 <= nl; l += 2) {
      const k0 = l * nq, k1 = k0 + nq;
      let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
      for (let q = 0; q < nq; q++) {
        const a = K[k0 + q], b = K[k1 + q];
        const x0 = M[m0 + q], x1 = M[m1 + q], x2 = M[m2 + q], x3 = M[m3 + q];
        s00 += x0 * a; s01 += x0 * b; s10 += x1 * a; s11 += x1 * b;
        s20 += x2 * a; s21 += x2 * b; s30 += x3 * a; s31 += x3 * b;
      }
      C[p * nl + l] = s00; C[p * nl + l + 1] = s01;
      C[(p + 1) * nl + l] = s10; C[(p + 1) * nl + l + 1] = s11;
      C[(p + 2) * nl + l] = s20; C[(p + 2) * nl + l + 1] = s21;
      C[(p + 3) * nl + l] = s30; C[(p + 3) * nl + l + 1] = s31;
    }
    for (; l < nl; l++) {
      const k0 = l * nq;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let q = 0; q < nq; q++) {
        const a = K[k0 + q];
        s0 += M[m0 + q] * a; s1 += M[m1 + q] * a; s2 += M[m2 + q] * a; s3 += M[m3 + q] * a;
      }
      C[p * nl + l] = s0; C[(p + 1) * nl + l] = s1; C[(p + 2) * nl + l] = s2; C[(p + 3) * nl + l] = s3;
    }
  }
  for (; p < nPairs; p++)
    for (let l = 0; l < nl; l++) {
      let s = 0;
      for (let q = 0, mo = p * nq, ko = l * nq; q < nq; q++) s += M[mo + q] * K[ko + q];
      C[p * nl + l] = s;
    }
  return C;
}

/** Spin-2 prefactor F_l = sqrt((l+2)(l+1)l(l-1)) / (l+1/2)^2 (exact; -> 1 - 1.25/(l+1/2)^2 at large l). */
export function shearPrefactor(ell: number): number {
  const lh = ell + 0.5;
  return Math.sqrt((ell + 2) * (ell + 1) * ell * (ell - 1)) / (lh * lh);
}
