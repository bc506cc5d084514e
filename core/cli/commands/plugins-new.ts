import { Args, Command, Flags } from '@oclif/core';
import fs from 'node:fs';
import path from 'node:path';
import { reportError } from '../errors.js';
import { writeFileAtomic } from '../../cache/store.js';
import { PLUGIN_API_VERSION } from '../../plugin/types.js';
import { InputError, issue } from '../../schema/input-error.js';
import { POWER_PORTS, powerScaffold } from '../scaffold-power.js';

const camel = (name: string) => {
  const c = name.replace(/[-_.]+([A-Za-z0-9])/g, (_, ch: string) => ch.toUpperCase()).replace(/[^A-Za-z0-9]/g, '');
  return /^[A-Za-z]/.test(c) ? c : `plugin${c}`;
};

/**
 * The files of a new plugin package for stage `PORT/NAME`: a TypeScript descriptor that builds and runs as it
 * is (y = amplitude x^2 with its tangent), its test (node:test), a pipeline naming it, and a README.
 */
export function scaffoldFiles(name: string, port: string): Record<string, string> {
  const id = `${port}/${name}`;
  const v = camel(name);
  const Cfg = v[0].toUpperCase() + v.slice(1);
  const pkg = `cosmodag-plugin-${name.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}`;
  const files: Record<string, string> = {};

  files['package.json'] = JSON.stringify({
    name: pkg,
    version: '0.1.0',
    description: `cosmodag plugin ${id}`,
    type: 'module',
    main: './dist/src/index.js',
    types: './dist/src/index.d.ts',
    exports: { '.': './dist/src/index.js' },
    files: ['dist/src', 'src', 'pipeline.json', 'README.md'],
    engines: { node: '>=20' },
    scripts: { build: 'tsc -p tsconfig.json', test: `node --test dist/test/${name}.test.js` },
    peerDependencies: { cosmodag: '>=0.1.0 <1' },
    peerDependenciesMeta: { cosmodag: { optional: true } },
    devDependencies: { '@types/node': '^20.19.43', typescript: '~6.0.3' },
  }, null, 2) + '\n';

  files['tsconfig.json'] = JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022'], types: ['node'],
      outDir: 'dist', rootDir: '.', strict: true, declaration: true, skipLibCheck: true,
    },
    include: ['src/**/*.ts', 'test/**/*.ts'],
  }, null, 2) + '\n';

  files['.gitignore'] = 'dist/\nnode_modules/\n';

  files['src/index.ts'] = `/** The package's plugins: cosmodag loads the \`plugins\` array of a module named in a pipeline's \`plugins\` list. */
import type { AnyPlugin } from 'cosmodag';
import { ${v} } from './${name}.js';

export { ${v} };
export const plugins: AnyPlugin[] = [${v}];
`;

  files[`src/${name}.ts`] = `/**
 * \`${id}\`: TODO say what this stage computes, with the equation and its reference.
 *
 * As generated it tabulates y(x) = amplitude * x^2 on [0, x_max] with cosmodag's expression layer (Expr: write
 * the values, the derivatives follow), so that it builds, runs and is tested as it is: replace the body of run()
 * by your computation, and its output by the contract of the port "${port}"
 * (cosmodag's plugins/contracts/) if other stages are to read it. The guide: cosmodag's docs/plugins.md.
 */
import { Expr, type DualArray, type StagePlugin } from 'cosmodag';

export interface ${Cfg}Config {
  /** Number of samples. */
  points: number;
  /** Upper end of the x range. */
  x_max: number;
}

/** The output: plain data (typed arrays, numbers, strings), so that cosmodag can cache it. */
export interface ${Cfg}Output {
  x: Float64Array;
  /** y(x) with its tangents: tangent[p * n + i] = dy_i / d(varied parameter p). */
  y: DualArray;
}

export const ${v}: StagePlugin<${Cfg}Config, {}, ${Cfg}Output> = {
  // the plugin contract this file is written against (a number on purpose: another cosmodag refuses it)
  apiVersion: ${PLUGIN_API_VERSION},
  id: '${id}',
  version: '0.1.0',
  port: '${port}',
  description: 'TODO: one line on what it computes',
  configSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      points: { type: 'integer', minimum: 2, default: 50, description: 'number of samples' },
      x_max: { type: 'number', exclusiveMinimum: 0, default: 1, description: 'upper end of the x range' },
    },
  },
  // other stages' outputs this one needs, by port, e.g. { background: 'background' }
  inputs: {},
  // parameters it reads: default, meaning and physically allowed range
  reads: {
    amplitude: { default: 1, exclusiveMin: 0, description: 'TODO: what the parameter means' },
  },
  differentiable: 'forward',

  run(ctx) {
    // written once, as values, with the expression layer: the tangents (and the reverse-mode product) come
    // from the same lines, for every varied parameter
    const e = new Expr(ctx.tangentParams.length);
    // 1. the parameter
    const A = e.scalar(ctx.param('amplitude'));
    // 2. the samples
    const n = ctx.config.points;
    const x = Float64Array.from({ length: n }, (_, i) => (ctx.config.x_max * i) / (n - 1));
    // 3. y = A x^2
    const y = e.mul(A, e.constant(x.map((xi) => xi * xi)));
    const out = { x, y: e.toDualArray([y]) };
    e.dispose();
    return out;
  },
  // the file written for a pipeline \`outputs\` entry
  write(output, file) {
    const rows = Array.from(output.x, (x, i) => \`\${x}\\t\${output.y.value[i]}\`);
    return { [file]: ['x\\ty', ...rows].join('\\n') + '\\n' };
  },
};
`;

  files[`test/${name}.test.ts`] = `/** Tests of ${id}: run() against the closed form y = A x^2 and its derivative x^2. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seed, type StageContext } from 'cosmodag';
import { ${v}, type ${Cfg}Config } from '../src/${name}.js';

const context = (amplitude: number, varied: boolean): StageContext<${Cfg}Config, {}> => ({
  stage: 'main', config: { points: 5, x_max: 2 }, inputs: {}, tangentParams: varied ? ['amplitude'] : [],
  param: () => seed(amplitude, varied ? 0 : -1, varied ? 1 : 0),
  method: () => { throw new Error('no methods'); },
  progress: () => {},
});

describe('${id}', () => {
  it('declares the contract it was written for', () => {
    assert.equal(${v}.apiVersion, ${PLUGIN_API_VERSION});
    assert.equal(${v}.id, '${id}');
  });

  it('gives y = A x^2 and dy/dA = x^2', async () => {
    const out = await ${v}.run(context(3, true)) as { x: Float64Array; y: { value: Float64Array; tangent: Float64Array | null } };
    out.x.forEach((x, i) => {
      assert.equal(out.y.value[i], 3 * x * x);
      assert.equal(out.y.tangent![i], x * x);
    });
  });
});
`;

  files['pipeline.json'] = JSON.stringify({
    name: `${name}-demo`,
    description: `Runs ${id} alone (after \`npm run build\`): cosmodag run pipeline.json`,
    plugins: ['./dist/src/index.js'],
    parameters: { amplitude: { value: 2 } },
    stages: { main: { use: id, with: { points: 5, x_max: 2 } } },
    outputs: { main: `${name}.tsv` },
  }, null, 2) + '\n';

  files['README.md'] = `# ${pkg}

A cosmodag plugin: the stage \`${id}\` (port \`${port}\`). Generated by
\`cosmodag plugins new ${name} --port ${port}\`; the plugin guide is cosmodag's docs/plugins.md.

## Build, test, run

    npm install              # TypeScript and the Node types
    npm link cosmodag        # after \`npm link\` in your cosmodag checkout (cosmodag is a peer dependency)
    npm run build
    npm test
    cosmodag run pipeline.json --out out     # writes out/${name}.tsv

Name the package (\`"plugins": ["${pkg}"]\`, once installed in the project where cosmodag is) or the built module
(\`"plugins": ["./dist/src/index.js"]\`, relative to the pipeline file) in any pipeline, then use
\`"use": "${id}"\` in a stage.

## Files

- \`src/${name}.ts\` — the descriptor: id, config schema, inputs, parameters read, \`run(ctx)\`, \`write\`
- \`src/index.ts\` — exports \`plugins\`, the list cosmodag loads
- \`test/${name}.test.ts\` — tests against closed-form results (node:test)
- \`pipeline.json\` — a pipeline that runs the stage alone
`;
  if (POWER_PORTS.includes(port)) {
    Object.assign(files, powerScaffold(name, port, v, Cfg));
    files['README.md'] = files['README.md']
      .replace('writes out/' + name + '.tsv', 'the forecast with the stage spliced in: out/fisher.tsv, out/sigmas.tsv')
      .replace('tests against closed-form results (node:test)', 'tests: the closed form, and the AD Fisher matrix of the forecast against finite differences (node:test)')
      .replace('a pipeline that runs the stage alone', 'the Euclid-like 3x2pt Fisher forecast with the stage spliced in after the P(k) it modifies');
  }
  return files;
}

