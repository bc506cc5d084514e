/**
 * The physical range of a parameter (ParameterSpec min/max/exclusiveMin/exclusiveMax) in words: the one wording
 * of a value outside it, used by the planner (parameters.X.value) and by plugins' own checks (the cosmology
 * contract), so that a message names the parameter, its meaning and everything that is allowed.
 */
import type { ParameterSpec } from './types.js';

/** "0.1 <= h <= 2", "Omega_m > 0", or null when the spec declares no bound. */
export function allowedRange(name: string, s: ParameterSpec): string | null {
  const lo = s.min !== undefined ? `${s.min} <= ` : s.exclusiveMin !== undefined ? `${s.exclusiveMin} < ` : '';
  const hi = s.max !== undefined ? ` <= ${s.max}` : s.exclusiveMax !== undefined ? ` < ${s.exclusiveMax}` : '';
  if (lo && hi) return `${lo}${name}${hi}`;
  if (lo) return `${name} ${s.min !== undefined ? '>=' : '>'} ${s.min ?? s.exclusiveMin}`;
  if (hi) return `${name}${hi}`;
  return null;
}

/**
 * Why v is outside the range of `name`, or null: "<v> is not allowed: name (description, unit) must be >= 0.1",
 * followed by "(allowed: 0.1 <= name <= 2)" when the range has two ends (the bound broken alone would hide the other).
 */
export function parameterRangeMessage(name: string, v: number, s: ParameterSpec): string | null {
  if (!Number.isFinite(v)) return `${v} is not a finite number`;
  const what = `${v} is not allowed: ${name} (${s.description}${s.unit ? `, ${s.unit}` : ''})`;
  let broken: string | null = null;
  if (s.min !== undefined && v < s.min) broken = `>= ${s.min}`;
  else if (s.max !== undefined && v > s.max) broken = `<= ${s.max}`;
  else if (s.exclusiveMin !== undefined && v <= s.exclusiveMin) broken = `> ${s.exclusiveMin}`;
  else if (s.exclusiveMax !== undefined && v >= s.exclusiveMax) broken = `< ${s.exclusiveMax}`;
  if (broken === null) return null;
  const twoSided = (s.min !== undefined || s.exclusiveMin !== undefined) && (s.max !== undefined || s.exclusiveMax !== undefined);
  return `${what} must be ${broken}${twoSided ? ` (allowed: ${allowedRange(name, s)})` : ''}`;
}
