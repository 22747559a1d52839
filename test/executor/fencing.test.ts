import * as E from 'fp-ts/Either';
import { formatError } from '../../src/errors';
import { definePipeline } from '../../src/pipeline/definePipeline';
import { runPipeline } from '../../src/executor/runPipeline';
import { cancelRun } from '../../src/executor/cancelRun';
import { appendToRun } from '../../src/journal/appendEvents';
import { loadRunState } from '../../src/journal/loadRunState';
import { detectInterruptedRuns } from '../../src/api/detectInterruptedRuns';
import { resumeRun } from '../../src/recovery/resumeRun';
import type { RunEvent } from '../../src/events/runEvents';
import type { OrbitClient } from '../../src/runtime/orbitClient';
import { createTestClient, type TestClient } from '../support/testClient';
import { holdsFor } from '../support/waitFor';
import { expectLeft, expectRight } from '../support/testDatabase';
import {
  abortedWithin,
  countEvents,
  deferred,
  eventsOf,
  expectProjectionsMatch,
  heartbeatOf,
  journalOf,
  sleep,
  waitFor,
} from '../support/recoveryHelpers';

const THRESHOLD_MS = 600;

let tc: TestClient;
let peer: OrbitClient;
beforeAll(async () => {
  tc = await createTestClient({ prefix: 'fence', thresholdMs: THRESHOLD_MS });
  peer = await tc.peer({ thresholdMs: THRESHOLD_MS });
});
afterAll(async () => tc.dispose());

/** What another process does when it takes a run over: append to it with its own view of the run. */
const appendAsPeer = async (runId: string, events: (by: string) => RunEvent[]) => {
  const state = expectRight(await loadRunState(peer.db, runId));
  return expectRight(
    await appendToRun(peer.db, {
      runId,
      expectedSeq: state.lastSeq,
      state,
      writer: peer.workerId,
      events: events(peer.workerId),
    }),
  );
};

const takeOver = (by: string): RunEvent[] => [
  {
    type: 'run.resumed',
    payload: { by, fromStep: 'wait', inFlight: ['wait'], reason: 'interrupted', retryFailed: false, force: true },
  },
];

