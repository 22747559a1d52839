import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';

/** Deletes the given runs' `steps` rows (inside the caller's transaction). */
export const deleteStepRows = (db: Database, runIds: readonly string[], client: PoolClient) =>
  query(client, `DELETE FROM ${db.qs}.steps WHERE run_id = ANY($1::text[])`, [runIds]);
