import * as E from 'fp-ts/Either';
import { query } from '../db/database';
import type { OrbitError } from '../errors';
import { clientOr, type OrbitClient } from '../runtime/orbitClient';
import { detectInterruptedRuns } from './detectInterruptedRuns';

/** The spec's recovery metrics, computed from the journal (plus a live detection). */
export interface RecoveryStats {
  /** Runs interrupted right now (not yet recovered). */
  readonly interruptedNow: number;
  /**
   * Running total of runs detected as interrupted: distinct runs the journal shows resumed after
   * an interruption (a `run.resumed` without `retryFailed`; with `since`, resumed in the window),
   * plus the runs interrupted now and never resumed. A run interrupted several times counts once;
   * an interrupted run that was cancelled, or never detected before it was, leaves no trace and
   * is not counted.
   */
  readonly interruptedTotal: number;
  /** Distinct runs that recovery resumed at least once. */
  readonly runsRecovered: number;
  /** `run.resumed` events. */
  readonly recoveries: number;
  /** Recoveries whose run then succeeded, over recoveries whose run then ended (null if none ended). */
  readonly successRate: number | null;
  /** Steps started after a resume, per recovery. */
  readonly stepsExecutedPerRecovery: number | null;
  /** In-flight steps (started, no outcome) executed again, per recovery. */
  readonly stepsReExecutedPerRecovery: number | null;
  /** From `run.resumed` to the run's end, in ms, over recoveries that ended. */
  readonly averageRecoveryMs: number | null;
  /** From the last event before the interruption to `run.resumed`, in ms. */
  readonly averageDowntimeMs: number | null;
}

interface Row {
  recoveries: number;
  runs: number;
  ended: number;
  succeeded: number;
  steps_started: number;
  in_flight: number;
  avg_recovery_ms: number | null;
  avg_downtime_ms: number | null;
  interrupted_total: number;
}

/** Recovery metrics over the whole journal, or over resumptions since `sinceMs` ago. */
export const recoveryStats = async (
  options: { readonly client?: OrbitClient; readonly sinceMs?: number } = {},
): Promise<E.Either<OrbitError, RecoveryStats>> => {
  const c = await clientOr(options.client);
  if (E.isLeft(c)) return c;
  const { db } = c.right;
  const now = await detectInterruptedRuns({ client: c.right });
  if (E.isLeft(now)) return now;
  const rows = await query<Row>(
    db,
    `WITH resumed AS (
       SELECT r.run_id, r.seq, r.occurred_at, jsonb_array_length(r.payload -> 'inFlight') AS in_flight,
              (SELECT x.seq FROM ${db.qs}.run_events x
                WHERE x.run_id = r.run_id AND x.seq > r.seq
                  AND x.type IN ('run.resumed', 'run.released', 'run.succeeded', 'run.failed', 'run.cancelled')
                ORDER BY x.seq LIMIT 1) AS end_seq
         FROM ${db.qs}.run_events r
        WHERE r.type = 'run.resumed'
          AND ($1::float8 IS NULL OR r.occurred_at >= now() - make_interval(secs => $1::float8 / 1000))
     ), spans AS (
       SELECT s.*, e.type AS end_type, e.occurred_at AS ended_at,
              (SELECT p.occurred_at FROM ${db.qs}.run_events p WHERE p.run_id = s.run_id AND p.seq = s.seq - 1) AS before_at,
              (SELECT count(*) FROM ${db.qs}.run_events y
                WHERE y.run_id = s.run_id AND y.seq > s.seq AND (s.end_seq IS NULL OR y.seq < s.end_seq)
                  AND y.type = 'step.started') AS steps_started
         FROM resumed s
         LEFT JOIN ${db.qs}.run_events e ON e.run_id = s.run_id AND e.seq = s.end_seq
     )
     SELECT count(*)::int AS recoveries,
            count(DISTINCT run_id)::int AS runs,
            count(*) FILTER (WHERE end_type IN ('run.succeeded', 'run.failed', 'run.cancelled'))::int AS ended,
            count(*) FILTER (WHERE end_type = 'run.succeeded')::int AS succeeded,
            coalesce(sum(steps_started), 0)::int AS steps_started,
            coalesce(sum(in_flight), 0)::int AS in_flight,
            avg(extract(epoch FROM ended_at - occurred_at) * 1000)
              FILTER (WHERE end_type IN ('run.succeeded', 'run.failed', 'run.cancelled'))::float8 AS avg_recovery_ms,
            avg(extract(epoch FROM occurred_at - before_at) * 1000)::float8 AS avg_downtime_ms,
            (SELECT count(*)::int FROM (
               SELECT i.run_id FROM ${db.qs}.run_events i
                WHERE i.type = 'run.resumed' AND NOT coalesce((i.payload ->> 'retryFailed')::boolean, false)
                  AND ($1::float8 IS NULL OR i.occurred_at >= now() - make_interval(secs => $1::float8 / 1000))
               UNION SELECT unnest($2::text[])) ids) AS interrupted_total
       FROM spans`,
    [options.sinceMs ?? null, now.right.map((r) => r.runId)],
  );
  if (E.isLeft(rows)) return rows;
  const r = rows.right[0] as Row;
  const per = (n: number) => (r.recoveries === 0 ? null : n / r.recoveries);
  return E.right({
    interruptedNow: now.right.length,
    interruptedTotal: r.interrupted_total,
    runsRecovered: r.runs,
    recoveries: r.recoveries,
    successRate: r.ended === 0 ? null : r.succeeded / r.ended,
    stepsExecutedPerRecovery: per(r.steps_started),
    stepsReExecutedPerRecovery: per(r.in_flight),
    averageRecoveryMs: r.avg_recovery_ms === null ? null : Math.round(r.avg_recovery_ms),
    averageDowntimeMs: r.avg_downtime_ms === null ? null : Math.round(r.avg_downtime_ms),
  });
};
