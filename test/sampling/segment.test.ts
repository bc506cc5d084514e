/**
 * A chain run as segments (core/sampling/segment.ts, what `cosmodag sample --queue` sends to the workers), in this
 * thread: a segment of one iteration each time, its input and output passing through the job's text encoding as on
 * the queue, gives the draws of the chain run in one go (chain-runner.ts) bit for bit, for each sampler; a queue
 * worker refuses a plugin file it was not allowed, and a pipeline planned to another content address.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobFromData, runChains, type ChainJobData } from '../../core/sampling/chain-runner.js';
import { decodeJson, encodeJson, readDraws, type StoredDraw } from '../../core/sampling/checkpoint.js';
import { planSource, samplerFrom, targetFor, type PipelineSource } from '../../core/sampling/pipeline-source.js';
import { checkSegmentJob, runSegment, segmentJob, type SegmentInput, type SegmentOutput, type SegmentStart } from '../../core/sampling/segment.js';
import { pointKey } from '../../core/sweep/run-point.js';
import { toyPosterior } from '../support/sampling-toy-pipeline.js';

const here = path.dirname(new URL(import.meta.url).pathname);
const fixture = path.resolve(here, '../fixtures/sampling-toys.ts');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cosmodag-segment-'));
const source: PipelineSource = { pipeline: toyPosterior((p) => { p.plugins = [fixture]; }), baseDir: tmp, file: path.join(tmp, 'toy.json') };
const job: ChainJobData = { chain: 1, seed: 31, warmup: 15, start: [0.1, -0.2], covariance: null };
const WARMUP_PLUS_SAMPLES = 40;
const local = { allowCommands: false, remote: false };

async function key(): Promise<string> {
  const { plan, registry } = await planSource(source);
  return pointKey(plan, registry);
}

describe('a chain as segments', () => {
  for (const name of ['nuts', 'metropolis', 'ensemble'])
    it(`${name}: one-iteration segments through the job encoding give the draws of one run`, async () => {
      const { registry } = await planSource(source);
      const sampler = samplerFrom(registry, name, {});
      const out = path.join(tmp, name);
      const { target } = await targetFor(source, sampler.needsGradient);
      const [cp] = await runChains(sampler, [jobFromData(job)], () => target, { out, resume: false, samples: WARMUP_PLUS_SAMPLES - job.warmup, checkpointSeconds: 0 });
      const whole = readDraws(out, 1, cp);

      const k = await key();
      const draws: StoredDraw[] = [];
      let from: SegmentStart | null = null;
      let segments = 0;
      for (;;) {
        const { input } = checkSegmentJob(JSON.parse(JSON.stringify(segmentJob({ source, key: k, sampler: { name, config: {} }, job, total: WARMUP_PLUS_SAMPLES, from, seconds: 0 }))));
        const r = JSON.parse(JSON.stringify(await runSegment(input, local))) as Awaited<ReturnType<typeof runSegment>>;
        expect(r.status, r.error).toBe('ok');
        segments++;
        const o = decodeJson<SegmentOutput>(r.body!);
        draws.push(...o.draws);
        from = { state: o.state, seconds: o.seconds, warmupSeconds: o.warmupSeconds, warmupEvaluations: o.warmupEvaluations, counts: o.counts };
        if (o.done) {
          expect(o.evaluations).toBe(cp.evaluations);
          break;
        }
      }
      expect(segments).toBe(WARMUP_PLUS_SAMPLES);
      expect(draws.length).toBe(whole.length);
      expect(encodeJson(draws)).toBe(encodeJson(whole));
      expect(encodeJson(from?.state)).toBe(encodeJson(cp.state));
    });

  it('a queue worker refuses a plugin file it was not allowed, and a pipeline planned to another content address', async () => {
    const input: SegmentInput = { source, key: await key(), sampler: { name: 'metropolis', config: {} }, job, total: 5, from: null, seconds: 0 };
    const refused = await runSegment(input, { ...local, remote: true });
    expect(refused.status).toBe('failed');
    expect(refused.retry).toBe(false);
    expect(refused.error).toMatch(/^refused: the pipeline loads plugin modules from files \(.*sampling-toys\.ts\); .*--allow-plugin FILE/);
    const allowed = await runSegment(input, { ...local, remote: true, allowedPluginFiles: [fs.realpathSync(fixture)] });
    expect(allowed.status, allowed.error).toBe('ok');
    const other = await runSegment({ ...input, key: 'f'.repeat(64) }, local);
    expect(other.error).toMatch(/^refused: this machine plans the pipeline to another content address/);
    expect(() => checkSegmentJob({ format: 'cosmodag-sample-segment/1', chain: 1, from: 0, body: encodeJson({ ...input, source: { ...source, baseDir: 'relative' } }) })).toThrow(/baseDir must be an absolute path/);
  });
});
