import * as E from 'fp-ts/Either';
import { formatError } from '../../src/errors';
import { resumeRun, type ResumeResult } from '../../src/recovery/resumeRun';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { runPipeline } from '../../src/executor/runPipeline';
import { cancelRun } from '../../src/executor/cancelRun';
import { appendToRun } from '../../src/journal/appendEvents';
import { NonRetryableError } from '../../src/executor/stepError';
import type { StepContext } from '../../src/pipeline/types';
import type { OrbitClient } from '../../src/runtime/orbitClient';
import { createTestClient, type TestClient } from '../support/testClient';
import { expectRight } from '../support/testDatabase';
import {
  countEvents,
  eventsOf,
  expectProjectionsMatch,
  journalOf,
  seedRun,
  waitUntilSilent,
  waitFor,
  stillBrokenPipeline,
} from '../support/recoveryHelpers';
import { ev } from '../support/eventBuilders';

const THRESHOLD_MS = 600;

let tc: TestClient;
/** A second process that recovers what the first (or a dead worker) left behind. */
let recoverer: OrbitClient;
beforeAll(async () => {
  tc = await createTestClient({ prefix: 'resume', thresholdMs: THRESHOLD_MS });
  recoverer = await tc.peer({ thresholdMs: THRESHOLD_MS });
});
afterAll(async () => tc.dispose());

/** Every run a test touched; after each test their projections must equal the fold of their journals. */
const touched: string[] = [];
const touch = (runId: string): string => {
  touched.push(runId);
  return runId;
};
afterEach(async () => {
  const ids = touched.splice(0);
  if (ids.length > 0) await expectProjectionsMatch(tc.client.db, ids);
});

/** Until the journals of this test's runs are older than the threshold (database clock). */
const waitPastThreshold = () => waitUntilSilent(tc.client.db, THRESHOLD_MS, touched);

/** A pipeline whose handlers record every call (step name, attempt, idempotency key). */
const recordingPipeline = (name: string, steps: readonly string[]) => {
  const calls: { step: string; attempt: number; key: string; prev: StepContext['prevResults'] }[] = [];
  const pipeline = definePipeline({
    name,
    steps: steps.map((step) => ({
      name: step,
      handler: (ctx: StepContext) => {
        calls.push({ step, attempt: ctx.attempt, key: ctx.idempotencyKey, prev: ctx.prevResults });
        return { success: true, data: { from: step, attempt: ctx.attempt } };
      },
    })),
  });
  tc.registry.registerPipeline(pipeline);
  return { pipeline, calls };
};

const expectRefusal = async (r: ResumeResult, tag: string, message: string, runId?: string) => {
  expect(E.isRight(r)).toBe(false);
  expect(E.isLeft(r)).toBe(true);
  if (E.isLeft(r)) {
    expect(r.left._tag).toBe(tag);
    expect(formatError(r.left)).toBe(message);
  }
  if (E.isLeft(r)) expect(formatError(r.left)).toBe(message);
  if (runId !== undefined) expect(await countEvents(tc.client.db, runId, { writer: recoverer.workerId })).toBe(0);
};

/**
 * A process that lost a run to another is told so: RunAlreadyClaimed when its claim lost the race,
 * or RunStillActive when it read the run after the winner's claim (the winner is alive).
 */
const expectHeldByAnother = (r: ResumeResult, runId: string, holder: string) => {
  expect(E.isRight(r)).toBe(false);
  if (!E.isLeft(r)) throw new Error('expected a refusal');
  if (r.left._tag === 'RunAlreadyClaimed') {
    expect(r.left).toEqual({ _tag: 'RunAlreadyClaimed', runId });
    expect(formatError(r.left)).toBe(`Run ${runId} was already claimed by another process`);
  } else {
    // The loser read the run either while the winner's lease was valid (the lease form) or after
    // it (the activity form); both say who holds the run.
    expect(r.left).toMatchObject({ _tag: 'RunStillActive', runId, owner: holder, thresholdMs: THRESHOLD_MS });
    expect(formatError(r.left)).toMatch(
      new RegExp(
        `^Run ${runId} is (not interrupted: worker ${holder} showed activity at |being executed: worker ${holder} holds a valid lease on it )`,
      ),
    );
  }
};

