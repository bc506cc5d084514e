import { describe, expect, it } from 'vitest';
import * as A from '../../../core/ad/dual-array.js';
import type { DualArray } from '../../../core/ad/dual-array.js';
import * as D from '../../../core/ad/dual.js';
import type { Dual } from '../../../core/ad/dual.js';
import { centralFD, relDiff } from './fd.js';

const n = 7;
const theta0 = [0.6, 1.3];
const s = Float64Array.from({ length: n }, (_, i) => 0.3 + 0.1 * i);
const c = Float64Array.from({ length: n }, (_, i) => Math.cos(i));

/** x_i(theta) = 1.5 + theta_0 s_i + theta_1^2 c_i, with its analytic tangent (or a constant array). */
function xArr(t: number[], withTangent: boolean): DualArray {
  const value = Float64Array.from({ length: n }, (_, i) => 1.5 + t[0] * s[i] + t[1] * t[1] * c[i] * 0.2);
  if (!withTangent) return A.constArray(value);
  return A.fromBlocks(value, 2, (p, blk) => {
    for (let i = 0; i < n; i++) blk[i] = p === 0 ? s[i] : 0.4 * t[1] * c[i];
  });
}
/** y_i(theta) = 2 + sin(theta_0 i) theta_1 */
function yArr(t: number[], withTangent: boolean): DualArray {
  const value = Float64Array.from({ length: n }, (_, i) => 2 + Math.sin(t[0] * i) * t[1]);
  if (!withTangent) return A.constArray(value);
  return A.fromBlocks(value, 2, (p, blk) => {
    for (let i = 0; i < n; i++) blk[i] = p === 0 ? i * Math.cos(t[0] * i) * t[1] : Math.sin(t[0] * i);
  });
}
const sc = (t: number[], withTangent: boolean): Dual => (withTangent ? { v: t[0] * t[1], d: Float64Array.of(t[1], t[0]) } : D.constant(t[0] * t[1]));

const CASES: [string, (t: number[], w: boolean) => DualArray][] = [
  ['expA', (t, w) => A.expA(xArr(t, w))],
  ['logA', (t, w) => A.logA(xArr(t, w))],
  ['sqrtA', (t, w) => A.sqrtA(xArr(t, w))],
  ['powCA', (t, w) => A.powCA(xArr(t, w), -2.5)],
  ['mapUnary (sin)', (t, w) => A.mapUnary(xArr(t, w), Math.sin, (v) => Math.cos(v))],
  ['axpby', (t, w) => A.axpby(sc(t, w), xArr(t, w), D.constant(-3), yArr(t, w))],
  ['axpby (one array null)', (t, w) => A.axpby(sc(t, w), xArr(t, w), sc(t, w), null)],
  ['addA', (t, w) => A.addA(xArr(t, w), yArr(t, w))],
  ['mulA', (t, w) => A.mulA(xArr(t, w), yArr(t, w))],
  ['divA', (t, w) => A.divA(xArr(t, w), yArr(t, w))],
  ['scaleA', (t, w) => A.scaleA(yArr(t, w), sc(t, w))],
  ['mulConst', (t, w) => A.mulConst(yArr(t, w), c)],
  ['mulA with a constant operand', (t, w) => A.mulA(xArr(t, w), yArr(theta0, false))],
  ['divA with a constant numerator', (t, w) => A.divA(yArr(theta0, false), xArr(t, w))],
];

describe('DualArray ops', () => {
  for (const [name, f] of CASES) {
    it(`${name}: tangent blocks match central finite differences`, () => {
      const r = f(theta0, true);
      expect(r.P).toBe(2);
      const fd = centralFD((t) => f(t, false).value, theta0);
      for (let p = 0; p < 2; p++) expect(relDiff(A.tangentBlock(r, p), fd[p], 1)).toBeLessThan(1e-7);
      // constants in, constant out
      expect(f(theta0, false).tangent).toBeNull();
    });
  }

  it('weightedSum and at give scalar duals matching finite differences', () => {
    const w = Float64Array.from({ length: n }, (_, i) => 1 / (i + 1));
    const ws = A.weightedSum(A.mulA(xArr(theta0, true), yArr(theta0, true)), w);
    const fd = centralFD((t) => Float64Array.of(A.weightedSum(A.mulA(xArr(t, false), yArr(t, false)), w).v), theta0);
    for (let p = 0; p < 2; p++) expect(Math.abs(ws.d![p] - fd[p][0]) / Math.abs(fd[p][0])).toBeLessThan(1e-7);
    const e = A.at(yArr(theta0, true), 3);
    expect(e.v).toBe(2 + Math.sin(theta0[0] * 3) * theta0[1]);
    expect(e.d![1]).toBeCloseTo(Math.sin(theta0[0] * 3), 15);
    expect(A.weightedSum(xArr(theta0, false), w).d).toBeNull();
  });

  it('checks tangent sizes and builds zeros', () => {
    const a = A.zerosDual(3, 2), b = A.zerosDual(3, 4);
    expect(() => A.addA(a, b)).toThrow(/tangent sizes differ \(2 vs 4\)/);
    expect(A.zerosDual(3, 0).tangent).toBeNull();
    expect(Array.from(A.tangentBlock(A.constArray(new Float64Array(3)), 1))).toEqual([0, 0, 0]);
  });
});
