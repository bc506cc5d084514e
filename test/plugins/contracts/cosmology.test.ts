/**
 * The cosmology contract (plugins/contracts/cosmology.ts): derived quantities against hand formulas, their
 * tangents against central finite differences, the dependency table (which parameters a quantity brings into a
 * stage's reads), the range and cross-field checks and their messages, per-context caching, the reverse-mode
 * helper, and the stages' reads as the contract gives them.
 */
import { describe, expect, test } from 'vitest';
import { seed } from '../../../core/ad/dual.js';
import {
  COSMOLOGY_PARAMETERS, COSMOLOGY_PARAMETER_NAMES, type CosmoParameter, type CosmoQuantity, DERIVED_QUANTITIES,
  DERIVED_QUANTITY_NAMES, UR_PER_NEFF, cosmologyFrom, cosmologyOf, cosmologyParameterBars, cosmologyProblems, cosmologyReads,
  omegaGammaH2, parametersOf, seededCosmology,
} from '../../../plugins/contracts/cosmology.js';
import { fermiDiracQuadrature } from '../../../plugins/contracts/neutrinos.js';
import { w0waBackground } from '../../../plugins/background/w0wa.js';
import { eisensteinHu } from '../../../plugins/linear-power/eisenstein-hu.js';
import { boltzmann } from '../../../plugins/linear-power/boltzmann.js';
import { recfastRecombination } from '../../../plugins/recombination/recfast.js';
import { halofit } from '../../../plugins/nonlinear-power/halofit.js';
import { configOf } from '../../support/harness.js';

/** A non-fiducial point, so that no derivative vanishes by accident (Omega_k != 0, w != -1). */
const POINT: Record<CosmoParameter, number> = {
  h: 0.7, Omega_m: 0.31, Omega_b: 0.048, Omega_k: 0.02, w0: -0.9, wa: 0.2, T_cmb: 2.7, N_eff: 3.2, n_s: 0.97,
  sigma8: 0.8, A_s: 2.2e-9, tau_reio: 0.06, z_reio: 8, YHe: 0.25, m_nu: 0.1,
};

describe('derived quantities: values against the formulas', () => {
  const c = cosmologyFrom(POINT);
  const { h, Omega_m, Omega_b, Omega_k, T_cmb, N_eff } = POINT;
  // Omega_gamma h^2 = (4 sigma_B / c) T^4 / (3 H100^2 c^2 / 8 pi G), with CLASS's constants written out here
  const sigmaB = (2 * Math.PI ** 5 * 1.3806504e-23 ** 4) / (15 * 6.62606896e-34 ** 3 * 2.99792458e8 ** 2);
  const H100 = 1e5 / 3.085677581282e22;
  const og2 = (4 * sigmaB * T_cmb ** 4) / 2.99792458e8 / ((3 * 2.99792458e8 ** 2 * H100 ** 2) / (8 * Math.PI * 6.67428e-11));
  const Og = og2 / h ** 2;
  // one massive species at T_ncdm = 0.71611 T_cmb takes (0.71611/(4/11)^(1/3))^4 of N_eff; its density from the
  // Fermi-Dirac quadrature (not the table): (7/8) 0.71611^4 Omega_g F(m/(k_B T_ncdm))
  const Our = (N_eff - (0.71611 / Math.cbrt(4 / 11)) ** 4) * (7 / 8) * (4 / 11) ** (4 / 3) * Og;
  const fd = new Float64Array(4);
  fermiDiracQuadrature(POINT.m_nu / ((1.3806504e-23 / 1.602176487e-19) * 0.71611 * T_cmb), fd);
  const Onu = (7 / 8) * 0.71611 ** 4 * Og * fd[0];
  const expected: Record<string, number> = {
    H0: h / 2997.92458,
    omega_b: Omega_b * h * h,
    omega_m: Omega_m * h * h,
    Omega_nu: Onu,
    Omega_cdm: Omega_m - Omega_b - Onu,
    omega_cdm: (Omega_m - Omega_b - Onu) * h * h,
    Omega_g: Og,
    Omega_ur: Our,
    Omega_r: Og + Our,
    Omega_de: 1 - Omega_m - Og - Our - Omega_k,
  };
  test.each(DERIVED_QUANTITY_NAMES.map((q) => [q]))('%s', (q) => {
    const got = c[q as CosmoQuantity].v;
    if (expected[q] === 0) expect(got).toBe(0);
    else expect(Math.abs(got / expected[q] - 1)).toBeLessThan(q === 'Omega_nu' ? 1e-10 : 3e-13); // the table: 3e-11; Omega_cdm: a difference
  });

  test('Omega_g and Omega_ur at h = 0.67, T_cmb = 2.7255 K, N_eff = 3.046 are CLASS\'s (derived.tsv), and so is Omega_Lambda', () => {
    const fid = cosmologyFrom({});
    expect(Math.abs(fid.Omega_g.v / 5.50897589856e-5 - 1)).toBeLessThan(1e-10);
    expect(Math.abs(fid.Omega_ur.v / 3.81093814014e-5 - 1)).toBeLessThan(1e-10);
    expect(Math.abs(fid.Omega_de.v - 0.67990680086)).toBeLessThan(1e-11);
    expect(Math.abs(fid.H0.v / 0.000223487943783 - 1)).toBeLessThan(1e-11);
    expect(omegaGammaH2(2.7255) / 0.67 ** 2).toBe(fid.Omega_g.v);
    expect(UR_PER_NEFF).toBeCloseTo(0.2271, 4);
  });

  test('parameters pass through unchanged, defaults fill what is not given', () => {
    for (const p of COSMOLOGY_PARAMETER_NAMES) expect(c[p].v).toBe(POINT[p]);
    const d = cosmologyFrom({ h: 0.7 });
    expect(d.h.v).toBe(0.7);
    expect(d.Omega_m.v).toBe(COSMOLOGY_PARAMETERS.Omega_m.default);
  });
});

