import { query, type Database } from '../db/database';
import { wokeFromSuspension } from './wokeFromSuspension';
import { RECOVERY_SPAN_END_TYPES, TERMINAL_TYPES } from '../events/runEvents';

export interface RecoveryHistoryRow {
  readonly from_at: Date;
  /** Distinct runs resumed after an interruption (not a --retry-failed resume) in the bucket. */
  readonly interrupted: number;
  readonly recoveries: number;
  readonly ended: number;
  readonly succeeded: number;
  readonly re_executed: number;
  readonly avg_recovery_ms: number | null;
}

/**
 * The spec's recovery metrics per time bucket (`buckets` of `bucketMs`, ending now, oldest first),
 * from the `run.resumed` events of the window (partial index run_events_resumed, sql/004); each
 * resumption's span ends as in readRecoveryStats.
 */
export const readRecoveryHistory = (db: Database, bucketMs: number, buckets: number) =>
  query<RecoveryHistoryRow>(
    db,
    `WITH bounds AS (
       SELECT i, now() - make_interval(secs => ($2 - i) * $1::float8 / 1000) AS from_at,
                 now() - make_interval(secs => ($2 - i - 1) * $1::float8 / 1000) AS to_at
         FROM generate_series(0, $2 - 1) AS i
     ), resumed AS (
       SELECT r.run_id, r.seq, r.occurred_at, jsonb_array_length(r.payload -> 'inFlight') AS in_flight,
              coalesce((r.payload ->> 'retryFailed')::boolean, false) AS retry_failed,
              (SELECT x.seq FROM ${db.qs}.run_events x
                WHERE x.run_id = r.run_id AND x.seq > r.seq AND x.type = ANY ($3::text[])
                ORDER BY x.seq LIMIT 1) AS end_seq
         FROM ${db.qs}.run_events r
        WHERE r.type = 'run.resumed' AND r.occurred_at >= now() - make_interval(secs => $1::float8 * $2 / 1000)
          AND NOT ${wokeFromSuspension(db, 'r')}
     ), spans AS (
       SELECT s.*, e.type AS end_type, e.occurred_at AS ended_at
         FROM resumed s
         LEFT JOIN ${db.qs}.run_events e ON e.run_id = s.run_id AND e.seq = s.end_seq
     )
     SELECT b.from_at,
            count(DISTINCT s.run_id) FILTER (WHERE NOT s.retry_failed)::int AS interrupted,
            count(s.run_id)::int AS recoveries,
            count(*) FILTER (WHERE s.end_type = ANY ($4::text[]))::int AS ended,
            count(*) FILTER (WHERE s.end_type = 'run.succeeded')::int AS succeeded,
            coalesce(sum(s.in_flight), 0)::int AS re_executed,
            avg(extract(epoch FROM s.ended_at - s.occurred_at) * 1000)
              FILTER (WHERE s.end_type = ANY ($4::text[]))::float8 AS avg_recovery_ms
       FROM bounds b
       LEFT JOIN spans s ON s.occurred_at >= b.from_at AND s.occurred_at < b.to_at
      GROUP BY b.i, b.from_at
      ORDER BY b.i`,
    [bucketMs, buckets, [...RECOVERY_SPAN_END_TYPES], [...TERMINAL_TYPES]],
  );
