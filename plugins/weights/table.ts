/**
 * `weights/table`: radial kernels read from a table, so that external kernels (the N5K challenge's
 * `kernels_fullwidth.tsv`, a survey's own) enter the spectra stages as tracers.
 *
 * Format: tab- (or space-) separated text; `#` lines and blank lines are skipped; the first other line is the
 * header. Columns: `z` (required, strictly ascending, >= 0), optionally `chi_Mpc` (strictly ascending, checked,
 * not used), then kernel columns K(chi) [1/Mpc] in the convention of the N5K challenge,
 *
 *   C_AB(l) = F_A F_B Integral dchi K_A(chi) K_B(chi) / chi^2 P((l+1/2)/chi, z)       (Limber)
 *
 * which is the TracerSet's W on the z column (Integral dz W_A W_B / (H chi^2) = Integral dchi K_A K_B / chi^2):
 * W_A(z_i) = K_A(chi(z_i)). The kernels already contain everything (galaxy bias and H(z) for clustering, the
 * lensing efficiency for shear), as N5K's do; the l-factor is the tracer kind's (`ell_factor`).
 *
 * `with.tracers` says which columns make which tracers: every column whose name starts with `prefix`, in the
 * table's order, becomes tracer `<code><i>` (i = 1, 2, ...) of that family. The families come in the order of
 * `with.tracers`; the default (shear `K_sh_*` as L1.., then clustering `K_cl_*` as G1..) gives the usual spectrum
 * layout LL_i_j, GL_i_j (= G_i x L_j), GG_i_j. The table does not depend on the parameters: no tangents.
 * Relative paths resolve against the pipeline file's folder; the file's content enters the memo key.
 */
import { readConfigFile } from '../contracts/config-file.js';
import { resolve } from 'node:path';
import { fileFingerprint } from '../../core/cache/memo-key.js';
import { PLUGIN_API_VERSION, type DescribeContext, type StagePlugin } from '../../core/plugin/types.js';
import type { EllFactor, Tracer, TracerSet } from '../contracts/tracers.js';
import type { Described } from '../contracts/describe.js';

export interface TableTracers {
  /** Column-name prefix: every column starting with it is one tracer of this family. */
  prefix: string;
  family: string;
  code: string;
  ell_factor: EllFactor;
  /** White noise of each auto-spectrum [sr]: one number for all, or one per tracer. */
  noise: number | number[];
  /** Power-spectrum key (the spectra stage's with.power). */
  power: string;
}

export interface KernelTableConfig {
  file: string;
  tracers: TableTracers[];
}

export const KERNEL_TABLE_TRACERS: TableTracers[] = [
  { prefix: 'K_sh_', family: 'WL', code: 'L', ell_factor: 'spin2', noise: 0, power: 'matter' },
  { prefix: 'K_cl_', family: 'GC', code: 'G', ell_factor: 'none', noise: 0, power: 'matter' },
];

const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['file'],
  properties: {
    file: { type: 'string', minLength: 1, description: 'the kernel table: header `z [chi_Mpc] <kernel columns>`, kernels in 1/Mpc (N5K convention)' },
    tracers: {
      type: 'array',
      minItems: 1,
      default: KERNEL_TABLE_TRACERS,
      description: 'which columns make which tracers (families in this order): {prefix, family, code, ell_factor, noise, power}',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['prefix', 'family', 'code'],
        properties: {
          prefix: { type: 'string', minLength: 1 },
          family: { type: 'string', minLength: 1 },
          code: { type: 'string', pattern: '^[A-Za-z]+$' },
          ell_factor: { enum: ['spin2', 'convergence', 'none'], default: 'none' },
          noise: { default: 0, anyOf: [{ type: 'number', minimum: 0 }, { type: 'array', items: { type: 'number', minimum: 0 } }] },
          power: { type: 'string', minLength: 1, default: 'matter' },
        },
      },
    },
  },
};

export interface KernelTable {
  z: Float64Array;
  chi: Float64Array | null;
  /** Per with.tracers entry: the matching column names and their rows (column-major: one Float64Array each). */
  groups: { names: string[]; rows: Float64Array[] }[];
}

