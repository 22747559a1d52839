import * as t from 'io-ts';
import { JsonValue, NonNegativeInteger, PositiveInteger } from './json';

/**
 * The events of a run's life, one codec per type. Step events carry the step's name and the
 * attempt number in their own journal columns; everything else lives in `payload`.
 * Codec and type share a name (`RunCreated` is both).
 */
const runEvent = <T extends string, P extends t.Props>(type: T, payload: P) =>
  t.type({ type: t.literal(type), payload: t.type(payload) }, type);

const stepEvent = <T extends string, P extends t.Props>(type: T, payload: P) =>
  t.type({ type: t.literal(type), stepName: t.string, attempt: PositiveInteger, payload: t.type(payload) }, type);

const Nullable = <C extends t.Mixed>(c: C) => t.union([c, t.null]);

/** The error a step failed with, as journaled. */
export const StepError = t.intersection([t.type({ message: t.string, name: t.string }), t.partial({ stack: t.string })]);
export type StepError = t.TypeOf<typeof StepError>;

/** Where a forked run came from: the run it copies and the step it runs again from (`orbit fork`). */
export const ForkedFrom = t.type({ runId: t.string, step: t.string }, 'ForkedFrom');
export type ForkedFrom = t.TypeOf<typeof ForkedFrom>;

/**
 * A run was created: the pipeline, its step list as defined at that moment, and its input.
 * `dependsOn` (every step's dependencies by name) is there only when some step does not depend on
 * the step before it: a linear pipeline's `run.created` is as it always was. `forkedFrom` is there
 * only on a run made by `orbit fork` / `forkRun`.
 */
export const RunCreated = t.type(
  {
    type: t.literal('run.created'),
    payload: t.intersection([
      t.type({
        pipelineId: t.string,
        steps: t.array(t.string),
        definitionHash: t.string,
        metadata: JsonValue,
        triggeredBy: Nullable(t.string),
      }),
      t.partial({ dependsOn: t.record(t.string, t.array(t.string)), forkedFrom: ForkedFrom }),
    ]),
  },
  'run.created',
);
export type RunCreated = t.TypeOf<typeof RunCreated>;

/** A worker took a pending run and is executing it. */
export const RunClaimed = runEvent('run.claimed', { worker: t.string });
export type RunClaimed = t.TypeOf<typeof RunClaimed>;

/** A worker gave a running run back (graceful shutdown) so it can be resumed at once. */
export const RunReleased = runEvent('run.released', { worker: t.string, reason: t.string });
export type RunReleased = t.TypeOf<typeof RunReleased>;

/**
 * Recovery claimed an interrupted (or, with retryFailed, a failed) run: who, from which step, why,
 * and which steps were in flight (started, no outcome) and so will run again. `by` executes the
 * run (and holds its lease); `requestedBy`, when set, is the worker or recoverer that had it
 * resumed in a process of its own (an isolated resume), with `reason` being that worker's.
 */
export const RunResumed = t.type(
  {
    type: t.literal('run.resumed'),
    payload: t.intersection([
      t.type({
        by: t.string,
        fromStep: Nullable(t.string),
        inFlight: t.array(t.string),
        reason: t.string,
        retryFailed: t.boolean,
        force: t.boolean,
      }),
      t.partial({ requestedBy: t.string }),
    ]),
  },
  'run.resumed',
);
export type RunResumed = t.TypeOf<typeof RunResumed>;

/**
 * A step's attempt began. A map step's `step.started` says how many items its list has
 * (`items`); each item then runs as attempts of its own (`item.*` events).
 */
export const StepStarted = t.type(
  {
    type: t.literal('step.started'),
    stepName: t.string,
    attempt: PositiveInteger,
    payload: t.partial({ items: NonNegativeInteger }),
  },
  'step.started',
);
export type StepStarted = t.TypeOf<typeof StepStarted>;

export const StepSucceeded = stepEvent('step.succeeded', { result: JsonValue });
export type StepSucceeded = t.TypeOf<typeof StepSucceeded>;

/**
 * A forked run took this step's result from the run it was forked from, instead of running it:
 * `fromRun`'s event at `fromSeq` (its `step.succeeded`, or its own `step.reused`) carried `result`.
 * Written only at the fork's creation, before its claim; `attempt` is always 1.
 */
export const StepReused = stepEvent('step.reused', { result: JsonValue, fromRun: t.string, fromSeq: PositiveInteger });
export type StepReused = t.TypeOf<typeof StepReused>;

