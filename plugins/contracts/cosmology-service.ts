/**
 * The cosmology as a service (docs/architecture.md, "Containers, methods and services"): the built-in plugin
 * module registers this provider under the name `cosmology`, so a stage that declares `services: ['cosmology']`
 * receives its Cosmology by injection, `ctx.service<Cosmology>(COSMOLOGY)`, the same object cosmologyOf(ctx)
 * gives (computed once per stage evaluation from the parameters the stage reads). A package providing another
 * cosmology (e.g. with massive neutrinos) rebinds the name in a child container for a pipeline or a stage; the
 * provider's id and version then enter the memo keys of the stages declaring the service.
 */
import type { ServiceProvider } from '../../core/plugin/types.js';
import { cosmologyOf, type Cosmology } from './cosmology.js';

/** The service name a stage declares and asks for. */
export const COSMOLOGY = 'cosmology';

export const cosmologyService: ServiceProvider<Cosmology> = {
  name: COSMOLOGY,
  id: 'cosmology/contract',
  version: '1.0.0',
  description: 'the Cosmology of plugins/contracts/cosmology.ts for the stage evaluation (parameters and derived quantities as Duals)',
  create: (ctx) => cosmologyOf(ctx),
};
