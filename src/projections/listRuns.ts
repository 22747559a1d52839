import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import type { DbFailure } from '../errors';
import { listRunSummaries } from '../queries/listRunSummaries';
import { decodeSuspendedOn } from './suspendedOn';
import type { ListRunsOptions, RunSummary } from './runSummary';

export type { ListRunsOptions, RunSummary } from './runSummary';

/** The newest runs from the projection, optionally by status and pipeline (e.g. every failed run). */
export const listRuns = async (db: Database, opts: ListRunsOptions = {}): Promise<E.Either<DbFailure, RunSummary[]>> => {
  const rows = await listRunSummaries(db, {
    status: opts.status ?? null,
    pipelineId: opts.pipelineId ?? null,
    limit: opts.limit ?? 20,
  });
  if (E.isLeft(rows)) return rows;
  const out: RunSummary[] = [];
  for (const r of rows.right) {
    const suspended = decodeSuspendedOn(r.id, r.suspended);
    if (E.isLeft(suspended)) return suspended;
    out.push({
      runId: r.id,
      pipelineId: r.pipeline_id,
      status: r.status,
      startedAt: r.started_at.toISOString(),
      finishedAt: r.finished_at?.toISOString() ?? null,
      stepsSucceeded: r.succeeded,
      stepsTotal: r.total,
      error: r.error,
      owner: r.owner,
      lastEventAt: r.last_event_at.toISOString(),
      ...(suspended.right !== undefined ? { suspended: suspended.right } : {}),
    });
  }
  return E.right(out);
};
