/**
 * The hand-written forward tangents and reverse VJP of weights/3x2pt, as they were before the stage moved to the
 * expression layer (core/ad/expr.ts). Kept as an independent implementation: the tests compare the expression
 * version with it (values, every tangent block, the VJP), and `npm run bench:ad` times one against the other.
 */
import type { Dual } from '../../core/ad/dual.js';
import type { DualArray } from '../../core/ad/dual-array.js';
import type { RedshiftDistribution } from '../../plugins/contracts/redshift.js';
import type { TracerSet } from '../../plugins/contracts/tracers.js';
import { resolveThreeByTwoConfig, threeByTwoTracers, type ThreeByTwoConfig } from '../../plugins/weights/3x2pt.js';
import {
  topDownIntegrator, topDownIntegratorAdjoint, type KernelBackground, type KernelBars, type KernelParameters, type KernelValues,
} from '../../plugins/weights/3x2pt-kernels.js';

/**
 * Block p of x's tangent (elements offset .. offset+n) as a view, or null when it is identically zero there:
 * most (parameter, bin) pairs leave most inputs untouched (b_i, m_i, A_IA never move chi; dz_j moves one bin),
 * and skipping them keeps the cost near (#parameters that matter) x nz instead of P x nBins x nz.
 */
function activeBlock(x: DualArray, p: number, offset: number, n: number): Float64Array | null {
  if (!x.tangent) return null;
  const o = p * x.value.length + offset;
  const b = x.tangent.subarray(o, o + n);
  for (let k = 0; k < n; k++) if (b[k] !== 0) return b;
  return null;
}

function checkBlocks(what: string, x: DualArray | Dual, P: number): void {
  const q = 'value' in x ? (x.tangent ? x.P : 0) : x.d ? x.d.length : 0;
  if (q !== 0 && q !== P) throw new Error(`weights/3x2pt: ${what} carries ${q} tangent blocks, expected ${P}`);
}

/**
 * The kernels from plain inputs (n(z), the background on the n(z) grid, parameter duals); `P` is the number
 * of tangent directions (0: values only).
 */
