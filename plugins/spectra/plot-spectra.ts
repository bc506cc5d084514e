/**
 * The C_l figure written next to cl.tsv: one row per probe (LL cosmic shear, GL galaxy-galaxy lensing,
 * GG clustering, in the order of the data), log-log D_l = l(l+1) C_l / 2pi against l.
 *
 *   column 0     all auto-spectra (i, i) of the probe, coloured by bin;
 *   column i     bin i of the first tracer against every bin j of the second (A_i x B_j, j = 1..n),
 *                coloured by j, the auto-spectrum j = i drawn thick.
 *
 * So every one of the n(n+1)/2 + n^2 + n(n+1)/2 spectra appears (symmetric pairs in both of their
 * panels), panels stay ~10 lines each, and the colour of a line is always its bin. Negative values
 * (e.g. GL with the source bin in front of the lens bin, intrinsic alignments) are shown as |D_l|, dashed.
 */
import { Figure, orderedColors, toPng, type LegendEntry } from '../../core/plot/index.js';
import type { Spectra } from '../contracts/spectra.js';

const PROBE_NAMES: Record<string, string> = {
  LL: 'cosmic shear (LL)',
  GL: 'galaxy-galaxy lensing (GL)',
  GG: 'galaxy clustering (GG)',
};

interface Probe {
  name: string;
  /** Bins of the first / second tracer. */
  nI: number;
  nJ: number;
  symmetric: boolean;
  /** A tracer alone in its family on the first side (KL_j = K x L_j): one panel, no index i. */
  single: boolean;
  /** Pair index of (i, j), 1-based bins, symmetric probes looked up both ways. */
  index: Map<string, number>;
}

function probes(s: Spectra): { list: Probe[]; other: number[] } {
  const list: Probe[] = [];
  const byName = new Map<string, Probe>();
  const other: number[] = [];
  s.pairNames.forEach((name, k) => {
    const m = /^([A-Za-z]+)_(\d+)_(\d+)$/.exec(name) ?? /^([A-Za-z]+)_(\d+)$/.exec(name);
    if (!m) { other.push(k); return; }
    const [, pname, si, sj] = m;
    const single = sj === undefined;
    const i = single ? 1 : Number(si), j = Number(single ? si : sj);
    let p = byName.get(pname);
    if (!p) {
      p = { name: pname, nI: 0, nJ: 0, single, symmetric: !single && pname.length % 2 === 0 && pname.slice(0, pname.length / 2) === pname.slice(pname.length / 2), index: new Map() };
      byName.set(pname, p);
      list.push(p);
    }
    p.nI = Math.max(p.nI, i);
    p.nJ = Math.max(p.nJ, j);
    p.index.set(`${i},${j}`, k);
  });
  for (const p of list) {
    if (!p.symmetric) continue;
    const n = Math.max(p.nI, p.nJ);
    p.nI = p.nJ = n;
    for (const [key, k] of [...p.index]) {
      const [i, j] = key.split(',');
      if (!p.index.has(`${j},${i}`)) p.index.set(`${j},${i}`, k);
    }
  }
  return { list, other };
}

/** Tracer letters of a probe name: 'GL' -> ['G', 'L']. */
function letters(probe: string): [string, string] {
  const h = Math.floor(probe.length / 2);
  return probe.length >= 2 ? [probe.slice(0, h), probe.slice(h)] : [probe, probe];
}

