/**
 * What the Gaussian C_l likelihood and its Fisher matrix share: the noise, the multipole binning and the
 * blocks of tracers used at each multipole (likelihood/gaussian-fisher and likelihood/gaussian). Generic over
 * tracers: a tracer brings its own noise and probe family (plugins/contracts/tracers.ts); nothing here reads
 * a tracer's name.
 *
 * Noise: each tracer's white noise N_AA on the diagonal (shape noise sigma_eps^2/nbar, shot noise 1/nbar,
 * set by the tracer stage), none on cross-spectra.
 *
 * Multipole bins (docs/likelihood.md, "Covariance convention"): each multipole l of the spectra stands for a bin
 * of width Delta_l, and the bin carries
 *
 *   w_l = f_sky (2l + 1) Delta_l / 2,
 *
 * the number of independent modes over 2 (Euclid Collaboration, Blanchard et al. 2020, eq. 30): (2l+1) f_sky
 * modes per integer multipole, at the bin's centre, times the number of integer multipoles in the bin. Delta_l:
 *  - bins by edges (Spectra.ellEdges, the spectra stage's `ell.bins`): Delta_l = e_{i+1} - e_i, the centre the
 *    geometric mean sqrt(e_i e_{i+1}). A bin is used for family f if l_min <= e_i and e_{i+1} <= l_max[f]; an
 *    l_min or l_max strictly inside a bin is an error naming the bin.
 *  - a list of multipoles (or min/max/count): they are taken as centres of log bins with edges at the geometric
 *    midpoints of neighbours and the outer edges half a log step out (logBinWidths); for a log grid this is the
 *    log binning whose geometric-mean centres are those multipoles. A multipole is used for family f if
 *    l_min <= l <= l_max[f] (the centre is compared).
 * Where tracers of two families are both in a block their cross-spectra enter too (so IST:F's l_max.XC, when
 * given, must equal min(l_max.WL, l_max.GC)).
 */
import type { DescribeContext, JsonSchema } from '../../core/plugin/types.js';
import { inputDescription, type Described } from '../contracts/describe.js';
import type { Spectra } from '../contracts/spectra.js';

/** Relative tolerance for an l_min / l_max to sit on a bin edge (edges are printed to 12 digits in messages). */
const EDGE_TOL = 1e-9;

export { ARCMIN2_PER_SR } from '../contracts/tracers.js';

/** Probe selections: IST:F's names, or a list of tracer families. */
export type Probe = '3x2pt' | 'WL' | 'GC' | string[];

/** The families a probe selection uses. */
export function probeFamilies(p: Probe): string[] {
  if (Array.isArray(p)) return p;
  return p === '3x2pt' ? ['WL', 'GC'] : [p];
}

/** The settings of the Gaussian covariance (the same fields in both likelihood stages). */
export interface ClCovarianceConfig {
  probes: Probe;
  fsky: number;
  /** Largest multipole (bin centre) per family; XC (IST:F's cross-probe l_max) is checked, not used. */
  l_max: Record<string, number>;
  l_min: number;
  /** Moved to the tracer stage; refused with a message saying where (kept in the schema for that message). */
  sigma_eps?: unknown;
  nbar_arcmin2?: unknown;
}

/** JSON Schema properties of ClCovarianceConfig (defaults: Euclid IST:F pessimistic). */
export const clCovarianceProperties: Record<string, JsonSchema> = {
  probes: {
    description: "tracer families used: '3x2pt' (WL and GC with their cross-correlation), 'WL' (lensing), 'GC' (clustering), or a list of families, e.g. [\"WL\", \"GC\", \"CMBK\"]",
    default: '3x2pt',
    anyOf: [{ enum: ['3x2pt', 'WL', 'GC'] }, { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, uniqueItems: true }],
  },
  fsky: { type: 'number', exclusiveMinimum: 0, maximum: 1, default: 0.3636, description: 'observed sky fraction, in (0, 1]' },
  sigma_eps: { description: 'moved: the shape noise belongs to the lensing tracers (stages.<weights>.with.sigma_eps)' },
  nbar_arcmin2: { description: 'moved: the galaxy densities belong to the tracers (stages.<weights>.with.nbar_arcmin2)' },
  l_max: {
    type: 'object', default: {},
    additionalProperties: { type: 'number', minimum: 2 },
    description: 'largest multipole (bin centre) per tracer family: IST:F pessimistic WL 1500, GC 750 (XC, if given, must be min(WL, GC)); optimistic 5000 / 3000; any other family used (e.g. CMBK) needs its own entry',
    properties: {
      WL: { type: 'number', minimum: 2, default: 1500 },
      GC: { type: 'number', minimum: 2, default: 750 },
      XC: { type: 'number', minimum: 2 },
    },
  },
  l_min: { type: 'number', minimum: 2, default: 10, description: 'smallest multipole (bin centre) used' },
};

