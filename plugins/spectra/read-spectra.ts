/** Reading back `cl.tsv` + `cl.json` written by the Limber stage (for `cosmodag plot`). */
import fs from 'node:fs';
import path from 'node:path';
import type { Spectra } from '../contracts/spectra.js';
import { pairName, type Tracer } from '../contracts/tracers.js';

/** Tracers as cl.json lists them: full descriptors, or (files written before tracers owned their physics) names. */
function tracersOf(list: unknown, json: string): Tracer[] {
  if (!Array.isArray(list)) throw new Error(`${json}: "tracers" must be a list`);
  return list.map((t, i) => {
    if (t && typeof t === 'object' && typeof (t as Tracer).name === 'string') return t as Tracer;
    const m = typeof t === 'string' ? /^([A-Za-z]+)(\d*)$/.exec(t) : null;
    if (!m) throw new Error(`${json}: tracers[${i}] is neither a tracer nor a tracer name`);
    const code = m[1];
    return {
      name: t as string, code, index: m[2] ? Number(m[2]) : undefined, family: code === 'L' ? 'WL' : code === 'G' ? 'GC' : code,
      ellFactor: code === 'L' ? 'spin2' : 'none', power: 'matter', noise: 0,
    };
  });
}

export function readSpectra(dir: string, base = 'cl'): Spectra | null {
  const tsv = path.join(dir, `${base}.tsv`), json = path.join(dir, `${base}.json`);
  if (!fs.existsSync(tsv) || !fs.existsSync(json)) return null;
  const meta = JSON.parse(fs.readFileSync(json, 'utf8')) as { tracers?: unknown; settings?: Record<string, unknown>; ell?: { edges?: unknown } };
  const lines = fs.readFileSync(tsv, 'utf8').split('\n').filter((l) => l.trim());
  const header = lines[0].split('\t');
  if (header[0] !== 'ell') throw new Error(`${tsv}: the first column must be ell`);
  const names = header.slice(1);
  const tracers = tracersOf(meta.tracers, json);
  // every ordered pair's name -> its tracer indices
  const byName = new Map<string, readonly [number, number]>();
  tracers.forEach((a, i) => tracers.forEach((b, j) => byName.set(pairName(a, b), [i, j] as const)));
  const pairs = names.map((n) => {
    const p = byName.get(n);
    if (!p) throw new Error(`${tsv}: column ${n} names tracers not listed in ${json}`);
    return p;
  });
  const rows = lines.slice(1).map((l, r) => {
    const cells = l.split('\t');
    const v = cells.map(Number);
    if (v.length !== header.length) throw new Error(`${tsv}, line ${r + 2}: expected ${header.length} numbers, found ${v.length}`);
    const bad = v.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new Error(`${tsv}, line ${r + 2}, column ${header[bad]}: ${JSON.stringify(cells[bad])} is not a finite number`);
    return v;
  });
  const nl = rows.length;
  const C = new Float64Array(names.length * nl);
  rows.forEach((v, l) => names.forEach((_, p) => { C[p * nl + l] = v[p + 1]; }));
  const ell = Float64Array.from(rows, (v) => v[0]);
  // bins by edges (cl.json ell.edges, nEll + 1 of them)
  const e = meta.ell?.edges;
  let ellEdges: Float64Array | undefined;
  if (e !== undefined) {
    if (!Array.isArray(e) || e.length !== nl + 1 || !e.every((x) => typeof x === 'number' && Number.isFinite(x)))
      throw new Error(`${json}: ell.edges must be a list of ${nl + 1} numbers (one more than the multipoles of ${tsv})`);
    ellEdges = Float64Array.from(e as number[]);
  }
  return { ell, ...(ellEdges ? { ellEdges } : {}), tracers, pairNames: names, pairs, C: { value: C, tangent: null, P: 0 }, settings: meta.settings ?? {} };
}