export async function plotSpectra(s: Spectra, title: string): Promise<{ svg: string; png: Uint8Array }> {
  const nl = s.ell.length;
  const nPairs = s.pairNames.length;
  if (s.C.value.length !== nPairs * nl) throw new Error(`plotSpectra: C has ${s.C.value.length} values, expected ${nPairs} pairs x ${nl} multipoles`);
  const D = (k: number): Float64Array => {
    const out = new Float64Array(nl);
    for (let l = 0; l < nl; l++) {
      const L = s.ell[l];
      out[l] = (L * (L + 1) * s.C.value[k * nl + l]) / (2 * Math.PI);
    }
    return out;
  };

  const { list, other } = probes(s);
  const maxI = Math.max(1, ...list.filter((p) => !p.single).map((p) => p.nI));
  const nBins = Math.max(1, ...list.map((p) => Math.max(p.nI, p.nJ)));
  const autosCol = maxI > 1 ? 1 : 0;
  const cols = Math.max(1, autosCol + maxI);
  const rows = list.length + (other.length ? 1 : 0);
  const colors = orderedColors(nBins);

  const width = Math.min(2400, Math.max(1600, 230 * cols + 450));
  const estPanel = (width - 460) / cols;
  const panelHeight = Math.round(Math.min(380, Math.max(180, estPanel * 1.2)));
  const ellMin = nl ? s.ell[0] : 1, ellMax = nl ? s.ell[nl - 1] : 10;
  const fig = new Figure({
    rows, cols, width, panelHeight,
    sharex: 'all', sharey: 'row',
    title: `${title}: angular power spectra, ${nPairs} pairs, ${nl} multipoles, ℓ = ${fmtEll(ellMin)}–${fmtEll(ellMax)}`,
    xLabel: 'multipole ℓ',
    yLabel: 'ℓ(ℓ+1) C_{ℓ} / 2π   (|value|, dashed where negative)',
    rowLabels: [...list.map((p) => PROBE_NAMES[p.name] ?? p.name), ...(other.length ? ['other pairs'] : [])],
    fontSize: 14,
  });
  const xAxis = { scale: 'log' as const, nice: false, min: ellMin, max: ellMax };
  const yAxis = { scale: 'log' as const, maxDecades: 6 };
  const thick = 2.6, thin = 1.4;

  list.forEach((p, r) => {
    const [A, B] = letters(p.name);
    if (p.single) {
      // one tracer against every bin of the other family (e.g. CMB lensing x shear): a single panel
      const panel = fig.panel(r, 0).setX(xAxis).setY(yAxis).setTitle(`${A} × ${B}_{j}`);
      for (let j = 1; j <= p.nJ; j++) {
        const k = p.index.get(`1,${j}`);
        if (k !== undefined) panel.line(s.ell, D(k), { color: colors[j - 1], width: thin, negative: 'dashed' });
      }
      return;
    }
    if (autosCol) {
      const panel = fig.panel(r, 0).setX(xAxis).setY(yAxis).setTitle(`${A}_{i} × ${B}_{i}  (all i)`);
      for (let i = 1; i <= Math.min(p.nI, p.nJ); i++) {
        const k = p.index.get(`${i},${i}`);
        if (k !== undefined) panel.line(s.ell, D(k), { color: colors[i - 1], width: 2, negative: 'dashed' });
      }
    }
    for (let i = 1; i <= p.nI; i++) {
      const panel = fig.panel(r, autosCol + i - 1).setX(xAxis).setY(yAxis).setTitle(`${A}_{${i}} × ${B}_{j}`);
      // the auto-spectrum last, so it is drawn on top
      const js = Array.from({ length: p.nJ }, (_, t) => t + 1).sort((a, b) => Number(a === i) - Number(b === i));
      for (const j of js) {
        const k = p.index.get(`${i},${j}`);
        if (k !== undefined) panel.line(s.ell, D(k), { color: colors[j - 1], width: j === i ? thick : thin, negative: 'dashed' });
      }
    }
  });
  if (other.length) {
    const panel = fig.panel(list.length, 0).setX(xAxis).setY(yAxis).setTitle('other pairs');
    const oc = orderedColors(other.length);
    other.forEach((k, t) => panel.line(s.ell, D(k), { color: oc[t], width: thin, negative: 'dashed', label: other.length <= 12 ? s.pairNames[k] : undefined }));
    if (other.length <= 12) panel.legend({ loc: 'outside right' });
  }

  const entries: LegendEntry[] = colors.map((c, t) => ({ label: `bin ${t + 1}`, color: c, width: thick }));
  entries.push(
    { label: '', kind: 'none' },
    { label: 'j = i (auto)', color: '#333333', width: thick },
    { label: 'j ≠ i (cross)', color: '#333333', width: thin },
    { label: 'negative: |D_{ℓ}|', color: '#333333', width: thin, dash: '6 4' },
  );
  fig.legend(entries, { title: 'colour = bin j', position: 'right' });

  const svg = fig.toSvg();
  const png = await toPng(svg);
  return { svg, png };
}

function fmtEll(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const t = v.toPrecision(4);
  return t.includes('.') && !t.includes('e') ? t.replace(/\.?0+$/, '') : t; // strip zeros after a decimal point only
}
