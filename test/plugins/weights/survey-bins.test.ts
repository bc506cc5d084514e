/**
 * Issue 20, "survey edits are one edit": the weights stage takes its number of bins and bin centres from the n(z)
 * stage's description (StagePlugin.configure, core/graph/plan.ts step 4b), so the biases it reads follow the n(z);
 * the main job names its biases by one pattern entry ("b_*"), so changing the n(z) binning is the only edit.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { preparePipeline } from '../../../core/cli/run-job.js';
import { executePlan } from '../../../core/graph/execute.js';
import { variedParameters, type Plan } from '../../../core/graph/plan.js';
import type { Spectra } from '../../../plugins/contracts/spectra.js';
import type { FisherResult } from '../../../plugins/likelihood/gaussian-fisher.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const main = path.join(root, 'pipelines/euclid-3x2pt-fisher.json');
const noPlots = ['stages.cl.with.plot=false', 'stages.fisher.with.plot=false'];
const COSMO = ['Omega_m', 'Omega_b', 'w0', 'wa', 'h', 'n_s', 'sigma8', 'A_IA', 'eta_IA'];
const ISTF_EDGES = [0.001, 0.418, 0.56, 0.678, 0.789, 0.9, 1.019, 1.155, 1.324, 1.576, 2.5];
const FIVE = [0.001, 0.56, 0.789, 1.019, 1.324, 2.5];
const mid = (e: number[]) => e.slice(0, -1).map((x, i) => 0.5 * (x + e[i + 1]));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-survey-bins-'));

/** The main job with b_1..b_n written out (as it was before the pattern entry), saved beside the others. */
function explicitBiases(n: number, values = mid(ISTF_EDGES).map((z) => Math.sqrt(1 + z))): string {
  const p = JSON.parse(fs.readFileSync(main, 'utf8'));
  delete p.parameters['b_*'];
  for (let i = 0; i < n; i++) p.parameters[`b_${i + 1}`] = { value: values[i], vary: true, latex: `b_{${i + 1}}` };
  const file = path.join(tmp, `explicit-${n}-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify(p));
  return file;
}

const fiveBins = `stages.nz.with.binEdges=${JSON.stringify(FIVE)}`;
const planOf = async (file: string, sets: string[] = [], params: string[] = []): Promise<Plan> => (await preparePipeline(file, params, [...noPlots, ...sets])).plan;
/** Every problem of an InputError, one per line ("path: message"). */
const errorOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(() => 'no error', (e: Error & { issues?: { path: string; message: string }[] }) => e.issues?.map((i) => `${i.path}: ${i.message}`).join('\n') ?? e.message);

describe('survey bins follow the n(z) stage', () => {
  it('the main job with "b_*" plans exactly as with b_1..b_10 written out', async () => {
    const a = await planOf(main), b = await planOf(explicitBiases(10));
    expect(variedParameters(a)).toEqual([...COSMO, ...Array.from({ length: 10 }, (_, i) => `b_${i + 1}`)]);
    expect(variedParameters(a)).toEqual(variedParameters(b));
    for (const [name, p] of b.parameters) {
      expect(a.parameters.get(name)?.value, name).toBe(p.value);
      expect(a.parameters.get(name)?.latex, name).toBe(p.latex);
    }
    expect(a.stages.get('weights')!.config).toEqual(b.stages.get('weights')!.config);
    expect(a.stages.get('weights')!.config).toMatchObject({ bins: 10 });
    // the planned pipeline lists the parameters the pattern stood for, with their values
    expect(a.pipeline.parameters!.b_3).toEqual({ vary: true, latex: 'b_{3}', value: Math.sqrt(1 + mid(ISTF_EDGES)[2]) });
  });

  it('5 bins by one edit of the n(z) (its bin edges): plans, with b_1..b_5 at sqrt(1 + zbar_i), and runs', async () => {
    const plan = await planOf(main, [fiveBins]);
    const w = plan.stages.get('weights')!;
    expect(w.config).toMatchObject({ bins: 5, zbar: mid(FIVE) });
    expect(variedParameters(plan)).toEqual([...COSMO, 'b_1', 'b_2', 'b_3', 'b_4', 'b_5']);
    mid(FIVE).forEach((z, i) => expect(plan.parameters.get(`b_${i + 1}`)!.value).toBe(Math.sqrt(1 + z)));
    expect(Object.keys(w.reads).filter((p) => /^m_/.test(p))).toEqual(['m_1', 'm_2', 'm_3', 'm_4', 'm_5']);
    const { registry } = await preparePipeline(main, [], [...noPlots, fiveBins]);
    const r = await executePlan(plan, registry, {});
    const cl = r.outputs.get('cl') as Spectra;
    expect(cl.tracers.map((t) => t.name)).toEqual(['L1', 'L2', 'L3', 'L4', 'L5', 'G1', 'G2', 'G3', 'G4', 'G5']);
    expect(cl.pairNames.length).toBe(15 + 25 + 15);
    const f = r.outputs.get('fisher') as FisherResult;
    expect(f.names).toEqual(variedParameters(plan));
    for (const s of f.sigmaMarginalized) expect(s > 0 && Number.isFinite(s)).toBe(true);
  }, 300_000);

  it('biases written out per bin: the stale ones are named, with the bins the weights read and what to do', async () => {
    const msg = await errorOf(planOf(explicitBiases(10), [fiveBins]));
    expect(msg).toMatch(/parameters\.b_6: no stage reads a parameter "b_6"; .*\(b_1\.\.b_5 are read, by weights: one per bin of its input; remove b_6, or write one entry "b_\*" for every bin\)/);
    expect(msg.split('\n').map((l) => l.split(':')[0])).toEqual(['parameters.b_6', 'parameters.b_7', 'parameters.b_8', 'parameters.b_9', 'parameters.b_10']);
  });

  it('an explicit entry overrides the pattern for its parameter; --param keeps the pattern\'s vary and latex', async () => {
    const plan = await planOf(main, [fiveBins], ['b_3=1.5']);
    expect(plan.parameters.get('b_3')).toMatchObject({ value: 1.5, vary: true, latex: 'b_{3}' });
    expect(variedParameters(plan)).toContain('b_3');
    const fixed = await planOf(main, [fiveBins, 'parameters.b_2={"vary":false}']);
    expect(variedParameters(fixed)).toEqual([...COSMO, 'b_1', 'b_3', 'b_4', 'b_5']);
    expect(fixed.parameters.get('b_2')!.value).toBe(Math.sqrt(1 + mid(FIVE)[1]));
  });

  it('a pattern that matches nothing, and a with.bins that contradicts the n(z), are errors naming their path', async () => {
    expect(await errorOf(planOf(main, ['parameters.q_*={"vary":true}']))).toMatch(/parameters\.q_\*: no stage reads a parameter matching "q_\*" \(\* stands for a bin number\)/);
    expect(await errorOf(planOf(main, [fiveBins, 'stages.weights.with.bins=10']))).toMatch(/stages\.weights\.with\.bins: 10, but the n\(z\) stage "nz" provides 5 bins/);
  });
});
