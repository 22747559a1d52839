import type { PoolClient } from 'pg';
import { query, type Database } from '../db/database';

/** Up to `limit` of the given run ids that this database already has (in its journal or `runs`), in id order. */
export const listExistingRunIds = (db: Database, runIds: readonly string[], limit: number, client?: PoolClient) =>
  query<{ id: string }>(
    client ?? db,
    `SELECT run_id AS id FROM ${db.qs}.run_events WHERE run_id = ANY($1::text[]) AND seq = 1
     UNION SELECT id FROM ${db.qs}.runs WHERE id = ANY($1::text[]) ORDER BY 1 LIMIT $2`,
    [runIds, limit],
  );
