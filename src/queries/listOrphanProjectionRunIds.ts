import { query, type Database } from '../db/database';

/** Run ids with `runs` or `steps` rows but no journal event behind them, in id order. */
export const listOrphanProjectionRunIds = (db: Database) =>
  query<{ id: string }>(
    db,
    `SELECT DISTINCT id FROM (
       SELECT id FROM ${db.qs}.runs r WHERE NOT EXISTS (SELECT 1 FROM ${db.qs}.run_events e WHERE e.run_id = r.id)
       UNION SELECT run_id FROM ${db.qs}.steps s WHERE NOT EXISTS (SELECT 1 FROM ${db.qs}.run_events e WHERE e.run_id = s.run_id)) o
     ORDER BY id`,
  );
