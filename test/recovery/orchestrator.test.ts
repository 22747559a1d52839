import * as E from 'fp-ts/Either';
import { RunRecoveryOrchestrator, type RecoveryEvent, type RecoverySummary } from '../../src/api/runRecoveryOrchestrator';
import { recoveryStats } from '../../src/api/recoveryStats';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { checkProjections } from '../../src/projections/checkProjections';
import type { OrbitClient } from '../../src/runtime/orbitClient';
import { createTestClient, type TestClient } from '../support/testClient';
import { expectRight } from '../support/testDatabase';
import { countEvents, seedRun, sleep, stillBrokenPipeline, waitUntilSilent } from '../support/recoveryHelpers';
import { ev } from '../support/eventBuilders';

const THRESHOLD_MS = 600;

/** Each test gets its own schema: the orchestrator recovers every interrupted run it can see. */
let tc: TestClient;
beforeEach(async () => {
  tc = await createTestClient({ prefix: 'orch', thresholdMs: THRESHOLD_MS });
});
afterEach(async () => tc.dispose());

/** Until every unfinished run's journal is older than the threshold (database clock). */
const waitPastThreshold = () => waitUntilSilent(tc.client.db, THRESHOLD_MS);

const summaryOf = (s: E.Either<unknown, RecoverySummary>): RecoverySummary => {
  if (E.isLeft(s)) throw new Error(`orchestrator failed: ${JSON.stringify(s.left)}`);
  return s.right;
};

const expectNoProjectionDifferences = async () => {
  const report = expectRight(await checkProjections(tc.client.db));
  expect(report.differences).toEqual([]);
};

/** Records every handler call as `runId/step#attempt`. */
const countingPipeline = (name: string, steps: readonly string[], calls: string[], delayMs = 0) =>
  tc.registry.registerPipeline(
    definePipeline({
      name,
      steps: steps.map((step) => ({
        name: step,
        handler: async (ctx) => {
          calls.push(`${ctx.runId}/${step}#${ctx.attempt}`);
          if (delayMs > 0) await sleep(delayMs);
          return { success: true, data: { step } };
        },
      })),
    }),
  );

