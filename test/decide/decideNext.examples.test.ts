import * as E from 'fp-ts/Either';
import * as t from 'io-ts';
import { decideNext } from '../../src/decide/decideNext';
import type { AttemptResult, Decision, Outcome, ResumeRequest } from '../../src/decide/decision';
import type { OrbitError } from '../../src/errors';
import type { RunEvent } from '../../src/events/runEvents';
import type { RunState } from '../../src/fold/runState';
import { definePipeline } from '../../src/pipeline/definePipeline';
import type { Pipeline, PipelineConfig } from '../../src/pipeline/types';
import {
  claimed,
  created,
  deepFreeze,
  failed,
  given,
  released,
  resumed,
  retryScheduled,
  runCancelled,
  runFailed,
  started,
  succeeded,
  timeOfSeq,
} from '../support/eventBuilders';

/** `next` that starts these attempts (and waits for nothing else). */
const runs = (...starts: [string, number][]) => ({
  kind: 'run' as const,
  starts: starts.map(([stepName, attempt]) => ({ stepName, attempt })),
  wakeAt: null,
  decideAgain: false,
});

/*
 * Given a run's journal, when something happens (a claim, an attempt's end, a tick of the clock,
 * a stop, a resume), then these events are appended and the executor does this next.
 */

const WORKER = 'w1';
const ok = () => ({ success: true as const });

/** The pipeline the builders' `created()` journals (same steps, same definition hash). */
const etl = (config: Partial<PipelineConfig> = {}): Pipeline => ({
  ...definePipeline({
    name: 'etl',
    steps: ['extract', 'transform', 'load'].map((name) => ({ name, handler: ok })),
    ...config,
  }),
  definitionHash: 'def-1',
});
const retrying = etl({ retry: { maxAttempts: 3, initialDelayMs: 1000, backoffFactor: 2 } });

const resumeReq = (r: Partial<ResumeRequest> = {}): ResumeRequest => ({
  retryFailed: false,
  force: false,
  maxRecoveries: 5,
  ...r,
});

type When = Outcome extends infer O ? (O extends Outcome ? Omit<O, 'worker' | 'stopping'> : never) : never;

const decide = (history: RunEvent[], pipeline: Pipeline, when: When, stopping = false): E.Either<OrbitError, Decision> => {
  const state: RunState | null = history.length === 0 ? null : deepFreeze(given(...history).then());
  return decideNext(state, pipeline, { ...when, worker: WORKER, stopping } as Outcome);
};

const decided = (history: RunEvent[], pipeline: Pipeline, when: When, stopping = false): Decision => {
  const d = decide(history, pipeline, when, stopping);
  if (E.isLeft(d)) throw new Error(`expected a decision, got ${JSON.stringify(d.left)}`);
  // Whatever is decided must fold onto the journal: the decider never proposes an illegal event.
  if (history.length > 0 && d.right.events.length > 0) given(...history, ...d.right.events).then();
  return d.right;
};

const refused = (history: RunEvent[], pipeline: Pipeline, when: When): OrbitError => {
  const d = decide(history, pipeline, when);
  if (E.isRight(d)) throw new Error(`expected a refusal, got ${JSON.stringify(d.right)}`);
  return d.left;
};

const attempt = (stepName: string, n: number, result: AttemptResult, random = 0.5): When => ({
  kind: 'attempt',
  stepName,
  attempt: n,
  result,
  random,
});
const success = (result: AttemptResult & { kind: 'succeeded' } = { kind: 'succeeded', result: { rows: 3 } }) => result;
const failure = (retryable: boolean, message = 'boom'): AttemptResult => ({
  kind: 'failed',
  error: { name: 'Error', message },
  retryable,
});
const resume = (r: Partial<ResumeRequest> = {}): When => ({ kind: 'resume', ...resumeReq(r) });
const tick = (now: string): When => ({ kind: 'tick', now });

const running = [created(), claimed(WORKER)];

describe('start', () => {
  it('a new run: its creation and claim are written with the first step’s start', () => {
    const creation = [created(), claimed(WORKER)];
    expect(decided([], etl(), { kind: 'claim', runId: 'run-1', events: creation })).toEqual({
      events: [...creation, started('extract', 1)],
      next: runs(['extract', 1]),
    });
  });

  it('a creation the fold rejects (no steps) is refused as an IllegalTransition', () => {
    const d = decide([], etl(), { kind: 'claim', runId: 'run-9', events: [created([]), claimed(WORKER)] });
    expect(d).toEqual(E.left(expect.objectContaining({ _tag: 'IllegalTransition', runId: 'run-9', seq: 1 })));
  });
});