export const StepFailed = stepEvent('step.failed', { error: StepError, retryable: t.boolean });
export type StepFailed = t.TypeOf<typeof StepFailed>;

/**
 * The longest wait between two attempts: 180 days. Bounded so that the time arithmetic of the
 * fold and of the append path (sql/003_append.sql, "pending time") always stays in range.
 */
export const MAX_RETRY_DELAY_MS = 180 * 24 * 3_600_000;

const RetryDelay = new t.Type<number, number, unknown>(
  'RetryDelay',
  (u): u is number => NonNegativeInteger.is(u) && u <= MAX_RETRY_DELAY_MS,
  (u, c) =>
    NonNegativeInteger.is(u) && u <= MAX_RETRY_DELAY_MS
      ? t.success(u)
      : t.failure(u, c, `not an integer between 0 and ${MAX_RETRY_DELAY_MS}`),
  t.identity,
);

/** The failed attempt `attempt` will be followed by attempt + 1, `delayMs` after this event. */
export const StepRetryScheduled = stepEvent('step.retry_scheduled', { delayMs: RetryDelay });
export type StepRetryScheduled = t.TypeOf<typeof StepRetryScheduled>;

/**
 * One item of a map step (`index` in its list, from 0): its attempt began, ended, failed, or will
 * be tried again. `attempt` counts the item's own attempts; `stepName` is the map step.
 */
const itemEvent = <T extends string, P extends t.Props>(type: T, payload: P) =>
  t.type(
    {
      type: t.literal(type),
      stepName: t.string,
      attempt: PositiveInteger,
      payload: t.type({ index: NonNegativeInteger, ...payload }),
    },
    type,
  );

export const ItemStarted = itemEvent('item.started', {});
export type ItemStarted = t.TypeOf<typeof ItemStarted>;

export const ItemSucceeded = itemEvent('item.succeeded', { result: JsonValue });
export type ItemSucceeded = t.TypeOf<typeof ItemSucceeded>;

export const ItemFailed = itemEvent('item.failed', { error: StepError, retryable: t.boolean });
export type ItemFailed = t.TypeOf<typeof ItemFailed>;

export const ItemRetryScheduled = itemEvent('item.retry_scheduled', { delayMs: RetryDelay });
export type ItemRetryScheduled = t.TypeOf<typeof ItemRetryScheduled>;

/**
 * A sleep step's attempt fell asleep until `until` (ISO, computed on the database clock when the
 * step began: its duration from then, or what its `sleepUntil` returned). The run holds no worker
 * while it sleeps; a worker wakes it at that time.
 */
export const StepSleeping = stepEvent('step.sleeping', { until: t.string });
export type StepSleeping = t.TypeOf<typeof StepSleeping>;

/**
 * A wait step waits for the event named `event` until `timeoutAt` (ISO, database clock; null: no
 * timeout). An event already received (journaled earlier as `event.received`) satisfies it at once.
 */
export const StepWaiting = stepEvent('step.waiting', { event: t.string, timeoutAt: Nullable(t.string) });
export type StepWaiting = t.TypeOf<typeof StepWaiting>;

/**
 * The executor handed a run back because every step it could go on with sleeps or waits: the run
 * is `sleeping` (or `waiting`, when a step waits for an event), holds no lease, and is not
 * interrupted. A worker resumes it when the first sleep ends, a wait times out, or an event it
 * waits for arrives.
 */
export const RunSuspended = runEvent('run.suspended', { worker: t.string });
export type RunSuspended = t.TypeOf<typeof RunSuspended>;

/**
 * An event sent to the run from outside (`orbit send`, `sendEvent`): its name, its data, and who
 * sent it (the sending process's id and, when given, a person or system). Kept until a wait step
 * for that event takes it (the first such step not yet satisfied); the step's result is `data`.
 */
export const EventReceived = t.type(
  {
    type: t.literal('event.received'),
    payload: t.intersection([t.type({ event: t.string, data: JsonValue, by: t.string }), t.partial({ sender: t.string })]),
  },
  'event.received',
);
export type EventReceived = t.TypeOf<typeof EventReceived>;

/**
 * A wait step could not take an event sent for it: its data does not match the step's `output`
 * codec (a sender without the pipeline loaded, such as `orbit send` without `--pipelines`, cannot
 * check it). The event (`seq`, its `event.received`) leaves the run's inbox, unused; the step goes
 * on waiting for the next one, its timeout unchanged. Bad data from outside never fails the run.
 */
