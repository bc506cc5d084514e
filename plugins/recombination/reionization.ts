/**
 * Reionisation as CAMB and CLASS (`reio_camb`) model it: a tanh step in y = (1+z)^(3/2) for hydrogen and
 * singly ionised helium, and a tanh step in z for the second ionisation of helium (Lewis 2008, PRD 78, 023002,
 * eq. B3; CLASS thermodynamics, `reio_camb`):
 *
 *   x_e(z) = x_rec(z) + [x_after - x_rec(z)] (1 + tanh u)/2 + f_He (1 + tanh v)/2,
 *   u = [(1+z_re)^e - (1+z)^e] / [e (1+z_re)^(e-1) Delta],   e = 3/2, Delta = 0.5  (the step has width
 *       Delta in z at z_re: dy = e (1+z_re)^(e-1) dz),
 *   v = (z_He - z) / Delta_He,   z_He = 3.5, Delta_He = 0.5,   x_after = 1 + f_He.
 *
 * The recombination history x_rec continues underneath (CLASS v3 takes x_e before reionisation from the
 * recombination solution at the same z). The optical depth tau_reio is, as in CLASS, the Thomson depth from
 * today to the global minimum of x_e(z) just above reionisation.
 */

export interface ReionizationShape {
  exponent: number;
  width: number;
  heliumRedshift: number;
  heliumWidth: number;
}

export const CAMB_REIONIZATION: ReionizationShape = { exponent: 1.5, width: 0.5, heliumRedshift: 3.5, heliumWidth: 0.5 };

/**
 * The two tanh weights at z and the derivative of the hydrogen one with respect to z_re:
 * out[0] = (1 + tanh u)/2, out[1] = (1 + tanh v)/2, out[2] = d out[0] / d z_re.
 */
export function reionizationWeights(z: number, zRe: number, s: ReionizationShape, out: Float64Array): void {
  const e = s.exponent;
  const A = Math.pow(1 + zRe, e);
  const B = e * Math.pow(1 + zRe, e - 1) * s.width;
  const u = (A - Math.pow(1 + z, e)) / B;
  const th = Math.tanh(u);
  out[0] = 0.5 * (1 + th);
  out[1] = 0.5 * (1 + Math.tanh((s.heliumRedshift - z) / s.heliumWidth));
  // du/dz_re = [e (1+z_re)^(e-1) B - (A - (1+z)^e) e (e-1) (1+z_re)^(e-2) Delta] / B^2
  const dA = e * Math.pow(1 + zRe, e - 1);
  const dB = e * (e - 1) * Math.pow(1 + zRe, e - 2) * s.width;
  const du = (dA * B - (A - Math.pow(1 + z, e)) * dB) / (B * B);
  out[2] = 0.5 * (1 - th * th) * du;
}
