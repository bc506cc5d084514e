/** What every sampler's chain state holds besides its own fields, and the check of a state read back from a file. */
import type { ChainState, SamplingTarget } from '../contracts/sampler.js';
import type { RngState } from '../../core/sampling/rng.js';
import type { EvaluationCounts } from './target-evaluation.js';

export interface CommonState extends ChainState, EvaluationCounts {
  /** Which sampler made the state (`nuts`, `ensemble`, `metropolis`). */
  sampler: string;
  dim: number;
  rng: RngState;
}

/** The state as the sampler's own type, after checking that it is one of its states for this target. */
export function ownState<S extends CommonState>(state: ChainState, sampler: string, target: SamplingTarget, who: string): S {
  const s = state as Partial<CommonState>;
  if (!s || typeof s !== 'object' || s.sampler !== sampler)
    throw new Error(`${who}: the chain state was made by ${s?.sampler ? `sampler "${s.sampler}"` : 'something else'}, not by "${sampler}" (a checkpoint of another sampler?)`);
  if (s.dim !== target.dim) throw new Error(`${who}: the chain state has dim = ${s.dim}, the target has dim = ${target.dim}`);
  if (!Number.isInteger(s.iteration) || (s.iteration as number) < 0) throw new Error(`${who}: the chain state's iteration is ${s.iteration}; expected a non-negative integer`);
  return state as S;
}

/** Float64Array -> number[] (what a JSON state holds). */
export const plain = (a: ArrayLike<number>): number[] => Array.from(a);
