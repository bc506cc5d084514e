/**
 * The non-Limber correction of `spectra/limber` below a switch multipole (with.non_limber): the FKEM scheme of
 * the N5K challenge (Leonard et al. 2023, OJAp, arXiv:2212.04291; Fang, Krause, Eifler & MacCrann 2020, JCAP 05,
 * 010, arXiv:1911.11947, "Beyond Limber"),
 *
 *   C_AB(l) = C_AB^Limber(P)  +  [ C_AB^exact(P_lin) - C_AB^Limber(P_lin) ]        for l < l_switch,
 *
 * the bracket on the linear spectrum with a scale-independent growth, P_lin(k; z1, z2) = P_lin(k, z0) D1 D2
 * (D = D(z)/D(z0), z0 the linear grid's first redshift), which makes the exact double integral separable:
 *
 *   C^exact_AB = (2/pi) E_A E_B Integral dk k^2 P_lin(k, z0) F_A(k) F_B(k),   F_A(k) = Integral dchi f_A(chi) j_l(k chi)/(k chi)^p_A,
 *   C^Limber_AB = E_A E_B / (l+1/2)^(p_A+p_B) Integral dchi f_A f_B / chi^2 P_lin((l+1/2)/chi, z0),
 *
 * f_A(chi) = W_A(z(chi)) D(z(chi)) (W dz/H = W dchi: the tracer's radial kernel), (E, p) = (1, 0) for number
 * counts, (sqrt((l+2)!/(l-2)!), 2) for shear (IA included: it rides on the shear kernel), (l(l+1), 2) for a
 * convergence; times (1+m_A)(1+m_B). F_A is one FFTLog transform per tracer and multipole
 * (core/numerics/fftlog.ts); both integrals are sums on the same log-spaced chi (and k) grid, so that their
 * discretisation errors largely cancel in the bracket, which vanishes as O(1/l^2) at high l.
 *
 * The grid: chi_m = chi_0 e^{m D} over the kernels' support (D = with.non_limber.dlnchi), zero-padded to a power
 * of two N; k_n = e^{lnC + n D} / chi_0. For multipole l the k sum runs over
 * [(l+1/2) e^-1 / chi_hi, (l+1/2) e^{1/2} / chi_lo] (outside it an auto-spectrum's integrand holds at most 1.1e-4
 * of the total at l = 2, 2e-7 at l = 10, 1e-8 at l >= 100: measured on the N5K kernels), and the linear P(k) grid must cover the union of
 * these windows: an error otherwise, never an extrapolation. The grid is fixed within a differentiation
 * (ctx.sticky), so finite differences see the same discretisation as forward AD.
 *
 * Tangents: every operation is linear in f_A or in P (the transform of a tangent is the tangent of the
 * transform), except z(chi) at fixed chi: dz = -H dchi|_z, which moves W and D along their slopes. The vjp is
 * the transpose, step by step (the FFTLog map is symmetric, so its transpose is the same transform).
 */
import type { DualArray } from '../../core/ad/dual-array.js';
import { interpRowsDual } from '../../core/ad/interp.js';
import { interpAdjoint } from '../../core/ad/interp-adjoint.js';
import { realFftPlan, type RealFftPlan } from '../../core/numerics/fft.js';
import { besselTable, fftLogApply, fftLogSpectrum, type BesselTable } from '../../core/numerics/fftlog.js';
import type { Background } from '../contracts/background.js';
import { backgroundAt, backgroundAtAdjoint, backgroundFieldAt } from '../contracts/background-eval.js';
import type { PowerGrid } from '../contracts/power.js';
import type { Tracer } from '../contracts/tracers.js';
import { kernelSlopesAtNodes, kernelSupport, kernelsAtNodes, kernelsAtNodesAdjoint, multiplicativeFactors, type TracerList } from './tracer-pairs.js';

/** with.non_limber once resolved. */
export interface NonLimberSpec {
  /** The correction applies at l < l_switch. */
  l_switch: number;
  /** Spacing of the log chi (and k) grid. */
  dlnchi: number;
}

export const NON_LIMBER_DEFAULTS: NonLimberSpec = { l_switch: 200, dlnchi: 0.02 };

/** The JSON Schema of with.non_limber (false, true, or the settings). */
export const nonLimberSchema = {
  default: false,
  description:
    'false (Limber at every l), true, or {"l_switch", "dlnchi"}: below l_switch add the non-Limber correction of the FKEM scheme ' +
    '(exact minus Limber on the linear P(k) with growth, FFTLog; docs/spectra.md), which needs a linear-power input "linear"',
  // the object's fields are checked by nonLimberProblems (the stage's check), whose messages name the field and
  // what is allowed; ajv's own words for a failed anyOf branch ("matches none of the allowed forms") would not
  anyOf: [
    { type: 'boolean' },
    {
      type: 'object',
      properties: {
        l_switch: { description: 'the correction applies at l < l_switch (a number >= 2; default 200)' },
        dlnchi: { description: 'spacing of the log chi grid of the FFTLog (in (0, 0.1]; default 0.02)' },
      },
    },
  ],
};