describe('RunRecoveryOrchestrator.recoverInterruptedRuns', () => {
  it('resumes every interrupted run and reports detected, recovered, failed, skipped and each result', async () => {
    const calls: string[] = [];
    countingPipeline('orch-etl', ['extract', 'transform', 'load'], calls);
    countingPipeline('orch-mail', ['render', 'send'], calls);
    const db = tc.client.db;
    const etl = await seedRun(db, {
      pipelineId: 'orch-etl',
      steps: ['extract', 'transform', 'load'],
      events: [ev.started('extract'), ev.succeeded('extract'), ev.started('transform')],
    });
    const mail = await seedRun(db, { pipelineId: 'orch-mail', steps: ['render', 'send'], events: [] });
    const broken = await seedRun(db, {
      pipelineId: 'orch-etl',
      steps: ['extract', 'transform', 'load'],
      events: [ev.started('extract'), ev.failed('extract', 1, { retryable: false })],
    });
    const done = await seedRun(db, { pipelineId: 'orch-mail', steps: ['render', 'send'], events: [ev.runCancelled()] });
    await waitPastThreshold();

    const recoverer = await tc.peer({ thresholdMs: THRESHOLD_MS });
    const events: RecoveryEvent[] = [];
    const result = await new RunRecoveryOrchestrator({
      client: recoverer,
      onEvent: (e) => events.push(e),
    }).recoverInterruptedRuns();
    expect(E.isRight(result)).toBe(true);
    const summary = summaryOf(result);
    expect({
      detected: summary.detected,
      recovered: summary.recovered,
      failed: summary.failed,
      skipped: summary.skipped,
    }).toEqual({
      detected: 3,
      recovered: 2,
      failed: 1,
      skipped: 0,
    });

    const byRun = new Map(summary.results.map((r) => [r.runId, r]));
    expect(byRun.get(etl.runId)).toMatchObject({
      pipelineId: 'orch-etl',
      outcome: 'recovered',
      result: { status: 'success', stepsExecuted: 2, resumedFrom: 'transform', reExecutedInFlight: ['transform'] },
    });
    expect(byRun.get(mail.runId)).toMatchObject({
      pipelineId: 'orch-mail',
      outcome: 'recovered',
      result: { status: 'success', stepsExecuted: 2 },
    });
    expect(byRun.get(broken.runId)).toMatchObject({
      outcome: 'failed',
      error: { _tag: 'RunHasFailedSteps', runId: broken.runId, failedSteps: ['extract'] },
      message: 'Run has 1 failed step(s), cannot auto-resume',
    });
    expect(byRun.has(done.runId)).toBe(false);

    expect(calls.sort()).toEqual(
      [`${etl.runId}/load#1`, `${etl.runId}/transform#2`, `${mail.runId}/render#1`, `${mail.runId}/send#1`].sort(),
    );
    expect(await countEvents(db, broken.runId, { writer: recoverer.workerId })).toBe(0);

    // One attempt and one outcome per detected run, each outcome after its attempt.
    for (const id of [etl.runId, mail.runId, broken.runId]) {
      const attempt = events.findIndex((e) => e.kind === 'attempt' && e.run.runId === id);
      const outcome = events.findIndex((e) => e.kind === 'outcome' && e.outcome.runId === id);
      expect(attempt).toBeGreaterThanOrEqual(0);
      expect(outcome).toBeGreaterThan(attempt);
    }
    expect(events.filter((e) => e.kind === 'step')).toHaveLength(4);

    const stats = expectRight(await recoveryStats({ client: recoverer }));
    expect(stats).toMatchObject({
      recoveries: 2,
      runsRecovered: 2,
      successRate: 1,
      stepsExecutedPerRecovery: 2,
      stepsReExecutedPerRecovery: 0.5,
    });
    // The run with a failed step is still reported: nothing is silently stuck.
    expect(stats.interruptedNow).toBe(1);
    await expectNoProjectionDifferences();
  });

  it('counts a run that fails again after being resumed as failed, with the run’s reason', async () => {
    tc.registry.registerPipeline(stillBrokenPipeline('orch-still-broken'));
    const { runId } = await seedRun(tc.client.db, {
      pipelineId: 'orch-still-broken',
      steps: ['a', 'b'],
      events: [ev.started('a')],
    });
    await waitPastThreshold();
    const summary = summaryOf(await new RunRecoveryOrchestrator({ client: tc.client }).recoverInterruptedRuns());
    expect(summary).toMatchObject({ detected: 1, recovered: 0, failed: 1, skipped: 0 });
    expect(summary.results[0]).toMatchObject({
      runId,
      outcome: 'failed',
      error: { _tag: 'RunFailed', runId, status: 'failed' },
      message: `Run ${runId} ended failed: step "b" failed (not retryable): still broken`,
    });
    await expectNoProjectionDifferences();
  });

  it('resumes each of 20 interrupted runs exactly once when two orchestrators race for them', async () => {
    const calls: string[] = [];
    const steps = ['fetch', 'transform', 'load'];
    countingPipeline('orch-race', steps, calls, 5);
    const runIds: string[] = [];
    for (let i = 0; i < 20; i++) {
      const { runId } = await seedRun(tc.client.db, {
        pipelineId: 'orch-race',
        steps,
        metadata: { i },
        events: [ev.started('fetch'), ev.succeeded('fetch', 1, { i }), ev.started('transform')],
      });
      runIds.push(runId);
    }
    await waitPastThreshold();

    const [p1, p2]: OrbitClient[] = [await tc.peer({ thresholdMs: THRESHOLD_MS }), await tc.peer({ thresholdMs: THRESHOLD_MS })];
    const [r1, r2] = await Promise.all([
      new RunRecoveryOrchestrator({ client: p1, concurrency: 4 }).recoverInterruptedRuns(),
      new RunRecoveryOrchestrator({ client: p2, concurrency: 4 }).recoverInterruptedRuns(),
    ]);
    const db = tc.client.db;
    for (const runId of runIds) {
      expect(await countEvents(db, runId, { type: 'run.resumed' })).toBe(1);
      for (const step of steps) expect(await countEvents(db, runId, { type: 'step.succeeded', stepName: step })).toBe(1);
      expect(await countEvents(db, runId, { type: 'run.succeeded' })).toBe(1);
    }
    // Handlers ran once per remaining step and run: the in-flight step again (attempt 2), never the succeeded one.
    expect(calls).toHaveLength(40);
    expect(new Set(calls).size).toBe(40);
    expect(calls.filter((c) => c.includes('/fetch#'))).toEqual([]);
    expect(calls.filter((c) => c.endsWith('/transform#2'))).toHaveLength(20);

    const statuses = await db.pool.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM ${db.qs}.runs GROUP BY status`,
    );
    expect(statuses.rows).toEqual([{ status: 'success', n: 20 }]);

    const stats = expectRight(await recoveryStats({ client: p1 }));
    expect(stats).toMatchObject({
      interruptedNow: 0,
      runsRecovered: 20,
      recoveries: 20,
      successRate: 1,
      stepsExecutedPerRecovery: 2,
      stepsReExecutedPerRecovery: 1,
    });
    expect(stats.averageRecoveryMs).not.toBeNull();
    expect(stats.averageDowntimeMs).toBeGreaterThanOrEqual(THRESHOLD_MS);
    await expectNoProjectionDifferences();

    // Every run is counted once in all: recovered by exactly one orchestrator, skipped by the other.
    const s1 = summaryOf(r1);
    const s2 = summaryOf(r2);
    expect([...s1.results, ...s2.results].filter((r) => r.outcome === 'failed')).toEqual([]);
    expect(s1.failed + s2.failed).toBe(0);
    expect(s1.recovered + s2.recovered).toBe(20);
    expect(s1.detected).toBe(s1.recovered + s1.skipped);
    expect(s2.detected).toBe(s2.recovered + s2.skipped);
    expect(s1.skipped + s2.skipped).toBe(s1.detected + s2.detected - 20);
    const recoveredIds = [...s1.results, ...s2.results].filter((r) => r.outcome === 'recovered').map((r) => r.runId);
    expect(recoveredIds.sort()).toEqual([...runIds].sort());
    for (const r of [...s1.results, ...s2.results]) {
      if (r.outcome === 'skipped') expect(r.reason).toBe('claimed by another process');
    }
  });

  it('honours its thresholdMs option when it resumes, not only when it detects', async () => {
    const calls: string[] = [];
    countingPipeline('orch-threshold', ['a', 'b'], calls);
    const { runId } = await seedRun(tc.client.db, { pipelineId: 'orch-threshold', steps: ['a', 'b'], events: [ev.started('a')] });
    await waitUntilSilent(tc.client.db, 300, [runId]);
    // A client with the default 10-minute threshold, told to treat 300 ms of silence as interrupted.
    const patient = await tc.peer({ thresholdMs: 600_000 });
    const summary = summaryOf(await new RunRecoveryOrchestrator({ client: patient, thresholdMs: 300 }).recoverInterruptedRuns());
    expect(summary.detected).toBe(1);
    expect(summary.results[0]).toMatchObject({ runId, outcome: 'recovered' });
    expect(summary).toMatchObject({ recovered: 1, skipped: 0, failed: 0 });
  });
});
