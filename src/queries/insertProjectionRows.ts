import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';
import { RUN_COLUMNS, STEP_COLUMNS, type RunRow, type StepRow } from '../fold/projectionRows';

/** Inserts rows of one projection table, every listed column, from one JSON parameter (inside the caller's transaction). */
const insertRows =
  <Row>(table: 'runs' | 'steps', columns: readonly string[]) =>
  (db: Database, rows: readonly Row[], client: PoolClient) =>
    query(
      client,
      `INSERT INTO ${db.qs}.${table} (${columns.join(', ')})
       SELECT ${columns.join(', ')} FROM jsonb_populate_recordset(NULL::${db.qs}.${table}, $1::jsonb)`,
      [JSON.stringify(rows)],
    );

/** Inserts `runs` rows; a row that exists already is an error. */
export const insertRunRows = insertRows<RunRow>('runs', RUN_COLUMNS);

/** Inserts `steps` rows. */
export const insertStepRows = insertRows<StepRow>('steps', STEP_COLUMNS);
