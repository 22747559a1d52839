import { query, type Database } from '../db/database';
import type { RunStatus } from '../fold/runState';
import { suspendedOn, type RunSummaryRow } from './listRunSummaries';

export interface RunPageRow extends RunSummaryRow {
  readonly metadata: unknown;
  readonly recovery_count: number;
  /** started_at as PostgreSQL prints it (microseconds kept): the keyset cursor. */
  readonly started_key: string;
}

export interface RunPageFilter {
  readonly status: RunStatus | null;
  readonly pipelineId: string | null;
  /** A run id (exact), or a value any top-level metadata field equals (as text). */
  readonly search: string | null;
  /** Keyset: only runs strictly older than this (started_at, id). */
  readonly beforeStartedAt: string | null;
  readonly beforeId: string | null;
  readonly limit: number;
}

/**
 * One page of runs, newest first, after a keyset cursor: a range scan of runs_by_start or
 * runs_by_status_start (sql/010), however many runs there are. A metadata search reads each run's
 * metadata as it walks back, until the page is full.
 */
export const listRunPage = (db: Database, f: RunPageFilter) =>
  query<RunPageRow>(
    db,
    `SELECT r.id, r.pipeline_id, r.status, r.started_at, r.started_at::text AS started_key, r.finished_at, r.error, r.owner, r.last_event_at, r.metadata, r.recovery_count,
            jsonb_array_length(r.step_names) AS total,
            (SELECT count(*)::int FROM ${db.qs}.steps s WHERE s.run_id = r.id AND s.status = 'success') AS succeeded,
            ${suspendedOn(db.qs)} AS suspended
       FROM ${db.qs}.runs r
      WHERE ($1::text IS NULL OR r.status = $1) AND ($2::text IS NULL OR r.pipeline_id = $2)
        AND ($3::text IS NULL OR r.id = $3
             OR EXISTS (SELECT 1 FROM jsonb_each_text(CASE WHEN jsonb_typeof(r.metadata) = 'object' THEN r.metadata ELSE '{}' END) m
                         WHERE m.value = $3))
        AND ($4::timestamptz IS NULL OR (r.started_at, r.id) < ($4::timestamptz, $5::text))
      ORDER BY r.started_at DESC, r.id DESC
      LIMIT $6`,
    [f.status, f.pipelineId, f.search, f.beforeStartedAt, f.beforeId, f.limit],
  );
