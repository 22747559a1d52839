import * as E from 'fp-ts/Either';
import type { RunEvent } from '../../src/events/runEvents';
import { foldEvents, evolve } from '../../src/fold/evolve';
import { stepDueAt } from '../../src/fold/projectionRows';
import type { StepState } from '../../src/fold/runState';
import { currentWait } from '../../src/fold/runWait';
import { wakeReason } from '../../src/fold/wakeReason';
import {
  RUN_ID,
  claimed,
  created,
  failed,
  given,
  record,
  released,
  resumed,
  retryScheduled,
  runCancelled,
  runFailed,
  runSucceeded,
  started,
  succeeded,
  timeOfSeq,
} from '../support/eventBuilders';

describe('a run as its journal says it is', () => {
  it('a new run is pending with every step pending and nothing attempted', () => {
    const state = given(created(['fetch', 'store'], { metadata: { day: '2025-01-15' } })).then();
    expect(state).toMatchObject({
      runId: RUN_ID,
      pipelineId: 'etl',
      status: 'pending',
      metadata: { day: '2025-01-15' },
      stepNames: ['fetch', 'store'],
      startedAt: timeOfSeq(1),
      finishedAt: null,
      owner: null,
      recoveryCount: 0,
      lastSeq: 1,
      lastEventAt: timeOfSeq(1),
    });
    expect(state.steps.map((s) => [s.name, s.index, s.status, s.attemptCount])).toEqual([
      ['fetch', 0, 'pending', 0],
      ['store', 1, 'pending', 0],
    ]);
  });

  it('a claimed run is running and owned by the claiming worker', () => {
    expect(given(created(), claimed('w7')).then()).toMatchObject({ status: 'running', owner: 'w7', lastSeq: 2 });
  });

  it('a released run keeps running but has no owner until it is resumed', () => {
    const state = given(created(), claimed('w1'), released('w1')).then();
    expect(state).toMatchObject({ status: 'running', owner: null, recoveryCount: 0 });
    // A release is a hand-back, not a crash: it does not count towards the poison-run cap…
    const back = given(created(), claimed('w1'), released('w1'), resumed({ by: 'w2' })).then();
    expect(back).toMatchObject({ status: 'running', owner: 'w2', recoveryCount: 0 });
    // …while taking a run over from a silent holder does.
    const takenOver = given(created(), claimed('w1'), resumed({ by: 'w2' })).then();
    expect(takenOver).toMatchObject({ status: 'running', owner: 'w2', recoveryCount: 1 });
  });

  it('the event a suspended run waits for makes its step due at its arrival; the run stays suspended, not released', () => {
    const waiting: RunEvent = {
      type: 'step.waiting',
      stepName: 'approve',
      attempt: 1,
      payload: { event: 'approved', timeoutAt: '2025-01-16T00:00:00.000Z' },
    };
    const suspended: RunEvent = { type: 'run.suspended', payload: { worker: 'w1' } };
    const event = (name: string): RunEvent => ({
      type: 'event.received',
      payload: { event: name, data: { ok: true }, by: 'cli' },
    });
    const asleep = [
      created(['prepare', 'approve']),
      claimed('w1'),
      started('prepare'),
      succeeded('prepare'),
      started('approve'),
      waiting,
      suspended,
    ];
    // Another event leaves it as it was: waiting, due at its timeout.
    const other = given(...asleep, event('declined')).then();
    expect(other).toMatchObject({ status: 'waiting', owner: null });
    expect(other.steps[1]).toMatchObject({ status: 'waiting', nextRetryAt: '2025-01-16T00:00:00.000Z' });
    expect(stepDueAt(other.steps[1] as StepState)).toBe('2025-01-16T00:00:00.000Z');
    // Its own event: still waiting, nobody holds it, its step due when the event came (seq 9).
    const got = given(...asleep, event('declined'), event('approved')).then();
    expect(got).toMatchObject({ status: 'waiting', owner: null, recoveryCount: 0 });
    expect(got.steps[1]).toMatchObject({ status: 'waiting', nextRetryAt: '2025-01-16T00:00:00.000Z', eventAt: timeOfSeq(9) });
    expect(stepDueAt(got.steps[1] as StepState)).toBe(timeOfSeq(9));
    expect(wakeReason(got)).toBe('woken: event "approved" received');
    expect(wakeReason(other)).toBe('woken: its sleep ended or its wait timed out');
    expect(currentWait(got)).toEqual({ kind: 'wait', step: 'approve', until: timeOfSeq(9), event: 'approved', received: true });
    // The wake-up is a resume from nobody: not a takeover.
    expect(given(...asleep, event('approved'), resumed({ by: 'w2' })).then()).toMatchObject({
      status: 'running',
      owner: 'w2',
      recoveryCount: 0,
    });
    // Turned away by its holder (its data did not decode): the step waits on, due at its timeout again.
    const rejected: RunEvent = { type: 'event.rejected', payload: { event: 'approved', seq: 8, step: 'approve', reason: 'bad' } };
    const turnedAway = given(...asleep, event('approved'), resumed({ by: 'w2' }), rejected, {
      ...suspended,
      payload: { worker: 'w2' },
    }).then();
    expect(turnedAway).toMatchObject({ status: 'waiting', owner: null });
    expect(turnedAway.steps[1]?.eventAt).toBeUndefined();
    expect(stepDueAt(turnedAway.steps[1] as StepState)).toBe('2025-01-16T00:00:00.000Z');
    expect(wakeReason(turnedAway)).toBe('woken: its sleep ended or its wait timed out');
  });

  it('a succeeded step keeps the result its handler returned and the time it finished', () => {
    const state = given(created(['fetch']), claimed(), started('fetch'), succeeded('fetch', 1, { rows: [1, 2, 3] })).then();
    expect(state.steps[0]).toMatchObject({
      status: 'success',
      result: { rows: [1, 2, 3] },
      startedAt: timeOfSeq(3),
      finishedAt: timeOfSeq(4),
      attemptCount: 1,
    });
  });

  it('a run whose every step succeeded can succeed, and then has a finish time and no owner', () => {
    const state = given(created(['only']), claimed(), started('only'), succeeded('only'), runSucceeded()).then();
    expect(state).toMatchObject({ status: 'success', finishedAt: timeOfSeq(5), owner: null, error: null });
  });

  it('a cancelled run records why it was cancelled', () => {
    const state = given(created(), runCancelled('not needed')).then();
    expect(state).toMatchObject({ status: 'cancelled', error: 'not needed', finishedAt: timeOfSeq(2) });
  });

  it('evolve applies one event exactly like a fold of that one event', () => {
    const history = given(created(), claimed()).records;
    const base = foldEvents(null, history.slice(0, 1));
    expect(E.chain((s: Parameters<typeof evolve>[0]) => evolve(s, history[1]!))(base)).toEqual(foldEvents(null, history));
  });
});

