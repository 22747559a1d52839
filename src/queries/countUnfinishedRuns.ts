import { query, type Database } from '../db/database';

export interface UnfinishedCountsRow {
  /** Runs a valid lease covers. */
  readonly leased: number;
  /** Runs with no valid lease, waiting out the threshold. */
  readonly waiting: number;
  /** Until the first waiting run becomes interrupted (ms, database clock). */
  readonly next_ms: number | null;
  /** The shortest silence among waiting runs (ms). */
  readonly min_idle_ms: number | null;
}

/** Unfinished runs that `run_liveness` does not call interrupted, counted by verdict (one row). */
export const countUnfinishedRuns = (db: Database, thresholdMs: number, deadOwners: readonly string[]) =>
  query<UnfinishedCountsRow>(
    db,
    // The status list matches the partial index runs_unfinished_by_activity (sql/002).
    `SELECT count(*) FILTER (WHERE l.verdict = 'leased')::int AS leased,
            count(*) FILTER (WHERE l.verdict = 'waiting')::int AS waiting,
            (extract(epoch FROM min(l.interruptible_at - now()) FILTER (WHERE l.verdict = 'waiting')) * 1000)::float8 AS next_ms,
            (extract(epoch FROM min(now() - l.last_activity_at) FILTER (WHERE l.verdict = 'waiting')) * 1000)::float8 AS min_idle_ms
       FROM ${db.qs}.runs r CROSS JOIN LATERAL ${db.qs}.run_liveness(r, $1, $2) l
      WHERE r.status IN ('pending', 'running')`,
    [thresholdMs, deadOwners],
  );
