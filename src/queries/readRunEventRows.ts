import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';
import type { EventRow } from '../events/decodeRow';

/** The `run_events` columns an event is decoded from (`decodeEventRow`). */
export const EVENT_COLUMNS = 'run_id, seq, type, step_name, attempt, payload, occurred_at, writer, event_id';

/** A run's event rows after `afterSeq`, in seq order, all at once (prepared: the hottest read). */
export const readRunEventRows = (db: Database, runId: string, afterSeq: number, client?: PoolClient) =>
  query<EventRow & { seq: number }>(
    client ?? db,
    `SELECT ${EVENT_COLUMNS} FROM ${db.qs}.run_events WHERE run_id = $1 AND seq > $2 ORDER BY seq`,
    [runId, afterSeq],
    `orbit.read:${db.schema}`,
  );
