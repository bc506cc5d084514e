import { describe, expect, it } from 'vitest';
import * as D from '../../../core/ad/dual.js';
import type { Dual } from '../../../core/ad/dual.js';
import { centralFD } from './fd.js';

const theta0 = [0.8, 1.7];
const seeds = (t: number[]): Dual[] => t.map((v, p) => D.seed(v, p, t.length));

/** Each case: a scalar function of two parameters written with Dual ops. */
const CASES: [string, (a: Dual, b: Dual) => Dual][] = [
  ['add', (a, b) => D.add(a, b)],
  ['sub', (a, b) => D.sub(a, D.scale(b, 3))],
  ['mul', (a, b) => D.mul(a, D.mul(b, b))],
  ['div', (a, b) => D.div(D.addC(a, 2), b)],
  ['neg, recip', (a, b) => D.neg(D.recip(D.mul(a, b), 2))],
  ['exp, log', (a, b) => D.mul(D.exp(a), D.log(b))],
  ['sqrt, powC', (a, b) => D.add(D.sqrt(D.mul(a, b)), D.powC(b, -1.5))],
  ['pow', (a, b) => D.pow(b, a)],
  ['chain (sin)', (a, b) => D.chain(D.mul(a, b), Math.sin(a.v * b.v), Math.cos(a.v * b.v))],
];

describe('Dual', () => {
  for (const [name, f] of CASES) {
    it(`${name}: tangents match central finite differences`, () => {
      const [a, b] = seeds(theta0);
      const r = f(a, b);
      const fd = centralFD((t) => Float64Array.of(f(D.constant(t[0]), D.constant(t[1])).v), theta0);
      for (let p = 0; p < 2; p++) expect(Math.abs(D.tangentOf(r, p) - fd[p][0]) / Math.max(1, Math.abs(fd[p][0]))).toBeLessThan(1e-7);
    });
  }

  it('constants carry no tangent and mixed constant/dual works', () => {
    expect(D.mul(D.constant(2), D.constant(3)).d).toBeNull();
    expect(D.exp(D.constant(1)).d).toBeNull();
    const x = D.seed(2, 1, 3);
    const r = D.mul(D.constant(5), x);
    expect(Array.from(r.d!)).toEqual([0, 5, 0]);
    expect(D.seed(1, -1, 3).d).toBeNull();
    expect(D.tangentOf(D.constant(1), 0)).toBe(0);
  });
});
