/**
 * Worker-thread entry of the Boltzmann adjoint (adjoint-parallel.ts): records the tapes of the k-modes it is sent
 * (recordMode, one message per mode, as worker.ts solves them) and keeps them; then, sent the output cotangents of
 * its modes, runs their backward passes (modeVjp, scheme `discrete` or `continuous`, switch motion when asked) into
 * one ReadBars of its own and returns that sum's arrays.
 *
 * Messages in:  {type: 'init', setup, xOut, solver: {name, config}, record: ModeAdjointOptions, scheme, switchTimes}
 *               {type: 'mode', index, k}
 *               {type: 'vjp', bars: {index, db, dcb}[]}
 * Messages out: {type: 'ready'} | {type: 'mode', index, delta, deltaCb, steps, storedDoubles}
 *               | {type: 'vjp-mode', index} (one per backward pass done) | {type: 'reads', reads: ReadBarsArrays}
 *               | {type: 'error', index, message}
 */
import { type OdeSolver, createTsit5 } from '../../../core/numerics/ode/index.js';
import { type ModeAdjointOptions, type ModeTape, discreteRegime, modeVjp, recordMode } from './adjoint.js';
import { continuousRegime } from './adjoint-continuous.js';
import { ReadBars } from './adjoint-reads.js';
import type { ModeSetup } from './setup.js';
import { type SolverSpec, serveWorker } from './threads.js';

/** The solver recordMode uses (it differentiates tsit5's steps: another method is replaced by the default tsit5). */
export function adjointSolver(s: SolverSpec): OdeSolver {
  return s.name === 'tsit5' ? createTsit5(s.config) : createTsit5();
}

serveWorker(
  (msg) => ({
    setup: msg.setup as ModeSetup, xOut: msg.xOut as Float64Array, solver: adjointSolver(msg.solver as SolverSpec),
    record: msg.record as ModeAdjointOptions, continuous: msg.scheme === 'continuous', switchTimes: msg.switchTimes === true,
    tapes: new Map<number, ModeTape>(),
  }),
  ({ setup, xOut, solver, record, continuous, switchTimes, tapes }, msg, port) => {
    if (msg.type === 'mode') {
      const index = msg.index as number;
      try {
        const tape = recordMode(setup, msg.k as number, xOut, solver, record);
        tapes.set(index, tape);
        // copies: the tape keeps its own
        const delta = tape.delta.slice(), deltaCb = tape.deltaCb ? tape.deltaCb.slice() : null;
        const transfer: ArrayBuffer[] = [delta.buffer];
        if (deltaCb) transfer.push(deltaCb.buffer);
        port.postMessage({ type: 'mode', index, delta, deltaCb, steps: tape.steps, storedDoubles: tape.storedDoubles }, transfer);
      } catch (e) {
        port.postMessage({ type: 'error', index, message: (e as Error).message });
      }
    } else if (msg.type === 'vjp') {
      const reads = new ReadBars(setup);
      const regime = continuous ? continuousRegime : discreteRegime;
      for (const { index, db, dcb } of msg.bars as { index: number; db: Float64Array; dcb: Float64Array | null }[]) {
        try {
          modeVjp(tapes.get(index)!, db, dcb, 'tables', regime, { switchTimes, into: reads });
        } catch (e) {
          port.postMessage({ type: 'error', index, message: (e as Error).message });
          return;
        }
        tapes.delete(index);
        port.postMessage({ type: 'vjp-mode', index });
      }
      const a = reads.arrays();
      const transfer = [a.q, a.lnKappa.y, a.lnKappa.m, a.cb2.y, a.cb2.m, a.tau.y, a.tau.m].map((v) => v.buffer as ArrayBuffer);
      port.postMessage({ type: 'reads', reads: a }, transfer);
    }
  },
);
