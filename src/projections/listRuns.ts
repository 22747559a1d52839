import * as E from 'fp-ts/Either';
import type { Database } from '../db/database';
import type { DbFailure } from '../errors';
import { listRunSummaries, type RunSummaryRow } from '../queries/listRunSummaries';
import type { ListRunsOptions, RunSummary } from './runSummary';

export type { ListRunsOptions, RunSummary } from './runSummary';

/** The newest runs from the projection, optionally by status and pipeline (e.g. every failed run). */
export const listRuns = async (db: Database, opts: ListRunsOptions = {}): Promise<E.Either<DbFailure, RunSummary[]>> =>
  E.map((rs: readonly RunSummaryRow[]) =>
    rs.map((r): RunSummary => ({
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
      ...(r.suspended !== null
        ? {
            suspended: {
              kind: r.suspended.type === 'step.sleeping' ? 'sleep' : 'wait',
              step: r.suspended.step,
              until: r.suspended.until === null ? null : new Date(r.suspended.until).toISOString(),
              event: r.suspended.event,
            },
          }
        : {}),
    })),
  )(await listRunSummaries(db, { status: opts.status ?? null, pipelineId: opts.pipelineId ?? null, limit: opts.limit ?? 20 }));