/** The resolved settings, or null when off. */
export function nonLimberSpec(x: unknown): NonLimberSpec | null {
  if (x === undefined || x === false) return null;
  if (x === true) return { ...NON_LIMBER_DEFAULTS };
  const o = x as Partial<NonLimberSpec>;
  return { l_switch: o.l_switch ?? NON_LIMBER_DEFAULTS.l_switch, dlnchi: o.dlnchi ?? NON_LIMBER_DEFAULTS.dlnchi };
}

/** Problems of with.non_limber ajv cannot word well (its anyOf), for the stage's check. */
export function nonLimberProblems(x: unknown): string[] {
  if (x === undefined || typeof x === 'boolean') return [];
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return [`with.non_limber: must be true, false or {"l_switch", "dlnchi"}; got ${JSON.stringify(x)}`];
  const o = x as Record<string, unknown>;
  const out: string[] = [];
  for (const k of Object.keys(o)) if (k !== 'l_switch' && k !== 'dlnchi') out.push(`with.non_limber.${k}: unknown setting (allowed: l_switch, dlnchi)`);
  if (o.l_switch !== undefined && !(typeof o.l_switch === 'number' && o.l_switch >= 2))
    out.push(`with.non_limber.l_switch: ${JSON.stringify(o.l_switch)} is not allowed; the switch multipole must be a number >= 2 (the correction applies at l < l_switch)`);
  if (o.dlnchi !== undefined && !(typeof o.dlnchi === 'number' && o.dlnchi > 0 && o.dlnchi <= 0.1))
    out.push(`with.non_limber.dlnchi: ${JSON.stringify(o.dlnchi)} is not allowed; it must be in (0, 0.1]`);
  return out;
}

/** FFTLog bias: inside the convergence strip of both j_l (nu < 1) and j_l/x^2 (nu > -1 at l = 2). */
const BIAS = 0.5;
/** The k window of multipole l: e-folds below (l+1/2)/chi_hi and above (l+1/2)/chi_lo. */
const K_BELOW = 1, K_ABOVE = 0.5;
/** Smallest span N D of the FFT (keeps the periodic images of f far from the output window). */
const MIN_SPAN = 10;

/** The discretisation, fixed within a differentiation. */
export interface NonLimberGrid {
  dln: number;
  /** FFT length. */
  N: number;
  chi0: number;
  /** ln(k_0 chi_0): k_n = e^{lnC + n D} / chi_0. */
  lnC: number;
  /** Kernel support in chi [Mpc] and its grid indices [mLo, mHi). */
  chiLo: number;
  chiHi: number;
  mLo: number;
  mHi: number;
  /** Union of the k windows [nLo, nHi). */
  nLo: number;
  nHi: number;
  /** Multipoles handled (the first nsw of the stage's, those below l_switch), and each one's k window [lo, hi). */
  nsw: number;
  winLo: Int32Array;
  winHi: Int32Array;
}

/** The grid for a tracer list, background and multipoles (values only). */
export function nonLimberGrid(list: TracerList, bg: Background, ell: Float64Array, spec: NonLimberSpec): NonLimberGrid {
  if (!(spec.l_switch >= 2)) throw new Error(`with.non_limber.l_switch = ${spec.l_switch}: the switch multipole must be >= 2`);
  let nsw = 0;
  while (nsw < ell.length && ell[nsw] < spec.l_switch) nsw++;
  const dln = spec.dlnchi;
  const [zLo, zHi] = kernelSupport(list);
  const zTop = bg.z[bg.z.length - 1];
  if (zHi > zTop * (1 + 1e-12))
    throw new Error(`with.non_limber: the kernels reach z = ${zHi}, beyond the background's grid (z <= ${zTop}); raise the background stage's z_max`);
  const chi = backgroundFieldAt(valuesOnly(bg), Float64Array.of(zLo, zHi), 'chi_Mpc').value;
  const chiLo = chi[0], chiHi = chi[1];
  // the kernels' lower edge (where a lensing kernel may jump from zero to W(z_first) > 0) half-way between two
  // nodes: moving the parameters moves the edge in chi, and a node sitting on it would switch on and off
  const chi0 = chiLo * Math.exp(-2.5 * dln);
  const nIn = Math.ceil(Math.log(chiHi / chi0) / dln) + 3;
  const mLo = 0, mHi = nIn;
  if (!nsw) return { dln, N: 0, chi0, lnC: 0, chiLo, chiHi, mLo, mHi, nLo: 0, nHi: 0, nsw, winLo: new Int32Array(0), winHi: new Int32Array(0) };
  const kLo = (ell[0] + 0.5) / chiHi * Math.exp(-K_BELOW);
  const lnC = Math.log(kLo * chi0) - 2 * dln;
  const lnk0 = lnC - Math.log(chi0);
  const winLo = new Int32Array(nsw), winHi = new Int32Array(nsw);
  let nLo = Infinity, nHi = 0;
  for (let i = 0; i < nsw; i++) {
    const nu = ell[i] + 0.5;
    winLo[i] = Math.max(0, Math.ceil((Math.log(nu / chiHi) - K_BELOW - lnk0) / dln));
    winHi[i] = Math.floor((Math.log(nu / chiLo) + K_ABOVE - lnk0) / dln) + 1;
    nLo = Math.min(nLo, winLo[i]);
    nHi = Math.max(nHi, winHi[i]);
  }
  const need = Math.max(nHi + 2, 2 * nIn, Math.ceil(MIN_SPAN / dln));
  let N = 4;
  while (N < need) N *= 2;
  return { dln, N, chi0, lnC, chiLo, chiHi, mLo, mHi, nLo, nHi, nsw, winLo, winHi };
}

