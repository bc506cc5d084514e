// `npm run test:fast`: the suite without its long runs (under 2 minutes on 2 cores; `npm test` runs everything).
// Every module keeps its unit tests; what is left out is listed here, each with why and what still covers it.
import { configDefaults, defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

export const SLOW_FILES = [
  // the main job's Fisher through an external program vs all-AD (plugins/command: command.test.ts)
  'test/plugins/command/external-eh-fisher.test.ts',
  // reverse-mode gradients of the main job vs forward AD (reverse mode: stage-vjp, interp- and background-adjoint)
  'test/plugins/reverse/gradient.test.ts',
  // the big derivative sweep: forward AD vs regression stencil vs finite differences on the main job
  // (plugins/likelihood: fisher-inverse.test.ts and the Fisher stage in core/graph/one-pass.test.ts)
  'test/plugins/likelihood/derivatives.test.ts',
  // CMB-lensing derivatives through a second tracer set, and a CMB-lensing Fisher forecast
  // (spectra: limber, ccl-cmblensing)
  'test/plugins/spectra/cmblensing-derivatives.test.ts',
  'test/plugins/spectra/power-by-family.test.ts',
  // the reference sweep of all 210 3x2pt spectra against CCL, per setting and integrator (spectra: limber.test.ts
  // against a brute-force sum, ccl-cmblensing)
  'test/plugins/spectra/ccl-3x2pt.test.ts',
  // the Boltzmann code's tangents, parameter by parameter, against central differences (boltzmann: methods,
  // pipeline, workers, power-vs-class)
  'test/plugins/boltzmann/tangents.test.ts',
  // builds the example plugin package with tsc and runs it through the CLI (docs/examples)
  'test/docs/example-plugin.test.ts',
];

export default mergeConfig(
  base,
  // and, inside the other files, the tests tagged `slow` (vitest.config.ts)
  defineConfig({ test: { exclude: [...configDefaults.exclude, ...SLOW_FILES], tagsFilter: ['!slow'] } }),
);
