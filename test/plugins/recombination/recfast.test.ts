/**
 * recombination/recfast against CLASS v3.3.4 with HyRec (reference/class/{fid,w0wa}: thermodynamics.tsv and
 * derived.tsv), its tangents against central differences, the tau_reio <-> z_reio inversion, and errors.
 *
 * RECFAST 1.5 (F = 1.14 - 0.015 and the Gaussian K correction) is a fit to the multi-level codes; against
 * HyRec 2020 we measure (fid; w0wa the same to 1e-5):
 *   x_e: 3.3e-3 for 1200 < z < 2000 (helium: -3.3e-3 at z = 1800), 3.5e-3 for 800-1200, 4.0e-3 for 200-800,
 *        8.3e-3 for 12 < z < 200 (the low-z freeze-out, largest near z = 15), 1.1e-3 for 2000-10^4;
 *   z_star -8e-6, z_drag -1.8e-5, r_s(z_drag) +1.2e-5, z_rec (maximum of g) +1.1e-5;
 *   conformal time 1e-9 (the same background).
 */
import { describe, expect, test } from 'vitest';
import { interpDual } from '../../../core/ad/interp.js';
import type { Recombination } from '../../../plugins/contracts/recombination.js';
import { heliumFromBBN } from '../../../plugins/recombination/bbn.js';
import { type RecfastConfig, recfastRecombination } from '../../../plugins/recombination/recfast.js';
import { FID, W0WA, classPath, fakeContext, readDerived, readTable, runBackground } from '../boltzmann/harness.js';

function runRec(params: Record<string, number>, vary: string[] = [], withBlock: Record<string, unknown> = {}): Recombination {
  const bg = runBackground(params, vary);
  return recfastRecombination.run(fakeContext(recfastRecombination, { params, vary, with: withBlock, inputs: { background: bg } })) as Recombination;
}

/** Largest |ours/CLASS - 1| of a column over CLASS rows with zLo <= z <= zHi. */
function worstRel(rec: Recombination, col: keyof Recombination, th: Record<string, Float64Array>, ccol: string, zLo: number, zHi: number) {
  const s = Float64Array.from(rec.z, Math.log1p);
  const rows: number[] = [];
  th.z.forEach((z, i) => z >= zLo && z <= zHi && rows.push(i));
  const v = interpDual(s, rec[col] as never, Float64Array.from(rows, (i) => Math.log1p(th.z[i]))).value;
  let max = 0, at = 0;
  rows.forEach((i, k) => {
    const e = Math.abs(v[k] / th[ccol][i] - 1);
    if (e > max) {
      max = e;
      at = th.z[i];
    }
  });
  return { max, at };
}

describe.each([['fid', FID], ['w0wa', W0WA]] as const)('recombination vs CLASS/HyRec (%s)', (name, params) => {
  const rec = runRec(params);
  const th = readTable(classPath(name, 'thermodynamics.tsv'));
  const d = readDerived(classPath(name, 'derived.tsv'));

  test('x_e within 1% for 12 <= z <= 2000 (reionisation ends above z_reio + 4 width ~ 10)', () => {
    const w = worstRel(rec, 'x_e', th, 'x_e', 12, 2000);
    // criterion 1% (issue 6); measured 8.3e-3 near z = 15 (RECFAST vs HyRec freeze-out), < 4e-3 at z > 200
    expect(w.max).toBeLessThan(0.01);
    expect(worstRel(rec, 'x_e', th, 'x_e', 200, 2000).max).toBeLessThan(5e-3);
    // the fully ionised / helium era, where both codes are near Saha: measured 1.1e-3
    expect(worstRel(rec, 'x_e', th, 'x_e', 2000, 9990).max).toBeLessThan(2e-3);
  });

  test('kappa\', T_b and conformal time follow', () => {
    expect(worstRel(rec, 'kappa_prime_1overMpc', th, 'kappa_prime[1/Mpc]', 12, 2000).max).toBeLessThan(0.01);
    // T_b: 6e-4 at z < 200 (measured), Compton-locked above
    expect(worstRel(rec, 'T_b_K', th, 'T_b[K]', 12, 9990).max).toBeLessThan(1.5e-3);
    // after reionisation: Compton heating with the reionised x_e, as CLASS (T_b(z = 0) = 0.358 K; without it
    // 0.022 K): measured 1.1e-3 at 0 <= z <= 12 (near z_reio, fid and w0wa)
    expect(worstRel(rec, 'T_b_K', th, 'T_b[K]', 0, 12).max).toBeLessThan(3e-3);
    expect(worstRel(rec, 'T_b_K', th, 'T_b[K]', 0, 5).max).toBeLessThan(5e-4); // measured 1.6e-4
    expect(worstRel(rec, 'tau_Mpc', th, 'conf_time[Mpc]', 0, 9990).max).toBeLessThan(1e-8);
  });

  test('z_star, z_drag and r_s(z_drag) within 0.1% (measured ~1e-5)', () => {
    const rel = (a: number, b: number) => Math.abs(a / b - 1);
    expect(rel(rec.z_star.v, d.z_star)).toBeLessThan(1e-3);
    expect(rel(rec.z_drag.v, d.z_drag)).toBeLessThan(1e-3);
    expect(rel(rec.r_s_drag_Mpc.v, d.r_drag)).toBeLessThan(1e-3);
    // regression bounds, 3x the measured differences
    expect(rel(rec.z_star.v, d.z_star)).toBeLessThan(3e-5);
    expect(rel(rec.z_drag.v, d.z_drag)).toBeLessThan(6e-5);
    expect(rel(rec.r_s_drag_Mpc.v, d.r_drag)).toBeLessThan(4e-5);
    expect(rel(rec.z_rec.v, d.z_rec)).toBeLessThan(4e-5);
    expect(rel(rec.r_s_star_Mpc.v, d.r_drag)).toBeGreaterThan(1e-3); // r_s(z_star) is a different number
  });

  test('z_reio from tau_reio = 0.0544 (CLASS shooting; our Y_He is 1.2e-4 higher, see bbn.ts)', () => {
    expect(Math.abs(rec.z_reio.v - d.z_reio)).toBeLessThan(0.01);
    expect(Math.abs(rec.Y_He.v - d.Y_He_from_xe0)).toBeLessThan(2e-4);
  });
});

