/**
 * The Boltzmann adjoint on worker threads (plugins/linear-power/boltzmann/adjoint-parallel.ts): with threads = 2 the
 * gradient of F = sum w P(k, z) on the adjoint tests' request (adjoint-harness.ts) equals the one-thread gradient to
 * rounding (same steps per mode; the read cotangents summed per thread, then added: another order), for the
 * discrete scheme, the continuous one and the switches' motion, and with massive neutrinos (delta_cb, P_cb); the
 * forward values are identical.
 *
 * The workers run adjoint-worker.ts's closure transpiled into a temporary directory beside worker.ts's
 * (worker-harness.ts; COSMODAG_BOLTZMANN_WORKER). The request is small: this thread could record every mode
 * before a worker has loaded, so it waits for them here (awaitWorkers) and the test checks they took modes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type BoltzmannConfig, boltzmann, boltzmannPower } from '../../../plugins/linear-power/boltzmann.js';
import { boltzmannPowerVjp } from '../../../plugins/linear-power/boltzmann/adjoint-power.js';
import { W0WA, configOf, repoRoot } from './harness.js';
import { ADJOINT_GRID, ADJOINT_VARY, adjointWeights, requestInputs, worstRelative } from './adjoint-harness.js';
import { transpileClosure } from './worker-harness.js';

describe('the adjoint on worker threads', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'cosmodag-boltzmann-adjoint-worker-'));
    transpileClosure(path.join(repoRoot, 'plugins/linear-power/boltzmann/adjoint-worker.ts'), dir);
    process.env.COSMODAG_BOLTZMANN_WORKER = transpileClosure(path.join(repoRoot, 'plugins/linear-power/boltzmann/worker.ts'), dir);
  });
  afterAll(() => {
    delete process.env.COSMODAG_BOLTZMANN_WORKER;
    rmSync(dir, { recursive: true, force: true });
  });

  const cfg = configOf<BoltzmannConfig>(boltzmann, ADJOINT_GRID);
  const inp = requestInputs(W0WA, ADJOINT_VARY);

  test('threads = 2 gives the one-thread gradient (discrete, continuous, switch motion), and a progress event per mode and pass', async () => {
    const N = (await boltzmannPower(cfg, requestInputs(W0WA, []))).P_Mpc3.value.length;
    const w = adjointWeights(N);
    const report: string[] = [];
    for (const [name, extra] of [['discrete', {}], ['continuous', { scheme: 'continuous' }], ['switchTimes', { switchTimes: true }]] as const) {
      const one = await boltzmannPowerVjp(cfg, { ...inp, ...extra, threads: 1 }, { P_Mpc3: w });
      const events: [number, number][] = [];
      const t0 = performance.now();
      const two = await boltzmannPowerVjp(cfg, { ...inp, ...extra, threads: 2, awaitWorkers: true, onProgress: (d, t) => events.push([d, t]) }, { P_Mpc3: w });
      const ms = performance.now() - t0;
      expect(one.threadsUsed).toBe(1);
      expect(two.threadsUsed).toBe(2);
      const total = events[0][1], modes = total / 2;
      expect(two.workerModes).toBeGreaterThan(0);
      expect(two.workerModes).toBeLessThan(modes);
      expect(events.length).toBe(total);
      expect(events[events.length - 1]).toEqual([total, total]);
      expect(two.steps).toBe(one.steps);
      expect(two.storedDoubles).toBe(one.storedDoubles);
      for (let i = 0; i < N; i++) expect(two.P_Mpc3[i]).toBe(one.P_Mpc3[i]);
      expect(two.sigma8).toBe(one.sigma8);
      expect(two.A_s).toBe(one.A_s);
      const r = worstRelative(two.gradient, one.gradient);
      report.push(`${name}: worst ${r.worst.toExponential(2)} (${two.workerModes} of ${modes} modes on the worker, ${ms.toFixed(0)} ms)`);
      expect(r.worst).toBeLessThan(1e-12);
    }
    console.log(`adjoint, 2 threads vs 1:\n  ${report.join('\n  ')}`);
  });

  test('massive neutrinos: delta_cb crosses too, bars on P and P_cb give the one-thread gradient', async () => {
    const MNU = { ...W0WA, w0: -1, wa: 0, m_nu: 0.06 };
    const vary = ['h', 'Omega_m', 'm_nu'];
    const inpN = requestInputs(MNU, vary);
    const N = (await boltzmannPower(cfg, requestInputs(MNU, []))).P_Mpc3.value.length;
    const w = adjointWeights(N), wc = w.map((x) => 0.5 - x);
    const one = await boltzmannPowerVjp(cfg, { ...inpN, threads: 1 }, { P_Mpc3: w, P_cb_Mpc3: wc });
    const two = await boltzmannPowerVjp(cfg, { ...inpN, threads: 2, awaitWorkers: true }, { P_Mpc3: w, P_cb_Mpc3: wc });
    expect(two.workerModes).toBeGreaterThan(0);
    for (let i = 0; i < N; i++) expect(two.P_cb_Mpc3![i]).toBe(one.P_cb_Mpc3![i]);
    const r = worstRelative(two.gradient, one.gradient, vary);
    console.log(`m_nu = 0.06, 2 threads vs 1 (${two.workerModes} modes on the worker): ${r.each}`);
    expect(r.worst).toBeLessThan(1e-12);
  });
});
