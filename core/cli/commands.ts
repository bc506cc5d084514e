/** The oclif command table (explicit strategy: package.json "oclif.commands"). */
import Run from './commands/run.js';
import Validate from './commands/validate.js';
import Plugins from './commands/plugins.js';
import FisherCombine from './commands/fisher-combine.js';
import Plot from './commands/plot.js';
import Compare from './commands/compare.js';
import PluginsNew from './commands/plugins-new.js';
import Sample from './commands/sample.js';
import Sweep from './commands/sweep.js';
import Worker from './commands/worker.js';
import { CachePrune, CacheStats, CacheVerify } from './commands/cache.js';

export const COMMANDS = {
  run: Run,
  validate: Validate,
  plugins: Plugins,
  'fisher:combine': FisherCombine,
  plot: Plot,
  compare: Compare,
  'plugins:new': PluginsNew,
  sample: Sample,
  sweep: Sweep,
  worker: Worker,
  'cache:stats': CacheStats,
  'cache:prune': CachePrune,
  'cache:verify': CacheVerify,
};
