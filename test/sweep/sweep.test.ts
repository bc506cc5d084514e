/**
 * `cosmodag sweep` on worker threads (no queue): a sweep's rows equal independent `cosmodag run`s of its points;
 * killed half-way, `--resume` computes only the missing points (counted from the stage events) and ends with the
 * table of an uninterrupted sweep; an identical sweep recomputes nothing; bad input exits 2 before anything runs;
 * a point with an unphysical parameter is recorded as failed and the sweep goes on.
 * The pipeline is a small 3x2pt Fisher (3 bins, 20 multipoles: ~0.3 s a point). Runs the built CLI (npm run build).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { latinHypercube } from '../../core/sweep/latin-hypercube.js';
import { runSweep } from '../../core/sweep/run-sweep.js';
import { InputError } from '../../core/schema/input-error.js';
import { Background, readEvents, runCli, SMALL_FISHER, tableWithoutSeconds, tmpDir } from '../support/sweep-cli.js';

// a loaded 2-core machine (CI runs the whole suite at once) stretches these CLI runs several-fold
const SLOW = 400_000;
const GRID_16 = ['--vary', 'w0=-1.15,-1.05,-0.95,-0.85', '--vary', 'wa=-0.3,-0.1,0.1,0.3'];
const quiet = { log: () => {}, progress: () => {} };

describe('cosmodag sweep on worker threads', () => {
  it('each row equals an independent cosmodag run of its point; --keep-outputs and --plot write inside --out', { tags: ['slow'], timeout: SLOW }, () => {
    const out = tmpDir();
    const r = runCli(['sweep', SMALL_FISHER, '--vary', 'w0=-1.1,-0.9', '--vary', 'stages.fisher.with.fsky=0.2,0.3636', '--workers', '2', '--out', out, '--keep-outputs', '--plot', 'fom']);
    expect(r.code, r.stderr).toBe(0);
    const rows = fs.readFileSync(path.join(out, 'sweep.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t'));
    const head = rows[0];
    expect(head.slice(0, 6)).toEqual(['point', 'id', 'w0', 'stages.fisher.with.fsky', 'status', 'seconds']);
    expect(head).toContain('fom');
    expect(head).toContain('sigma_w0');
    expect(rows.slice(1).map((x) => [x[2], x[3]])).toEqual([['-1.1', '0.2'], ['-1.1', '0.3636'], ['-0.9', '0.2'], ['-0.9', '0.3636']]);
    // points 2 and 3 against plain runs with the same settings
    for (const row of [rows[2], rows[3]]) {
      const ref = tmpDir();
      const rr = runCli(['run', SMALL_FISHER, '--param', `w0=${row[2]}`, '--set', `stages.fisher.with.fsky=${row[3]}`, '--out', ref, '--quiet']);
      expect(rr.code, rr.stderr).toBe(0);
      const f = JSON.parse(fs.readFileSync(path.join(ref, 'fisher.json'), 'utf8'));
      expect(Number(row[head.indexOf('fom')])).toBe(f.figure_of_merit_w0_wa);
      f.parameters.forEach((p: string, i: number) => expect(Number(row[head.indexOf(`sigma_${p}`)])).toBe(f.sigma_marginalized[i]));
      // the point's own files, kept under points/<id>/
      const kept = JSON.parse(fs.readFileSync(path.join(out, row[head.indexOf('outputs')], 'fisher.json'), 'utf8'));
      expect(kept.sigma_marginalized).toEqual(f.sigma_marginalized);
    }
    const png = fs.readFileSync(path.join(out, 'sweep-fom.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(fs.readFileSync(path.join(out, 'sweep-fom.svg'), 'utf8')).toMatch(/heat map: fom over w0 and stages\.fisher\.with\.fsky/);
    const json = JSON.parse(fs.readFileSync(path.join(out, 'sweep.json'), 'utf8'));
    expect(json.points).toHaveLength(4);
    expect(json.settings.vary).toEqual([{ path: 'w0', values: [-1.1, -0.9] }, { path: 'stages.fisher.with.fsky', values: [0.2, 0.3636] }]);
  });

  it('killed half-way, --resume computes only the missing points; an identical sweep then recomputes nothing', { tags: ['slow'], timeout: SLOW }, async () => {
    // the uninterrupted sweep, on two threads
    const ref = tmpDir();
    const r0 = runCli(['sweep', SMALL_FISHER, ...GRID_16, '--workers', '2', '--out', ref, '--quiet']);
    expect(r0.code, r0.stderr).toBe(0);

    const out = tmpDir();
    const results = path.join(out, '.sweep', 'results');
    const stored = () => (fs.existsSync(results) ? fs.readdirSync(results).filter((f) => f.endsWith('.json')) : []);
    const first = new Background(['sweep', SMALL_FISHER, ...GRID_16, '--workers', '1', '--out', out]);
    await first.until(() => stored().length >= 6, '6 stored points');
    first.child.kill('SIGKILL');
    await first.exited;
    const before = new Set(stored().map((f) => f.slice(0, 12)));
    expect(before.size).toBeGreaterThanOrEqual(6);
    expect(before.size).toBeLessThan(16);
    expect(fs.existsSync(path.join(out, 'sweep.tsv'))).toBe(false);

    // without --resume: refused, naming the flag
    const refused = runCli(['sweep', SMALL_FISHER, ...GRID_16, '--workers', '1', '--out', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/unfinished sweep .* pass --resume to compute only the missing points/);

    const ev = path.join(tmpDir(), 'events.jsonl');
    const resumed = runCli(['sweep', SMALL_FISHER, ...GRID_16, '--workers', '1', '--out', out, '--resume', '--events', ev]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const events = readEvents(ev);
    const computedStages = events.filter((e) => e.type === 'stage-computed' && !e.depth);
    const pointsWithCompute = new Set(computedStages.map((e) => e.id));
    const missing = tableWithoutSeconds(path.join(ref, 'sweep.tsv')).slice(1).map((r) => r[1]).filter((id) => !before.has(id));
    expect(missing.length).toBe(16 - before.size);
    // stages were computed for exactly the missing points, and every one of them went through all the stages
    // (7 for the first point of the thread; the n(z), which no varied value touches, comes from memory afterwards)
    expect([...pointsWithCompute].sort()).toEqual([...missing].sort());
    expect(computedStages.length).toBe(7 + 6 * (missing.length - 1));
    expect(events.filter((e) => e.type === 'point-reused').length).toBe(before.size);
    expect(resumed.stdout).toMatch(new RegExp(`16 points: ${missing.length} computed, ${before.size} reused`));
    // the same table as the uninterrupted sweep (same numbers, same order)
    expect(tableWithoutSeconds(path.join(out, 'sweep.tsv'))).toEqual(tableWithoutSeconds(path.join(ref, 'sweep.tsv')));

    // the identical sweep again: nothing computed
    const ev2 = path.join(tmpDir(), 'events.jsonl');
    const again = runCli(['sweep', SMALL_FISHER, ...GRID_16, '--out', out, '--events', ev2]);
    expect(again.code, again.stderr).toBe(0);
    expect(readEvents(ev2).filter((e) => e.type === 'stage-computed')).toEqual([]);
    expect(again.stdout).toMatch(/16 points: 0 computed, 16 reused/);
    expect(tableWithoutSeconds(path.join(out, 'sweep.tsv'))).toEqual(tableWithoutSeconds(path.join(ref, 'sweep.tsv')));
  });

  it('bad input exits 2 with the flag and what is allowed, before anything is written', { tags: ['slow'], timeout: SLOW }, () => {
    const cases: [string[], RegExp][] = [
      [['--vary', 'Omega_x=0.1,0.2'], /--vary: Omega_x: the pipeline has no parameter "Omega_x" and no stage reads one; parameters: Omega_m, w0/],
      [['--vary', 'stages.fishr.with.fsky=0.1,0.2'], /--vary: stages\.fishr\.with\.fsky: the pipeline has no stage "fishr"; stages: background, linear/],
      [['--vary', 'w0='], /--vary: "w0=": needs at least one value, and no empty ones/],
      [['--lhs', '4', '--range', 'w0=-0.9:-1.1'], /--range: "w0=-0.9:-1.1": the lower end -0.9 must be below the upper end -1.1/],
      [['--lhs', '4', '--range', 'w0=-1:-1'], /--range: "w0=-1:-1": the lower end -1 must be below the upper end -1/],
      [['--set', 'stages.linear.use="linear-power/camb"', '--vary', 'w0=-1,-0.9'], /stages\.linear\.use: unknown plugin "linear-power\/camb"/],
    ];
    for (const [args, re] of cases) {
      const out = tmpDir();
      const r = runCli(['sweep', SMALL_FISHER, ...args, '--out', out]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(fs.readdirSync(out)).toEqual([]);
    }
  });

  it('more bad input (in process): a field unknown to a stage, no points, text for a number, a plot of three paths', { timeout: SLOW }, async () => {
    const out = tmpDir();
    const attempt = (o: Record<string, unknown>) => runSweep({ file: SMALL_FISHER, out, ...quiet, ...o }).then(() => null, (e) => e);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ vary: ['stages.fisher.with.fskyy=0.1,0.2'] }, /stages\.fisher\.with\.fskyy: .*at point 1 \(stages\.fisher\.with\.fskyy=0\.1\)/],
      [{}, /no points: give --vary/],
      [{ vary: ['w0=-1,abc'] }, /--vary: w0: "abc" is not a number/],
      [{ vary: ['w0=-1,-0.9'], lhs: 4 }, /give one way of choosing the points, not --vary and --lhs/],
      [{ lhs: 0, ranges: ['w0=-1:-0.9'] }, /--lhs: 0: the number of points must be a whole number >= 1/],
      [{ vary: ['w0=-1,-0.9', 'wa=0,0.1', 'h=0.6,0.7'], plot: 'fom' }, /--plot: plots a column against one or two varied paths; this sweep varies 3/],
      [{ vary: ['name=a,b'] }, /--vary: name: the pipeline has no parameter "name"/],
      [{ vary: ['outputs.cl=a.tsv,b.tsv'] }, /--vary: outputs\.cl: cannot be varied; allowed: a parameter name/],
      [{ vary: ['w0=-1,-0.9'], workers: 0 }, /--workers: 0: must be a whole number >= 1/],
      [{ vary: ['w0=-1,-0.9'], queue: 'http://127.0.0.1:1' }, /--queue: .*the scheme must be redis or rediss/],
    ];
    for (const [o, re] of cases) {
      const e = await attempt(o);
      expect(e, JSON.stringify(o)).toBeInstanceOf(InputError);
      expect(`${e.message}\n${e.details()}`).toMatch(re);
    }
    expect(fs.readdirSync(out)).toEqual([]);
  });

  it('a point with an unphysical parameter is recorded as failed with its message; the others run', { timeout: SLOW }, async () => {
    const out = tmpDir();
    const r = await runSweep({ file: SMALL_FISHER, out, vary: ['Omega_m=-0.1,0.32'], workers: 1, ...quiet });
    expect(r.rows.map((x) => x.status)).toEqual(['failed', 'ok']);
    expect(r.rows[0].error).toMatch(/parameters\.Omega_m\.value: -0\.1 is not allowed/);
    const tsv = fs.readFileSync(path.join(out, 'sweep.tsv'), 'utf8').split('\n');
    expect(tsv[1]).toMatch(/^1\t-\t-0\.1\tfailed\t/);
    expect(tsv[2]).toMatch(/^2\t[0-9a-f]{12}\t0\.32\tok\t/);
  });
});

describe('Latin hypercube', () => {
  it('puts one point in each stratum of every coordinate, and the same seed gives the same points', { timeout: SLOW }, () => {
    const n = 50, d = 3;
    const u = latinHypercube(n, d, 7);
    for (let j = 0; j < d; j++) {
      const strata = Array.from({ length: n }, (_, i) => Math.floor(u[i * d + j] * n)).sort((a, b) => a - b);
      expect(strata).toEqual(Array.from({ length: n }, (_, i) => i));
    }
    expect(latinHypercube(n, d, 7)).toEqual(u);
    expect(latinHypercube(n, d, 8)).not.toEqual(u);
  });

  it('--lhs N --range maps the unit hypercube onto the ranges', { timeout: SLOW }, async () => {
    const out = tmpDir();
    const r = await runSweep({ file: SMALL_FISHER, out, lhs: 3, ranges: ['w0=-1.2:-0.8', 'stages.fisher.with.fsky=0.1:0.4'], seed: 3, workers: 1, ...quiet });
    const u = latinHypercube(3, 2, 3);
    r.rows.forEach((row, i) => {
      expect(row.settings[0].value).toBeCloseTo(-1.2 + 0.4 * u[2 * i], 14);
      expect(row.settings[1].value).toBeCloseTo(0.1 + 0.3 * u[2 * i + 1], 14);
      expect(row.status).toBe('ok');
    });
  });
});
