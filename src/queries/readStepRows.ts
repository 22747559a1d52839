import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';
import type { JsonValue } from '../events/json';
import { STEP_COLUMNS, type StepRow } from '../fold/projectionRows';

/** A `steps` row as `pg` returns it. */
export interface StoredStepRow extends Omit<StepRow, 'started_at' | 'finished_at' | 'next_retry_at' | 'result'> {
  readonly started_at: Date | null;
  readonly finished_at: Date | null;
  readonly next_retry_at: Date | null;
  readonly result: JsonValue | null;
}

/** A run's `steps` rows in step order. */
export const readStepRows = (db: Database, runId: string, client?: PoolClient) =>
  query<StoredStepRow>(
    client ?? db,
    `SELECT ${STEP_COLUMNS.join(', ')} FROM ${db.qs}.steps WHERE run_id = $1 ORDER BY step_index`,
    [runId],
  );
