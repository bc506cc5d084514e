import { Args, Command, Flags } from '@oclif/core';
import { reportError } from '../errors.js';
import { runJob } from '../run-job.js';

export default class Run extends Command {
  static override description = 'Run a pipeline: validate it, compute its stages (memoized), write its outputs.';
  static override examples = [
    '<%= config.bin %> run pipelines/background.json --out out/bg',
    `<%= config.bin %> run pipelines/euclid-3x2pt.json --param A_IA=0 --set 'stages.nonlinear.use="nonlinear-power/linear"'`,
  ];
  static override args = { pipeline: Args.string({ required: true, description: 'pipeline file (.json, or .yaml/.yml)' }) };
  static override flags = {
    out: Flags.string({ char: 'o', description: 'output directory (default out/<pipeline name>)' }),
    param: Flags.string({ char: 'p', multiple: true, description: 'NAME=VALUE: set a parameter\'s fiducial value' }),
    set: Flags.string({ char: 's', multiple: true, description: 'DOTTED.PATH=JSON: set any pipeline value' }),
    unset: Flags.string({ char: 'u', multiple: true, description: 'DOTTED.PATH: remove a key (e.g. parameters.b_10), applied after --set' }),
    cache: Flags.string({ description: 'directory of an on-disk memo cache shared between runs' }),
    'cache-max-size': Flags.string({ description: 'bound of the --cache directory, e.g. 500M or 4G (default 2G; least recently used entries go first)' }),
    events: Flags.string({ description: 'write the event log as JSON lines to this file' }),
    quiet: Flags.boolean({ char: 'q', description: 'print nothing but errors' }),
    force: Flags.boolean({ description: 'overwrite files in --out that cosmodag did not write' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Run);
    try {
      await runJob({ file: args.pipeline, out: flags.out, params: flags.param, sets: flags.set, unsets: flags.unset, cache: flags.cache, cacheMaxSize: flags['cache-max-size'], eventsFile: flags.events, quiet: flags.quiet, force: flags.force });
    } catch (e) {
      this.exit(reportError(e));
    }
  }
}
