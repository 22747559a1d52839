import * as E from 'fp-ts/Either';
import type { PoolClient } from 'pg';
import type { Database } from '../db/database';
import type { ReadFailure } from '../errors';
import { decodeEventRow, type EventRow } from '../events/decodeRow';
import type { RecordedEvent } from '../events/runEvents';
import { readRunEventPage } from '../queries/readRunEventPage';
import { readRunEventRows } from '../queries/readRunEventRows';

const decodeAll = (rows: readonly EventRow[]): E.Either<ReadFailure, RecordedEvent[]> => {
  const out: RecordedEvent[] = [];
  for (const row of rows) {
    const decoded = decodeEventRow(row);
    if (E.isLeft(decoded)) return decoded;
    out.push(decoded.right);
  }
  return E.right(out);
};

/** A run's events in seq order, all at once. For long histories use `streamRunEvents`. */
export const readRunEvents = async (
  db: Database,
  runId: string,
  afterSeq = 0,
): Promise<E.Either<ReadFailure, RecordedEvent[]>> => {
  return E.chain(decodeAll)(await readRunEventRows(db, runId, afterSeq));
};

export interface StreamOptions {
  /** Start after this seq. Default 0 (the whole run). */
  readonly afterSeq?: number;
  /** Rows fetched per round trip. Default 2,000. */
  readonly batchSize?: number;
  /** Read through this client (e.g. inside a transaction) instead of the pool. */
  readonly client?: PoolClient;
}

/**
 * A run's events in seq order, a batch at a time, with a keyset cursor on (run_id, seq): memory
 * stays flat however long the history, and no transaction is held open between batches. The
 * first Left ends the stream.
 */
export async function* streamRunEvents(
  db: Database,
  runId: string,
  opts: StreamOptions = {},
): AsyncGenerator<E.Either<ReadFailure, RecordedEvent[]>, void, undefined> {
  const batchSize = opts.batchSize ?? 2000;
  let after = opts.afterSeq ?? 0;
  for (;;) {
    const batch = E.chain(decodeAll)(await readRunEventPage(db, runId, after, batchSize, opts.client));
    yield batch;
    if (E.isLeft(batch) || batch.right.length < batchSize) return;
    after = (batch.right[batch.right.length - 1] as RecordedEvent).seq;
  }
}
