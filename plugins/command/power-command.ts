/**
 * `linear-power/command` and `nonlinear-power/command`: P(k, z) from an external program run as a black box
 * (a Boltzmann code, an emulator, a script), one run per set of parameter values.
 *
 *   1. a fresh temporary directory for the run (concurrent runs never share files), holding the requested
 *      grids (k_1overMpc.txt, z.txt) and, for nonlinear-power/command with a linear-power stage wired, the
 *      linear P(k, z) as linear_pk.tsv;
 *   2. the parameter values go to the program as a JSON request on stdin (`input: "json"`), or in an input
 *      file made from a template with `{{name}}` placeholders (`input: "template"`), or only through
 *      placeholders in its arguments (`input: "none"`);
 *   3. the program writes P(k, z) — a table in the format of docs/power.md (`k_1overMpc  P_z<z>_Mpc3 ...`,
 *      h-units allowed) or JSON {k_1overMpc, z, P_Mpc3: [[P at z_0 for every k], ...]} — on stdout or into a file;
 *   4. it is read back onto the stage's (k, z) grid: used as is when the program answered on that grid,
 *      interpolated (cubic in ln k, ln P and ln(1+z)) otherwise.
 *
 * A parameter named like one of the cosmology contract's (plugins/contracts/cosmology.ts: h, Omega_m, Omega_b, n_s,
 * ...) takes the contract's declaration (default, description, unit, physical range), each field overridable in
 * with.parameters; any other name has no default and must get its value from the pipeline.
 *
 * The stage is `differentiable: 'none'`: in a forward-mode run the runtime obtains the tangents of its output
 * from the regression stencil around it (core/graph/execute.ts, blackBoxWithTangents) and forward AD resumes
 * downstream. The memo key includes the hash of the program file (and of the template and any
 * `fingerprint_files`), so editing the program recomputes the stage.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileFingerprint, sha256 } from '../../core/cache/memo-key.js';
import { PLUGIN_API_VERSION, type ParameterSpec, type StageContext, type StagePlugin } from '../../core/plugin/types.js';
import { COSMOLOGY_PARAMETERS, type CosmoParameter } from '../contracts/cosmology.js';
import type { PowerGrid } from '../contracts/power.js';
import {
  OUTPUT_Z_DEFAULT, type KGridConfig, type ZGridConfig, configuredGridSizeProblems, kGridProblems, kGridSchema, logKGrid, outputZProblems, zGrid,
  zGridProblems, zGridSchema,
} from '../contracts/power-grid-spec.js';
import { type HUnits, type PowerTable, formatPowerGridAt, parsePowerTable, powerTableAt } from '../contracts/power-table.js';
import {
  ProgramError, commandLine, exactNumber, fillPlaceholders, placeholdersIn, programFingerprint, programProblems,
  resolveProgram, runProgram, tail,
} from './run-program.js';

export interface ParameterDeclaration {
  default?: number;
  description?: string;
  unit?: string;
  min?: number;
  max?: number;
  abs_step?: number;
}

export interface CommandPowerConfig {
  program: string;
  interpreter?: string;
  args: string[];
  input: 'json' | 'template' | 'none';
  template?: string;
  input_file?: string;
  output: { from: 'stdout' | 'file'; file: string; format: 'auto' | 'table' | 'json' };
  parameters: string[] | Record<string, ParameterDeclaration>;
  k: KGridConfig;
  z: ZGridConfig;
  h_units: HUnits;
  extrapolate: boolean;
  timeout_seconds: number;
  max_output_mb: number;
  env: Record<string, string>;
  fingerprint_files: string[];
  keep_workdir: boolean;
  output_z?: number[];
}

const NAME = '^[A-Za-z_][A-Za-z0-9_]*$';

export const commandPowerSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['program'],
  properties: {
    program: {
      type: 'string', minLength: 1,
      description: 'the program: a path relative to the pipeline file (.js/.mjs/.cjs run with Node), or a command on PATH',
    },
    interpreter: { type: 'string', minLength: 1, description: 'run the program through this (e.g. "python3"); default: Node for .js/.mjs/.cjs, else the program itself' },
    args: { type: 'array', items: { type: 'string' }, default: [], description: 'arguments; {{placeholders}} are filled (parameter names, k_min, z_list, input_file, output_file, workdir, ...)' },
    input: {
      enum: ['json', 'template', 'none'], default: 'json',
      description: "'json': a JSON request on stdin; 'template': with.template filled and written to {{input_file}}; 'none': placeholders in args only",
    },
    template: { type: 'string', minLength: 1, description: 'input-file template (relative to the pipeline file) with {{placeholders}}' },
    input_file: { type: 'string', minLength: 1, pattern: '^[^/\\\\]+$', description: 'name of the filled template in the run directory (default: the template\'s name)' },
    output: {
      type: 'object', additionalProperties: false, default: {},
      description: 'where the program writes P(k, z)',
      properties: {
        from: { enum: ['stdout', 'file'], default: 'stdout', description: "'stdout', or 'file': with.output.file in the run directory ({{output_file}})" },
        file: { type: 'string', minLength: 1, default: 'pk.tsv', description: 'output file name, relative to the run directory' },
        format: { enum: ['auto', 'table', 'json'], default: 'auto', description: "'table' (docs/power.md), 'json' ({k_1overMpc, z, P_Mpc3}), 'auto': JSON when it starts with '{'" },
      },
    },
    parameters: {
      default: [],
      description: 'parameters passed to the program: names (their values from the pipeline), or name -> {default, description, unit, min, max, abs_step}',
      oneOf: [
        { type: 'array', items: { type: 'string', pattern: NAME }, uniqueItems: true },
        {
          type: 'object',
          propertyNames: { pattern: NAME },
          additionalProperties: {
            type: 'object', additionalProperties: false,
            properties: {
              default: { type: 'number' }, description: { type: 'string' }, unit: { type: 'string' },
              min: { type: 'number' }, max: { type: 'number' },
              abs_step: { type: 'number', exclusiveMinimum: 0, description: 'stencil step when the fiducial is 0' },
            },
          },
        },
      ],
    },
    k: kGridSchema,
    z: zGridSchema,
    h_units: {
      enum: ['auto', true, false], default: 'auto',
      description: "units of a table without unit names: 'auto' (from the column names), true ((Mpc/h) units, needs h in with.parameters), false (Mpc)",
    },
    extrapolate: { type: 'boolean', default: false, description: 'continue P as a power law in k beyond the k range the program returned (never in z)' },
    timeout_seconds: { type: 'number', exclusiveMinimum: 0, default: 300, description: 'a run taking longer is killed and is an error' },
    max_output_mb: { type: 'number', exclusiveMinimum: 0, maximum: 4096, default: 256, description: 'most MiB the program may write to stdout (and to stderr); more is an error and the program is killed' },
    env: { type: 'object', additionalProperties: { type: 'string' }, default: {}, description: 'extra environment variables for the program' },
    fingerprint_files: {
      type: 'array', items: { type: 'string' }, default: [],
      description: 'other files the program reads (relative to the pipeline file): their contents enter the memo key',
    },
    keep_workdir: { type: 'boolean', default: false, description: 'keep each run\'s temporary directory (for debugging; its path is printed on failure)' },
    output_z: {
      type: 'array', minItems: 1, items: { type: 'number', minimum: 0 },
      description: `redshifts of the P(k) columns written to pk.tsv (default: those of ${JSON.stringify(OUTPUT_Z_DEFAULT)} inside the z grid)`,
    },
  },
} as const;

/** Placeholders every run defines (besides the parameter names). */
const FIXED_PLACEHOLDERS = [
  'k_min', 'k_max', 'k_per_decade', 'k_count', 'k_file', 'z_max', 'z_count', 'z_spacing', 'z_list', 'z_file',
  'workdir', 'output_file', 'input_file', 'pipeline_dir',
] as const;

