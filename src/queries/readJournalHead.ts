import { query, type Database } from '../db/database';

/** The journal's last position (0 when empty): one probe of run_events' primary key. */
export const readJournalHead = (db: Database) =>
  query<{ head: string }>(db, `SELECT coalesce(max(position), 0)::text AS head FROM ${db.qs}.run_events`);

/** The runs journaled after `position` (a range of the primary key), at most `limit` events' worth. */
export const readJournalSince = (db: Database, position: string, limit: number) =>
  query<{ position: string; run_id: string }>(
    db,
    `SELECT position::text AS position, run_id FROM ${db.qs}.run_events WHERE position > $1::bigint ORDER BY position LIMIT $2`,
    [position, limit],
  );
