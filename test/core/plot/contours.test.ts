/**
 * contours.ts (d3-contour) on an analytic correlated 2-D Gaussian: the highest-density level of a mass p is
 * (1 - p) x the peak density, the contour is the ellipse of Mahalanobis radius^2 -2 ln(1 - p), and the
 * Gaussian mass it encloses (integrated exactly over the contour polygon) is p; and from a histogram of
 * samples, the 68% contour holds 68% of them.
 */
import { describe, expect, it } from 'vitest';
import { contourLines, contourPathData, histogram2d, massContours, massLevels } from '../../../core/plot/index.js';

const MX = 1, MY = -2, SX = 0.3, SY = 2, RHO = 0.7;
const DET = SX * SX * SY * SY * (1 - RHO * RHO);
const PEAK = 1 / (2 * Math.PI * Math.sqrt(DET));

/** Whitened coordinates: the Mahalanobis distance is their Euclidean norm. */
function whiten(x: number, y: number): [number, number] {
  const u = (x - MX) / SX, w = (y - MY) / SY;
  return [u, (w - RHO * u) / Math.sqrt(1 - RHO * RHO)];
}
const maha2 = (x: number, y: number) => { const [a, b] = whiten(x, y); return a * a + b * b; };
const pdf = (x: number, y: number) => PEAK * Math.exp(-0.5 * maha2(x, y));

/**
 * Gaussian mass inside a closed ring around the mean: (1/2pi) times the integral of 1 - exp(-r^2/2) over
 * the polar angle, edge by edge in whitened coordinates (5-point Gauss-Legendre per edge).
 */
function enclosedMass(ring: [number, number][]): number {
  const gx = [-0.906179845938664, -0.538469310105683, 0, 0.538469310105683, 0.906179845938664];
  const gw = [0.236926885056189, 0.478628670499366, 0.568888888888889, 0.478628670499366, 0.236926885056189];
  let acc = 0;
  for (let k = 0; k + 1 < ring.length; k++) {
    const [ax, ay] = whiten(...ring[k]), [bx, by] = whiten(...ring[k + 1]);
    const ex = bx - ax, ey = by - ay;
    for (let q = 0; q < 5; q++) {
      const t = 0.5 * (gx[q] + 1);
      const px = ax + t * ex, py = ay + t * ey, r2 = px * px + py * py;
      acc += 0.5 * gw[q] * (1 - Math.exp(-0.5 * r2)) * ((px * ey - py * ex) / r2);
    }
  }
  return Math.abs(acc) / (2 * Math.PI);
}

function gaussianGrid(n: number) {
  const x = Float64Array.from({ length: n }, (_, i) => MX - 5 * SX + (10 * SX * i) / (n - 1));
  const y = Float64Array.from({ length: n }, (_, j) => MY - 5 * SY + (10 * SY * j) / (n - 1));
  const z = new Float64Array(n * n);
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) z[j * n + i] = pdf(x[i], y[j]);
  return { x, y, z };
}

