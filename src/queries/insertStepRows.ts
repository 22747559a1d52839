import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';
import { STEP_COLUMNS, type StepRow } from '../fold/projectionRows';

const COLUMNS = STEP_COLUMNS.join(', ');

/** Inserts `steps` rows (inside the caller's transaction). */
export const insertStepRows = (db: Database, rows: readonly StepRow[], client: PoolClient) =>
  query(
    client,
    `INSERT INTO ${db.qs}.steps (${COLUMNS})
     SELECT ${COLUMNS} FROM jsonb_populate_recordset(NULL::${db.qs}.steps, $1::jsonb)`,
    [JSON.stringify(rows)],
  );
