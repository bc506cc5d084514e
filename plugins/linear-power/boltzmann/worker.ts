/**
 * Worker-thread entry of the Boltzmann stage: receives the mode setup once, then solves the k-modes it is
 * sent, one message per mode (the parent keeps a queue, so fast and slow modes balance across threads).
 *
 * Messages in:  {type: 'init', setup, xOut, solver: {name, config}, options}
 *               {type: 'mode', index, k}
 * Messages out: {type: 'ready'} | {type: 'mode', index, result} | {type: 'error', index, message}
 */
import { createAuto, createBdf, createRosenbrock, createTsit5, type OdeSolver } from '../../../core/numerics/ode/index.js';
import { type ModeOptions, solveMode } from './mode.js';
import type { ModeSetup } from './setup.js';
import { type SolverSpec, serveWorker } from './threads.js';

/** The built-in solvers a worker can rebuild by name (the bound object itself cannot cross threads). */
export function solverByName(name: string, config: Record<string, unknown> = {}): OdeSolver {
  switch (name) {
    case 'tsit5':
      return createTsit5(config);
    case 'rosenbrock':
      return createRosenbrock(config);
    case 'bdf':
      return createBdf(config);
    case 'auto':
      return createAuto(config);
    default:
      throw new Error(`linear-power/boltzmann: cannot rebuild ode-solver '${name}' in a worker thread`);
  }
}

serveWorker(
  (msg) => ({
    setup: msg.setup as ModeSetup, xOut: msg.xOut as Float64Array, options: msg.options as ModeOptions,
    solver: solverByName((msg.solver as SolverSpec).name, (msg.solver as SolverSpec).config),
  }),
  ({ setup, xOut, solver, options }, msg, port) => {
    if (msg.type !== 'mode') return;
    const index = msg.index as number;
    try {
      const result = solveMode(setup, msg.k as number, xOut, solver, options);
      const transfer = [result.delta.buffer] as ArrayBuffer[];
      if (result.dDelta) transfer.push(result.dDelta.buffer as ArrayBuffer);
      if (result.deltaCb) transfer.push(result.deltaCb.buffer as ArrayBuffer);
      if (result.dDeltaCb) transfer.push(result.dDeltaCb.buffer as ArrayBuffer);
      port.postMessage({ type: 'mode', index, result }, transfer);
    } catch (e) {
      port.postMessage({ type: 'error', index, message: (e as Error).message });
    }
  },
);
