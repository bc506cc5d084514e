/** The ode-solver method plugins: descriptors, schema defaults, create() and config errors. */
import { describe, expect, it } from 'vitest';
import { PLUGIN_API_VERSION } from '../../../../core/plugin/types.js';
import { odeSolverPlugins } from '../../../../plugins/ode-solver/index.js';
import { rotation } from './problems.js';

describe('ode-solver plugins', () => {
  it('declare ode-solver/<name>, the API version and a schema whose defaults create a working solver', () => {
    expect(odeSolverPlugins.map((p) => p.id)).toEqual(['ode-solver/tsit5', 'ode-solver/rosenbrock', 'ode-solver/bdf', 'ode-solver/auto']);
    const tp = rotation();
    for (const plugin of odeSolverPlugins) {
      expect(plugin.apiVersion).toBe(PLUGIN_API_VERSION);
      expect(plugin.kind).toBe('ode-solver');
      const props = (plugin.configSchema as { properties: Record<string, { default?: unknown }> }).properties;
      const defaults = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, v.default]));
      expect(defaults.rtol).toBe(1e-6);
      const solver = plugin.create(defaults);
      expect(solver.name).toBe(plugin.id.split('/')[1]);
      const sol = solver.solve(tp.problem);
      const y = sol.state(sol.times.length - 1);
      expect(Math.abs(y[0] - tp.yEnd[0])).toBeLessThan(1e-4);
    }
  });

  it('config errors name the field', () => {
    const byId = Object.fromEntries(odeSolverPlugins.map((p) => [p.id, p]));
    expect(() => byId['ode-solver/bdf'].create({ formula: 'adams' })).toThrow(/ode-solver\/bdf: with\.formula must be 'bdf' or 'ndf'/);
    expect(() => byId['ode-solver/rosenbrock'].create({ variant: 'rodas5' })).toThrow(/with\.variant must be one of/);
    expect(() => byId['ode-solver/tsit5'].create({ rtol: 2 })).toThrow(/with\.rtol must be a number in \(0, 0\.1\]/);
    expect(() => byId['ode-solver/auto'].create({ stiff: 'radau' })).toThrow(/with\.stiff must be/);
  });
});