const noTangent = (a: DualArray): DualArray => ({ value: a.value, tangent: null, P: 0 });
const valuesOnly = (b: Background): Background => ({
  ...b, E: noTangent(b.E), chi_Mpc: noTangent(b.chi_Mpc), dM_Mpc: noTangent(b.dM_Mpc), D: noTangent(b.D), f: noTangent(b.f),
});

/** z(chi) at the targets (ascending): Newton on the background's chi(z) spline; NaN beyond the background's grid. */
function zOfChi(bg: Background, chi: Float64Array): Float64Array {
  const b = valuesOnly(bg);
  const zg = bg.z, cg = bg.chi_Mpc.value, ng = zg.length;
  const out = new Float64Array(chi.length).fill(NaN);
  let n = 0;
  while (n < chi.length && chi[n] <= cg[ng - 1]) n++;
  if (!n) return out;
  const z = new Float64Array(n);
  let j = 0;
  for (let i = 0; i < n; i++) {
    while (j < ng - 2 && cg[j + 1] < chi[i]) j++;
    const t = (chi[i] - cg[j]) / (cg[j + 1] - cg[j]);
    z[i] = zg[j] + t * (zg[j + 1] - zg[j]);
  }
  const H0 = bg.H0_1overMpc.v, zMax = zg[ng - 1];
  for (let it = 0; it < 8; it++) {
    const c = backgroundFieldAt(b, z, 'chi_Mpc').value, E = backgroundFieldAt(b, z, 'E').value;
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const dz = (c[i] - chi[i]) * H0 * E[i];
      z[i] = Math.min(zMax, Math.max(0, z[i] - dz));
      worst = Math.max(worst, Math.abs(dz) / (1 + z[i]));
    }
    if (worst < 1e-13) break;
  }
  out.set(z);
  return out;
}

/** Per tracer: its l-factor exponent p and prefactor E(l) (exact, not the Limber (l+1/2)^-p form). */
function besselPower(t: Tracer): 0 | 2 {
  return t.ellFactor === 'none' ? 0 : 2;
}
function prefactor(t: Tracer, l: number): number {
  if (t.ellFactor === 'spin2') return l < 2 ? 0 : Math.sqrt((l + 2) * (l + 1) * l * (l - 1));
  if (t.ellFactor === 'convergence') return l * (l + 1);
  return 1;
}

/** What the correction samples from its inputs at one evaluation. */
interface Sample {
  /** Grid points m in [0, nIn) with a redshift (inside the background); f is zero elsewhere. */
  nIn: number;
  chi: Float64Array;
  z: Float64Array;
  /** f_A(chi_m) = W_A D / D(z0), tracer-major nt * nIn. */
  f: Float64Array;
  /** Tangent blocks of f (NP * nt * nIn) and which (block, tracer) rows are live. */
  df: Float64Array | null;
  liveF: Uint8Array;
  /** ln P_lin(k_n, z0) for n in [nLo, nHi) (index n - nLo), and its tangent blocks. */
  lnP: Float64Array;
  dlnP: Float64Array | null;
  liveP: Uint8Array;
  // kept for the vjp
  W: Float64Array;
  Dt: Float64Array;
  D0: number;
  H: Float64Array;
  Dslope: Float64Array;
  inBg: number;
}

/** The linear grid's row at its first redshift, with a clear error if it does not cover the k window. */
function linearRow(linear: PowerGrid, g: NonLimberGrid): { lnk: Float64Array; lnP: Float64Array; dlnP: Float64Array | null; P: number } {
  const k = linear.k_1overMpc, nk = k.length;
  const kNeedLo = Math.exp(g.lnC + g.nLo * g.dln) / g.chi0, kNeedHi = Math.exp(g.lnC + (g.nHi - 1) * g.dln) / g.chi0;
  if (k[0] > kNeedLo * (1 + 1e-12) || k[nk - 1] < kNeedHi * (1 - 1e-12))
    throw new Error(
      `with.non_limber: the linear P(k) of input "linear" (${linear.source}) covers k in [${k[0].toExponential(3)}, ${k[nk - 1].toExponential(3)}] 1/Mpc, ` +
        `but the non-Limber correction needs [${kNeedLo.toExponential(3)}, ${kNeedHi.toExponential(3)}] 1/Mpc ` +
        `(kernels over chi = ${g.chiLo.toFixed(1)}..${g.chiHi.toFixed(1)} Mpc, multipoles below l_switch; ` +
        `k from (l+1/2)/(e chi_max) to e^0.5 (l+1/2)/chi_min); extend the linear stage's k grid or lower with.non_limber.l_switch`,
    );
  const Pv = linear.P_Mpc3.value;
  const lnk = Float64Array.from(k, Math.log);
  const lnP = new Float64Array(nk);
  for (let i = 0; i < nk; i++) {
    if (!(Pv[i] > 0)) throw new Error(`${linear.source}: P(k = ${k[i]}, z = ${linear.z[0]}) = ${Pv[i]} is not positive`);
    lnP[i] = Math.log(Pv[i]);
  }
  const T = linear.P_Mpc3.tangent;
  if (!T) return { lnk, lnP, dlnP: null, P: 0 };
  const P = linear.P_Mpc3.P, n = Pv.length;
  const dlnP = new Float64Array(P * nk);
  for (let c = 0; c < P; c++) for (let i = 0; i < nk; i++) dlnP[c * nk + i] = T[c * n + i] / Pv[i];
  return { lnk, lnP, dlnP, P };
}

