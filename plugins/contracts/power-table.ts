/**
 * Tabulated P(k, z): reading a TSV table, interpolating it, and writing one.
 *
 * Shared by `linear-power/grid`, `nonlinear-power/grid` and the `write()` of every power stage (the
 * nonlinear-power plugins import this file: it is the port family's table format, not a method).
 *
 * Format (docs/power.md): '#' lines are comments; the first other line is the header, then one row per k.
 * Columns are separated by tabs (or, when a line has no tab, by runs of spaces).
 *   k column (first):  `k_1overMpc` | `k[1/Mpc]`          k in 1/Mpc
 *                      `k_hoverMpc` | `k[h/Mpc]`          k in h/Mpc
 *                      `k`                                 unit from `h_units`
 *   P columns:         `P_z<z>_Mpc3` | `P(z=<z>)[Mpc^3]`   P in Mpc^3
 *                      `P_z<z>_Mpc3overh3` | `P(z=<z>)[(Mpc/h)^3]`  P in (Mpc/h)^3 (CLASS's pk tables)
 *                      `P(z=<z>)`                          unit from `h_units`
 *   P_cb columns:      `Pcb_z<z>_Mpc3` | `Pcb_z<z>_Mpc3overh3` the CDM + baryon spectrum (massive neutrinos), after
 *                      the P columns, at the same redshifts (what linear-power/boltzmann writes when m_nu > 0)
 * Internally k is in 1/Mpc and P in Mpc^3: k = h k_h, P = P_h / h^3.
 *
 * Interpolation (powerTableAt): a not-a-knot cubic spline of ln P in ln k along each tabulated z, then a
 * cubic spline of ln P in s = ln(1+z) across the tabulated redshifts (not-a-knot for >= 4 redshifts,
 * natural for 3, linear for 2). ln P_lin is ~ 2 ln D(z) + const, and ln D is close to linear in ln a = -s,
 * so this is the variable in which the z dependence is smoothest. Outside the tabulated k range: an error,
 * or with `extrapolate` a power law continuing the end segment (ln P linear in ln k with the slope of the
 * last two nodes). Outside the tabulated z range: always an error.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileFingerprint } from '../../core/cache/memo-key.js';
import { PLUGIN_API_VERSION, type ParameterSpec, type StagePlugin } from '../../core/plugin/types.js';
import type { PowerGrid } from './power.js';
import { evalInterval, findInterval, solveSecondDerivs, splineFactor, type SplineFactor } from '../../core/numerics/spline.js';
import { describePowerGridFile } from './power-describe.js';
import { redrawPowerTables } from './power-plot.js';

export interface PowerTable {
  /** Where it came from (file name), for messages. */
  readonly source: string;
  /** Ascending wavenumbers [1/Mpc]. */
  readonly k_1overMpc: Float64Array;
  /** Ascending redshifts. */
  readonly z: Float64Array;
  /** P [Mpc^3], row-major z-by-k: P[iz * nk + ik]. */
  readonly P_Mpc3: Float64Array;
  /** P_cb [Mpc^3] (CDM + baryons) from `Pcb_z<z>_Mpc3` columns, same z and layout as P_Mpc3; absent without them. */
  readonly Pcb_Mpc3?: Float64Array;
}

/** true: columns without an explicit unit are in h-units; false: in Mpc units; 'auto': every column must say. */
export type HUnits = boolean | 'auto';

export interface PowerTableReadOptions {
  h_units: HUnits;
  /** Needed when any column is in h-units. */
  h?: number;
}

type Unit = 'Mpc' | 'h' | 'unspecified';

interface KColumn {
  unit: Unit;
}
interface PColumn {
  z: number;
  unit: Unit;
  /** a `Pcb_...` column (CDM + baryons) */
  cb: boolean;
}

function parseKHeader(name: string): KColumn | null {
  if (name === 'k_1overMpc' || name === 'k[1/Mpc]') return { unit: 'Mpc' };
  if (name === 'k_hoverMpc' || name === 'k[h/Mpc]') return { unit: 'h' };
  if (name === 'k') return { unit: 'unspecified' };
  return null;
}

