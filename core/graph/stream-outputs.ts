/**
 * Outputs written while their stage computes: for every pipeline `outputs` entry whose stage's plugin streams
 * that file (StagePlugin.streamFile), the writer's head goes to `<file>.partial` when the stage starts, each
 * chunk's rows are appended as the chunk arrives (top-level run only: a differentiator's evaluations write
 * nothing), and its tail when the stage is computed. At the end (after `write` has run) the caller commits the
 * partial file onto the target — atomically, by rename — when it is complete (its chunks covered [0, total))
 * and equal to `write`'s version of the file (hash); otherwise it is removed and `write`'s version is written.
 * A stage read from the memo store streams nothing: its file comes from `write`, as before.
 */
import type { Observable } from 'rxjs';
import type { ChunkWriter } from '../plugin/types.js';
import type { RunEvent } from './execute.js';
import type { Plan } from './plan.js';
import type { OutputWriter, PartialFile } from './write-outputs.js';

interface Streamed {
  stage: string;
  file: string;
  writer: ChunkWriter;
  partial?: PartialFile;
  covered: number;
  total?: number;
  complete: boolean;
  broken?: string;
}

export interface StreamedOutputs {
  /** The complete partial file of `stage`'s entry `file`, if it was streamed completely (else undefined). */
  take(stage: string, file: string): PartialFile | undefined;
  /** Why the stream of a file was not usable (the writer threw), for a warning. */
  problem(stage: string, file: string): string | undefined;
  /** Remove every partial file not taken (after a failure, or when a stream was incomplete). */
  abort(): void;
  /** Stop listening to the run's events. */
  detach(): void;
}

export function streamOutputs(plan: Plan, events: Observable<RunEvent>, out: OutputWriter, params: Record<string, number>): StreamedOutputs {
  const streams: Streamed[] = [];
  for (const [stage, names] of Object.entries(plan.pipeline.outputs ?? {})) {
    const st = plan.stages.get(stage);
    if (!st?.plugin.streamFile) continue;
    for (const file of ([] as string[]).concat(names)) {
      const writer = st.plugin.streamFile(file, { config: st.config, params });
      if (writer) streams.push({ stage, file, writer, covered: 0, complete: false });
    }
  }
  const fail = (s: Streamed, e: unknown) => {
    s.broken = `the stream writer of ${s.file} failed: ${(e as Error).message}`;
    s.partial?.abort();
    s.partial = undefined;
  };
  const sub = streams.length
    ? events.subscribe((e) => {
        if (e.depth || !e.stage) return;
        for (const s of streams) {
          if (s.stage !== e.stage || s.broken) continue;
          try {
            if (e.type === 'stage-start') {
              s.partial = out.partial(s.file);
              const head = s.writer.head?.();
              if (head) s.partial.append(head);
            } else if (e.type === 'chunk' && s.partial) {
              s.partial.append(s.writer.chunk(e));
              s.covered += e.range[1] - e.range[0];
              if (e.total !== undefined) s.total = e.total;
            } else if (e.type === 'stage-computed' && s.partial) {
              const tail = s.writer.tail?.();
              if (tail) s.partial.append(tail);
              s.complete = s.total !== undefined && s.covered === s.total;
            } else if (e.type === 'stage-failed') {
              s.partial?.abort();
              s.partial = undefined;
            }
          } catch (err) {
            fail(s, err);
          }
        }
      })
    : undefined;
  const find = (stage: string, file: string) => streams.find((s) => s.stage === stage && s.file === file);
  return {
    take(stage, file) {
      const s = find(stage, file);
      if (!s?.partial || !s.complete) return undefined;
      const p = s.partial;
      s.partial = undefined;
      return p;
    },
    problem: (stage, file) => find(stage, file)?.broken,
    abort() {
      for (const s of streams) {
        s.partial?.abort();
        s.partial = undefined;
      }
    },
    detach: () => sub?.unsubscribe(),
  };
}