describe('retry timing', () => {
  const failedOnce = [created(['fetch', 'store']), claimed(), started('fetch', 1), failed('fetch', 1, { retryable: true })];

  it('a scheduled retry is due delayMs after the retry_scheduled event, not after the failure', () => {
    const state = given(...failedOnce, retryScheduled('fetch', 1, 1500)).then();
    const fetch = state.steps[0]!;
    expect(fetch.status).toBe('retrying');
    expect(fetch.nextRetryAt).toBe(new Date(Date.parse(timeOfSeq(5)) + 1500).toISOString());
    expect(fetch.error).toEqual({ name: 'Error', message: 'fetch broke' });
    expect(fetch.attemptCount).toBe(1);
  });

  it('a retry with no delay is due at the moment it was scheduled', () => {
    const state = given(...failedOnce, retryScheduled('fetch', 1, 0)).then();
    expect(state.steps[0]!.nextRetryAt).toBe(timeOfSeq(5));
  });

  it('a long delay is added exactly, across day boundaries', () => {
    const delay = 3 * 24 * 60 * 60 * 1000 + 7;
    const state = given(...failedOnce, retryScheduled('fetch', 1, delay)).then();
    expect(state.steps[0]!.nextRetryAt).toBe(new Date(Date.parse(timeOfSeq(5)) + delay).toISOString());
  });

  it('a retry delay beyond the last representable date is reported as illegal, not thrown', () => {
    const fold = () =>
      given(...failedOnce)
        .when(retryScheduled('fetch', 1, Number.MAX_SAFE_INTEGER))
        .rejects();
    expect(fold).not.toThrow();
    expect(fold()).toMatchObject({ _tag: 'IllegalTransition', runId: RUN_ID, seq: 5, type: 'step.retry_scheduled' });
  });

  it('starting the next attempt clears nextRetryAt and counts the attempt', () => {
    const state = given(...failedOnce, retryScheduled('fetch', 1, 1500), started('fetch', 2)).then();
    expect(state.steps[0]).toMatchObject({ status: 'running', attemptCount: 2, nextRetryAt: null, startedAt: timeOfSeq(6) });
  });

  it('a succeeded retry clears the error of the failed attempt', () => {
    const state = given(...failedOnce, retryScheduled('fetch', 1, 10), started('fetch', 2), succeeded('fetch', 2, 'ok')).then();
    expect(state.steps[0]).toMatchObject({ status: 'success', error: null, retryable: null, result: 'ok', attemptCount: 2 });
  });

  it('a failure that is not retryable cannot be retried', () => {
    const rejected = given(created(['fetch']), claimed(), started('fetch'), failed('fetch', 1, { retryable: false }))
      .when(retryScheduled('fetch', 1, 100))
      .rejects();
    expect(rejected).toMatchObject({ _tag: 'IllegalTransition', runId: RUN_ID, seq: 5, type: 'step.retry_scheduled' });
  });

  it('a retry cannot be scheduled for a step that is still running', () => {
    const rejected = given(created(['fetch']), claimed(), started('fetch'))
      .when(retryScheduled('fetch', 1, 100))
      .rejects();
    expect(rejected).toMatchObject({ seq: 4, type: 'step.retry_scheduled' });
  });

  it('the next attempt must be numbered one past the last', () => {
    const rejected = given(...failedOnce, retryScheduled('fetch', 1, 0))
      .when(started('fetch', 3))
      .rejects();
    expect(rejected).toMatchObject({ seq: 6, type: 'step.started' });
  });
});

