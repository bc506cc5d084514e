/**
 * Tests of nonlinear-power/baryon-damping: the suppression against its closed form, the tangents against
 * finite differences, and the stage inside a cosmodag pipeline (A_bary = 0 must leave every C_l unchanged;
 * a bad config must be refused with its JSON path). Run with `npm test` after `npm run build`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { InputError, executePlan, loadAndPlan, seed, type StageContext } from 'cosmodag';
import { baryonDamping, suppression, type BaryonDampingConfig, type PowerGrid } from '../src/baryon-damping.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A StageContext by hand: what cosmodag gives run(), for the parameters in `tangents` varied. */
function context(pin: PowerGrid, A: number, tangents: string[], kb = 3): StageContext<BaryonDampingConfig, { nonlinear: PowerGrid }> {
  return {
    stage: 'baryons', config: { k_b_1overMpc: kb }, inputs: { nonlinear: pin }, tangentParams: tangents,
    param: (name) => seed(A, tangents.indexOf(name), tangents.length),
    method: () => { throw new Error('no methods'); },
    progress: () => {},
  };
}

/**
 * A small P(k, z) input. With tangents, the blocks are those of the run's varied parameters [A_bary, theta]:
 * dP/dA_bary = 0 (the input does not depend on it) and dP/dtheta = 2 P.
 */
function input(withTangent: boolean): PowerGrid {
  const k = Float64Array.from({ length: 30 }, (_, i) => 1e-3 * 10 ** (i / 6));
  const z = Float64Array.of(0, 1);
  const value = Float64Array.from({ length: 60 }, (_, i) => 1e4 * (k[i % 30] / 0.1) ** -1.2 / (1 + z[Math.floor(i / 30)]) ** 2);
  return { k_1overMpc: k, z, P_Mpc3: withTangent ? { value, tangent: Float64Array.from([...value.map(() => 0), ...value.map((v) => 2 * v)]), P: 2 } : { value, tangent: null, P: 0 }, source: 'test' };
}

describe('suppression S(k)', () => {
  it('goes from 1 on large scales to 1 - A_bary on small ones, 1 - A_bary/2 at k_b', () => {
    const { S, dS_dA } = suppression(Float64Array.of(1e-6, 3, 1e6), 0.2, 3);
    assert.ok(Math.abs(S[0] - 1) < 1e-12); // 0.2 x^2 with x^2 ~ 1e-13
    assert.ok(Math.abs(S[1] - 0.9) < 1e-15);
    assert.ok(Math.abs(S[2] - 0.8) < 1e-10); // 0.2 / (1 + x^2) with x^2 ~ 1e11
    assert.ok(Math.abs(dS_dA[1] + 0.5) < 1e-15);
  });
});

describe('run()', () => {
  it('multiplies P by S and carries both tangents (checked against finite differences)', () => {
    const pin = input(true);
    const out = baryonDamping.run(context(pin, 0.1, ['A_bary', 'theta'])) as PowerGrid;
    const N = pin.P_Mpc3.value.length;
    assert.equal(out.P_Mpc3.P, 2);
    const h = 1e-6;
    const plus = baryonDamping.run(context(pin, 0.1 + h, [])) as PowerGrid;
    const minus = baryonDamping.run(context(pin, 0.1 - h, [])) as PowerGrid;
    const { S } = suppression(pin.k_1overMpc, 0.1, 3);
    for (let i = 0; i < N; i++) {
      assert.ok(Math.abs(out.P_Mpc3.value[i] / (pin.P_Mpc3.value[i] * S[i % 30]) - 1) < 1e-15);
      const fd = (plus.P_Mpc3.value[i] - minus.P_Mpc3.value[i]) / (2 * h);
      assert.ok(Math.abs(out.P_Mpc3.tangent![i] - fd) <= 1e-7 * Math.abs(pin.P_Mpc3.value[i]), `dP/dA_bary at ${i}`);
      // the input's own tangent passes through, times S
      assert.ok(Math.abs(out.P_Mpc3.tangent![N + i] / (2 * out.P_Mpc3.value[i]) - 1) < 1e-14, `dP/dtheta at ${i}`);
    }
  });

  it('has no tangent when nothing is varied', () => {
    const out = baryonDamping.run(context(input(false), 0.1, [])) as PowerGrid;
    assert.equal(out.P_Mpc3.tangent, null);
  });
});

describe('inside a cosmodag pipeline (pipeline.json, reduced: 12 multipoles, no Fisher matrix)', () => {
  const pipeline = () => {
    const p = JSON.parse(readFileSync(path.join(root, 'pipeline.json'), 'utf8'));
    p.stages.cl.with.ell.count = 12;
    p.stages.cl.with.plot = false;
    delete p.stages.fisher;
    delete p.outputs;
    for (const q of Object.values(p.parameters) as { vary?: boolean }[]) q.vary = false;
    return p;
  };
  const cl = async (p: unknown) => {
    const { plan, registry } = await loadAndPlan(p, { baseDir: root });
    return (await executePlan(plan, registry, { targets: ['cl'] })).outputs.get('cl') as { pairNames: string[]; ell: Float64Array; C: { value: Float64Array } };
  };

  it('with A_bary = 0 every C_l equals the pipeline without the stage; with A_bary > 0 clustering is damped', async () => {
    const p = pipeline();
    p.parameters.A_bary.value = 0;
    const withStage = await cl(p);
    const without = pipeline();
    delete without.stages.baryons;
    delete without.stages.cl.inputs;
    delete without.parameters.A_bary;
    const base = await cl(without);
    withStage.C.value.forEach((v, i) => assert.equal(v, base.C.value[i]));
    // GG = b_i b_j Integral W W P: every value lower, and by up to A_bary at the highest multipoles
    const damped = await cl(pipeline());
    const nl = base.ell.length;
    base.pairNames.forEach((name, k) => {
      if (!name.startsWith('GG')) return;
      for (let l = 0; l < nl; l++) {
        const ratio = damped.C.value[k * nl + l] / base.C.value[k * nl + l];
        assert.ok(ratio < 1 && ratio > 1 - 0.1, `${name} at l = ${base.ell[l]}: ratio ${ratio}`);
      }
      assert.ok(damped.C.value[k * nl + nl - 1] / base.C.value[k * nl + nl - 1] < 0.99, `${name} damped by > 1 % at the highest l`);
    });
  });

  it('refuses a bad config before computing, naming its JSON path', async () => {
    const p = pipeline();
    p.stages.baryons.with.k_b_1overMpc = -1;
    await assert.rejects(loadAndPlan(p, { baseDir: root }), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.ok(e.issues.some((i) => i.path === 'stages.baryons.with.k_b_1overMpc'), JSON.stringify(e.issues));
      return true;
    });
  });
});
