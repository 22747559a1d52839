import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';

/** Deletes a run's `steps` rows whose names are not given (inside the caller's transaction). */
export const deleteStepRowsExcept = (db: Database, runId: string, keep: readonly string[], client: PoolClient) =>
  query(client, `DELETE FROM ${db.qs}.steps WHERE run_id = $1 AND NOT (name = ANY($2::text[]))`, [runId, keep]);
