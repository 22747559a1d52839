import { query, type Database } from '../db/database';
import { wokeFromSuspension } from './wokeFromSuspension';
import { RECOVERY_SPAN_END_TYPES, TERMINAL_TYPES } from '../events/runEvents';

export interface RecoveryStatsRow {
  readonly recoveries: number;
  readonly runs: number;
  readonly ended: number;
  readonly succeeded: number;
  readonly steps_started: number;
  readonly items_started: number;
  readonly in_flight: number;
  readonly avg_recovery_ms: number | null;
  readonly avg_downtime_ms: number | null;
  readonly interrupted_total: number;
}

/**
 * Recovery metrics over the journal's `run.resumed` events (all, or those of the last `sinceMs`):
 * each resumption's span runs to the next event that ends it (RECOVERY_SPAN_END_TYPES); it ended
 * when that event is terminal. `interruptedNow`: runs interrupted right now, counted in the total.
 */
export const readRecoveryStats = (db: Database, sinceMs: number | null, interruptedNow: readonly string[]) =>
  query<RecoveryStatsRow>(
    db,
    // `type = 'run.resumed'` stays a literal: it matches the partial index run_events_resumed (sql/004).
    `WITH resumed AS (
       SELECT r.run_id, r.seq, r.occurred_at, jsonb_array_length(r.payload -> 'inFlight') AS in_flight,
              (SELECT x.seq FROM ${db.qs}.run_events x
                WHERE x.run_id = r.run_id AND x.seq > r.seq AND x.type = ANY ($3::text[])
                ORDER BY x.seq LIMIT 1) AS end_seq
         FROM ${db.qs}.run_events r
        WHERE r.type = 'run.resumed' AND NOT ${wokeFromSuspension(db, 'r')}
          AND ($1::float8 IS NULL OR r.occurred_at >= now() - make_interval(secs => $1::float8 / 1000))
     ), spans AS (
       SELECT s.*, e.type AS end_type, e.occurred_at AS ended_at,
              (SELECT p.occurred_at FROM ${db.qs}.run_events p WHERE p.run_id = s.run_id AND p.seq = s.seq - 1) AS before_at,
              y.steps_started, y.items_started
         FROM resumed s
         CROSS JOIN LATERAL (
           SELECT count(*) FILTER (WHERE y.type = 'step.started') AS steps_started,
                  count(*) FILTER (WHERE y.type = 'item.started') AS items_started
             FROM ${db.qs}.run_events y
            WHERE y.run_id = s.run_id AND y.seq > s.seq AND (s.end_seq IS NULL OR y.seq < s.end_seq)
              AND y.type IN ('step.started', 'item.started')) y
         LEFT JOIN ${db.qs}.run_events e ON e.run_id = s.run_id AND e.seq = s.end_seq
     )
     SELECT count(*)::int AS recoveries,
            count(DISTINCT run_id)::int AS runs,
            count(*) FILTER (WHERE end_type = ANY ($4::text[]))::int AS ended,
            count(*) FILTER (WHERE end_type = 'run.succeeded')::int AS succeeded,
            coalesce(sum(steps_started), 0)::int AS steps_started,
            coalesce(sum(items_started), 0)::int AS items_started,
            coalesce(sum(in_flight), 0)::int AS in_flight,
            avg(extract(epoch FROM ended_at - occurred_at) * 1000)
              FILTER (WHERE end_type = ANY ($4::text[]))::float8 AS avg_recovery_ms,
            avg(extract(epoch FROM occurred_at - before_at) * 1000)::float8 AS avg_downtime_ms,
            (SELECT count(*)::int FROM (
               SELECT i.run_id FROM ${db.qs}.run_events i
                WHERE i.type = 'run.resumed' AND NOT coalesce((i.payload ->> 'retryFailed')::boolean, false)
                  AND NOT ${wokeFromSuspension(db, 'i')}
                  AND ($1::float8 IS NULL OR i.occurred_at >= now() - make_interval(secs => $1::float8 / 1000))
               UNION SELECT unnest($2::text[])) ids) AS interrupted_total
       FROM spans`,
    [sinceMs, interruptedNow, [...RECOVERY_SPAN_END_TYPES], [...TERMINAL_TYPES]],
  );
