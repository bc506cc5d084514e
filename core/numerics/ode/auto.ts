/**
 * auto: start with tsit5 and, when its stiffness indicator fires (h |lambda| beyond the explicit method's
 * stability boundary on stiffSteps recent steps, Hairer, Norsett & Wanner I, IV.10), continue from that
 * point with a stiff method (rosenbrock: rosenbrock23 or rodas4 by tolerance; or bdf). The solution, its
 * dense output and its statistics cover both legs; stats.switchedAt says where the switch happened.
 * The switch is one-way: a problem that is stiff once usually stays so (ROBER, HIRES, combustion).
 */
import { bdfLeg, BDF_DEFAULTS, type BdfSettings } from './bdf.js';
import type { OdeOptions, OdeProblem, OdeSolution, OdeSolver } from './problem.js';
import { pickVariant, rosenbrockLeg, ROSENBROCK_DEFAULTS, type RosenbrockSettings } from './rosenbrock.js';
import { BUILTIN_DEFAULTS, Run, buildSolution, type OdeDefaults } from './run.js';
import { tsit5Leg, TSIT5_DEFAULTS, type Tsit5Settings } from './tsit5.js';

export interface AutoConfig extends OdeDefaults, Tsit5Settings, RosenbrockSettings, BdfSettings {
  /** Method taking over once stiffness is detected. */
  stiff: 'rosenbrock' | 'bdf';
}

export const AUTO_DEFAULTS = { stiff: 'rosenbrock' as const };

export function createAuto(config: Partial<AutoConfig> = {}): OdeSolver {
  const c: AutoConfig = { ...BUILTIN_DEFAULTS, ...TSIT5_DEFAULTS, ...ROSENBROCK_DEFAULTS, ...BDF_DEFAULTS, ...AUTO_DEFAULTS, ...config };
  return {
    name: 'auto',
    config: { ...config },
    solve(problem: OdeProblem, options?: OdeOptions): OdeSolution {
      const run = new Run('ode-solver/auto', problem, options, c);
      const first = tsit5Leg(run, { ...c, stiffnessCheck: true }, true);
      let label = 'auto(tsit5)';
      if (first.stiff && first.t !== run.tEnd) {
        run.stats.switchedAt = first.t;
        // the explicit step was stability-limited; the stiff method may start a little larger
        if (c.stiff === 'bdf') {
          bdfLeg(run, c, first.t, first.y);
          label = `auto(tsit5->${c.formula === 'ndf' ? 'ndf' : 'bdf'})`;
        } else {
          const variant = pickVariant(c, run.rtol);
          rosenbrockLeg(run, variant, first.t, first.y, 4 * first.h);
          label = `auto(tsit5->${variant})`;
        }
      }
      run.rec.method = label;
      return buildSolution(run);
    },
  };
}
