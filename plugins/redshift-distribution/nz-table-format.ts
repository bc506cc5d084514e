/**
 * The n(z) table format: tab-separated, one optional header line (`z  n1 ... nN`), then one row per
 * redshift: z (strictly ascending) followed by n_1(z) ... n_N(z) (finite, >= 0). Lines starting with `#`
 * and blank lines are skipped. This is the layout of `nz_euclid_istf_10bins.tsv`.
 *
 * Errors name the file, the 1-based line and column (and the column's header name) and what is allowed.
 */
import type { RedshiftDistribution } from '../contracts/redshift.js';

export interface NzTable {
  /** Column names (header, or z, n1, n2, ... when there is none). */
  readonly columns: string[];
  readonly z: Float64Array;
  readonly nBins: number;
  /** n_i(z_k), row-major bin-by-z: rows[i * nz + k]. */
  readonly rows: Float64Array;
}

const isNumberLike = (s: string) => /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s) || /^[+-]?(nan|inf|infinity)$/i.test(s);

export function parseNzTable(text: string, file: string): NzTable {
  const lines = text.split(/\r?\n/);
  let columns: string[] | null = null;
  let headerLine = 0;
  const data: { line: number; fields: string[] }[] = [];
  for (let l = 0; l < lines.length; l++) {
    const raw = lines[l];
    const t = raw.trim();
    if (t === '' || t.startsWith('#')) continue;
    const fields = (raw.includes('\t') ? raw.split('\t') : t.split(/\s+/)).map((s) => s.trim());
    if (columns === null && data.length === 0 && !isNumberLike(fields[0])) {
      columns = fields;
      headerLine = l + 1;
      continue;
    }
    data.push({ line: l + 1, fields });
  }
  if (data.length === 0) throw new Error(`${file}: no data rows`);
  const width = columns ? columns.length : data[0].fields.length;
  const where = columns ? `the header (line ${headerLine})` : `the first data row (line ${data[0].line})`;
  if (width < 2) throw new Error(`${file}: ${where} has ${width} column; need z and at least one n_i(z) column`);
  const names = columns ?? ['z', ...Array.from({ length: width - 1 }, (_, i) => `n${i + 1}`)];
  const nz = data.length;
  if (nz < 4) throw new Error(`${file}: ${nz} data rows; need at least 4 redshifts (cubic interpolation)`);
  const nBins = width - 1;
  const z = new Float64Array(nz);
  const rows = new Float64Array(nBins * nz);
  for (let k = 0; k < nz; k++) {
    const { line, fields } = data[k];
    if (fields.length !== width)
      throw new Error(`${file}:${line}: ragged row: ${fields.length} columns, but ${where} has ${width}`);
    for (let c = 0; c < width; c++) {
      const s = fields[c];
      const v = s === '' ? NaN : Number(s);
      const at = `${file}:${line}: column ${c + 1} (${names[c]})`;
      if (Number.isNaN(v)) throw new Error(`${at}: '${s}' is not a number`);
      if (!Number.isFinite(v)) throw new Error(`${at}: ${s} is not finite`);
      if (c === 0) {
        if (v < 0) throw new Error(`${at}: redshift ${s} is negative`);
        if (k > 0 && !(v > z[k - 1]))
          throw new Error(`${at}: redshift ${s} does not increase (previous row has ${z[k - 1]}); z must be strictly ascending`);
        z[k] = v;
      } else {
        if (v < 0) throw new Error(`${at}: value ${s} is negative; n(z) must be >= 0`);
        rows[(c - 1) * nz + k] = v;
      }
    }
  }
  for (let i = 0; i < nBins; i++) {
    let any = false;
    for (let k = 0; k < nz && !any; k++) any = rows[i * nz + k] > 0;
    if (!any) throw new Error(`${file}: column ${i + 2} (${names[i + 1]}) is zero everywhere; it cannot be normalised`);
  }
  return { columns: names, z, nBins, rows };
}

/** Write a distribution in the same format (11 significant digits, as the reference table). */
export function formatNzTsv(nz: RedshiftDistribution): string {
  const n = nz.z.length;
  const v = nz.n.value;
  const out: string[] = [['z', ...Array.from({ length: nz.nBins }, (_, i) => `n${i + 1}`)].join('\t')];
  for (let k = 0; k < n; k++) {
    const row = [String(nz.z[k])];
    for (let i = 0; i < nz.nBins; i++) row.push(v[i * n + k].toExponential(10));
    out.push(row.join('\t'));
  }
  return out.join('\n') + '\n';
}