export default class PluginsNew extends Command {
  static override description = 'Scaffold a plugin package for a new stage PORT/NAME: descriptor, test, pipeline and README, ready to build.';
  static override examples = ['<%= config.bin %> plugins new my-halofit --port nonlinear-power', '<%= config.bin %> plugins new smail --port redshift-distribution --dir ../cosmodag-smail'];
  static override args = { name: Args.string({ required: true, description: 'method name: the plugin id is PORT/NAME' }) };
  static override flags = {
    port: Flags.string({ required: true, description: 'the port (stage kind) it fills, e.g. nonlinear-power, weights; a new name makes a new port' }),
    dir: Flags.string({ description: 'directory to create (default ./NAME); it must not exist or be empty' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(PluginsNew);
    try {
      const problems = [];
      if (!/^[a-z0-9-]+$/.test(flags.port)) problems.push(issue('--port', `${JSON.stringify(flags.port)} must be lower-case letters, digits and dashes (e.g. nonlinear-power)`));
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(args.name)) problems.push(issue('NAME', `${JSON.stringify(args.name)} must be letters, digits, '-', '_' or '.' (it becomes the plugin id ${flags.port}/${args.name} and a file name)`));
      if (problems.length) throw new InputError(problems);
      const dir = path.resolve(flags.dir ?? args.name);
      if (fs.existsSync(dir) && (!fs.statSync(dir).isDirectory() || fs.readdirSync(dir).length))
        throw new InputError([issue('--dir', `${dir} exists and is not an empty directory; choose another --dir (nothing was written)`)]);
      const files = scaffoldFiles(args.name, flags.port);
      for (const [f, text] of Object.entries(files)) writeFileAtomic(path.join(dir, f), text);
      const shown = path.relative(process.cwd(), dir) || '.';
      this.log(`created ${flags.port}/${args.name} in ${shown}:`);
      for (const f of Object.keys(files)) this.log(`  ${f}`);
      this.log(`next: cd ${shown} && npm install && npm link cosmodag && npm run build && npm test && cosmodag run pipeline.json`);
    } catch (e) {
      this.exit(reportError(e));
    }
  }
}