describe('tangents of every derived quantity against central finite differences', () => {
  test.each(DERIVED_QUANTITY_NAMES.map((q) => [q]))('%s', (q) => {
    const params = parametersOf([q]);
    const c = seededCosmology(POINT, params);
    const x = c[q as CosmoQuantity];
    for (const [j, p] of params.entries()) {
      const step = 1e-6 * Math.abs(POINT[p]);
      const at = (dx: number) => cosmologyFrom({ ...POINT, [p]: POINT[p] + dx })[q as CosmoQuantity].v;
      const fd = (at(step) - at(-step)) / (2 * step);
      const ad = x.d![j];
      expect(Math.abs(ad - fd), `d${q}/d${p}: AD ${ad}, FD ${fd}`).toBeLessThanOrEqual(1e-8 * Math.max(Math.abs(fd), Math.abs(x.v / POINT[p])));
    }
    // and every parameter it does not depend on has no tangent
    const all = seededCosmology(POINT, COSMOLOGY_PARAMETER_NAMES);
    COSMOLOGY_PARAMETER_NAMES.forEach((p, j) => {
      if (!params.includes(p)) expect(all[q as CosmoQuantity].d?.[j] ?? 0, `d${q}/d${p}`).toBe(0);
    });
  });
});

describe('the dependency table', () => {
  test('Omega_cdm reads Omega_m and Omega_b (and, through Omega_nu, whatever Omega_nu will depend on)', () => {
    expect(DERIVED_QUANTITIES.Omega_cdm.from).toEqual(expect.arrayContaining(['Omega_m', 'Omega_b', 'Omega_nu']));
    expect(Object.keys(cosmologyReads(['Omega_cdm']))).toEqual(['h', 'Omega_m', 'Omega_b', 'T_cmb', 'm_nu']);
    expect(parametersOf(['Omega_nu'])).toEqual(['h', 'T_cmb', 'm_nu']);
  });

  test('transitive closure: Omega_de -> Omega_r -> Omega_g, Omega_ur -> h, T_cmb, N_eff', () => {
    expect(parametersOf(['Omega_de'])).toEqual(['h', 'Omega_m', 'Omega_k', 'T_cmb', 'N_eff', 'm_nu']);
    expect(parametersOf(['Omega_ur'])).toEqual(['h', 'T_cmb', 'N_eff', 'm_nu']);
    expect(parametersOf(['omega_cdm'])).toEqual(['h', 'Omega_m', 'Omega_b', 'T_cmb', 'm_nu']);
    expect(parametersOf(['H0', 'n_s'])).toEqual(['h', 'n_s']);
  });

  test('cosmologyReads gives the one declaration of each parameter', () => {
    const r = cosmologyReads(['omega_b', 'sigma8']);
    expect(r).toEqual({ h: COSMOLOGY_PARAMETERS.h, Omega_b: COSMOLOGY_PARAMETERS.Omega_b, sigma8: COSMOLOGY_PARAMETERS.sigma8 });
    expect(r.h).toBe(COSMOLOGY_PARAMETERS.h);
  });

  test('every derived quantity depends only on declared quantities, without cycles', () => {
    for (const q of DERIVED_QUANTITY_NAMES) expect(() => parametersOf([q])).not.toThrow();
    expect(() => parametersOf(['Omega_x' as CosmoQuantity])).toThrow(/unknown quantity "Omega_x"/);
  });

  test('the stages\' reads are what the contract gives for the quantities they use', () => {
    const reads = (p: { reads: unknown; configSchema: object }, w: Record<string, unknown> = {}) =>
      Object.keys(typeof p.reads === 'function' ? p.reads(configOf(p as never, w)) : (p.reads as object)).sort();
    const sorted = (xs: string[]) => [...xs].sort();
    expect(reads(w0waBackground)).toEqual(sorted(['h', 'Omega_m', 'Omega_b', 'Omega_k', 'w0', 'wa', 'T_cmb', 'N_eff', 'm_nu']));
    expect(reads(eisensteinHu)).toEqual(sorted(['h', 'Omega_m', 'Omega_b', 'T_cmb', 'n_s', 'sigma8', 'm_nu']));
    expect(reads(halofit)).toEqual(sorted(['w0', 'wa', 'h', 'T_cmb', 'm_nu']));
    expect(reads(recfastRecombination)).toEqual(sorted(['h', 'Omega_m', 'Omega_b', 'Omega_k', 'w0', 'wa', 'T_cmb', 'N_eff', 'tau_reio', 'm_nu']));
    expect(reads(recfastRecombination, { helium: { source: 'parameter' }, reionization: { input: 'z_reio' } }))
      .toEqual(sorted(['h', 'Omega_m', 'Omega_b', 'Omega_k', 'w0', 'wa', 'T_cmb', 'N_eff', 'z_reio', 'YHe', 'm_nu']));
    expect(reads(boltzmann)).toEqual(sorted(['h', 'Omega_m', 'Omega_b', 'Omega_k', 'w0', 'wa', 'T_cmb', 'N_eff', 'n_s', 'sigma8', 'tau_reio', 'm_nu']));
    expect(reads(boltzmann, { normalization: 'A_s' })).toContain('A_s');
    // the specs are the contract's objects, not copies with drifting descriptions
    const bgReads = w0waBackground.reads as Record<string, unknown>;
    expect(bgReads.Omega_b).toBe(COSMOLOGY_PARAMETERS.Omega_b);
  });
});

