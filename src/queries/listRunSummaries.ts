import { query, type Database } from '../db/database';
import type { RunStatus } from '../fold/runState';

export interface RunSummaryRow {
  readonly id: string;
  readonly pipeline_id: string;
  readonly status: RunStatus;
  readonly started_at: Date;
  readonly finished_at: Date | null;
  readonly error: string | null;
  /** The worker holding it; null once released or finished (and before its first claim). */
  readonly owner: string | null;
  readonly last_event_at: Date;
  /** Steps that succeeded. */
  readonly succeeded: number;
  /** Steps of the run. */
  readonly total: number;
}

export interface RunSummaryFilter {
  readonly status: RunStatus | null;
  readonly pipelineId: string | null;
  readonly limit: number;
}

/** The newest `runs` rows (by start, then id), optionally of one status and pipeline, with their step counts. */
export const listRunSummaries = (db: Database, f: RunSummaryFilter) =>
  query<RunSummaryRow>(
    db,
    `SELECT r.id, r.pipeline_id, r.status, r.started_at, r.finished_at, r.error, r.owner, r.last_event_at,
            jsonb_array_length(r.step_names) AS total,
            (SELECT count(*)::int FROM ${db.qs}.steps s WHERE s.run_id = r.id AND s.status = 'success') AS succeeded
       FROM ${db.qs}.runs r
      WHERE ($1::text IS NULL OR r.status = $1) AND ($2::text IS NULL OR r.pipeline_id = $2)
      ORDER BY r.started_at DESC, r.id DESC
      LIMIT $3`,
    [f.status, f.pipelineId, f.limit],
  );