describe('succeed', () => {
  it('a step succeeds: its result is written with the next step’s start', () => {
    expect(decided([...running, started('extract')], etl(), attempt('extract', 1, success()))).toEqual({
      events: [succeeded('extract', 1, { rows: 3 }), started('transform', 1)],
      next: runs(['transform', 1]),
    });
  });

  it('the last step succeeds: the run succeeds in the same append', () => {
    const history = [
      ...running,
      started('extract'),
      succeeded('extract'),
      started('transform'),
      succeeded('transform'),
      started('load'),
    ];
    expect(decided(history, etl(), attempt('load', 1, success({ kind: 'succeeded', result: null })))).toEqual({
      events: [succeeded('load', 1, null), { type: 'run.succeeded', payload: {} }],
      next: { kind: 'finished' },
    });
  });

  it('a step that already succeeded cannot succeed again: IllegalTransition, nothing to write', () => {
    const history = [...running, started('extract'), succeeded('extract'), started('transform')];
    expect(decide(history, etl(), attempt('extract', 1, success()))).toEqual(
      E.left(expect.objectContaining({ _tag: 'IllegalTransition', type: 'step.succeeded' })),
    );
  });
});

describe('retry scheduled', () => {
  it('a retryable failure with attempts left schedules the retry and decides again once it is committed', () => {
    expect(decided([...running, started('extract')], retrying, attempt('extract', 1, failure(true)))).toEqual({
      events: [failed('extract', 1, { retryable: true, message: 'boom' }), retryScheduled('extract', 1, 1000)],
      next: { kind: 'run', starts: [], wakeAt: null, decideAgain: true },
    });
  });

  it('the delay grows with the attempt and takes its jitter from the value passed in', () => {
    const jittery = etl({ retry: { maxAttempts: 5, initialDelayMs: 1000, backoffFactor: 2, jitter: 0.5 } });
    const history = [
      ...running,
      started('extract'),
      failed('extract', 1),
      retryScheduled('extract', 1, 1000),
      started('extract', 2),
    ];
    const at = (random: number) => decided(history, jittery, attempt('extract', 2, failure(true), random)).events[1];
    expect(at(0.5)).toEqual(retryScheduled('extract', 2, 2000));
    expect(at(0)).toEqual(retryScheduled('extract', 2, 1000));
    expect(at(0.999)).toEqual(retryScheduled('extract', 2, 2998));
  });
});

describe('retry due', () => {
  // Scheduled at seq 5, so due 1.5 s after timeOfSeq(5).
  const history = [...running, started('extract'), failed('extract', 1), retryScheduled('extract', 1, 1500)];
  const due = new Date(Date.parse(timeOfSeq(5)) + 1500).toISOString();

  it('before it is due: nothing to write, wait until it is', () => {
    expect(decided(history, retrying, tick(timeOfSeq(6)))).toEqual({
      events: [],
      next: { kind: 'run', starts: [], wakeAt: due, decideAgain: false },
    });
  });

  it('once due (to the millisecond): the next attempt starts', () => {
    expect(decided(history, retrying, tick(due))).toEqual({
      events: [started('extract', 2)],
      next: runs(['extract', 2]),
    });
  });

  it('a stop while waiting hands the run back; the retry stays scheduled for whoever resumes it', () => {
    expect(decided(history, retrying, tick(timeOfSeq(6)), true)).toEqual({
      events: [released(WORKER, 'worker shutting down')],
      next: { kind: 'released' },
    });
  });
});

describe('timeout', () => {
  const timedOut: AttemptResult = { kind: 'timedOut', afterMs: 250 };
  const timeoutError = { name: 'TimeoutError', message: 'step "extract" timed out after 250 ms' };

  it('a timed-out attempt is a retryable failure', () => {
    expect(decided([...running, started('extract')], retrying, attempt('extract', 1, timedOut))).toEqual({
      events: [
        { type: 'step.failed', stepName: 'extract', attempt: 1, payload: { error: timeoutError, retryable: true } },
        retryScheduled('extract', 1, 1000),
      ],
      next: { kind: 'run', starts: [], wakeAt: null, decideAgain: true },
    });
  });

  it('without retries left, it fails the run and says after how many attempts', () => {
    expect(decided([...running, started('extract')], etl(), attempt('extract', 1, timedOut)).events).toEqual([
      { type: 'step.failed', stepName: 'extract', attempt: 1, payload: { error: timeoutError, retryable: true } },
      runFailed(`step "extract" failed after 1 attempt(s): ${timeoutError.message}`, 'extract'),
    ]);
  });
});

