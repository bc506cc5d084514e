/**
 * Derivatives through the non-Limber correction (with.non_limber, plugins/spectra/non-limber.ts) on the Euclid-like
 * 3x2pt pipeline (pipelines/euclid-3x2pt.json: EH + Halofit, NLA IA, 210 spectra), at l < 200:
 *   - forward AD against 4th-order central finite differences, for Omega_m, sigma8, b_1 and A_IA, both for the
 *     correction alone (C with the correction minus C without it: what only the non-Limber path contributes) and
 *     for the spectra the stage outputs; every evaluation on the same z nodes and non-Limber grid (the sticky scope
 *     of one differentiation);
 *   - the stage's vjp against its forward tangents (the dot-product test of the reverse-mode suite).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { preparePipeline } from '../../../core/cli/run-job.js';
import { executePlan } from '../../../core/graph/execute.js';
import { MemoryStore } from '../../../core/cache/store.js';
import type { Spectra } from '../../../plugins/contracts/spectra.js';
import { mapInputs, sourcesOf, variedParameters } from '../../../core/graph/plan.js';
import { vjpContext } from '../../../core/graph/reverse.js';
import type { Bar } from '../../../core/plugin/types.js';
import { barDotTangents, randomStream, vjpDotTest } from '../reverse/harness.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const file = path.join(root, 'pipelines/euclid-3x2pt.json');
const VARY = ['Omega_m', 'sigma8', 'b_1', 'A_IA'];
// Omega_m, sigma8 and A_IA are in the file (vary them); b_1 is not (declare it at its default sqrt(1 + zbar_1), varied)
const varySets = VARY.map((n) => (n === 'b_1' ? `parameters.b_1=${JSON.stringify({ value: Math.sqrt(1 + 0.2095), vary: true })}` : `parameters.${n}.vary=true`));
const L_SWITCH = 200;

async function setup(nonLimber: boolean) {
  const sets = ['stages.cl.with.plot=false', `stages.cl.with.non_limber=${JSON.stringify(nonLimber ? { l_switch: L_SWITCH } : false)}`, ...varySets];
  const { plan, registry } = await preparePipeline(file, [], sets);
  const store = new MemoryStore();
  const sticky = new Map<string, unknown>();
  const run = async (params: Record<string, number>, tangents: string[]) =>
    (await executePlan(plan, registry, { params, tangents, store, sticky, targets: ['cl'] })).outputs.get('cl') as Spectra;
  return { plan, registry, run };
}

describe('non-Limber correction: derivatives', async () => {
  const on = await setup(true), off = await setup(false);
  const fid = Object.fromEntries(VARY.map((n) => [n, on.plan.parameters.get(n)!.value]));
  const adOn = await on.run(fid, VARY), adOff = await off.run(fid, VARY);
  const nl = adOn.ell.length, np = adOn.pairs.length;
  let nsw = 0;
  while (nsw < nl && adOn.ell[nsw] < L_SWITCH) nsw++;

  it('the correction is non-zero below l_switch and zero above', () => {
    let below = 0, above = 0;
    for (let p = 0; p < np; p++)
      for (let l = 0; l < nl; l++) {
        const d = Math.abs(adOn.C.value[p * nl + l] - adOff.C.value[p * nl + l]);
        if (l < nsw) below = Math.max(below, d / Math.abs(adOff.C.value[p * nl + l]));
        else above = Math.max(above, d);
      }
    expect(nsw).toBeGreaterThan(30);
    expect(below).toBeGreaterThan(1e-3);
    expect(above).toBe(0);
  });

  it.each(VARY)('d/d %s: forward AD vs central differences, l < 200 (the correction alone and the spectra; 1e-4 where not negligible)', async (name) => {
    const c = VARY.indexOf(name);
    // 4th-order central differences with a step of 0.2% (with 1% the truncation h^4 f^(5) reaches 7e-5 on a correction
    // that is nearly stationary in Omega_m; with 0.1% the rounding of the differences of C grows)
    const h = 2e-3 * Math.abs(fid[name]);
    const at = async (s: typeof on, x: number) => (await s.run({ ...fid, [name]: x }, [])).C.value;
    const pts = [-2, -1, 1, 2].map((k) => fid[name] + k * h);
    const vOn = await Promise.all(pts.map((x) => at(on, x)));
    const vOff = await Promise.all(pts.map((x) => at(off, x)));
    const fd = (v: Float64Array[], i: number) => (v[0][i] - 8 * v[1][i] + 8 * v[2][i] - v[3][i]) / (12 * h);
    const tan = (s: Spectra, i: number) => s.C.tangent![c * np * nl + i];
    // compare d(correction) and dC over every pair at l < l_switch; "not negligible": above 1e-3 of the largest
    // derivative of that pair over those multipoles (the correction changes sign with l), above the differences'
    // rounding floor (1e-12 |C| / h: the correction is a difference of two C's), above 1e-7 of the pair's covariance
    // scale sqrt(C_AA C_BB) per unit ln(parameter) (a cross-spectrum of two distant bins is made of the tails of the
    // two FFTs, 1e-9 of that scale, where both AD and differences see the FFTs' rounding), and the pair's derivatives
    // above 1e-6 of the largest over all pairs (b_1 moves only the pairs with G1; the others must be 0 both ways)
    const worst = { corr: 0, total: 0, corrAt: '', totalAt: '' };
    let compared = 0;
    const autoOf = new Map(adOff.pairs.map(([a, b], p) => [`${a},${b}`, p]));
    const covScale = (p: number, l: number) => {
      const [a, b] = adOff.pairs[p];
      return Math.sqrt(adOff.C.value[autoOf.get(`${a},${a}`)! * nl + l] * adOff.C.value[autoOf.get(`${b},${b}`)! * nl + l]);
    };
    for (const kind of ['corr', 'total'] as const) {
      const ad = (i: number) => (kind === 'corr' ? tan(adOn, i) - tan(adOff, i) : tan(adOn, i));
      const num = (i: number) => (kind === 'corr' ? fd(vOn, i) - fd(vOff, i) : fd(vOn, i));
      let global = 0;
      for (let p = 0; p < np; p++) for (let l = 0; l < nsw; l++) global = Math.max(global, Math.abs(ad(p * nl + l)));
      for (let p = 0; p < np; p++) {
        let scale = 0;
        for (let l = 0; l < nsw; l++) scale = Math.max(scale, Math.abs(ad(p * nl + l)));
        for (let l = 0; l < nsw; l++) {
          const i = p * nl + l;
          if (scale < 1e-6 * global) { expect(Math.abs(num(i))).toBeLessThan(1e-6 * global); continue; }
          if (Math.abs(ad(i)) < 1e-3 * scale || Math.abs(ad(i)) < (1e-12 * Math.abs(adOff.C.value[i])) / h) continue;
          if (Math.abs(ad(i) * fid[name]) < 1e-7 * covScale(p, l)) continue;
          compared++;
          const rel = Math.abs(ad(i) / num(i) - 1);
          if (rel > worst[kind]) { worst[kind] = rel; worst[`${kind}At`] = `${adOn.pairNames[p]} at l = ${adOn.ell[l].toFixed(1)}`; }
        }
      }
    }
    console.log(`d/d${name}: worst AD vs FD, correction ${worst.corr.toExponential(2)} (${worst.corrAt}); spectra ${worst.total.toExponential(2)} (${worst.totalAt}); ${compared} values compared`);
    expect(worst.corr, worst.corrAt).toBeLessThan(1e-4);
    expect(worst.total, worst.totalAt).toBeLessThan(1e-4);
  }, 600_000);

  it('the vjp of the Limber stage with the correction matches forward mode (dot-product tests)', async () => {
    // 1. the suite's test (bars r/|C|): a cross-spectrum of two distant bins is ~1e-8 of its autos, and its
    //    correction carries rounding of the FFTs of the two kernels at the scale of their peaks; weighted by 1/|C|
    //    that rounding shows at 1e-8 (b_1: the narrowest bin, whose crosses with the far bins are the smallest)
    const r = await vjpDotTest(on.plan, on.registry, 'cl', new MemoryStore());
    console.log(`spectra/limber + non_limber, bars r/|C|: ${r.varied.map((v, j) => `${v} ${r.rel[j].toExponential(2)}`).join(', ')}`);
    expect(r.worst).toBeLessThan(1e-6);
    // 2. bars on the scale a likelihood weighs the spectra with, r/sqrt(C_AA C_BB) (the Gaussian covariance):
    //    the vjp is the transpose of the forward tangents to rounding
    const varied = variedParameters(on.plan), P = varied.length, st = on.plan.stages.get('cl')!, store = new MemoryStore();
    const fwd = (await executePlan(on.plan, on.registry, { tangents: varied, targets: ['cl'], store })).outputs;
    const val = (await executePlan(on.plan, on.registry, { tangents: [], targets: ['cl'], store })).outputs;
    const out = val.get('cl') as Spectra;
    const auto = new Map(out.pairs.map(([a, b], p) => [`${a},${b}`, p]));
    const rnd = randomStream(11);
    const Cbar = new Float64Array(out.C.value.length);
    out.pairs.forEach(([a, b], p) => {
      const pa = auto.get(`${a},${a}`)!, pb = auto.get(`${b},${b}`)!;
      for (let l = 0; l < nl; l++) Cbar[p * nl + l] = rnd() / Math.sqrt(out.C.value[pa * nl + l] * out.C.value[pb * nl + l]);
    });
    const lhs = barDotTangents(fwd.get('cl'), { C: Cbar }, P);
    const res = await st.plugin.vjp!(vjpContext(on.plan, on.registry, st, mapInputs(st, (src) => val.get(src)), out, {}), { C: Cbar });
    const rhs = new Float64Array(P);
    for (const [input, b] of Object.entries(res.inputs ?? {}))
      sourcesOf(st.inputs[input]).forEach((src, i) => {
        const t = barDotTangents(fwd.get(src), Array.isArray(b) ? (b as Bar[])[i] : b, P);
        for (let j = 0; j < P; j++) rhs[j] += t[j];
      });
    const rel = Array.from(lhs, (x, j) => Math.abs(x - rhs[j]) / Math.max(Math.abs(x), Math.abs(rhs[j])));
    console.log(`spectra/limber + non_limber, bars r/sqrt(C_AA C_BB): ${varied.map((v, j) => `${v} ${rel[j].toExponential(2)}`).join(', ')}`);
    expect(Math.max(...rel)).toBeLessThan(1e-12);
  }, 600_000);
});