function declarations(c: CommandPowerConfig): Record<string, ParameterDeclaration> {
  const p = c.parameters ?? [];
  return Array.isArray(p) ? Object.fromEntries(p.map((n) => [n, {}])) : p;
}

function readsOf(c: CommandPowerConfig): Record<string, ParameterSpec> {
  const out: Record<string, ParameterSpec> = {};
  for (const [name, d] of Object.entries(declarations(c))) {
    // a cosmological parameter: the contract's declaration, fields given in with.parameters override it
    const cosmo: Partial<ParameterSpec> = Object.prototype.hasOwnProperty.call(COSMOLOGY_PARAMETERS, name) ? COSMOLOGY_PARAMETERS[name as CosmoParameter] : {};
    out[name] = {
      ...cosmo,
      // otherwise no default: the value must come from the pipeline's parameters (NaN is refused by the planner)
      default: d.default ?? cosmo.default ?? NaN,
      description: d.description ?? (cosmo.description ? `${cosmo.description} (passed to the external program ${c.program})` : `passed to the external program ${c.program}`),
      unit: d.unit ?? cosmo.unit, min: d.min ?? cosmo.min, max: d.max ?? cosmo.max, absStep: d.abs_step ?? cosmo.absStep,
    };
  }
  return out;
}

function knownPlaceholders(c: CommandPowerConfig, withLinear: boolean): string[] {
  return [...Object.keys(declarations(c)), ...FIXED_PLACEHOLDERS, ...(withLinear ? ['linear_file'] : [])];
}