/** A successful resume's count of executed steps (the root entry's plain Either). */
const stepsExecutedOf = (r: ResumeResult): number => {
  if (E.isLeft(r)) throw new Error(`expected a successful resume, got: ${formatError(r.left)}`);
  return r.right.stepsExecuted;
};

const oneSucceededPerStep = async (runId: string, steps: readonly string[]) => {
  for (const step of steps) expect(await countEvents(tc.client.db, runId, { type: 'step.succeeded', stepName: step })).toBe(1);
};

describe('resumeRun finishes an interrupted run', () => {
  it('executes only the remaining steps, re-running the in-flight one with the next attempt and the same key', async () => {
    const steps = ['fetch', 'transform', 'load', 'notify'];
    const { calls } = recordingPipeline('resume-dead', steps);
    const { runId } = await seedRun(tc.client.db, {
      pipelineId: 'resume-dead',
      steps,
      events: [ev.started('fetch'), ev.succeeded('fetch', 1, { rows: 12 }), ev.started('transform')],
    });
    touch(runId);
    await waitPastThreshold();

    const r = await resumeRun(runId, { client: recoverer });
    expect(E.isRight(r)).toBe(true);
    expect(E.isRight(r)).toBe(true);
    expect(stepsExecutedOf(r)).toBe(3);
    expect(expectRight(r)).toMatchObject({
      runId,
      pipelineId: 'resume-dead',
      status: 'success',
      stepsExecuted: 3,
      resumedFrom: 'transform',
      reExecutedInFlight: ['transform'],
      released: false,
      error: null,
    });

    expect(calls.map((c) => `${c.step}#${c.attempt}`)).toEqual(['transform#2', 'load#1', 'notify#1']);
    expect(calls[0]?.key).toBe(`${runId}:transform`);
    expect(calls[0]?.prev).toEqual({ fetch: { success: true, data: { rows: 12 } } });

    expect(await journalOf(tc.client.db, runId)).toEqual([
      'run.created',
      'run.claimed',
      'step.started:fetch#1',
      'step.succeeded:fetch#1',
      'step.started:transform#1',
      'run.resumed',
      'step.started:transform#2',
      'step.succeeded:transform#2',
      'step.started:load#1',
      'step.succeeded:load#1',
      'step.started:notify#1',
      'step.succeeded:notify#1',
      'run.succeeded',
    ]);
    await oneSucceededPerStep(runId, steps);
    const events = await eventsOf(tc.client.db, runId);
    const resumed = events.find((e) => e.event.type === 'run.resumed');
    expect(resumed?.writer).toBe(recoverer.workerId);
    expect(resumed?.event.payload).toEqual({
      by: recoverer.workerId,
      fromStep: 'transform',
      inFlight: ['transform'],
      reason: 'interrupted',
      retryFailed: false,
      force: false,
    });
    // Everything after the claim was written by the recovering process.
    expect(events.filter((e) => e.seq >= (resumed?.seq ?? 0)).every((e) => e.writer === recoverer.workerId)).toBe(true);
  });

  it('gives the re-executed step the same idempotency key the interrupted attempt saw', async () => {
    const seen: { step: string; attempt: number; key: string }[] = [];
    let hang = true;
    tc.registry.registerPipeline(
      definePipeline({
        name: 'resume-same-key',
        steps: [
          {
            name: 'charge',
            handler: (ctx) => (
              seen.push({ step: 'charge', attempt: ctx.attempt, key: ctx.idempotencyKey }),
              { success: true, data: { charged: 5 } }
            ),
          },
          {
            name: 'ship',
            handler: async (ctx) => {
              seen.push({ step: 'ship', attempt: ctx.attempt, key: ctx.idempotencyKey });
              if (hang) await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
              return { success: true, data: { shipped: ctx.prevResults['charge']?.data?.charged } };
            },
          },
        ],
      }),
    );
    const hardStop = new AbortController();
    let runId = '';
    const original = runPipeline(
      'resume-same-key',
      {},
      { client: tc.client, abortSignal: hardStop.signal, onClaimed: (id) => (runId = id) },
    );
    await waitFor('ship to start', () => (seen.length === 2 ? true : undefined));
    touch(runId);
    hardStop.abort(); // the process is stopped hard: `ship` stays in flight in the journal
    expect(expectRight(await original)).toMatchObject({ status: 'running', released: true, stepsExecuted: 2 });
    hang = false;

    const r = await resumeRun(runId, { client: recoverer });
    expect(E.isRight(r)).toBe(true);
    expect(stepsExecutedOf(r)).toBe(1);
    expect(seen).toEqual([
      { step: 'charge', attempt: 1, key: `${runId}:charge` },
      { step: 'ship', attempt: 1, key: `${runId}:ship` },
      { step: 'ship', attempt: 2, key: `${runId}:ship` },
    ]);
    expect(expectRight(r)).toMatchObject({ status: 'success', resumedFrom: 'ship', reExecutedInFlight: ['ship'] });
    await oneSucceededPerStep(runId, ['charge', 'ship']);
    expect((await eventsOf(tc.client.db, runId)).find((e) => e.event.type === 'run.resumed')?.event.payload).toMatchObject({
      fromStep: 'ship',
      inFlight: ['ship'],
    });
  });

  it('waits for a scheduled retry that is not due yet, then runs the next attempt', async () => {
    const { calls } = recordingPipeline('resume-retrying', ['poll', 'report']);
    const { runId } = await seedRun(tc.client.db, {
      pipelineId: 'resume-retrying',
      steps: ['poll', 'report'],
      events: [ev.started('poll'), ev.failed('poll', 1, { retryable: true }), ev.retryScheduled('poll', 1, 1500)],
    });
    touch(runId);
    const events = await eventsOf(tc.client.db, runId);
    const dueAt = Date.parse(events[events.length - 1]?.occurredAt ?? '') + 1500;
    await waitPastThreshold();
    const r = await resumeRun(runId, { client: recoverer });
    expect(E.isRight(r)).toBe(true);
    expect(calls.map((c) => `${c.step}#${c.attempt}`)).toEqual(['poll#2', 'report#1']);
    // Not before it was due, by the database's clock.
    const pollStarted = (await eventsOf(tc.client.db, runId)).find(
      (e) => e.event.type === 'step.started' && e.event.attempt === 2,
    );
    expect(Date.parse(pollStarted?.occurredAt ?? '')).toBeGreaterThanOrEqual(dueAt);
  });

  it('closes a run whose every step had succeeded without executing anything again', async () => {
    const { calls } = recordingPipeline('resume-all-done', ['only']);
    const { runId } = await seedRun(tc.client.db, {
      pipelineId: 'resume-all-done',
      steps: ['only'],
      events: [ev.started('only'), ev.succeeded('only')],
    });
    touch(runId);
    await waitPastThreshold();
    const r = await resumeRun(runId, { client: recoverer });
    expect(E.isRight(r)).toBe(true);
    expect(stepsExecutedOf(r)).toBe(0);
    expect(calls).toEqual([]);
    expect((await journalOf(tc.client.db, runId)).slice(-2)).toEqual(['run.resumed', 'run.succeeded']);
  });

  it('lets exactly one of two racing processes resume a run; the other is told it was claimed', async () => {
    const { calls } = recordingPipeline('resume-race', ['a', 'b']);
    const { runId } = await seedRun(tc.client.db, { pipelineId: 'resume-race', steps: ['a', 'b'], events: [ev.started('a')] });
    touch(runId);
    await waitPastThreshold();
    const other = await tc.peer({ thresholdMs: THRESHOLD_MS });
    const [r1, r2] = await Promise.all([resumeRun(runId, { client: recoverer }), resumeRun(runId, { client: other })]);
    const results = [r1, r2];
    expect(results.filter((r) => E.isRight(r))).toHaveLength(1);
    const winner = E.isRight(r1) ? recoverer : other;
    expectHeldByAnother((E.isRight(r1) ? r2 : r1) as ResumeResult, runId, winner.workerId);
    expect(await countEvents(tc.client.db, runId, { type: 'run.resumed' })).toBe(1);
    expect(calls.map((c) => `${c.step}#${c.attempt}`)).toEqual(['a#2', 'b#1']);
    await oneSucceededPerStep(runId, ['a', 'b']);
  });
});

