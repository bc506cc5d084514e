/** Running linear-power/boltzmann in tests, and comparing its output with CLASS's pk_lin.tsv. */
import { readFileSync } from 'node:fs';
import { createTsit5 } from '../../../core/numerics/ode/index.js';
import type { Recombination } from '../../../plugins/contracts/recombination.js';
import { type BoltzmannPower, boltzmann } from '../../../plugins/linear-power/boltzmann.js';
import { parsePowerTable, powerTableAt } from '../../../plugins/contracts/power-table.js';
import { recfastRecombination } from '../../../plugins/recombination/recfast.js';
import { classPath, fakeContext, runBackground } from './harness.js';

const H = 0.67;
/** k in [1e-4, 1] h/Mpc, the z of the CLASS tables as grid nodes. */
export const GRID = { k: { k_min: 1e-4 * H, k_max: 1 * H, per_decade: 60 }, z: { z_max: 2, count: 5, spacing: 'linear' }, output_z: [0, 0.5, 1, 2] };

export async function runBoltzmann(
  params: Record<string, number>, opts: { vary?: string[]; with?: Record<string, unknown>; solver?: unknown; recombination?: boolean } = {},
): Promise<BoltzmannPower> {
  const vary = opts.vary ?? [];
  const bg = runBackground(params, vary);
  const inputs: { background: typeof bg; recombination?: Recombination } = { background: bg };
  if (opts.recombination !== false)
    inputs.recombination = recfastRecombination.run(fakeContext(recfastRecombination, { params, vary, inputs: { background: bg } })) as Recombination;
  const ctx = fakeContext(boltzmann, {
    params, vary, inputs, with: { ...GRID, threads: 1, ...(opts.with ?? {}) },
    methods: { 'ode-solver': opts.solver ?? createTsit5() },
  });
  return boltzmann.run(ctx) as Promise<BoltzmannPower>;
}

/** Largest |ours/CLASS - 1| at CLASS's k in [kLo, kHi] h/Mpc for the z of our grid. */
export function compareToClass(out: BoltzmannPower, name: string, kLo: number, kHi: number, table = 'pk_lin.tsv'): { max: number; atK: number; atZ: number } {
  const file = classPath(name, table);
  const cls = parsePowerTable(readFileSync(file, 'utf8'), file, { h_units: 'auto', h: H });
  const ours = { source: 'ours', k_1overMpc: out.k_1overMpc, z: out.z, P_Mpc3: out.P_Mpc3.value };
  const idx: number[] = [];
  cls.k_1overMpc.forEach((k, i) => k / H >= kLo && k / H <= kHi && idx.push(i));
  const kq = Float64Array.from(idx, (i) => cls.k_1overMpc[i]);
  const zs = Float64Array.from(GRID.output_z);
  const P = powerTableAt(ours, kq, zs, { extrapolate: false });
  const nk = cls.k_1overMpc.length;
  let max = 0, atK = 0, atZ = 0;
  zs.forEach((z, j) => {
    const zi = Array.from(cls.z).indexOf(z);
    idx.forEach((i, q) => {
      const e = Math.abs(P[j * kq.length + q] / cls.P_Mpc3[zi * nk + i] - 1);
      if (e > max) {
        max = e;
        atK = kq[q] / H;
        atZ = z;
      }
    });
  });
  return { max, atK, atZ };
}

