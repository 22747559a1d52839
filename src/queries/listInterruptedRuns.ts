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
  /** Steps not succeeded whose dependencies all succeeded, in step order (empty when every step succeeded). */
  readonly ready_steps: string[];
  readonly next_retry_at: Date | null;
  readonly owner: string | null;
  readonly last_seq: number;
  readonly recovery_count: number;
  readonly verdict: 'released' | 'dead' | 'stale';
  /** Its owner is known to be alive (see `InterruptedRun.ownerAlive`). */
  readonly owner_alive: boolean;
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
            st.completed, st.failed, coalesce(st.ready_steps, '{}') AS ready_steps, st.next_retry_at,
            -- The owner lives and is not stuck: its lease is renewed without this run, or it heartbeat
            -- as a worker more than a renewal interval (a third of its lease) after the run's last sign
            -- of life. A process the run killed or froze could do neither: its last heartbeat and its
            -- last renewal covering the run are less than an interval apart.
            (r.owner IS NOT NULL AND NOT r.owner = ANY ($3) AND (
               EXISTS (SELECT 1 FROM ${db.qs}.workers w
                        WHERE w.id = r.owner AND w.lease_until > now() AND NOT r.id = ANY (w.held))
               OR EXISTS (SELECT 1 FROM ${db.qs}.worker_registry g
                           WHERE g.id = r.owner AND g.alive_until > now()
                             AND g.heartbeat_at > l.last_activity_at + (g.alive_until - g.heartbeat_at) / 3))) AS owner_alive
       FROM ${db.qs}.runs r
      CROSS JOIN LATERAL ${db.qs}.run_liveness(r, $1, $3) l
      -- A DAG's dependencies are in its run.created (absent for a linear pipeline: each step
      -- depends on the one before it, so the one ready step is the first that has not succeeded).
      LEFT JOIN LATERAL (
         SELECT e.payload -> 'dependsOn' AS deps
           FROM ${db.qs}.run_events e
          WHERE e.run_id = r.id AND e.seq = 1 AND e.type = 'run.created') c ON true
      CROSS JOIN LATERAL (
         SELECT count(*) FILTER (WHERE s.status = 'success')::int AS completed,
                count(*) FILTER (WHERE s.status = 'failed')::int AS failed,
                array_agg(s.name ORDER BY s.step_index) FILTER (
                  WHERE s.status <> 'success'
                    AND NOT EXISTS (
                      SELECT 1
                        FROM ${db.qs}.steps d
                       WHERE d.run_id = r.id
                         AND d.status <> 'success'
                         AND CASE
                               WHEN c.deps IS NULL THEN d.step_index = s.step_index - 1
                               ELSE d.name IN (SELECT jsonb_array_elements_text(c.deps -> s.name))
                             END)) AS ready_steps,
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