describe('range and cross-field checks', () => {
  test('ranges: the planner\'s wording with the parameter\'s meaning', () => {
    expect(cosmologyProblems({ h: 0 }, ['H0'])).toEqual([expect.stringMatching(/^parameters\.h: 0 is not allowed: h \(dimensionless Hubble constant.*must be >= 0\.1 \(allowed: 0\.1 <= h <= 2\)$/)]);
    expect(cosmologyProblems({ T_cmb: -1 }, ['Omega_r'])[0]).toMatch(/^parameters\.T_cmb: -1 .*, K\) must be > 0/);
    expect(cosmologyProblems({ N_eff: NaN }, ['Omega_r'])[0]).toMatch(/^parameters\.N_eff: NaN is not a finite number/);
    // a parameter outside what the quantities depend on is not checked
    expect(cosmologyProblems({ h: 0 }, ['Omega_m'])).toEqual([]);
  });

  test('Omega_b <= Omega_m for a stage whose quantities involve Omega_cdm, named parameters.Omega_b', () => {
    const m = cosmologyProblems({ Omega_b: 0.4, Omega_m: 0.32 }, ['Omega_cdm']);
    expect(m).toEqual([expect.stringMatching(/^parameters\.Omega_b: 0\.4 exceeds parameters\.Omega_m = 0\.32; .*Omega_b <= Omega_m is required/)]);
    expect(cosmologyProblems({ Omega_b: 0.4, Omega_m: 0.32 }, ['omega_cdm'])).toHaveLength(1); // through the table
    expect(cosmologyProblems({ Omega_b: 0.4, Omega_m: 0.32 }, ['omega_b', 'Omega_m'])).toEqual([]); // not involved
    expect(cosmologyProblems({ Omega_b: 0.32, Omega_m: 0.32 }, ['Omega_cdm'])).toEqual([]); // no CDM is allowed ...
    expect(cosmologyProblems({ Omega_b: 0.32, Omega_m: 0.32 }, ['Omega_cdm'], { Omega_cdm_positive: 'for X' })) // ... unless required
      .toEqual([expect.stringMatching(/^parameters\.Omega_b: 0\.32 must be smaller than parameters\.Omega_m = 0\.32 \(Omega_cdm = .* must be > 0 for X\)$/)]);
  });

  test('requirements a stage adds: Omega_b > 0, Omega_de > 0, no massive neutrinos', () => {
    expect(cosmologyProblems({ Omega_b: 0 }, ['Omega_b'], { Omega_b_positive: 'for recombination' }))
      .toEqual(['parameters.Omega_b: 0 must be > 0 for recombination']);
    expect(cosmologyProblems({ Omega_b: 0 }, ['Omega_b'])).toEqual([]);
    const de = cosmologyProblems({ Omega_m: 0.8, Omega_k: 0.3 }, ['Omega_de'], { Omega_de_positive: 'for Y' });
    expect(de).toEqual([expect.stringMatching(/^parameters\.Omega_m: Omega_de = 1 - Omega_m - Omega_r - Omega_k = -0\.1\d* must be > 0 for Y \(Omega_m = 0\.8, Omega_k = 0\.3\)$/)]);
    expect(cosmologyProblems({}, ['Omega_nu'], { no_massive_neutrinos: 'here' })).toEqual([]); // m_nu = 0: Omega_nu = 0
    expect(cosmologyProblems({ m_nu: 0.06 }, ['Omega_nu'], { no_massive_neutrinos: 'here' }))
      .toEqual([expect.stringMatching(/^parameters\.m_nu: 0\.06 eV \(Omega_nu = 0\.00143507\): massive neutrinos are not modelled here here; m_nu = 0 is required$/)]);
  });

  test('massive neutrinos: m_nu >= 0, N_eff at least the massive species\' share', () => {
    expect(cosmologyProblems({ m_nu: -0.1 }, ['Omega_nu'])[0]).toMatch(/^parameters\.m_nu: -0\.1 is not allowed: m_nu \(sum of the neutrino masses.*, eV\) must be >= 0 \(allowed: 0 <= m_nu <= 10\)$/);
    expect(cosmologyProblems({ m_nu: 0.06, N_eff: 0.5 }, ['Omega_r'])[0])
      .toMatch(/^parameters\.N_eff: 0\.5 is below the 1\.0132 that the 1 massive neutrino species .* N_eff >= 1\.0132 is required/);
    expect(cosmologyProblems({ m_nu: 0.06, N_eff: 2 }, ['Omega_r'], {}, { species: 3, T_ncdm: 0.71611 })[0])
      .toMatch(/^parameters\.N_eff: 2 is below the 3\.039\d* that the 3 massive/);
    expect(cosmologyProblems({ m_nu: 0, N_eff: 0.5 }, ['Omega_r'])).toEqual([]); // no massive species
    // Omega_m counts them: Omega_b + Omega_nu > Omega_m is refused, naming both
    expect(cosmologyProblems({ m_nu: 5, Omega_b: 0.05, Omega_m: 0.15 }, ['Omega_cdm'])[0]).toMatch(/^parameters\.Omega_b: 0\.05 \+ Omega_nu = 0\.11\d* exceeds parameters\.Omega_m = 0\.15/);
  });

  test('ranges first: no cross-check on values that are out of range', () => {
    expect(cosmologyProblems({ Omega_b: -0.1, Omega_m: -0.2 }, ['Omega_cdm']).every((m) => /is not allowed/.test(m))).toBe(true);
  });
});

