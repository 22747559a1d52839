import { randomUUID } from 'node:crypto';
import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import { fromPgError } from '../db/pgErrors';
import { retryTransient } from '../db/retryTransient';
import type { AppendFailure, EventDecodeError } from '../errors';
import { eventCodecs, type RecordedEvent, type RunEvent } from '../events/runEvents';
import { foldChanges } from '../fold/evolve';
import type { RunState } from '../fold/runState';
import { appendCallOf } from './appendCall';
import { PENDING_EPOCH, resolvePendingTimes } from './pendingTime';
import { appendBatcherFor, type AppendResultRow } from './appendBatcher';
import type { AppendRunEventsCall } from '../queries/appendEvents';
import { loadRunState } from './loadRunState';

export interface AppendRequest {
  readonly runId: string;
  /** The seq of the run's last event as the writer saw it; 0 for a new run. */
  readonly expectedSeq: number;
  readonly events: readonly RunEvent[];
  /** The fold of the run's journal up to `expectedSeq` (null for a new run). */
  readonly state: RunState | null;
  /** Which process writes (journaled in `writer`). */
  readonly writer: string;
}

export interface Appended {
  /** The run's state after the events, with real commit times. */
  readonly state: RunState;
  readonly lastSeq: number;
  /** The database's commit time of the events (ISO). */
  readonly committedAt: string;
  /** True when a retried append found its events already committed. */
  readonly duplicate: boolean;
}

/**
 * Appends events to a run in one transaction and one round trip: checks the expected seq, inserts
 * the events with chained hashes, writes the projection rows folded from the same events, and
 * notifies listeners for the transitions they act on. A stale `expectedSeq` is a
 * ConcurrencyConflict and writes nothing; an event the fold rejects is an IllegalTransition and
 * writes nothing. Concurrent appends on one pool share commits (see `AppendBatcher`), each still
 * checked and reported on its own. A dropped connection is retried with the same event ids, so an append whose
 * COMMIT landed but whose reply was lost is found, not written twice; transient failures
 * (connection loss, a restarting server, serialization failures) are retried within
 * `retryBudgetMs()` before the caller gets DatabaseUnavailable.
 */
export const appendToRun = async (db: Database, req: AppendRequest): Promise<E.Either<AppendFailure, Appended>> => {
  const prepared = prepareAppend(req);
  if (E.isLeft(prepared)) return prepared;
  // Shared with every other writer on this pool: appends ready at the same moment commit together.
  const batcher = appendBatcherFor(db);
  try {
    return appendedOf(req, prepared.right, await retryTransient(db, () => batcher.submit(prepared.right.call)));
  } catch (err) {
    return E.left(fromPgError(err));
  }
};

/** An append ready to send: the call of `append_run_events`, and the fold it was built from. */
export interface PreparedAppend {
  readonly call: AppendRunEventsCall;
  readonly after: RunState;
  readonly changed: readonly number[];
}

/** Checks and folds an append's events into the call that writes them; nothing is sent. */
export const prepareAppend = (req: AppendRequest): E.Either<AppendFailure, PreparedAppend> => {
  if (req.events.length === 0) return E.left({ _tag: 'InvalidInput', what: 'append', message: 'no events to append' });
  // Whatever is written must read back: an event its own codec rejects (a delay out of range, a
  // non-JSON payload) is refused here rather than becoming an undecodable row.
  const invalid = req.events.findIndex((e) => !eventCodecs[e.type].is(e));
  if (invalid >= 0) {
    const e = req.events[invalid] as RunEvent;
    return E.left({
      _tag: 'InvalidInput',
      what: 'event',
      message: `event ${invalid + 1} of the append (${e.type}) does not match its codec`,
    });
  }
  if (req.state !== null && req.state.lastSeq !== req.expectedSeq) {
    return E.left({ _tag: 'ConcurrencyConflict', runId: req.runId, expectedSeq: req.expectedSeq, actualSeq: req.state.lastSeq });
  }
  const records: RecordedEvent[] = req.events.map((event, i) => ({
    runId: req.runId,
    seq: req.expectedSeq + i + 1,
    occurredAt: PENDING_EPOCH,
    writer: req.writer,
    eventId: randomUUID(),
    event,
  }));
  // The fold says which steps the events changed: only their rows are written.
  const folded = foldChanges(req.state, records);
  if (E.isLeft(folded)) return folded;
  const after = folded.right.state as RunState;
  const changed = folded.right.changed;
  return E.right({ call: appendCallOf(req, records, after, changed), after, changed });
};

/** What `append_run_events` answered for a prepared append, as the append's result. */
export const appendedOf = (
  req: AppendRequest,
  prepared: PreparedAppend,
  row: AppendResultRow | undefined,
): E.Either<AppendFailure, Appended> => {
  if (row === undefined) return E.left({ _tag: 'DatabaseError', message: 'append_run_events returned no row', code: undefined });
  if (row.outcome === 'conflict') {
    return E.left(
      row.last_seq === null && req.expectedSeq > 0
        ? { _tag: 'RunNotFound', runId: req.runId }
        : { _tag: 'ConcurrencyConflict', runId: req.runId, expectedSeq: req.expectedSeq, actualSeq: row.last_seq },
    );
  }
  const committedAt = (row.committed_at as Date).toISOString();
  return E.right({
    state: resolvePendingTimes(prepared.after, committedAt, prepared.changed),
    lastSeq: row.last_seq as number,
    committedAt,
    duplicate: row.outcome === 'duplicate',
  });
};

/**
 * The journal's public append: `appendEvents(db, runId, expectedSeq, events)`. Replays the run to
 * fold the new events onto it (writers that keep the state, like the executor, use `appendToRun`).
 */
export const appendEvents = async (
  db: Database,
  runId: string,
  expectedSeq: number,
  events: readonly RunEvent[],
  writer = `api:${process.pid}`,
): Promise<E.Either<AppendFailure | EventDecodeError, Appended>> => {
  let state: RunState | null = null;
  if (expectedSeq > 0) {
    const loaded = await loadRunState(db, runId);
    if (E.isLeft(loaded)) return loaded;
    state = loaded.right;
    if (state.lastSeq !== expectedSeq) {
      return E.left({ _tag: 'ConcurrencyConflict', runId, expectedSeq, actualSeq: state.lastSeq });
    }
  }
  return appendToRun(db, { runId, expectedSeq, events, state, writer });
};
