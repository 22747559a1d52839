import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';
import { RUN_COLUMNS, type RunRow } from '../fold/projectionRows';

/** A `runs` row as `pg` returns it (timestamps as Date). */
export interface StoredRunRow extends Omit<RunRow, 'started_at' | 'finished_at' | 'last_event_at'> {
  readonly started_at: Date;
  readonly finished_at: Date | null;
  readonly last_event_at: Date;
}

/** A run's `runs` row (none when the projection does not hold it). */
export const readRunRow = (db: Database, runId: string, client?: PoolClient) =>
  query<StoredRunRow>(client ?? db, `SELECT ${RUN_COLUMNS.join(', ')} FROM ${db.qs}.runs WHERE id = $1`, [runId]);