/** The k grid's ln k at n in [nLo, nHi). */
function lnkWindow(g: NonLimberGrid): Float64Array {
  const out = new Float64Array(g.nHi - g.nLo);
  for (let n = g.nLo; n < g.nHi; n++) out[n - g.nLo] = g.lnC + n * g.dln - Math.log(g.chi0);
  return out;
}

function sampleInputs(list: TracerList, bg: Background, linear: PowerGrid, g: NonLimberGrid, NP: number): Sample {
  const nt = list.tracers.length;
  const nIn = g.mHi;
  const chi = new Float64Array(nIn);
  for (let m = 0; m < nIn; m++) chi[m] = g.chi0 * Math.exp(m * g.dln);
  const zAll = zOfChi(bg, chi);
  let inBg = 0;
  while (inBg < nIn && Number.isFinite(zAll[inBg])) inBg++;
  const z = zAll.subarray(0, inBg);
  const tangents = NP > 0;
  // 1. background at the nodes (tangents at fixed z), D at the linear grid's first redshift
  const s0 = backgroundAt(tangents ? bg : valuesOnly(bg), z);
  const d0 = backgroundAt(tangents ? bg : valuesOnly(bg), Float64Array.of(linear.z[0])).D;
  const D0 = d0.value[0];
  // the slopes dchi/dz and dD/dz of the background's own splines (so that moving a node along z is exactly what
  // finite differences see); H = 1 / (dchi/dz)
  const slope = backgroundAt(valuesOnly(bg), { value: z, tangent: new Float64Array(z.length).fill(1), P: 1 });
  const H = Float64Array.from(slope.chi_Mpc.tangent!, (c) => 1 / c);
  const Dslope = Float64Array.from(slope.D.tangent!);
  const Dv = s0.D.value;
  // 2. kernels at the nodes
  const Wd = kernelsAtNodes(list, z, tangents);
  const W = Wd.value;
  const f = new Float64Array(nt * nIn);
  const Dt = new Float64Array(inBg);
  for (let m = 0; m < inBg; m++) Dt[m] = Dv[m] / D0;
  for (let a = 0; a < nt; a++) for (let m = 0; m < inBg; m++) f[a * nIn + m] = W[a * inBg + m] * Dt[m];
  // 3. the linear spectrum on the k window
  const row = linearRow(linear, g);
  const lnkq = lnkWindow(g);
  const Pd = interpRowsDual(row.lnk, { value: row.lnP, tangent: tangents ? row.dlnP : null, P: tangents ? row.P : 0 }, 1, lnkq);
  const sample: Sample = {
    nIn, chi, z, f, df: null, liveF: new Uint8Array(NP * nt), lnP: Pd.value, dlnP: null, liveP: new Uint8Array(NP),
    W, Dt, D0, H, Dslope, inBg,
  };
  if (!tangents) return sample;
  // 4. tangents: dz = -dchi|_z / chi'(z); dD = dD|_z + D' dz; dDt = dD/D0 - Dt dD0/D0; df = (dW|_z + W' dz) Dt + W dDt
  const slopes = kernelSlopesAtNodes(list, z);
  const df = new Float64Array(NP * nt * nIn);
  const dz = new Float64Array(inBg), dDt = new Float64Array(inBg);
  for (let c = 0; c < NP; c++) {
    const ct = s0.chi_Mpc.tangent, Dtan = s0.D.tangent;
    for (let m = 0; m < inBg; m++) {
      dz[m] = ct ? -H[m] * ct[c * inBg + m] : 0;
      const dD = (Dtan ? Dtan[c * inBg + m] : 0) + Dslope[m] * dz[m];
      dDt[m] = dD / D0 - (Dt[m] * (d0.tangent ? d0.tangent[c] : 0)) / D0;
    }
    for (let a = 0; a < nt; a++) {
      const o = (c * nt + a) * nIn;
      let live = 0;
      for (let m = 0; m < inBg; m++) {
        const i = a * inBg + m;
        const dW = (Wd.tangent ? Wd.tangent[c * nt * inBg + i] : 0) + slopes[i] * dz[m];
        const v = dW * Dt[m] + W[i] * dDt[m];
        df[o + m] = v;
        if (v !== 0) live = 1;
      }
      sample.liveF[c * nt + a] = live;
    }
  }
  sample.df = df;
  if (Pd.tangent) {
    const nw = g.nHi - g.nLo;
    for (let c = 0; c < NP; c++) for (let n = 0; n < nw; n++) if (Pd.tangent[c * nw + n] !== 0) { sample.liveP[c] = 1; break; }
    sample.dlnP = Pd.tangent;
  }
  return sample;
}

/** Cubic Lagrange weights at fraction t of the stencil i0-1..i0+2. */
function lagrange(t: number): [number, number, number, number] {
  return [(-t * (t - 1) * (t - 2)) / 6, ((t + 1) * (t - 1) * (t - 2)) / 2, (-(t + 1) * t * (t - 2)) / 2, ((t + 1) * t * (t - 1)) / 6];
}