const NUM = '([-+]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][-+]?\\d+)?)';
const OURS = new RegExp(`^P(cb)?_z${NUM}_(Mpc3|Mpc3overh3)$`);
const CLASS = new RegExp(`^P\\(z=${NUM}\\)(\\[Mpc\\^3\\]|\\[\\(Mpc/h\\)\\^3\\])?$`);

function parsePHeader(name: string): PColumn | null {
  let m = OURS.exec(name);
  if (m) return { z: Number(m[2]), unit: m[3] === 'Mpc3' ? 'Mpc' : 'h', cb: m[1] === 'cb' };
  m = CLASS.exec(name);
  if (m) return { z: Number(m[1]), unit: m[2] === undefined ? 'unspecified' : m[2] === '[Mpc^3]' ? 'Mpc' : 'h', cb: false };
  return null;
}

const splitLine = (line: string): string[] => (line.includes('\t') ? line.split('\t').map((s) => s.trim()) : line.trim().split(/ +/));

/** The unit a column is finally read in, or an error naming the column and what would fix it. */
function resolveUnit(u: Unit, column: string, where: string, h_units: HUnits): 'Mpc' | 'h' {
  if (u === 'unspecified') {
    if (h_units === 'auto')
      throw new Error(
        `${where}: column '${column}' does not say its unit; set with.h_units to true ((Mpc/h) units) or false (Mpc units), ` +
          "or name the column with its unit (e.g. 'k_1overMpc', 'P_z0_Mpc3', 'P(z=0)[(Mpc/h)^3]')",
      );
    return h_units ? 'h' : 'Mpc';
  }
  if (h_units !== 'auto' && (u === 'h') !== h_units)
    throw new Error(
      `${where}: column '${column}' is in ${u === 'h' ? 'h-units' : 'Mpc units'} but with.h_units = ${h_units}; ` +
        "remove with.h_units (or set it to 'auto') to use the header's units",
    );
  return u;
}