const splitLine = (line: string): string[] => (line.includes('\t') ? line.split('\t').map((s) => s.trim()) : line.trim().split(/\s+/));

/** Parse a kernel table for a config's tracer groups; errors name the file, line, column and what is allowed. */
export function parseKernelTable(text: string, file: string, groups: readonly Pick<TableTracers, 'prefix'>[]): KernelTable {
  const lines = text.split(/\r?\n/);
  let h = -1;
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t !== '' && !t.startsWith('#')) { h = i; break; }
  }
  if (h < 0) throw new Error(`${file}: no header line (the file is empty or only comments)`);
  const head = splitLine(lines[h]);
  const zc = head.indexOf('z'), cc = head.indexOf('chi_Mpc');
  if (zc < 0) throw new Error(`${file}:${h + 1}: no 'z' column in the header (${head.join(', ')}); the kernels are tabulated against z (and optionally chi_Mpc)`);
  const cols = groups.map((g) => head.map((name, j) => [name, j] as const).filter(([name]) => name.startsWith(g.prefix)));
  groups.forEach((g, i) => {
    if (!cols[i].length)
      throw new Error(`${file}:${h + 1}: no column starts with '${g.prefix}' (with.tracers[${i}].prefix); the header has ${head.join(', ')}`);
  });
  const claimed = new Map<number, number>();
  cols.forEach((c, i) => c.forEach(([name, j]) => {
    if (claimed.has(j)) throw new Error(`${file}: column '${name}' matches with.tracers[${claimed.get(j)}].prefix and with.tracers[${i}].prefix; prefixes must not overlap`);
    claimed.set(j, i);
  }));
  const zs: number[] = [], chis: number[] = [];
  const vals: number[][] = head.map(() => []);
  for (let i = h + 1; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t === '' || t.startsWith('#')) continue;
    const f = splitLine(lines[i]);
    if (f.length !== head.length) throw new Error(`${file}:${i + 1}: ${f.length} columns, but the header has ${head.length} (missing or extra values)`);
    for (let j = 0; j < f.length; j++) {
      const v = f[j] === '' ? NaN : Number(f[j]);
      if (!Number.isFinite(v)) throw new Error(`${file}:${i + 1}: column ${j + 1} ('${head[j]}') holds '${f[j]}', which is not a finite number`);
      vals[j].push(v);
    }
    const z = vals[zc][vals[zc].length - 1];
    if (z < 0) throw new Error(`${file}:${i + 1}: z = ${z} is negative`);
    if (zs.length && !(z > zs[zs.length - 1])) throw new Error(`${file}:${i + 1}: z = ${z} does not increase (the row before has ${zs[zs.length - 1]}); z must be strictly ascending`);
    zs.push(z);
    if (cc >= 0) {
      const c = vals[cc][vals[cc].length - 1];
      if (c < 0 || (chis.length && !(c > chis[chis.length - 1])))
        throw new Error(`${file}:${i + 1}: chi_Mpc = ${c} is not monotonic (the row before has ${chis[chis.length - 1]}); chi must increase strictly with z`);
      chis.push(c);
    }
  }
  if (zs.length < 4) throw new Error(`${file}: ${zs.length} data rows; need at least 4 redshifts (cubic interpolation)`);
  const out: KernelTable = { z: Float64Array.from(zs), chi: cc >= 0 ? Float64Array.from(chis) : null, groups: [] };
  for (const c of cols) {
    const rows = c.map(([name, j]) => {
      const r = Float64Array.from(vals[j]);
      if (r.every((v) => v === 0)) throw new Error(`${file}: column '${name}' is zero everywhere; a tracer needs a kernel`);
      if (out.z[0] === 0 && r[0] !== 0) throw new Error(`${file}: column '${name}' is ${r[0]} at z = 0; the spectra integrate in ln z and need the kernels to vanish at z = 0`);
      return r;
    });
    out.groups.push({ names: c.map(([name]) => name), rows });
  }
  return out;
}

/** Read the table named by the config (relative paths against the pipeline's folder); errors name with.file. */
export function readKernelTable(config: KernelTableConfig, baseDir = process.cwd()): KernelTable {
  return parseKernelTable(readConfigFile(config.file, baseDir), config.file, config.tracers ?? KERNEL_TABLE_TRACERS);
}

