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
  /**
   * A sleeping or waiting run: the step it sleeps or waits in (`suspendedOn`), as jsonb; null
   * otherwise. Decoded by src/projections/suspendedOn.ts.
   */
  readonly suspended: unknown;
}

/**
 * For a sleeping or waiting run (`r`), what it sleeps or waits for: the step due first, its end or
 * timeout, and (a wait) the event's name, from the step's latest step.sleeping/step.waiting event;
 * `received`: that event was journaled since and not turned away (the step is due, at
 * `next_retry_at`; `runWait.currentWait`'s rule).
 */
export const suspendedOn = (qs: string): string =>
  `CASE WHEN r.status IN ('sleeping', 'waiting') THEN (
     SELECT jsonb_build_object('type', e.type, 'step', s.name, 'until', s.next_retry_at, 'event', e.payload ->> 'event',
              'received', e.type = 'step.waiting' AND EXISTS (
                SELECT 1 FROM ${qs}.run_events x
                 WHERE x.run_id = s.run_id AND x.seq > e.seq AND x.type = 'event.received'
                   AND x.payload ->> 'event' = e.payload ->> 'event'
                   AND NOT EXISTS (SELECT 1 FROM ${qs}.run_events y
                                    WHERE y.run_id = s.run_id AND y.seq > x.seq AND y.type = 'event.rejected'
                                      AND (y.payload ->> 'seq')::bigint = x.seq)))
       FROM ${qs}.steps s
       CROSS JOIN LATERAL (SELECT ev.seq, ev.type, ev.payload FROM ${qs}.run_events ev
                            WHERE ev.run_id = s.run_id AND ev.step_name = s.name AND ev.type IN ('step.sleeping', 'step.waiting')
                            ORDER BY ev.seq DESC LIMIT 1) e
      WHERE s.run_id = r.id AND s.status IN ('sleeping', 'waiting')
      ORDER BY s.status DESC, s.next_retry_at NULLS LAST LIMIT 1) END`;

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
            (SELECT count(*)::int FROM ${db.qs}.steps s WHERE s.run_id = r.id AND s.status = 'success') AS succeeded,
            ${suspendedOn(db.qs)} AS suspended
       FROM ${db.qs}.runs r
      WHERE ($1::text IS NULL OR r.status = $1) AND ($2::text IS NULL OR r.pipeline_id = $2)
      ORDER BY r.started_at DESC, r.id DESC
      LIMIT $3`,
    [f.status, f.pipelineId, f.limit],
  );
