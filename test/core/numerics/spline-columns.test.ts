/**
 * The spline solves of many rows on one grid at once (interleaved columns of a knot-major table, or rows of a
 * row-major one, the rows innermost) against the row solves they replace: the same arithmetic per row, so the
 * same numbers to the last bit; and their transposes.
 */
import { describe, expect, it } from 'vitest';
import { solveSecondDerivs, solveSecondDerivsColumns, solveSecondDerivsMany, splineFactor, type SplineBC } from '../../../core/numerics/spline.js';
import { secondDerivsAdjoint, secondDerivsAdjointColumns, secondDerivsAdjointMany } from '../../../core/ad/interp-adjoint.js';

const cases: [SplineBC, number][] = [['natural', 2], ['natural', 3], ['natural', 9], ['not-a-knot', 4], ['not-a-knot', 5], ['not-a-knot', 37]];

describe('spline solves on interleaved columns', () => {
  for (const [bc, n] of cases)
    it(`${bc}, ${n} knots, 7 columns: bit-identical to the row solves, and so is the transpose`, () => {
      const C = 7;
      const x = Float64Array.from({ length: n }, (_, i) => i + 0.3 * Math.sin(i));
      const f = splineFactor(x, bc);
      const y = Float64Array.from({ length: n * C }, (_, i) => Math.cos(0.37 * i) + 0.01 * i);
      const m = new Float64Array(n * C).fill(NaN);
      solveSecondDerivsColumns(f, y, 0, C, m, 0);
      const row = new Float64Array(n), mrow = new Float64Array(n);
      for (let c = 0; c < C; c++) {
        for (let i = 0; i < n; i++) row[i] = y[i * C + c];
        solveSecondDerivs(f, row, 0, mrow, 0);
        for (let i = 0; i < n; i++) expect(m[i * C + c]).toBe(mrow[i]);
      }
      // transpose: ybar += M^T mbar, column by column
      const mbar = Float64Array.from({ length: n * C }, (_, i) => Math.sin(1.1 * i));
      const ybar = Float64Array.from({ length: n * C }, (_, i) => 0.5 * i);
      const want = ybar.slice();
      for (let c = 0; c < C; c++) {
        const mb = new Float64Array(n), yb = new Float64Array(n);
        for (let i = 0; i < n; i++) { mb[i] = mbar[i * C + c]; yb[i] = want[i * C + c]; }
        secondDerivsAdjoint(f, mb, 0, yb, 0);
        for (let i = 0; i < n; i++) want[i * C + c] = yb[i];
      }
      secondDerivsAdjointColumns(f, mbar, 0, C, ybar, 0);
      expect(Array.from(ybar)).toEqual(Array.from(want));
      // the same table stored row-major (row c at c * n), at an offset
      const yr = new Float64Array(3 + n * C), mr = new Float64Array(2 + n * C);
      for (let c = 0; c < C; c++) for (let i = 0; i < n; i++) yr[3 + c * n + i] = y[i * C + c];
      solveSecondDerivsMany(f, yr, 3, C, 1, n, mr, 2);
      for (let c = 0; c < C; c++) for (let i = 0; i < n; i++) expect(mr[2 + c * n + i]).toBe(m[i * C + c]);
      const mbr = new Float64Array(n * C), ybr = new Float64Array(n * C);
      for (let c = 0; c < C; c++) for (let i = 0; i < n; i++) { mbr[c * n + i] = Math.sin(1.1 * (i * C + c)); ybr[c * n + i] = 0.5 * (i * C + c); }
      secondDerivsAdjointMany(f, mbr, 0, C, 1, n, ybr, 0);
      for (let c = 0; c < C; c++) for (let i = 0; i < n; i++) expect(ybr[c * n + i]).toBe(ybar[i * C + c]);
    });
});
