/**
 * linear-power/boltzmann with.matter = "cb": the stage's P is CDM + baryons (for galaxy clustering, or Halofit and
 * HMcode on the cold matter: docs/power.md, "Which spectrum each probe uses"), against CLASS's own P_cb table
 * (reference/class/mnu pk_cb_lin.tsv) at m_nu = 0.06 eV; the same arrays as the P_cb beside the total-matter P of the
 * default stage, tangents included; with m_nu = 0 the default output; and its vjp the default stage's with the bar on
 * P_cb.
 */
import { describe, expect, test } from 'vitest';
import { createTsit5 } from '../../../core/numerics/ode/index.js';
import type { VjpContext } from '../../../core/plugin/types.js';
import { type BoltzmannConfig, type BoltzmannPower, boltzmann } from '../../../plugins/linear-power/boltzmann.js';
import { FID, fakeContext, runBackground } from './harness.js';
import { ADJOINT_GRID, adjointWeights } from './adjoint-harness.js';
import { compareToClass, runBoltzmann } from './stage.js';

const MNU = { ...FID, m_nu: 0.06 };

describe('with.matter = "cb"', () => {
  test('m_nu = 0.06: P is CLASS\'s P_cb (1e-3 to 1 h/Mpc), equal to the default stage\'s P_cb, tangents included, and not its P_m', { tags: ['slow'] }, async () => {
    const vary = ['Omega_m', 'm_nu'];
    const total = await runBoltzmann(MNU, { vary });
    const cb = await runBoltzmann(MNU, { vary, with: { matter: 'cb' } });
    expect(cb.P_cb_Mpc3).toBeUndefined();
    expect(cb.source).toBe('boltzmann (cb)');
    expect(cb.P_Mpc3.value).toEqual(total.P_cb_Mpc3!.value);
    expect(cb.P_Mpc3.tangent).toEqual(total.P_cb_Mpc3!.tangent);
    // the neutrinos' free streaming: P_m / P_cb ~ (1 - f_nu)^2 ~ 0.991 on small scales
    const n = cb.P_Mpc3.value.length;
    expect(Math.abs(total.P_Mpc3.value[n - 1] / cb.P_Mpc3.value[n - 1] - 1)).toBeGreaterThan(5e-3);
    const c = compareToClass(cb, 'mnu', 1e-4, 1, 'pk_cb_lin.tsv');
    console.log(`matter cb vs CLASS P_cb: ${c.max.toExponential(2)} at k = ${c.atK.toPrecision(3)} h/Mpc, z = ${c.atZ}`);
    expect(c.max).toBeLessThan(1e-3);
  });

  test('m_nu = 0: the default output (no neutrinos to separate)', async () => {
    const a = await runBoltzmann(FID, { with: { ...ADJOINT_GRID } });
    const b = await runBoltzmann(FID, { with: { ...ADJOINT_GRID, matter: 'cb' } });
    expect(b.P_Mpc3.value).toEqual(a.P_Mpc3.value);
    expect(b.source).toBe(a.source);
  });

  test('the vjp of P (cb) is the default stage\'s vjp of P_cb', { tags: ['slow'] }, async () => {
    const params = { ...MNU };
    const vjp = async (matter: 'total' | 'cb') => {
      const inputs = { background: runBackground(params) };
      const base = fakeContext(boltzmann, { params, inputs, with: { ...ADJOINT_GRID, matter }, methods: { 'ode-solver': createTsit5() } });
      const output = (await boltzmann.run(base)) as BoltzmannPower;
      const ctx = { ...base, output } as VjpContext<BoltzmannConfig, typeof inputs, BoltzmannPower>;
      const w = adjointWeights(output.P_Mpc3.value.length);
      return boltzmann.vjp!(ctx, matter === 'cb' ? { P_Mpc3: w } : { P_cb_Mpc3: w });
    };
    const [cb, total] = [await vjp('cb'), await vjp('total')];
    expect(Object.keys(cb.params!).sort()).toEqual(Object.keys(total.params!).sort());
    for (const [name, v] of Object.entries(total.params!)) expect(cb.params![name], name).toBe(v);
    expect(Math.abs(total.params!.m_nu)).toBeGreaterThan(0);
  });
});