describe('fail', () => {
  it('a failure that is not retryable fails the run at once, whatever the policy', () => {
    expect(decided([...running, started('extract')], retrying, attempt('extract', 1, failure(false, 'bad input')))).toEqual({
      events: [
        failed('extract', 1, { retryable: false, message: 'bad input' }),
        runFailed('step "extract" failed (not retryable): bad input', 'extract'),
      ],
      next: { kind: 'finished' },
    });
  });

  it('a retryable failure of the last allowed attempt fails the run', () => {
    const history = [
      ...running,
      started('extract'),
      failed('extract', 1),
      retryScheduled('extract', 1, 0),
      started('extract', 2),
      failed('extract', 2),
      retryScheduled('extract', 2, 0),
      started('extract', 3),
    ];
    expect(decided(history, retrying, attempt('extract', 3, failure(true))).events[1]).toEqual(
      runFailed('step "extract" failed after 3 attempt(s): boom', 'extract'),
    );
  });

  it('a step journaled failed with no retry (its run.failed lost) fails the run with the step’s error', () => {
    const history = [...running, started('extract'), failed('extract', 1, { retryable: false, message: 'disk full' })];
    expect(decided(history, etl(), tick(timeOfSeq(9)))).toEqual({
      events: [runFailed('step "extract" failed (not retryable): disk full', 'extract')],
      next: { kind: 'finished' },
    });
  });

  it('a journaled step the registered pipeline no longer has fails the run (after a forced resume)', () => {
    const renamed = { ...etl(), steps: etl().steps.filter((s) => s.name !== 'transform') };
    const history = [...running, started('extract'), succeeded('extract')];
    expect(decided(history, renamed, tick(timeOfSeq(9))).events).toEqual([
      runFailed('step "transform" is not in the registered pipeline "etl"', 'transform'),
    ]);
  });

  it('an append the database refuses (not a conflict) fails the run with the reason', () => {
    expect(
      decided([...running, started('extract')], etl(), { kind: 'journalRefused', unreachable: false, message: 'no' }),
    ).toEqual({
      events: [runFailed("could not journal the run's progress: no", null)],
      next: { kind: 'finished' },
    });
  });

  it('a refused append of a run already ended adds nothing', () => {
    const ended = [...running, started('extract'), runCancelled()];
    expect(decided(ended, etl(), { kind: 'journalRefused', unreachable: true, message: 'no' })).toEqual({
      events: [],
      next: { kind: 'finished' },
    });
  });

  it('a database out of reach hands the run back instead', () => {
    expect(
      decided([...running, started('extract')], etl(), { kind: 'journalRefused', unreachable: true, message: 'no' }),
    ).toEqual({
      events: [released(WORKER, 'cannot reach the database')],
      next: { kind: 'released' },
    });
  });
});

describe('cancel', () => {
  const cancelled = [...running, started('extract'), runCancelled('not needed')];

  it('a cancelled run has nothing left to do', () => {
    expect(decided(cancelled, etl(), tick(timeOfSeq(9)))).toEqual({ events: [], next: { kind: 'finished' } });
  });

  it('an attempt that ends after the cancellation is not journaled', () => {
    expect(decide(cancelled, etl(), attempt('extract', 1, success()))).toEqual(
      E.left(expect.objectContaining({ _tag: 'IllegalTransition', reason: 'run already ended (cancelled)' })),
    );
  });

  it('a cancelled run is not resumed', () => {
    expect(refused(cancelled, etl(), resume())).toMatchObject({ _tag: 'RunNotResumable', reason: 'it was cancelled' });
  });
});

describe('stop', () => {
  it('a stop during a step: its outcome is written with the run’s release', () => {
    expect(decided([...running, started('extract')], etl(), attempt('extract', 1, success()), true)).toEqual({
      events: [succeeded('extract', 1, { rows: 3 }), released(WORKER, 'worker shutting down')],
      next: { kind: 'released' },
    });
  });

  it('a hard stop: the aborted step stays in flight and the run is released', () => {
    expect(decided([...running, started('extract')], etl(), tick(timeOfSeq(9)), true)).toEqual({
      events: [released(WORKER, 'worker shutting down')],
      next: { kind: 'released' },
    });
  });

  it('a release that is not a shutdown says why (a lease that could not be renewed)', () => {
    const why = 'the lease could not be renewed in time';
    expect(decided([...running, started('extract')], etl(), { ...tick(timeOfSeq(9)), stopReason: why }, true)).toEqual({
      events: [released(WORKER, why)],
      next: { kind: 'released' },
    });
  });

  it('a stop before a new run’s first append: it is created, claimed and released at once', () => {
    const creation = [created(), claimed(WORKER)];
    expect(decided([], etl(), { kind: 'claim', runId: 'run-1', events: creation }, true)).toEqual({
      events: [...creation, released(WORKER, 'worker shutting down')],
      next: { kind: 'released' },
    });
  });

  it('a stop before a resume’s claim writes nothing (it would count as a takeover)', () => {
    expect(decided([...running, started('extract')], etl(), resume(), true)).toEqual({ events: [], next: { kind: 'released' } });
  });

  it('a stop after the last step’s success hands the run back too (whoever resumes it ends it)', () => {
    const history = [
      ...running,
      started('extract'),
      succeeded('extract'),
      started('transform'),
      succeeded('transform'),
      started('load'),
    ];
    expect(decided(history, etl(), attempt('load', 1, success()), true)).toEqual({
      events: [succeeded('load', 1, { rows: 3 }), released(WORKER, 'worker shutting down')],
      next: { kind: 'released' },
    });
  });
});