export function threeByTwoKernelsHandwritten(
  nzd: RedshiftDistribution,
  bg: KernelBackground,
  par: KernelParameters,
  config: Partial<ThreeByTwoConfig>,
  P: number,
): TracerSet {
  const cfg = resolveThreeByTwoConfig(config);
  const z = nzd.z;
  const nz = z.length;
  const nB = nzd.nBins;
  if (nB !== cfg.bins)
    throw new Error(`weights/3x2pt: with.bins = ${cfg.bins} but the n(z) stage provides ${nB} bins; set with.bins = ${nB}`);
  for (const [name, a] of [['chi', bg.chi_Mpc], ['E', bg.E], ['D', bg.D]] as const)
    if (a.value.length !== nz) throw new Error(`weights/3x2pt: background ${name} has ${a.value.length} values, the n(z) grid ${nz}`);
  const withIA = cfg.lensing && cfg.intrinsicAlignment === 'nla';
  for (const [w, x] of [['n(z)', nzd.n], ['chi', bg.chi_Mpc], ['E', bg.E], ['D', bg.D], ['H0', bg.H0_1overMpc], ['Omega_m', bg.Omega_m]] as const)
    checkBlocks(w, x, P);

  const pv = nzd.n.value;
  const chi = bg.chi_Mpc.value;
  const D = bg.D.value;
  const Om = bg.Omega_m, H0 = bg.H0_1overMpc;

  // 1. H(z) = H0 E(z) [1/Mpc] and its tangents dH = dH0 E + H0 dE
  const H = new Float64Array(nz);
  for (let k = 0; k < nz; k++) H[k] = H0.v * bg.E.value[k];
  const dH: (Float64Array | null)[] = [];
  for (let p = 0; p < P; p++) {
    const dE = activeBlock(bg.E, p, 0, nz);
    const dh0 = H0.d ? H0.d[p] : 0;
    if (!dE && dh0 === 0) {
      dH.push(null);
      continue;
    }
    const b = new Float64Array(nz);
    for (let k = 0; k < nz; k++) b[k] = dh0 * bg.E.value[k] + (dE ? H0.v * dE[k] : 0);
    dH.push(b);
  }

  const nL = cfg.lensing ? nB : 0;
  const nG = cfg.clustering ? nB : 0;
  const nT = nL + nG;
  const N = nT * nz;
  const W = new Float64Array(N);
  const T = P > 0 ? new Float64Array(P * N) : null;

  if (cfg.lensing) {
    if (par.m.length !== nB) throw new Error(`weights/3x2pt: got ${par.m.length} shear biases for ${nB} bins`);
    if (z[0] < 0) throw new Error(`weights/3x2pt: the n(z) grid starts at z = ${z[0]} < 0`);
    for (let k = 0; k < nz; k++)
      if (!(chi[k] > 0) && z[k] > 0) throw new Error(`weights/3x2pt: chi(z = ${z[k]}) = ${chi[k]} is not positive`);
    const atOrigin = z[0] === 0; // chi(0) = 0: p/chi -> finite limit when p(0) = 0, extrapolated from z_1, z_2
    if (atOrigin && nz < 3) throw new Error('weights/3x2pt: an n(z) grid starting at z = 0 needs at least 3 nodes');
    const cumTop = topDownIntegrator(z);

    // 2. prefactor K = (3/2) H0^2 Omega_m and r = (1+z) chi
    const K = 1.5 * H0.v * H0.v * Om.v;
    const dK = (p: number) => 1.5 * (2 * H0.v * (H0.d ? H0.d[p] : 0) * Om.v + H0.v * H0.v * (Om.d ? Om.d[p] : 0));

    // 3. IA amplitude g(z) = (1+z)^eta C_IA Omega_m / D(z), F_IA = -A_IA g;  dg = g [ln(1+z) d eta + dOm/Om - dD/D]
    const A = par.A_IA, eta = par.eta_IA;
    const g = new Float64Array(nz);
    const dg: (Float64Array | null)[] = [];
    const dchiB: (Float64Array | null)[] = [];
    for (let p = 0; p < P; p++) dchiB.push(activeBlock(bg.chi_Mpc, p, 0, nz));
    if (withIA) {
      for (let k = 0; k < nz; k++) {
        if (!(D[k] > 0)) throw new Error(`weights/3x2pt: growth D(z = ${z[k]}) = ${D[k]} is not positive (NLA divides by D)`);
        g[k] = (Math.pow(1 + z[k], eta.v) * cfg.C_IA * Om.v) / D[k];
      }
      for (let p = 0; p < P; p++) {
        const de = eta.d ? eta.d[p] : 0, dOm = Om.d ? Om.d[p] / Om.v : 0;
        const dD = activeBlock(bg.D, p, 0, nz);
        if (de === 0 && dOm === 0 && !dD) {
          dg.push(null);
          continue;
        }
        const b = new Float64Array(nz);
        for (let k = 0; k < nz; k++) b[k] = g[k] * (Math.log1p(z[k]) * de + dOm - (dD ? dD[k] / D[k] : 0));
        dg.push(b);
      }
    }
    const Av = withIA ? A.v : 0;

    const q = new Float64Array(nz), Acum = new Float64Array(nz), Bcum = new Float64Array(nz), G = new Float64Array(nz);
    const dq = new Float64Array(nz), dA = new Float64Array(nz), dB = new Float64Array(nz);
    for (let i = 0; i < nB; i++) {
      const po = i * nz;
      const row = i; // lensing rows come first
      // 4. lensing efficiency chi [A - chi B]
      for (let k = 0; k < nz; k++) q[k] = chi[k] > 0 ? pv[po + k] / chi[k] : 0;
      if (atOrigin) {
        if (pv[po] > 0)
          throw new Error(
            `weights/3x2pt: n_${i + 1}(z = 0) = ${pv[po]} > 0: the lensing integral of n/chi diverges at z = 0; ` +
              'start the n(z) grid above 0 or make n(0) = 0',
          );
        q[0] = 2 * q[1] - q[2];
      }
      cumTop(pv, po, Acum, 0);
      cumTop(q, 0, Bcum, 0);
      for (let k = 0; k < nz; k++) {
        G[k] = Acum[k] - chi[k] * Bcum[k];
        const r = (1 + z[k]) * chi[k];
        W[row * nz + k] = K * r * G[k] + (withIA ? -Av * g[k] * pv[po + k] * H[k] : 0);
      }
      if (!T) continue;
      for (let p = 0; p < P; p++) {
        const dp = activeBlock(nzd.n, p, po, nz);
        const dchi = dchiB[p];
        const dKp = dK(p);
        const dAIA = withIA && A.d ? A.d[p] : 0;
        const dgp = withIA ? dg[p] : null, dHp = withIA ? dH[p] : null;
        if (!dp && !dchi && dKp === 0 && dAIA === 0 && !dgp && !dHp) continue; // block stays 0
        const t = T.subarray(p * N + row * nz, p * N + row * nz + nz);
        // dq = dp/chi - p dchi/chi^2
        if (dp || dchi) {
          for (let k = 0; k < nz; k++)
            dq[k] = chi[k] > 0 ? ((dp ? dp[k] : 0) - (dchi ? (pv[po + k] * dchi[k]) / chi[k] : 0)) / chi[k] : 0;
          if (atOrigin) dq[0] = 2 * dq[1] - dq[2];
          cumTop(dq, 0, dB, 0);
          if (dp) cumTop(dp, 0, dA, 0);
          else dA.fill(0);
        } else {
          dA.fill(0);
          dB.fill(0);
        }
        for (let k = 0; k < nz; k++) {
          const dc = dchi ? dchi[k] : 0;
          const dG = dA[k] - dc * Bcum[k] - chi[k] * dB[k];
          // d[K (1+z) chi G] = (1+z) [dK chi G + K dchi G + K chi dG]
          let v = (1 + z[k]) * (dKp * chi[k] * G[k] + K * dc * G[k] + K * chi[k] * dG);
          if (withIA) {
            // d[-A g p H] = -(dA g + A dg) p H - A g (dp H + p dH)
            const gk = g[k], pk = pv[po + k], Hk = H[k];
            const dF = -(dAIA * gk + Av * (dgp ? dgp[k] : 0));
            v += dF * pk * Hk - Av * gk * ((dp ? dp[k] : 0) * Hk + pk * (dHp ? dHp[k] : 0));
          }
          t[k] = v;
        }
      }
    }
  }

  if (cfg.clustering) {
    if (par.b.length !== nB) throw new Error(`weights/3x2pt: got ${par.b.length} galaxy biases for ${nB} bins`);
    for (let i = 0; i < nB; i++) {
      const po = i * nz;
      const row = nL + i;
      const b = par.b[i];
      // 5. W_G = b p H
      for (let k = 0; k < nz; k++) W[row * nz + k] = b.v * pv[po + k] * H[k];
      if (!T) continue;
      for (let p = 0; p < P; p++) {
        const dp = activeBlock(nzd.n, p, po, nz);
        const db = b.d ? b.d[p] : 0;
        const dHp = dH[p];
        if (db === 0 && !dp && !dHp) continue;
        const t = T.subarray(p * N + row * nz, p * N + row * nz + nz);
        for (let k = 0; k < nz; k++)
          t[k] = db * pv[po + k] * H[k] + b.v * ((dp ? dp[k] : 0) * H[k] + pv[po + k] * (dHp ? dHp[k] : 0));
      }
    }
  }

  // 6. multiplicative factors (1 + m_i) for lensing, 1 for clustering
  const mult = new Float64Array(nT).fill(1);
  const multT = P > 0 ? new Float64Array(P * nT) : null;
  for (let i = 0; i < nL; i++) {
    mult[i] = 1 + par.m[i].v;
    const d = par.m[i].d;
    if (multT && d) for (let p = 0; p < P; p++) multT[p * nT + i] = d[p];
  }

  return {
    z,
    tracers: threeByTwoTracers(cfg),
    W: { value: W, tangent: T, P: T ? P : 0 },
    multiplicative: { value: mult, tangent: multT, P: multT ? P : 0 },
    z_max: z[nz - 1],
  };
}