/** Config-only problems (run by the stages' `check`, before compute). */
export function clCovarianceProblems(c: ClCovarianceConfig): string[] {
  const out: string[] = [];
  if (c.sigma_eps !== undefined) out.push('with.sigma_eps: the shape noise now belongs to the lensing tracers; set it on the tracer stage (stages.weights.with.sigma_eps) and remove it here');
  if (c.nbar_arcmin2 !== undefined) out.push('with.nbar_arcmin2: galaxy densities now belong to the tracers; set them on the tracer stage (stages.weights.with.nbar_arcmin2) and remove it here');
  const fams = probeFamilies(c.probes);
  if (fams.includes('WL') && fams.includes('GC') && c.l_max.XC !== undefined && c.l_max.XC !== Math.min(c.l_max.WL, c.l_max.GC))
    out.push(`with.l_max.XC = ${c.l_max.XC}: the combined likelihood needs the cross-spectra wherever both probes are used, so XC must equal min(WL, GC) = ${Math.min(c.l_max.WL, c.l_max.GC)}`);
  return out;
}

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

/** Delta_l of every multipole of the spectra: from the edges when binned by edges, else logBinWidths(ell). */
export function binWidths(s: Pick<Spectra, 'ell' | 'ellEdges'>): Float64Array {
  const e = s.ellEdges;
  return e ? Float64Array.from(s.ell, (_, i) => e[i + 1] - e[i]) : logBinWidths(s.ell);
}

/**
 * For spectra binned by edges: l_min and each used family's l_max must fall on a bin edge within the binned
 * range; an error names the bin a value cuts and its two edges.
 */
export function binEdgeProblems(edges: ArrayLike<number>, c: Pick<ClCovarianceConfig, 'l_min' | 'l_max'>, fams: readonly string[]): string[] {
  const n = edges.length - 1;
  const out: string[] = [];
  const g = (x: number) => Number(x.toPrecision(12));
  const check = (value: number, at: string) => {
    if (!(value >= 2)) return;
    const isMin = at.endsWith('l_min');
    if (value < edges[0] * (1 - EDGE_TOL) || value > edges[n] * (1 + EDGE_TOL)) {
      out.push(`${at} = ${value} is outside the binned multipoles [${g(edges[0])}, ${g(edges[n])}] (the spectra stage's ell.bins); ${isMin ? 'raise' : 'lower'} it or extend the bins`);
      return;
    }
    for (let i = 0; i < n; i++) {
      const a = edges[i], b = edges[i + 1];
      if (value > a * (1 + EDGE_TOL) && value < b * (1 - EDGE_TOL)) {
        out.push(`${at} = ${value} cuts bin ${i} [${g(a)}, ${g(b)}] (centre ${g(Math.sqrt(a * b))}) in the middle; bins are selected by their edges, so use ${g(a)} (the bin ${isMin ? 'kept' : 'left out'}) or ${g(b)} (the bin ${isMin ? 'left out' : 'kept'})`);
        return;
      }
    }
  };
  check(c.l_min, 'with.l_min');
  for (const f of fams) if (c.l_max[f] !== undefined) check(c.l_max[f], `with.l_max.${f}`);
  return out;
}