describe('resume with in-flight steps', () => {
  it('the in-flight step runs again as its next attempt, claimed and started in one append', () => {
    const history = [...running, started('extract'), succeeded('extract'), started('transform')];
    expect(decided(history, etl(), resume())).toEqual({
      events: [
        resumed({ by: WORKER, fromStep: 'transform', inFlight: ['transform'], reason: 'interrupted' }),
        started('transform', 2),
      ],
      next: runs(['transform', 2]),
    });
  });

  it('a run released between steps resumes at the next step', () => {
    const history = [...running, started('extract'), succeeded('extract'), released(WORKER)];
    expect(decided(history, etl(), resume({ reason: 'released' })).events).toEqual([
      resumed({ by: WORKER, fromStep: 'transform', inFlight: [], reason: 'released' }),
      started('transform', 1),
    ]);
  });

  it('a step waiting for its retry: the claim is committed first, then the wait is measured', () => {
    const history = [...running, started('extract'), failed('extract', 1), retryScheduled('extract', 1, 60_000)];
    expect(decided(history, retrying, resume())).toEqual({
      events: [resumed({ by: WORKER, fromStep: 'extract', inFlight: [] })],
      next: { kind: 'run', starts: [], wakeAt: null, decideAgain: true },
    });
  });

  it('every step succeeded but the run’s end was lost: the resume ends it', () => {
    const history = [...running, ...['extract', 'transform', 'load'].flatMap((s) => [started(s), succeeded(s)])];
    expect(decided(history, etl(), resume())).toEqual({
      events: [resumed({ by: WORKER, fromStep: null, inFlight: [] }), { type: 'run.succeeded', payload: {} }],
      next: { kind: 'finished' },
    });
  });

  it('a run taken over maxRecoveries times is failed instead of resumed', () => {
    const takeovers = [1, 2, 3].map((i) => resumed({ by: `w${i + 1}` }));
    const history = [...running, started('extract'), ...takeovers];
    expect(decided(history, etl(), resume({ maxRecoveries: 3 }))).toEqual({
      events: [runFailed('taken over 3 times without finishing; giving up (a step may be killing its worker)', 'extract')],
      next: { kind: 'finished' },
    });
    // Below the cap it is resumed; a graceful release is not a takeover and does not count.
    expect(decided(history, etl(), resume({ maxRecoveries: 4 })).events[0]?.type).toBe('run.resumed');
    expect(decided([...history, released('w4')], etl(), resume({ maxRecoveries: 3 })).events[0]?.type).toBe('run.resumed');
  });

  it('a finished run is not resumed; a changed pipeline only with force', () => {
    const done = [...running, ...['extract', 'transform', 'load'].flatMap((s) => [started(s), succeeded(s)])];
    expect(refused([...done, { type: 'run.succeeded', payload: {} }], etl(), resume())).toMatchObject({
      _tag: 'RunNotResumable',
      reason: 'it already succeeded',
    });
    const changed = { ...etl(), definitionHash: 'def-2' };
    expect(refused([...running, started('extract')], changed, resume())).toMatchObject({
      _tag: 'PipelineDrift',
      pipelineId: 'etl',
    });
    expect(decided([...running, started('extract')], changed, resume({ force: true })).events[0]).toEqual(
      resumed({ by: WORKER, fromStep: 'extract', inFlight: ['extract'], force: true }),
    );
  });
});

