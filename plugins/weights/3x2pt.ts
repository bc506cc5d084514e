/**
 * `weights/3x2pt`: radial weights of the photometric 3x2pt tracers (cosmic shear + NLA intrinsic
 * alignments, galaxy clustering) on the n(z) grid, so that the Limber stage computes
 *
 *   C_AB(l) = Integral dz W_A(z) W_B(z) / (H(z) chi(z)^2) P((l+1/2)/chi, z)      (H [1/Mpc], chi [Mpc]).
 *
 * In physics order (docs/weights.md; the same conventions as the CCL reference, shared/reference/ccl/README.md):
 *   1. the background at the n(z) nodes: chi(z), H(z) = H0 E(z), D(z) (D(0) = 1);
 *   2. lensing efficiency   W_gamma,i(z) = (3/2) H0^2 Omega_m (1+z) chi(z) Integral_z^zmax dz' p_i(z') [chi(z') - chi(z)]/chi(z')
 *                                         = (3/2) H0^2 Omega_m (1+z) chi [A_i(z) - chi B_i(z)],
 *      A_i = Integral_z^zmax p_i dz', B_i = Integral_z^zmax p_i/chi dz' (cumulative quadrature from the top, O(nz));
 *   3. NLA intrinsic alignments  F_IA(z) = -A_IA (1+z)^eta_IA C_IA Omega_m / D(z)  (Hirata & Seljak 2004;
 *      Bridle & King 2007), radial kernel p_i(z) H(z): W_L,i = W_gamma,i + F_IA p_i H;
 *   4. clustering           W_G,i(z) = b_i p_i(z) H(z), b_i constant in the bin;
 *   5. multiplicative shear bias (1 + m_i) per lensing tracer (applied by the spectra stage, like F_l).
 * Tangents: every varied parameter, through chi, H, D, H0 and Omega_m (background), p_i (photo-z shifts
 * from the n(z) stage), and A_IA, eta_IA, b_i, m_i read here. Hot loops run on Float64Array blocks.
 */
import type { Dual } from '../../core/ad/dual.js';
import type { DualArray } from '../../core/ad/dual-array.js';
import { cumulativeWeights } from '../../core/numerics/cumulative.js';
import { PLUGIN_API_VERSION, type ParameterSpec, type StageContext, type StagePlugin } from '../../core/plugin/types.js';
import { backgroundAt, backgroundAtAdjoint } from '../contracts/background-eval.js';
import type { Background } from '../contracts/background.js';
import { ARCMIN2_PER_SR, type Tracer, type TracerSet } from '../contracts/tracers.js';
import type { RedshiftDistribution } from '../contracts/redshift.js';
import { describeThreeByTwo } from './3x2pt-describe.js';

export interface ThreeByTwoConfig {
  /** Number of tomographic bins; must equal the n(z) stage's. */
  bins: number;
  lensing: boolean;
  clustering: boolean;
  /** 'nla': shear + NLA intrinsic alignments; 'none': pure shear (no A_IA, eta_IA parameters). */
  intrinsicAlignment: 'nla' | 'none';
  /** NLA normalisation C_IA (C1 rho_crit), dimensionless. */
  C_IA: number;
  /** Spin-2 prefactor the spectra stage applies to lensing tracers. */
  shearPrefactor: 'exact' | 'none';
  /** Bin centres used for the default galaxy bias b_i = sqrt(1 + zbar_i); must match the n(z) stage's zbar. */
  zbar: number[];
  /** Total intrinsic ellipticity dispersion: shape noise N_LL = sigma_eps^2 / nbar. */
  sigma_eps: number;
  /** Galaxies per arcmin^2 in each bin (one number for all bins, or one per bin): N_GG = 1 / nbar. */
  nbar_arcmin2: number | number[];
}

// Euclid IST:F defaults (survey_spec_euclid_istf.json: bin_centres_zbar, intrinsic_alignment).
export const ISTF_ZBAR = [0.2095, 0.489, 0.619, 0.7335, 0.8445, 0.9595, 1.087, 1.2395, 1.4500000000000002, 2.0380000000000003];
export const C_IA_DEFAULT = 0.0134;