/** Per multipole: its Limber points k = (l+1/2)/chi_m sit at fractional k index sigma - m. */
function limberStencil(g: NonLimberGrid, l: number): { i0: number; w: [number, number, number, number] } {
  const sigma = (Math.log(l + 0.5) - g.lnC) / g.dln;
  const i0 = Math.floor(sigma);
  return { i0, w: lagrange(sigma - i0) };
}

/** Work buffers of one evaluation. */
interface Work {
  plan: RealFftPlan;
  specRe: Float64Array[];
  specIm: Float64Array[];
  wr: Float64Array;
  wi: Float64Array;
  xin: Float64Array;
}

function work(g: NonLimberGrid, count: number): Work {
  const plan = realFftPlan(g.N);
  const h = g.N / 2 + 1;
  return {
    plan,
    specRe: Array.from({ length: count }, () => new Float64Array(h)),
    specIm: Array.from({ length: count }, () => new Float64Array(h)),
    wr: new Float64Array(h), wi: new Float64Array(h), xin: new Float64Array(g.N),
  };
}

/** The spectrum of f chi^-nu (one row of length nIn, zero-padded) into slot s of the work buffers. */
function spectrumOf(g: NonLimberGrid, w: Work, row: Float64Array, ro: number, nIn: number, s: number): void {
  w.xin.fill(0);
  for (let m = 0; m < nIn; m++) w.xin[m] = row[ro + m] * Math.pow(g.chi0 * Math.exp(m * g.dln), -BIAS);
  fftLogSpectrum(w.plan, g.dln, g.lnC, w.xin, w.specRe[s], w.specIm[s]);
}

export interface NonLimberResult {
  /** The correction, pair-major [p * nl + l] (zero at l >= l_switch), with NP tangent blocks. */
  dC: DualArray;
  settings: Record<string, unknown>;
}

/**
 * The correction for every pair at the multipoles below l_switch. `NP`: the tangent blocks of the stage's output
 * (0: values only).
 */
