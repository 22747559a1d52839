import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import { query } from '../db/database';
import type { OrbitError } from '../errors';
import type { RunStatus } from '../fold/runState';

export interface RunSummary {
  readonly runId: string;
  readonly pipelineId: string;
  readonly status: RunStatus;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly stepsSucceeded: number;
  readonly stepsTotal: number;
  readonly error: string | null;
}

export interface ListRunsOptions {
  readonly status?: RunStatus;
  readonly pipelineId?: string;
  /** Newest first; default 20. */
  readonly limit?: number;
}

interface Row {
  id: string;
  pipeline_id: string;
  status: RunStatus;
  started_at: Date;
  finished_at: Date | null;
  error: string | null;
  succeeded: number;
  total: number;
}

/** The newest runs from the projection, optionally by status and pipeline (e.g. every failed run). */
export const listRuns = async (db: Database, opts: ListRunsOptions = {}): Promise<E.Either<OrbitError, RunSummary[]>> => {
  const rows = await query<Row>(
    db,
    `SELECT r.id, r.pipeline_id, r.status, r.started_at, r.finished_at, r.error,
            jsonb_array_length(r.step_names) AS total,
            (SELECT count(*)::int FROM ${db.qs}.steps s WHERE s.run_id = r.id AND s.status = 'success') AS succeeded
       FROM ${db.qs}.runs r
      WHERE ($1::text IS NULL OR r.status = $1) AND ($2::text IS NULL OR r.pipeline_id = $2)
      ORDER BY r.started_at DESC, r.id DESC
      LIMIT $3`,
    [opts.status ?? null, opts.pipelineId ?? null, opts.limit ?? 20],
  );
  return E.map((rs: Row[]) =>
    rs.map((r): RunSummary => ({
      runId: r.id,
      pipelineId: r.pipeline_id,
      status: r.status,
      startedAt: r.started_at.toISOString(),
      finishedAt: r.finished_at?.toISOString() ?? null,
      stepsSucceeded: r.succeeded,
      stepsTotal: r.total,
      error: r.error,
    })),
  )(rows);
};