export const THREE_BY_TWO_DEFAULTS: ThreeByTwoConfig = {
  bins: 10,
  lensing: true,
  clustering: true,
  intrinsicAlignment: 'nla',
  C_IA: C_IA_DEFAULT,
  shearPrefactor: 'exact',
  zbar: ISTF_ZBAR,
  sigma_eps: 0.3,
  nbar_arcmin2: 3,
};

export const threeByTwoSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    bins: { type: 'integer', minimum: 1, default: 10, description: "Number of tomographic bins (must equal the n(z) stage's)." },
    lensing: { type: 'boolean', default: true, description: 'Emit lensing tracers L1..Ln.' },
    clustering: { type: 'boolean', default: true, description: 'Emit clustering tracers G1..Gn.' },
    intrinsicAlignment: {
      enum: ['nla', 'none'],
      default: 'nla',
      description: "'nla': NLA intrinsic alignments in the lensing kernels (parameters A_IA, eta_IA); 'none': pure shear.",
    },
    C_IA: {
      type: 'number',
      exclusiveMinimum: 0,
      default: C_IA_DEFAULT,
      description: 'NLA normalisation C_IA = C1 rho_crit (0.0134, as in the ISTF spec and the CCL reference; CCL\'s own constant would be 0.0138768).',
    },
    shearPrefactor: {
      enum: ['exact', 'none'],
      default: 'exact',
      description: "Spin-2 prefactor applied by the spectra stage: 'exact' sqrt((l+2)!/(l-2)!)/(l+1/2)^2, or 'none'.",
    },
    zbar: {
      type: 'array',
      items: { type: 'number', minimum: 0 },
      minItems: 1,
      default: ISTF_ZBAR,
      description: "Bin centres for the default bias b_i = sqrt(1 + zbar_i); must equal the n(z) stage's zbar.",
    },
    sigma_eps: { type: 'number', minimum: 0, default: 0.3, description: 'total intrinsic ellipticity dispersion: shape noise of the lensing tracers N_LL = sigma_eps^2 / nbar' },
    nbar_arcmin2: {
      description: 'galaxies per arcmin^2 in each tomographic bin (one number for all bins, or one per bin): shot noise of the clustering tracers N_GG = 1 / nbar',
      default: 3,
      anyOf: [{ type: 'number', exclusiveMinimum: 0 }, { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 1 }],
    },
  },
};

export function resolveThreeByTwoConfig(c: Partial<ThreeByTwoConfig> | undefined): ThreeByTwoConfig {
  return { ...THREE_BY_TWO_DEFAULTS, ...(c ?? {}) };
}

/** Cross-field checks; messages name the `with.` path. */
export function checkThreeByTwoConfig(raw: Partial<ThreeByTwoConfig>): string[] {
  const c = resolveThreeByTwoConfig(raw);
  const msgs: string[] = [];
  if (!Number.isInteger(c.bins) || c.bins < 1) msgs.push(`with.bins: ${c.bins} must be a positive integer`);
  if (!c.lensing && !c.clustering) msgs.push('with.clustering: false together with with.lensing = false leaves no tracer; enable at least one');
  if (c.clustering && c.zbar.length !== c.bins)
    msgs.push(
      `with.zbar: has ${c.zbar.length} entries, but with.bins = ${c.bins}; give one bin centre per bin ` +
        '(they set the default galaxy bias b_i = sqrt(1 + zbar_i))',
    );
  if (Array.isArray(c.nbar_arcmin2) && c.nbar_arcmin2.length !== c.bins)
    msgs.push(`with.nbar_arcmin2: has ${c.nbar_arcmin2.length} entries, but with.bins = ${c.bins}; give one number per bin, or one number for all`);
  if (!(c.C_IA > 0)) msgs.push(`with.C_IA: ${c.C_IA} must be > 0`);
  if (!['nla', 'none'].includes(c.intrinsicAlignment)) msgs.push(`with.intrinsicAlignment: '${c.intrinsicAlignment}' is not allowed; choose 'nla' or 'none'`);
  if (!['exact', 'none'].includes(c.shearPrefactor)) msgs.push(`with.shearPrefactor: '${c.shearPrefactor}' is not allowed; choose 'exact' or 'none'`);
  return msgs;
}

