/**
 * nonlinear-power/linear (P_nl = P_lin, tangents included) and nonlinear-power/grid (CLASS's Halofit table).
 */
import { describe, expect, test } from 'vitest';
import type { PowerGrid } from '../../../plugins/contracts/power.js';
import { eisensteinHu } from '../../../plugins/linear-power/eisenstein-hu.js';
import { readPowerTable } from '../../../plugins/contracts/power-table.js';
import { nonlinearPowerGrid } from '../../../plugins/nonlinear-power/grid.js';
import { nonlinearLinear } from '../../../plugins/nonlinear-power/linear.js';
import { nonlinearPowerPlugins } from '../../../plugins/nonlinear-power/index.js';
import { linearPowerPlugins } from '../../../plugins/linear-power/index.js';
import { PLUGIN_API_VERSION } from '../../../core/plugin/types.js';
import { FID, fakeContext, readTable, referencePath, runBackground } from '../linear-power/harness.js';

describe('nonlinear-power/linear', () => {
  test('returns the linear grid unchanged, tangents included', () => {
    const vary = ['Omega_m', 'sigma8'];
    const bg = runBackground(FID, vary);
    const lin = eisensteinHu.run(fakeContext(eisensteinHu, { params: FID, vary, with: { k: { per_decade: 10 }, z: { count: 3 } }, inputs: { background: bg } })) as PowerGrid;
    const nl = nonlinearLinear.run(fakeContext(nonlinearLinear, { inputs: { linear: lin } })) as PowerGrid;
    expect(nl.P_Mpc3.value).toEqual(lin.P_Mpc3.value);
    expect(nl.P_Mpc3.tangent).toEqual(lin.P_Mpc3.tangent);
    expect(nl.P_Mpc3.P).toBe(2);
    expect(Array.from(nl.k_1overMpc)).toEqual(Array.from(lin.k_1overMpc));
  });
});

describe('nonlinear-power/grid', () => {
  test("reads CLASS's pk_nl_halofit.tsv: values are CLASS's, converted from (Mpc/h)^3, no tangents", () => {
    const file = referencePath('class/fid/pk_nl_halofit.tsv');
    const g = nonlinearPowerGrid.run(fakeContext(nonlinearPowerGrid, { with: { file }, params: { h: 0.67 }, vary: ['h'] })) as PowerGrid;
    const raw = readTable(file);
    const nk = g.k_1overMpc.length;
    expect(g.P_Mpc3.tangent).toBeNull();
    expect(g.P_Mpc3.value[3 * nk + 10] * 0.67 ** 3).toBeCloseTo(raw['P(z=2)[(Mpc/h)^3]'][10], 8);
    expect(g.k_1overMpc[10] / 0.67).toBeCloseTo(raw['k[h/Mpc]'][10], 15);
    expect(readPowerTable(file, { h_units: 'auto', h: 0.67 }).P_Mpc3).toEqual(g.P_Mpc3.value);
  });
});

describe('descriptors', () => {
  test('ids, ports, API version and differentiability', () => {
    const all = [...linearPowerPlugins, ...nonlinearPowerPlugins];
    expect(all.map((p) => p.id).sort()).toEqual(
      ['linear-power/eisenstein-hu', 'linear-power/grid', 'nonlinear-power/grid', 'nonlinear-power/halofit', 'nonlinear-power/hmcode2020', 'nonlinear-power/linear'].sort(),
    );
    for (const p of all) {
      expect(p.apiVersion).toBe(PLUGIN_API_VERSION);
      expect(p.version).toBe('1.0.0');
      expect(p.id.startsWith(`${p.port}/`)).toBe(true);
      expect(p.differentiable).toBe('forward');
      expect(p.description.length).toBeGreaterThan(20);
    }
  });
});