/** Parse the text of a P(k, z) table (see the file comment for the format). */
export function parsePowerTable(text: string, source: string, opts: PowerTableReadOptions): PowerTable {
  const lines = text.split(/\r?\n/);
  let headerLine = -1;
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t === '' || t.startsWith('#')) continue;
    headerLine = i;
    break;
  }
  if (headerLine < 0) throw new Error(`${source}: no header line (the file is empty or only comments)`);
  const where = (i: number) => `${source}:${i + 1}`;
  const head = splitLine(lines[headerLine]);
  const kCol = parseKHeader(head[0]);
  if (!kCol)
    throw new Error(
      `${where(headerLine)}: the first column must be k, named 'k_1overMpc', 'k_hoverMpc', 'k[h/Mpc]', 'k[1/Mpc]' or 'k'; got '${head[0]}'`,
    );
  if (head.length < 2) throw new Error(`${where(headerLine)}: the header has a k column but no P(k, z) column`);
  const pCols: PColumn[] = [];
  for (let j = 1; j < head.length; j++) {
    const c = parsePHeader(head[j]);
    if (!c || !Number.isFinite(c.z) || c.z < 0)
      throw new Error(
        `${where(headerLine)}: column ${j + 1} '${head[j]}' is not a P(k, z) column; expected 'P_z<z>_Mpc3', ` +
          `'P_z<z>_Mpc3overh3', CLASS's 'P(z=<z>)[(Mpc/h)^3]' or (CDM + baryons) 'Pcb_z<z>_Mpc3' with z >= 0`,
      );
    pCols.push(c);
  }
  const kUnit = resolveUnit(kCol.unit, head[0], where(headerLine), opts.h_units);
  const pUnits = pCols.map((c, j) => resolveUnit(c.unit, head[j + 1], where(headerLine), opts.h_units));
  const needH = kUnit === 'h' || pUnits.includes('h');
  const h = opts.h;
  if (needH && !(h !== undefined && Number.isFinite(h) && h > 0))
    throw new Error(`${where(headerLine)}: the table is in h-units, so a positive parameter h is needed to convert it; got ${h}`);

  // z columns: distinct; sorted ascending (the file may list them in any order); P_cb columns at the same z as P's
  const sorted = (cb: boolean) => pCols.map((_, j) => j).filter((j) => pCols[j].cb === cb).sort((a, b) => pCols[a].z - pCols[b].z);
  const order = sorted(false), orderCb = sorted(true);
  for (const o of [order, orderCb])
    for (let a = 1; a < o.length; a++)
      if (pCols[o[a]].z === pCols[o[a - 1]].z)
        throw new Error(`${where(headerLine)}: two columns ('${head[o[a - 1] + 1]}', '${head[o[a] + 1]}') have the same z = ${pCols[o[a]].z}`);
  if (order.length === 0)
    throw new Error(`${where(headerLine)}: the header has Pcb (CDM + baryon) columns but no P (total matter) column; a table gives P, and P_cb beside it`);
  if (orderCb.length && (orderCb.length !== order.length || orderCb.some((j, a) => pCols[j].z !== pCols[order[a]].z)))
    throw new Error(
      `${where(headerLine)}: the Pcb columns are at z = [${orderCb.map((j) => pCols[j].z).join(', ')}] but the P columns at ` +
        `z = [${order.map((j) => pCols[j].z).join(', ')}]; P_cb must be given at the same redshifts as P`,
    );

  const ks: number[] = [];
  const rows: number[][] = [];
  const lineOf: number[] = [];
  for (let i = headerLine + 1; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t === '' || t.startsWith('#')) continue;
    const f = splitLine(lines[i]);
    if (f.length !== head.length)
      throw new Error(`${where(i)}: ${f.length} columns, but the header has ${head.length}`);
    const vals = f.map(Number);
    for (let j = 0; j < vals.length; j++)
      if (!Number.isFinite(vals[j]) || f[j] === '')
        throw new Error(`${where(i)}: column ${j + 1} ('${head[j]}') holds '${f[j]}', which is not a finite number`);
    const k = vals[0];
    if (!(k > 0)) throw new Error(`${where(i)}: k = ${k} must be > 0`);
    if (ks.length && !(k > ks[ks.length - 1]))
      throw new Error(`${where(i)}: k = ${k} is not larger than the k on line ${lineOf[lineOf.length - 1] + 1} (${ks[ks.length - 1]}); k must be strictly ascending`);
    for (let j = 1; j < vals.length; j++)
      if (!(vals[j] > 0)) throw new Error(`${where(i)}: P = ${vals[j]} in column '${head[j]}' must be > 0 (a power spectrum is positive)`);
    ks.push(k);
    rows.push(vals);
    lineOf.push(i);
  }
  if (ks.length < 4) throw new Error(`${source}: ${ks.length} data rows; need at least 4 k values for a cubic spline in k`);

  const nk = ks.length, nz = order.length;
  const kScale = kUnit === 'h' ? h! : 1;
  const k_1overMpc = Float64Array.from(ks, (k) => k * kScale);
  const z = Float64Array.from(order, (j) => pCols[j].z);
  const columns = (o: number[]): Float64Array => {
    const out = new Float64Array(nz * nk);
    for (let a = 0; a < nz; a++) {
      const j = o[a];
      const pScale = pUnits[j] === 'h' ? 1 / (h! * h! * h!) : 1;
      for (let i = 0; i < nk; i++) out[a * nk + i] = rows[i][j + 1] * pScale;
    }
    return out;
  };
  const P_Mpc3 = columns(order);
  return orderCb.length ? { source, k_1overMpc, z, P_Mpc3, Pcb_Mpc3: columns(orderCb) } : { source, k_1overMpc, z, P_Mpc3 };
}