/** Parameters read, as a function of the config (one bias and one shear bias per bin). */
export function threeByTwoParameters(raw: Partial<ThreeByTwoConfig>): Record<string, ParameterSpec> {
  const c = resolveThreeByTwoConfig(raw);
  const specs: Record<string, ParameterSpec> = {};
  if (c.lensing && c.intrinsicAlignment === 'nla') {
    specs.A_IA = { default: 1.72, description: 'NLA intrinsic-alignment amplitude' };
    specs.eta_IA = { default: -0.41, description: 'NLA redshift slope: amplitude A_IA (1+z)^eta_IA' };
  }
  if (c.clustering && c.zbar.length !== c.bins)
    throw new Error(`with.zbar: has ${c.zbar.length} entries, but with.bins = ${c.bins}; give one bin centre per bin (they set the default galaxy bias b_i = sqrt(1 + zbar_i))`);
  if (c.clustering)
    for (let i = 0; i < c.bins; i++) {
      const zb = c.zbar[i];
      specs[`b_${i + 1}`] = {
        default: Math.sqrt(1 + zb),
        description: `linear galaxy bias of bin ${i + 1}, constant in z (default sqrt(1 + zbar_${i + 1}), zbar_${i + 1} = ${zb})`,
        exclusiveMin: 0,
      };
    }
  if (c.lensing)
    for (let i = 0; i < c.bins; i++)
      specs[`m_${i + 1}`] = {
        default: 0,
        description: `multiplicative shear bias of bin ${i + 1}: lensing tracer scaled by (1 + m_${i + 1})`,
        exclusiveMin: -1,
        absStep: 1e-3,
      };
  return specs;
}

/** The background quantities the kernels need, sampled on the n(z) grid. */
export interface KernelBackground {
  readonly chi_Mpc: DualArray;
  /** E = H/H0 */
  readonly E: DualArray;
  /** Linear growth, D(0) = 1. */
  readonly D: DualArray;
  readonly H0_1overMpc: Dual;
  readonly Omega_m: Dual;
}

export interface KernelParameters {
  readonly A_IA: Dual;
  readonly eta_IA: Dual;
  /** One per bin (may be empty when clustering is off). */
  readonly b: readonly Dual[];
  /** One per bin (may be empty when lensing is off). */
  readonly m: readonly Dual[];
}

/**
 * Integral from the top, out[k] = Integral_{x_k}^{x_{n-1}} y dx, for rows of length n on grid x: the 4th-order
 * cumulative rule (core/numerics/cumulative.ts) applied on the mirrored grid -x, so that the integral starts
 * exactly at 0 at the top and tails stay accurate in relative terms.
 */