function checkConfig(c: CommandPowerConfig, baseDir: string, withLinear: boolean): string[] {
  const out: string[] = [];
  for (const m of programProblems(c.program, c.interpreter, baseDir)) out.push(`${m.startsWith('interpreter:') ? 'with.interpreter' : 'with.program'}: ${m.replace(/^interpreter: /, '')}`);
  const known = new Set(knownPlaceholders(c, withLinear));
  const unknown = (names: string[]) => names.filter((n) => !known.has(n));
  const knownList = () => [...known].map((n) => `{{${n}}}`).join(', ');
  c.args.forEach((a, i) => {
    for (const n of unknown(placeholdersIn(a))) out.push(`with.args[${i}]: unknown placeholder {{${n}}}; known: ${knownList()}`);
  });
  if (c.input === 'template') {
    if (!c.template) out.push(`with.template: needed when with.input is 'template' (a file with {{placeholders}} for the parameter values)`);
    else {
      const file = path.resolve(baseDir, c.template);
      let text: string | null = null;
      try { text = fs.readFileSync(file, 'utf8'); } catch { out.push(`with.template: cannot read ${file} (relative paths are resolved against the pipeline file's directory)`); }
      if (text !== null) for (const n of [...new Set(unknown(placeholdersIn(text)))]) out.push(`with.template: ${c.template} uses the unknown placeholder {{${n}}}; known: ${knownList()}`);
    }
  } else if (c.template) out.push(`with.template: is only used with with.input = 'template' (now '${c.input}')`);
  for (const n of Object.keys(declarations(c)))
    if ((FIXED_PLACEHOLDERS as readonly string[]).includes(n) || n === 'linear_file')
      out.push(`with.parameters: "${n}" is also the name of a placeholder the stage defines; rename the parameter`);
  c.fingerprint_files.forEach((f, i) => {
    if (!fs.existsSync(path.resolve(baseDir, f))) out.push(`with.fingerprint_files[${i}]: no file ${path.resolve(baseDir, f)}`);
  });
  out.push(...kGridProblems(c.k), ...zGridProblems(c.z), ...(c.output_z ? outputZProblems(c.output_z, c.z.z_max) : []));
  if (!out.length) out.push(...configuredGridSizeProblems(c.k, c.z));
  return out;
}

function fingerprintOf(c: CommandPowerConfig, baseDir: string): string {
  const parts = [programFingerprint(c.program, c.interpreter, baseDir)];
  if (c.input === 'template' && c.template) parts.push(fileFingerprint(path.resolve(baseDir, c.template)));
  for (const f of c.fingerprint_files ?? []) parts.push(`${f}:${fileFingerprint(path.resolve(baseDir, f))}`);
  return sha256(parts.join('\n'));
}

