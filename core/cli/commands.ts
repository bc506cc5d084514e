/** The oclif command table (explicit strategy: package.json "oclif.commands"). */
import Run from './commands/run.js';
import Validate from './commands/validate.js';
import Plugins from './commands/plugins.js';

export const COMMANDS = {
  run: Run,
  validate: Validate,
  plugins: Plugins,
};
