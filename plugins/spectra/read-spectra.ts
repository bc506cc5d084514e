/** Reading back `cl.tsv` + `cl.json` written by the Limber stage (for `cosmodag plot`). */
import fs from 'node:fs';
import path from 'node:path';
import type { Spectra } from '../contracts/spectra.js';

export function readSpectra(dir: string, base = 'cl'): Spectra | null {
  const tsv = path.join(dir, `${base}.tsv`), json = path.join(dir, `${base}.json`);
  if (!fs.existsSync(tsv) || !fs.existsSync(json)) return null;
  const meta = JSON.parse(fs.readFileSync(json, 'utf8'));
  const lines = fs.readFileSync(tsv, 'utf8').split('\n').filter((l) => l.trim());
  const header = lines[0].split('\t');
  if (header[0] !== 'ell') throw new Error(`${tsv}: the first column must be ell`);
  const names = header.slice(1);
  const tracers: string[] = meta.tracers;
  const index = new Map(tracers.map((t, i) => [t, i]));
  const pairs = names.map((n) => {
    const [kind, i, j] = n.split('_');
    const a = `${kind[0]}${i}`, b = `${kind[1]}${j}`;
    if (!index.has(a) || !index.has(b)) throw new Error(`${tsv}: column ${n} names tracers not listed in ${json}`);
    return [index.get(a)!, index.get(b)!] as const;
  });
  const rows = lines.slice(1).map((l, r) => {
    const v = l.split('\t').map(Number);
    if (v.length !== header.length || v.some((x) => !Number.isFinite(x))) throw new Error(`${tsv}, line ${r + 2}: expected ${header.length} numbers`);
    return v;
  });
  const nl = rows.length;
  const C = new Float64Array(names.length * nl);
  rows.forEach((v, l) => names.forEach((_, p) => { C[p * nl + l] = v[p + 1]; }));
  return { ell: Float64Array.from(rows, (v) => v[0]), tracers, pairNames: names, pairs, C: { value: C, tangent: null, P: 0 }, settings: meta.settings ?? {} };
}