// ---------------------------------------------------------------------------------------------------------
// reading what the program wrote

/** P(k, z) from the JSON form {k_1overMpc, z, P_Mpc3: nz rows of nk, or nz*nk flat}. */
export function powerTableFromJson(text: string, source: string): PowerTable {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not valid JSON: ${(e as Error).message}`);
  }
  const arr = (name: string): unknown[] => {
    const v = typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[name] : undefined;
    if (!Array.isArray(v)) throw new Error(`${source}: field "${name}" is missing or not an array (expected {k_1overMpc: [...], z: [...], P_Mpc3: [[...], ...]})`);
    return v;
  };
  const k = arr('k_1overMpc'), z = arr('z'), Praw = arr('P_Mpc3');
  const flat: unknown[] = Praw.length === z.length && Praw.every(Array.isArray) ? (Praw as unknown[][]).flat() : Praw;
  if (flat.length !== k.length * z.length)
    throw new Error(`${source}: P_Mpc3 has ${flat.length} values, but k_1overMpc (${k.length}) x z (${z.length}) needs ${k.length * z.length}`);
  const num = (x: unknown, what: string) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`${source}: ${what} is ${JSON.stringify(x)}, not a finite number`);
    return x;
  };
  const kk = Float64Array.from(k, (x, i) => num(x, `k_1overMpc[${i}]`));
  const zz = Float64Array.from(z, (x, i) => num(x, `z[${i}]`));
  const P = Float64Array.from(flat, (x, i) => num(x, `P_Mpc3 value ${i} (z index ${Math.floor(i / k.length)}, k index ${i % k.length})`));
  if (kk.length < 4) throw new Error(`${source}: ${kk.length} k values; need at least 4`);
  for (let i = 0; i < kk.length; i++) {
    if (!(kk[i] > 0)) throw new Error(`${source}: k_1overMpc[${i}] = ${kk[i]} must be > 0`);
    if (i && !(kk[i] > kk[i - 1])) throw new Error(`${source}: k_1overMpc must be strictly ascending (k[${i}] = ${kk[i]} after ${kk[i - 1]})`);
  }
  for (let j = 0; j < zz.length; j++) {
    if (!(zz[j] >= 0)) throw new Error(`${source}: z[${j}] = ${zz[j]} must be >= 0`);
    if (j && !(zz[j] > zz[j - 1])) throw new Error(`${source}: z must be strictly ascending (z[${j}] = ${zz[j]} after ${zz[j - 1]})`);
  }
  P.forEach((p, i) => {
    if (!(p > 0)) throw new Error(`${source}: P_Mpc3 at z = ${zz[Math.floor(i / kk.length)]}, k = ${kk[i % kk.length]} is ${p}; a power spectrum is positive`);
  });
  return { source, k_1overMpc: kk, z: zz, P_Mpc3: P };
}

/** The table's P on the grid (k, z): as is when the program answered on that grid, else interpolated. */
function onGrid(t: PowerTable, k: Float64Array, z: Float64Array, extrapolate: boolean): Float64Array {
  const sameK = t.k_1overMpc.length === k.length && k.every((v, i) => Math.abs(t.k_1overMpc[i] / v - 1) < 1e-8);
  const sameZ = t.z.length === z.length && z.every((v, j) => Math.abs(t.z[j] - v) <= 1e-8 * (1 + v));
  if (sameK && sameZ) return Float64Array.from(t.P_Mpc3);
  return powerTableAt(t, k, z, { extrapolate, extrapolateField: 'with.extrapolate' });
}

/**
 * A P(k, z) table (docs/power.md format) that reads back bit for bit: every number, z in the column names
 * included, in its shortest round-trip form (pk.tsv outputs round z to 6 digits, too coarse to hand on).
 */
function exactPowerTable(g: PowerGrid): string {
  const nk = g.k_1overMpc.length;
  const lines = [['k_1overMpc', ...Array.from(g.z, (z) => `P_z${exactNumber(z)}_Mpc3`)].join('\t')];
  for (let i = 0; i < nk; i++) {
    const row = [exactNumber(g.k_1overMpc[i])];
    for (let j = 0; j < g.z.length; j++) row.push(exactNumber(g.P_Mpc3.value[j * nk + i]));
    lines.push(row.join('\t'));
  }
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------------------
// one run

async function runCommand(
  id: string, ctx: StageContext<CommandPowerConfig, { linear?: PowerGrid }>,
): Promise<PowerGrid> {
  const c = ctx.config;
  const baseDir = ctx.baseDir ?? process.cwd();
  const linear = ctx.inputs.linear;
  const problems = checkConfig(c, baseDir, !!linear);
  if (problems.length) throw new Error(`${id}: invalid config:\n  ${problems.join('\n  ')}`);
  const program = resolveProgram(c.program, c.interpreter, baseDir);
  const k = logKGrid(c.k);
  const z = zGrid(c.z);
  const params: Record<string, number> = {};
  for (const name of Object.keys(declarations(c))) params[name] = ctx.param(name).v;

  // 1. a directory of its own
  const workdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-command-'));
  if (!c.keep_workdir) LIVE_WORKDIRS.add(workdir);
  const kept = c.keep_workdir ? ` (its run directory, kept: ${workdir})` : '';
  try {
    const file = (name: string) => path.join(workdir, name);
    fs.writeFileSync(file('k_1overMpc.txt'), Array.from(k, exactNumber).join('\n') + '\n');
    fs.writeFileSync(file('z.txt'), Array.from(z, exactNumber).join('\n') + '\n');
    if (linear) fs.writeFileSync(file('linear_pk.tsv'), exactPowerTable(linear));
    const inputName = c.input_file ?? (c.template ? path.basename(c.template) : 'input.txt');
    const outputFile = path.resolve(workdir, c.output.file);
    const values: Record<string, string> = {
      ...Object.fromEntries(Object.entries(params).map(([n, v]) => [n, exactNumber(v)])),
      k_min: exactNumber(c.k.k_min), k_max: exactNumber(c.k.k_max), k_per_decade: String(c.k.per_decade), k_count: String(k.length),
      k_file: file('k_1overMpc.txt'),
      z_max: exactNumber(c.z.z_max), z_count: String(c.z.count), z_spacing: c.z.spacing, z_list: Array.from(z, exactNumber).join(','),
      z_file: file('z.txt'),
      workdir, output_file: outputFile, input_file: file(inputName), pipeline_dir: baseDir,
      ...(linear ? { linear_file: file('linear_pk.tsv') } : {}),
    };

    // 2. the parameter values, as JSON on stdin or in a filled template
    let stdin: string | undefined;
    if (c.input === 'json')
      stdin = JSON.stringify({
        plugin: id, stage: ctx.stage, parameters: params,
        k_1overMpc: Array.from(k), z: Array.from(z), k_grid: c.k, z_grid: c.z,
        workdir, output_file: outputFile, ...(linear ? { linear_file: values.linear_file } : {}),
      });
    else if (c.input === 'template') {
      const text = fs.readFileSync(path.resolve(baseDir, c.template!), 'utf8');
      fs.writeFileSync(file(inputName), fillPlaceholders(text, values, `with.template (${c.template})`));
    }
    const args = c.args.map((a, i) => fillPlaceholders(a, values, `with.args[${i}]`));

    // 3. run it
    let outcome;
    try {
      outcome = await runProgram({ program, args, cwd: workdir, stdin, env: c.env, timeoutSeconds: c.timeout_seconds, maxOutputBytes: Math.floor(c.max_output_mb * 1024 * 1024) });
    } catch (e) {
      throw e instanceof ProgramError ? new ProgramError(e.message + kept, e.outcome) : e;
    }

    // 4. read P(k, z) back
    const how = commandLine({ program, args });
    const said = `\n  stderr:${tail(outcome.stderr)}\n  stdout:${tail(outcome.stdout)}`;
    let text: string;
    if (c.output.from === 'file') {
      try {
        text = fs.readFileSync(outputFile, 'utf8');
      } catch {
        throw new ProgramError(`program ${c.program} exited with code 0 but wrote no output file ${c.output.file} (with.output.file) in its run directory; command: ${how}${kept}${said}`, outcome);
      }
    } else text = outcome.stdout;
    const source = c.output.from === 'file' ? `${c.program}'s output file ${c.output.file}` : `${c.program}'s standard output`;
    let table: PowerTable;
    try {
      const json = c.output.format === 'json' || (c.output.format === 'auto' && text.trimStart().startsWith('{'));
      table = json ? powerTableFromJson(text, source) : parsePowerTable(text, source, { h_units: c.h_units, h: params.h });
    } catch (e) {
      const hint = /h-units/.test((e as Error).message) && !('h' in params) ? ' (list h in with.parameters so that the table can be converted)' : '';
      throw new ProgramError(`malformed P(k, z) from program ${c.program}: ${(e as Error).message}${hint}; command: ${how}${kept}${said}`, outcome);
    }
    let P: Float64Array;
    try {
      P = onGrid(table, k, z, c.extrapolate);
    } catch (e) {
      throw new ProgramError(`the P(k, z) of program ${c.program} does not cover the stage's grid: ${(e as Error).message}; command: ${how}${kept}`, outcome);
    }
    return { k_1overMpc: k, z, P_Mpc3: { value: P, tangent: null, P: 0 }, source: `command ${c.program}` };
  } finally {
    if (!c.keep_workdir) fs.rmSync(workdir, { recursive: true, force: true });
    LIVE_WORKDIRS.delete(workdir);
  }
}

