/**
 * What the Limber stage prepares once and keeps (plugins/spectra/limber-probe.ts, limber.ts): the probe read
 * through tables prepared per P(k, z) object equals its direct construction; a call whose P(k, z) and
 * background are the same objects reuses the power part and gives the numbers of a fresh computation; the
 * reverse pass reuses its output's forward values only for the inputs that made it. Fresh shallow copies of
 * the inputs are new objects: they miss every kept entry (so they compute from scratch).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareRows, evalPreparedRows } from '../../../core/ad/interp.js';
import { preparePipeline } from '../../../core/cli/run-job.js';
import { executePlan } from '../../../core/graph/execute.js';
import { backgroundAt } from '../../../plugins/contracts/background-eval.js';
import type { Background } from '../../../plugins/contracts/background.js';
import type { PowerGrid } from '../../../plugins/contracts/power.js';
import type { TracerSet } from '../../../plugins/contracts/tracers.js';
import { createGaussLegendre } from '../../../plugins/integrator/gauss-legendre.js';
import { computeLimber, limberNodes, limberVjp, type LimberConfig, type LimberInputs } from '../../../plugins/spectra/limber.js';
import { limberProbe } from '../../../plugins/spectra/limber-probe.js';
import { limberWeights } from '../../../plugins/spectra/limber-sum.js';
import { clampToGrid } from '../../../plugins/spectra/power-at-nodes.js';
import { kernelSupport, kernelsAtNodes, tracerList, type TracerList } from '../../../plugins/spectra/tracer-pairs.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');

/** The probe as the stage built it before its tables: ln P splined in z on every 4th k, then in ln k per node. */
function directProbe(list: TracerList, power: PowerGrid, bg: Background, probeEll: number[], kMin: number, kMax: number, beyond: boolean, Dtop: number) {
  const nt = list.tracers.length;
  const kernelMax = new Float64Array(nt);
  list.sets.forEach((s, si) => s.tracers.forEach((_, t) => {
    let m = 0;
    for (let i = 0; i < s.z.length; i++) m = Math.max(m, Math.abs(s.W.value[t * s.z.length + i]));
    kernelMax[list.offset[si] + t] = m;
  }));
  const nkAll = power.k_1overMpc.length, nzP = power.z.length;
  const probeK: number[] = [];
  for (let ik = 0; ik < nkAll; ik += 4) probeK.push(ik);
  if (probeK[probeK.length - 1] !== nkAll - 1) probeK.push(nkAll - 1);
  const nkP = probeK.length;
  const kProbe = Float64Array.from(probeK, (ik) => power.k_1overMpc[ik]);
  const lnPT = new Float64Array(nkP * nzP);
  for (let iz = 0; iz < nzP; iz++) probeK.forEach((ik, j) => { lnPT[j * nzP + iz] = Math.log(power.P_Mpc3.value[iz * nkAll + ik]); });
  const rows = prepareRows(power.z, lnPT, nkP, nzP >= 4 ? 'not-a-knot' : 'natural');
  return (x: Float64Array, out: Float64Array) => {
    const z = Float64Array.from(x, Math.exp), n = z.length;
    const b = backgroundAt(bg, z);
    const H = Float64Array.from(b.E.value, (e) => e * bg.H0_1overMpc.v);
    const W = kernelsAtNodes(list, z, false).value;
    const { zc, first } = clampToGrid(power, z);
    const kMajor = evalPreparedRows(rows, zc);
    const v = new Float64Array(n * nkP);
    for (let ik = 0; ik < nkP; ik++) for (let q = 0; q < n; q++) v[q * nkP + ik] = kMajor[ik * n + q];
    if (beyond)
      for (let q = first; q < n; q++) for (let ik = 0; ik < nkP; ik++) v[q * nkP + ik] += 2 * Math.log(b.D.value[q] / Dtop);
    const K = limberWeights(Float64Array.from(probeEll), kProbe, { value: v, tangent: null, P: 0 }, new Float64Array(n).fill(1), { value: H, tangent: null, P: 0 }, b.chi_Mpc, kMin, kMax).value;
    out.fill(0);
    for (let t = 0; t < nt; t++) {
      if (kernelMax[t] === 0) continue;
      for (let l = 0; l < probeEll.length; l++)
        for (let q = 0; q < n; q++) { const w = W[t * n + q] / kernelMax[t]; out[q] += w * w * K[l * n + q]; }
    }
    for (let q = 0; q < n; q++) out[q] *= z[q];
  };
}

const worstRelative = (a: Float64Array, b: Float64Array) => {
  let mx = 0, d = 0;
  for (let i = 0; i < a.length; i++) { mx = Math.max(mx, Math.abs(b[i])); d = Math.max(d, Math.abs(a[i] - b[i])); }
  return d / mx;
};

/** New objects holding the same arrays: they hit no kept entry. */
const fresh = (i: LimberInputs): LimberInputs => ({
  tracers: (i.tracers as TracerSet[]).map((s) => ({ ...s })), power: { ...i.power }, background: { ...i.background },
});

