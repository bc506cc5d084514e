/**
 * What the Gaussian C_l likelihood and its Fisher matrix share: the noise, the multipole binning and the
 * blocks of tracers used at each multipole (likelihood/gaussian-fisher and likelihood/gaussian).
 *
 * Noise: shape noise N^LL_ii = sigma_eps^2 / nbar_i and shot noise N^GG_ii = 1 / nbar_i (nbar per steradian),
 * none on GL. Multipole bins: the spectra stage's multipoles are the centres of log-spaced bins (edges at the
 * geometric midpoints), Delta_l the bin width, and a bin carries the weight
 *
 *   w_l = f_sky (2l + 1) Delta_l / 2,
 *
 * the number of independent modes over 2 (Euclid Collaboration, Blanchard et al. 2020, eq. 30). A bin enters
 * the lensing block if its centre <= l_max.WL, the clustering block if <= l_max.GC; where both probes are used
 * the cross-spectra enter too, which needs l_max.XC = min(l_max.WL, l_max.GC).
 */
import type { JsonSchema } from '../../core/plugin/types.js';
import type { Spectra } from '../contracts/spectra.js';

/** (180 * 60 / pi)^2: square arcminutes per steradian. */
export const ARCMIN2_PER_SR = (180 * 60 / Math.PI) ** 2;

export type Probe = '3x2pt' | 'WL' | 'GC';

/** The settings of the Gaussian covariance (the same fields in both likelihood stages). */
export interface ClCovarianceConfig {
  probes: Probe;
  fsky: number;
  sigma_eps: number;
  nbar_arcmin2: number | number[];
  l_max: { WL: number; GC: number; XC: number };
  l_min: number;
}

/** JSON Schema properties of ClCovarianceConfig (defaults: Euclid IST:F pessimistic). */
export const clCovarianceProperties: Record<string, JsonSchema> = {
  probes: { enum: ['3x2pt', 'WL', 'GC'], default: '3x2pt', description: 'WL: lensing only; GC: clustering only; 3x2pt: both with their cross-correlation' },
  fsky: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.3636, description: 'observed sky fraction, in (0, 1]' },
  sigma_eps: { type: 'number', minimum: 0, default: 0.3, description: 'total intrinsic ellipticity dispersion (N^LL = sigma_eps^2 / nbar)' },
  nbar_arcmin2: {
    description: 'galaxies per arcmin^2 in each tomographic bin (one number for all bins, or one per bin)',
    default: 3,
    anyOf: [{ type: 'number', exclusiveMinimum: 0 }, { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 1 }],
  },
  l_max: {
    type: 'object', additionalProperties: false, default: {},
    description: 'largest multipole (bin centre) per probe: IST:F pessimistic WL 1500, GC and XC 750; optimistic 5000 / 3000',
    properties: {
      WL: { type: 'number', minimum: 2, default: 1500 },
      GC: { type: 'number', minimum: 2, default: 750 },
      XC: { type: 'number', minimum: 2, default: 750 },
    },
  },
  l_min: { type: 'number', minimum: 2, default: 10, description: 'smallest multipole (bin centre) used' },
};

/** Log-bin widths for bin centres: edges at geometric midpoints, the outer edges half a log-step out. */
export function logBinWidths(ell: Float64Array): Float64Array {
  const n = ell.length;
  const w = new Float64Array(n);
  if (n === 1) { w[0] = 1; return w; }
  const edge = (i: number) => {
    if (i === 0) return ell[0] / Math.sqrt(ell[1] / ell[0]);
    if (i === n) return ell[n - 1] * Math.sqrt(ell[n - 1] / ell[n - 2]);
    return Math.sqrt(ell[i - 1] * ell[i]);
  };
  for (let i = 0; i < n; i++) w[i] = edge(i + 1) - edge(i);
  return w;
}

/** One multipole bin used by the likelihood: the tracers in its block and their pairs. */
export interface ClBin {
  /** Index into the spectra's multipoles. */
  l: number;
  ell: number;
  /** w_l = f_sky (2l+1) Delta_l / 2. */
  weight: number;
  /** Tracer indices of the block (lensing first, then clustering). */
  active: number[];
  /** pair[i * n + j]: the spectra's pair index of (active[i], active[j]). */
  pair: Int32Array;
}

