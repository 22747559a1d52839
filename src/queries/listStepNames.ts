import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';

/** The names of a run's `steps` rows, in step order (also for rows with no `runs` row). */
export const listStepNames = (db: Database, runId: string, client?: PoolClient) =>
  query<{ name: string }>(client ?? db, `SELECT name FROM ${db.qs}.steps WHERE run_id = $1 ORDER BY step_index, name`, [runId]);
