/**
 * Priors of the sampled parameters, as a pipeline declares them (`parameters.X.prior`), and the support each
 * sampled parameter lives on.
 *
 *   "prior": {"uniform": [lo, hi]}              flat on [lo, hi]
 *   "prior": {"gaussian": [mean, sigma]}        Gaussian
 *   "prior": {"uniform": [lo, hi], "gaussian": [mean, sigma]}   a Gaussian truncated to [lo, hi]
 *
 * How this meets `prior_sigma` (the Fisher stages' Gaussian prior width, centred on the parameter's value):
 * both describe one Gaussian prior. A `gaussian` prior feeds the Fisher matrix as its prior_sigma (the Fisher
 * information of a Gaussian prior is 1/sigma^2 whatever its mean); `prior_sigma` alone is, when sampling, the
 * Gaussian prior N(value, prior_sigma); both given with different widths is refused. A uniform prior adds no
 * Fisher information (it is flat inside its range; the Fisher matrix is a local approximation).
 *
 * The support of a sampled parameter is its prior's range intersected with its physical range (the one the
 * plugin reading it declares: h > 0 and h <= 2, Omega_m > 0, ...). A sampled parameter with a physical bound must
 * have a uniform prior inside its physical range (so Omega_m, Omega_b, h, sigma8 are sampled positive and bounded):
 * an improper prior on a bounded physical quantity lets a weakly constrained chain drift to the bound or to
 * infinity, and the cosmology's cross-parameter conditions (Omega_b <= Omega_m, Omega_de > 0) need finite ranges.
 * A parameter without a physical range (w0, a bias, an IA amplitude) may go without a prior: it is then flat and
 * improper (a warning says so).
 */
import { issue, show, type Issue } from '../schema/input-error.js';
import type { ParameterSpec } from '../plugin/types.js';
import type { Pipeline } from '../graph/pipeline.js';

export interface PriorSpec {
  /** [lo, hi], lo < hi. */
  uniform?: [number, number];
  /** [mean, sigma], sigma > 0. */
  gaussian?: [number, number];
}

/** Relative tolerance for `prior_sigma` and a gaussian prior's sigma to count as the same width. */
const SAME_WIDTH = 1e-9;

/**
 * Problems of the priors declared in a (schema-valid) pipeline, each naming its JSON path: lo >= hi, sigma <= 0,
 * a non-finite bound, a gaussian prior whose width contradicts `prior_sigma`. Used by the planner, so that
 * `cosmodag validate` and `cosmodag run` refuse them too.
 */
export function priorProblems(pipeline: Pipeline): Issue[] {
  const out: Issue[] = [];
  for (const [name, entry] of Object.entries(pipeline.parameters ?? {})) {
    const prior = entry.prior;
    if (!prior) continue;
    const at = `parameters.${name}.prior`;
    if (prior.uniform) {
      const [lo, hi] = prior.uniform;
      if (!Number.isFinite(lo) || !Number.isFinite(hi)) out.push(issue(`${at}.uniform`, `${show(prior.uniform)}: both bounds must be finite numbers`));
      else if (!(lo < hi)) out.push(issue(`${at}.uniform`, `${show(prior.uniform)}: the lower bound must be smaller than the upper one ([lo, hi] with lo < hi)`));
    }
    if (prior.gaussian) {
      const [mean, sigma] = prior.gaussian;
      if (!Number.isFinite(mean)) out.push(issue(`${at}.gaussian`, `${show(prior.gaussian)}: the mean must be a finite number ([mean, sigma])`));
      if (!(sigma > 0) || !Number.isFinite(sigma)) out.push(issue(`${at}.gaussian`, `${show(prior.gaussian)}: sigma = ${sigma} must be > 0 ([mean, sigma])`));
      else if (entry.prior_sigma !== undefined && Math.abs(entry.prior_sigma / sigma - 1) > SAME_WIDTH)
        out.push(issue(`parameters.${name}.prior_sigma`, `${entry.prior_sigma} contradicts prior.gaussian = ${show(prior.gaussian)} (sigma ${sigma}): both are the width of one Gaussian prior; drop prior_sigma (the gaussian prior feeds the Fisher matrix too) or make them equal`));
    }
  }
  return out;
}

/** The Gaussian prior width a Fisher stage adds (1/sigma^2): `prior_sigma`, else the gaussian prior's sigma. */
export function fisherPriorSigma(entry: { prior_sigma?: number; prior?: PriorSpec } | undefined): number | undefined {
  return entry?.prior_sigma ?? entry?.prior?.gaussian?.[1];
}

/** A sampled parameter: its prior, its support and where the chains start. */
export interface SampledParameter {
  name: string;
  latex: string;
  /** Starting value (the pipeline's value): strictly inside the support. */
  value: number;
  /** The prior's range: the uniform prior's bounds, or -Infinity / Infinity. */
  prior: { uniform?: [number, number]; gaussian?: [number, number] };
  /** Support: the prior's range intersected with the physical range; -Infinity / Infinity when open. */
  lower: number;
  upper: number;
  /** True when neither a prior nor a physical bound limits it (flat, improper). */
  improper: boolean;
}