describe('what the Limber stage keeps between calls', async () => {
  const { plan, registry } = await preparePipeline(path.join(root, 'pipelines/euclid-3x2pt-likelihood.json'), [], ['stages.cl.with.plot=false']);
  const r = await executePlan(plan, registry, { targets: ['weights', 'nonlinear'] });
  const inp: LimberInputs = { tracers: [r.outputs.get('weights') as TracerSet], power: r.outputs.get('nonlinear') as PowerGrid, background: r.outputs.get('background') as Background };
  const st = plan.stages.get('cl')!;
  const config = st.config as unknown as LimberConfig;
  const integrator = createGaussLegendre(st.methods.integrator.config);
  const list = tracerList(inp.tracers);
  const [zLo, zHi] = kernelSupport(list);
  const x = Float64Array.from({ length: 301 }, (_, i) => Math.log(zLo) + ((Math.log(zHi) - Math.log(zLo)) * (i + 0.5)) / 301);

  it('the probe read through its tables equals its direct construction (to rounding)', () => {
    const got = new Float64Array(x.length), want = new Float64Array(x.length);
    limberProbe(list, inp.power, inp.background, config.probe_ell, config.k_min_1overMpc, config.k_max_1overMpc, false, 1)(x, got);
    directProbe(list, inp.power, inp.background, config.probe_ell, config.k_min_1overMpc, config.k_max_1overMpc, false, 1)(x, want);
    const d = worstRelative(got, want);
    console.log(`probe: tables vs direct construction ${d.toExponential(2)}`);
    expect(d).toBeLessThan(1e-13);
  });

  it('also above the top of a P(k, z) grid (growth scaling)', () => {
    // the grid cut at z = 2 (rows up to it), nodes above it scaled with D^2
    const nk = inp.power.k_1overMpc.length, nTop = inp.power.z.findIndex((z) => z >= 2) + 1;
    const cut: PowerGrid = { ...inp.power, z: inp.power.z.slice(0, nTop), P_Mpc3: { value: inp.power.P_Mpc3.value.slice(0, nTop * nk), tangent: null, P: 0 } };
    const Dtop = backgroundAt(inp.background, Float64Array.of(cut.z[nTop - 1])).D.value[0];
    const got = new Float64Array(x.length), want = new Float64Array(x.length);
    limberProbe(list, cut, inp.background, config.probe_ell, config.k_min_1overMpc, config.k_max_1overMpc, true, Dtop)(x, got);
    directProbe(list, cut, inp.background, config.probe_ell, config.k_min_1overMpc, config.k_max_1overMpc, true, Dtop)(x, want);
    expect(worstRelative(got, want)).toBeLessThan(1e-13);
  });

  it('new kernels on the same P(k, z) and background: the kept power part gives the numbers of a fresh computation', () => {
    computeLimber(inp, config, integrator); // keeps the power part of these nodes
    // a step of the galaxy biases: the clustering kernels scaled (a new tracer set; the probe lands on the same nodes)
    const set = inp.tracers as TracerSet[];
    const nz = set[0].z.length;
    const W = set[0].W.value.slice();
    set[0].tracers.forEach((t, i) => { if (t.family === 'GC') for (let k = 0; k < nz; k++) W[i * nz + k] *= 1 + 0.01 * i; });
    const moved: LimberInputs = { ...inp, tracers: [{ ...set[0], W: { value: W, tangent: null, P: 0 } }] };
    expect(limberNodes(moved, config, integrator).lnRule.x).toEqual(limberNodes(inp, config, integrator).lnRule.x);
    const kept = computeLimber(moved, config, integrator);
    const scratch = computeLimber(fresh(moved), config, integrator);
    expect(Array.from(kept.C.value)).toEqual(Array.from(scratch.C.value));
  });

  it('the reverse pass reuses its output\'s forward values for the inputs that made it, and recomputes them for others', () => {
    const out = computeLimber(inp, config, integrator);
    const nl = out.ell.length;
    const Cbar = Float64Array.from(out.C.value, (_, i) => (out.ell[i % nl] <= 1500 ? Math.sin(i) : 0));
    const a = limberVjp(inp, config, integrator, out, Cbar);
    const b = limberVjp(fresh(inp), config, integrator, out, Cbar);
    const bars = (v: ReturnType<typeof limberVjp>) => {
      const t = v.inputs.tracers as { W: Float64Array; multiplicative: Float64Array }[];
      return [t[0].W, t[0].multiplicative, ((v.inputs as Record<string, unknown>).power as { P_Mpc3: Float64Array }).P_Mpc3, v.inputs.background.E as Float64Array, v.inputs.background.chi_Mpc as Float64Array];
    };
    bars(a).forEach((x, i) => expect(Array.from(x)).toEqual(Array.from(bars(b)[i])));
    expect(a.inputs.background.H0_1overMpc).toBe(b.inputs.background.H0_1overMpc);
  });
});