describe('the cosmology of a stage context', () => {
  const ctx = (reads: string[], values: Record<string, number> = {}, vary: string[] = []) => {
    let calls = 0;
    return {
      stage: 'toy',
      calls: () => calls,
      param(name: string) {
        if (!reads.includes(name)) throw new Error(`asked for parameter "${name}" without declaring it in reads`);
        calls++;
        return seed(values[name] ?? COSMOLOGY_PARAMETERS[name as CosmoParameter].default, vary.indexOf(name), vary.length);
      },
    };
  };

  test('computed once per context: the same Dual objects, each parameter read once', () => {
    const x = ctx(['h', 'Omega_m', 'Omega_k', 'T_cmb', 'N_eff', 'm_nu'], {}, ['h']);
    const a = cosmologyOf(x), b = cosmologyOf(x);
    expect(a).toBe(b);
    expect(a.Omega_de).toBe(b.Omega_de);
    for (const q of ['Omega_r', 'H0', 'Omega_de'] as const) a.get(q);
    expect(x.calls()).toBe(6);
    expect(a.Omega_de.d![0]).toBeCloseTo(-2 * -a.Omega_r.v / 0.67, 12); // dOmega_de/dh = 2 Omega_r / h
    expect(cosmologyOf(ctx(['h'])).h).not.toBe(a.h); // another context, another cosmology
  });

  test('a quantity whose parameters the stage does not read is an error naming it and cosmologyReads', () => {
    const c = cosmologyOf(ctx(['h', 'Omega_m']));
    expect(() => c.Omega_cdm).toThrow(/^stage "toy": the cosmology quantity Omega_cdm \(.*\) needs the parameters h, Omega_m, Omega_b, T_cmb, m_nu; Omega_b: .*list Omega_cdm in the stage's cosmologyReads/);
    // named by the quantity asked for, not by an intermediate one (Omega_de -> Omega_r -> Omega_g -> T_cmb)
    expect(() => c.Omega_de).toThrow(/^stage "toy": the cosmology quantity Omega_de .* needs the parameters h, Omega_m, Omega_k, T_cmb, N_eff, m_nu; T_cmb: .*list Omega_de in/);
    expect(() => c.n_s).toThrow(/^stage "toy": n_s: asked for parameter "n_s".*cosmologyReads/);
    expect(c.H0.v).toBeCloseTo(0.67 / 2997.92458, 15);
  });
});

describe('reverse mode: bars of quantities -> bars of parameters', () => {
  test('equals the transposed Jacobian of the quantities (forward tangents), for every parameter behind them', () => {
    const bars: Partial<Record<CosmoQuantity, number>> = { Omega_cdm: 0.3, Omega_de: -1.2, H0: 50, omega_b: 2, Omega_ur: 7, w0: 0.5 };
    const got = cosmologyParameterBars(POINT, bars);
    const names = parametersOf(Object.keys(bars) as CosmoQuantity[]);
    expect(Object.keys(got)).toEqual(names);
    const c = seededCosmology(POINT, names);
    names.forEach((p, j) => {
      let want = 0;
      for (const [q, b] of Object.entries(bars)) want += b * (c[q as CosmoQuantity].d?.[j] ?? 0);
      expect(got[p]).toBeCloseTo(want, 12);
    });
    // by hand: Omega_m gets Omega_cdm's bar minus Omega_de's
    expect(got.Omega_m).toBeCloseTo(0.3 + 1.2, 12);
    expect(got.Omega_b).toBeCloseTo(-0.3 + 2 * POINT.h ** 2, 12);
  });
});