export function topDownIntegrator(x: Float64Array): (y: Float64Array, yo: number, out: Float64Array, oo: number) => void {
  const n = x.length;
  const xr = new Float64Array(n);
  for (let j = 0; j < n; j++) xr[j] = -x[n - 1 - j];
  const { w, start } = cumulativeWeights(xr);
  const npt = Math.min(n, 4);
  return (y, yo, out, oo) => {
    // mirrored index j <-> original n-1-j
    const top = yo + n - 1;
    let acc = 0;
    out[oo + n - 1] = 0;
    for (let j = 0; j < n - 1; j++) {
      const b = 4 * j, s = top - start[j];
      let t = 0;
      for (let q = 0; q < npt; q++) t += w[b + q] * y[s - q];
      acc += t;
      out[oo + n - 2 - j] = acc;
    }
  };
}

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
export function threeByTwoKernels(
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
 * The tracers L1..Ln (family WL: shear + NLA, spin-2, shape noise) then G1..Gn (family GC: linear bias, shot
 * noise), in the order of the kernel rows. Noise per steradian from nbar per arcmin^2.
 */
export function threeByTwoTracers(config: Partial<ThreeByTwoConfig>): Tracer[] {
  const cfg = resolveThreeByTwoConfig(config);
  const nbarSr = (i: number) => (Array.isArray(cfg.nbar_arcmin2) ? cfg.nbar_arcmin2[i] : cfg.nbar_arcmin2) * ARCMIN2_PER_SR;
  const out: Tracer[] = [];
  if (cfg.lensing)
    for (let i = 0; i < cfg.bins; i++)
      out.push({
        name: `L${i + 1}`, family: 'WL', code: 'L', index: i + 1, latex: `\\gamma_{${i + 1}}`,
        ellFactor: cfg.shearPrefactor === 'exact' ? 'spin2' : 'none', power: 'matter',
        noise: (cfg.sigma_eps * cfg.sigma_eps) / nbarSr(i),
      });
  if (cfg.clustering)
    for (let i = 0; i < cfg.bins; i++)
      out.push({ name: `G${i + 1}`, family: 'GC', code: 'G', index: i + 1, latex: `\\delta_{g,${i + 1}}`, ellFactor: 'none', power: 'matter', noise: 1 / nbarSr(i) });
  return out;
}

/** Maximum |a - b| over the bins, for the zbar consistency check. */
function zbarMismatch(a: readonly number[], b: Float64Array): number {
  let d = 0;
  for (let i = 0; i < b.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

export interface ThreeByTwoInputs {
  nz: RedshiftDistribution;
  background: Background;
}

export const threeByTwoPlugin: StagePlugin<ThreeByTwoConfig, ThreeByTwoInputs, TracerSet> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'weights/3x2pt',
  version: '1.0.0',
  port: 'weights',
  description:
    '3x2pt radial weights: lensing efficiency + NLA intrinsic alignments (L1..Ln), linear-bias clustering (G1..Gn), shear biases (1+m_i).',
  configSchema: threeByTwoSchema,
  inputs: { nz: 'redshift-distribution', background: 'background' },
  reads: (config) => threeByTwoParameters(config),
  differentiable: 'forward',
  check: (config) => checkThreeByTwoConfig(config),
  describe: describeThreeByTwo,
  run(ctx: StageContext<ThreeByTwoConfig, ThreeByTwoInputs>): TracerSet {
    const cfg = resolveThreeByTwoConfig(ctx.config);
    const errors = checkThreeByTwoConfig(cfg);
    if (errors.length) throw new Error(`weights/3x2pt: ${errors.join('; ')}`);
    const { nz, background } = ctx.inputs;
    if (nz.nBins !== cfg.bins)
      throw new Error(`weights/3x2pt: with.bins = ${cfg.bins} but the n(z) stage provides ${nz.nBins} bins; set with.bins = ${nz.nBins}`);
    if (cfg.clustering && zbarMismatch(cfg.zbar, nz.zbar) > 1e-9)
      throw new Error(
        `weights/3x2pt: with.zbar = [${cfg.zbar.join(', ')}] (default galaxy bias sqrt(1 + zbar_i)) differs from the n(z) ` +
          `stage's zbar = [${Array.from(nz.zbar).join(', ')}] (${nz.zbarDefinition}); set with.zbar to the latter`,
      );
    const P = ctx.tangentParams.length;
    // 1. background at the n(z) nodes
    const s = backgroundAt(background, nz.z);
    const withIA = cfg.lensing && cfg.intrinsicAlignment === 'nla';
    const zero: Dual = { v: 0, d: null };
    const par: KernelParameters = {
      A_IA: withIA ? ctx.param('A_IA') : zero,
      eta_IA: withIA ? ctx.param('eta_IA') : zero,
      b: cfg.clustering ? Array.from({ length: cfg.bins }, (_, i) => ctx.param(`b_${i + 1}`)) : [],
      m: cfg.lensing ? Array.from({ length: cfg.bins }, (_, i) => ctx.param(`m_${i + 1}`)) : [],
    };
    return threeByTwoKernels(
      nz,
      { chi_Mpc: s.chi_Mpc, E: s.E, D: s.D, H0_1overMpc: background.H0_1overMpc, Omega_m: background.Omega_m },
      par,
      cfg,
      P,
    );
  },
  vjp(ctx, outputBar) {
    const bar = outputBar as { W?: Float64Array; multiplicative?: Float64Array };
    if (!bar.W && !bar.multiplicative) return {};
    const cfg = resolveThreeByTwoConfig(ctx.config);
    const { nz, background } = ctx.inputs;
    const s = backgroundAt(background, nz.z);
    const withIA = cfg.lensing && cfg.intrinsicAlignment === 'nla';
    const v = (n: string) => ctx.param(n).v;
    const par = {
      A_IA: withIA ? v('A_IA') : 0,
      eta_IA: withIA ? v('eta_IA') : 0,
      b: cfg.clustering ? Array.from({ length: cfg.bins }, (_, i) => v(`b_${i + 1}`)) : [],
    };
    const r = threeByTwoKernelsAdjoint(
      nz, { chi: s.chi_Mpc.value, E: s.E.value, D: s.D.value, H0: background.H0_1overMpc.v, Omega_m: background.Omega_m.v },
      par, cfg, bar.W ?? null, bar.multiplicative ?? null,
    );
    const params: Record<string, number> = {};
    if (withIA) { params.A_IA = r.A_IA; params.eta_IA = r.eta_IA; }
    r.b.forEach((x, i) => { params[`b_${i + 1}`] = x; });
    r.m.forEach((x, i) => { params[`m_${i + 1}`] = x; });
    const bg = backgroundAtAdjoint(background, nz.z, { chi_Mpc: r.chi, E: r.E, D: r.D });
    return {
      inputs: { nz: { n: r.n }, background: { ...bg, H0_1overMpc: r.H0, Omega_m: r.Omega_m } },
      params,
    };
  },
  write(output, file) {
    const n = output.z.length;
    const lines = [['z', ...output.tracers.map((t) => `W_${t.name}_1overMpc`)].join('\t')];
    for (let k = 0; k < n; k++) {
      const row = [String(output.z[k])];
      for (let a = 0; a < output.tracers.length; a++) row.push(output.W.value[a * n + k].toExponential(10));
      lines.push(row.join('\t'));
    }
    return { [file]: lines.join('\n') + '\n' };
  },
};

// ---------------------------------------------------------------------------------------------------------
// Reverse mode

/**
 * Transpose of topDownIntegrator(x): ybar[yo ..] += T^T obar[oo ..], where out = T y is the cumulative integral
 * from the top. out[n-2-j] = sum_{j' <= j} t_j' with t_j = sum_q w_jq y_(top - start_j - q), so
 * tbar_j = sum_{j' >= j} obar[n-2-j'] (a running sum from the bottom) and ybar gets w_jq tbar_j.
 */
export function topDownIntegratorAdjoint(x: Float64Array): (obar: Float64Array, oo: number, ybar: Float64Array, yo: number) => void {
  const n = x.length;
  const xr = new Float64Array(n);
  for (let j = 0; j < n; j++) xr[j] = -x[n - 1 - j];
  const { w, start } = cumulativeWeights(xr);
  const npt = Math.min(n, 4);
  return (obar, oo, ybar, yo) => {
    const top = yo + n - 1;
    let acc = 0;
    for (let j = n - 2; j >= 0; j--) {
      acc += obar[oo + n - 2 - j];
      if (acc === 0) continue;
      const b = 4 * j, s = top - start[j];
      for (let q = 0; q < npt; q++) ybar[s - q] += w[b + q] * acc;
    }
  };
}

/** Values of the background on the n(z) grid and of the parameters, as the reverse pass reads them. */
export interface KernelValues {
  chi: Float64Array;
  E: Float64Array;
  D: Float64Array;
  H0: number;
  Omega_m: number;
}

/** Bars of everything the kernels depend on. */
export interface KernelBars {
  /** n(z) rows (bin-major, like RedshiftDistribution.n) */
  n: Float64Array;
  chi: Float64Array;
  E: Float64Array;
  D: Float64Array;
  H0: number;
  Omega_m: number;
  A_IA: number;
  eta_IA: number;
  b: number[];
  m: number[];
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
export function threeByTwoKernelsAdjoint(
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
