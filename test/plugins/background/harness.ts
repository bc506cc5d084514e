/**
 * Test harness for background/w0wa: a minimal StageContext (config with schema defaults, parameters as
 * seeded duals, the integrator bound from a method plugin) and a reader for the reference tables.
 */
import { seed } from '../../../core/ad/dual.js';
import type { Integrator } from '../../../core/numerics/integrator.js';
import type { StageContext } from '../../../core/plugin/types.js';
import { validateWith } from '../../../core/schema/ajv.js';
import { gaussLegendre, newtonCotes, romberg } from '../../../plugins/integrator/index.js';
import { W0WA_PARAMETERS, type W0waBackground, type W0waConfig, w0waBackground } from '../../../plugins/background/w0wa.js';

export { repoRoot, referencePath, readTable } from '../../support/harness.js';

export const integrators = {
  'gauss-legendre': (cfg: object = {}) => gaussLegendre.create(cfg),
  romberg: (cfg: object = {}) => romberg.create(cfg),
  'newton-cotes': (cfg: object = {}) => newtonCotes.create(cfg),
};

/** The config after schema validation (defaults filled in); throws on a schema error. */
export function configWith(withBlock: Record<string, unknown> = {}): W0waConfig {
  const cfg = JSON.parse(JSON.stringify(withBlock));
  const issues = validateWith(w0waBackground.configSchema, cfg, 'with');
  if (issues.length) throw new Error(JSON.stringify(issues));
  return cfg as W0waConfig;
}

export interface RunOptions {
  params?: Record<string, number>;
  vary?: string[];
  with?: Record<string, unknown>;
  integrator?: Integrator;
}

export function fakeContext(o: RunOptions = {}): StageContext<W0waConfig, {}> {
  const values: Record<string, number> = {};
  for (const [k, s] of Object.entries(W0WA_PARAMETERS)) values[k] = s.default;
  Object.assign(values, o.params ?? {});
  const vary = o.vary ?? [];
  const integrator = o.integrator ?? integrators['gauss-legendre']();
  return {
    stage: 'background',
    config: configWith(o.with),
    inputs: {},
    tangentParams: vary,
    param(name) {
      if (!(name in W0WA_PARAMETERS)) throw new Error(`parameter ${name} is not in reads`);
      return seed(values[name], vary.indexOf(name), vary.length);
    },
    method<T>(kind: string): T {
      if (kind !== 'integrator') throw new Error(`no method ${kind}`);
      return integrator as T;
    },
    progress() {},
  };
}

export const runBackground = (o: RunOptions = {}) => w0waBackground.run(fakeContext(o)) as W0waBackground;

/** CLASS fid / w0wa parameters (reference/class/README.md). */
export const CLASS_FID = { h: 0.67, Omega_m: 0.32, Omega_b: 0.05, Omega_k: 0, w0: -1, wa: 0, T_cmb: 2.7255, N_eff: 3.046 };
export const CLASS_W0WA = { ...CLASS_FID, w0: -0.9, wa: 0.2 };