describe('fencing: a worker whose run was taken over stops writing', () => {
  it('aborts the running step through NOTIFY at once and returns Fenced, writing nothing more', async () => {
    const step: { signal?: AbortSignal; abortedAfterMs?: number; outcome?: string } = {};
    let afterCalled = false;
    tc.registry.registerPipeline(
      definePipeline({
        name: 'fence-notify',
        steps: [
          {
            name: 'wait',
            handler: async (ctx) => {
              step.signal = ctx.signal;
              step.outcome = await abortedWithin(ctx.signal, 10_000);
              // Returning after the abort: this result must never reach the journal.
              return { success: true, data: { late: true } };
            },
          },
          { name: 'after', handler: () => ((afterCalled = true), { success: true }) },
        ],
      }),
    );
    let runId = '';
    const original = runPipeline('fence-notify', {}, { client: tc.client, onClaimed: (id) => (runId = id) });
    await waitFor('the step to start', () => step.signal);
    const writtenBefore = await countEvents(tc.client.db, runId, { writer: tc.client.workerId });

    await appendAsPeer(runId, takeOver);
    const result = await original;

    // Aborted by the NOTIFY (or the refused append), not by the step's own 10 s wait running out.
    expect(step.outcome).toBe('aborted');
    const fenced = expectLeft(result);
    expect(fenced).toEqual({ _tag: 'Fenced', runId });
    expect(formatError(fenced)).toBe(`Run ${runId} was taken over by another writer; this process stopped writing to it`);

    await holdsFor(async () => (await countEvents(tc.client.db, runId, { writer: tc.client.workerId })) === writtenBefore, {
      what: 'no event from the fenced writer',
      forMs: 300,
    });
    expect(await countEvents(tc.client.db, runId, { writer: tc.client.workerId })).toBe(writtenBefore);
    expect(afterCalled).toBe(false);
    const events = await eventsOf(tc.client.db, runId);
    expect(events[events.length - 1]).toMatchObject({ writer: peer.workerId, event: { type: 'run.resumed' } });
    expect(await countEvents(tc.client.db, runId, { type: 'step.succeeded' })).toBe(0);
    await expectProjectionsMatch(tc.client.db, [runId]);
  });

  it('discards the result of a handler that ignores its signal and finishes after the takeover', async () => {
    let started = false;
    let finished = false;
    tc.registry.registerPipeline(
      definePipeline({
        name: 'fence-stubborn',
        steps: [
          {
            name: 'wait',
            handler: async () => {
              started = true;
              await sleep(1500); // ignores ctx.signal
              finished = true;
              return { success: true, data: { stubborn: true } };
            },
          },
          { name: 'after', handler: () => ({ success: true }) },
        ],
      }),
    );
    let runId = '';
    const original = runPipeline('fence-stubborn', {}, { client: tc.client, onClaimed: (id) => (runId = id) });
    await waitFor('the step to start', () => (started ? true : undefined));
    const writtenBefore = await countEvents(tc.client.db, runId, { writer: tc.client.workerId });
    await appendAsPeer(runId, takeOver);

    expect(expectLeft(await original)).toEqual({ _tag: 'Fenced', runId });
    expect(finished).toBe(false); // the executor did not wait for the handler
    await waitFor('the handler to finish', () => (finished ? true : undefined));
    await holdsFor(async () => (await countEvents(tc.client.db, runId, { writer: tc.client.workerId })) === writtenBefore, {
      what: 'no event from the fenced writer once its handler returned',
      forMs: 100,
    });
    expect(await countEvents(tc.client.db, runId, { writer: tc.client.workerId })).toBe(writtenBefore);
    expect(await countEvents(tc.client.db, runId, { type: 'step.succeeded' })).toBe(0);
  });

  it('is fenced by the seq check alone when the other writer’s event sends no notification', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = false;
    let signalAborted = false;
    let stepSignal: AbortSignal | undefined;
    tc.registry.registerPipeline(
      definePipeline({
        name: 'fence-seq',
        steps: [
          {
            name: 'wait',
            handler: async (ctx) => {
              started = true;
              stepSignal = ctx.signal;
              await gate;
              signalAborted = ctx.signal.aborted;
              return { success: true };
            },
          },
          { name: 'after', handler: () => ({ success: true }) },
        ],
      }),
    );
    let runId = '';
    const original = runPipeline('fence-seq', {}, { client: tc.client, onClaimed: (id) => (runId = id) });
    await waitFor('the step to start', () => (started ? true : undefined));
    const writtenBefore = await countEvents(tc.client.db, runId, { writer: tc.client.workerId });
    // step.failed is not a notifying event: the executor learns of it only when its own append is refused.
    await appendAsPeer(runId, () => [
      {
        type: 'step.failed',
        stepName: 'wait',
        attempt: 1,
        payload: { error: { name: 'Error', message: 'declared dead' }, retryable: false },
      },
    ]);
    // No notification comes for step.failed, so nothing may abort the step meanwhile.
    await holdsFor(() => stepSignal?.aborted === false, {
      what: "the step's signal not aborted by the peer's step.failed",
      forMs: 100,
    });
    release();

    expect(expectLeft(await original)).toEqual({ _tag: 'Fenced', runId });
    expect(signalAborted).toBe(false);
    expect(await countEvents(tc.client.db, runId, { writer: tc.client.workerId })).toBe(writtenBefore);
    expect(await journalOf(tc.client.db, runId)).toEqual([
      'run.created',
      'run.claimed',
      'step.started:wait#1',
      'step.failed:wait#1',
    ]);
    await expectProjectionsMatch(tc.client.db, [runId]);
  });
});

describe('cancellation mid-step', () => {
  it('fires the step’s signal, ends the run cancelled and starts no further step', async () => {
    const step: { signal?: AbortSignal; outcome?: string } = {};
    let secondCalled = false;
    tc.registry.registerPipeline(
      definePipeline({
        name: 'cancel-mid-step',
        steps: [
          {
            name: 'sleepy',
            handler: async (ctx) => {
              step.signal = ctx.signal;
              step.outcome = await abortedWithin(ctx.signal, 10_000);
              return { success: true };
            },
          },
          { name: 'second', handler: () => ((secondCalled = true), { success: true }) },
        ],
      }),
    );
    let runId = '';
    const original = runPipeline('cancel-mid-step', {}, { client: tc.client, onClaimed: (id) => (runId = id) });
    await waitFor('the step to start', () => step.signal);

    const cancelled = expectRight(await cancelRun(runId, { client: peer, reason: 'operator changed their mind' }));
    expect(cancelled.status).toBe('cancelled');
    const r = expectRight(await original);
    // The step's signal fired (the NOTIFY of the cancellation), before its own 10 s wait ran out.
    expect(step.outcome).toBe('aborted');
    expect(r).toMatchObject({ runId, status: 'cancelled', released: false, error: 'operator changed their mind' });

    await holdsFor(() => !secondCalled, { what: 'no step after the cancelled one', forMs: 200 });
    expect(secondCalled).toBe(false);
    expect(await journalOf(tc.client.db, runId)).toEqual([
      'run.created',
      'run.claimed',
      'step.started:sleepy#1',
      'run.cancelled',
    ]);
    const last = (await eventsOf(tc.client.db, runId)).pop();
    expect(last).toMatchObject({
      writer: peer.workerId,
      event: { payload: { reason: 'operator changed their mind', by: peer.workerId } },
    });
    expect(expectLeft(await cancelRun(runId, { client: peer }))).toEqual({
      _tag: 'RunNotCancellable',
      runId,
      status: 'cancelled',
    });
    await expectProjectionsMatch(tc.client.db, [runId]);
  });
});

