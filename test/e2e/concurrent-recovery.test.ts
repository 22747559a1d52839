/**
 * Four `orbit recover --auto-resume` processes started at the same moment over 50 interrupted
 * runs: every run is resumed by exactly one of them, every step succeeds exactly once, and the
 * others report the runs they lost as already claimed.
 */
import * as E from 'fp-ts/Either';
import { closeDatabase, openDatabase, type Database } from '../../src/db/database';
import { formatError } from '../../src/errors';
import type { RunEvent } from '../../src/events/runEvents';
import { appendEvents } from '../../src/journal/appendEvents';
import {
  createE2eHarness,
  DATA_PIPELINE_STEPS,
  describeResult,
  expectExit,
  newE2eRunId,
  ofType,
  succeededPerStep,
  type CliResult,
  type E2eHarness,
} from '../support/cli';

const RUNS = 50;
const PROCESSES = 4;
/** A worker id that never had a heartbeat row: the runs look like their worker died long ago. */
const GHOST_WORKER = 'ghost-host:999999:dead01';

interface ProcessReport {
  readonly result: CliResult;
  readonly recovered: string[];
  readonly skipped: string[];
  readonly detected: number;
  readonly recoveredCount: number;
  readonly failedCount: number;
}

const summaryNumber = (r: CliResult, label: string): number => {
  const line = r.lines.find((l) => l.startsWith(`  ${label}: `));
  if (line === undefined) throw new Error(`no "${label}" in the summary\n${describeResult(r)}`);
  return Number(line.slice(label.length + 4));
};

const report = (result: CliResult): ProcessReport => ({
  result,
  recovered: result.lines.flatMap((l) => /^✓ Recovered run (\S+), executed \d+ step\(s\)$/.exec(l)?.[1] ?? []),
  skipped: result.lines.flatMap((l) => /^ℹ Run (\S+) skipped: claimed by another process$/.exec(l)?.[1] ?? []),
  detected: summaryNumber(result, 'Detected'),
  recoveredCount: summaryNumber(result, 'Recovered'),
  failedCount: summaryNumber(result, 'Failed'),
});

