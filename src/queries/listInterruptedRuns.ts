import { query, type Database } from '../db/database';
import { INTERRUPTED_VERDICTS } from './runLivenessVerdict';

export interface InterruptedRunRow {
  readonly id: string;
  readonly pipeline_id: string;
  readonly status: 'pending' | 'running';
  readonly started_at: Date;
  readonly last_activity_at: Date;
  readonly completed: number;
  readonly failed: number;
  readonly next_step: string | null;
  readonly next_retry_at: Date | null;
  readonly owner: string | null;
  readonly last_seq: number;
  readonly recovery_count: number;
  readonly verdict: 'released' | 'dead' | 'stale';
}

/**
 * Unfinished runs that `run_liveness` calls interrupted, oldest activity first, with where their
 * steps stand. `deadOwners`: this host's owners proven gone.
 */
export const listInterruptedRuns = (db: Database, thresholdMs: number, limit: number, deadOwners: readonly string[]) =>
  query<InterruptedRunRow>(
    db,
    // The status list matches the partial index runs_unfinished_by_activity (sql/002).
    `SELECT r.id, r.pipeline_id, r.status, r.started_at, r.owner, r.last_seq, r.recovery_count,
            l.last_activity_at, l.verdict,
            st.completed, st.failed, st.next_step, st.next_retry_at
       FROM ${db.qs}.runs r
      CROSS JOIN LATERAL ${db.qs}.run_liveness(r, $1, $3) l
      CROSS JOIN LATERAL (
         SELECT count(*) FILTER (WHERE s.status = 'success')::int AS completed,
                count(*) FILTER (WHERE s.status = 'failed')::int AS failed,
                (array_agg(s.name ORDER BY s.step_index) FILTER (WHERE s.status <> 'success'))[1] AS next_step,
                min(s.next_retry_at) FILTER (WHERE s.status = 'retrying') AS next_retry_at
           FROM ${db.qs}.steps s
          WHERE s.run_id = r.id) st
      WHERE r.status IN ('pending', 'running')
        AND l.verdict = ANY ($4::text[])
      ORDER BY r.last_event_at
      LIMIT $2`,
    [thresholdMs, limit, deadOwners, INTERRUPTED_VERDICTS],
    `orbit.detect:${db.schema}`,
  );
