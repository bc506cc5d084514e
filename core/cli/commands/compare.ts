import { Args, Command, Flags } from '@oclif/core';
import fs from 'node:fs';
import path from 'node:path';
import { reportError } from '../errors.js';
import { DiskStore, MemoryStore } from '../../cache/store.js';
import { compareVariants, comparisonMarkdown, comparisonTsv, isTableFile, parseVary, referenceFiles, runVariants, variantsTsv } from '../../graph/compare.js';
import { plotComparison } from '../../graph/compare-plot.js';
import { OutputWriter } from '../../graph/write-outputs.js';
import { InputError, issue } from '../../schema/input-error.js';

const kindOf = (f: string): 'file' | 'dir' | null => {
  try {
    const st = fs.statSync(f);
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : null;
  } catch {
    return null;
  }
};

const slug = (s: string) => s.replace(/[^A-Za-z0-9._=-]+/g, '_').replace(/^_+|_+$/g, '') || 'variant';

export default class Compare extends Command {
  static override description =
    'Run a pipeline in several variants (--vary any dotted path), sharing every stage a variant does not change, and compare ' +
    'their output tables against a reference file or the first variant: max and median relative differences, wall times, plots.';
  static override examples = [
    '<%= config.bin %> compare pipelines/euclid-3x2pt.json --vary methods.integrator=newton-cotes,romberg,gauss-legendre',
    '<%= config.bin %> compare pipelines/euclid-3x2pt.json --vary methods.integrator=romberg,gauss-legendre --reference out/cl/cl.tsv',
    `<%= config.bin %> compare pipelines/euclid-3x2pt.json --vary 'stages.nonlinear.use=nonlinear-power/halofit,nonlinear-power/linear'`,
  ];
  static override args = { pipeline: Args.string({ required: true, description: 'pipeline JSON file' }) };
  static override flags = {
    vary: Flags.string({
      char: 'v', multiple: true, required: true,
      description: 'DOTTED.PATH=V1,V2,... (values are JSON, else strings; or PATH=[JSON array]); several --vary: every combination',
    }),
    reference: Flags.string({
      char: 'r', multiple: true,
      description: 'reference output: FILE (matched by name to an output, e.g. cl.tsv), DIR (a previous run\'s --out), or OUTPUT=FILE; default: the first variant',
    }),
    out: Flags.string({ char: 'o', description: 'directory for compare.tsv, compare.md, variants.tsv and the plots (default out/<pipeline name>-compare)' }),
    param: Flags.string({ char: 'p', multiple: true, description: 'NAME=VALUE: set a parameter\'s fiducial value (all variants)' }),
    set: Flags.string({ char: 's', multiple: true, description: 'DOTTED.PATH=JSON: set any pipeline value (all variants)' }),
    cache: Flags.string({ description: 'on-disk memo cache shared with other runs (default: one in-memory cache shared by the variants)' }),
    'keep-outputs': Flags.boolean({ description: 'also write each variant\'s output files under <out>/variants/<variant>/' }),
    'no-plot': Flags.boolean({ description: 'skip the plots' }),
    quiet: Flags.boolean({ char: 'q', description: 'print nothing but errors' }),
    force: Flags.boolean({ description: 'overwrite files in --out that cosmodag did not write' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Compare);
    const log = (s: string) => { if (!flags.quiet) this.log(s); };
    try {
      const axes = flags.vary.map(parseVary);
      const store = flags.cache ? new DiskStore(path.resolve(flags.cache)) : new MemoryStore();
      const result = await runVariants({
        file: args.pipeline, params: flags.param, sets: flags.set, vary: axes, store,
        onVariant: (i, n, v) => { if (!flags.quiet) process.stderr.write(`[${i + 1}/${n}] ${v.label}\n`); },
      });
      const outputs = [...new Set(result.variants.flatMap((v) => Object.keys(v.files)))];
      if (!outputs.some(isTableFile))
        throw new InputError([issue('outputs', `the pipeline writes no table to compare (outputs: ${outputs.join(', ') || 'none'}); add one to its "outputs"`)]);
      const reference = flags.reference?.length
        ? { files: referenceFiles(flags.reference, outputs.filter(isTableFile), kindOf), read: (f: string) => fs.readFileSync(f, 'utf8') }
        : null;
      const comparison = compareVariants(result, reference);

      const outDir = path.resolve(flags.out ?? path.join('out', `${result.pipelineName}-compare`));
      const writer = new OutputWriter(outDir, `${result.pipelineName} (compare)`, flags.force);
      const plots = flags['no-plot'] ? [] : await plotComparison(comparison);
      const planned = ['compare.tsv', 'compare.md', 'variants.tsv', ...plots.flatMap((p) => [`${p.name}.png`, `${p.name}.svg`])];
      if (flags['keep-outputs'])
        for (const v of result.variants) for (const f of Object.keys(v.files)) planned.push(path.join('variants', slug(v.variant.label), f));
      writer.checkWritable(planned);
      const written: string[] = [];
      for (const p of plots) {
        written.push(writer.write(`${p.name}.png`, p.png));
        written.push(writer.write(`${p.name}.svg`, p.svg));
      }
      const rel = (f: string) => {
        const r = path.relative(process.cwd(), f);
        return r && !r.startsWith('..') ? r : f;
      };
      const md = comparisonMarkdown(comparison, written.filter((f) => f.endsWith('.png')).map(rel));
      written.unshift(writer.write('compare.tsv', comparisonTsv(comparison)), writer.write('compare.md', md), writer.write('variants.tsv', variantsTsv(comparison)));
      if (flags['keep-outputs'])
        for (const v of result.variants)
          for (const [f, data] of Object.entries(v.files)) written.push(writer.write(path.join('variants', slug(v.variant.label), f), data));

      log(md.trimEnd());
      for (const o of comparison.outputs)
        for (const [i, d] of o.diffs.entries())
          if (d?.unmatched.length) log(`note: ${o.file} of ${comparison.variants[i].variant.label}: columns not compared: ${d.unmatched.join(', ')}`);
      log('');
      for (const f of written) log(`wrote ${rel(f)}`);
    } catch (e) {
      this.exit(reportError(e));
    }
  }
}