/** The physical range a spec declares, as [lower, upper] (open ends as infinities; min and exclusiveMin alike). */
export function physicalRange(spec: ParameterSpec): [number, number] {
  const lower = Math.max(spec.min ?? -Infinity, spec.exclusiveMin ?? -Infinity);
  const upper = Math.min(spec.max ?? Infinity, spec.exclusiveMax ?? Infinity);
  return [lower, upper];
}

function rangeText(name: string, spec: ParameterSpec): string {
  const parts: string[] = [];
  if (spec.exclusiveMin !== undefined) parts.push(`> ${spec.exclusiveMin}`);
  else if (spec.min !== undefined) parts.push(`>= ${spec.min}`);
  if (spec.exclusiveMax !== undefined) parts.push(`< ${spec.exclusiveMax}`);
  else if (spec.max !== undefined) parts.push(`<= ${spec.max}`);
  return `${name} ${parts.join(' and ')} (${spec.description})`;
}

/** A uniform range to suggest in a message: value +- 50% (within the physical range), rounded. */
function suggestion(value: number, [a, b]: [number, number]): string {
  const r = (x: number) => Number(x.toPrecision(2));
  const w = Math.abs(value) > 0 ? 0.5 * Math.abs(value) : 1;
  const lo = r(Math.max(a, value - w)), hi = r(Math.min(b, value + w));
  return `"prior": {"uniform": [${lo}, ${hi}]}`;
}

/**
 * The sampled parameters (the varied ones, in `names` order) with their supports, or the problems: a
 * physically bounded parameter without a uniform prior, a uniform prior reaching outside the physical range,
 * a starting value outside the support.
 */
export function sampledParameters(
  names: readonly string[],
  lookup: (name: string) => { value: number; spec: ParameterSpec; latex?: string; prior?: PriorSpec; prior_sigma?: number },
): { parameters: SampledParameter[]; problems: Issue[] } {
  const problems: Issue[] = [];
  const parameters: SampledParameter[] = [];
  for (const name of names) {
    const p = lookup(name);
    const [pa, pb] = physicalRange(p.spec);
    const bounded = Number.isFinite(pa) || Number.isFinite(pb);
    const prior: SampledParameter['prior'] = {};
    if (p.prior?.uniform) prior.uniform = [p.prior.uniform[0], p.prior.uniform[1]];
    if (p.prior?.gaussian) prior.gaussian = [p.prior.gaussian[0], p.prior.gaussian[1]];
    else if (p.prior_sigma !== undefined) prior.gaussian = [p.value, p.prior_sigma]; // prior_sigma alone: N(value, prior_sigma)
    const at = `parameters.${name}`;
    if (bounded && !prior.uniform) {
      problems.push(issue(`${at}.prior`, `${name} is sampled and its physical range is ${rangeText(name, p.spec)}: give it a uniform prior inside that range, e.g. ${suggestion(p.value, [pa, pb])} (a gaussian prior may be added to it)`));
      continue;
    }
    let lower = -Infinity, upper = Infinity;
    if (prior.uniform) {
      const [lo, hi] = prior.uniform;
      if (lo < pa || hi > pb) {
        problems.push(issue(`${at}.prior.uniform`, `${show(prior.uniform)} reaches outside the physical range ${rangeText(name, p.spec)}; keep the prior inside it`));
        continue;
      }
      [lower, upper] = [lo, hi];
    }
    if (!(p.value > lower && p.value < upper)) {
      problems.push(issue(`${at}.value`, `${p.value} is not strictly inside the prior range [${lower}, ${upper}] of ${name}: the chains start at the value`));
      continue;
    }
    parameters.push({ name, latex: p.latex ?? name, value: p.value, prior, lower, upper, improper: !prior.uniform && !prior.gaussian });
  }
  return { parameters, problems };
}

/**
 * ln prior(theta) for one parameter (up to a constant for an improper one): -Infinity outside the uniform range;
 * a Gaussian's normalisation ignores truncation (a constant). Its derivative goes to `grad` when given.
 */
export function logPrior(p: SampledParameter, theta: number): { value: number; gradient: number } {
  if (!(theta >= p.lower && theta <= p.upper)) return { value: -Infinity, gradient: 0 };
  let value = 0, gradient = 0;
  if (p.prior.uniform) value -= Math.log(p.prior.uniform[1] - p.prior.uniform[0]);
  if (p.prior.gaussian) {
    const [m, s] = p.prior.gaussian;
    const z = (theta - m) / s;
    value += -0.5 * z * z - Math.log(s) - 0.5 * Math.log(2 * Math.PI);
    gradient -= z / s;
  }
  return { value, gradient };
}
