/**
 * Massive neutrinos in linear-power/boltzmann against CLASS v3.3.4 (reference/class/mnu: one massive species
 * m = 0.06 eV, T_ncdm = 0.71611, N_ur = 2.0328, ncdm fluid approximation from k tau = 51; P of total matter in
 * pk_lin.tsv and of CDM + baryons in pk_cb_lin.tsv, (Mpc/h)^3 at k in h/Mpc).
 *
 * Measured (docs/boltzmann.md, default settings: 8 momentum bins, l_max 17, fluid from k tau = 51), largest
 * |P/P_CLASS - 1| over z = 0..3: whole stage (sigma8 = 0.816) P_m and P_cb alike 1.6e-4 (k < 0.01 h/Mpc),
 * 2.8e-4 (0.01-0.1), 4.7e-4 (0.1-1), 1.6e-4 (1-10 h/Mpc, modes to 6.8 /Mpc), A_s +1.6e-4; mode by mode at CLASS's
 * A_s (no normalisation, no interpolation): at most 3.1e-4 (k = 3 h/Mpc), 2.4e-4 at k <= 1 h/Mpc.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { createTsit5 } from '../../../core/numerics/ode/index.js';
import { cosmologyFrom } from '../../../plugins/contracts/cosmology.js';
import { parsePowerTable, powerTableAt } from '../../../plugins/contracts/power-table.js';
import type { Recombination } from '../../../plugins/contracts/recombination.js';
import { type BoltzmannConfig, type BoltzmannPower, boltzmann, formatBoltzmannPower } from '../../../plugins/linear-power/boltzmann.js';
import { solveMode } from '../../../plugins/linear-power/boltzmann/mode.js';
import { gaussLaguerre } from '../../../plugins/linear-power/boltzmann/ncdm.js';
import { DEFAULT_APPROXIMATIONS, buildModeSetup } from '../../../plugins/linear-power/boltzmann/setup.js';
import { recfastRecombination } from '../../../plugins/recombination/recfast.js';
import { FID, classPath, configOf, fakeContext, readDerived, runBackground } from './harness.js';
import { runBoltzmann } from './stage.js';

const H = 0.67;
const MNU = { ...FID, m_nu: 0.06 };
const ZS = [0, 0.5, 1, 2, 3];
const table = (file: string) => parsePowerTable(readFileSync(classPath('mnu', file), 'utf8'), file, { h_units: 'auto', h: H });

/** Largest |P/P_CLASS - 1| over CLASS's k in [lo, hi] h/Mpc and z = 0..3. */
function worst(k: Float64Array, z: Float64Array, P: Float64Array, file: string, lo: number, hi: number): number {
  const cls = table(file);
  const nk = cls.k_1overMpc.length;
  const idx = [...cls.k_1overMpc.keys()].filter((i) => cls.k_1overMpc[i] / H >= lo && cls.k_1overMpc[i] / H <= hi);
  const kq = Float64Array.from(idx, (i) => cls.k_1overMpc[i]);
  let m = 0;
  for (const zz of ZS) {
    const Pq = powerTableAt({ source: 'ours', k_1overMpc: k, z, P_Mpc3: P }, kq, Float64Array.of(zz), { extrapolate: false });
    const zi = Array.from(cls.z).indexOf(zz);
    idx.forEach((i, q) => (m = Math.max(m, Math.abs(Pq[q] / cls.P_Mpc3[zi * nk + i] - 1))));
  }
  return m;
}

describe('the momentum quadrature', () => {
  test('Gauss-Laguerre (Golub-Welsch) integrates x^m e^-x exactly (m!) for every m < 2n', () => {
    for (const n of [3, 5, 8, 12]) {
      const { x, w } = gaussLaguerre(n);
      let factorial = 1;
      for (let m = 0; m < 2 * n; m++) {
        if (m > 0) factorial *= m;
        let s = 0;
        for (let i = 0; i < n; i++) s += w[i] * x[i] ** m;
        expect(Math.abs(s / factorial - 1), `n = ${n}, m = ${m}`).toBeLessThan(1e-10);
      }
    }
  });
});

