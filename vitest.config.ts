import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // the built-in plugins are loaded by package name (the same path as a third-party package);
    // under vitest that name points at the TypeScript sources instead of dist/
    alias: { 'cosmodag/plugins': fileURLToPath(new URL('./plugins/index.ts', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // vitest's default is one fork fewer than the cores: 1 on the 2-core CI machine, which ran the files one at a
    // time (the suite's wall time was the sum of its files'); many files mostly wait on CLI child processes
    maxWorkers: 2,
    // `slow`: a long run inside a file whose other tests are quick; `npm run test:fast` leaves it out
    tags: [{ name: 'slow', description: 'a long run (a main-job pipeline, a derivative or reference sweep): not in npm run test:fast' }],
  },
});
