import { detectInterruptedRuns, type InterruptedRun } from '../../src/api/detectInterruptedRuns';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { runPipeline } from '../../src/executor/runPipeline';
import { cancelRun } from '../../src/api/cancelRun';
import { analyzeStepCompletion } from '../../src/api/analyzeStepCompletion';
import { replayRun } from '../../src/api/replayRun';
import type { OrbitClient } from '../../src/runtime/orbitClient';
import { createTestClient, type TestClient } from '../support/testClient';
import { expectRight } from '../support/testDatabase';
import {
  countEvents,
  deferred,
  eventsOf,
  expectProjectionsMatch,
  seedRun,
  waitFor,
  waitUntilSilent,
} from '../support/recoveryHelpers';
import { ev } from '../support/eventBuilders';

const THRESHOLD_MS = 600;

let tc: TestClient;
let watcher: OrbitClient;
beforeAll(async () => {
  tc = await createTestClient({ prefix: 'detect', thresholdMs: THRESHOLD_MS });
  watcher = await tc.peer({ thresholdMs: THRESHOLD_MS });
});
afterAll(async () => tc.dispose());

const STEPS = ['extract', 'transform', 'load'];

const detected = async (client: OrbitClient, opts: { thresholdMs?: number } = {}): Promise<InterruptedRun[]> =>
  expectRight(await detectInterruptedRuns({ client, ...opts }));

const find = (runs: readonly InterruptedRun[], runId: string) => runs.find((r) => r.runId === runId);

/** How long ago (database clock) the run's last journal event was written. */
const lastEventAgeMs = async (runId: string): Promise<number> => {
  const db = tc.client.db;
  const res = await db.pool.query<{ age: number }>(
    `SELECT (extract(epoch FROM now() - last_event_at) * 1000)::float8 AS age FROM ${db.qs}.runs WHERE id = $1`,
    [runId],
  );
  return res.rows[0]?.age ?? -1;
};