/** Read a table file (see parsePowerTable). */
export function readPowerTable(file: string, opts: PowerTableReadOptions): PowerTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the P(k, z) table '${file}': ${(e as Error).message}`);
  }
  return parsePowerTable(text, file, opts);
}

export interface PowerTableEvalOptions {
  /** Continue ln P linearly in ln k beyond the tabulated k range (else an error). */
  extrapolate: boolean;
  /** Name of the config field that switches extrapolation on, for the error message. */
  extrapolateField?: string;
}

/** Spline machinery in ln k of every z row (computed once per table). */
interface TableSplines {
  lnk: Float64Array;
  lnP: Float64Array;
  mk: Float64Array;
  s: Float64Array;
  fz: SplineFactor | null;
}
const splineCache = new WeakMap<PowerTable, TableSplines>();

function splinesOf(t: PowerTable): TableSplines {
  let c = splineCache.get(t);
  if (c) return c;
  const nk = t.k_1overMpc.length, nz = t.z.length;
  const lnk = Float64Array.from(t.k_1overMpc, Math.log);
  const lnP = Float64Array.from(t.P_Mpc3, Math.log);
  const fk = splineFactor(lnk, 'not-a-knot');
  const mk = new Float64Array(nz * nk);
  for (let r = 0; r < nz; r++) solveSecondDerivs(fk, lnP, r * nk, mk, r * nk);
  const s = Float64Array.from(t.z, Math.log1p);
  const fz = nz >= 4 ? splineFactor(s, 'not-a-knot') : nz === 3 ? splineFactor(s, 'natural') : null;
  c = { lnk, lnP, mk, s, fz };
  splineCache.set(t, c);
  return c;
}

/**
 * P [Mpc^3] of the table at every (zq, kq) pair: row-major zq-by-kq. zq must lie in the tabulated range;
 * kq too unless opts.extrapolate.
 */
export function powerTableAt(t: PowerTable, kq: Float64Array, zq: Float64Array, opts: PowerTableEvalOptions): Float64Array {
  const nk = t.k_1overMpc.length, nz = t.z.length;
  const nkq = kq.length, nzq = zq.length;
  const kLo = t.k_1overMpc[0], kHi = t.k_1overMpc[nk - 1];
  const zLo = t.z[0], zHi = t.z[nz - 1];
  const tolZ = 1e-12 * Math.max(1, zHi);
  for (let j = 0; j < nzq; j++)
    if (!(zq[j] >= zLo - tolZ && zq[j] <= zHi + tolZ))
      throw new Error(
        `${t.source}: z = ${zq[j]} is outside the tabulated redshifts [${zLo}, ${zHi}] ` +
          '(the table is never extrapolated in z; ask for z inside it or add columns)',
      );
  if (!opts.extrapolate) {
    const tolK = 1e-12;
    for (let i = 0; i < nkq; i++)
      if (!(kq[i] >= kLo * (1 - tolK) && kq[i] <= kHi * (1 + tolK)))
        throw new Error(
          `${t.source}: k = ${kq[i]} 1/Mpc is outside the tabulated range [${kLo}, ${kHi}] 1/Mpc; ` +
            `narrow the requested k range or set ${opts.extrapolateField ?? 'with.extrapolate'}: true (power law in k beyond the ends)`,
        );
  }
  const sp = splinesOf(t);
  const { lnk, lnP, mk } = sp;

  // 1. ln P at every tabulated z and requested k (nz x nkq)
  const A = new Float64Array(nz * nkq);
  const slopeLo = new Float64Array(nz), slopeHi = new Float64Array(nz);
  for (let r = 0; r < nz; r++) {
    const o = r * nk;
    slopeLo[r] = (lnP[o + 1] - lnP[o]) / (lnk[1] - lnk[0]);
    slopeHi[r] = (lnP[o + nk - 1] - lnP[o + nk - 2]) / (lnk[nk - 1] - lnk[nk - 2]);
  }
  let hint = 0;
  for (let i = 0; i < nkq; i++) {
    const x = Math.log(kq[i]);
    if (x < lnk[0]) {
      for (let r = 0; r < nz; r++) A[r * nkq + i] = lnP[r * nk] + slopeLo[r] * (x - lnk[0]);
    } else if (x > lnk[nk - 1]) {
      for (let r = 0; r < nz; r++) A[r * nkq + i] = lnP[r * nk + nk - 1] + slopeHi[r] * (x - lnk[nk - 1]);
    } else {
      hint = findInterval(lnk, x, hint);
      for (let r = 0; r < nz; r++) A[r * nkq + i] = evalInterval(lnk, lnP, r * nk, mk, r * nk, hint, x);
    }
  }

  // 2. across z in s = ln(1+z), for every requested k
  const out = new Float64Array(nzq * nkq);
  const col = new Float64Array(nz), mcol = new Float64Array(nz);
  const sq = Float64Array.from(zq, (z) => Math.log1p(Math.min(Math.max(z, zLo), zHi)));
  for (let i = 0; i < nkq; i++) {
    for (let r = 0; r < nz; r++) col[r] = A[r * nkq + i];
    if (nz === 1) {
      for (let j = 0; j < nzq; j++) out[j * nkq + i] = Math.exp(col[0]);
      continue;
    }
    if (sp.fz) solveSecondDerivs(sp.fz, col, 0, mcol, 0);
    let h = 0;
    for (let j = 0; j < nzq; j++) {
      h = findInterval(sp.s, sq[j], h);
      const v = sp.fz
        ? evalInterval(sp.s, col, 0, mcol, 0, h, sq[j])
        : col[h] + ((col[h + 1] - col[h]) * (sq[j] - sp.s[h])) / (sp.s[h + 1] - sp.s[h]);
      out[j * nkq + i] = Math.exp(v);
    }
  }
  return out;
}

/** Short decimal form of a redshift for a column name (0.5 -> '0.5', 1 -> '1', 1/3 -> '0.333333'). */
export function formatZ(z: number): string {
  return String(Number(z.toPrecision(6)));
}

/**
 * A P(k, z) table in the `k_1overMpc  P_z<z>_Mpc3 ...` format (P row-major z-by-k); with `Pcb_Mpc3` (the CDM +
 * baryon spectrum, same layout) its `Pcb_z<z>_Mpc3` columns follow the P columns.
 */
export function formatPowerTable(k_1overMpc: Float64Array, z: Float64Array, P_Mpc3: Float64Array, Pcb_Mpc3?: Float64Array): string {
  const nk = k_1overMpc.length;
  const sets = Pcb_Mpc3 ? [['P', P_Mpc3], ['Pcb', Pcb_Mpc3]] as const : [['P', P_Mpc3]] as const;
  const lines = [['k_1overMpc', ...sets.flatMap(([name]) => Array.from(z, (zz) => `${name}_z${formatZ(zz)}_Mpc3`))].join('\t')];
  for (let i = 0; i < nk; i++) {
    const row = [k_1overMpc[i].toExponential(10)];
    for (const [, P] of sets) for (let j = 0; j < z.length; j++) row.push(P[j * nk + i].toExponential(10));
    lines.push(row.join('\t'));
  }
  return lines.join('\n') + '\n';
}

/**
 * The `pk.tsv` a power stage writes: P at the grid's k for the redshifts zq (interpolated in z as in
 * powerTableAt when zq are not grid nodes), and when the grid carries P_cb (massive neutrinos) its
 * `Pcb_z<z>_Mpc3` columns after them. Values only; tangents are not written.
 */
export function formatPowerGridAt(
  grid: { k_1overMpc: Float64Array; z: Float64Array; P_Mpc3: { value: Float64Array }; P_cb_Mpc3?: { value: Float64Array }; source: string },
  zq: Float64Array,
): string {
  const at = (P: Float64Array, what: string) =>
    powerTableAt({ source: `${grid.source} ${what} grid`, k_1overMpc: grid.k_1overMpc, z: grid.z, P_Mpc3: P }, grid.k_1overMpc, zq, { extrapolate: false });
  const cb = grid.P_cb_Mpc3 ? at(grid.P_cb_Mpc3.value, 'P_cb(k, z)') : undefined;
  return formatPowerTable(grid.k_1overMpc, zq, at(grid.P_Mpc3.value, 'P(k, z)'), cb);
}

// ---------------------------------------------------------------------------------------------------------
// The `grid` stages (linear-power/grid, nonlinear-power/grid): a table file as a PowerGrid

/** Config of the `grid` stages. */
export interface PowerGridFileConfig {
  /** Path of the table (relative paths resolve against the pipeline file's folder). */
  file: string;
  /** A second table whose P columns are the CDM + baryon spectrum (CLASS's pk_cb_lin.tsv), on file's (k, z) grid. */
  cb_file?: string;
  /** Which spectrum the stage outputs: 'total' (the P columns) or 'cb' (the Pcb columns, or cb_file's). */
  matter?: 'total' | 'cb';
  h_units: HUnits;
  extrapolate: boolean;
  /** 'native': the table's own k; else a log-spaced grid (interpolated). */
  k: 'native' | { k_min?: number; k_max?: number; per_decade?: number };
  /** 'native': the table's own z; else {z_max, count, spacing} from z = 0 (interpolated). */
  z: 'native' | { z_max?: number; count?: number; spacing?: 'linear' | 'log1p' };
  /** Redshifts written to pk.tsv (default: the grid's). */
  output_z?: number[];
}

export const powerGridFileSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['file'],
  properties: {
    file: {
      type: 'string', minLength: 1,
      description:
        "TSV table: header 'k_1overMpc' | 'k_hoverMpc' | 'k[h/Mpc]', then one column per z: 'P_z<z>_Mpc3' or CLASS's 'P(z=<z>)[(Mpc/h)^3]' (docs/power.md); " +
        "a relative path resolves against the pipeline file's folder",
    },
    cb_file: {
      type: 'string', minLength: 1,
      description:
        "massive neutrinos: a second table whose P columns are the CDM + baryon spectrum P_cb (e.g. CLASS's pk_cb_lin.tsv beside " +
        "pk_lin.tsv), on the same k and z as file; not needed when file has Pcb_z<z>_Mpc3 columns (our pk.tsv with m_nu > 0)",
    },
    matter: {
      // no schema default (absent = 'total'): the configs, and so the memo keys, of existing grid stages stay as they were
      enum: ['total', 'cb'],
      description:
        "the spectrum this stage outputs: 'total' (default: the P columns; P_cb, when given, is carried along and written to pk.tsv) or " +
        "'cb' (CDM + baryons: the Pcb columns or cb_file; for a consumer that wants P_cb, e.g. HMcode's cold input)",
    },
    h_units: {
      enum: ['auto', true, false], default: 'auto',
      description: "'auto': units from the column names; true/false: columns without a unit are in (Mpc/h) units / Mpc units",
    },
    extrapolate: {
      type: 'boolean', default: false,
      description: 'continue P(k) as a power law beyond the tabulated k range (never in z); false: an error',
    },
    k: {
      default: 'native',
      description: "'native' (the table's k) or {k_min, k_max, per_decade}: a log-spaced grid interpolated in ln k (cubic in ln P)",
      oneOf: [
        { const: 'native' },
        {
          type: 'object', additionalProperties: false,
          properties: {
            k_min: { type: 'number', exclusiveMinimum: 0 },
            k_max: { type: 'number', exclusiveMinimum: 0 },
            per_decade: { type: 'integer', minimum: 5, maximum: 10000 },
          },
        },
      ],
    },
    z: {
      default: 'native',
      description: "'native' (the table's z) or {z_max, count, spacing} from z = 0: interpolated cubically in ln(1+z)",
      oneOf: [
        { const: 'native' },
        {
          type: 'object', additionalProperties: false,
          properties: {
            z_max: { type: 'number', exclusiveMinimum: 0 },
            count: { type: 'integer', minimum: 2 },
            spacing: { enum: ['linear', 'log1p'] },
          },
        },
      ],
    },
    output_z: {
      type: 'array', minItems: 1, items: { type: 'number', minimum: 0 },
      description: "redshifts of the columns written to pk.tsv (default: the grid's redshifts)",
    },
  },
} as const;

/** Parameter spec of h, read only to convert tables in h-units. */
export const H_UNIT_SPEC: ParameterSpec = {
  default: 0.67,
  description: 'dimensionless Hubble constant; used only to convert an (Mpc/h)-unit table to Mpc units (no derivative)',
  exclusiveMin: 0,
  max: 2,
};

/** The tables of a `grid` stage: total matter, and the CDM + baryon spectrum when given (Pcb columns or cb_file). */
export interface GridTables {
  total: PowerTable;
  cb: PowerTable | null;
}

/**
 * Read a `grid` stage's table(s) and check them against each other; errors start with the config path they
 * concern (`with.file`, `with.cb_file`, `with.matter`) and say what is allowed. Used by run and by describe (so
 * `cosmodag validate` reports them before compute).
 */
export function readGridTables(c: PowerGridFileConfig, baseDir: string, h: number | undefined): GridTables {
  const opts = { h_units: c.h_units ?? 'auto', h };
  const read = (path: string, file: string): PowerTable => {
    try {
      return readPowerTable(resolve(baseDir, file), opts);
    } catch (e) {
      throw new Error(`${path}: ${(e as Error).message}`);
    }
  };
  const total = read('with.file', c.file);
  let cb: PowerTable | null = total.Pcb_Mpc3
    ? { source: `${total.source} (Pcb columns)`, k_1overMpc: total.k_1overMpc, z: total.z, P_Mpc3: total.Pcb_Mpc3 }
    : null;
  if (c.cb_file !== undefined) {
    if (cb)
      throw new Error(
        `with.cb_file: ${c.file} (with.file) already has Pcb_z<z>_Mpc3 columns; give the CDM + baryon spectrum either as those ` +
          'columns or as with.cb_file, not both (remove with.cb_file to use the columns)',
      );
    const u = read('with.cb_file', c.cb_file);
    if (u.Pcb_Mpc3)
      throw new Error(
        `with.cb_file: ${c.cb_file} has Pcb_z<z>_Mpc3 columns; with.cb_file must be a table whose P columns are the CDM + baryon ` +
          "spectrum (e.g. CLASS's pk_cb_lin.tsv); a pk.tsv with Pcb columns goes in with.file alone",
      );
    const nk = total.k_1overMpc.length, nz = total.z.length;
    const fmt = (a: Float64Array) => `[${Array.from(a).join(', ')}]`;
    if (u.z.length !== nz || u.z.some((v, i) => v !== total.z[i]))
      throw new Error(
        `with.cb_file: its redshifts ${fmt(u.z)} (${c.cb_file}) differ from with.file's ${fmt(total.z)} (${c.file}); ` +
          'the two tables must share their z columns (and their k rows)',
      );
    if (u.k_1overMpc.length !== nk)
      throw new Error(
        `with.cb_file: ${u.k_1overMpc.length} k rows (${c.cb_file}) against ${nk} in with.file (${c.file}); the two tables must ` +
          'share their k rows (and z columns)',
      );
    for (let i = 0; i < nk; i++)
      if (Math.abs(u.k_1overMpc[i] / total.k_1overMpc[i] - 1) > 1e-9)
        throw new Error(
          `with.cb_file: k row ${i + 1} is ${u.k_1overMpc[i].toPrecision(10)} 1/Mpc (${c.cb_file}) but ${total.k_1overMpc[i].toPrecision(10)} 1/Mpc in with.file ` +
            `(${c.file}); the two tables must share their k rows (to 1e-9) and z columns`,
        );
    cb = u;
  }
  if ((c.matter ?? 'total') === 'cb' && !cb)
    throw new Error(
      `with.matter: 'cb' needs the CDM + baryon spectrum, but ${c.file} (with.file) has no Pcb_z<z>_Mpc3 columns and with.cb_file ` +
        "is not set; add with.cb_file (e.g. CLASS's pk_cb_lin.tsv), or use with.matter: 'total' (allowed: 'total', 'cb')",
    );
  return { total, cb };
}