describe('concurrent recovery: 4 recover processes, 50 interrupted runs', () => {
  let h: E2eHarness;
  let db: Database;
  let templateRunId: string;
  const runIds: string[] = [];
  let reports: ProcessReport[] = [];

  beforeAll(async () => {
    h = await createE2eHarness('e2e_conc');
    // One real run: it migrates the schema, gives the journaled shape of data-pipeline (definition
    // hash included), and must be left alone by recovery since it succeeded.
    templateRunId = newE2eRunId('template');
    expectExit(await h.cli(['run', 'data-pipeline', '--run-id', templateRunId]), 0);
    const created = (await h.events(templateRunId))[0];
    if (created?.type !== 'run.created') throw new Error('template run has no run.created');

    const opened = openDatabase({ url: h.url, schema: h.schema, max: 8 });
    if (E.isLeft(opened)) throw new Error(formatError(opened.left));
    db = opened.right;

    // 50 runs interrupted while transform-data was in flight, held by a worker with no heartbeat.
    const payload = created.payload as { pipelineId: string; steps: string[]; definitionHash: string };
    const events: RunEvent[] = [
      {
        type: 'run.created',
        payload: {
          pipelineId: payload.pipelineId,
          steps: payload.steps,
          definitionHash: payload.definitionHash,
          metadata: { sleepMs: { 'transform-data': 20, 'load-data': 20 } },
          triggeredBy: 'e2e-seed',
        },
      },
      { type: 'run.claimed', payload: { worker: GHOST_WORKER } },
      { type: 'step.started', stepName: 'fetch-data', attempt: 1, payload: {} },
      {
        type: 'step.succeeded',
        stepName: 'fetch-data',
        attempt: 1,
        payload: { result: { step: 'fetch-data', attempt: 1, saw: [] } },
      },
      { type: 'step.started', stepName: 'transform-data', attempt: 1, payload: {} },
    ];
    for (let i = 0; i < RUNS; i++) runIds.push(newE2eRunId(`c${String(i).padStart(2, '0')}`));
    const results = await Promise.all(runIds.map((id) => appendEvents(db, id, 0, events, GHOST_WORKER)));
    for (const r of results) if (E.isLeft(r)) throw new Error(formatError(r.left));
    await h.waitUntilStale(runIds, 1000);
  });

  afterAll(async () => {
    if (db) await closeDatabase(db);
    await h.dispose();
  });

  it('the seeded runs are all detected as interrupted', async () => {
    const r = await h.cli(['check-interrupted', '--threshold', '1s', '--json']);
    expectExit(r, 0);
    const doc = JSON.parse(r.stdout) as { interrupted: Array<{ runId: string; nextStep: string; completedSteps: number }> };
    expect(doc.interrupted.map((x) => x.runId).sort()).toEqual([...runIds].sort());
    expect(new Set(doc.interrupted.map((x) => `${x.nextStep}/${x.completedSteps}`))).toEqual(new Set(['transform-data/1']));
  });

  it('four recover processes started at once all exit 0 and recover 50 runs between them, each once', async () => {
    const procs = Array.from({ length: PROCESSES }, () =>
      h.start(['recover', '--auto-resume', '--threshold', '1s', '--concurrency', '4'], { timeoutMs: 60_000 }),
    );
    const results = await Promise.all(procs.map((p) => p.done));
    // Parsed before asserting the exit codes, so the tests below judge the outputs on their own.
    reports = results.map(report);
    // No run may fail to recover: losing a claim race is "skipped", never "failed".
    expect(results.flatMap((r) => r.lines.filter((l) => l.startsWith('✗ ')))).toEqual([]);
    for (const r of results) expectExit(r, 0);

    const recovered = reports.flatMap((p) => p.recovered);
    expect(reports.reduce((n, p) => n + p.recoveredCount, 0)).toBe(RUNS);
    expect(recovered).toHaveLength(RUNS);
    expect([...recovered].sort()).toEqual([...runIds].sort());
    for (const p of reports) {
      expect(p.failedCount).toBe(0);
      expect(p.recoveredCount).toBe(p.recovered.length);
      // Whatever a process detected, it either recovered or saw claimed by another process.
      expect(p.detected).toBe(p.recovered.length + p.skipped.length);
      if (p.skipped.length > 0)
        expect(p.result.lines).toContain(`  Skipped (claimed elsewhere, still alive, or stopping): ${p.skipped.length}`);
      expect(p.result.lines).toContain(
        p.detected === 0
          ? 'No interrupted runs found'
          : p.recovered.length === 0
            ? 'No run was recovered by this process (every one was skipped)'
            : 'All interrupted runs recovered successfully',
      );
    }
  });

  it('the processes that lost a run say it was already claimed, and another process recovered it', () => {
    const skipped = reports.flatMap((p, i) => p.skipped.map((id) => ({ id, by: i })));
    // All four scan the same runs in the same order at the same moment: some claims must collide.
    expect(skipped.length).toBeGreaterThan(0);
    for (const { id, by } of skipped) {
      const winners = reports.map((p, i) => (p.recovered.includes(id) ? i : -1)).filter((i) => i >= 0);
      expect(winners).toHaveLength(1);
      expect(winners[0]).not.toBe(by);
    }
  });

  it('the journal has exactly one run.resumed per run and one step.succeeded per step', async () => {
    const all = await h.allEvents();
    for (const id of runIds) {
      const events = all.filter((e) => e.run_id === id);
      const resumed = ofType(events, 'run.resumed');
      expect(resumed).toHaveLength(1);
      expect(succeededPerStep(events)).toEqual(Object.fromEntries(DATA_PIPELINE_STEPS.map((s) => [s, 1])));
      expect(ofType(events, 'step.started', 'transform-data').map((e) => e.attempt)).toEqual([1, 2]);
      expect(ofType(events, 'step.started', 'fetch-data')).toHaveLength(1);
      expect(events[events.length - 1]?.type).toBe('run.succeeded');
      // Everything after the claim was written by the claimant alone.
      const by = (resumed[0]?.payload as { by: string }).by;
      expect(new Set(events.filter((e) => e.seq >= (resumed[0]?.seq as number)).map((e) => e.writer))).toEqual(new Set([by]));
    }
    const statuses = await h.pool.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM ${h.qs}.runs WHERE id = ANY($1::text[]) GROUP BY status`,
      [runIds],
    );
    expect(statuses.rows).toEqual([{ status: 'success', n: RUNS }]);
    // The succeeded template run was never touched by recovery.
    expect(ofType(await h.events(templateRunId), 'run.resumed')).toHaveLength(0);
  });

  it('verify agrees afterwards', async () => {
    const r = await h.cli(['verify']);
    expectExit(r, 0);
    expect(r.lines).toContain(`✓ Journal and projections verified (${RUNS + 1} run(s))`);
  });
});