describe('resume with failed steps and retryFailed', () => {
  const failedRun = [
    ...running,
    started('extract'),
    succeeded('extract'),
    started('transform'),
    failed('transform', 1, { retryable: false, message: 'bad row' }),
    runFailed('step "transform" failed (not retryable): bad row', 'transform'),
  ];

  it('without retryFailed, failed steps block the resume', () => {
    expect(refused(failedRun, etl(), resume())).toEqual({
      _tag: 'RunHasFailedSteps',
      runId: 'run-1',
      failedSteps: ['transform'],
    });
  });

  it('with retryFailed, the failed step runs again as its next attempt', () => {
    expect(decided(failedRun, etl(), resume({ retryFailed: true }))).toEqual({
      events: [
        resumed({ by: WORKER, fromStep: 'transform', inFlight: [], reason: 'retry failed steps', retryFailed: true }),
        started('transform', 2),
      ],
      next: runs(['transform', 2]),
    });
  });

  it('with retryFailed, a run failed by the recovery cap is resumed (a person decided; never capped)', () => {
    const capped = [
      ...running,
      started('extract'),
      ...[1, 2].map((i) => resumed({ by: `w${i}` })),
      runFailed('taken over', 'extract'),
    ];
    expect(decided(capped, etl(), resume({ retryFailed: true, maxRecoveries: 1 })).events[1]).toEqual(started('extract', 2));
  });

  it('a failed run with no failed step (failed by the cap) is refused without retryFailed', () => {
    const capped = [...running, started('extract'), runFailed('taken over', 'extract')];
    expect(refused(capped, etl(), resume())).toMatchObject({ _tag: 'RunNotResumable', status: 'failed' });
  });
});

describe('a wait step given an event whose data its codec refuses', () => {
  // Sent by a process without the pipeline (orbit send without --pipelines): nobody checked it.
  const approval: Pipeline = {
    ...definePipeline({
      name: 'etl',
      steps: [
        { name: 'extract', handler: ok },
        { name: 'transform', waitForEvent: { event: 'approved' }, output: t.type({ ok: t.boolean }) },
        { name: 'load', handler: ok },
      ],
    }),
    definitionHash: 'def-1',
  };
  const waiting: RunEvent[] = [
    created(),
    claimed(WORKER),
    started('extract'),
    succeeded('extract'),
    started('transform'),
    { type: 'step.waiting', stepName: 'transform', attempt: 1, payload: { event: 'approved', timeoutAt: null } },
    { type: 'run.suspended', payload: { worker: WORKER } },
    { type: 'event.received', payload: { event: 'approved', data: { ok: 'yes' }, by: 'vm:1:sender' } },
  ];
  const turnedAway: RunEvent = {
    type: 'event.rejected',
    payload: {
      event: 'approved',
      seq: 8,
      step: 'transform',
      reason: `its data does not match step "transform"'s codec: ok: expected boolean, got "yes"`,
    },
  };

  it('turns the event away (it leaves the inbox) and the step waits on: the run is suspended again, not failed', () => {
    const woken = decided(waiting, approval, resume());
    expect(woken.events.slice(1)).toEqual([turnedAway]);
    const again = decided([...waiting, ...woken.events], approval, tick(timeOfSeq(11)));
    expect(again).toEqual({ events: [{ type: 'run.suspended', payload: { worker: WORKER } }], next: { kind: 'released' } });
    const state = given(...waiting, ...woken.events, ...again.events).then();
    expect(state.inbox ?? []).toEqual([]);
    expect(state.status).toBe('waiting');
  });

  it('a run failed by such an event before 0.1 (the event left in the inbox) is not failed again by --retry-failed', () => {
    const failedByIt: RunEvent[] = [
      ...waiting,
      resumed({ by: WORKER, fromStep: 'transform' }),
      failed('transform', 1, { retryable: false, message: 'EventDataInvalid' }),
      runFailed('step "transform" failed (not retryable)', 'transform'),
    ];
    const retried = decided(failedByIt, approval, resume({ retryFailed: true }));
    expect(retried.events[1]).toEqual(started('transform', 2));
    // Attempt 2 begins to wait; the old event, still in the inbox, is turned away, not taken.
    const waits = decided(
      [...failedByIt, ...retried.events],
      approval,
      attempt('transform', 2, { kind: 'wait', event: 'approved', timeoutAt: null }),
    );
    expect(waits.events.map((e) => e.type)).not.toContain('step.failed');
    expect(waits.events).toContainEqual(turnedAway);
  });

  it('refuses to fold a rejection of an event the inbox does not hold', () => {
    expect(() =>
      given(...waiting, resumed({ by: WORKER }), { ...turnedAway, payload: { ...turnedAway.payload, seq: 7 } }).then(),
    ).toThrow(/IllegalTransition.*event at seq 7 waits in the run.s inbox/);
  });
});
