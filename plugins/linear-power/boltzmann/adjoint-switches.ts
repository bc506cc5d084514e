/**
 * The motion of the approximation switches with the parameters (optional in modeVjp: `switchTimes`). Forward AD
 * and the plain adjoint hold the switching times of the fiducial schedule fixed (mode.ts `schedule`); a switch at
 * x_sw where the state is mapped y+ = C(x_sw) y- contributes, when x_sw moves,
 *
 *   dF/dx_sw = ybar+ . [C f-(y-) + (dC/dx) y- - f+(y+)]          (the old equations run a little longer, then the map)
 *   dx_sw/d(read scalar) = -(dg/d scalar) / (dg/dx)            (implicit-function theorem on the trigger g(x_sw) = 0)
 *
 * with the trigger g of the switch (mode.ts schedule): end of tight coupling max(k/kappa' / tcaK, aH/kappa' / tcaH) - 1;
 * neutrino fluid k tau - ufaKTau; radiation streaming the later of k tau - rsaKTau and 1/(kappa' tau) - rsaTauCOverTau;
 * massive-neutrino fluid k tau - ncdmKTau. The scalars g reads at x_sw are nudged (adjoint-reads.ts), so the
 * contribution lands on the same tables and base quantities as the rest. The start x_ini moves too (k tau = 1e-3 or
 * omega tau = 1e-4); its contribution ybar_0 . [dy_ini/dx - f(y_ini)] is of the order of the neglected terms of the
 * initial conditions (MB95 eq. 96 is a leading-order solution) and is not added.
 */
import { type ReadBars, nudgeBars } from './adjoint-reads.js';
import { NUDGE_COUNT, PerturbationRhs } from './equations.js';
import { type Schedule, convert } from './mode.js';

const EMPTY = new Float64Array(0);

/** The trigger of the switch from `from` to `to` at x (its zero is the switching time), on the probe's point. */
function trigger(probe: PerturbationRhs, from: PerturbationRhs, to: PerturbationRhs, x: number, sch: Schedule): ((x: number) => number) | null {
  const A = probe.setup.approx, k = probe.k;
  const kt = (y: number) => k * probe.point(y, null).tau;
  if (from.flags.tca && !to.flags.tca) {
    // the branch that is active at the switch
    const p = probe.point(x, null);
    const byK = k / (p.kappa * A.tcaTauCOverTauK) >= p.aH / (p.kappa * A.tcaTauCOverTauH);
    return byK
      ? (y: number) => k / (probe.point(y, null).kappa * A.tcaTauCOverTauK) - 1
      : (y: number) => { const q = probe.point(y, null); return q.aH / (q.kappa * A.tcaTauCOverTauH) - 1; };
  }
  const rsa = (): ((y: number) => number) => {
    // x_rsa = max(x_K, x_Fs): the trigger whose zero is nearer to x (in x, by one Newton step) is the later one
    const fs = (y: number) => { const q = probe.point(y, null); return 1 / (q.kappa * q.tau) - A.rsaTauCOverTau; };
    const fk = (y: number) => kt(y) - A.rsaKTau;
    const dist = (g: (y: number) => number) => Math.abs(g(x)) / Math.max(Math.abs((g(x + 1e-6) - g(x - 1e-6)) / 2e-6), 1e-300);
    return dist(fk) <= dist(fs) ? fk : fs;
  };
  if (!from.flags.rsa && to.flags.rsa) return rsa();
  if (!from.flags.ufa && to.flags.ufa) return x === sch.xRsa ? rsa() : (y: number) => kt(y) - A.ufaKTau;
  if (!from.L.ncFluid && to.L.ncFluid) return (y: number) => kt(y) - A.ncdmFluidKTau;
  return null;
}

/**
 * Adds the switch at x (from -> to, state y- = yIn, cotangent ybar+ after it) to reads: dF/dx_sw times the
 * cotangents of dx_sw on the scalars its trigger reads.
 */
export function addSwitchMotion(
  from: PerturbationRhs, to: PerturbationRhs, x: number, yIn: Float64Array, ybar: Float64Array, sch: Schedule, reads: ReadBars,
): void {
  const probe = new PerturbationRhs(from.setup, from.k, { tca: true, ufa: false, rsa: false });
  const g = trigger(probe, from, to, x, sch);
  if (!g) return;
  const nf = from.L.n, nt = to.L.n, scratch = new Float64Array(nf);
  // dF/dx_sw = ybar+ . [C f-(y-) + (dC/dx) y- - f+(C y-)]
  const fm = new Float64Array(nf), fp = new Float64Array(nt);
  from.f(x, yIn, fm, EMPTY);
  const Cf = convert(from, to, x, fm, EMPTY, scratch);
  const h = 1e-6;
  const up = convert(from, to, x + h, yIn, EMPTY, scratch), dn = convert(from, to, x - h, yIn, EMPTY, scratch);
  const yPlus = convert(from, to, x, yIn, EMPTY, scratch);
  to.f(x, yPlus, fp, EMPTY);
  let dFdx = 0;
  for (let i = 0; i < nt; i++) dFdx += ybar[i] * (Cf[i] + (up[i] - dn[i]) / (2 * h) - fp[i]);
  // dg/dx at the switch, then dx_sw/d(scalars) = -(dg/d scalars)/(dg/dx) by nudging the scalars g reads
  const dgdx = (g(x + h) - g(x - h)) / (2 * h);
  if (!(Math.abs(dgdx) > 0)) return;
  probe.nudge = new Float64Array(NUDGE_COUNT);
  nudgeBars(probe, x, () => g(x), reads, new Float64Array(NUDGE_COUNT), -dFdx / dgdx);
}
