import { Args, Command, Flags } from '@oclif/core';
import path from 'node:path';
import { reportError } from '../errors.js';
import { combineFisher, marginalizedErrors, readFisherTsv } from '../fisher-files.js';
import { OutputWriter } from '../../graph/write-outputs.js';

export default class FisherCombine extends Command {
  static override description = 'Add independent Fisher matrices (fisher.tsv files), aligned by parameter name, and print the marginalized errors.';
  static override strict = false;
  static override args = { files: Args.string({ required: true, description: 'fisher.tsv files (two or more)' }) };
  static override flags = {
    out: Flags.string({ char: 'o', description: 'directory for the combined fisher.tsv and sigmas.tsv' }),
    force: Flags.boolean({ description: 'overwrite files in --out that cosmodag did not write' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(FisherCombine);
    try {
      const files = (argv as string[]).map((f) => readFisherTsv(f));
      const sum = combineFisher(files);
      const sig = marginalizedErrors(sum);
      const K = sum.names.length;
      const rows = sum.names.map((n, i) => {
        const fid = sum.fiducial?.[n];
        return `${n}\t${fid ?? ''}\t${sig[i].toExponential(6)}\t${fid ? ((100 * sig[i]) / Math.abs(fid)).toFixed(4) : 'n/a'}`;
      });
      this.log(['parameter\tfiducial\tsigma_marginalized\tpercent', ...rows].join('\n'));
      if (flags.out) {
        const w = new OutputWriter(path.resolve(flags.out), 'fisher-combine', flags.force);
        w.write('fisher.tsv', [sum.names.join('\t'), ...Array.from({ length: K }, (_, i) => Array.from(sum.F.subarray(i * K, (i + 1) * K), (x) => x.toExponential(12)).join('\t'))].join('\n') + '\n');
        w.write('sigmas.tsv', ['parameter\tfiducial\tsigma_marginalized\tpercent', ...rows].join('\n') + '\n');
      }
    } catch (e) {
      this.exit(reportError(e));
    }
  }
}