export function nonLimberCorrection(
  list: TracerList, pairs: readonly (readonly [number, number])[], ell: Float64Array, bg: Background, linear: PowerGrid,
  g: NonLimberGrid, NP: number,
): NonLimberResult {
  const nt = list.tracers.length, np = pairs.length, nl = ell.length;
  const value = new Float64Array(np * nl);
  const tangent = NP ? new Float64Array(NP * np * nl) : null;
  const settings = {
    method: 'fkem-fftlog', multipoles_corrected: g.nsw, fft_length: g.N, dlnchi: g.dln, bias: BIAS,
    chi_range_Mpc: [g.chiLo, g.chiHi], k_range_1overMpc: g.nsw ? [Math.exp(g.lnC + g.nLo * g.dln) / g.chi0, Math.exp(g.lnC + (g.nHi - 1) * g.dln) / g.chi0] : [],
  };
  if (!g.nsw) return { dC: { value, tangent, P: NP }, settings };
  const s = sampleInputs(list, bg, linear, g, NP);
  const nIn = s.nIn, N = g.N, nw = g.nHi - g.nLo;
  const mult = multiplicativeFactors(list, NP > 0);
  const pw = list.tracers.map(besselPower);
  // live tangent rows: (block, tracer) of f, and per block whether P moves
  const liveRows: number[][] = Array.from({ length: NP }, (_, c) => {
    const r: number[] = [];
    for (let a = 0; a < nt; a++) if (s.liveF[c * nt + a]) r.push(a);
    return r;
  });
  const nLiveRows = liveRows.reduce((t, r) => t + r.length, 0);
  const w = work(g, nt + nLiveRows);
  // spectra of f_A and of its live tangent rows (once per evaluation; every multipole reuses them)
  for (let a = 0; a < nt; a++) spectrumOf(g, w, s.f, a * nIn, nIn, a);
  const slotOf = new Int32Array(NP * nt).fill(-1);
  {
    let slot = nt;
    for (let c = 0; c < NP; c++) for (const a of liveRows[c]) { spectrumOf(g, w, s.df!, (c * nt + a) * nIn, nIn, slot); slotOf[c * nt + a] = slot++; }
  }
  // q_n = (2/pi) D k_n^{1-2 nu} P(k_n) on the window, and its tangents
  const q = new Float64Array(nw);
  const lnk0 = g.lnC - Math.log(g.chi0);
  const kpow = new Float64Array(nw);
  for (let n = 0; n < nw; n++) {
    kpow[n] = (2 / Math.PI) * g.dln * Math.exp((1 - 2 * BIAS) * (lnk0 + (n + g.nLo) * g.dln));
    q[n] = kpow[n] * Math.exp(s.lnP[n]);
  }
  const u = Float64Array.from(s.chi, (c) => g.dln / c); // Limber: Integral dchi/chi^2 = D sum chi^-1
  const G = Array.from({ length: nt }, () => new Float64Array(N));
  const dG = new Map<number, Float64Array>();
  const Hq = Array.from({ length: nt }, () => new Float64Array(nw));
  const v = new Float64Array(nIn), lnPL = new Float64Array(nIn);
  const X = new Float64Array(np);
  const dX = NP ? new Float64Array(NP * np) : null;
  const dq = new Float64Array(nw), dv = new Float64Array(nIn);
  // per pair: its tracers, and the products f_A f_B at the chi nodes (the Limber sum's kernels, fixed over l)
  const pA = Int32Array.from(pairs, (x) => x[0]), pB = Int32Array.from(pairs, (x) => x[1]);
  const nb = s.inBg;
  const fprod = new Float64Array(np * nb);
  for (let p = 0; p < np; p++) {
    const fa = pA[p] * nIn, fb = pB[p] * nIn, o = p * nb;
    for (let m = 0; m < nb; m++) fprod[o + m] = s.f[fa + m] * s.f[fb + m];
  }
  const E = new Float64Array(nt), invNuP = new Float64Array(nt);
  for (let li = 0; li < g.nsw; li++) {
    const l = ell[li];
    const nu = l + 0.5;
    for (let a = 0; a < nt; a++) { E[a] = prefactor(list.tracers[a], l); invNuP[a] = 1 / Math.pow(nu, pw[a]); }
    // 1. F_A(k) for every tracer (and live tangent rows): one inverse FFT each
    const tab0 = besselTable(N, g.dln, BIAS, l, 0), tab2 = besselTable(N, g.dln, BIAS, l, 2);
    const tabs: BesselTable[] = [tab0, tab2];
    for (let a = 0; a < nt; a++) fftLogApply(w.plan, w.specRe[a], w.specIm[a], pw[a] === 0 ? tab0 : tab2, G[a], w.wr, w.wi);
    for (let c = 0; c < NP; c++)
      for (const a of liveRows[c]) {
        const key = c * nt + a;
        let t = dG.get(key);
        if (!t) dG.set(key, (t = new Float64Array(N)));
        const sl = slotOf[key];
        fftLogApply(w.plan, w.specRe[sl], w.specIm[sl], tabs[pw[a] / 2], t, w.wr, w.wi);
      }
    // (the sums run over the multipole's whole k window: a cross-spectrum of two distant bins is made of the tails
    // of both transforms, so a per-tracer window would cut what little there is)
    const lo = g.winLo[li] - g.nLo, hi = g.winHi[li] - g.nLo;
    for (let a = 0; a < nt; a++) {
      const Ga = G[a], Ha = Hq[a];
      for (let n = lo; n < hi; n++) Ha[n] = q[n] * Ga[n + g.nLo];
    }
    // 2. the Limber points: ln P at k = (l+1/2)/chi_m by cubic Lagrange on the k grid, v_m = u_m P
    const { i0, w: lw } = limberStencil(g, l);
    for (let m = 0; m < s.inBg; m++) {
      const b = i0 - m - 1 - g.nLo;
      lnPL[m] = lw[0] * s.lnP[b] + lw[1] * s.lnP[b + 1] + lw[2] * s.lnP[b + 2] + lw[3] * s.lnP[b + 3];
      v[m] = u[m] * Math.exp(lnPL[m]);
    }
    // 3. per pair: E_A E_B [NL - LL / (l+1/2)^(pA+pB)]
    const off = g.nLo;
    for (let p = 0; p < np; p++) {
      const A = pA[p], B = pB[p];
      const Gb = G[B], Ha = Hq[A];
      let nl_ = 0;
      for (let n = lo; n < hi; n++) nl_ += Ha[n] * Gb[n + off];
      let ll = 0;
      for (let m = 0, o = p * nb; m < nb; m++) ll += v[m] * fprod[o + m];
      X[p] = E[A] * E[B] * (nl_ - ll * invNuP[A] * invNuP[B]);
      value[p * nl + li] = mult.value[A] * mult.value[B] * X[p];
    }
    if (!tangent) continue;
    // 4. tangents, direction by direction (only the live rows and P's live blocks)
    for (let c = 0; c < NP; c++) {
      const pLive = s.liveP[c] === 1;
      if (pLive) {
        for (let n = 0; n < nw; n++) dq[n] = q[n] * s.dlnP![c * nw + n];
        for (let m = 0; m < s.inBg; m++) {
          const b = c * nw + i0 - m - 1 - g.nLo;
          const d = lw[0] * s.dlnP![b] + lw[1] * s.dlnP![b + 1] + lw[2] * s.dlnP![b + 2] + lw[3] * s.dlnP![b + 3];
          dv[m] = v[m] * d;
        }
      }
      const rowLive = (a: number) => s.liveF[c * nt + a] === 1;
      for (let p = 0; p < np; p++) {
        const A = pA[p], B = pB[p];
        const la = rowLive(A), lb = rowLive(B);
        let d = 0;
        if (pLive || la || lb) {
          let dnl = 0, dll = 0;
          const GA = G[A], GB = G[B];
          if (pLive) for (let n = lo; n < hi; n++) dnl += dq[n] * GA[n + g.nLo] * GB[n + g.nLo];
          if (la) { const t = dG.get(c * nt + A)!, HB = Hq[B]; for (let n = lo; n < hi; n++) dnl += HB[n] * t[n + g.nLo]; }
          if (lb) { const t = dG.get(c * nt + B)!, HA = Hq[A]; for (let n = lo; n < hi; n++) dnl += HA[n] * t[n + g.nLo]; }
          const fa = A * nIn, fb = B * nIn, dfa = (c * nt + A) * nIn, dfb = (c * nt + B) * nIn;
          if (pLive) for (let m = 0, o = p * nb; m < nb; m++) dll += dv[m] * fprod[o + m];
          if (la) for (let m = 0; m < nb; m++) dll += v[m] * s.df![dfa + m] * s.f[fb + m];
          if (lb) for (let m = 0; m < nb; m++) dll += v[m] * s.f[fa + m] * s.df![dfb + m];
          d = E[A] * E[B] * (dnl - dll * invNuP[A] * invNuP[B]);
        }
        dX![c * np + p] = d;
        const mA = mult.value[A], mB = mult.value[B];
        const dmA = mult.tangent ? mult.tangent[c * nt + A] : 0, dmB = mult.tangent ? mult.tangent[c * nt + B] : 0;
        tangent[(c * np + p) * nl + li] = mA * mB * d + (dmA * mB + mA * dmB) * X[p];
      }
    }
  }
  return { dC: { value, tangent, P: NP }, settings };
}

