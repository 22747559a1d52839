import { query, type Database } from '../db/database';

export interface PipelineStatsRow {
  readonly pipeline_id: string;
  readonly runs: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly unfinished: number;
  readonly p50_ms: number | null;
  readonly p95_ms: number | null;
  readonly last_started_at: Date;
}

/**
 * Per pipeline, the runs started in the last `sinceMs`: outcomes and the median and 95th
 * percentile duration of those that succeeded. A range of runs_by_start (sql/010): the window,
 * not the table, sets the cost.
 */
export const readPipelineStats = (db: Database, sinceMs: number) =>
  query<PipelineStatsRow>(
    db,
    `SELECT pipeline_id, count(*)::int AS runs,
            count(*) FILTER (WHERE status = 'success')::int AS succeeded,
            count(*) FILTER (WHERE status = 'failed')::int AS failed,
            count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled,
            count(*) FILTER (WHERE status IN ('pending', 'running'))::int AS unfinished,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at) * 1000)
              FILTER (WHERE status = 'success')::float8 AS p50_ms,
            percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - started_at) * 1000)
              FILTER (WHERE status = 'success')::float8 AS p95_ms,
            max(started_at) AS last_started_at
       FROM ${db.qs}.runs
      WHERE started_at >= now() - make_interval(secs => $1::float8 / 1000)
      GROUP BY pipeline_id
      ORDER BY pipeline_id`,
    [sinceMs],
  );
