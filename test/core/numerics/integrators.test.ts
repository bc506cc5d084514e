import { describe, expect, it } from 'vitest';
import type { Integrator, QuadratureRule } from '../../../core/numerics/integrator.js';
import { newtonCotesRule } from '../../../core/numerics/newton-cotes.js';
import { rombergCoefficients, rombergRule } from '../../../core/numerics/romberg.js';
import { integratorPlugins } from '../../../plugins/integrator/index.js';

const byName = (name: string) => integratorPlugins.find((p) => p.id === `integrator/${name}`)!;
const make = (name: string, config: Record<string, unknown> = {}) => byName(name).create(config) as Integrator;
const apply = (r: QuadratureRule, f: (t: number) => number) => {
  let s = 0;
  for (let i = 0; i < r.x.length; i++) s += r.w[i] * f(r.x[i]);
  return s;
};
const vec = (f: (t: number) => number) => (x: Float64Array, out: Float64Array) => {
  for (let i = 0; i < x.length; i++) out[i] = f(x[i]);
};
const orders = (e: number[]) => e.slice(1).map((v, i) => Math.log2(e[i] / v));

/** Smooth test integrals with closed forms. */
const CASES: [string, (t: number) => number, number, number, number][] = [
  ['exp on [0,1]', Math.exp, 0, 1, Math.E - 1],
  ['1/(1+x^2) on [0,1]', (t) => 1 / (1 + t * t), 0, 1, Math.PI / 4],
  ['cos on [0,pi/2]', Math.cos, 0, Math.PI / 2, 1],
];