describe('waiting for a scheduled retry', () => {
  const retryingPipeline = (name: string, calls: number[]) =>
    tc.registry.registerPipeline(
      definePipeline({
        name,
        steps: [
          {
            name: 'flaky',
            retry: { maxAttempts: 3, initialDelayMs: 60_000 },
            handler: (ctx) => (calls.push(ctx.attempt), { success: false, error: 'not yet' }),
          },
        ],
      }),
    );
  const retryScheduled = (runId: string) => async () =>
    (await countEvents(tc.client.db, runId, { type: 'step.retry_scheduled' })) === 1 ? true : undefined;
  /** Whether the run's retry is still in the future, by the database's clock: the wait was cut short, not waited out. */
  const retryStillAhead = async (runId: string): Promise<boolean> =>
    (
      await tc.client.db.pool.query<{ ahead: boolean }>(
        `SELECT next_retry_at > now() AS ahead FROM ${tc.client.db.qs}.steps WHERE run_id = $1 AND name = 'flaky'`,
        [runId],
      )
    ).rows[0]?.ahead === true;

  it('ends the wait at once when the run is cancelled', async () => {
    const calls: number[] = [];
    retryingPipeline('cancel-during-retry', calls);
    let runId = '';
    const original = runPipeline('cancel-during-retry', {}, { client: tc.client, onClaimed: (id) => (runId = id) });
    await waitFor('the retry to be scheduled', async () => (runId ? retryScheduled(runId)() : undefined));
    expectRight(await cancelRun(runId, { client: peer }));
    const r = expectRight(await original);
    expect(await retryStillAhead(runId)).toBe(true);
    expect(r.status).toBe('cancelled');
    expect(calls).toEqual([1]);
    expect((await journalOf(tc.client.db, runId)).slice(-3)).toEqual([
      'step.failed:flaky#1',
      'step.retry_scheduled:flaky#1',
      'run.cancelled',
    ]);
    await expectProjectionsMatch(tc.client.db, [runId]);
  });

  it('releases the run at once on a graceful stop, leaving the retry time for whoever resumes it', async () => {
    const calls: number[] = [];
    retryingPipeline('stop-during-retry', calls);
    const stop = new AbortController();
    let runId = '';
    const original = runPipeline(
      'stop-during-retry',
      {},
      { client: tc.client, stopSignal: stop.signal, onClaimed: (id) => (runId = id) },
    );
    await waitFor('the retry to be scheduled', async () => (runId ? retryScheduled(runId)() : undefined));
    stop.abort();
    const r = expectRight(await original);
    expect(await retryStillAhead(runId)).toBe(true);
    expect(r).toMatchObject({ status: 'running', released: true });
    expect(calls).toEqual([1]);
    const listed = expectRight(await detectInterruptedRuns({ client: peer })).find((x) => x.runId === runId);
    expect(listed).toMatchObject({ owner: null, nextStep: 'flaky', failedSteps: 0 });
    expect(listed?.nextRetryAt).toBe(r.state.steps[0]?.nextRetryAt);
    await expectProjectionsMatch(tc.client.db, [runId]);
    // Finish it so that nothing is left behind for other tests.
    expectRight(await cancelRun(runId, { client: peer }));
  });
});

