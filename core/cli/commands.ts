/** The oclif command table (explicit strategy: package.json "oclif.commands"). */
import Run from './commands/run.js';
import Validate from './commands/validate.js';
import Plugins from './commands/plugins.js';
import FisherCombine from './commands/fisher-combine.js';

export const COMMANDS = {
  run: Run,
  validate: Validate,
  plugins: Plugins,
  'fisher:combine': FisherCombine,
};