describe('detectInterruptedRuns', () => {
  it('lists a running run with no activity beyond the threshold, with its progress and times', async () => {
    const db = tc.client.db;
    const midway = await seedRun(db, {
      pipelineId: 'etl-detect',
      steps: STEPS,
      events: [
        ev.started('extract'),
        ev.succeeded('extract'),
        ev.started('transform'),
        ev.succeeded('transform'),
        ev.started('load'),
      ],
    });
    const withFailure = await seedRun(db, {
      pipelineId: 'etl-detect-2',
      steps: STEPS,
      events: [
        ev.started('extract'),
        ev.succeeded('extract'),
        ev.started('transform'),
        ev.failed('transform', 1, { retryable: false }),
      ],
    });
    expect(find(await detected(watcher), midway.runId)).toBeUndefined();

    await waitUntilSilent(db, THRESHOLD_MS, [midway.runId, withFailure.runId]);
    const before = await countEvents(db, midway.runId);
    const runs = await detected(watcher);

    const midEvents = await eventsOf(db, midway.runId);
    expect(find(runs, midway.runId)).toEqual({
      runId: midway.runId,
      pipelineId: 'etl-detect',
      status: 'running',
      startedAt: midEvents[0]?.occurredAt,
      lastActivityAt: midEvents[midEvents.length - 1]?.occurredAt,
      completedSteps: 2,
      failedSteps: 0,
      nextStep: 'load',
      readySteps: ['load'],
      nextRetryAt: null,
      owner: midway.worker,
      lastSeq: 7,
      recoveryCount: 0,
      reason: 'stale',
      // A ghost owner on another host: nothing says it lives.
      ownerAlive: false,
    });
    expect(find(runs, withFailure.runId)).toMatchObject({
      pipelineId: 'etl-detect-2',
      completedSteps: 1,
      failedSteps: 1,
      nextStep: 'transform',
      nextRetryAt: null,
    });
    // Detection only reads.
    expect(await countEvents(db, midway.runId)).toBe(before);
    await expectProjectionsMatch(db, [midway.runId, withFailure.runId]);
  });

  it('never lists a long step whose worker is alive, although its last event is older than the threshold', async () => {
    const step = { started: false };
    // The step lasts until the test has seen what it came for (however slow the machine), not a fixed time.
    const seen = deferred();
    tc.registry.registerPipeline(
      definePipeline({
        name: 'long-step-detect',
        steps: [
          {
            name: 'crunch',
            handler: async () => {
              step.started = true;
              await seen.promise;
              return { success: true, data: { crunched: true } };
            },
          },
        ],
      }),
    );
    let runId = '';
    const running = runPipeline('long-step-detect', {}, { client: tc.client, onClaimed: (id) => (runId = id) });
    await waitFor('the step to start', () => (step.started ? true : undefined));

    let polls = 0;
    let oldestEventAgeSeen = 0;
    let finished = false;
    void running.then(() => (finished = true));
    await waitFor(
      'the run to finish, never listed meanwhile',
      async () => {
        const runs = await detected(watcher);
        if (finished) return true;
        expect(find(runs, runId)).toBeUndefined();
        oldestEventAgeSeen = Math.max(oldestEventAgeSeen, await lastEventAgeMs(runId));
        polls += 1;
        if (polls >= 6 && oldestEventAgeSeen > THRESHOLD_MS + 200) seen.resolve();
        return undefined;
      },
      60_000,
      150,
    );
    const r = expectRight(await running);
    expect(r.status).toBe('success');
    expect(polls).toBeGreaterThanOrEqual(6);
    // The journal alone would have called it interrupted: only the heartbeat kept it alive.
    expect(oldestEventAgeSeen).toBeGreaterThan(THRESHOLD_MS + 200);
    await expectProjectionsMatch(tc.client.db, [runId]);
  });

  it('does not list a run under a valid lease that covers it, whatever the threshold, and lists it once the lease row is gone', async () => {
    const db = tc.client.db;
    const seeded = await seedRun(db, { pipelineId: 'etl-hb', steps: STEPS, events: [ev.started('extract')] });
    await db.pool.query(
      `INSERT INTO ${db.qs}.workers (id, host, pid, lease_until, held) VALUES ($1, 'elsewhere', 4242, now() + interval '1 minute', ARRAY[$2])`,
      [seeded.worker, seeded.runId],
    );
    await waitUntilSilent(db, THRESHOLD_MS, [seeded.runId]);
    expect(find(await detected(watcher, { thresholdMs: 1 }), seeded.runId)).toBeUndefined();

    // A lease covers only the runs in hand: a run the process gave up on is judged by the threshold.
    await db.pool.query(`UPDATE ${db.qs}.workers SET held = '{}', heartbeat_at = now() WHERE id = $1`, [seeded.worker]);
    expect(find(await detected(watcher), seeded.runId)).toMatchObject({ owner: seeded.worker, reason: 'stale' });

    await db.pool.query(`DELETE FROM ${db.qs}.workers WHERE id = $1`, [seeded.worker]);
    expect(find(await detected(watcher), seeded.runId)).toMatchObject({ owner: seeded.worker, nextStep: 'extract' });
  });

  it('does not let a stale heartbeat keep a run alive, and reports the last journal event as its activity', async () => {
    const db = tc.client.db;
    const seeded = await seedRun(db, { pipelineId: 'etl-stale', steps: STEPS, events: [ev.started('extract')] });
    await db.pool.query(
      `INSERT INTO ${db.qs}.workers (id, host, pid, started_at, heartbeat_at) VALUES ($1, 'elsewhere', 4242, now() - interval '2 hours', now() - interval '1 hour')`,
      [seeded.worker],
    );
    await waitUntilSilent(db, THRESHOLD_MS, [seeded.runId]);
    const events = await eventsOf(db, seeded.runId);
    expect(find(await detected(watcher), seeded.runId)).toMatchObject({
      owner: seeded.worker,
      lastActivityAt: events[events.length - 1]?.occurredAt,
    });
  });

  it('lists a released run at once, whatever the threshold', async () => {
    const db = tc.client.db;
    const worker = 'leaving-host:1:abcdef';
    const seeded = await seedRun(db, {
      pipelineId: 'etl-released',
      steps: STEPS,
      worker,
      events: [ev.started('extract'), ev.succeeded('extract'), ev.released(worker)],
    });
    const run = find(await detected(watcher, { thresholdMs: 3_600_000 }), seeded.runId);
    expect(run).toMatchObject({ owner: null, completedSteps: 1, failedSteps: 0, nextStep: 'transform', lastSeq: 5 });
    expect(find(await detected(watcher), seeded.runId)).toBeDefined();
    await expectProjectionsMatch(db, [seeded.runId]);
  });

  it('lists every ready step of a DAG (in flight, pending or retrying), as the fold does, and none blocked behind them', async () => {
    const db = tc.client.db;
    // a → (b, c, d, e) → f; g depends on f. b succeeded, c in flight, d retrying, e not started.
    const steps = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const dependsOn = { a: [], b: ['a'], c: ['a'], d: ['a'], e: ['a'], f: ['b', 'c', 'd', 'e'], g: ['f'] };
    const seeded = await seedRun(db, {
      pipelineId: 'dag-detect',
      steps,
      dependsOn,
      events: [
        ev.started('a'),
        ev.succeeded('a'),
        ev.started('b'),
        ev.started('c'),
        ev.started('d'),
        ev.succeeded('b'),
        ev.failed('d', 1, { retryable: true }),
        ev.retryScheduled('d', 1, 60_000),
      ],
    });
    await waitUntilSilent(db, THRESHOLD_MS, [seeded.runId]);
    const run = find(await detected(watcher), seeded.runId);
    expect(run).toMatchObject({ completedSteps: 2, failedSteps: 0, nextStep: 'c', readySteps: ['c', 'd', 'e'] });
    const analysis = expectRight(await analyzeStepCompletion(seeded.runId, { client: tc.client }));
    expect(analysis).toMatchObject({ nextStep: 'c', readySteps: ['c', 'd', 'e'], pendingSteps: ['e', 'f', 'g'] });
    // replay --at shows the same branches, each with the context it would get: only what it depends on.
    const replay = expectRight(await replayRun(seeded.runId, { seq: 10 }, { client: tc.client }));
    expect(replay.ready.map((n) => [n.stepName, n.attempt, n.inFlight, Object.keys(n.context.prevResults)])).toEqual([
      ['c', 1, true, ['a']],
      ['d', 2, false, ['a']],
      ['e', 1, false, ['a']],
    ]);
    expect(replay.next).toEqual(replay.ready[0]);
    const atB = expectRight(await replayRun(seeded.runId, { seq: 7 }, { client: tc.client }));
    expect(atB.ready.map((n) => n.stepName)).toEqual(['b', 'c', 'd', 'e']);
    await expectProjectionsMatch(db, [seeded.runId]);
  });

  it('reports a run that died while waiting for a scheduled retry with its nextRetryAt', async () => {
    const db = tc.client.db;
    const seeded = await seedRun(db, {
      pipelineId: 'etl-retry',
      steps: STEPS,
      events: [
        ev.started('extract'),
        ev.succeeded('extract'),
        ev.started('transform'),
        ev.failed('transform', 1, { retryable: true }),
        ev.retryScheduled('transform', 1, 60_000),
      ],
    });
    await waitUntilSilent(db, THRESHOLD_MS, [seeded.runId]);
    const events = await eventsOf(db, seeded.runId);
    const scheduledAt = Date.parse(events[events.length - 1]?.occurredAt ?? '');
    expect(find(await detected(watcher), seeded.runId)).toMatchObject({
      completedSteps: 1,
      failedSteps: 0,
      nextStep: 'transform',
      nextRetryAt: new Date(scheduledAt + 60_000).toISOString(),
    });
  });

  it('does not list a live worker that is waiting for a retry longer than the threshold', async () => {
    let calls = 0;
    tc.registry.registerPipeline(
      definePipeline({
        name: 'patient-retry',
        steps: [
          {
            name: 'call',
            retry: { maxAttempts: 2, initialDelayMs: 600_000 },
            handler: () => {
              calls += 1;
              return calls === 1 ? { success: false, error: 'try later' } : { success: true };
            },
          },
        ],
      }),
    );
    let runId = '';
    let finished = false;
    const running = runPipeline('patient-retry', {}, { client: tc.client, onClaimed: (id) => (runId = id) });
    void running.then(() => (finished = true));
    await waitFor('the retry to be scheduled', () => (calls === 1 ? true : undefined));
    // Looked at until the journal has been silent past the threshold for five polls (database
    // clock), the retry still ten minutes away; then the run is cancelled, ending its wait.
    let silentPolls = 0;
    await waitFor(
      'the retry wait to outlast the threshold, never listed meanwhile',
      async () => {
        const runs = await detected(watcher);
        expect(finished).toBe(false);
        expect(find(runs, runId)).toBeUndefined();
        if ((await lastEventAgeMs(runId)) > THRESHOLD_MS + 200) silentPolls += 1;
        return silentPolls >= 5 ? true : undefined;
      },
      60_000,
      150,
    );
    expect(calls).toBe(1);
    expectRight(await cancelRun(runId, { client: tc.client }));
    expect(expectRight(await running).status).toBe('cancelled');
  });

  it('never lists finished runs, however old their last event', async () => {
    const db = tc.client.db;
    const ok = await seedRun(db, {
      pipelineId: 'etl-done',
      steps: ['only'],
      events: [ev.started('only'), ev.succeeded('only'), ev.runSucceeded()],
    });
    const failed = await seedRun(db, {
      pipelineId: 'etl-done',
      steps: ['only'],
      events: [
        ev.started('only'),
        ev.failed('only', 1, { retryable: false }),
        ev.runFailed('step "only" failed (not retryable): only broke', 'only'),
      ],
    });
    const cancelled = await seedRun(db, {
      pipelineId: 'etl-done',
      steps: ['only'],
      events: [ev.started('only'), ev.runCancelled()],
    });
    tc.registry.registerPipeline(
      definePipeline({ name: 'quick-detect', steps: [{ name: 'q', handler: () => ({ success: true }) }] }),
    );
    const executed = expectRight(await runPipeline('quick-detect', {}, { client: tc.client }));
    expect(executed.status).toBe('success');

    await waitUntilSilent(db, 1, [ok.runId, failed.runId, cancelled.runId, executed.runId]);
    const runs = await detected(watcher, { thresholdMs: 1 });
    for (const id of [ok.runId, failed.runId, cancelled.runId, executed.runId]) expect(find(runs, id)).toBeUndefined();
  });

  it('honours the threshold option over the client threshold', async () => {
    const db = tc.client.db;
    const seeded = await seedRun(db, { pipelineId: 'etl-threshold', steps: STEPS, events: [ev.started('extract')] });
    await waitUntilSilent(db, 100, [seeded.runId]);
    expect(find(await detected(watcher), seeded.runId)).toBeUndefined(); // client threshold: 600 ms
    expect(find(await detected(watcher, { thresholdMs: 60_000 }), seeded.runId)).toBeUndefined();
    expect(find(await detected(watcher, { thresholdMs: 100 }), seeded.runId)).toBeDefined();

    const impatient = await tc.peer({ thresholdMs: 100 });
    expect(find(await detected(impatient), seeded.runId)).toBeDefined(); // its own threshold is the default
  });
});