export interface ClBlocks {
  /** Noise per tracer [sr]. */
  noise: Float64Array;
  bins: ClBin[];
}

/**
 * The blocks of a spectra object under a covariance config, with every consistency check (probes present,
 * l_max.XC, multipole range, nbar per bin, pairs present); errors name the config field.
 */
export function clBlocks(s: Spectra, c: ClCovarianceConfig): ClBlocks {
  const nl = s.ell.length;
  const lensing = s.tracers.map((t, i) => (t.startsWith('L') ? i : -1)).filter((i) => i >= 0);
  const clustering = s.tracers.map((t, i) => (t.startsWith('G') ? i : -1)).filter((i) => i >= 0);
  const useL = c.probes !== 'GC', useG = c.probes !== 'WL';
  if (useL && !lensing.length) throw new Error(`with.probes = ${c.probes} needs lensing tracers, and the spectra have none`);
  if (useG && !clustering.length) throw new Error(`with.probes = ${c.probes} needs clustering tracers, and the spectra have none`);
  if (c.probes === '3x2pt' && c.l_max.XC !== Math.min(c.l_max.WL, c.l_max.GC))
    throw new Error(`with.l_max.XC = ${c.l_max.XC}: the combined likelihood needs the cross-spectra wherever both probes are used, so XC must equal min(WL, GC) = ${Math.min(c.l_max.WL, c.l_max.GC)}`);
  const lmaxUsed = Math.max(useL ? c.l_max.WL : 0, useG ? c.l_max.GC : 0);
  if (lmaxUsed > s.ell[nl - 1] * (1 + 1e-9)) throw new Error(`with.l_max = ${lmaxUsed} is beyond the computed multipoles (the spectra stop at l = ${s.ell[nl - 1]}); extend the spectra stage's ell grid or lower l_max`);
  if (c.l_min < s.ell[0] * (1 - 1e-9)) throw new Error(`with.l_min = ${c.l_min} is below the computed multipoles (the spectra start at l = ${s.ell[0]})`);

  // per-tracer noise [sr]
  const nb = Array.isArray(c.nbar_arcmin2) ? c.nbar_arcmin2 : null;
  const nBinsMax = Math.max(lensing.length, clustering.length);
  if (nb && nb.length !== nBinsMax) throw new Error(`with.nbar_arcmin2 has ${nb.length} entries but there are ${nBinsMax} tomographic bins`);
  const noise = Float64Array.from(s.tracers, (t) => {
    const bin = Number(t.slice(1)) - 1;
    const nbarSr = (nb ? nb[bin] : (c.nbar_arcmin2 as number)) * ARCMIN2_PER_SR;
    return t.startsWith('L') ? (c.sigma_eps * c.sigma_eps) / nbarSr : 1 / nbarSr;
  });
  // index of each (A, B) tracer pair in the spectra (either order)
  const T = s.tracers.length;
  const pairIndex = new Int32Array(T * T).fill(-1);
  s.pairs.forEach(([a, b], p) => { pairIndex[a * T + b] = p; pairIndex[b * T + a] = p; });

  const widths = logBinWidths(s.ell);
  const bins: ClBin[] = [];
  for (let l = 0; l < nl; l++) {
    const ell = s.ell[l];
    if (ell < c.l_min * (1 - 1e-9)) continue;
    const active = [...(useL && ell <= c.l_max.WL * (1 + 1e-9) ? lensing : []), ...(useG && ell <= c.l_max.GC * (1 + 1e-9) ? clustering : [])];
    const n = active.length;
    if (!n) continue;
    const pair = new Int32Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const p = pairIndex[active[i] * T + active[j]];
        if (p < 0) throw new Error(`the spectra lack the pair ${s.tracers[active[i]]} x ${s.tracers[active[j]]}`);
        pair[i * n + j] = p;
      }
    bins.push({ l, ell, weight: (c.fsky * (2 * ell + 1) * widths[l]) / 2, active, pair });
  }
  if (!bins.length) throw new Error('no multipole bin lies within [l_min, l_max]');
  return { noise, bins };
}
