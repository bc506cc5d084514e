/**
 * Multipole binning by edges (spectra stage `ell.bins`): C_l at the geometric-mean centres of the bins, the
 * widths from the edges in the Gaussian covariance, l_min / l_max selecting bins by their edges.
 *
 * Independent computations: the edges and centres here come from the textbook formulas (e_i = l_min
 * (l_max/l_min)^(i/N), centre sqrt(e_i e_{i+1})), not from our ell-grid code; the binned Fisher forecast is
 * compared with the explicit-centres forecast run with those hand-made centres (its widths follow from the
 * centres by the log-bin convention, which for log bins reproduces the edges), and the per-bin weights with
 * f_sky (2l+1) Delta_l / 2 evaluated here.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { preparePipeline, runJob } from '../../../core/cli/run-job.js';
import { MemoryStore } from '../../../core/cache/store.js';
import type { Spectra } from '../../../plugins/contracts/spectra.js';
import type { FisherResult } from '../../../plugins/likelihood/gaussian-fisher.js';
import { clBlocks } from '../../../plugins/likelihood/cl-blocks.js';
import { ellEdges, ellGrid } from '../../../plugins/spectra/ell-grid.js';
import { readSpectra } from '../../../plugins/spectra/read-spectra.js';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const file = path.join(root, 'pipelines/euclid-3x2pt-fisher.json');
const store = new MemoryStore();

// the standard binning: 100 log bins with edges 10..1500, by hand
const N = 100, LO = 10, HI = 1500;
const handEdges = Array.from({ length: N + 1 }, (_, i) => LO * Math.pow(HI / LO, i / N));
const handCentres = Array.from({ length: N }, (_, i) => Math.sqrt(handEdges[i] * handEdges[i + 1]));
const BINS = `stages.cl.with.ell={"bins":{"min":${LO},"max":${HI},"count":${N},"spacing":"log"}}`;
const lmax = (x: number) => `stages.fisher.with.l_max={"WL":${x},"GC":${x},"XC":${x}}`;
const common = ['stages.cl.with.plot=false', 'stages.fisher.with.plot=false'];

async function run(sets: string[]) {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-ellbins-'));
  const r = await runJob({ file, out, quiet: true, store, sets: [...common, ...sets] });
  return { out, cl: r.outputs.get('cl') as Spectra, fisher: r.outputs.get('fisher') as FisherResult };
}

describe('multipole bins by edges', () => {
  it('edges and geometric-mean centres follow the formulas', () => {
    const spec = { bins: { min: LO, max: HI, count: N, spacing: 'log' as const } };
    const e = ellEdges(spec)!, c = ellGrid(spec);
    expect(e.length).toBe(N + 1);
    expect(e[0]).toBe(LO);
    expect(e[N]).toBe(HI);
    for (let i = 0; i <= N; i++) expect(Math.abs(e[i] / handEdges[i] - 1)).toBeLessThan(1e-13);
    for (let i = 0; i < N; i++) expect(Math.abs(c[i] / handCentres[i] - 1)).toBeLessThan(1e-13);
    // explicit edges give the same
    const c2 = ellGrid({ bins: { edges: handEdges } });
    for (let i = 0; i < N; i++) expect(Math.abs(c2[i] / handCentres[i] - 1)).toBeLessThan(1e-15);
  });

  it('an l_max that cuts a bin is refused before compute, naming the bin', async () => {
    await expect(preparePipeline(file, [], [...common, BINS, lmax(1462.887)])).rejects.toThrow(/with\.l_max\.WL = 1462\.887 cuts bin 99 \[1426\.\d+, 1500\] \(centre 1462\.887/);
    await expect(preparePipeline(file, [], [...common, BINS, lmax(1600)])).rejects.toThrow(/with\.l_max\.WL = 1600 is outside the binned multipoles \[10, 1500\]/);
    await expect(preparePipeline(file, [], [...common, BINS, 'stages.fisher.with.l_min=10.3', lmax(1500)])).rejects.toThrow(/with\.l_min = 10\.3 cuts bin 0 \[10, 10\.51\d+\] .* use 10 \(the bin kept\)/);
    // a grid of multipoles keeps the old rule (centres compared with l_max): no bin is cut there
    await expect(preparePipeline(file, [], [...common, lmax(1462.887)])).resolves.toBeTruthy();
    // the bin spec itself is checked at validate time
    await expect(preparePipeline(file, [], [...common, 'stages.cl.with.ell={"bins":{"min":10,"max":5,"count":3}}'])).rejects.toThrow(/stages\.cl\.with\.ell\.bins\.max: 5 must be above/);
  });

  it('binned run (l_max 1500 by edges) = explicit-centres run with the centres given by hand', async () => {
    await preparePipeline(file, [], [...common, BINS, lmax(HI)]); // validates
    const binned = await run([BINS, lmax(HI)]);
    // explicit centres: l_min / l_max are then compared with the first / last centre
    const explicit = await run([`stages.cl.with.ell=${JSON.stringify(handCentres)}`, lmax(handCentres[N - 1]), `stages.fisher.with.l_min=${handCentres[0]}`]);

    // the weights the covariance uses: f_sky (2l+1) Delta_l / 2, Delta_l from the hand edges
    const fsky = 0.3636;
    const { bins } = clBlocks(binned.cl, { probes: '3x2pt', fsky, l_max: { WL: HI, GC: HI }, l_min: LO });
    expect(bins.length).toBe(N);
    bins.forEach((b, i) => expect(Math.abs(b.weight / ((fsky * (2 * handCentres[i] + 1) * (handEdges[i + 1] - handEdges[i])) / 2) - 1)).toBeLessThan(1e-12));

    const a = binned.fisher, b = explicit.fisher;
    expect(a.names).toEqual(b.names);
    let worst = 0;
    a.names.forEach((_, i) => { worst = Math.max(worst, Math.abs(a.sigmaMarginalized[i] / b.sigmaMarginalized[i] - 1)); });
    console.log(`binned vs explicit centres: largest relative difference of the marginalized errors ${worst.toExponential(2)}; fom ${a.fom.toFixed(3)} vs ${b.fom.toFixed(3)}`);
    expect(worst).toBeLessThan(1e-9);
    expect(Math.abs(a.fom / b.fom - 1)).toBeLessThan(1e-9);
    expect(a.settings.bins_used).toBe(N);

    // the edges travel in cl.json and come back with the spectra
    const back = readSpectra(binned.out, 'cl')!;
    expect(Array.from(back.ellEdges!)).toEqual(Array.from(binned.cl.ellEdges!));
    expect(JSON.parse(fs.readFileSync(path.join(binned.out, 'cl.json'), 'utf8')).ell.edges).toHaveLength(N + 1);

    // l_max on an inner edge keeps exactly the bins below it
    const e90 = binned.cl.ellEdges![90];
    const cut = clBlocks(binned.cl, { probes: '3x2pt', fsky, l_max: { WL: e90, GC: e90 }, l_min: LO });
    expect(cut.bins.length).toBe(90);
  }, 120_000);
});