/**
 * The table of a `grid` stage on its output grid: values only (P_Mpc3 without tangents: a fixed table does
 * not depend on the cosmological parameters; h, when needed for h-units, is used at its value). With
 * `matter: 'cb'` P_Mpc3 is the CDM + baryon spectrum; with 'total' and a P_cb given, P_cb_Mpc3 carries it.
 */
export function powerGridFromFile(id: string, c: PowerGridFileConfig, h: number | undefined, baseDir = process.cwd()): {
  k_1overMpc: Float64Array; z: Float64Array; P_Mpc3: { value: Float64Array; tangent: null; P: 0 };
  P_cb_Mpc3?: { value: Float64Array; tangent: null; P: 0 }; source: string;
} {
  const { total, cb } = readGridTables(c, baseDir, h);
  const wantCb = (c.matter ?? 'total') === 'cb';
  const t = wantCb ? cb! : total;
  let k = t.k_1overMpc, z = t.z;
  if (c.k !== 'native' && c.k !== undefined) {
    const kc = {
      k_min: c.k.k_min ?? t.k_1overMpc[0],
      k_max: c.k.k_max ?? t.k_1overMpc[t.k_1overMpc.length - 1],
      per_decade: c.k.per_decade ?? 100,
    };
    if (!(kc.k_max > kc.k_min)) throw new Error(`${id}: with.k.k_max = ${kc.k_max} must be larger than with.k.k_min = ${kc.k_min}`);
    const n = Math.max(2, Math.round(Math.log10(kc.k_max / kc.k_min) * kc.per_decade) + 1);
    k = new Float64Array(n);
    for (let i = 0; i < n; i++) k[i] = kc.k_min * Math.pow(kc.k_max / kc.k_min, i / (n - 1));
    k[n - 1] = kc.k_max;
  }
  if (c.z !== 'native' && c.z !== undefined) {
    const zc = { z_max: c.z.z_max ?? t.z[t.z.length - 1], count: c.z.count ?? 41, spacing: c.z.spacing ?? 'linear' };
    z = new Float64Array(zc.count);
    for (let i = 0; i < zc.count; i++) {
      const u = i / (zc.count - 1);
      z[i] = zc.spacing === 'log1p' ? Math.expm1(Math.log1p(zc.z_max) * u) : zc.z_max * u;
    }
    z[zc.count - 1] = zc.z_max;
  }
  const on = (u: PowerTable) => (k === u.k_1overMpc && z === u.z ? u.P_Mpc3 : powerTableAt(u, k, z, { extrapolate: c.extrapolate ?? false }));
  const grid = { k_1overMpc: k, z, P_Mpc3: { value: on(t), tangent: null, P: 0 as const }, source: `table ${c.file}${wantCb ? ' (cb)' : ''}` };
  return !wantCb && cb ? { ...grid, P_cb_Mpc3: { value: on(cb), tangent: null, P: 0 } } : grid;
}

