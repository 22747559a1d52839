import { query, type Database } from '../db/database';
import type { RunStatus } from '../fold/runState';

/**
 * How many runs are in each status (of one pipeline, or all), each counted up to `cap` + 1: an
 * index-only range scan per status (runs_by_status_start, sql/010) whose cost is bounded by the cap,
 * not by the size of the table. A count above the cap reads as "more than cap".
 */
export const countRunsByStatus = (db: Database, pipelineId: string | null, cap: number) =>
  query<{ status: RunStatus; n: number }>(
    db,
    `SELECT s.status, (SELECT count(*)::int FROM (SELECT 1 FROM ${db.qs}.runs r
                                                 WHERE r.status = s.status AND ($1::text IS NULL OR r.pipeline_id = $1)
                                                 LIMIT $2 + 1) x) AS n
       FROM unnest(ARRAY['pending', 'running', 'sleeping', 'waiting', 'success', 'failed', 'cancelled']) AS s(status)`,
    [pipelineId, cap],
  );