/** The tracers of a parsed table. */
function tracersOf(config: KernelTableConfig, t: KernelTable): Tracer[] {
  const groups = config.tracers ?? KERNEL_TABLE_TRACERS;
  return groups.flatMap((g, gi) => {
    const n = t.groups[gi].names.length;
    const noise = g.noise ?? 0;
    if (Array.isArray(noise) && noise.length !== n)
      throw new Error(`with.tracers[${gi}].noise: has ${noise.length} entries, but ${n} columns start with '${g.prefix}'`);
    return t.groups[gi].names.map((_, i) => ({
      name: `${g.code}${i + 1}`, family: g.family, code: g.code, index: i + 1, latex: `${g.code}_{${i + 1}}`,
      ellFactor: g.ell_factor ?? 'none', power: g.power ?? 'matter', noise: Array.isArray(noise) ? noise[i] : noise,
    }));
  });
}

/** The tracer set of a parsed table. */
export function kernelTableTracers(config: KernelTableConfig, t: KernelTable): TracerSet {
  const tracers = tracersOf(config, t);
  const nz = t.z.length;
  const W = new Float64Array(tracers.length * nz);
  let r = 0, top = 0;
  for (const g of t.groups)
    for (const row of g.rows) {
      W.set(row, r++ * nz);
      for (let i = nz - 1; i > top; i--) if (row[i] !== 0) { top = i; break; }
    }
  const zMax = t.z[Math.min(nz - 1, top + 1)];
  return {
    z: t.z, tracers, W: { value: W, tangent: null, P: 0 },
    multiplicative: { value: new Float64Array(tracers.length).fill(1), tangent: null, P: 0 }, z_max: zMax,
  };
}

function problemsOf(config: KernelTableConfig, baseDir?: string): string[] {
  try {
    const t = readKernelTable(config, baseDir);
    tracersOf(config, t);
    return [];
  } catch (e) {
    const m = (e as Error).message;
    return [m.startsWith('with.') ? m : `with.file: ${m}`];
  }
}

function describeTable(config: KernelTableConfig, ctx: DescribeContext): Described {
  let s: TracerSet;
  try {
    s = kernelTableTracers(config, readKernelTable(config, ctx.baseDir));
  } catch (e) {
    const m = (e as Error).message;
    return { problems: [m.startsWith('with.') ? m : `with.file: ${m}`] };
  }
  let first = s.z.length;
  for (let t = 0; t < s.tracers.length; t++)
    for (let i = 0; i < s.z.length; i++) if (s.W.value[t * s.z.length + i] !== 0) { first = Math.min(first, i); break; }
  return {
    description: {
      tracers: s.tracers.map((t) => ({ name: t.name, family: t.family, power: t.power })),
      z_min: s.z[Math.max(0, first - 1)], z_max: s.z_max, paths: { z_min: 'with.file', z_max: 'with.file' },
    },
  };
}

export const kernelTablePlugin: StagePlugin<KernelTableConfig, Record<string, never>, TracerSet> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'weights/table',
  version: '1.0.0',
  port: 'weights',
  description: 'Radial kernels K(chi) read from a table (N5K convention: the kernels contain bias, H(z), lensing efficiency); fixed, no tangents',
  configSchema,
  inputs: {},
  reads: {},
  differentiable: 'forward',
  check: (config, ctx) => problemsOf(config, ctx.baseDir),
  describe: describeTable,
  fingerprint: (config, ctx) => fileFingerprint(resolve(ctx.baseDir, config.file)),
  run(ctx) {
    return kernelTableTracers(ctx.config, readKernelTable(ctx.config, ctx.baseDir));
  },
  write(output, file) {
    const nz = output.z.length;
    const lines = [['z', ...output.tracers.map((t) => `W_${t.name}_1overMpc`)].join('\t')];
    for (let i = 0; i < nz; i++) lines.push([output.z[i].toExponential(10), ...output.tracers.map((_, t) => output.W.value[t * nz + i].toExponential(10))].join('\t'));
    return { [file]: lines.join('\n') + '\n' };
  },
};