describe('lease', () => {
  it('keeps a long step from ever being detected as interrupted with a 1 ms threshold: the lease covers exactly the run', async () => {
    let started = false;
    // The step lasts until the test has looked ten times (however slow the machine), not a fixed time.
    const looked = deferred();
    tc.registry.registerPipeline(
      definePipeline({
        name: 'heartbeat-long',
        steps: [{ name: 'long', handler: async () => ((started = true), await looked.promise, { success: true }) }],
      }),
    );
    let runId = '';
    let finished = false;
    const original = runPipeline('heartbeat-long', {}, { client: tc.client, onClaimed: (id) => (runId = id) });
    void original.then(() => (finished = true));
    await waitFor('the step to start', () => (started ? true : undefined));

    let polls = 0;
    await waitFor(
      'the run to finish, never listed meanwhile',
      async () => {
        const listed = expectRight(await detectInterruptedRuns({ client: peer, thresholdMs: 1 })).some((r) => r.runId === runId);
        const lease = await tc.client.db.pool.query<{ held: string[]; valid: boolean }>(
          `SELECT held, lease_until > now() AS valid FROM ${tc.client.db.qs}.workers WHERE id = $1`,
          [tc.client.workerId],
        );
        if (finished) return true;
        expect(listed).toBe(false);
        expect(lease.rows[0]).toEqual({ held: [runId], valid: true });
        polls += 1;
        if (polls === 10) looked.resolve();
        return undefined;
      },
      60_000,
      100,
    );
    expect(expectRight(await original).status).toBe('success');
    expect(polls).toBeGreaterThanOrEqual(10);

    // A worker with nothing left to run stops renewing and removes its row.
    await waitFor(
      'the lease row to go',
      async () => ((await heartbeatOf(tc.client.db, tc.client.workerId)) === null ? true : undefined),
      15_000,
    );
  });
});

describe('graceful stop', () => {
  it('finishes the current step, releases the run, which is listed at once and resumed by a peer', async () => {
    const stop = new AbortController();
    const calls: string[] = [];
    let firstSignalAborted: boolean | undefined;
    tc.registry.registerPipeline(
      definePipeline({
        name: 'graceful',
        steps: [
          {
            name: 'one',
            handler: async (ctx) => {
              calls.push(`one#${ctx.attempt}`);
              stop.abort(); // SIGTERM arrives while step one runs
              await sleep(300);
              firstSignalAborted = ctx.signal.aborted;
              return { success: true, data: { one: 1 } };
            },
          },
          {
            name: 'two',
            handler: (ctx) => (
              calls.push(`two#${ctx.attempt}`),
              { success: true, data: { got: ctx.prevResults['one']?.data?.one } }
            ),
          },
          { name: 'three', handler: (ctx) => (calls.push(`three#${ctx.attempt}`), { success: true }) },
        ],
      }),
    );
    const stopped = expectRight(await runPipeline('graceful', {}, { client: tc.client, stopSignal: stop.signal }));
    const runId = stopped.runId;
    expect(stopped).toMatchObject({ status: 'running', released: true, stepsExecuted: 1 });
    expect(firstSignalAborted).toBe(false);
    expect(await journalOf(tc.client.db, runId)).toEqual([
      'run.created',
      'run.claimed',
      'step.started:one#1',
      'step.succeeded:one#1',
      'run.released',
    ]);
    const released = (await eventsOf(tc.client.db, runId)).pop();
    expect(released?.event).toEqual({
      type: 'run.released',
      payload: { worker: tc.client.workerId, reason: 'worker shutting down' },
    });

    // Nobody has to wait out the threshold.
    const listed = expectRight(await detectInterruptedRuns({ client: peer })).find((r) => r.runId === runId);
    expect(listed).toMatchObject({ owner: null, completedSteps: 1, nextStep: 'two' });

    const r = await resumeRun(runId, { client: peer });
    expect(E.isRight(r)).toBe(true);
    expect(E.isRight(r) && r.right.stepsExecuted).toBe(2);
    expect(calls).toEqual(['one#1', 'two#1', 'three#1']);
    expect((await journalOf(tc.client.db, runId)).slice(5)).toEqual([
      'run.resumed',
      'step.started:two#1',
      'step.succeeded:two#1',
      'step.started:three#1',
      'step.succeeded:three#1',
      'run.succeeded',
    ]);
    const resumed = (await eventsOf(tc.client.db, runId)).find((e) => e.event.type === 'run.resumed');
    expect(resumed?.event.payload).toMatchObject({ by: peer.workerId, fromStep: 'two', inFlight: [] });
    await expectProjectionsMatch(tc.client.db, [runId]);
  });
});
