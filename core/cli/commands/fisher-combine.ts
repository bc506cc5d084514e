import { Args, Command, Flags } from '@oclif/core';
import path from 'node:path';
import { reportError } from '../errors.js';
import { combineFisher, figureOfMerit, fisherCovariance, readFisherTsv } from '../fisher-files.js';
import { OutputWriter } from '../../graph/write-outputs.js';

export default class FisherCombine extends Command {
  static override description = 'Add independent Fisher matrices (fisher.tsv files, data only), aligned by parameter name, count the priors of their fisher.json once, and print the marginalized errors.';
  static override strict = false;
  static override args = { files: Args.string({ required: true, description: 'fisher.tsv files (two or more); priors are read from the fisher.json beside each' }) };
  static override flags = {
    out: Flags.string({ char: 'o', description: 'directory for the combined fisher.tsv (data), fisher.json (with the priors) and sigmas.tsv' }),
    force: Flags.boolean({ description: 'overwrite files in --out that cosmodag did not write' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(FisherCombine);
    try {
      const files = (argv as string[]).map((f) => readFisherTsv(f));
      const sum = combineFisher(files);
      const cov = fisherCovariance(sum);
      const K = sum.names.length;
      const sig = Float64Array.from({ length: K }, (_, i) => Math.sqrt(cov[i * K + i]));
      const rows = sum.names.map((n, i) => {
        const fid = sum.fiducial?.[n];
        return `${n}\t${fid ?? ''}\t${sig[i].toExponential(6)}\t${fid ? ((100 * sig[i]) / Math.abs(fid)).toFixed(4) : 'n/a'}`;
      });
      const { fom, note } = figureOfMerit(sum.names, cov);
      const priors = Object.entries(sum.priors ?? {});
      this.log(['parameter\tfiducial\tsigma_marginalized\tpercent', ...rows].join('\n'));
      if (priors.length) this.log(`priors (counted once): ${priors.map(([n, s]) => `sigma(${n}) = ${s}`).join(', ')}`);
      this.log(Number.isFinite(fom) ? `figure of merit (w0, wa): ${fom.toFixed(1)}` : note!);
      if (flags.out) {
        const w = new OutputWriter(path.resolve(flags.out), 'fisher-combine', flags.force);
        w.write('fisher.tsv', [sum.names.join('\t'), ...Array.from({ length: K }, (_, i) => Array.from(sum.F.subarray(i * K, (i + 1) * K), (x) => x.toExponential(12)).join('\t'))].join('\n') + '\n');
        w.write('sigmas.tsv', ['parameter\tfiducial\tsigma_marginalized\tpercent', ...rows].join('\n') + '\n');
        w.write('fisher.json', JSON.stringify({
          quantity: 'sum of independent data Fisher matrices (priors listed apart, each counted once)',
          inputs: (argv as string[]).map((f) => path.resolve(f)),
          parameters: sum.names, fiducial: sum.names.map((n) => sum.fiducial?.[n] ?? null),
          fisher: Array.from({ length: K }, (_, i) => Array.from(sum.F.subarray(i * K, (i + 1) * K))),
          priors: sum.priors ?? {},
          sigma_marginalized: Array.from(sig),
          figure_of_merit_w0_wa: Number.isFinite(fom) ? fom : null,
          ...(note ? { figure_of_merit_note: note } : {}),
        }, null, 1) + '\n');
      }
    } catch (e) {
      this.exit(reportError(e));
    }
  }
}
