/**
 * k-modes on worker threads: the same numbers as in one thread, progress reported per mode, failures named.
 *
 * Under vitest the sources are TypeScript, which a worker thread cannot load; the test transpiles the worker's
 * import closure (TypeScript's transpileModule, no type check) into a temporary directory and points the
 * stage at it with COSMODAG_BOLTZMANN_WORKER (what the compiled package finds next to parallel.js itself).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createBdf, createTsit5, type OdeSolver } from '../../../core/numerics/ode/index.js';
import type { Recombination } from '../../../plugins/contracts/recombination.js';
import { solveModes } from '../../../plugins/linear-power/boltzmann/parallel.js';
import { DEFAULT_APPROXIMATIONS, buildModeSetup } from '../../../plugins/linear-power/boltzmann/setup.js';
import { cosmologyFrom } from '../../../plugins/contracts/cosmology.js';
import { recfastRecombination } from '../../../plugins/recombination/recfast.js';
import { FID, fakeContext, repoRoot, runBackground } from './harness.js';
import { transpileClosure } from './worker-harness.js';

describe('worker threads', () => {
  let dir = '';
  const bg = runBackground(FID);
  const rec = recfastRecombination.run(fakeContext(recfastRecombination, { params: FID, inputs: { background: bg } })) as Recombination;
  const { setup } = buildModeSetup({
    cosmology: cosmologyFrom(FID), recombination: rec, P: 0,
    approx: DEFAULT_APPROXIMATIONS, darkEnergy: 'ppf', ppfCGammaOverCs: 0.4,
  });
  const ks = Float64Array.from({ length: 12 }, (_, i) => 1e-4 * Math.pow(5000, i / 11));
  const xOut = Float64Array.of(-Math.log(2), 0);
  const opt = { rtol: 1e-5, atol: 1e-10, sensitivities: false };

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cosmodag-boltzmann-worker-'));
    process.env.COSMODAG_BOLTZMANN_WORKER = transpileClosure(path.join(repoRoot, 'plugins/linear-power/boltzmann/worker.ts'), dir);
  });
  afterAll(() => {
    delete process.env.COSMODAG_BOLTZMANN_WORKER;
    rmSync(dir, { recursive: true, force: true });
  });

  test('two threads give the same transfer functions as one, with a progress event per mode', async () => {
    const one = await solveModes(setup, ks, xOut, createTsit5(), opt, { threads: 1 });
    const events: [number, number][] = [];
    const two = await solveModes(setup, ks, xOut, createTsit5(), opt, { threads: 2, onProgress: (d, t) => events.push([d, t]) });
    expect(one.threadsUsed).toBe(1);
    expect(two.threadsUsed).toBe(2);
    for (let i = 0; i < ks.length; i++) for (let j = 0; j < xOut.length; j++) expect(two.results[i].delta[j]).toBe(one.results[i].delta[j]);
    expect(events.length).toBe(ks.length);
    expect(events[events.length - 1]).toEqual([ks.length, ks.length]);
  });

  test('a configured method reaches the workers: bdf with formula ndf, maxOrder 2 gives the in-thread numbers', async () => {
    // the pipeline's methods section, e.g. {"ode-solver": {"use": "bdf", "with": {"formula": "ndf", "maxOrder": 2}}}
    const config = { formula: 'ndf' as const, maxOrder: 2 };
    const sub = ks.subarray(4, 10);
    const one = await solveModes(setup, sub, xOut, createBdf(config), opt, { threads: 1 });
    const two = await solveModes(setup, sub, xOut, createBdf(config), opt, { threads: 2 });
    const dflt = await solveModes(setup, sub, xOut, createBdf(), opt, { threads: 1 });
    expect(two.threadsUsed).toBe(2);
    for (let i = 0; i < sub.length; i++)
      for (let j = 0; j < xOut.length; j++) {
        // the default bdf differs from the configured one in every mode, so a worker that rebuilt the default
        // solver would show up here in whichever modes it solved
        expect(dflt.results[i].delta[j]).not.toBe(one.results[i].delta[j]);
        expect(two.results[i].delta[j]).toBe(one.results[i].delta[j]);
      }
  });

  test('massive neutrinos: the momentum-bin setup crosses to the workers, delta_m and delta_cb identical to one thread', async () => {
    const MNU = { ...FID, m_nu: 0.06 };
    const bgN = runBackground(MNU);
    const recN = recfastRecombination.run(fakeContext(recfastRecombination, { params: MNU, inputs: { background: bgN } })) as Recombination;
    const { setup: sN } = buildModeSetup({
      cosmology: cosmologyFrom(MNU), recombination: recN, P: 0, approx: DEFAULT_APPROXIMATIONS, darkEnergy: 'ppf', ppfCGammaOverCs: 0.4,
    });
    const sub = ks.subarray(0, 6);
    const one = await solveModes(sN, sub, xOut, createTsit5(), opt, { threads: 1 });
    const two = await solveModes(sN, sub, xOut, createTsit5(), opt, { threads: 2 });
    expect(two.threadsUsed).toBe(2);
    for (let i = 0; i < sub.length; i++)
      for (let j = 0; j < xOut.length; j++) {
        expect(two.results[i].delta[j]).toBe(one.results[i].delta[j]);
        expect(two.results[i].deltaCb![j]).toBe(one.results[i].deltaCb![j]);
      }
  });

  test('a failing mode is reported with its k, and a solver a worker cannot rebuild runs in this thread', async () => {
    await expect(solveModes(setup, ks, xOut, createTsit5(), { ...opt, maxSteps: 3 }, { threads: 2 })).rejects.toThrow(/mode k = .* \/Mpc failed: .*maximum number of steps/);
    const custom: OdeSolver = { name: 'my-solver', solve: (p, o) => createTsit5().solve(p, o) };
    const r = await solveModes(setup, ks.subarray(0, 3), xOut, custom, opt, { threads: 2 });
    expect(r.threadsUsed).toBe(1);
  });
});