/** Run directories in use: removed at exit too (an interrupted run never reaches its finally). */
const LIVE_WORKDIRS = new Set<string>();
process.once('exit', () => { for (const d of LIVE_WORKDIRS) fs.rmSync(d, { recursive: true, force: true }); });

// ---------------------------------------------------------------------------------------------------------
// the two stages

const common = {
  apiVersion: PLUGIN_API_VERSION,
  version: '1.0.0',
  configSchema: commandPowerSchema,
  reads: readsOf,
  differentiable: 'none' as const,
  runsPrograms: true,
  fingerprint: (config: CommandPowerConfig, ctx: { baseDir: string }) => fingerprintOf(config, ctx.baseDir),
  write(output: PowerGrid, file: string, { config }: { config: CommandPowerConfig }) {
    const zs = config.output_z ?? OUTPUT_Z_DEFAULT.filter((z) => z <= config.z.z_max);
    return { [file]: formatPowerGridAt(output, Float64Array.from(zs.length ? zs : [0])) };
  },
};

export const linearPowerCommand: StagePlugin<CommandPowerConfig, {}, PowerGrid> = {
  ...common,
  id: 'linear-power/command',
  port: 'linear-power',
  description:
    'Linear P(k, z) from an external program (JSON request on stdin or a templated input file; a P(k, z) table or JSON back), ' +
    'run in its own temporary directory; a black box: its tangents come from the regression stencil.',
  inputs: {},
  check: (config, { baseDir }) => checkConfig(config, baseDir ?? process.cwd(), false),
  run: (ctx) => runCommand('linear-power/command', ctx),
};

export const nonlinearPowerCommand: StagePlugin<CommandPowerConfig, { linear?: PowerGrid }, PowerGrid> = {
  ...common,
  id: 'nonlinear-power/command',
  port: 'nonlinear-power',
  description:
    'Non-linear P(k, z) from an external program, given the linear P(k, z) (if a linear-power stage exists) as {{linear_file}}; ' +
    'a black box: its tangents come from the regression stencil.',
  inputs: { linear: { port: 'linear-power', optional: true } },
  check: (config, { baseDir }) => checkConfig(config, baseDir ?? process.cwd(), true),
  run: (ctx) => runCommand('nonlinear-power/command', ctx),
};
