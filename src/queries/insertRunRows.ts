import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';
import { RUN_COLUMNS, type RunRow } from '../fold/projectionRows';

const COLUMNS = RUN_COLUMNS.join(', ');

/** Inserts `runs` rows (inside the caller's transaction); a row that exists already is an error. */
export const insertRunRows = (db: Database, rows: readonly RunRow[], client: PoolClient) =>
  query(
    client,
    `INSERT INTO ${db.qs}.runs (${COLUMNS})
     SELECT ${COLUMNS} FROM jsonb_populate_recordset(NULL::${db.qs}.runs, $1::jsonb)`,
    [JSON.stringify(rows)],
  );
