/**
 * The toy posterior the sampling CLI tests run (a 2-D correlated Gaussian likelihood on parameters a and b, b kept
 * positive), built from the plugins of test/fixtures/sampling-toys.ts compiled to dist/ (npm run build first).
 */
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
export const SAMPLING_TOYS = path.join(root, 'dist/test/fixtures/sampling-toys.js');

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function toyPosterior(edit: (p: Json) => void = () => {}): Json {
  const p: Json = {
    name: 'toy', plugins: [SAMPLING_TOYS],
    parameters: {
      a: { value: 0.5, vary: true, prior: { uniform: [-5, 5] } },
      b: { value: 1.2, vary: true, prior: { uniform: [0, 10] } },
    },
    methods: { differentiator: 'reverse-adjoint' },
    stages: {
      model: { use: 'toy-model/identity', with: { params: ['a', 'b'], positive: ['b'] } },
      like: { use: 'likelihood/toy-gaussian', with: { mean: [0.3, 1], cov: [[0.04, 0.018], [0.018, 0.09]] } },
    },
  };
  edit(p);
  return p;
}
