import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';
import { STEP_COLUMNS, type StepRow } from '../fold/projectionRows';

const COLUMNS = STEP_COLUMNS.join(', ');
const UPDATES = STEP_COLUMNS.filter((c) => c !== 'run_id' && c !== 'name')
  .map((c) => `${c} = EXCLUDED.${c}`)
  .join(', ');

/**
 * Writes `steps` rows in place (inside the caller's transaction): inserted, or every column
 * overwritten. Needs INSERT and UPDATE only, which the runtime role has (a rebuild needs no DELETE).
 */
export const upsertStepRows = (db: Database, rows: readonly StepRow[], client: PoolClient) =>
  query(
    client,
    `INSERT INTO ${db.qs}.steps (${COLUMNS})
     SELECT ${COLUMNS} FROM jsonb_populate_recordset(NULL::${db.qs}.steps, $1::jsonb)
     ON CONFLICT (run_id, name) DO UPDATE SET ${UPDATES}`,
    [JSON.stringify(rows)],
  );