describe('resuming a failed run', () => {
  const failedRun = [
    created(['fetch', 'store']),
    claimed('w1'),
    started('fetch'),
    succeeded('fetch', 1, { n: 1 }),
    started('store'),
    failed('store', 1, { retryable: false, message: 'disk full' }),
    runFailed('store failed', 'store'),
  ];

  it('a failed run records its reason and has no owner', () => {
    expect(given(...failedRun).then()).toMatchObject({
      status: 'failed',
      error: 'store failed',
      owner: null,
      finishedAt: timeOfSeq(7),
    });
  });

  it('a run.resumed with retryFailed puts failed steps back to pending and the run back to running', () => {
    const state = given(...failedRun)
      .when(resumed({ by: 'w2', retryFailed: true }))
      .then();
    // A manual retry starts the poison-run count afresh.
    expect(state).toMatchObject({ status: 'running', owner: 'w2', finishedAt: null, error: null, recoveryCount: 0, lastSeq: 8 });
    expect(state.steps.map((s) => [s.name, s.status])).toEqual([
      ['fetch', 'success'],
      ['store', 'pending'],
    ]);
    expect(state.steps[0]!.result).toEqual({ n: 1 });
    expect(state.steps[1]!.nextRetryAt).toBeNull();
  });

  it('after a retryFailed resume the failed step runs again as its next attempt', () => {
    const state = given(...failedRun, resumed({ retryFailed: true }))
      .when(started('store', 2), succeeded('store', 2, 'stored'), runSucceeded())
      .then();
    expect(state.status).toBe('success');
    expect(state.steps[1]).toMatchObject({ status: 'success', attemptCount: 2, result: 'stored' });
  });

  it('a run.resumed without retryFailed cannot follow run.failed', () => {
    const rejected = given(...failedRun)
      .when(resumed({ retryFailed: false }))
      .rejects();
    expect(rejected).toMatchObject({ _tag: 'IllegalTransition', runId: RUN_ID, seq: 8, type: 'run.resumed' });
  });

  it('nothing but a retryFailed resume may follow run.failed', () => {
    expect(
      given(...failedRun)
        .when(started('store', 2))
        .rejects(),
    ).toMatchObject({ seq: 8, type: 'step.started' });
    expect(
      given(...failedRun)
        .when(runSucceeded())
        .rejects(),
    ).toMatchObject({ seq: 8, type: 'run.succeeded' });
    expect(
      given(...failedRun)
        .when(claimed())
        .rejects(),
    ).toMatchObject({ seq: 8, type: 'run.claimed' });
  });
});