/** One multipole bin used by the likelihood: the tracers in its block and their pairs. */
export interface ClBin {
  /** Index into the spectra's multipoles. */
  l: number;
  ell: number;
  /** w_l = f_sky (2l+1) Delta_l / 2. */
  weight: number;
  /** Tracer indices of the block (by family, in the order of with.probes). */
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
 * The blocks of a spectra object under a covariance config, with every consistency check (families present,
 * l_max per family, multipole range, pairs present); errors name the config field.
 */
export function clBlocks(s: Spectra, c: ClCovarianceConfig): ClBlocks {
  const nl = s.ell.length;
  const problems = clCovarianceProblems(c);
  if (problems.length) throw new Error(problems.join('; '));
  const fams = probeFamilies(c.probes);
  const members = new Map<string, number[]>(fams.map((f) => [f, []]));
  s.tracers.forEach((t, i) => members.get(t.family)?.push(i));
  for (const f of fams) {
    if (!members.get(f)!.length)
      throw new Error(`with.probes uses the family ${f}, and the spectra have no tracer of it (families: ${[...new Set(s.tracers.map((t) => t.family))].join(', ')})`);
    if (!(c.l_max[f] >= 2)) throw new Error(`with.l_max.${f}: the family ${f} is used, so give its largest multipole`);
  }
  const lmaxUsed = Math.max(...fams.map((f) => c.l_max[f]));
  const edges = s.ellEdges;
  if (edges) {
    const cut = binEdgeProblems(edges, c, fams);
    if (cut.length) throw new Error(cut.join('; '));
  } else if (lmaxUsed > s.ell[nl - 1] * (1 + 1e-9)) throw new Error(`with.l_max = ${lmaxUsed} is beyond the computed multipoles (the spectra stop at l = ${s.ell[nl - 1]}); extend the spectra stage's ell grid or lower l_max`);
  else if (c.l_min < s.ell[0] * (1 - 1e-9)) throw new Error(`with.l_min = ${c.l_min} is below the computed multipoles (the spectra start at l = ${s.ell[0]})`);

  // per-tracer noise [sr], from the tracers themselves
  const noise = Float64Array.from(s.tracers, (t) => t.noise);
  // index of each (A, B) tracer pair in the spectra (either order)
  const T = s.tracers.length;
  const pairIndex = new Int32Array(T * T).fill(-1);
  s.pairs.forEach(([a, b], p) => { pairIndex[a * T + b] = p; pairIndex[b * T + a] = p; });

  const widths = binWidths(s);
  // the bin's range compared with l_min / l_max: its edges when binned by edges, else its centre
  const lo = (l: number) => (edges ? edges[l] : s.ell[l]), hi = (l: number) => (edges ? edges[l + 1] : s.ell[l]);
  const tol = edges ? EDGE_TOL : 1e-9;
  const bins: ClBin[] = [];
  for (let l = 0; l < nl; l++) {
    const ell = s.ell[l];
    if (lo(l) < c.l_min * (1 - tol)) continue;
    const active = fams.flatMap((f) => (hi(l) <= c.l_max[f] * (1 + tol) ? members.get(f)! : []));
    const n = active.length;
    if (!n) continue;
    const pair = new Int32Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        const p = pairIndex[active[i] * T + active[j]];
        if (p < 0) throw new Error(`the spectra lack the pair ${s.tracers[active[i]].name} x ${s.tracers[active[j]].name}`);
        pair[i * n + j] = p;
      }
    bins.push({ l, ell, weight: (c.fsky * (2 * ell + 1) * widths[l]) / 2, active, pair });
  }
  if (!bins.length) throw new Error('no multipole bin lies within [l_min, l_max]');
  return { noise, bins };
}

/** Each tracer's noise [sr] by name, for the outputs' settings. */
export function noiseByTracer(s: Spectra): Record<string, number> {
  return Object.fromEntries(s.tracers.map((t) => [t.name, t.noise]));
}

/**
 * Before compute (StagePlugin.describe of both likelihood stages): every family in with.probes has tracers in the
 * spectra (from the spectra stage's description) and an l_max — the same checks clBlocks makes at compute.
 */
export function describeClLikelihood(c: ClCovarianceConfig, ctx: DescribeContext): Described {
  const spectra = inputDescription(ctx, 'spectra');
  const list = Array.isArray(spectra?.tracers) ? (spectra.tracers as { family?: unknown }[]) : null;
  const problems = [...clCovarianceProblems(c)];
  // bins by edges (the spectra stage's description): l_min / l_max on edges
  if (Array.isArray(spectra?.ell_edges))
    problems.push(...binEdgeProblems(spectra.ell_edges as number[], c, probeFamilies(c.probes).filter((f) => c.l_max[f] >= 2)));
  const present = list ? new Set(list.map((t) => String(t?.family))) : null;
  for (const f of probeFamilies(c.probes)) {
    if (present && !present.has(f))
      problems.push(`with.probes: uses the family ${f}, and the spectra of stage "${String(ctx.providers.spectra)}" have no tracer of it (families: ${[...present].join(', ')})`);
    else if (!(c.l_max[f] >= 2)) problems.push(`with.l_max.${f}: the family ${f} is used, so give its largest multipole`);
  }
  return problems.length ? { problems } : {};
}