describe('massive neutrinos vs CLASS (mnu)', () => {
  test('mode by mode at CLASS\'s A_s: P_m and P_cb within 1e-3 (k <= 1 h/Mpc) and 3e-3 (to 10 h/Mpc), z = 0..3', () => {
    const bg = runBackground(MNU);
    const rec = recfastRecombination.run(fakeContext(recfastRecombination, { params: MNU, inputs: { background: bg } })) as Recombination;
    const { setup } = buildModeSetup({
      cosmology: cosmologyFrom(MNU), recombination: rec, P: 0, approx: DEFAULT_APPROXIMATIONS, darkEnergy: 'ppf', ppfCGammaOverCs: 0.4,
    });
    expect(setup.ncdm).not.toBeNull();
    const As = readDerived(classPath('mnu', 'derived.tsv')).A_s;
    const pm = table('pk_lin.tsv'), pcb = table('pk_cb_lin.tsv');
    const nk = pm.k_1overMpc.length;
    const xOut = Float64Array.from([...ZS].reverse(), (z) => -Math.log1p(z));
    const solver = createTsit5();
    const errs: string[] = [];
    // CLASS's own k nearest to these (no interpolation on either side)
    for (const target of [1e-3, 0.02, 0.1, 0.3, 1, 3, 9]) {
      let i = 0;
      for (let j = 0; j < nk; j++) if (Math.abs(Math.log(pm.k_1overMpc[j] / H / target)) < Math.abs(Math.log(pm.k_1overMpc[i] / H / target))) i = j;
      const k = pm.k_1overMpc[i];
      const r = solveMode(setup, k, xOut, solver, { rtol: 1e-5, atol: 1e-10, sensitivities: false });
      const prim = (As * Math.pow(k / 0.05, 0.96 - 1) * 2 * Math.PI * Math.PI) / (k * k * k);
      const bound = k / H <= 1 ? 1e-3 : 3e-3;
      ZS.forEach((z, jz) => {
        const ix = xOut.length - 1 - jz;
        const zi = Array.from(pm.z).indexOf(z);
        const em = (prim * r.delta[ix] ** 2) / pm.P_Mpc3[zi * nk + i] - 1;
        const ec = (prim * r.deltaCb![ix] ** 2) / pcb.P_Mpc3[zi * nk + i] - 1;
        if (Math.abs(em) > bound || Math.abs(ec) > bound) errs.push(`k = ${(k / H).toPrecision(3)} h/Mpc, z = ${z}: P_m ${em.toExponential(2)}, P_cb ${ec.toExponential(2)}`);
      });
    }
    expect(errs).toEqual([]);
  });

  test('whole stage (sigma8 = 0.816): P_m and P_cb within 1e-3 at k <= 1 h/Mpc and 3e-3 up to 10 h/Mpc, z = 0..3', { tags: ['slow'] }, async () => {
    const o = await runBoltzmann(MNU, {
      with: { k: { k_min: 1e-4 * H, k_max: 10 * H, per_decade: 60 }, z: { z_max: 3, count: 7, spacing: 'linear' }, output_z: ZS, transfer: { k_max: 6.8 } },
    });
    const d = readDerived(classPath('mnu', 'derived.tsv'));
    expect(Math.abs(o.A_s.v / d.A_s - 1)).toBeLessThan(5e-4); // measured 1.6e-4
    for (const [P, file] of [[o.P_Mpc3.value, 'pk_lin.tsv'], [o.P_cb_Mpc3!.value, 'pk_cb_lin.tsv']] as const) {
      expect(worst(o.k_1overMpc, o.z, P, file, 1e-4, 1)).toBeLessThan(1e-3);
      expect(worst(o.k_1overMpc, o.z, P, file, 1, 10)).toBeLessThan(3e-3);
      expect(worst(o.k_1overMpc, o.z, P, file, 1e-4, 0.01)).toBeLessThan(3e-4);
    }
  });
});

describe('massive neutrinos: outputs and bad input', () => {
  test('pk.tsv gets Pcb_z<z>_Mpc3 columns after the P_z<z>_Mpc3 ones only when m_nu > 0', () => {
    const k = Float64Array.of(0.001, 0.01, 0.1, 1), z = Float64Array.of(0, 1);
    const P = (o: number) => ({ value: Float64Array.from({ length: 8 }, (_, i) => o + i), tangent: null, P: 0 });
    const base = { k_1overMpc: k, z, P_Mpc3: P(1), source: 'boltzmann' };
    const massless = formatBoltzmannPower(base as unknown as BoltzmannPower, z);
    expect(massless.split('\n')[0]).toBe('k_1overMpc\tP_z0_Mpc3\tP_z1_Mpc3');
    const massive = formatBoltzmannPower({ ...base, P_cb_Mpc3: P(11) } as unknown as BoltzmannPower, z);
    const lines = massive.trim().split('\n');
    expect(lines[0]).toBe('k_1overMpc\tP_z0_Mpc3\tP_z1_Mpc3\tPcb_z0_Mpc3\tPcb_z1_Mpc3');
    // row k = 0.001: P(z = 0), P(z = 1), then P_cb(z = 0), P_cb(z = 1) (z-by-k storage)
    expect(lines[1].split('\t').slice(1).map(Number)).toEqual([1, 5, 11, 15]);
  });

  test('m_nu < 0 and N_eff below the massive species\' share are refused naming the parameter', async () => {
    const cfg = configOf<BoltzmannConfig>(boltzmann, {});
    expect(boltzmann.check!(cfg, { params: { ...MNU, m_nu: -0.1 } }).join('\n')).toMatch(/^parameters\.m_nu: -0\.1 is not allowed: .* must be >= 0/);
    expect(boltzmann.check!(cfg, { params: { ...MNU, N_eff: 1 } }).join('\n')).toMatch(
      /^parameters\.N_eff: 1 is below the 1\.013\d* that the 1 massive neutrino species .* count while relativistic/,
    );
    expect(boltzmann.check!(cfg, { params: MNU })).toEqual([]);
    await expect(runBoltzmann({ ...MNU, N_eff: 1 })).rejects.toThrow(/parameters\.N_eff: 1 is below/);
  });
});
