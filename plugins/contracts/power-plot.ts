/**
 * The plot hook of every power stage (`redraw: redrawPowerTables`): the shared output helper next to the table format
 * (power-table.ts), so that any linear-power or nonlinear-power plugin, built-in or third-party, draws its tables the
 * same way. `cosmodag plot DIR` for the power pipelines: pk.tsv / pk_nl.tsv (the layout every power stage writes:
 * k_1overMpc, then P_z<z>_Mpc3 per redshift; plugins/contracts/power-table.ts) as P(k) at each z on log-log axes
 * and, given a reference table in the same layout (`--reference FILE`), a lower panel of P / P_ref - 1 at the
 * redshifts both tables have, the reference interpolated linearly in (ln k, ln P) to our k within its range.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CATEGORY10, Figure, toPng } from '../../core/plot/index.js';
import type { OutputFiles, StagePlugin } from '../../core/plugin/types.js';

export interface PkTable { k: Float64Array; z: number[]; P: Float64Array[] }

/** A pk.tsv-like table; errors name the file and the column. */
export function readPkTable(file: string): PkTable {
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  const head = lines[0].split('\t');
  if (head[0] !== 'k_1overMpc') throw new Error(`${file}: the first column must be k_1overMpc (the layout of pk.tsv), found ${head[0]}`);
  const z = head.slice(1).map((h) => {
    const m = /^P_z([-+0-9.eE]+)_Mpc3$/.exec(h);
    if (!m) throw new Error(`${file}: column ${h} is not P_z<z>_Mpc3`);
    return Number(m[1]);
  });
  const rows = lines.slice(1).map((l) => l.split('\t').map(Number));
  rows.forEach((r, i) => { if (r.length !== head.length || r.some((x) => !Number.isFinite(x))) throw new Error(`${file}, line ${i + 2}: expected ${head.length} numbers`); });
  return { k: Float64Array.from(rows, (r) => r[0]), z, P: z.map((_, j) => Float64Array.from(rows, (r) => r[j + 1])) };
}

/** Linear interpolation of y(x) in (ln x, ln y) at xs; NaN outside [x_0, x_n-1]. */
function logInterp(x: Float64Array, y: Float64Array, xs: Float64Array): Float64Array {
  const out = new Float64Array(xs.length).fill(NaN);
  let i = 0;
  for (let q = 0; q < xs.length; q++) {
    const v = xs[q];
    if (!(v >= x[0] && v <= x[x.length - 1])) continue;
    while (i < x.length - 2 && x[i + 1] < v) i++;
    const t = (Math.log(v) - Math.log(x[i])) / (Math.log(x[i + 1]) - Math.log(x[i]));
    out[q] = Math.exp(Math.log(y[i]) + t * (Math.log(y[i + 1]) - Math.log(y[i])));
  }
  return out;
}

/** P / P_ref - 1 at the redshifts both tables have: [our column, ratio at our k (NaN outside the reference's k)]. */
export function ratioToReference(t: PkTable, ref: PkTable): [number, Float64Array][] {
  return t.z.map((z, j) => [j, ref.z.findIndex((w) => Math.abs(w - z) < 1e-9)] as const).filter(([, r]) => r >= 0)
    .map(([j, r]) => { const Pr = logInterp(ref.k, ref.P[r], t.k); return [j, Float64Array.from(t.P[j], (p, q) => p / Pr[q] - 1)]; });
}

export async function plotPower(t: PkTable, title: string, ref?: { table: PkTable; name: string }): Promise<{ svg: string; png: Uint8Array }> {
  const common = ref ? t.z.map((z, j) => [j, ref.table.z.findIndex((w) => Math.abs(w - z) < 1e-9)]).filter(([, r]) => r >= 0) : [];
  const ratios = ref ? ratioToReference(t, ref.table) : [];
  const fig = new Figure({ rows: common.length ? 2 : 1, cols: 1, panelWidth: 620, panelHeight: 360, sharex: 'col', title, xLabel: 'k [1/Mpc]', fontSize: 14 });
  const top = fig.panel(0, 0).setX({ scale: 'log' }).setY({ scale: 'log', label: 'P(k, z) [Mpc^{3}]' });
  t.z.forEach((z, j) => top.line(t.k, t.P[j], { color: CATEGORY10[j % CATEGORY10.length], label: `z = ${z}` }));
  if (common.length) {
    for (const [j, r] of common) top.line(ref!.table.k, ref!.table.P[r], { color: CATEGORY10[j % CATEGORY10.length], dash: '5 4', width: 1.2 });
    const low = fig.panel(1, 0).setX({ scale: 'log' }).setY({ label: `P / P_{ref} − 1` }).setTitle(`against ${ref!.name} (dashed above)`);
    low.hline(0, { color: '#888', width: 1 });
    for (const [j, ratio] of ratios) low.line(t.k, ratio, { color: CATEGORY10[j % CATEGORY10.length], label: `z = ${t.z[j]}` });
  }
  top.legend();
  const svg = fig.toSvg();
  return { svg, png: await toPng(svg) };
}

/** The plots of the power tables found in dir (pk.tsv, pk_nl.tsv), or null when there are none. */
export async function redrawPower(dir: string, reference?: string): Promise<OutputFiles | null> {
  const files: OutputFiles = {};
  const ref = reference ? { table: readPkTable(reference), name: path.basename(reference) } : undefined;
  for (const base of ['pk', 'pk_nl']) {
    const f = path.join(dir, `${base}.tsv`);
    if (!fs.existsSync(f)) continue;
    const { svg, png } = await plotPower(readPkTable(f), `${base === 'pk' ? 'linear' : 'non-linear'} P(k, z): ${base}.tsv`, ref);
    files[`${base}.svg`] = svg;
    files[`${base}.png`] = png;
  }
  return Object.keys(files).length ? files : null;
}

/**
 * The `redraw` hook of a power stage: `redraw: redrawPowerTables` in its descriptor. One function shared by all, so
 * that `cosmodag plot DIR` (which calls each distinct hook once) draws pk.tsv and pk_nl.tsv once, however many
 * power plugins are loaded.
 */
export const redrawPowerTables: NonNullable<StagePlugin['redraw']> = (dir, opts) => redrawPower(dir, opts?.reference);