describe('illegal events are reported, not absorbed', () => {
  const oneStepDone = [created(['fetch', 'store']), claimed(), started('fetch'), succeeded('fetch', 1, 'first')];

  it('a step cannot succeed twice', () => {
    const rejected = given(...oneStepDone)
      .when(succeeded('fetch', 1, 'second'))
      .rejects();
    expect(rejected).toMatchObject({ _tag: 'IllegalTransition', runId: RUN_ID, seq: 5, type: 'step.succeeded' });
  });

  it('a succeeded step cannot be started again, even as a new attempt', () => {
    expect(
      given(...oneStepDone)
        .when(started('fetch', 2))
        .rejects(),
    ).toMatchObject({ seq: 5, type: 'step.started' });
  });

  it('no event may follow run.succeeded', () => {
    const done = [created(['fetch']), claimed(), started('fetch'), succeeded('fetch'), runSucceeded()];
    for (const next of [
      claimed(),
      resumed({ retryFailed: true }),
      runCancelled(),
      runFailed(),
      started('fetch', 2),
      runSucceeded(),
    ]) {
      expect(
        given(...done)
          .when(next)
          .rejects(),
      ).toMatchObject({ runId: RUN_ID, seq: 6, type: next.type });
    }
  });

  it('no event may follow run.cancelled', () => {
    const done = [created(['fetch']), claimed(), runCancelled()];
    for (const next of [claimed(), resumed({ retryFailed: true }), resumed(), runCancelled(), runFailed(), started('fetch')]) {
      expect(
        given(...done)
          .when(next)
          .rejects(),
      ).toMatchObject({ runId: RUN_ID, seq: 4, type: next.type });
    }
  });

  it('a gap in seq is reported at the event after the gap', () => {
    const history = record(RUN_ID, [created(), claimed()]);
    const late = record(RUN_ID, [started('extract')], { firstSeq: 4 });
    expect(foldEvents(null, [...history, ...late])).toEqual(
      E.left(expect.objectContaining({ _tag: 'IllegalTransition', runId: RUN_ID, seq: 4, type: 'step.started' })),
    );
  });

  it('a repeated seq is reported', () => {
    const history = record(RUN_ID, [created(), claimed()]);
    const again = record(RUN_ID, [started('extract')], { firstSeq: 2 });
    expect(foldEvents(null, [...history, ...again])).toEqual(
      E.left(expect.objectContaining({ _tag: 'IllegalTransition', seq: 2, type: 'step.started' })),
    );
  });

  it('a step cannot start before the previous step succeeded', () => {
    expect(
      given(created(['a', 'b']), claimed())
        .when(started('b'))
        .rejects(),
    ).toMatchObject({ seq: 3, type: 'step.started' });
    expect(
      given(created(['a', 'b']), claimed(), started('a'))
        .when(started('b'))
        .rejects(),
    ).toMatchObject({ seq: 4 });
    expect(
      given(created(['a', 'b']), claimed(), started('a'), failed('a', 1, { retryable: true }), retryScheduled('a', 1, 5))
        .when(started('b'))
        .rejects(),
    ).toMatchObject({ seq: 6, type: 'step.started' });
  });

  it('a step.succeeded for an attempt that is not running is refused', () => {
    // never started
    expect(
      given(created(['a']), claimed())
        .when(succeeded('a', 1))
        .rejects(),
    ).toMatchObject({ seq: 3, type: 'step.succeeded' });
    // a different attempt than the running one
    expect(
      given(created(['a']), claimed(), started('a', 1))
        .when(succeeded('a', 2))
        .rejects(),
    ).toMatchObject({ seq: 4 });
    // the attempt already failed and waits for its retry
    expect(
      given(created(['a']), claimed(), started('a'), failed('a'), retryScheduled('a', 1, 10))
        .when(succeeded('a', 1))
        .rejects(),
    ).toMatchObject({ seq: 6, type: 'step.succeeded' });
  });

  it('step events need a running run', () => {
    expect(
      given(created(['a']))
        .when(started('a'))
        .rejects(),
    ).toMatchObject({ seq: 2, type: 'step.started' });
  });

  it('a step the run was not created with cannot start', () => {
    expect(
      given(created(['a']), claimed())
        .when(started('zzz'))
        .rejects(),
    ).toMatchObject({ seq: 3, type: 'step.started' });
  });

  it('a run cannot succeed while a step has not succeeded', () => {
    expect(
      given(created(['a', 'b']), claimed(), started('a'), succeeded('a'))
        .when(runSucceeded())
        .rejects(),
    ).toMatchObject({
      seq: 5,
      type: 'run.succeeded',
    });
  });

  it('a run can be claimed only once', () => {
    expect(given(created(), claimed('w1')).when(claimed('w2')).rejects()).toMatchObject({ seq: 3, type: 'run.claimed' });
  });

  it('a run must begin with run.created', () => {
    const first = record(RUN_ID, [claimed()]);
    expect(foldEvents(null, first)).toEqual(
      E.left(expect.objectContaining({ _tag: 'IllegalTransition', runId: RUN_ID, seq: 1, type: 'run.claimed' })),
    );
  });

  it('run.created must carry seq 1 and cannot appear twice', () => {
    expect(foldEvents(null, record(RUN_ID, [created()], { firstSeq: 2 }))).toEqual(
      E.left(expect.objectContaining({ _tag: 'IllegalTransition', seq: 2, type: 'run.created' })),
    );
    expect(given(created()).when(created()).rejects()).toMatchObject({ seq: 2, type: 'run.created' });
  });

  it('a run needs at least one step, and step names must be unique', () => {
    expect(foldEvents(null, record(RUN_ID, [created([])]))).toEqual(
      E.left(expect.objectContaining({ seq: 1, type: 'run.created' })),
    );
    expect(foldEvents(null, record(RUN_ID, [created(['a', 'a'])]))).toEqual(
      E.left(expect.objectContaining({ seq: 1, type: 'run.created' })),
    );
  });

  it('an event of another run is refused', () => {
    const mine = record(RUN_ID, [created()]);
    const theirs = record('run-2', [claimed()], { firstSeq: 2 });
    expect(foldEvents(null, [...mine, ...theirs])).toEqual(E.left(expect.objectContaining({ runId: 'run-2', seq: 2 })));
  });

  it('a refused event leaves the state it was offered untouched', () => {
    const before = given(...oneStepDone).then();
    const copy = structuredClone(before);
    const r = foldEvents(before, record(RUN_ID, [started('store'), succeeded('fetch', 1)], { firstSeq: 5 }));
    expect(E.isLeft(r)).toBe(true);
    expect(before).toEqual(copy);
  });
});