/**
 * The stage that reads a P(k, z) table for `port` (`linear-power/grid`, `nonlinear-power/grid`): the table is
 * a fixed function of (k, z), so its P carries no tangent; h is read only to convert (Mpc/h)-unit tables.
 */
export function powerGridFileStage(port: 'linear-power' | 'nonlinear-power', description: string): StagePlugin<PowerGridFileConfig, {}, PowerGrid> {
  const id = `${port}/grid`;
  return {
    apiVersion: PLUGIN_API_VERSION,
    id,
    version: '1.0.0',
    port,
    description,
    configSchema: powerGridFileSchema,
    inputs: {},
    reads: (config): Record<string, ParameterSpec> => (config.h_units === false ? {} : { h: H_UNIT_SPEC }),
    differentiable: 'forward',
    describe: (config, ctx) => describePowerGridFile(config, ctx),
    // the table's content enters the memo key (a file edited in place recomputes)
    fingerprint: (config, ctx) =>
      config.cb_file === undefined
        ? fileFingerprint(resolve(ctx.baseDir, config.file))
        : `${fileFingerprint(resolve(ctx.baseDir, config.file))}+${fileFingerprint(resolve(ctx.baseDir, config.cb_file))}`,
    run(ctx): PowerGrid {
      const h = ctx.config.h_units === false ? undefined : ctx.param('h').v;
      return powerGridFromFile(id, ctx.config, h, ctx.baseDir);
    },
    redraw: redrawPowerTables,
    write(output, file, { config }) {
      return { [file]: formatPowerGridAt(output, config.output_z ? Float64Array.from(config.output_z) : output.z) };
    },
  };
}
