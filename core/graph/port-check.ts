/**
 * The stage boundary check: a computed output is checked against the contract of its stage's port (when a
 * plugin module registered one) before it is stored or handed downstream, so that a plugin returning the wrong
 * shape fails at its own stage, naming the field, instead of as "Cannot read properties of undefined" later.
 * Contracts are cheap by design (shapes, lengths, ascending grids; see PortContract): this runs on every
 * evaluation, including every point of a stencil or a sampler.
 */
import type { PluginRegistry } from '../plugin/registry.js';
import type { PortContract } from '../plugin/types.js';

/** How many messages of a broken contract are shown (the rest are counted). */
const SHOWN = 6;

/** Thrown when an output breaks its port's contract; the runtime wraps it in a StageError (stage and plugin). */
export class PortContractError extends Error {
  constructor(readonly port: string, readonly problems: string[]) {
    const shown = problems.slice(0, SHOWN).join('; ');
    const more = problems.length > SHOWN ? `; (and ${problems.length - SHOWN} more)` : '';
    super(`its output does not satisfy the contract of port "${port}": ${shown}${more}`);
    this.name = 'PortContractError';
  }
}

/** The problems of `output` under the contract of `port` ([] when none is registered or it conforms). */
export function portProblems(contract: PortContract | undefined, output: unknown): string[] {
  if (!contract) return [];
  try {
    return contract.check(output);
  } catch (e) {
    return [`(the contract check itself failed: ${(e as Error).message})`];
  }
}

/** Throws a PortContractError when the output of a stage filling `port` breaks the port's contract. */
export function checkPortOutput(registry: PluginRegistry, port: string, output: unknown): void {
  const problems = portProblems(registry.portContract(port), output);
  if (problems.length) throw new PortContractError(port, problems);
}