describe('resumeRun losing a race', () => {
  it('tells a process that read the run while the winner committed that the run is taken, not that projections disagree', async () => {
    const db = tc.client.db;
    recordingPipeline('race-snapshot', ['a', 'b']);
    const { runId, appended } = await seedRun(db, { pipelineId: 'race-snapshot', steps: ['a', 'b'], events: [ev.started('a')] });
    touch(runId);
    await waitPastThreshold();
    const loser = await tc.peer({ thresholdMs: THRESHOLD_MS });

    // Freeze one interleaving with a real lock: the winner's transaction holds the steps table, so
    // the late claimant reads the journal and the runs row, then waits to read its steps rows.
    const winnerTx = await db.pool.connect();
    let lateClaim: Promise<ResumeResult> | undefined;
    try {
      await winnerTx.query('BEGIN');
      await winnerTx.query(`LOCK TABLE ${db.qs}.steps IN ACCESS EXCLUSIVE MODE`);
      lateClaim = resumeRun(runId, { client: loser, expectedSeq: appended.lastSeq });
      await waitFor('the late claimant to wait for the steps table', async () => {
        const res = await db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND position($1 in query) > 0`,
          [`${db.qs}.steps`],
        );
        return (res.rows[0]?.n ?? 0) > 0 ? true : undefined;
      });
      // The winner claims the run and starts the in-flight step again, in that transaction.
      const winnerDb = { ...db, pool: winnerTx as unknown as typeof db.pool };
      expectRight(
        await appendToRun(winnerDb, {
          runId,
          expectedSeq: appended.lastSeq,
          state: appended.state,
          writer: 'winner',
          events: [ev.resumed({ by: 'winner', fromStep: 'a', inFlight: ['a'] }), ev.started('a', 2)],
        }),
      );
      await winnerTx.query('COMMIT');
    } finally {
      winnerTx.release();
    }
    // Not a ProjectionMismatch: the journal and the projections it compared were read at one moment.
    expectHeldByAnother(await (lateClaim as Promise<ResumeResult>), runId, 'winner');
    expect(await countEvents(db, runId, { writer: loser.workerId })).toBe(0);
    // Leave nothing running behind.
    expectRight(await cancelRun(runId, { client: tc.client }));
  });
});

describe('resumeRun refuses what it must not resume', () => {
  it('a run still marked running with a failed step', async () => {
    recordingPipeline('refuse-failed-step', ['a', 'b']);
    const { runId } = await seedRun(tc.client.db, {
      pipelineId: 'refuse-failed-step',
      steps: ['a', 'b'],
      events: [ev.started('a'), ev.succeeded('a'), ev.started('b'), ev.failed('b', 1, { retryable: false })],
    });
    touch(runId);
    await waitPastThreshold();
    const r = await resumeRun(runId, { client: recoverer });
    await expectRefusal(r, 'RunHasFailedSteps', 'Run has 1 failed step(s), cannot auto-resume', runId);
    expect(E.isLeft(r) && r.left).toEqual({ _tag: 'RunHasFailedSteps', runId, failedSteps: ['b'] });
  });

  it('a failed run, with the same wording', async () => {
    tc.registry.registerPipeline(
      definePipeline({
        name: 'refuse-failed-run',
        steps: [
          { name: 'a', handler: () => ({ success: true }) },
          {
            name: 'b',
            handler: () => {
              throw new NonRetryableError('bad input');
            },
          },
        ],
      }),
    );
    const run = expectRight(await runPipeline('refuse-failed-run', {}, { client: tc.client }));
    touch(run.runId);
    expect(run.status).toBe('failed');
    await expectRefusal(
      await resumeRun(run.runId, { client: recoverer }),
      'RunHasFailedSteps',
      'Run has 1 failed step(s), cannot auto-resume',
      run.runId,
    );
  });

  it('a succeeded run', async () => {
    recordingPipeline('refuse-succeeded', ['a']);
    const run = expectRight(await runPipeline('refuse-succeeded', {}, { client: tc.client }));
    touch(run.runId);
    await expectRefusal(
      await resumeRun(run.runId, { client: recoverer, force: true }),
      'RunNotResumable',
      `Run ${run.runId} cannot be resumed: it already succeeded`,
      run.runId,
    );
  });

  it('a cancelled run', async () => {
    recordingPipeline('refuse-cancelled', ['a', 'b']);
    const { runId } = await seedRun(tc.client.db, {
      pipelineId: 'refuse-cancelled',
      steps: ['a', 'b'],
      events: [ev.started('a')],
    });
    touch(runId);
    expectRight(await cancelRun(runId, { client: tc.client, reason: 'not needed' }));
    await expectRefusal(
      await resumeRun(runId, { client: recoverer, force: true }),
      'RunNotResumable',
      `Run ${runId} cannot be resumed: it was cancelled`,
      runId,
    );
  });

  it('an unknown run id', async () => {
    await expectRefusal(
      await resumeRun('run_doesnotexist42', { client: recoverer }),
      'RunNotFound',
      'Run not found: run_doesnotexist42',
    );
  });

  it('a run whose pipeline is not registered', async () => {
    const { runId } = await seedRun(tc.client.db, { pipelineId: 'ghost-pipeline', steps: ['a'], events: [ev.started('a')] });
    touch(runId);
    await waitPastThreshold();
    const r = await resumeRun(runId, { client: recoverer });
    expect(E.isRight(r)).toBe(false);
    expect(E.isLeft(r) && r.left._tag).toBe('PipelineNotFound');
    expect(E.isLeft(r) && r.left).toMatchObject({ pipelineId: 'ghost-pipeline' });
    if (E.isLeft(r)) {
      expect(formatError(r.left)).toContain('the pipeline definition must be available');
      expect(formatError(r.left)).toContain('"ghost-pipeline"');
    }
    expect(await countEvents(tc.client.db, runId, { writer: recoverer.workerId })).toBe(0);
  });

  it('a run whose pipeline changed its steps, unless forced', async () => {
    // The run was created by a version with steps [a, b, c]; the registered version reorders them.
    const { calls } = recordingPipeline('drifty', ['a', 'c', 'b']);
    const { runId } = await seedRun(tc.client.db, {
      pipelineId: 'drifty',
      steps: ['a', 'b', 'c'],
      events: [ev.started('a'), ev.succeeded('a'), ev.started('b')],
    });
    touch(runId);
    await waitPastThreshold();
    const r = await resumeRun(runId, { client: recoverer });
    await expectRefusal(
      r,
      'PipelineDrift',
      `Pipeline "drifty" changed since run ${runId} started: journaled steps [a, b, c], registered steps [a, c, b] (use --force to resume anyway)`,
      runId,
    );
    expect(E.isLeft(r) && r.left).toEqual({
      _tag: 'PipelineDrift',
      runId,
      pipelineId: 'drifty',
      journaled: ['a', 'b', 'c'],
      registered: ['a', 'c', 'b'],
    });

    const forced = await resumeRun(runId, { client: recoverer, force: true });
    expect(E.isRight(forced)).toBe(true);
    expect(expectRight(forced).status).toBe('success');
    // The run keeps the step order it was created with.
    expect(calls.map((c) => `${c.step}#${c.attempt}`)).toEqual(['b#2', 'c#1']);
    const resumed = (await eventsOf(tc.client.db, runId)).find((e) => e.event.type === 'run.resumed');
    expect(resumed?.event.payload).toMatchObject({ force: true, fromStep: 'b' });
    await oneSucceededPerStep(runId, ['a', 'b', 'c']);
  });

  it('a forced resume of a run whose step was renamed fails the run with a clear reason', async () => {
    recordingPipeline('renamed', ['a', 'b2']);
    const { runId } = await seedRun(tc.client.db, {
      pipelineId: 'renamed',
      steps: ['a', 'b'],
      events: [ev.started('a'), ev.succeeded('a')],
    });
    touch(runId);
    const forced = await resumeRun(runId, { client: recoverer, force: true });
    const events = await eventsOf(tc.client.db, runId);
    expect(events[events.length - 1]?.event).toEqual({
      type: 'run.failed',
      payload: { reason: 'step "b" is not in the registered pipeline "renamed"', step: 'b' },
    });
    // The resume itself reports the failure as a Left; formatError gives the one line the spec prints.
    expect(E.isRight(forced)).toBe(false);
    expect(E.isLeft(forced) && forced.left).toEqual({
      _tag: 'RunFailed',
      runId,
      status: 'failed',
      reason: 'step "b" is not in the registered pipeline "renamed"',
    });
    expect(E.isLeft(forced) && formatError(forced.left)).toBe(
      `Run ${runId} ended failed: step "b" is not in the registered pipeline "renamed"`,
    );
  });

  it('a run whose worker is alive (fresh heartbeat), unless forced; forcing fences the old worker', async () => {
    const attempts: number[] = [];
    tc.registry.registerPipeline(
      definePipeline({
        name: 'refuse-live',
        steps: [
          {
            name: 'slow',
            handler: async (ctx) => {
              attempts.push(ctx.attempt);
              if (ctx.attempt === 1) {
                await new Promise((resolve) => {
                  const timer = setTimeout(resolve, 10_000);
                  ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve(undefined)), { once: true });
                });
              }
              return { success: true, data: { attempt: ctx.attempt } };
            },
          },
        ],
      }),
    );
    let runId = '';
    const original = runPipeline('refuse-live', {}, { client: tc.client, onClaimed: (id) => (runId = id) });
    await waitFor('the step to start', () => (attempts.length === 1 ? true : undefined));
    touch(runId);
    await waitPastThreshold(); // its last event is old; only the heartbeat says it is alive

    const refused = await resumeRun(runId, { client: recoverer });
    expect(E.isLeft(refused) && refused.left).toMatchObject({
      _tag: 'RunStillActive',
      runId,
      owner: tc.client.workerId,
      thresholdMs: THRESHOLD_MS,
    });
    expect(E.isRight(refused) ? '' : formatError(refused.left)).toMatch(
      new RegExp(
        `^Run ${runId} is being executed: worker ${tc.client.workerId} holds a valid lease on it \\(until .*\\); no threshold changes that\\. Wait for it, stop that worker, or take it over with --force`,
      ),
    );
    expect(await countEvents(tc.client.db, runId, { writer: recoverer.workerId })).toBe(0);

    const forced = await resumeRun(runId, { client: recoverer, force: true });
    expect(E.isRight(forced)).toBe(true);
    expect(expectLeftTag(await original)).toBe('Fenced');
    expect(attempts).toEqual([1, 2]);
    await oneSucceededPerStep(runId, ['slow']);
    expect(await countEvents(tc.client.db, runId, { type: 'run.resumed' })).toBe(1);
  });
});

const expectLeftTag = (r: E.Either<{ _tag: string }, unknown>): string => (E.isLeft(r) ? r.left._tag : 'Right');

describe('resumeRun with retryFailed', () => {
  it('re-runs the failed step once its cause is fixed, and journals that it did', async () => {
    let broken = true;
    const calls: string[] = [];
    tc.registry.registerPipeline(
      definePipeline({
        name: 'retry-failed',
        steps: [
          { name: 'fetch', handler: (ctx) => (calls.push(`fetch#${ctx.attempt}`), { success: true, data: { n: 1 } }) },
          {
            name: 'load',
            handler: (ctx) => {
              calls.push(`load#${ctx.attempt}`);
              if (broken) throw new NonRetryableError('credentials expired');
              return { success: true, data: { loaded: ctx.prevResults['fetch']?.data?.n } };
            },
          },
          { name: 'notify', handler: (ctx) => (calls.push(`notify#${ctx.attempt}`), { success: true }) },
        ],
      }),
    );
    const failed = expectRight(await runPipeline('retry-failed', {}, { client: tc.client }));
    touch(failed.runId);
    expect(failed.status).toBe('failed');

    broken = false; // the cause is fixed
    const r = await resumeRun(failed.runId, { client: recoverer, retryFailed: true });
    expect(E.isRight(r)).toBe(true);
    expect(stepsExecutedOf(r)).toBe(2);
    expect(expectRight(r)).toMatchObject({ status: 'success', resumedFrom: 'load', reExecutedInFlight: [] });
    expect(calls).toEqual(['fetch#1', 'load#1', 'load#2', 'notify#1']);
    const resumed = (await eventsOf(tc.client.db, failed.runId)).find((e) => e.event.type === 'run.resumed');
    expect(resumed?.event.payload).toEqual({
      by: recoverer.workerId,
      fromStep: 'load',
      inFlight: [],
      reason: 'retry failed steps',
      retryFailed: true,
      force: false,
    });
    await oneSucceededPerStep(failed.runId, ['fetch', 'load', 'notify']);
  });
});

describe('resumeRun and the spec’s result shape', () => {
  it('does not report a resume whose run then failed as a success', async () => {
    tc.registry.registerPipeline(stillBrokenPipeline('resume-then-fail'));
    const { runId } = await seedRun(tc.client.db, {
      pipelineId: 'resume-then-fail',
      steps: ['a', 'b'],
      events: [ev.started('a'), ev.succeeded('a'), ev.started('b')],
    });
    touch(runId);
    await waitPastThreshold();
    const r = await resumeRun(runId, { client: recoverer });
    expect((await journalOf(tc.client.db, runId)).slice(-2)).toEqual(['step.failed:b#2', 'run.failed']);
    // Spec: `if (result.success) { executed N steps } else { Recovery failed: ${result.error} }`.
    expect(E.isRight(r)).toBe(false);
    if (E.isLeft(r)) expect(formatError(r.left)).toContain('still broken');
  });
});

describe('the recovery cap', () => {
  it('fails a run resumed maxRecoveries times with RecoveryLimitReached and a journaled reason', async () => {
    const { calls } = recordingPipeline('poison', ['explode', 'after']);
    // Three workers died in `explode`: the one that started it and two that resumed it.
    const { runId } = await seedRun(tc.client.db, {
      pipelineId: 'poison',
      steps: ['explode', 'after'],
      events: [
        ev.started('explode', 1),
        ev.resumed({ by: 'dead-2', fromStep: 'explode', inFlight: ['explode'] }),
        ev.started('explode', 2),
        ev.resumed({ by: 'dead-3', fromStep: 'explode', inFlight: ['explode'] }),
        ev.started('explode', 3),
      ],
    });
    touch(runId);
    await waitPastThreshold();
    const r = await resumeRun(runId, { client: recoverer, maxRecoveries: 2 });
    await expectRefusal(
      r,
      'RecoveryLimitReached',
      `Run ${runId} was taken over 2 times without finishing; giving up (a step may be killing its worker)`,
    );
    expect(E.isLeft(r) && r.left).toEqual({ _tag: 'RecoveryLimitReached', runId, attempts: 2 });
    expect(calls).toEqual([]);
    const events = await eventsOf(tc.client.db, runId);
    const last = events[events.length - 1];
    expect(last?.writer).toBe(recoverer.workerId);
    expect(last?.event).toEqual({
      type: 'run.failed',
      payload: { reason: 'taken over 2 times without finishing; giving up (a step may be killing its worker)', step: 'explode' },
    });
    // The run is over: no one resumes it again automatically.
    const again = await resumeRun(runId, { client: recoverer });
    expect(E.isRight(again)).toBe(false);
    expect(E.isLeft(again) && again.left._tag).toBe('RunNotResumable');
    if (E.isLeft(again)) expect(formatError(again.left)).toContain('taken over 2 times without finishing');
  });

  it('lets an operator retry a run that hit the cap once the poison step is fixed (retryFailed)', async () => {
    const { calls } = recordingPipeline('poison-fixed', ['explode', 'after']);
    const { runId } = await seedRun(tc.client.db, {
      pipelineId: 'poison-fixed',
      steps: ['explode', 'after'],
      events: [
        ev.started('explode', 1),
        ev.resumed({ by: 'dead-2', fromStep: 'explode', inFlight: ['explode'] }),
        ev.started('explode', 2),
      ],
    });
    touch(runId);
    await waitPastThreshold();
    const capped = await resumeRun(runId, { client: recoverer, maxRecoveries: 1 });
    expect(E.isLeft(capped) && capped.left._tag).toBe('RecoveryLimitReached');

    // Spec, "Cannot Auto-Resume": fix the underlying issue, then resume the run manually.
    const r = await resumeRun(runId, { client: recoverer, retryFailed: true, maxRecoveries: 1 });
    if (E.isLeft(r)) throw new Error(`manual retry was refused: ${formatError(r.left)}`);
    expect(expectRight(r).status).toBe('success');
    expect(calls.map((c) => `${c.step}#${c.attempt}`)).toEqual(['explode#3', 'after#1']);
  });

  it('uses a default cap of 5 recoveries', async () => {
    recordingPipeline('poison-default', ['explode']);
    const events = [ev.started('explode', 1)];
    for (let i = 2; i <= 6; i++)
      events.push(ev.resumed({ by: `dead-${i}`, fromStep: 'explode', inFlight: ['explode'] }), ev.started('explode', i));
    const { runId } = await seedRun(tc.client.db, { pipelineId: 'poison-default', steps: ['explode'], events });
    touch(runId);
    await waitPastThreshold();
    await expectRefusal(
      await resumeRun(runId, { client: recoverer }),
      'RecoveryLimitReached',
      `Run ${runId} was taken over 5 times without finishing; giving up (a step may be killing its worker)`,
    );
  });
});