describe('integrator plugins', () => {
  it('are MethodPlugins with schema defaults', () => {
    expect(integratorPlugins.map((p) => p.id).sort()).toEqual(['integrator/gauss-legendre', 'integrator/newton-cotes', 'integrator/romberg']);
    for (const p of integratorPlugins) {
      expect(p.apiVersion).toBe(1);
      expect(p.kind).toBe('integrator');
      const props = (p.configSchema as { properties: Record<string, { default?: unknown; description?: string }> }).properties;
      for (const [k, v] of Object.entries(props)) {
        // rtol alone has no schema default: a bound config names it only when the pipeline does (Integrator.rtolGiven;
        // test/core/numerics/integrator-rtol.test.ts); create() applies the default below
        if (k === 'rtol') expect(v.default, `${p.id} ${k}`).toBeUndefined();
        else expect(v.default, `${p.id} ${k}`).toBeDefined();
        expect(v.description, `${p.id} ${k}`).toBeTruthy();
      }
    }
    expect(make('newton-cotes').rtol).toBe(1e-8);
    expect(make('romberg').rtol).toBe(1e-8);
    expect(make('gauss-legendre').rtol).toBe(1e-10);
  });

  for (const [name, config] of [
    ['newton-cotes', { rule: 'simpson', rtol: 1e-13 }],
    ['newton-cotes', { rule: 'boole', rtol: 1e-13 }],
    ['romberg', { rtol: 1e-13 }],
    ['gauss-legendre', { rtol: 1e-13 }],
  ] as const) {
    it(`${name} ${JSON.stringify(config)} reaches 1e-12 relative on smooth integrals`, () => {
      const I = make(name, config);
      for (const [label, f, a, b, exact] of CASES) {
        expect(Math.abs(I.integrate(f, a, b) - exact) / exact, label).toBeLessThan(1e-12);
        const rule = I.adaptRule(vec(f), a, b);
        expect(Math.abs(apply(rule, f) - exact) / exact, label).toBeLessThan(1e-12);
        // reversed limits give the negative
        expect(I.integrate(f, b, a)).toBeCloseTo(-exact, 11);
      }
    });
  }

  it('trapezoid reaches its (looser) tolerance', () => {
    const I = make('newton-cotes', { rule: 'trapezoid', rtol: 1e-9 });
    for (const [label, f, a, b, exact] of CASES) expect(Math.abs(I.integrate(f, a, b) - exact) / exact, label).toBeLessThan(1e-8);
  });

  it('observed orders of the fixed rules: trapezoid 2, Simpson 4, Boole 6', () => {
    const f = (t: number) => Math.exp(2 * t);
    const exact = (Math.exp(2) - 1) / 2;
    for (const [rule, p] of [['trapezoid', 2], ['simpson', 4], ['boole', 6]] as const) {
      const I = make('newton-cotes', { rule, minPanels: 1 });
      const e = [1, 2, 3, 4].map((l) => Math.abs(apply(I.fixedRule(0, 1, l), f) - exact));
      for (const o of orders(e)) expect(Math.abs(o - p), `${rule} order ${o}`).toBeLessThan(0.1);
    }
  });

  it('Romberg level k has observed order 2k+2 and is exact for degree 2k+1', () => {
    const f = (t: number) => Math.exp(2 * t);
    const exact = (Math.exp(2) - 1) / 2;
    for (let k = 0; k <= 3; k++) {
      const e = [1, 2, 4].map((N) => Math.abs(apply(rombergRule(0, 1, k, N), f) - exact));
      for (const o of orders(e)) expect(Math.abs(o - (2 * k + 2)), `k=${k} order ${o}`).toBeLessThan(0.15);
      const deg = 2 * k + 1; // int_0^1 t^deg = 1/(deg+1); degree 2k+2 is not exact
      expect(apply(rombergRule(0, 1, k), (t) => t ** deg)).toBeCloseTo(1 / (deg + 1), 14);
      expect(Math.abs(apply(rombergRule(0, 1, k), (t) => t ** (deg + 1)) - 1 / (deg + 2))).toBeGreaterThan(1e-6);
    }
    // R(1,1) is Simpson and R(2,2) is Boole: same weights
    for (const [k, rule] of [[1, 'simpson'], [2, 'boole']] as const) {
      const r = rombergRule(0, 2, k, 3), s = newtonCotesRule(rule, 0, 2, 3);
      for (let i = 0; i < r.w.length; i++) expect(r.w[i]).toBeCloseTo(s.w[i], 14);
    }
    let sum = 0;
    for (const c of rombergCoefficients(5)) sum += c;
    expect(sum).toBeCloseTo(1, 14); // consistent: integrates constants exactly
  });

  it('Gauss-Legendre fixedRule is exact for degree 2n-1 and converges exponentially in the order', () => {
    const I = make('gauss-legendre', { order: 6 });
    const r = I.fixedRule(0, 2, 0);
    expect(r.x.length).toBe(6);
    expect(apply(r, (t) => t ** 11)).toBeCloseTo(2 ** 12 / 12, 10);
    const errs = [2, 3, 4, 5, 6].map((n) => Math.abs(apply(make('gauss-legendre', { order: n }).fixedRule(0, 1, 0), Math.exp) - (Math.E - 1)));
    // exponential: each added node gains more than a factor 20 (an algebraic rate would slow down)
    for (let i = 1; i < errs.length; i++) expect(errs[i] / errs[i - 1]).toBeLessThan(1 / 20);
    expect(I.fixedRule(0, 1, 3).x.length).toBe(48);
  });

  it('adaptRule converges for a zero integral (roundoff floor) and honours atol', () => {
    for (const name of ['newton-cotes', 'romberg', 'gauss-legendre']) {
      const I = make(name);
      expect(Math.abs(apply(I.adaptRule(vec(Math.sin), -1, 1), Math.sin))).toBeLessThan(1e-12);
      const loose = I.adaptRule(vec(Math.exp), 0, 1, 1e-3);
      const tight = I.adaptRule(vec(Math.exp), 0, 1);
      expect(loose.x.length).toBeLessThanOrEqual(tight.x.length);
    }
  });

  it('throws a clear error when it cannot converge or the integrand is not finite', () => {
    const sq = vec(Math.sqrt);
    expect(() => make('gauss-legendre', { rtol: 1e-13, maxPanels: 4 }).adaptRule(sq, 0, 1)).toThrow(
      /integrator\/gauss-legendre: no convergence to rtol=1e-13 .*maxPanels=4.*relative/,
    );
    expect(() => make('romberg', { rtol: 1e-14, maxLevel: 6 }).adaptRule(sq, 0, 1)).toThrow(/integrator\/romberg: no convergence.*maxLevel=6 \(65 points\)/);
    expect(() => make('newton-cotes', { rtol: 1e-14, maxPanels: 64 }).adaptRule(sq, 0, 1)).toThrow(/integrator\/newton-cotes \(simpson\).*maxPanels=64/);
    expect(() => make('romberg').integrate((t) => 1 / t, 0, 1)).toThrow(/integrand is Infinity at x = 0/);
    expect(() => make('gauss-legendre').integrate(() => NaN, 0, 1)).toThrow(/integrand is NaN/);
  });

  it('rejects bad config naming the field', () => {
    expect(() => make('romberg', { rtol: -1 })).toThrow(/with\.rtol must be a number in \(0, 1\]/);
    expect(() => make('romberg', { maxLevel: 50 })).toThrow(/with\.maxLevel/);
    expect(() => make('gauss-legendre', { order: 2.5 })).toThrow(/with\.order must be an integer/);
    expect(() => make('newton-cotes', { rule: 'midpoint' })).toThrow(/with\.rule must be one of trapezoid, simpson, boole/);
    expect(() => make('newton-cotes', { minPanels: 8, maxPanels: 8 })).toThrow(/maxPanels .* at least twice/);
  });
});