/** The bars the correction sends to its inputs. */
export interface NonLimberBars {
  /** Per tracer set: W (its grid) and the multiplicative factors. */
  W: Float64Array[];
  multiplicative: Float64Array;
  /** The linear grid's P_Mpc3 (only its first-redshift row is non-zero). */
  linear: Float64Array;
  /** Background arrays. */
  chi_Mpc: Float64Array;
  D: Float64Array;
}

/**
 * The vjp of nonLimberCorrection: Cbar (pair-major np * nl; only l < l_switch is read) pulled back to the tracer
 * sets, the linear P grid and the background (chi, D), in reverse order of the forward computation.
 */
export function nonLimberCorrectionVjp(
  list: TracerList, pairs: readonly (readonly [number, number])[], ell: Float64Array, bg: Background, linear: PowerGrid,
  g: NonLimberGrid, Cbar: Float64Array,
): NonLimberBars {
  const nt = list.tracers.length, np = pairs.length, nl = ell.length;
  const bgN = bg.z.length;
  const bars: NonLimberBars = {
    W: list.sets.map((st) => new Float64Array(st.W.value.length)),
    multiplicative: new Float64Array(nt),
    linear: new Float64Array(linear.P_Mpc3.value.length),
    chi_Mpc: new Float64Array(bgN), D: new Float64Array(bgN),
  };
  if (!g.nsw) return bars;
  const s = sampleInputs(list, valuesOnly(bg), { ...linear, P_Mpc3: noTangent(linear.P_Mpc3) }, g, 0);
  const nIn = s.nIn, N = g.N, nw = g.nHi - g.nLo;
  const mult = multiplicativeFactors(list, false).value;
  const pw = list.tracers.map(besselPower);
  const w = work(g, nt);
  for (let a = 0; a < nt; a++) spectrumOf(g, w, s.f, a * nIn, nIn, a);
  const lnk0 = g.lnC - Math.log(g.chi0);
  const q = new Float64Array(nw), kpow = new Float64Array(nw);
  for (let n = 0; n < nw; n++) {
    kpow[n] = (2 / Math.PI) * g.dln * Math.exp((1 - 2 * BIAS) * (lnk0 + (n + g.nLo) * g.dln));
    q[n] = kpow[n] * Math.exp(s.lnP[n]);
  }
  const u = Float64Array.from(s.chi, (c) => g.dln / c);
  const G = Array.from({ length: nt }, () => new Float64Array(N));
  const Gbar = Array.from({ length: nt }, () => new Float64Array(N));
  const fbar = new Float64Array(nt * nIn);
  const qbar = new Float64Array(nw), lnPbar = new Float64Array(nw);
  const v = new Float64Array(nIn), vbar = new Float64Array(nIn);
  const tmp = new Float64Array(N), specR = new Float64Array(N / 2 + 1), specI = new Float64Array(N / 2 + 1);
  for (let li = 0; li < g.nsw; li++) {
    const l = ell[li], nu = l + 0.5;
    const tabs: BesselTable[] = [besselTable(N, g.dln, BIAS, l, 0), besselTable(N, g.dln, BIAS, l, 2)];
    for (let a = 0; a < nt; a++) fftLogApply(w.plan, w.specRe[a], w.specIm[a], tabs[pw[a] / 2], G[a], w.wr, w.wi);
    const lo = g.winLo[li] - g.nLo, hi = g.winHi[li] - g.nLo;
    const { i0, w: lw } = limberStencil(g, l);
    for (let m = 0; m < s.inBg; m++) {
      const b = i0 - m - 1 - g.nLo;
      v[m] = u[m] * Math.exp(lw[0] * s.lnP[b] + lw[1] * s.lnP[b + 1] + lw[2] * s.lnP[b + 2] + lw[3] * s.lnP[b + 3]);
    }
    for (const gb of Gbar) gb.fill(0);
    vbar.fill(0);
    let anyBar = false;
    for (let p = 0; p < np; p++) {
      const cb = Cbar[p * nl + li];
      if (cb === 0) continue;
      anyBar = true;
      const A = pairs[p][0], B = pairs[p][1];
      const E = prefactor(list.tracers[A], l) * prefactor(list.tracers[B], l);
      const ppow = Math.pow(nu, pw[A] + pw[B]);
      // X = E (NL - LL / nu^p): the multiplicative factors' bar needs X
      const GA = G[A], GB = G[B];
      let nl_ = 0, ll = 0;
      for (let n = lo; n < hi; n++) nl_ += q[n] * GA[n + g.nLo] * GB[n + g.nLo];
      const fa = A * nIn, fb = B * nIn;
      for (let m = 0; m < s.inBg; m++) ll += v[m] * s.f[fa + m] * s.f[fb + m];
      const X = E * (nl_ - ll / ppow);
      bars.multiplicative[A] += cb * mult[B] * X;
      bars.multiplicative[B] += cb * mult[A] * X;
      const xb = cb * mult[A] * mult[B];
      const nlb = xb * E, llb = (-xb * E) / ppow;
      // NL = sum_n q G_A G_B
      const gA = Gbar[A], gB = Gbar[B];
      for (let n = lo; n < hi; n++) {
        const k = n + g.nLo;
        qbar[n] += nlb * GA[k] * GB[k];
        gA[k] += nlb * q[n] * GB[k];
        gB[k] += nlb * q[n] * GA[k];
      }
      // LL = sum_m v f_A f_B
      for (let m = 0; m < s.inBg; m++) {
        vbar[m] += llb * s.f[fa + m] * s.f[fb + m];
        fbar[fa + m] += llb * v[m] * s.f[fb + m];
        fbar[fb + m] += llb * v[m] * s.f[fa + m];
      }
    }
    if (!anyBar) continue;
    // G_A = T(f_A chi^-nu): fbar_A += chi^-nu T(Gbar_A) (T is symmetric)
    for (let a = 0; a < nt; a++) {
      const gb = Gbar[a];
      let any = false;
      for (let n = lo; n < hi; n++) if (gb[n + g.nLo] !== 0) { any = true; break; }
      if (!any) continue;
      fftLogSpectrum(w.plan, g.dln, g.lnC, gb, specR, specI);
      fftLogApply(w.plan, specR, specI, tabs[pw[a] / 2], tmp, w.wr, w.wi);
      for (let m = 0; m < nIn; m++) fbar[a * nIn + m] += tmp[m] * Math.pow(s.chi[m], -BIAS);
    }
    // v_m = u_m exp(sum_j w_j lnP[i0 - m - 1 + j]): lnPbar
    for (let m = 0; m < s.inBg; m++) {
      const t = vbar[m] * v[m];
      if (t === 0) continue;
      const b = i0 - m - 1 - g.nLo;
      lnPbar[b] += lw[0] * t; lnPbar[b + 1] += lw[1] * t; lnPbar[b + 2] += lw[2] * t; lnPbar[b + 3] += lw[3] * t;
    }
  }
  // q_n = kpow_n exp(lnP_n)
  for (let n = 0; n < nw; n++) lnPbar[n] += qbar[n] * q[n];
  // ln P on the window <- ln P of the grid's first row (transposed spline in ln k), P = exp(ln P)
  const nk = linear.k_1overMpc.length;
  const lnkGrid = Float64Array.from(linear.k_1overMpc, Math.log);
  const lnProwBar = new Float64Array(nk);
  interpAdjoint(lnkGrid, lnkWindow(g), lnPbar, lnProwBar);
  for (let i = 0; i < nk; i++) bars.linear[i] = lnProwBar[i] / linear.P_Mpc3.value[i];
  // f_A(m) = W_A(z_m) Dt_m: W bar at the nodes, Dt bar, and z bar (through W' and D')
  const inBg = s.inBg;
  const Wbar = new Float64Array(nt * inBg), Dtbar = new Float64Array(inBg), zbar = new Float64Array(inBg);
  const slopes = kernelSlopesAtNodes(list, s.z);
  for (let a = 0; a < nt; a++)
    for (let m = 0; m < inBg; m++) {
      const fb = fbar[a * nIn + m];
      if (fb === 0) continue;
      Wbar[a * inBg + m] = fb * s.Dt[m];
      Dtbar[m] += fb * s.W[a * inBg + m];
      zbar[m] += fb * s.Dt[m] * slopes[a * inBg + m];
    }
  const wb = kernelsAtNodesAdjoint(list, s.z, Wbar);
  wb.forEach((b, i) => bars.W[i].set(b));
  // Dt = D(z_m)/D(z0): D bar at the nodes and at z0; D(z_m) moves with z_m
  const Dbar = new Float64Array(inBg);
  let D0bar = 0;
  for (let m = 0; m < inBg; m++) {
    Dbar[m] = Dtbar[m] / s.D0;
    D0bar -= (Dtbar[m] * s.Dt[m]) / s.D0;
    zbar[m] += Dbar[m] * s.Dslope[m];
  }
  // z_m solves chi(z_m) = chi_m: dz = -H dchi|_z
  const chiBar = Float64Array.from(zbar, (zb, m) => -s.H[m] * zb);
  const b1 = backgroundAtAdjoint(bg, s.z, { chi_Mpc: chiBar, D: Dbar });
  const b2 = backgroundAtAdjoint(bg, Float64Array.of(linear.z[0]), { D: Float64Array.of(D0bar) });
  for (let i = 0; i < bgN; i++) {
    bars.chi_Mpc[i] = b1.chi_Mpc ? b1.chi_Mpc[i] : 0;
    bars.D[i] = (b1.D ? b1.D[i] : 0) + (b2.D ? b2.D[i] : 0);
  }
  return bars;
}
