/**
 * Output files written as the chunks arrive (StagePlugin.streamFile through `cosmodag run`): rows appear in
 * `<file>.partial` while the stage computes, the target itself appears only complete (renamed at the end, listed
 * in the manifest), a failed stage leaves nothing behind, a cached stage's file comes from `write`, and a
 * streamed file that differs from `write`'s is replaced by it. The stream-sink stage of the fixtures looks at the
 * files each time a chunk reaches it (after the writer has appended that chunk).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { sha256 } from '../../../core/cache/memo-key.js';
import { MemoryStore } from '../../../core/cache/store.js';
import { runJob } from '../../../core/cli/run-job.js';
import { MANIFEST } from '../../../core/graph/write-outputs.js';
import type { Spectra } from '../../../plugins/contracts/spectra.js';
import { spectraTsv } from '../../../plugins/spectra/write-spectra.js';
import { trace } from '../../fixtures/stream-plugins.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const fixture = path.resolve(here, '../../fixtures/stream-plugins.ts');
const tmp = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), p));

function pipelineFile(p: object): string {
  const file = path.join(tmp('cosmodag-stream-p-'), 'p.json');
  fs.writeFileSync(file, JSON.stringify(p));
  return file;
}

const toy = (out: string, rows: object = {}) => ({
  name: 'toy-stream-files',
  plugins: [fixture],
  stages: {
    rows: { use: 'toy-rows/chunks', with: { n: 12, parts: 4, ...rows } },
    sink: { use: 'stream-sink/record', with: { partial: path.join(out, 'rows.tsv.partial'), target: path.join(out, 'rows.tsv') } },
  },
  outputs: { rows: 'rows.tsv' },
});
const expected = 'i\ty\n' + Array.from({ length: 12 }, (_, i) => `${i}\t${i * i}\n`).join('');
const sinkSaw = () => trace.filter((e) => e.what === 'sink-chunk');

describe('a streamed output file', () => {
  beforeEach(() => { trace.length = 0; });

  it('grows in <file>.partial as the chunks arrive and is renamed onto the target, complete, at the end', async () => {
    const out = tmp('cosmodag-stream-out-');
    const store = new MemoryStore();
    const r = await runJob({ file: pipelineFile(toy(out)), out, quiet: true, store });
    // header + 3 rows per chunk, appended before the chunk reached the consumer; the target not there yet
    expect(sinkSaw().map((e) => e.partialLines)).toEqual([4, 7, 10, 13]);
    expect(sinkSaw().every((e) => e.targetExists === false)).toBe(true);
    expect(fs.readFileSync(path.join(out, 'rows.tsv'), 'utf8')).toBe(expected);
    expect(fs.existsSync(path.join(out, 'rows.tsv.partial'))).toBe(false);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, MANIFEST), 'utf8'));
    expect(manifest.files['rows.tsv'].sha256).toBe(sha256(expected));
    expect(r.files).toEqual([path.join(out, 'rows.tsv')]);
    // --events keeps the chunks (range, total), not their data
    const chunks = r.events.filter((e) => e.type === 'chunk');
    expect(chunks.map((e) => (e as { range: number[] }).range)).toEqual([[0, 3], [3, 6], [6, 9], [9, 12]]);
    expect(chunks.every((e) => !('data' in e))).toBe(true);

    // from the memo store: nothing streamed, the file comes from write (and is the same)
    trace.length = 0;
    const again = await runJob({ file: pipelineFile(toy(out)), out, quiet: true, store });
    expect(again.cached).toContain('rows');
    expect(fs.readFileSync(path.join(out, 'rows.tsv'), 'utf8')).toBe(expected);
    expect(fs.existsSync(path.join(out, 'rows.tsv.partial'))).toBe(false);
  });

  it('a stage failing mid-stream leaves neither the partial file nor the target', async () => {
    const out = tmp('cosmodag-stream-out-');
    await expect(runJob({ file: pipelineFile(toy(out, { fail_after: 2 })), out, quiet: true })).rejects.toThrow(/failing after 2 chunks/);
    expect(sinkSaw().map((e) => e.partialLines)).toEqual([4, 7]);
    expect(fs.readdirSync(out).filter((f) => f.startsWith('rows.tsv'))).toEqual([]);
  });

  it('a stream that differs from what write gives is dropped: the file is write\'s', async () => {
    const out = tmp('cosmodag-stream-out-');
    await runJob({ file: pipelineFile(toy(out, { tamper: true })), out, quiet: true });
    expect(fs.readFileSync(path.join(out, 'rows.tsv'), 'utf8')).toBe(expected);
    expect(fs.existsSync(path.join(out, 'rows.tsv.partial'))).toBe(false);
  });

  it('cl.tsv of the Limber stage grows block by block and ends identical to write\'s', async () => {
    const out = tmp('cosmodag-stream-cl-');
    const pipeline = JSON.parse(fs.readFileSync(path.join(root, 'pipelines/euclid-3x2pt.json'), 'utf8'));
    pipeline.plugins = [fixture];
    pipeline.stages.cl.with.plot = false;
    pipeline.stages.sink = { use: 'stream-sink/record', inputs: { source: 'cl' }, with: { partial: path.join(out, 'cl.tsv.partial'), target: path.join(out, 'cl.tsv') } };
    const r = await runJob({ file: pipelineFile(pipeline), out, quiet: true });
    const cl = r.outputs.get('cl') as Spectra;
    const seen = sinkSaw();
    expect(seen.length).toBeGreaterThan(4);
    // header + the rows of every block so far
    expect(seen.map((e) => e.partialLines)).toEqual(seen.map((e) => 1 + e.range![1]));
    expect(seen.every((e) => e.targetExists === false)).toBe(true);
    expect(fs.readFileSync(path.join(out, 'cl.tsv'), 'utf8')).toBe(spectraTsv(cl));
    expect(fs.existsSync(path.join(out, 'cl.tsv.partial'))).toBe(false);
  });
});
