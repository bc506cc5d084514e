/**
 * The sweep's tables: sweep.tsv (one row per point, in the sweep's order: point, id, the varied values, status,
 * seconds, the summary columns of the final stage, the outputs directory with --keep-outputs, the error of a failed
 * point) and sweep.json (the same rows with the values as JSON, and the sweep's settings).
 */
import type { PointSetting } from './points.js';

export interface SweepRow {
  /** 1-based position in the sweep. */
  point: number;
  /** First 12 hex digits of the content address ('-' for a point that could not be planned). */
  id: string;
  key: string | null;
  settings: PointSetting[];
  /** The varied values as written. */
  values: string[];
  status: 'ok' | 'failed';
  seconds: number;
  columns: Record<string, number | string>;
  /** DIR-relative directory of the point's files (--keep-outputs). */
  outputs?: string;
  error?: string;
}

/** Summary columns in order of first appearance over the rows. */
export function summaryColumns(rows: SweepRow[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const c of Object.keys(r.columns)) seen.add(c);
  return [...seen];
}

/** Numbers in full (shortest round-trip) precision; text cells without tabs or newlines. */
const cell = (v: number | string | undefined) => (v === undefined ? '-' : typeof v === 'number' ? String(v) : v.replace(/[\t\r\n]+/g, ' ') || '-');

export function sweepTsv(names: string[], rows: SweepRow[], withOutputs: boolean): string {
  const cols = summaryColumns(rows);
  const head = ['point', 'id', ...names, 'status', 'seconds', ...cols, ...(withOutputs ? ['outputs'] : []), 'error'];
  const lines = [head.join('\t')];
  for (const r of rows)
    lines.push([
      String(r.point), r.id, ...r.values.map((v) => cell(v)), r.status, r.seconds.toFixed(3),
      ...cols.map((c) => cell(r.columns[c])), ...(withOutputs ? [cell(r.outputs)] : []), cell(r.error),
    ].join('\t'));
  return lines.join('\n') + '\n';
}

export function sweepJson(pipeline: string, settings: Record<string, unknown>, names: string[], rows: SweepRow[]): string {
  return JSON.stringify({
    format: 'cosmodag-sweep/1',
    pipeline,
    settings,
    varied: names,
    columns: summaryColumns(rows),
    points: rows.map((r) => ({
      point: r.point, id: r.id, key: r.key,
      values: Object.fromEntries(r.settings.map((s) => [s.name, s.value])),
      status: r.status, seconds: r.seconds, summary: r.columns,
      ...(r.outputs ? { outputs: r.outputs } : {}), ...(r.error ? { error: r.error } : {}),
    })),
  }, null, 1) + '\n';
}
