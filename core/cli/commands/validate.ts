import { Args, Command, Flags } from '@oclif/core';
import { reportError } from '../errors.js';
import { preparePipeline } from '../run-job.js';
import { variedParameters } from '../../graph/plan.js';

export default class Validate extends Command {
  static override description = 'Check a pipeline without computing anything: schema, plugins, inputs, cycles, methods, parameters, and the consistency of the stages with each other (static descriptions: n(z) bins, redshift coverage).';
  static override args = { pipeline: Args.string({ required: true, description: 'pipeline file (.json, or .yaml/.yml)' }) };
  static override flags = {
    param: Flags.string({ char: 'p', multiple: true, description: 'NAME=VALUE' }),
    set: Flags.string({ char: 's', multiple: true, description: 'DOTTED.PATH=JSON' }),
    unset: Flags.string({ char: 'u', multiple: true, description: 'DOTTED.PATH: remove a key, applied after --set' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Validate);
    try {
      const { plan } = await preparePipeline(args.pipeline, flags.param, flags.set, flags.unset);
      this.log(`${args.pipeline}: valid`);
      for (const n of plan.order) {
        const st = plan.stages.get(n)!;
        const ins = Object.entries(st.inputs).map(([k, v]) => `${k}<-${typeof v === 'string' ? v : `[${v.join(', ')}]`}`).join(', ');
        const ms = Object.values(st.methods).map((m) => m.plugin.id).join(', ');
        this.log(`  ${n}: ${st.plugin.id}${ins ? `  inputs: ${ins}` : ''}${ms ? `  methods: ${ms}` : ''}`);
      }
      const varied = variedParameters(plan);
      this.log(`  parameters: ${plan.parameters.size} read, ${varied.length} varied${varied.length ? ` (${varied.join(', ')})` : ''}`);
    } catch (e) {
      this.exit(reportError(e));
    }
  }
}
