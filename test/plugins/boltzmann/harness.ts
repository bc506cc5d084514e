/**
 * Test harness for the recombination and Boltzmann stages: the shared stage harness (test/support/harness.ts),
 * CLASS reference paths, derived-number reader, and the CLASS cosmologies with their tau_reio.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FID as BASE_FID, repoRoot, runBackground as baseBackground } from '../../support/harness.js';
import type { Background } from '../../../plugins/contracts/background.js';

export * from '../../support/harness.js';
export const classPath = (...parts: string[]) => path.resolve(repoRoot, '../shared/reference/class', ...parts);

/** name -> value of a CLASS derived.tsv */
export function readDerived(file: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of readFileSync(file, 'utf8').trim().split('\n').slice(1)) {
    const [k, v] = l.split('\t');
    out[k] = Number(v);
  }
  return out;
}

/** background/w0wa at these parameters, tangents for `vary` (z up to 5). */
export const runBackground = (params: Record<string, number> = {}, vary: string[] = []): Background => baseBackground(params, vary);

/** The CLASS `fid` and `w0wa` cosmologies (reference/class/README.md), with tau_reio. */
export const FID = { ...BASE_FID, tau_reio: 0.0544 };
export const W0WA = { ...FID, w0: -0.9, wa: 0.2 };
