import * as E from 'fp-ts/Either';
import { query } from '../db/database';
import type { OrbitError } from '../errors';
import { clientOr, type OrbitClient } from '../runtime/orbitClient';

/** A run that is `running` but that nobody is executing: what `orbit check-interrupted` lists. */
export interface InterruptedRun {
  readonly runId: string;
  readonly pipelineId: string;
  /** `running`, or `pending` for a run created and never claimed. */
  readonly status: 'pending' | 'running';
  readonly startedAt: string;
  /** The later of its last journal event and its owner's last heartbeat. */
  readonly lastActivityAt: string;
  readonly completedSteps: number;
  readonly failedSteps: number;
  /** The first step that has not succeeded (null if all have). */
  readonly nextStep: string | null;
  /** Set when the next step is waiting for a scheduled retry. */
  readonly nextRetryAt: string | null;
  /** The worker that last held it (null when it was released on shutdown). */
  readonly owner: string | null;
  /** The run's journal seq when detected; recovery claims only if it is still there. */
  readonly lastSeq: number;
  readonly recoveryCount: number;
}

export interface DetectOptions {
  readonly client?: OrbitClient;
  /** No activity for longer than this means interrupted. Default: the client's threshold (10 min). */
  readonly thresholdMs?: number;
  /** At most this many runs, oldest activity first. Default 1,000. */
  readonly limit?: number;
}

interface Row {
  id: string;
  pipeline_id: string;
  status: 'pending' | 'running';
  started_at: Date;
  last_activity_at: Date;
  completed: number;
  failed: number;
  next_step: string | null;
  next_retry_at: Date | null;
  owner: string | null;
  last_seq: number;
  recovery_count: number;
}

/**
 * Runs that are running (or created and never claimed) and show no sign of life: no journal event
 * and no heartbeat from their owner for longer than the threshold (database clock), or released
 * by their worker. Reads the `runs_unfinished_by_activity` partial index, so the cost follows the
 * number of unfinished runs, not the length of the journal.
 */
export const detectInterruptedRuns = async (options: DetectOptions = {}): Promise<E.Either<OrbitError, InterruptedRun[]>> => {
  const c = await clientOr(options.client);
  if (E.isLeft(c)) return c;
  const { db, thresholdMs } = c.right;
  const rows = await query<Row>(
    db,
    `SELECT r.id, r.pipeline_id, r.status, r.started_at, r.owner, r.last_seq, r.recovery_count,
            greatest(r.last_event_at, w.heartbeat_at) AS last_activity_at,
            st.completed, st.failed, st.next_step, st.next_retry_at
       FROM ${db.qs}.runs r
       LEFT JOIN ${db.qs}.workers w ON w.id = r.owner
       CROSS JOIN LATERAL (
         SELECT count(*) FILTER (WHERE s.status = 'success')::int AS completed,
                count(*) FILTER (WHERE s.status = 'failed')::int AS failed,
                (array_agg(s.name ORDER BY s.step_index) FILTER (WHERE s.status <> 'success'))[1] AS next_step,
                min(s.next_retry_at) FILTER (WHERE s.status = 'retrying') AS next_retry_at
           FROM ${db.qs}.steps s
          WHERE s.run_id = r.id) st
      WHERE r.status IN ('pending', 'running')
        AND ((r.status = 'running' AND r.owner IS NULL)
             OR (r.last_event_at < now() - make_interval(secs => $1::float8 / 1000)
                 AND coalesce(w.heartbeat_at, '-infinity') < now() - make_interval(secs => $1::float8 / 1000)))
      ORDER BY r.last_event_at
      LIMIT $2`,
    [options.thresholdMs ?? thresholdMs, options.limit ?? 1000],
    `orbit.detect:${db.schema}`,
  );
  return E.map((rs: Row[]) =>
    rs.map((r): InterruptedRun => ({
      runId: r.id,
      pipelineId: r.pipeline_id,
      status: r.status,
      startedAt: r.started_at.toISOString(),
      lastActivityAt: r.last_activity_at.toISOString(),
      completedSteps: r.completed,
      failedSteps: r.failed,
      nextStep: r.next_step,
      nextRetryAt: r.next_retry_at?.toISOString() ?? null,
      owner: r.owner,
      lastSeq: r.last_seq,
      recoveryCount: r.recovery_count,
    })),
  )(rows);
};
