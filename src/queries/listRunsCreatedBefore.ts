import { query, type Database } from '../db/database';

/** Runs created (seq 1) before `before` (ISO-8601) minus `marginSeconds` that are not among `except`, in id order. */
export const listRunsCreatedBefore = (db: Database, before: string, marginSeconds: number, except: readonly string[]) =>
  query<{ run_id: string }>(
    db,
    `SELECT run_id FROM ${db.qs}.run_events
      WHERE seq = 1 AND occurred_at < $1::timestamptz - make_interval(secs => $2::float8) AND NOT (run_id = ANY($3::text[]))
      ORDER BY run_id`,
    [before, marginSeconds, except],
  );
