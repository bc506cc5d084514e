/**
 * The built-in plugins, exported as the package `cosmodag/plugins`: the runtime loads this module through
 * the same loader (and checks) as any third-party plugin package. `ports` are the output contracts of the
 * built-in ports (plugins/contracts), which the runtime checks on every computed output; `services` the default
 * service providers bound in the registry's container (the cosmology: plugins/contracts/cosmology-service.ts).
 */
import type { AnyPlugin, PortContract, ServiceProvider } from '../core/plugin/types.js';
import { cosmologyService } from './contracts/cosmology-service.js';
import { backgroundPort } from './contracts/background.js';
import { linearPowerPort, nonlinearPowerPort } from './contracts/power.js';
import { recombinationPort } from './contracts/recombination.js';
import { redshiftDistributionPort } from './contracts/redshift.js';
import { spectraPort } from './contracts/spectra.js';
import { weightsPort } from './contracts/tracers-check.js';
import { integratorPlugins } from './integrator/index.js';
import { differentiatorPlugins } from './differentiator/index.js';
import { odeSolverPlugins } from './ode-solver/index.js';
import { w0waBackground } from './background/w0wa.js';
import { redshiftDistributionPlugins } from './redshift-distribution/index.js';
import { weightsPlugins } from './weights/index.js';
import { linearPowerPlugins } from './linear-power/index.js';
import { nonlinearPowerPlugins } from './nonlinear-power/index.js';
import { limber } from './spectra/limber.js';
import { gaussianFisher } from './likelihood/gaussian-fisher.js';
import { gaussianLikelihood } from './likelihood/gaussian.js';
import { reverseAdjoint } from './differentiator/reverse-adjoint.js';
import { recombinationPlugins } from './recombination/index.js';
import { boltzmann } from './linear-power/boltzmann.js';
import { commandPlugins } from './command/index.js';
import { samplerPlugins } from './sampler/index.js';

export const plugins: AnyPlugin[] = [
  ...integratorPlugins,
  ...differentiatorPlugins,
  ...odeSolverPlugins,
  w0waBackground,
  ...redshiftDistributionPlugins,
  ...weightsPlugins,
  ...linearPowerPlugins,
  ...nonlinearPowerPlugins,
  limber,
  gaussianFisher,
  gaussianLikelihood,
  reverseAdjoint,
  ...recombinationPlugins,
  boltzmann,
  ...commandPlugins,
  ...samplerPlugins,
];

/** Output contracts of the built-in ports, checked at every stage boundary (docs/architecture.md, "Port contracts"). */
export const ports: PortContract[] = [
  backgroundPort,
  redshiftDistributionPort,
  linearPowerPort,
  nonlinearPowerPort,
  recombinationPort,
  weightsPort,
  spectraPort,
];

/** Default service providers (ctx.service(name) for a stage declaring `services: [name]`). */
export const services: ServiceProvider[] = [cosmologyService];