/**
 * The vector-Jacobian product of threeByTwoKernels: Wbar (tracer-by-z) and multBar (per tracer) pulled back
 * through the steps of the forward function in reverse order:
 *   6'. (1 + m_i):              mbar_i = multBar_i;
 *   5'. W_G = b p H:            bbar_i = sum Wbar p H,  pbar += Wbar b H,  Hbar += Wbar b p;
 *   4'. W_L = K (1+z) chi G - A g p H,  G = A_i - chi B_i,  A_i = T p_i,  B_i = T (p_i/chi)  (T: cumulative
 *       integral from the top, transposed by topDownIntegratorAdjoint);
 *   3'. g = (1+z)^eta C_IA Omega_m / D;
 *   2'. K = (3/2) H0^2 Omega_m;   1'. H = H0 E.
 */
export function threeByTwoKernelsAdjointHandwritten(
  nzd: RedshiftDistribution,
  bg: KernelValues,
  par: { A_IA: number; eta_IA: number; b: readonly number[] },
  config: Partial<ThreeByTwoConfig>,
  Wbar: Float64Array | null,
  multBar: Float64Array | null,
): KernelBars {
  const cfg = resolveThreeByTwoConfig(config);
  const z = nzd.z, nz = z.length, nB = nzd.nBins;
  const withIA = cfg.lensing && cfg.intrinsicAlignment === 'nla';
  const nL = cfg.lensing ? nB : 0, nG = cfg.clustering ? nB : 0;
  const pv = nzd.n.value, chi = bg.chi, D = bg.D, Om = bg.Omega_m, H0 = bg.H0;
  const out: KernelBars = {
    n: new Float64Array(nB * nz), chi: new Float64Array(nz), E: new Float64Array(nz), D: new Float64Array(nz),
    H0: 0, Omega_m: 0, A_IA: 0, eta_IA: 0, b: new Array(nG).fill(0), m: new Array(nL).fill(0),
  };
  // 6'. shear biases
  if (multBar) for (let i = 0; i < nL; i++) out.m[i] = multBar[i];
  if (!Wbar) return out;
  const H = new Float64Array(nz);
  for (let k = 0; k < nz; k++) H[k] = H0 * bg.E[k];
  const Hbar = new Float64Array(nz);

  // 5'. clustering rows
  for (let i = 0; i < nG; i++) {
    const po = i * nz, ro = (nL + i) * nz, b = par.b[i];
    let bb = 0;
    for (let k = 0; k < nz; k++) {
      const wb = Wbar[ro + k];
      if (wb === 0) continue;
      bb += wb * pv[po + k] * H[k];
      out.n[po + k] += wb * b * H[k];
      Hbar[k] += wb * b * pv[po + k];
    }
    out.b[i] = bb;
  }

  // 4'. lensing rows
  if (nL) {
    const atOrigin = z[0] === 0;
    const cumTop = topDownIntegrator(z);
    const cumTopT = topDownIntegratorAdjoint(z);
    const K = 1.5 * H0 * H0 * Om;
    let Kbar = 0;
    const g = new Float64Array(nz), gbar = new Float64Array(nz);
    if (withIA) for (let k = 0; k < nz; k++) g[k] = (Math.pow(1 + z[k], par.eta_IA) * cfg.C_IA * Om) / D[k];
    const q = new Float64Array(nz), Acum = new Float64Array(nz), Bcum = new Float64Array(nz);
    const AcumBar = new Float64Array(nz), BcumBar = new Float64Array(nz), qbar = new Float64Array(nz);
    for (let i = 0; i < nL; i++) {
      const po = i * nz, ro = i * nz;
      let any = false;
      for (let k = 0; k < nz; k++) if (Wbar[ro + k] !== 0) { any = true; break; }
      if (!any) continue;
      // the forward values of this row
      for (let k = 0; k < nz; k++) q[k] = chi[k] > 0 ? pv[po + k] / chi[k] : 0;
      if (atOrigin) q[0] = 2 * q[1] - q[2];
      cumTop(pv, po, Acum, 0);
      cumTop(q, 0, Bcum, 0);
      for (let k = 0; k < nz; k++) {
        const wb = Wbar[ro + k];
        const r = (1 + z[k]) * chi[k];
        const G = Acum[k] - chi[k] * Bcum[k];
        // W = K r G
        Kbar += wb * r * G;
        out.chi[k] += wb * K * (1 + z[k]) * G;
        const Gbar = wb * K * r;
        AcumBar[k] = Gbar;
        out.chi[k] -= Gbar * Bcum[k];
        BcumBar[k] = -Gbar * chi[k];
        if (withIA) {
          // W += -A g p H
          const pk = pv[po + k];
          out.A_IA -= wb * g[k] * pk * H[k];
          gbar[k] -= wb * par.A_IA * pk * H[k];
          out.n[po + k] -= wb * par.A_IA * g[k] * H[k];
          Hbar[k] -= wb * par.A_IA * g[k] * pk;
        }
      }
      cumTopT(AcumBar, 0, out.n, po); // A = T p
      qbar.fill(0);
      cumTopT(BcumBar, 0, qbar, 0); // B = T q
      if (atOrigin) {
        // q_0 = 2 q_1 - q_2
        qbar[1] += 2 * qbar[0];
        qbar[2] -= qbar[0];
        qbar[0] = 0;
      }
      for (let k = 0; k < nz; k++)
        if (chi[k] > 0 && qbar[k] !== 0) {
          out.n[po + k] += qbar[k] / chi[k];
          out.chi[k] -= (qbar[k] * pv[po + k]) / (chi[k] * chi[k]);
        }
    }
    // 3'. g = (1+z)^eta C_IA Omega_m / D
    if (withIA)
      for (let k = 0; k < nz; k++) {
        const t = gbar[k] * g[k];
        if (t === 0) continue;
        out.eta_IA += t * Math.log1p(z[k]);
        out.Omega_m += t / Om;
        out.D[k] -= t / D[k];
      }
    // 2'. K = (3/2) H0^2 Omega_m
    out.H0 += Kbar * 3 * H0 * Om;
    out.Omega_m += Kbar * 1.5 * H0 * H0;
  }
  // 1'. H = H0 E
  for (let k = 0; k < nz; k++) {
    out.E[k] += Hbar[k] * H0;
    out.H0 += Hbar[k] * bg.E[k];
  }
  return out;
}
