import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';
import { RUN_COLUMNS, type RunRow } from '../fold/projectionRows';

const COLUMNS = RUN_COLUMNS.join(', ');
const UPDATES = RUN_COLUMNS.filter((c) => c !== 'id')
  .map((c) => `${c} = EXCLUDED.${c}`)
  .join(', ');

/**
 * Writes `runs` rows in place (inside the caller's transaction): inserted, or every column
 * overwritten. Never deleted and re-inserted: a writer waiting on one of these rows must find it
 * still there, not conclude it lost a race.
 */
export const upsertRunRows = (db: Database, rows: readonly RunRow[], client: PoolClient) =>
  query(
    client,
    `INSERT INTO ${db.qs}.runs (${COLUMNS})
     SELECT ${COLUMNS} FROM jsonb_populate_recordset(NULL::${db.qs}.runs, $1::jsonb)
     ON CONFLICT (id) DO UPDATE SET ${UPDATES}`,
    [JSON.stringify(rows)],
  );