export const EventRejected = runEvent('event.rejected', {
  event: t.string,
  seq: PositiveInteger,
  step: t.string,
  reason: t.string,
});
export type EventRejected = t.TypeOf<typeof EventRejected>;

export const RunSucceeded = runEvent('run.succeeded', {});
export type RunSucceeded = t.TypeOf<typeof RunSucceeded>;

export const RunFailed = runEvent('run.failed', { reason: t.string, step: Nullable(t.string) });
export type RunFailed = t.TypeOf<typeof RunFailed>;

export const RunCancelled = runEvent('run.cancelled', { reason: t.string, by: t.string });
export type RunCancelled = t.TypeOf<typeof RunCancelled>;

/** The events of one map item. */
export type ItemEvent = ItemStarted | ItemSucceeded | ItemFailed | ItemRetryScheduled;

/** Every event Orbit writes. `switch (event.type)` is checked for exhaustiveness by the compiler. */
export const RunEvent = t.union([
  RunCreated,
  RunClaimed,
  RunReleased,
  RunResumed,
  StepStarted,
  StepSucceeded,
  StepReused,
  StepFailed,
  StepRetryScheduled,
  ItemStarted,
  ItemSucceeded,
  ItemFailed,
  ItemRetryScheduled,
  StepSleeping,
  StepWaiting,
  RunSuspended,
  EventReceived,
  EventRejected,
  RunSucceeded,
  RunFailed,
  RunCancelled,
]);
export type RunEvent = t.TypeOf<typeof RunEvent>;
export type RunEventType = RunEvent['type'];

/** Codec by type, so a row is decoded against exactly one codec and errors name its fields. */
export const eventCodecs: { readonly [K in RunEventType]: t.Type<Extract<RunEvent, { type: K }>, unknown, unknown> } = {
  'run.created': RunCreated,
  'run.claimed': RunClaimed,
  'run.released': RunReleased,
  'run.resumed': RunResumed,
  'step.started': StepStarted,
  'step.succeeded': StepSucceeded,
  'step.reused': StepReused,
  'step.failed': StepFailed,
  'step.retry_scheduled': StepRetryScheduled,
  'item.started': ItemStarted,
  'item.succeeded': ItemSucceeded,
  'item.failed': ItemFailed,
  'item.retry_scheduled': ItemRetryScheduled,
  'step.sleeping': StepSleeping,
  'step.waiting': StepWaiting,
  'run.suspended': RunSuspended,
  'event.received': EventReceived,
  'event.rejected': EventRejected,
  'run.succeeded': RunSucceeded,
  'run.failed': RunFailed,
  'run.cancelled': RunCancelled,
};

export const isRunEventType = (s: string): s is RunEventType => Object.prototype.hasOwnProperty.call(eventCodecs, s);

/** Events after which a run is over. `run.failed` can still be followed by a `--retry-failed` resume. */
export const TERMINAL_TYPES: ReadonlySet<RunEventType> = new Set(['run.succeeded', 'run.failed', 'run.cancelled']);

/** Where a listener has something to do; only these appends pay for NOTIFY (see DESIGN "Cost"). */
export const NOTIFYING_TYPES: ReadonlySet<RunEventType> = new Set([
  'run.released',
  'run.suspended',
  'event.received',
  'run.resumed',
  'run.cancelled',
  'run.succeeded',
  'run.failed',
]);

/**
 * Events that end what a `run.resumed` began: the run ended, or changed hands again (another
 * resume, a release). Recovery metrics measure each resumption up to the first of these.
 */
export const RECOVERY_SPAN_END_TYPES: ReadonlySet<RunEventType> = new Set([
  ...TERMINAL_TYPES,
  'run.resumed',
  'run.released',
  'run.suspended',
]);

/** The events that take a run for execution: a queued run's claim, a resume's. */
export const CLAIM_TYPES: ReadonlySet<RunEventType> = new Set(['run.claimed', 'run.resumed']);

/** What makes a run available to be claimed: created (on the queue), or released by its worker. */
export const AVAILABLE_TYPES: ReadonlySet<RunEventType> = new Set(['run.created', 'run.released']);

/** An event as stored: the event plus where and when it was written. */
export interface RecordedEvent {
  readonly runId: string;
  readonly seq: number;
  /** ISO-8601 UTC, milliseconds, from the database clock. */
  readonly occurredAt: string;
  readonly writer: string;
  readonly eventId: string;
  readonly event: RunEvent;
}
