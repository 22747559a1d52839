import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';
import type { EventRow } from '../events/decodeRow';
import { EVENT_COLUMNS } from './readRunEventRows';

/** At most `limit` of a run's event rows after `afterSeq`, in seq order: one page of a keyset cursor on (run_id, seq). */
export const readRunEventPage = (db: Database, runId: string, afterSeq: number, limit: number, client?: PoolClient) =>
  query<EventRow & { seq: number }>(
    client ?? db,
    `SELECT ${EVENT_COLUMNS} FROM ${db.qs}.run_events WHERE run_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
    [runId, afterSeq, limit],
    `orbit.stream:${db.schema}`,
  );
