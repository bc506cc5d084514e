/**
 * Confidence ellipses of a 2-D Gaussian with covariance [[sxx, sxy], [sxy, syy]].
 *
 * The ellipse (x - mu)^T C^{-1} (x - mu) = k^2 has semi-axes k sqrt(lambda_1,2) (eigenvalues of C) along
 * the eigenvectors. With k = 1 its projections on the axes are mu ± sigma_x and mu ± sigma_y (the
 * marginal 1-sigma intervals); the region inside holds 1 - exp(-k^2/2) of the probability, so the
 * joint 2-D 68.27% / 95.45% regions have k = 1.515 / 2.486 (Delta chi^2 = 2.30 / 6.18).
 */
import { erf } from '../numerics/erfc.js';

export type Cov2 = readonly [readonly [number, number], readonly [number, number]] | readonly (readonly number[])[];

export interface EllipseGeometry {
  /** Semi-major axis (data units). */
  a: number;
  /** Semi-minor axis. */
  b: number;
  /** Angle of the major axis from +x towards +y, radians in (-pi/2, pi/2]. */
  angle: number;
  /** sqrt(C_xx), sqrt(C_yy) and the correlation coefficient. */
  sigmaX: number;
  sigmaY: number;
  rho: number;
  /** Half-widths of the bounding box: k sigma_x, k sigma_y. */
  halfWidth: number;
  halfHeight: number;
}

/** k such that the 2-D Gaussian region inside the k-ellipse holds probability p: sqrt(-2 ln(1 - p)). */
export const ellipseScaleForProbability = (p: number): number => Math.sqrt(-2 * Math.log(1 - p));

/** 1-D probability within ±n sigma (0.6827 for n = 1): ellipseScaleForProbability of it gives the joint 2-D "n sigma" ellipse. */
export const probabilityOfSigma = (n: number): number => erf(n / Math.SQRT2);

export { erf };

/** Geometry of the k-ellipse of a 2x2 covariance (k = 1: the 1-sigma ellipse, semi-axes sigma_x, sigma_y when diagonal). */
export function covarianceEllipse(cov: Cov2, k = 1): EllipseGeometry {
  const sxx = cov[0][0], sxy = 0.5 * (cov[0][1] + cov[1][0]), syy = cov[1][1];
  if (!(sxx >= 0) || !(syy >= 0)) throw new Error(`covariance has a negative variance: [[${sxx}, ${sxy}], [${sxy}, ${syy}]]`);
  const mean = 0.5 * (sxx + syy);
  const diff = 0.5 * (sxx - syy);
  const r = Math.hypot(diff, sxy);
  const l1 = mean + r, l2 = Math.max(0, mean - r);
  if (mean - r < -1e-12 * Math.max(1, mean)) throw new Error('covariance is not positive semi-definite');
  const angle = r === 0 ? 0 : 0.5 * Math.atan2(2 * sxy, sxx - syy);
  const sigmaX = Math.sqrt(sxx), sigmaY = Math.sqrt(syy);
  return {
    a: k * Math.sqrt(l1),
    b: k * Math.sqrt(l2),
    angle,
    sigmaX,
    sigmaY,
    rho: sigmaX > 0 && sigmaY > 0 ? sxy / (sigmaX * sigmaY) : 0,
    halfWidth: k * sigmaX,
    halfHeight: k * sigmaY,
  };
}

/** n points (closed: the last equals the first) on the ellipse centred at (cx, cy), in data coordinates. */
export function ellipsePoints(cx: number, cy: number, g: EllipseGeometry, n = 121): { x: number[]; y: number[] } {
  const x: number[] = [], y: number[] = [];
  const c = Math.cos(g.angle), s = Math.sin(g.angle);
  for (let i = 0; i < n; i++) {
    const t = (2 * Math.PI * i) / (n - 1);
    const u = g.a * Math.cos(t), v = g.b * Math.sin(t);
    x.push(cx + u * c - v * s);
    y.push(cy + u * s + v * c);
  }
  return { x, y };
}