describe('contours of a gridded density (d3-contour)', () => {
  const grid = gaussianGrid(121); // +-5 sigma, 12 points per sigma

  it('the exact enclosed-mass integral is right for exact ellipses', () => {
    // sanity check of the test's own integrator: the ellipse of Mahalanobis radius r holds 1 - exp(-r^2/2)
    for (const r of [1, 1.515, 2.486]) {
      const ring: [number, number][] = [];
      for (let k = 0; k <= 720; k++) {
        const t = (2 * Math.PI * k) / 720, a = r * Math.cos(t), b = r * Math.sin(t);
        const u = a, w = RHO * a + Math.sqrt(1 - RHO * RHO) * b;
        ring.push([MX + SX * u, MY + SY * w]);
      }
      expect(enclosedMass(ring)).toBeCloseTo(1 - Math.exp(-0.5 * r * r), 4);
    }
  });

  it('68% and 95% highest-density contours of an analytic Gaussian enclose 68% and 95% of its mass', () => {
    const cs = massContours(grid);
    expect(cs.map((c) => c.mass)).toEqual([0.6827, 0.9545]);
    for (const c of cs) {
      const p = c.mass!;
      // the level: (1 - p) x peak (measured 0.3% and 0.2% low on this grid)
      expect(c.level / ((1 - p) * PEAK)).toBeGreaterThan(0.99);
      expect(c.level / ((1 - p) * PEAK)).toBeLessThan(1.01);
      // one polygon, one ring, closed, on the ellipse r^2 = -2 ln(1 - p) (measured within 0.45%)
      expect(c.polygons.length).toBe(1);
      expect(c.polygons[0].length).toBe(1);
      const ring = c.polygons[0][0];
      expect(ring[0]).toEqual(ring[ring.length - 1]);
      const r2 = -2 * Math.log(1 - p);
      for (const [x, y] of ring) expect(Math.abs(maha2(x, y) / r2 - 1)).toBeLessThan(0.01);
      // the mass it encloses (measured 0.6835 and 0.9547)
      expect(Math.abs(enclosedMass(ring) - p)).toBeLessThan(2e-3);
    }
  });

  it('converges with the grid resolution', () => {
    const err = (n: number) => Math.abs(enclosedMass(massContours(gaussianGrid(n), [0.6827])[0].polygons[0][0]) - 0.6827);
    expect(err(121)).toBeLessThan(err(41));
    expect(err(41)).toBeLessThan(1e-2);
  });

  it('contours at given density levels, and SVG path data', () => {
    const [c] = contourLines(grid, [0.5 * PEAK]);
    const ring = c.polygons[0][0];
    for (const [x, y] of ring) expect(Math.abs(maha2(x, y) / (2 * Math.log(2)) - 1)).toBeLessThan(0.01);
    const d = contourPathData(c.polygons, (v) => 100 * v, (v) => -10 * v);
    expect(d).toMatch(/^M-?[\d.]+ -?[\d.]+(L-?[\d.]+ -?[\d.]+)+Z$/);
    expect(contourLines(grid, [2 * PEAK])[0].polygons).toEqual([]); // above the maximum: nothing
  });

  it('the 68% contour of a histogram of samples holds 68% of them', () => {
    let s = 12345;
    const rnd = () => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return (s + 0.5) / 4294967296; };
    const N = 100000;
    const xs = new Float64Array(N), ys = new Float64Array(N);
    for (let k = 0; k < N; k++) {
      const r = Math.sqrt(-2 * Math.log(rnd())), t = 2 * Math.PI * rnd();
      const g1 = r * Math.cos(t), g2 = r * Math.sin(t);
      xs[k] = MX + SX * g1;
      ys[k] = MY + SY * (RHO * g1 + Math.sqrt(1 - RHO * RHO) * g2);
    }
    const h = histogram2d(xs, ys, { bins: 40 });
    const [c] = massContours(h, [0.6827]);
    const ring = c.polygons.map((p) => p[0]).sort((a, b) => b.length - a.length)[0];
    const inside = (px: number, py: number) => {
      let ins = false;
      for (let a = 0, b = ring.length - 1; a < ring.length; b = a++) {
        const [xa, ya] = ring[a], [xb, yb] = ring[b];
        if (ya > py !== yb > py && px < ((xb - xa) * (py - ya)) / (yb - ya) + xa) ins = !ins;
      }
      return ins;
    };
    let n = 0;
    for (let k = 0; k < N; k++) if (inside(xs[k], ys[k])) n++;
    // measured 0.6872 of the samples, and 0.6903 of the exact Gaussian mass (bins of 0.25 sigma, 1e5 samples)
    expect(Math.abs(n / N - 0.6827)).toBeLessThan(0.015);
    expect(Math.abs(enclosedMass(ring) - 0.6827)).toBeLessThan(0.015);
  });

  it('rejects malformed grids and masses', () => {
    expect(() => massLevels({ x: [0, 1], y: [0, 1], z: [1, 2, 3] }, [0.5])).toThrow(/expected nx\*ny/);
    expect(() => massLevels(grid, [1])).toThrow(/\(0, 1\)/);
    expect(() => massLevels({ x: [0, 1], y: [0, 1], z: [0, 0, 0, 0] }, [0.5])).toThrow(/no positive density/);
    expect(() => histogram2d([1, 2], [1], { bins: 10 })).toThrow(/x values/);
  });
});
