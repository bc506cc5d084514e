/**
 * `differentiator/reverse-adjoint`: reverse mode. The stage consuming derivatives receives its input as
 * values plus a handle (core/graph/reverse.ts: reverseHandleOf) with which it pulls any bar of that input
 * back to the varied parameters in one backward sweep through the stages' vector-Jacobian products: the
 * gradient of a scalar (a log-likelihood) costs a few forward runs whatever the number of parameters.
 *
 * A consumer that needs whole Jacobians rather than gradients (the Fisher stage: dC_l/dtheta for every
 * pair and multipole) gets them in forward mode, which is what forward mode is for: the input then carries
 * forward tangents as well as the handle.
 */
import { PLUGIN_API_VERSION, type MethodPlugin } from '../../core/plugin/types.js';
import type { Differentiator } from '../../core/graph/differentiator.js';
import { pullback, withReverseHandle, type ReverseHandle } from '../../core/graph/reverse.js';

export const reverseAdjoint: MethodPlugin<{}, Differentiator> = {
  apiVersion: PLUGIN_API_VERSION,
  id: 'differentiator/reverse-adjoint',
  version: '1.0.0',
  kind: 'differentiator',
  description:
    'Reverse mode: the consumer pulls bars of its input back to the parameters through every stage\'s vector-Jacobian product (gradients at a cost independent of the number of parameters)',
  configSchema: { type: 'object', additionalProperties: false, properties: {} },
  create: () => ({
    name: 'reverse-adjoint',
    // evaluations only at the base point: the values pass is the main pass's (memo hits, no recomputation)
    mode: 'base-point',
    async differentiate(evaluate, varied, progress) {
      const g = evaluate.graph;
      if (!g) throw new Error('differentiator/reverse-adjoint needs the evaluation graph from the runtime (an Evaluator without `graph`)');
      const wrt = varied.map((v) => v.name);
      const consumer = g.consumer ? g.plan.stages.get(g.consumer)?.plugin : undefined;
      progress?.(0, 1);
      // values only when the consumer pulls gradients back itself (it declares vjp: it is reverse-aware)
      const base = (await evaluate({}, consumer?.vjp ? [] : wrt)) as object;
      progress?.(1, 1);
      const handle: ReverseHandle = {
        wrt,
        gradient: (bar) => pullback(g.plan, g.registry, g.target, bar, { params: { ...g.params }, wrt, store: g.store, report: g.report }),
        tangents: () => evaluate({}, wrt),
      };
      return withReverseHandle(base, handle);
    },
  }),
};
