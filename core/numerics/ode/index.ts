/**
 * ODE solvers: one problem / solution contract (problem.ts), four methods.
 *   tsit5       explicit Runge-Kutta 5(4), Tsitouras 2011 (non-stiff)
 *   rosenbrock  rosenbrock23 (loose tolerances) / rodas4 (tight) (stiff)
 *   bdf         variable-order BDF or NDF, ode15s-style (stiff, large systems, long spans)
 *   auto        tsit5, switching to rosenbrock or bdf when stiffness is detected
 * Usage: createBdf().solve(problem, { rtol: 1e-8, sensitivities: true }).
 */
export * from './problem.js';
export { DenseLU } from './dense-lu.js';
export { createTsit5, TSIT5_DEFAULTS, type Tsit5Config } from './tsit5.js';
export { createRosenbrock, ROSENBROCK_DEFAULTS, type RosenbrockConfig } from './rosenbrock.js';
export { createBdf, BDF_DEFAULTS, type BdfConfig } from './bdf.js';
export { createAuto, AUTO_DEFAULTS, type AutoConfig } from './auto.js';
export { BUILTIN_DEFAULTS, type OdeDefaults } from './run.js';
