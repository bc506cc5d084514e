/** Synthetic tomographic spectra for the plot tests. */
import type { Spectra } from '../../../plugins/contracts/spectra.js';
import type { Tracer } from '../../../plugins/contracts/tracers.js';

/** Synthetic 3x2pt-like spectra: power laws with bin-dependent amplitudes and some sign changes. */
export function syntheticSpectra(nBins = 10, nEll = 60): Spectra {
  const ell = Float64Array.from({ length: nEll }, (_, k) => 10 * 500 ** (k / (nEll - 1)));
  const names: string[] = [];
  const pairs: [number, number][] = [];
  const rows: Float64Array[] = [];
  const L = (i: number) => i - 1, G = (i: number) => nBins + i - 1;
  const toC = (D: (l: number) => number) => ell.map((l) => (2 * Math.PI * D(l)) / (l * (l + 1)));
  for (let i = 1; i <= nBins; i++) for (let j = i; j <= nBins; j++) {
    names.push(`LL_${i}_${j}`); pairs.push([L(i), L(j)]);
    const amp = 2e-6 * (1 + 0.6 * i) * (1 + 0.3 * (j - i)) ** -0.3 * (1 + 0.5 * j);
    rows.push(toC((l) => amp * (l / 100) ** 0.9 / (1 + (l / 2000) ** 0.8)));
  }
  for (let i = 1; i <= nBins; i++) for (let j = 1; j <= nBins; j++) {
    names.push(`GL_${i}_${j}`); pairs.push([G(i), L(j)]);
    if (j > i) {
      const amp = 4e-5 * (1 + 0.4 * (j - i)) / (1 + 0.1 * i);
      rows.push(toC((l) => amp * (l / 100) ** 0.8));
    } else {
      // lens bin in front of the source bin: small, negative (IA-like); (i, i) changes sign at l ~ 300
      const amp = 3e-7 * (1 + 0.3 * i) * 0.6 ** (i - j);
      rows.push(toC((l) => (j === i ? amp * 30 * (1 - (l / 300) ** 0.7) : -amp * (l / 100) ** 0.6)));
    }
  }
  for (let i = 1; i <= nBins; i++) for (let j = i; j <= nBins; j++) {
    names.push(`GG_${i}_${j}`); pairs.push([G(i), G(j)]);
    const amp = 3e-3 * (1 + 0.1 * i) * 0.12 ** (j - i);
    rows.push(toC((l) => amp * (l / 100) ** 1.1 / (1 + (l / 1500) ** 1.5)));
  }
  const value = new Float64Array(rows.length * nEll);
  rows.forEach((r, k) => value.set(r, k * nEll));
  const tracer = (code: 'L' | 'G', i: number): Tracer => ({
    name: `${code}${i + 1}`, code, index: i + 1, family: code === 'L' ? 'WL' : 'GC', ellFactor: code === 'L' ? 'spin2' : 'none', power: 'matter', noise: 0,
  });
  const tracers = [...Array.from({ length: nBins }, (_, i) => tracer('L', i)), ...Array.from({ length: nBins }, (_, i) => tracer('G', i))];
  return { ell, tracers, pairNames: names, pairs, C: { value, tangent: null, P: 0 }, settings: {} };
}
