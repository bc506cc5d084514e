/**
 * Contour lines of a density on a regular 2-D grid (a 2-D histogram of posterior samples, or a density
 * evaluated on a grid) with d3-contour's marching squares, for triangle plots of samples:
 *
 *   const grid = histogram2d(xs, ys, { bins: 60 });               // or any DensityGrid
 *   const [c68, c95] = massContours(grid, [0.6827, 0.9545]);       // highest-density regions
 *   fig.panel(1, 0).area(...)  or  `<path d="${contourPathData(c68.polygons, X, Y)}" fill-rule="evenodd"/>`
 *
 * A level given as a probability mass p is the density L whose region {z >= L} holds the fraction p of the
 * grid's total (cells sorted by density and accumulated: the highest-density region), interpolated between
 * cells. Polygons come back in data coordinates; d3-contour places the value of cell (i, j) at the cell
 * centre (x[i], y[j]) and interpolates the crossings linearly between centres.
 */
import { contours as d3Contours } from 'd3-contour';

/** Values on a regular grid: z[j * nx + i] at (x[i], y[j]); x and y ascending and uniformly spaced. */
export interface DensityGrid {
  z: ArrayLike<number>;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

/** One contour: its density level, the mass it was asked for (if any), and its polygons. */
export interface Contour {
  level: number;
  mass?: number;
  /** Polygons, each a list of rings (the first the outer boundary, then holes), each a closed list of [x, y]. */
  polygons: [number, number][][][];
}

function checkGrid(g: DensityGrid): { nx: number; ny: number } {
  const nx = g.x.length, ny = g.y.length;
  if (nx < 2 || ny < 2) throw new Error(`contours: the grid needs at least 2 x 2 points (got ${nx} x ${ny})`);
  if (g.z.length !== nx * ny) throw new Error(`contours: z has ${g.z.length} values, expected nx*ny = ${nx}*${ny} = ${nx * ny}`);
  return { nx, ny };
}

/**
 * Density levels whose highest-density regions hold the given probability masses (each in (0, 1)) of the
 * grid's total; cells with non-finite or negative values count as empty.
 */
export function massLevels(g: DensityGrid, masses: readonly number[]): number[] {
  checkGrid(g);
  const v = Float64Array.from(g.z, (z) => (Number.isFinite(z) && z > 0 ? z : 0)).sort().reverse();
  let total = 0;
  for (const z of v) total += z;
  if (!(total > 0)) throw new Error('contours: the grid holds no positive density');
  return masses.map((p) => {
    if (!(p > 0 && p < 1)) throw new Error(`contours: a probability mass must be in (0, 1), got ${p}`);
    const target = p * total;
    let cum = 0;
    for (let k = 0; k < v.length; k++) {
      const next = cum + v[k];
      if (next >= target) {
        // between the previous cell's density (mass cum) and this one's (mass next)
        const prev = k > 0 ? v[k - 1] : v[k];
        return prev + ((v[k] - prev) * (target - cum)) / v[k];
      }
      cum = next;
    }
    return v[v.length - 1];
  });
}

/** Contour polygons of the grid at the given density levels, in data coordinates. */
export function contourLines(g: DensityGrid, levels: readonly number[]): Contour[] {
  const { nx, ny } = checkGrid(g);
  const x0 = g.x[0], dx = (g.x[nx - 1] - g.x[0]) / (nx - 1);
  const y0 = g.y[0], dy = (g.y[ny - 1] - g.y[0]) / (ny - 1);
  const values = Array.from(g.z, (z) => (Number.isFinite(z) ? z : 0));
  const gen = d3Contours().size([nx, ny]);
  return levels.map((level) => {
    const mp = gen.contour(values, level);
    // d3-contour coordinates: cell (i, j) spans [i, i + 1] x [j, j + 1], its value at the centre
    const polygons = mp.coordinates.map((poly) =>
      poly.map((ring) => ring.map(([u, w]): [number, number] => [x0 + (u - 0.5) * dx, y0 + (w - 0.5) * dy])),
    );
    return { level, polygons };
  });
}

/** The highest-density contours holding the given masses (default 68.27% and 95.45%). */
export function massContours(g: DensityGrid, masses: readonly number[] = [0.6827, 0.9545]): Contour[] {
  const levels = massLevels(g, masses);
  return contourLines(g, levels).map((c, k) => ({ ...c, mass: masses[k] }));
}

/** SVG path data of polygons under the data -> pixel maps X, Y (draw with fill-rule="evenodd" for the holes). */
export function contourPathData(polygons: [number, number][][][], X: (v: number) => number, Y: (v: number) => number): string {
  const r2 = (v: number) => (Math.round(v * 100) / 100).toString();
  let d = '';
  for (const poly of polygons) {
    for (const ring of poly) {
      ring.forEach(([u, w], k) => { d += `${k === 0 ? 'M' : 'L'}${r2(X(u))} ${r2(Y(w))}`; });
      d += 'Z';
    }
  }
  return d;
}

export interface HistogramOptions {
  /** Bins along each axis (a number for both, or [nx, ny]). */
  bins: number | [number, number];
  /** [[xmin, xmax], [ymin, ymax]] (default: the samples' extent). */
  range?: [[number, number], [number, number]];
  /** Sample weights (default 1 each). */
  weights?: ArrayLike<number>;
}

/**
 * A 2-D histogram of samples (xs[k], ys[k]) as a DensityGrid of weight per unit area at the bin centres;
 * samples outside the range are dropped.
 */
export function histogram2d(xs: ArrayLike<number>, ys: ArrayLike<number>, o: HistogramOptions): DensityGrid {
  if (xs.length !== ys.length) throw new Error(`histogram2d: ${xs.length} x values but ${ys.length} y values`);
  const [nx, ny] = typeof o.bins === 'number' ? [o.bins, o.bins] : o.bins;
  if (!(Number.isInteger(nx) && Number.isInteger(ny) && nx >= 2 && ny >= 2)) throw new Error(`histogram2d: bins must be integers >= 2 (got ${nx}, ${ny})`);
  const extent = (v: ArrayLike<number>): [number, number] => {
    let lo = Infinity, hi = -Infinity;
    for (let k = 0; k < v.length; k++) if (Number.isFinite(v[k])) { lo = Math.min(lo, v[k]); hi = Math.max(hi, v[k]); }
    return [lo, hi];
  };
  const [[xa, xb], [ya, yb]] = o.range ?? [extent(xs), extent(ys)];
  if (!(xb > xa && yb > ya)) throw new Error(`histogram2d: empty range x [${xa}, ${xb}], y [${ya}, ${yb}]`);
  const dx = (xb - xa) / nx, dy = (yb - ya) / ny;
  const z = new Float64Array(nx * ny);
  for (let k = 0; k < xs.length; k++) {
    const i = Math.min(nx - 1, Math.floor((xs[k] - xa) / dx)), j = Math.min(ny - 1, Math.floor((ys[k] - ya) / dy));
    if (!(i >= 0 && j >= 0) || xs[k] > xb || ys[k] > yb) continue;
    z[j * nx + i] += o.weights ? o.weights[k] : 1;
  }
  for (let q = 0; q < z.length; q++) z[q] /= dx * dy;
  return {
    z,
    x: Float64Array.from({ length: nx }, (_, i) => xa + (i + 0.5) * dx),
    y: Float64Array.from({ length: ny }, (_, j) => ya + (j + 0.5) * dy),
  };
}