describe('reionisation input and helium', () => {
  test('z_reio as input reproduces tau_reio', () => {
    const a = runRec(FID);
    const b = runRec({ ...FID, z_reio: a.z_reio.v }, [], { reionization: { input: 'z_reio' } });
    expect(Math.abs(b.tau_reio.v / 0.0544 - 1)).toBeLessThan(1e-6);
  });

  test('BBN fit: Y_He(0.022445, 3.046) and its N_eff slope', () => {
    const r = heliumFromBBN(0.05 * 0.67 * 0.67, 3.046);
    expect(r.Y).toBeCloseTo(0.245456, 5);
    expect(r.dY_dNeff).toBeGreaterThan(0.012);
    expect(r.dY_dNeff).toBeLessThan(0.015);
  });

  test('out-of-range inputs are refused with the parameter named', () => {
    expect(() => runRec({ ...FID, Omega_b: 0.1 })).toThrow(/omega_b.*outside the range of the BBN helium fit/);
    expect(recfastRecombination.check!({ helium: { source: 'bbn' } } as RecfastConfig, { params: { Omega_b: 0.1, h: 0.67 } })).toEqual([
      expect.stringMatching(/^parameters.Omega_b: .*BBN/),
    ]);
    expect(() => runRec({ ...FID, tau_reio: 2 })).toThrow(/tau_reio = 2 cannot be reached/);
  });
});

describe('tangents against central differences', () => {
  const vary = ['h', 'Omega_b', 'Omega_m', 'tau_reio'];
  const cfg = { rtol: 1e-9 };
  const rec = runRec(FID, vary, cfg);
  const steps: Record<string, number> = { h: 1e-3, Omega_b: 5e-4, Omega_m: 2e-3, tau_reio: 1e-3 };
  const zq = Float64Array.of(20, 500, 1000, 1100, 1500);
  const s = Float64Array.from(rec.z, Math.log1p);
  const sq = Float64Array.from(zq, Math.log1p);

  test.each(vary)('d/d%s of z_star, z_drag, r_s(z_drag), z_reio and x_e(z)', (p) => {
    const i = vary.indexOf(p);
    const up = runRec({ ...FID, [p]: FID[p as keyof typeof FID] + steps[p] }, [], cfg);
    const dn = runRec({ ...FID, [p]: FID[p as keyof typeof FID] - steps[p] }, [], cfg);
    const fd = (k: 'z_star' | 'z_drag' | 'r_s_drag_Mpc' | 'z_reio') => (up[k].v - dn[k].v) / (2 * steps[p]);
    for (const k of ['z_star', 'z_drag', 'r_s_drag_Mpc', 'z_reio'] as const) {
      const ad = rec[k].d![i];
      // central differences: truncation ~ step^2 f''' and ODE noise ~ rtol / step: 1e-4 relative of the
      // largest derivative of that quantity is well above both
      const scale = Math.max(...vary.map((_, j) => Math.abs(rec[k].d![j])));
      expect(Math.abs(ad - fd(k))).toBeLessThan(2e-4 * scale + 1e-9);
    }
    const xe = interpDual(s, rec.x_e, sq);
    const xu = interpDual(s, up.x_e, sq).value, xd = interpDual(s, dn.x_e, sq).value;
    for (let j = 0; j < zq.length; j++) {
      const fdv = (xu[j] - xd[j]) / (2 * steps[p]);
      const adv = xe.tangent![i * zq.length + j];
      expect(Math.abs(adv - fdv)).toBeLessThan(2e-4 * Math.abs(fdv) + 1e-6 * xe.value[j]);
    }
  });
});
