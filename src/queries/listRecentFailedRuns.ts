import { query, type Database } from '../db/database';

export interface FailedRunRow {
  readonly id: string;
  readonly pipeline_id: string;
  readonly finished_at: Date | null;
  /** Its failed steps in step order. */
  readonly steps: { name: string; error: string | null }[];
}

/** Runs that failed with failed steps in the last `withinMs`, newest first. */
export const listRecentFailedRuns = (db: Database, withinMs: number, limit: number) =>
  query<FailedRunRow>(
    db,
    `SELECT r.id, r.pipeline_id, r.finished_at,
            json_agg(json_build_object('name', s.name, 'error', s.error) ORDER BY s.step_index) AS steps
       FROM ${db.qs}.runs r JOIN ${db.qs}.steps s ON s.run_id = r.id AND s.status = 'failed'
      WHERE r.status = 'failed' AND r.finished_at > now() - make_interval(secs => $1::float8 / 1000)
      GROUP BY r.id
      ORDER BY r.finished_at DESC
      LIMIT $2`,
    [withinMs, limit],
  );
