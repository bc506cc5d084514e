/**
 * Test harness for the power-spectrum stages: the shared stage harness (test/support/harness.ts) and the
 * fixture directory of this suite.
 */
import path from 'node:path';
import { repoRoot } from '../../support/harness.js';

export * from '../../support/harness.js';
export const fixturePath = (...parts: string[]) => path.resolve(repoRoot, 'test/fixtures/power', ...parts);
