import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';
import type { EventRow } from '../events/decodeRow';
import { EVENT_COLUMNS } from './readRunEventRows';

/** One event of a run by its seq (none when the run or that seq is not in the journal). */
export const readRunEventAt = (db: Database, runId: string, seq: number, client?: PoolClient) =>
  query<EventRow & { seq: number }>(
    client ?? db,
    `SELECT ${EVENT_COLUMNS} FROM ${db.qs}.run_events WHERE run_id = $1 AND seq = $2`,
    [runId, seq],
  );
