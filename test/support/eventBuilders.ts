import * as E from 'fp-ts/Either';
import type { IllegalTransition, OrbitError } from '../../src/errors';
import type { JsonValue } from '../../src/events/json';
import type { RecordedEvent, RunEvent } from '../../src/events/runEvents';
import { foldEvents } from '../../src/fold/evolve';
import type { RunState } from '../../src/fold/runState';

/**
 * Small builders for journal events, so tests read like the journal they describe:
 * `given(created(['a']), claimed(), started('a', 1)).then()` or `.rejects(...)`.
 */

export const created = (
  steps: readonly string[] = ['extract', 'transform', 'load'],
  opts: { pipelineId?: string; metadata?: JsonValue; triggeredBy?: string | null } = {},
): RunEvent => ({
  type: 'run.created',
  payload: {
    pipelineId: opts.pipelineId ?? 'etl',
    steps: [...steps],
    definitionHash: 'def-1',
    metadata: opts.metadata ?? { batch: 7 },
    triggeredBy: opts.triggeredBy === undefined ? 'test' : opts.triggeredBy,
  },
});

export const claimed = (worker = 'w1'): RunEvent => ({ type: 'run.claimed', payload: { worker } });

export const released = (worker = 'w1', reason = 'shutdown'): RunEvent => ({ type: 'run.released', payload: { worker, reason } });

export const resumed = (
  opts: {
    by?: string;
    fromStep?: string | null;
    inFlight?: string[];
    reason?: string;
    retryFailed?: boolean;
    force?: boolean;
  } = {},
): RunEvent => ({
  type: 'run.resumed',
  payload: {
    by: opts.by ?? 'recovery',
    fromStep: opts.fromStep ?? null,
    inFlight: opts.inFlight ?? [],
    reason: opts.reason ?? 'interrupted',
    retryFailed: opts.retryFailed ?? false,
    force: opts.force ?? false,
  },
});

export const started = (stepName: string, attempt = 1): RunEvent => ({ type: 'step.started', stepName, attempt, payload: {} });

export const succeeded = (stepName: string, attempt = 1, result: JsonValue = { step: stepName }): RunEvent => ({
  type: 'step.succeeded',
  stepName,
  attempt,
  payload: { result },
});

/** Retryable unless told otherwise, as a thrown error is (only NonRetryableError is not). */
export const failed = (stepName: string, attempt = 1, opts: { retryable?: boolean; message?: string } = {}): RunEvent => ({
  type: 'step.failed',
  stepName,
  attempt,
  payload: { error: { name: 'Error', message: opts.message ?? `${stepName} broke` }, retryable: opts.retryable ?? true },
});

export const retryScheduled = (stepName: string, attempt: number, delayMs: number): RunEvent => ({
  type: 'step.retry_scheduled',
  stepName,
  attempt,
  payload: { delayMs },
});

export const runSucceeded = (): RunEvent => ({ type: 'run.succeeded', payload: {} });

export const runFailed = (reason = 'step failed', step: string | null = null): RunEvent => ({
  type: 'run.failed',
  payload: { reason, step },
});

export const runCancelled = (reason = 'operator', by = 'cli'): RunEvent => ({ type: 'run.cancelled', payload: { reason, by } });

/** The builders under one name, for tests that have variables called `started` or `failed`. */
export const ev = {
  created,
  claimed,
  released,
  resumed,
  started,
  succeeded,
  failed,
  retryScheduled,
  runSucceeded,
  runFailed,
  runCancelled,
};

/** Where recorded test events start in time, and how far apart they are. */
export const T0 = '2025-01-15T10:30:00.000Z';
export const GAP_MS = 1000;

/** The ISO time of the event with the given seq in a journal built by `record`. */
export const timeOfSeq = (seq: number, start = T0, gapMs = GAP_MS): string =>
  new Date(Date.parse(start) + (seq - 1) * gapMs).toISOString();

/** Stamps events as the journal would: seq from `firstSeq`, increasing ISO times, a writer and an id. */
export const record = (
  runId: string,
  events: readonly RunEvent[],
  opts: { firstSeq?: number; start?: string; gapMs?: number } = {},
): RecordedEvent[] => {
  const firstSeq = opts.firstSeq ?? 1;
  return events.map((event, i) => ({
    runId,
    seq: firstSeq + i,
    occurredAt: timeOfSeq(firstSeq + i, opts.start, opts.gapMs),
    writer: 'test',
    eventId: `${runId}-${firstSeq + i}`,
    event,
  }));
};

export const RUN_ID = 'run-1';

/** Unwraps a fold result that must be a state, failing the test with the reason otherwise. */
export const stateOf = (result: E.Either<OrbitError, RunState | null>): RunState => {
  if (E.isLeft(result)) throw new Error(`expected a state, got ${JSON.stringify(result.left)}`);
  if (result.right === null) throw new Error('expected a state, got null');
  return result.right;
};

/** Unwraps a fold result that must be an IllegalTransition. */
export const illegalOf = (result: E.Either<OrbitError, unknown>): IllegalTransition => {
  if (E.isRight(result))
    throw new Error(`expected IllegalTransition, got a state: ${JSON.stringify(result.right).slice(0, 300)}`);
  if (result.left._tag !== 'IllegalTransition') throw new Error(`expected IllegalTransition, got ${JSON.stringify(result.left)}`);
  return result.left;
};

/**
 * Given a run's history, when more events arrive, then a state or an IllegalTransition:
 * `given(created(), claimed()).when(started('load')).rejects()`.
 */
export const given = (...history: RunEvent[]) => {
  const past = record(RUN_ID, history);
  const fold = (more: readonly RunEvent[]) => foldEvents(null, [...past, ...record(RUN_ID, more, { firstSeq: past.length + 1 })]);
  return {
    /** The recorded history (seq 1..n). */
    records: past,
    /** The state the history folds to. */
    then: (): RunState => stateOf(fold([])),
    when: (...more: RunEvent[]) => ({
      /** The recorded new events (seq n+1...). */
      records: record(RUN_ID, more, { firstSeq: past.length + 1 }),
      then: (): RunState => stateOf(fold(more)),
      rejects: (): IllegalTransition => illegalOf(fold(more)),
    }),
  };
};

/** Freezes a value and everything reachable from it, so any mutation throws in strict mode. */
export const deepFreeze = <T>(value: T, seen: WeakSet<object> = new WeakSet()): T => {
  if (value !== null && typeof value === 'object' && !seen.has(value)) {
    seen.add(value);
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v, seen);
  }
  return value;
};
