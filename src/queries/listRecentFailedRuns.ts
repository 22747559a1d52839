import { query, type Database } from '../db/database';

export interface FailedRunRow {
  readonly id: string;
  readonly pipeline_id: string;
  readonly finished_at: Date | null;
  /** Its failed steps in step order. */
  readonly steps: { name: string; error: string | null }[];
  /** How many runs match in all (the list stops at the limit). */
  readonly total: number;
}

/** Runs that failed with failed steps in the last `withinMs`, newest first, each with the number of such runs. */
export const listRecentFailedRuns = (db: Database, withinMs: number, limit: number) =>
  query<FailedRunRow>(
    db,
    `SELECT r.id, r.pipeline_id, r.finished_at,
            json_agg(json_build_object('name', s.name, 'error', s.error) ORDER BY s.step_index) AS steps,
            (count(*) OVER ())::int AS total
       FROM ${db.qs}.runs r JOIN ${db.qs}.steps s ON s.run_id = r.id AND s.status = 'failed'
      WHERE r.status = 'failed' AND r.finished_at > now() - make_interval(secs => $1::float8 / 1000)
      GROUP BY r.id
      ORDER BY r.finished_at DESC
      LIMIT $2`,
    [withinMs, limit],
  );
