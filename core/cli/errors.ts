/** Exit codes and messages: 2 for invalid input, 1 for a failure during compute; a one-line message first. */
import { InputError } from '../schema/input-error.js';

export function reportError(e: unknown): number {
  if (e instanceof InputError) {
    process.stderr.write(e.report());
    return 2;
  }
  const err = e as Error;
  process.stderr.write(`error: ${err.message}\n`);
  if (process.env.COSMODAG_DEBUG && err.stack) process.stderr.write(err.stack + '\n');
  else if (err.cause instanceof Error && !err.message.includes(err.cause.message)) process.stderr.write(`  cause: ${err.cause.message}\n`);
  return 1;
}
